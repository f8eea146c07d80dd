"""CRM search through the SDK: filters, sorting, paging limits, indexing lag."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hubspot.crm.contacts import (
    ApiException,
    PublicObjectSearchRequest,
    SimplePublicObjectInput,
)


def _search(client, *groups, sorts=None, limit=100, after=None, properties=("email",), query=None):
    request = PublicObjectSearchRequest(
        filter_groups=[{"filters": list(g)} for g in groups],
        sorts=sorts or [],
        properties=list(properties),
        limit=limit,
        after=after,
        query=query,
    )
    return client.crm.contacts.search_api.do_search(request)


def _emails(page):
    return [r.properties["email"] for r in page.results]


def f(name, operator, value=None, **extra):
    spec = {"propertyName": name, "operator": operator, **extra}
    if value is not None:
        spec["value"] = value
    return spec


@pytest.fixture
def people(hubspot_sandbox):
    rows = [
        {
            "email": "ana@acme.io",
            "firstname": "Ana",
            "jobtitle": "VP Engineering",
            "lifecyclestage": "lead",
            "hs_analytics_num_page_views": "12",
            "recent_conversion_date": "2026-11-18T10:00:00.000Z",
        },
        {
            "email": "ben@gmail.com",
            "firstname": "Ben",
            "jobtitle": "Student",
            "lifecyclestage": "subscriber",
            "hs_analytics_num_page_views": "3",
        },
        {
            "email": "cleo@globex.com",
            "firstname": "Cleo",
            "jobtitle": "Head of Data",
            "lifecyclestage": "marketingqualifiedlead",
            "hs_analytics_num_page_views": "40",
            "recent_conversion_date": "2026-11-19T10:00:00.000Z",
        },
        {"email": "dan@initech.de", "firstname": "Dan", "lifecyclestage": "lead"},
    ]
    for i, row in enumerate(rows):  # creation order = default search order
        row["createdate"] = f"2026-10-0{i + 1}T00:00:00.000Z"
    return hubspot_sandbox.seed_contacts(*rows)


def test_filters_in_a_group_are_anded_and_groups_are_ored(hubspot_client, people):
    page = _search(
        hubspot_client,
        [f("lifecyclestage", "EQ", "lead"), f("hs_analytics_num_page_views", "GT", "10")],
        [f("email", "EQ", "BEN@gmail.com")],  # strings compare case-insensitively
    )
    assert page.total == 2 and _emails(page) == ["ana@acme.io", "ben@gmail.com"]


def test_results_without_a_sort_come_oldest_created_first(hubspot_client, people):
    assert _emails(_search(hubspot_client)) == ["ana@acme.io", "ben@gmail.com", "cleo@globex.com", "dan@initech.de"]


def test_one_sort_applies_and_numbers_sort_numerically(hubspot_client, people):
    page = _search(
        hubspot_client,
        sorts=[
            {"propertyName": "hs_analytics_num_page_views", "direction": "DESCENDING"},
            {"propertyName": "email", "direction": "ASCENDING"},
        ],
    )
    assert _emails(page) == ["cleo@globex.com", "ana@acme.io", "ben@gmail.com", "dan@initech.de"]


def test_date_filters_take_epoch_milliseconds(hubspot_client, people):
    after_18th_noon = str(int(datetime(2026, 11, 18, 12, tzinfo=UTC).timestamp() * 1000))
    page = _search(hubspot_client, [f("recent_conversion_date", "GTE", after_18th_noon)])
    assert _emails(page) == ["cleo@globex.com"]


def test_enumeration_filters_are_case_sensitive(hubspot_client, people):
    assert _search(hubspot_client, [f("lifecyclestage", "EQ", "LEAD")]).total == 0
    assert _search(hubspot_client, [f("lifecyclestage", "EQ", "lead")]).total == 2


def test_in_on_string_properties_needs_lowercase_values(hubspot_client, people):
    upper = _search(hubspot_client, [f("firstname", "IN", values=["Ana", "Dan"])])
    lower = _search(hubspot_client, [f("firstname", "IN", values=["ana", "dan"])])
    assert upper.total == 0
    assert _emails(lower) == ["ana@acme.io", "dan@initech.de"]


def test_has_property_between_and_contains_token(hubspot_client, people):
    assert _emails(_search(hubspot_client, [f("jobtitle", "NOT_HAS_PROPERTY")])) == ["dan@initech.de"]
    between = _search(hubspot_client, [f("hs_analytics_num_page_views", "BETWEEN", "3", highValue="12")])
    assert _emails(between) == ["ana@acme.io", "ben@gmail.com"]
    token = _search(hubspot_client, [f("email", "CONTAINS_TOKEN", "*gmail.com")])
    assert _emails(token) == ["ben@gmail.com"]
    assert _emails(_search(hubspot_client, [f("jobtitle", "CONTAINS_TOKEN", "engineering")])) == ["ana@acme.io"]


def test_free_text_query_matches_name_and_email_prefixes(hubspot_client, people):
    assert _emails(_search(hubspot_client, query="cle")) == ["cleo@globex.com"]


def test_limit_above_200_is_400(hubspot_client, people):
    with pytest.raises(ApiException) as raised:
        _search(hubspot_client, limit=201)
    assert raised.value.status == 400 and '"category":"VALIDATION_ERROR"' in raised.value.body


def test_paging_past_10000_results_is_400(hubspot_client, people):
    with pytest.raises(ApiException) as raised:
        _search(hubspot_client, after="10000", limit=10)
    assert raised.value.status == 400


def test_the_page_before_the_cap_still_points_past_it(hubspot_sandbox, hubspot_client):
    hubspot_sandbox.seed_contacts(*({"email": f"u{i}@acme.io"} for i in range(10_050)))
    page = _search(hubspot_client, after="9900", limit=100)
    assert len(page.results) == 100 and page.total == 10_050
    assert page.paging.next.after == "10000"  # following it gets the 400: restart with a GT filter instead
    with pytest.raises(ApiException):
        _search(hubspot_client, after=page.paging.next.after, limit=100)


def test_too_many_filter_groups_or_filters_is_400(hubspot_client, people):
    with pytest.raises(ApiException):
        _search(hubspot_client, *([f("email", "EQ", "a@b.c")] for _ in range(6)))
    with pytest.raises(ApiException):
        _search(hubspot_client, [f("email", "EQ", "a@b.c")] * 7)


def test_filter_on_an_unknown_property_is_400(hubspot_client, people):
    with pytest.raises(ApiException) as raised:
        _search(hubspot_client, [f("mql_score", "GT", "5")])
    assert raised.value.status == 400


def test_last_page_has_no_paging_and_pages_chain_by_offset(hubspot_client, people):
    first = _search(hubspot_client, limit=3)
    assert first.paging.next.after == "3"
    second = _search(hubspot_client, limit=3, after=first.paging.next.after)
    assert _emails(second) == ["dan@initech.de"] and second.paging is None


def test_fresh_writes_reach_search_only_after_the_indexing_lag(hubspot_sandbox, hubspot_client, people):
    hubspot_sandbox.configure(search_lag_ms=3000)
    ana = people[0]
    hubspot_client.crm.contacts.basic_api.update(ana, SimplePublicObjectInput(properties={"jobtitle": "CTO"}))
    assert _search(hubspot_client, [f("jobtitle", "EQ", "CTO")]).total == 0
    hubspot_sandbox.clock.advance(2.9)
    assert _search(hubspot_client, [f("jobtitle", "EQ", "CTO")]).total == 0
    hubspot_sandbox.clock.advance(0.2)
    assert _emails(_search(hubspot_client, [f("jobtitle", "EQ", "CTO")])) == ["ana@acme.io"]


def test_results_carry_the_indexed_version_until_the_index_catches_up(hubspot_sandbox, hubspot_client, people):
    hubspot_sandbox.configure(search_lag_ms=5000)
    hubspot_client.crm.contacts.basic_api.update(people[0], SimplePublicObjectInput(properties={"jobtitle": "CTO"}))
    stale = _search(hubspot_client, [f("email", "EQ", "ana@acme.io")], properties=("jobtitle",))
    assert stale.results[0].properties["jobtitle"] == "VP Engineering"


def test_archived_records_leave_short_pages_that_still_carry_paging_next(hubspot_sandbox, hubspot_client, people):
    hubspot_sandbox.configure(search_lag_ms=5000)
    hubspot_client.crm.contacts.basic_api.archive(people[1])
    page = _search(hubspot_client, limit=2)
    assert _emails(page) == ["ana@acme.io"]  # a short page...
    assert page.total == 4 and page.paging.next.after == "2"  # ...that is not the last one
    hubspot_sandbox.clock.advance(5)
    assert _search(hubspot_client, limit=2).total == 3


def test_search_never_returns_archived_records_once_indexed(hubspot_client, people):
    hubspot_client.crm.contacts.basic_api.archive(people[0])
    assert "ana@acme.io" not in _emails(_search(hubspot_client))


def test_search_body_over_3000_characters_is_400(hubspot_client, people):
    with pytest.raises(ApiException) as raised:
        _search(hubspot_client, [f("email", "EQ", "x" * 3000)])
    assert raised.value.status == 400
