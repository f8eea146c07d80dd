"""A local HubSpot CRM v3/v4 server: ``HubSpotSandbox`` (see ``sandbox.py``)."""

from connector.sandbox.hubspot.sandbox import (
    DEFAULT_TOKEN,
    HubSpotConfig,
    HubSpotSandbox,
)

__all__ = ["DEFAULT_TOKEN", "HubSpotConfig", "HubSpotSandbox"]
