#!/usr/bin/env python3
"""Calls per second a CRM sandbox serves with Handoff's call mix, and how long it takes to start.

Starts ``handoff sandbox hubspot|salesforce`` (as ``python -m connector.sandbox.cli``) in
its own process with every rate limit off, times how long it takes to print
``LISTENING`` (the portal or org is seeded by then), collects record ids, then drives
it from client threads over keep-alive connections with the calls the adapter makes, in
proportions close to a backfill's:

- HubSpot: contact pages (list, 100 with Handoff's ~35 properties), modified-window
  searches (keyset ``GTE``/``LTE`` on ``lastmodifieddate``, sorted, 200 a page) and the
  millisecond drain (``hs_object_id GT``), batch reads (100), association reads (200
  contacts to meetings/calls/emails), engagement batch reads (100), batch updates (100),
  task batch creates (10) and task searches by contact;
- Salesforce: Lead pages by Id keyset and by ``SystemModstamp`` window, Leads by Id
  (``IN`` 200), the Task/Event/CampaignMember reads of 200 people, engaged-people windows,
  composite updates (200), Task upserts by key (20) and Task look-ups by key, with the
  ``Sforce-Auto-Assign: FALSE`` header the adapter sends.

The run is bounded by ``--requests`` and ``--max-seconds``. It prints a line per call kind
(count, mean and 95th-percentile milliseconds), then the headline figures, one per line.
The machine running it is shared: compare figures taken on the same machine at the same
time, and say how loaded it was (``uptime``). On Linux it also prints the sandbox's CPU
seconds to start and its calls per CPU-second during the mix (what one core of its own
would serve): those depend far less on the load than wall-clock figures.

    .venv/bin/python scripts/bench_sandbox.py [--crm hubspot|salesforce] [--contacts 100000]
        [--requests 20000] [--threads 4] [--max-seconds 60]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from connector.crm.hubspot import mapping

TOKEN = "bench-token"
SF_PATH = "/services/data/v59.0"

#: the contact properties the HubSpot adapter reads on every page, and the engagements it reads
HUBSPOT_PROPERTIES = [
    *dict.fromkeys(
        [
            *mapping.CANONICAL_PROPERTIES.values(),
            *mapping.OTHER_PROPERTIES,
            *mapping.COUNTER_PROPERTIES,
            *mapping.SALES_ACTIVITY_MARKERS,
        ]
    )
]
ENGAGEMENT_TYPES = tuple(mapping.ENGAGEMENT_OBJECTS)
SF_LEAD_FIELDS = (
    "Id, IsConverted, ConvertedContactId, HasOptedOutOfEmail, IsDeleted, SystemModstamp, CreatedDate, Email, "
    "FirstName, LastName, Title, Company, NumberOfEmployees, Industry, Country, LeadSource, Status, OwnerId, "
    "Handoff_Status__c"
)

Call = tuple[str, str, bytes | None]  # method, path, body


@dataclass
class Portal:
    """What the mix needs to know of the seeded data."""

    people: list[str]  # contact or Lead ids
    engagements: dict[str, list[str]] = field(default_factory=dict)
    now_ms: int = 0


class Client:
    """One keep-alive connection to the sandbox."""

    def __init__(self, base_url: str, ca: str | None, extra_headers: dict[str, str] | None = None) -> None:
        where = urlsplit(base_url)
        host = where.hostname or "127.0.0.1"
        if where.scheme == "https":
            context = ssl.create_default_context(cafile=ca)
            self.connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                host, where.port, timeout=60, context=context
            )
        else:
            self.connection = http.client.HTTPConnection(host, where.port, timeout=60)
        self.headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json", **(extra_headers or {})}

    def send(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        self.connection.request(method, path, body=body, headers=self.headers)
        reply = self.connection.getresponse()
        return reply.status, reply.read()

    def json(self, method: str, path: str, body: Any = None) -> Any:
        status, data = self.send(method, path, None if body is None else json.dumps(body).encode())
        if status >= 400:
            raise RuntimeError(f"{method} {path[:80]} answered {status}: {data[:300]!r}")
        return json.loads(data) if data else None

    def close(self) -> None:
        self.connection.close()


# -- HubSpot -----------------------------------------------------------------------------------


def hubspot_prepare(client: Client) -> Portal:
    """Every contact id (list pages), some engagement ids, and Handoff's score property."""
    contacts: list[str] = []
    after = None
    while True:
        page = client.json(
            "GET", "/crm/v3/objects/contacts?limit=100&properties=hs_object_id" + (f"&after={after}" if after else "")
        )
        contacts.extend(r["id"] for r in page["results"])
        after = (page.get("paging") or {}).get("next", {}).get("after")
        if not after:
            break
    portal = Portal(contacts, now_ms=int(time.time() * 1000))
    for kind in ENGAGEMENT_TYPES:
        body = {"inputs": [{"id": i} for i in contacts[:1000]]}
        reply = client.json("POST", f"/crm/v4/associations/contacts/{kind}/batch/read", body)
        portal.engagements[kind] = [str(t["toObjectId"]) for r in reply["results"] for t in r["to"]] or ["0"]
    score = {"name": "handoff_score", "label": "Handoff score", "type": "number", "fieldType": "number"}
    client.send(
        "POST", "/crm/v3/properties/contacts", json.dumps({**score, "groupName": "contactinformation"}).encode()
    )
    return portal


def _search(filters: list[dict[str, str]], sort: str) -> bytes:
    body = {
        "filterGroups": [{"filters": filters}],
        "sorts": [{"propertyName": sort, "direction": "ASCENDING"}],
        "properties": HUBSPOT_PROPERTIES,
        "limit": 200,
    }
    return json.dumps(body).encode()


def hubspot_mix(portal: Portal, rng: random.Random) -> tuple[str, Call]:
    """One call of the mix: (kind, call)."""
    contacts = portal.people
    properties = ",".join(HUBSPOT_PROPERTIES)
    kind = rng.choices(HUBSPOT_KINDS, HUBSPOT_WEIGHTS)[0]
    if kind == "list page":
        return kind, (
            "GET",
            f"/crm/v3/objects/contacts?limit=100&properties={properties}&after={rng.choice(contacts)}",
            None,
        )
    if kind == "search window":
        lower = portal.now_ms - rng.randrange(540 * 86_400_000)
        filters = [
            {"propertyName": "lastmodifieddate", "operator": "GTE", "value": str(lower)},
            {"propertyName": "lastmodifieddate", "operator": "LTE", "value": str(portal.now_ms)},
        ]
        return kind, ("POST", "/crm/v3/objects/contacts/search", _search(filters, "lastmodifieddate"))
    if kind == "search drain":
        stamp = str(portal.now_ms - rng.randrange(540 * 86_400_000))
        filters = [
            {"propertyName": "lastmodifieddate", "operator": "GTE", "value": stamp},
            {"propertyName": "lastmodifieddate", "operator": "LTE", "value": stamp},
            {"propertyName": "hs_object_id", "operator": "GT", "value": rng.choice(contacts)},
        ]
        return kind, ("POST", "/crm/v3/objects/contacts/search", _search(filters, "hs_object_id"))
    if kind == "batch read":
        body = {"properties": HUBSPOT_PROPERTIES, "inputs": [{"id": i} for i in rng.sample(contacts, 100)]}
        return kind, ("POST", "/crm/v3/objects/contacts/batch/read", json.dumps(body).encode())
    if kind == "associations":
        target = rng.choice(ENGAGEMENT_TYPES)
        body = {"inputs": [{"id": i} for i in rng.sample(contacts, 200)]}
        return kind, ("POST", f"/crm/v4/associations/contacts/{target}/batch/read", json.dumps(body).encode())
    if kind == "engagement read":
        target = rng.choice(ENGAGEMENT_TYPES)
        ids = portal.engagements[target]
        body = {"properties": ["hs_timestamp"], "inputs": [{"id": rng.choice(ids)} for _ in range(100)]}
        return kind, ("POST", f"/crm/v3/objects/{target}/batch/read", json.dumps(body).encode())
    if kind == "batch update":
        updates = [
            {"id": i, "properties": {"handoff_score": str(rng.randint(0, 100))}} for i in rng.sample(contacts, 100)
        ]
        return kind, ("POST", "/crm/v3/objects/contacts/batch/update", json.dumps({"inputs": updates}).encode())
    if kind == "task create":
        due = datetime.now(UTC).isoformat()
        inputs: list[dict[str, Any]] = [
            {
                "properties": {"hs_task_subject": "Call back", "hs_timestamp": due, "hs_task_status": "NOT_STARTED"},
                "associations": [
                    {"to": {"id": c}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 204}]}
                ],
            }
            for c in rng.sample(contacts, 10)
        ]
        return kind, ("POST", "/crm/v3/objects/tasks/batch/create", json.dumps({"inputs": inputs}).encode())
    if kind == "task search":
        filters = [{"propertyName": "associations.contact", "operator": "EQ", "value": rng.choice(contacts)}]
        body = {"filterGroups": [{"filters": filters}], "properties": ["hs_task_body"], "limit": 200}
        return kind, ("POST", "/crm/v3/objects/tasks/search", json.dumps(body).encode())
    return kind, ("GET", "/crm/v3/properties/contacts?archived=false", None)


HUBSPOT_KINDS = (
    "list page",
    "search window",
    "search drain",
    "batch read",
    "associations",
    "engagement read",
    "batch update",
    "task create",
    "task search",
    "properties",
)
HUBSPOT_WEIGHTS = (12, 8, 4, 12, 24, 16, 12, 4, 4, 2)


# -- Salesforce ------------------------------------------------------------------------------


def _soql(text: str, everything: bool = False) -> str:
    return f"{SF_PATH}/{'queryAll' if everything else 'query'}/?q={quote(text)}"


def salesforce_prepare(client: Client) -> Portal:
    """Every Lead id (query locators) and the org's clock."""
    reply = client.json("GET", _soql("SELECT Id FROM Lead ORDER BY Id"))
    leads = [r["Id"] for r in reply["records"]]
    while not reply["done"]:
        reply = client.json("GET", reply["nextRecordsUrl"])
        leads.extend(r["Id"] for r in reply["records"])
    return Portal(leads, now_ms=int(time.time() * 1000))


def _sf_time(ms: int) -> str:
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _in(ids: list[str]) -> str:
    return ", ".join(f"'{i}'" for i in ids)


def salesforce_mix(portal: Portal, rng: random.Random) -> tuple[str, Call]:
    """One call of the mix: (kind, call)."""
    leads = portal.people
    kind = rng.choices(SALESFORCE_KINDS, SALESFORCE_WEIGHTS)[0]
    day_start = portal.now_ms - rng.randrange(540 * 86_400_000)
    window = f"SystemModstamp >= {_sf_time(day_start)} AND SystemModstamp <= {_sf_time(day_start + 86_400_000)}"
    if kind == "id page":
        soql = (
            f"SELECT {SF_LEAD_FIELDS} FROM Lead WHERE IsDeleted = false AND Id > '{rng.choice(leads)}' "
            "ORDER BY Id LIMIT 2000"
        )
        return kind, ("GET", _soql(soql), None)
    if kind == "modstamp page":
        soql = f"SELECT {SF_LEAD_FIELDS} FROM Lead WHERE {window} ORDER BY SystemModstamp, Id LIMIT 2000"
        return kind, ("GET", _soql(soql, everything=True), None)
    if kind == "engaged":
        return kind, ("GET", _soql(f"SELECT WhoId FROM Task WHERE {window} AND IsClosed = true"), None)
    some = rng.sample(leads, 200)
    if kind == "by id":
        return kind, ("GET", _soql(f"SELECT {SF_LEAD_FIELDS} FROM Lead WHERE Id IN ({_in(some)})"), None)
    if kind == "tasks of people":
        soql = (
            "SELECT Id, WhoId, Subject, Type, TaskSubtype, IsClosed, CreatedDate, Handoff_Key__c FROM Task "
            f"WHERE WhoId IN ({_in(some)}) AND IsClosed = true AND IsDeleted = false"
        )
        return kind, ("GET", _soql(soql), None)
    if kind == "events of people":
        soql = f"SELECT Id, WhoId, Subject, StartDateTime, CreatedDate FROM Event WHERE WhoId IN ({_in(some)}) AND IsDeleted = false"
        return kind, ("GET", _soql(soql), None)
    if kind == "campaigns of people":
        soql = (
            "SELECT Id, LeadId, Status, HasResponded, FirstRespondedDate, CreatedDate, Campaign.Name, Campaign.Type "
            f"FROM CampaignMember WHERE LeadId IN ({_in(some)}) AND HasResponded = true AND IsDeleted = false"
        )
        return kind, ("GET", _soql(soql), None)
    if kind == "composite update":
        records = [
            {"attributes": {"type": "Lead"}, "id": i, "Handoff_Score__c": float(rng.randint(0, 100))} for i in some
        ]
        body = json.dumps({"allOrNone": False, "records": records}).encode()
        return kind, ("PATCH", f"{SF_PATH}/composite/sobjects", body)
    keys = [f"bench:{rng.randrange(10_000)}" for _ in range(20)]
    if kind == "task upsert":
        records = [
            {
                "attributes": {"type": "Task"},
                "Handoff_Key__c": k,
                "Subject": "Call back",
                "WhoId": w,
                "Status": "Not Started",
            }
            for k, w in zip(dict.fromkeys(keys), some, strict=False)
        ]
        body = json.dumps({"allOrNone": False, "records": records}).encode()
        return kind, ("PATCH", f"{SF_PATH}/composite/sobjects/Task/Handoff_Key__c", body)
    return kind, ("GET", _soql(f"SELECT Id, Handoff_Key__c FROM Task WHERE Handoff_Key__c IN ({_in(keys)})"), None)


SALESFORCE_KINDS = (
    "id page",
    "modstamp page",
    "engaged",
    "by id",
    "tasks of people",
    "events of people",
    "campaigns of people",
    "composite update",
    "task upsert",
    "task keys",
)
SALESFORCE_WEIGHTS = (2, 4, 6, 8, 16, 16, 16, 16, 8, 8)
#: what the adapter sends on every write (its Lead updates must not run the assignment rule)
SALESFORCE_HEADERS = {"Sforce-Auto-Assign": "FALSE"}

MIXES: dict[str, tuple[Callable[[Client], Portal], Callable[[Portal, random.Random], tuple[str, Call]]]] = {
    "hubspot": (hubspot_prepare, hubspot_mix),
    "salesforce": (salesforce_prepare, salesforce_mix),
}
MIX_HEADERS = {"salesforce": SALESFORCE_HEADERS}


# -- running -----------------------------------------------------------------------------------


@dataclass
class Tally:
    """What one client thread saw."""

    timings: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def _worker(
    base_url: str,
    ca: str | None,
    mix: Callable[[Portal, random.Random], tuple[str, Call]],
    portal: Portal,
    count: int,
    deadline: float,
    seed: int,
    tally: Tally,
    headers: dict[str, str] | None = None,
) -> None:
    rng = random.Random(seed)
    client = Client(base_url, ca, headers)
    try:
        for _ in range(count):
            if time.perf_counter() >= deadline:
                break
            kind, (method, path, body) = mix(portal, rng)
            started = time.perf_counter()
            status, data = client.send(method, path, body)
            tally.timings.setdefault(kind, []).append(time.perf_counter() - started)
            if status >= 400:  # a refused item in a 200 collection reply (a converted Lead) is an answer
                tally.errors.append(f"{kind}: {status} {data[:200]!r}")
    finally:
        client.close()


def cpu_seconds(pid: int) -> float | None:
    """CPU time a process has used so far (Linux ``/proc``; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_sandbox(crm: str, contacts: int) -> tuple[subprocess.Popen[str], str, str | None, float]:
    """The sandbox process, its base URL, its CA bundle (Salesforce) and the seconds it took to listen."""
    command = [sys.executable, "-m", "connector.sandbox.cli", crm, "--token", TOKEN, "--contacts", str(contacts)]
    if crm == "hubspot":
        command += ["--rate-per-10s", "0", "--search-rate-per-s", "0"]
    else:
        command += ["--daily-limit", str(10**9)]
    started = time.perf_counter()
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    words = server.stdout.readline().split()
    took = time.perf_counter() - started
    if words[:1] != ["LISTENING"]:
        server.terminate()
        raise RuntimeError(f"the {crm} sandbox did not start")
    ca = next((w.removeprefix("ca=") for w in words[2:] if w.startswith("ca=")), None)
    return server, words[1], ca, took


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--crm", choices=sorted(MIXES), default="hubspot")
    parser.add_argument("--contacts", type=int, default=100_000, help="synthetic people in the portal or org")
    parser.add_argument("--requests", type=int, default=20_000, help="calls in the timed mix, at most")
    parser.add_argument("--threads", type=int, default=4, help="client threads, one connection each")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="stop the timed mix after this long")
    parser.add_argument("--seed", type=int, default=7, help="seed of the call mix")
    args = parser.parse_args()

    prepare, mix = MIXES[args.crm]
    server, base_url, ca, startup = start_sandbox(args.crm, args.contacts)
    startup_cpu = cpu_seconds(server.pid)
    try:
        setup = Client(base_url, ca)
        portal = prepare(setup)
        setup.close()
        tallies = [Tally() for _ in range(args.threads)]
        cpu_before = cpu_seconds(server.pid)
        started = time.perf_counter()
        deadline = started + args.max_seconds
        threads = [
            threading.Thread(
                target=_worker,
                args=(
                    base_url,
                    ca,
                    mix,
                    portal,
                    args.requests // args.threads,
                    deadline,
                    args.seed + i,
                    tally,
                    MIX_HEADERS.get(args.crm),
                ),
            )
            for i, tally in enumerate(tallies)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        cpu_after = cpu_seconds(server.pid)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:  # freeing a large org on exit can take longer on a loaded machine
            server.kill()
            server.wait()

    by_kind: dict[str, list[float]] = {}
    for tally in tallies:
        for kind, timings in tally.timings.items():
            by_kind.setdefault(kind, []).extend(timings)
    errors = [e for tally in tallies for e in tally.errors]
    done = sum(len(t) for t in by_kind.values())
    print(f"{'call':<22}{'count':>8}{'mean ms':>10}{'p95 ms':>10}")
    for kind, timings in sorted(by_kind.items()):
        timings.sort()
        p95 = timings[min(len(timings) - 1, int(len(timings) * 0.95))]
        print(f"{kind:<22}{len(timings):>8}{sum(timings) / len(timings) * 1000:>10.1f}{p95 * 1000:>10.1f}")
    for error in errors[:5]:
        print(f"error: {error}", file=sys.stderr)
    print(f"crm: {args.crm}")
    print(f"contacts: {args.contacts}")
    print(f"threads: {args.threads}")
    print(f"calls: {done}")
    print(f"errors: {len(errors)}")
    if startup_cpu is not None:
        print(f"start-up cpu s: {startup_cpu:.1f}")
    print(f"start-up s: {startup:.1f}")
    if cpu_before is not None and cpu_after is not None and cpu_after > cpu_before:
        # what one core of the sandbox's own would serve: the figure a loaded machine distorts least
        print(f"calls per sandbox cpu-second: {done / (cpu_after - cpu_before):.0f}")
    print(f"calls/s: {done / elapsed:.0f}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
