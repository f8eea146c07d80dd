"""A local Salesforce REST server: ``SalesforceSandbox`` (see ``sandbox.py``).

Modules: ``schema`` (objects and fields, the org contract), ``org`` (records and
write rules), ``soql`` + ``query`` (the SOQL subset, cursors), ``routes`` (REST),
``automation`` (assignment rule, lock errors), ``limits`` (daily allocation),
``render`` (synthetic people and activities as records), ``control`` (``/_sandbox/``).
"""

from connector.sandbox.salesforce.sandbox import (
    DEFAULT_TOKEN,
    SalesforceConfig,
    SalesforceSandbox,
)

__all__ = ["DEFAULT_TOKEN", "SalesforceConfig", "SalesforceSandbox"]
