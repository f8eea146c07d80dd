#!/usr/bin/env python3
"""Requests per second the HubSpot sandbox serves on loopback, rate limits off.

Starts ``handoff sandbox hubspot`` (as ``python -m connector.sandbox.cli``) in its own
process, then drives it from client threads over keep-alive connections with a mix
of the calls Handoff makes: get by id, list pages, batch reads, updates and searches.
The run is bounded by ``--requests`` and ``--max-seconds``; it prints the figure last.

    .venv/bin/python scripts/bench_sandbox.py [--requests 20000] [--threads 4] [--contacts 1000]
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import subprocess
import sys
import threading
import time
from urllib.parse import urlsplit

TOKEN = "bench-token"


def _mix(contact_ids: list[str], rng: random.Random) -> tuple[str, str, bytes | None]:
    """One request of the mix: (method, path, body)."""
    roll = rng.random()
    pick = rng.choice(contact_ids)
    if roll < 0.5:
        return "GET", f"/crm/v3/objects/contacts/{pick}?properties=email,lifecyclestage,hs_lead_status", None
    if roll < 0.7:
        return "GET", "/crm/v3/objects/contacts?limit=10&properties=email&archived=false", None
    if roll < 0.8:
        inputs = [{"id": i} for i in rng.sample(contact_ids, 10)]
        return (
            "POST",
            "/crm/v3/objects/contacts/batch/read",
            json.dumps({"properties": ["email"], "inputs": inputs}).encode(),
        )
    if roll < 0.9:
        body = {"properties": {"hs_lead_status": rng.choice(["OPEN", "IN_PROGRESS", "CONNECTED"])}}
        return "PATCH", f"/crm/v3/objects/contacts/{pick}", json.dumps(body).encode()
    search = {
        "filterGroups": [{"filters": [{"propertyName": "lifecyclestage", "operator": "EQ", "value": "lead"}]}],
        "properties": ["email"],
        "limit": 10,
    }
    return "POST", "/crm/v3/objects/contacts/search", json.dumps(search).encode()


def _worker(
    host: str, port: int, contact_ids: list[str], count: int, deadline: float, seed: int, results: list[tuple[int, int]]
) -> None:
    rng = random.Random(seed)
    connection = http.client.HTTPConnection(host, port, timeout=10)
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    done = errors = 0
    while done < count and time.perf_counter() < deadline:
        method, path, body = _mix(contact_ids, rng)
        connection.request(method, path, body=body, headers=headers)
        reply = connection.getresponse()
        reply.read()
        done += 1
        errors += reply.status >= 400
    connection.close()
    results.append((done, errors))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20000, help="total requests (default 20000)")
    parser.add_argument("--threads", type=int, default=4, help="client threads, one connection each")
    parser.add_argument("--contacts", type=int, default=1000, help="synthetic contacts in the portal")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="stop early after this long")
    args = parser.parse_args()

    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "connector.sandbox.cli",
            "hubspot",
            "--token",
            TOKEN,
            "--contacts",
            str(args.contacts),
            "--rate-per-10s",
            "0",
            "--search-rate-per-s",
            "0",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = server.stdout.readline().split()
        if line[:1] != ["LISTENING"]:
            print("sandbox did not start", file=sys.stderr)
            return 1
        where = urlsplit(line[1])
        probe = http.client.HTTPConnection(where.hostname, where.port, timeout=10)
        probe.request("GET", "/_sandbox/dump")
        contact_ids = [c["id"] for c in json.loads(probe.getresponse().read())["contacts"]]
        probe.close()

        results: list[tuple[int, int]] = []
        per_thread = args.requests // args.threads
        started = time.perf_counter()
        deadline = started + args.max_seconds
        threads = [
            threading.Thread(
                target=_worker, args=(where.hostname, where.port, contact_ids, per_thread, deadline, i, results)
            )
            for i in range(args.threads)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=10)
    done = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    print(
        f"requests: {done}  errors: {errors}  seconds: {elapsed:.2f}  threads: {args.threads}  contacts: {args.contacts}"
    )
    print(f"requests/s: {done / elapsed:.0f}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
