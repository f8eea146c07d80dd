"""Hypothesis strategies for CRM records as hostile as a CRM can send them."""

from __future__ import annotations

from hypothesis import strategies as st

from connector.crm.hubspot import mapping as hubspot
from connector.crm.salesforce import mapping as salesforce

#: text a person, an import or another app may have typed into any field
TRICKS = [
    "",
    " ",
    "\x00",
    "Ana\x00Ruiz",
    "VP\r\n- Requested a demo",
    "line\u2028break",
    "\u202eevil",
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "<iframe src=//evil></iframe>",
    "Handoff ref: handoff:100001:sql:1",
    '<p data-handoff-ref="handoff:1:sql:0">Handoff ref: handoff:1:sql:0</p>',
    "&amp;&lt;",
    "Request a demo",
    "Contact sales",
    "Free trial sign-up",
    "Webinar registration",
    "VP Engineering",
    "1e400",
    "inf",
    "-inf",
    "NaN",
    "-5",
    "9" * 400,
    "1,000",
    "100-500",
    "1000+",
    "2026-11-20T10:00:00Z",
    "2026-11-20T10:00:00.000+0000",
    "2026-11-20",
    "2026-13-45T99:99:99Z",
    "0000-00-00",
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z",
    "1763632800000",
    "99999999999999999999",
    "-1763632800000",
    "²³",
    "١٢٣",
    "true",
    "false",
    "ana@acme.io",
    "@",
    "😀" * 3,
    "\ud800",
]

texts = st.one_of(
    st.sampled_from(TRICKS),
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=10).map(lambda t: t * 3000),  # huge
)
numbers = st.one_of(
    st.integers(),
    st.integers(min_value=10**17, max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
)
#: any JSON value a field may hold
values = st.one_of(
    st.none(),
    texts,
    numbers,
    st.booleans(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def mostly(
    usual: st.SearchStrategy[object], rare: st.SearchStrategy[object], one_in: int = 12
) -> st.SearchStrategy[object]:
    """``usual`` values, and about one time in ``one_in`` a ``rare`` one."""
    # hypothesis favours the first of a sampled range: that one is the usual case
    return st.sampled_from(range(one_in)).flatmap(lambda n: rare if n == one_in - 1 else usual)


#: mostly text or nothing (HubSpot sends every value as a string), now and then anything at all
field_values = mostly(st.one_of(st.none(), texts), values, one_in=25)
counts = mostly(st.integers(0, 10**6).map(str), field_values, one_in=4)

HUBSPOT_PROPERTIES = sorted(
    {
        *hubspot.CANONICAL_PROPERTIES.values(),
        *hubspot.OTHER_PROPERTIES,
        *hubspot.COUNTER_PROPERTIES,
        *hubspot.SALES_ACTIVITY_MARKERS,
    }
)


@st.composite
def hubspot_contacts(draw: st.DrawFn) -> object:
    """A contact as a search, list or batch read may return it, mostly well formed, hostile in its values."""
    props = draw(st.dictionaries(st.sampled_from(HUBSPOT_PROPERTIES), field_values, max_size=len(HUBSPOT_PROPERTIES)))
    for name in hubspot.COUNTER_PROPERTIES:
        if name.startswith(("hs_analytics_num", "hs_email_open", "hs_email_click")) and draw(st.booleans()):
            props[name] = draw(counts)
    stamps = st.sampled_from(["2026-11-20T10:00:00.123Z", "2026-11-19T08:00:00Z"])
    props["lastmodifieddate"] = draw(mostly(stamps, field_values, one_in=10))
    contact: dict[str, object] = {
        "id": draw(mostly(st.integers(1, 10**12).map(str), values)),
        "properties": draw(mostly(st.just(props), values, one_in=40)),
    }
    if draw(st.booleans()):
        contact["updatedAt"] = draw(values)
    return draw(mostly(st.just(contact), values, one_in=40))


@st.composite
def counter_snapshots(draw: st.DrawFn) -> dict[str, object] | None:
    """What an earlier read left as a contact's counters (any version of Handoff, any garbage)."""
    if draw(st.booleans()):
        return None
    return draw(st.dictionaries(st.sampled_from([*hubspot.COUNTER_PROPERTIES, "seen_engagements"]), values))


engagement_props = st.dictionaries(
    st.sampled_from(sorted({p for props in hubspot.ENGAGEMENT_OBJECTS.values() for p in props})),
    st.one_of(values, st.sampled_from(["COMPLETED", "INCOMING_EMAIL", "CANCELED"])),
)

SALESFORCE_FIELDS = sorted(
    {*salesforce.LEAD.system_fields, *salesforce.LEAD_FIELDS.values(), salesforce.DEFAULT_STAGE_FIELD}
)


@st.composite
def salesforce_leads(draw: st.DrawFn) -> object:
    """A Lead row as ``query``/``queryAll`` returns it, hostile in its values."""
    row = draw(st.dictionaries(st.sampled_from(SALESFORCE_FIELDS), field_values))
    row["Id"] = draw(mostly(st.just("00Q000000000001AAA"), values))
    stamps = st.sampled_from(["2026-11-20T10:00:00.000+0000", "2026-11-19T08:00:00.000+0000"])
    row["SystemModstamp"] = draw(mostly(stamps, field_values, one_in=10))
    row["IsDeleted"] = draw(mostly(st.just(False), field_values))
    if draw(st.booleans()):
        row[salesforce.DEFAULT_STAGE_FIELD] = draw(st.sampled_from(["Lead", "MQL", "SQL", "Other", None]))
    return draw(mostly(st.just(row), values, one_in=40))


engagement_rows = st.dictionaries(
    st.sampled_from(
        [
            "Id",
            "Subject",
            "Type",
            "TaskSubtype",
            "IsClosed",
            "CreatedDate",
            "StartDateTime",
            "Status",
            "HasResponded",
            "FirstRespondedDate",
            "Campaign",
            salesforce.TASK_KEY_FIELD,
        ]
    ),
    st.one_of(values, st.fixed_dictionaries({"Name": values, "Type": values})),
)
