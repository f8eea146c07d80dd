"""A query read from its cached shape is the query :func:`parse` reads, and errors still point
at the query as sent.

``parse_shape`` parses a query's text with its quoted strings taken out once, then binds each
call's strings into that tree; these tests hold it to ``parse`` on the same text.
"""

from __future__ import annotations

import re

import pytest

from connector.sandbox.clock import ManualClock
from connector.sandbox.salesforce import SalesforceConfig, SalesforceSandbox
from connector.sandbox.salesforce.query import QueryEngine
from connector.sandbox.salesforce.soql import SoqlError, parse, parse_shape

VERSION = "v59.0"


def _without_positions(tree: object) -> str:
    return re.sub(r"pos=\d+", "pos=_", repr(tree))


@pytest.mark.parametrize(
    "soql",
    [
        "SELECT Id FROM Lead WHERE Id IN ('00Q8d00000AAAAA', 'it\\'s') AND IsDeleted = false",
        "SELECT Id FROM Lead WHERE Email LIKE '%@x.example' OR (Title = 'CEO' AND NOT Name != 'a\\nb')",
        "SELECT Id FROM Lead WHERE SystemModstamp >= 2026-11-20T00:00:00Z ORDER BY Id LIMIT 5",
        "SELECT COUNT() FROM Lead",
        "SELECT Id FROM Lead WHERE Status IN ('Open', 'Closed') AND Status NOT IN ('x')",
        "SELECT Id FROM Lead WHERE Name IN ('a\\\\', '\\'', '', 'x') AND Title = 'b\\\\\\'c'",
    ],
)
def test_a_shape_read_twice_with_other_strings_gives_what_parse_gives(soql: str) -> None:
    assert _without_positions(parse_shape(soql)) == _without_positions(parse(soql))
    other = re.sub(r"'(?=[^,)\s])", "'z", soql)  # the same shape: every string gets another first letter
    assert _without_positions(parse_shape(other)) == _without_positions(parse(other))


def test_a_question_mark_outside_a_string_is_refused_where_it_stands() -> None:
    with pytest.raises(SoqlError) as refused:
        parse_shape("SELECT Id FROM Lead WHERE Name = ?")
    assert (refused.value.code, refused.value.pos) == ("MALFORMED_QUERY", 33)


def test_an_error_in_a_known_shape_is_reported_at_its_place_in_the_query_as_sent() -> None:
    sandbox = SalesforceSandbox(SalesforceConfig(contacts=0), clock=ManualClock(1_790_000_000.0))
    engine = QueryEngine(sandbox.org)
    engine.run("SELECT Id FROM Lead WHERE Id IN ('00Q8d00000AAAAA', '00Q8d00000AAAAB')", False, VERSION)
    bad = "SELECT Id FROM Lead WHERE Id IN ('00Q8d00000AAAAA', 'not-an-id')"
    with pytest.raises(SoqlError) as refused:
        engine.run(bad, False, VERSION)
    with pytest.raises(SoqlError) as expected:
        engine.compile(parse(bad))
    assert refused.value.message(bad) == expected.value.message(bad)
    assert refused.value.pos == bad.index("'not-an-id'")
