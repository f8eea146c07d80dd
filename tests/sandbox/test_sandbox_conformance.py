"""The sandbox against every recorded real HubSpot exchange in tests/fixtures/recorded/hubspot/ (copied from the recordings).

For each recording: arrange the portal so the same kind of request makes sense (the
contacts it found, the custom properties that portal had, a spent search budget...),
replay the recorded request, and require the same status, a body of the same shape
(same keys, same value types, recursively) and the same family of rate-limit headers.
Values differ (ids, timestamps, correlation ids) and are not compared.

Recordings authenticated with a ``hapikey`` query parameter; the replay drops it and
sends the sandbox's bearer token instead (HubSpot has retired API keys).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import urllib3

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "recorded" / "hubspot"
SCHEMA_FILE = "contact_schema_get_200_properties_trimmed.json"
# the portal the recordings came from had these limits; the replay uses the same
RECORDED_LIMITS = {"rate_per_10s": 100, "daily_limit": 250000, "search_rate_per_s": 5}


def _recordings() -> list[Path]:
    return sorted(FIXTURES.glob("*.json")) if FIXTURES.is_dir() else []


def test_recorded_hubspot_exchanges_are_present():
    # missing recordings must fail the suite, not silently skip the conformance tests
    assert FIXTURES.is_dir(), f"recorded fixtures not found at {FIXTURES.resolve()}"
    assert len(_recordings()) >= 10


# -- shape comparison -----------------------------------------------------------------


@dataclass
class Shape:
    """What a recorded JSON value looks like: its types, and for objects/arrays their parts."""

    types: set[str]
    keys: dict[str, Shape]
    required: set[str] | None  # keys every recorded instance had (None until an object is seen)
    items: Shape | None


def _type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def learn(value: Any, shape: Shape | None = None) -> Shape:
    """Fold one recorded value into a shape (array elements fold into one shape)."""
    shape = shape or Shape(set(), {}, None, None)
    kind = _type(value)
    shape.types.add(kind)
    if kind == "object":
        present = set(value)
        shape.required = present if shape.required is None else shape.required & present
        for key, item in value.items():
            shape.keys[key] = learn(item, shape.keys.get(key))
    elif kind == "array":
        for item in value:
            shape.items = learn(item, shape.items)
    return shape


def mismatches(value: Any, shape: Shape, where: str = "$") -> list[str]:
    """How ``value`` differs from a learnt shape: wrong types, missing or unexpected keys."""
    kind = _type(value)
    if kind not in shape.types and not (kind == "integer" and "number" in shape.types):
        return [f"{where}: {kind}, recorded {sorted(shape.types)}"]
    problems: list[str] = []
    if kind == "object":
        missing = (shape.required or set()) - set(value)
        extra = set(value) - set(shape.keys)
        problems += [f"{where}.{k}: missing" for k in sorted(missing)]
        problems += [f"{where}.{k}: not in the recording" for k in sorted(extra)]
        for key in set(value) & set(shape.keys):
            problems += mismatches(value[key], shape.keys[key], f"{where}.{key}")
    elif kind == "array" and shape.items is not None:
        for i, item in enumerate(value):
            problems += mismatches(item, shape.items, f"{where}[{i}]")
    return problems


def test_shape_comparison_catches_what_it_should():
    recorded = learn({"a": "x", "b": [{"c": 1, "d": None}, {"c": 2}], "e": {"f": True}})
    assert mismatches({"a": "y", "b": [{"c": 5}], "e": {"f": False}}, recorded) == []
    assert mismatches({"a": 1, "b": [], "e": {"f": True}}, recorded) == ["$.a: integer, recorded ['string']"]
    assert sorted(mismatches({"a": "y", "b": [{"d": None}], "e": {"f": True, "g": 1}}, recorded)) == [
        "$.b[0].c: missing",
        "$.e.g: not in the recording",
    ]


# -- arranging the portal for each recording ----------------------------------------------


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def _used_property_names(exchange: dict[str, Any]) -> set[str]:
    request, body = exchange["request"].get("body") or {}, exchange["response"].get("body") or {}
    names = set(request.get("properties") or [])
    for item in request.get("inputs") or []:
        names.update((item.get("properties") or {}) if isinstance(item, dict) else {})
    for result in body.get("results") or []:
        names.update(result.get("properties") or {})
    return names


def _define_recorded_custom_properties(exchange: dict[str, Any], sandbox) -> None:
    """Create the recorded portal's custom properties the exchange uses (defined as the
    recorded schema defines them), so the same names exist in the sandbox."""
    schema = {p["name"]: p for p in _load(FIXTURES / SCHEMA_FILE)["response"]["body"]["properties"]}
    known = sandbox.app.portal.properties["contacts"]
    http = _http(sandbox)
    for name in sorted(_used_property_names(exchange)):
        if name in known or name not in schema:
            continue  # unknown to the recorded portal too (e.g. grouparoo_custom_*): leave it unknown
        recorded = schema[name]
        spec = {k: recorded[k] for k in ("name", "label", "type", "fieldType", "groupName")}
        reply = http.request("POST", f"{sandbox.base_url}/crm/v3/properties/contacts", body=json.dumps(spec))
        assert reply.status == 201, reply.data


def _seed_recorded_results(exchange: dict[str, Any], sandbox) -> None:
    """Seed the contacts a recorded search found, with their recorded ids and values."""
    computed = {"hs_object_id"}
    sandbox.app.seed_contacts(
        {"id": r["id"], "properties": {k: v for k, v in r["properties"].items() if v is not None and k not in computed}}
        for r in exchange["response"]["body"]["results"]
    )


def _seed_request_inputs(exchange: dict[str, Any], sandbox) -> None:
    """Seed the contacts a recorded batch names by id."""
    inputs = exchange["request"]["body"]["inputs"]
    sandbox.app.seed_contacts(
        {"id": i["id"], "properties": {"email": (i.get("properties") or {}).get("email") or f"{i['id']}@demo.com"}}
        for i in inputs
    )


def _archive_the_match_just_before(exchange: dict[str, Any], sandbox) -> None:
    """The recording followed a batch/archive: the index still counts the contact it lost."""
    email = exchange["request"]["body"]["filterGroups"][0]["filters"][0]["value"]
    (cid,) = sandbox.seed_contacts({"email": email})
    sandbox.configure(search_lag_ms=5000)
    reply = _http(sandbox).request(
        "POST", f"{sandbox.base_url}/crm/v3/objects/contacts/batch/archive", body=json.dumps({"inputs": [{"id": cid}]})
    )
    assert reply.status == 204


def _spend_the_search_budget(exchange: dict[str, Any], sandbox) -> None:
    sandbox.configure(search_rate_per_s=1)  # the clock stands still: the next search is over budget
    reply = _http(sandbox).request("POST", f"{sandbox.base_url}/crm/v3/objects/contacts/search", body="{}")
    assert reply.status == 200


def _nothing(exchange: dict[str, Any], sandbox) -> None:
    """The request makes sense on an empty portal."""


ARRANGE: dict[str, Callable[[dict[str, Any], Any], None]] = {
    SCHEMA_FILE: _nothing,
    "contacts_batch_archive_204.json": _seed_request_inputs,
    "contacts_batch_create_201_single.json": _nothing,
    "contacts_batch_create_201_ten_inputs_unordered_results.json": _nothing,
    "contacts_batch_update_200.json": _seed_request_inputs,
    "contacts_batch_update_200_empty_string_clears.json": _seed_request_inputs,
    "contacts_search_200_empty.json": _nothing,
    "contacts_search_200_five_results.json": _seed_recorded_results,
    "contacts_search_200_one_match_of_four_filtergroups.json": _seed_recorded_results,
    "contacts_search_200_total_without_results_after_archive.json": _archive_the_match_just_before,
    "contacts_search_429_secondly_limit.json": _spend_the_search_budget,
}


def _http(sandbox) -> urllib3.PoolManager:
    return urllib3.PoolManager(headers={"Authorization": f"Bearer {sandbox.token}", "Content-Type": "application/json"})


def _rate_headers(headers: Any) -> set[str]:
    return {name.lower() for name in headers if name.lower().startswith("x-hubspot-ratelimit")}


# -- the replay -------------------------------------------------------------------------


@pytest.mark.parametrize("path", _recordings(), ids=lambda p: p.name)
def test_sandbox_answers_like_the_recorded_exchange(path: Path, hubspot_sandbox):
    exchange = _load(path)
    assert path.name in ARRANGE, f"no arrangement for new recording {path.name}: add one to ARRANGE"
    hubspot_sandbox.configure(**RECORDED_LIMITS)
    _define_recorded_custom_properties(exchange, hubspot_sandbox)
    ARRANGE[path.name](exchange, hubspot_sandbox)

    request, recorded = exchange["request"], exchange["response"]
    query = {k: v for k, v in (request.get("query") or {}).items() if k != "hapikey"}
    url = hubspot_sandbox.base_url + request["path"]
    if query:
        url += "?" + urlencode(query)
    body = None if request.get("body") is None else json.dumps(request["body"])
    reply = _http(hubspot_sandbox).request(request["method"], url, body=body)

    assert reply.status == recorded["status"], reply.data[:500]
    if recorded["body"] is None:
        assert reply.data == b""
    else:
        problems = mismatches(json.loads(reply.data), learn(recorded["body"]))
        assert problems == [], "\n".join(problems)
    recorded_headers = recorded.get("headers") or {}
    assert _rate_headers(reply.headers) == _rate_headers(recorded_headers)
    assert reply.headers.get("X-HubSpot-Correlation-Id")
    if "Content-Type" in recorded_headers:
        assert reply.headers["Content-Type"] == recorded_headers["Content-Type"]
