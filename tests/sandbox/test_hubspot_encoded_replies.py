"""Records sent as JSON encoded once per version (wire.record_reply) read byte for byte as the
plain record dicts encode, on the first read and on every read after, and never outlive a write."""

from __future__ import annotations

import http.client
import json
from typing import Any

import orjson

from connector.sandbox.hubspot.objects import CONTACTS
from connector.sandbox.hubspot.wire import property_names, record_json, record_reply
from connector.sandbox.server import encode_json

PROPERTIES = ["email", "firstname", "jobtitle", "company", "no_such_property"]


def _plain(body: Any) -> bytes:
    """What the stdlib's json writes for a decoded body (compact, UTF-8)."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def _call(sandbox, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
    host, port = sandbox.server.host, sandbox.server.port
    connection = http.client.HTTPConnection(host, port, timeout=10)
    headers = {"Authorization": f"Bearer {sandbox.token}", "Content-Type": "application/json"}
    connection.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
    reply = connection.getresponse()
    try:
        return reply.status, reply.read()
    finally:
        connection.close()


def _seed(sandbox) -> list[str]:
    return sandbox.seed_contacts(
        {"email": "ada@acme.io", "firstname": 'Ada "the first"', "jobtitle": "Ingénieure\nen chef"},
        {"email": "bob@acme.io", "company": "Ünïcode ✓ & <co>"},
        {"email": "cy@acme.io", "firstname": "Cy", "company": "back\\slash"},
    )


def _expected_records(sandbox, ids: list[str]) -> list[dict[str, Any]]:
    portal = sandbox.app.portal
    names = property_names(CONTACTS, portal.properties[CONTACTS.name], PROPERTIES)
    return [record_json(portal.get(CONTACTS, i), names) for i in ids]


def test_list_batch_read_search_and_get_send_the_plain_records_on_every_read(hubspot_sandbox):
    ids = _seed(hubspot_sandbox)
    expected = _expected_records(hubspot_sandbox, ids)
    properties = ",".join(PROPERTIES)
    batch = {"properties": PROPERTIES, "inputs": [{"id": i} for i in ids]}
    search = {"properties": PROPERTIES, "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}]}
    calls = [
        ("GET", f"/crm/v3/objects/contacts?limit=10&properties={properties}", None),
        ("POST", "/crm/v3/objects/contacts/batch/read", batch),
        ("POST", "/crm/v3/objects/contacts/search", search),
        ("GET", f"/crm/v3/objects/contacts/{ids[0]}?properties={properties}", None),
    ]
    for method, path, body in calls:
        first = _call(hubspot_sandbox, method, path, body)
        again = _call(hubspot_sandbox, method, path, body)  # the records' encoded JSON is kept by now
        assert first == again
        status, data = first
        assert status == 200
        decoded = json.loads(data)
        assert data == _plain(decoded)
        records = decoded.get("results", [decoded])
        assert sorted(records, key=lambda r: r["id"]) == sorted(
            expected if "results" in decoded else expected[:1], key=lambda r: r["id"]
        )


def test_a_batch_read_orders_encoded_records_as_every_batch_reply_does(hubspot_sandbox):
    ids = hubspot_sandbox.seed_contacts(*({"email": f"p{i}@acme.io"} for i in range(12)))
    batch = {"properties": ["email"], "inputs": [{"id": i} for i in ids]}
    status, data = _call(hubspot_sandbox, "POST", "/crm/v3/objects/contacts/batch/read", batch)
    assert status == 200
    got = [r["id"] for r in json.loads(data)["results"]]
    assert got == sorted(ids, key=lambda i: (int(i) % 7, i)) and got != ids


def test_an_update_or_an_archive_is_seen_by_the_next_read(hubspot_sandbox):
    (cid,) = hubspot_sandbox.seed_contacts({"email": "ada@acme.io", "jobtitle": "CTO"})
    path = f"/crm/v3/objects/contacts/{cid}?properties=jobtitle"
    assert json.loads(_call(hubspot_sandbox, "GET", path)[1])["properties"]["jobtitle"] == "CTO"
    status, _ = _call(hubspot_sandbox, "PATCH", f"/crm/v3/objects/contacts/{cid}", {"properties": {"jobtitle": "CEO"}})
    assert status == 200
    assert json.loads(_call(hubspot_sandbox, "GET", path)[1])["properties"]["jobtitle"] == "CEO"
    assert _call(hubspot_sandbox, "DELETE", f"/crm/v3/objects/contacts/{cid}")[0] == 204
    status, data = _call(hubspot_sandbox, "GET", path + "&archived=true")
    archived = json.loads(data)
    assert status == 200 and archived["archived"] is True and archived["archivedAt"] == archived["updatedAt"]
    portal = hubspot_sandbox.app.portal
    names = property_names(CONTACTS, portal.properties[CONTACTS.name], ["jobtitle"])
    assert data == _plain(record_json(portal.get(CONTACTS, cid, archived=True), names))


def test_an_encoded_record_is_the_plain_record_encoded_and_is_reused_for_the_same_names(hubspot_sandbox):
    (cid,) = _seed(hubspot_sandbox)[:1]
    portal = hubspot_sandbox.app.portal
    record = portal.get(CONTACTS, cid)
    names = property_names(CONTACTS, portal.properties[CONTACTS.name], PROPERTIES)
    first = record_reply(record, names)
    assert isinstance(first, orjson.Fragment)
    assert encode_json({"results": [first]}) == encode_json({"results": [record_json(record, names)]})
    assert record_reply(record, names) is first
    other = property_names(CONTACTS, portal.properties[CONTACTS.name], ["email"])
    assert encode_json(record_reply(record, other)) == encode_json(record_json(record, other))


def test_a_value_orjson_refuses_is_sent_as_a_plain_record(hubspot_sandbox):
    (cid,) = hubspot_sandbox.seed_contacts({"email": "ada@acme.io"})
    record = hubspot_sandbox.app.portal.get(CONTACTS, cid)
    record.props["jobtitle"] = "\ud800"  # a lone surrogate: json writes it, orjson does not
    names = ("jobtitle",)
    assert record_reply(record, names) == record_json(record, names)
    assert record.rendered is None
