#!/usr/bin/env python3
"""What Handoff spends of a CRM's API budget: calls per contact against a floor, and rate share.

Starts a sandbox in this process on 127.0.0.1 with real limits (HubSpot: ``--rate-per-10s
190``, search 5/s), then runs the real CLI as a subprocess (``python -m connector backfill
--json``, then ``sync --once --json`` cycles) with its state in a temporary directory, and
reads the sandbox's call counts (the same as ``GET /_sandbox/stats``) after each run.

Backfill figures: calls by endpoint; a floor; calls / floor; the share of the allowed rate
sustained; the share of 429s; contacts per second; peak RSS and CPU of the Handoff process;
state bytes per contact.

The rate share is calls outside search over what Handoff's own limiter allows itself
(``HANDOFF_API_BUDGET`` of ``--rate-per-10s``: 95 per 10 s by default), from Handoff's first
call to its last (start-up imports are not sustained work; the whole-process figure is printed
too); the CRM's full limit and the share with the sandbox's own answering time taken out follow.
A run under a minute includes the first window's burst, so it may pass 100%. Peak RSS is
Handoff's alone: it runs under a small launcher, since a child's ``ru_maxrss`` also counts the
memory of the process that spawned it (here, the one holding the sandbox). Steady state: calls per quiet cycle (nothing changed), then one
cycle after ``--touched`` people asked for a demo: reads per written record. That cycle also
reads back once what the backfill wrote (at 1,000,000 contacts, most of an hour): ``--cycles 0
--touched 0`` gives the backfill's figures alone.

The floor is what a client reading the same data at the API's largest batch sizes needs:

    HubSpot:    start-up (1 property read + ceil(owners / 100) owner pages + the property
                definitions it had to create) + ceil(contacts / 100) contact pages
                + 3 * ceil(contacts / 1000) association reads (meetings, calls, emails)
                + sum over those types of ceil(engagements / 100) engagement reads
                + ceil(written / 100) updates + ceil(tasks / 100) task creates
    Salesforce: start-up (Lead and Task describes + 1 user query) + ceil(leads / 2000) Lead pages
                + sum over Task, Event, CampaignMember of ceil(rows of those people / 2000)
                + ceil(written / 200) composite updates + ceil(tasks / 200) Task upserts

The Salesforce floor reads related rows at 2,000 a page wherever they are, one query a call; a
client that names its people in ``IN`` lists is also bound by the 16,384-byte query URI (about
600 ids a query, so 3 * ceil(leads / 600) activity queries), but a Composite call carries five
queries and counts as one call, so such reads can cost fewer calls than the floor's term (and
calls / floor can fall below 1). The floor's Lead pages are REST's: a backfill that reads its Leads
through a Bulk API 2.0 job (``--bulk-threshold``) takes 10,000 rows a results call, so there too
calls / floor can fall below 1.

Salesforce has no short window: its quota is per day, so it is accounted as a share of
``--daily-quota`` (Enterprise Edition's base allocation by default) and as contacts per day
that quota allows at the measured calls per contact.

Real limits make a run slow by design: HubSpot allows 19 calls/s at 190 per 10 s, and
Handoff takes ``HANDOFF_API_BUDGET`` (default half) of that, so 10,000 contacts take
minutes. ``--rate-per-10s 0 --search-rate-per-s 0`` lifts the sandbox's limits, but Handoff's
limiter then keeps to its share of HubSpot's documented 100 per 10 s (no headers to size it by);
a high limit (``--rate-per-10s 2000``) shows how fast Handoff itself can go; ``--no-limits`` sets
one so high (1,000,000 per 10 s, searches unlimited) that nothing waits, for sizes real limits make
too slow to run. Every run is bounded (``--timeout``).

Memory: the bench samples the Handoff process's RSS about twice a second during the backfill,
against the contacts the sandbox has served so far (HubSpot list pages times 100), and prints
RSS by tenth of the contacts read and its growth per 10,000 contacts over the second half of the
backfill (what a larger portal would add; start-up and the first caches filling are left out).

    .venv/bin/python scripts/bench_api.py [--crm hubspot|salesforce] [--contacts 10000]
        [--rate-per-10s 190] [--search-rate-per-s 5] [--no-limits] [--cycles 3] [--touched 100]
        [--bulk-threshold N]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connector.config.settings import Settings
from connector.sandbox.hubspot import HubSpotConfig, HubSpotSandbox
from connector.sandbox.hubspot.objects import CALLS, CONTACTS, EMAILS, MEETINGS
from connector.sandbox.salesforce import SalesforceConfig, SalesforceSandbox
from connector.sandbox.server import Request, Response, SandboxServer

TOKEN = "bench-token"
#: runs argv[2:] and writes its peak RSS and CPU time to argv[1]; exits with its exit code
LAUNCHER = """
import json, os, sys
pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    json.dump({"maxrss_kb": usage.ru_maxrss, "cpu_s": usage.ru_utime + usage.ru_stime}, out)
sys.exit(os.waitstatus_to_exitcode(status))
"""
ROOT = Path(__file__).resolve().parent.parent
#: HANDOFF_SAFETY_LAG_SECONDS's default: a cycle leaves changes younger than this to the next one
SAFETY_LAG_S = 10
#: ``--no-limits``: a 10-second budget nothing reaches (the sandbox still sends the headers Handoff sizes by)
UNLIMITED_PER_10S = 1_000_000
#: seconds between RSS samples of the Handoff process
RSS_EVERY_S = 0.5
#: the HubSpot list call a backfill reads contacts with, and the page size it asks for
CONTACT_PAGES = "GET /crm/v3/objects/contacts"
CONTACT_PAGE_SIZE = 100


@dataclass(frozen=True)
class RssSample:
    """The Handoff process's resident memory once the sandbox had served ``contacts``."""

    contacts: int
    rss_mb: float


@dataclass
class Run:
    """One Handoff process: its report, the calls it made and what it cost."""

    report: dict[str, Any]
    calls: Counter[str]
    statuses: Counter[str]
    seconds: float
    peak_rss_mb: float
    cpu_s: float
    #: seconds the sandbox spent answering this run's calls (its own speed, not Handoff's)
    answering_s: float
    #: seconds from Handoff's first call to its last (its start-up and shut-down left out)
    calling_s: float
    #: its RSS during the run, by contacts served so far (HubSpot only)
    rss: list[RssSample] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.calls.values())


class Answering:
    """Time a sandbox spends in its handler, summed over the server's threads, and when calls came."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.first: float | None = None
        self.last = 0.0
        self._lock = threading.Lock()

    def span(self) -> float:
        """Seconds from the first call's arrival to the last call's answer since ``restart``."""
        return self.last - self.first if self.first is not None else 0.0

    def restart(self) -> None:
        with self._lock:
            self.first = None

    def timed(self, handle: Callable[[Request], Response]) -> Callable[[Request], Response]:
        def answer(request: Request) -> Response:
            started = time.perf_counter()
            try:
                return handle(request)
            finally:
                with self._lock:
                    self.last = time.perf_counter()
                    self.seconds += self.last - started
                    self.first = started if self.first is None else self.first

        return answer


@dataclass
class Bench:
    """A started sandbox and how to run Handoff against it."""

    crm: str
    sandbox: HubSpotSandbox | SalesforceSandbox
    server: SandboxServer
    env: dict[str, str]
    timeout: float
    seen: Counter[tuple[str, str]] = field(default_factory=Counter)
    answering: Answering = field(default_factory=Answering)
    answered_before: float = 0.0

    def handoff(self, *args: str) -> Run:
        """Run one CLI command; the calls it made are the sandbox's counts since the last run."""
        with tempfile.TemporaryFile("w+") as out:
            started = time.perf_counter()
            self.answering.restart()
            usage_file = Path(self.env["HANDOFF_REPORT_DIR"]).parent / "usage.json"
            # through a small launcher: a child's ru_maxrss counts the memory of the process that
            # spawned it, and this one holds the sandbox
            process = subprocess.Popen(
                [sys.executable, "-c", LAUNCHER, str(usage_file), sys.executable, "-m", "connector", *args, "--json"],
                env=self.env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.DEVNULL,
                text=True,
                start_new_session=True,
            )
            sampler = RssSampler(process.pid, self.contacts_served)
            sampler.start()
            try:
                process.wait(self.timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                raise SystemExit(f"handoff {' '.join(args)} did not finish within {self.timeout:.0f} s") from None
            finally:
                sampler.stop()
            seconds = time.perf_counter() - started
            out.seek(0)
            output = out.read().strip()
        if process.returncode not in (0, 1) or not output:
            raise SystemExit(f"handoff {' '.join(args)} exited {process.returncode}: {output[-500:]}")
        report = json.loads(output.splitlines()[-1])
        usage = json.loads(usage_file.read_text())
        calls, statuses = self._since_last()
        answering = self.answering.seconds - self.answered_before
        self.answered_before = self.answering.seconds
        return Run(
            report,
            calls,
            statuses,
            seconds,
            usage["maxrss_kb"] / 1024,
            usage["cpu_s"],
            answering,
            self.answering.span(),
            sampler.samples,
        )

    def contacts_served(self) -> int:
        """Contacts the sandbox has listed since the last run began (HubSpot list pages times their size)."""
        calls = self.sandbox.stats.snapshot()["calls"].get(CONTACT_PAGES, {})
        before = self.seen[(CONTACT_PAGES, "200")]
        return (calls.get("200", 0) - before) * CONTACT_PAGE_SIZE

    def _since_last(self) -> tuple[Counter[str], Counter[str]]:
        now: Counter[tuple[str, str]] = Counter()
        for label, by_status in self.sandbox.stats.snapshot()["calls"].items():
            for status, count in by_status.items():
                now[(label, status)] = count
        delta = now - self.seen
        self.seen = now
        calls: Counter[str] = Counter()
        statuses: Counter[str] = Counter()
        for (label, status), count in delta.items():
            calls[label] += count
            statuses[status] += count
        return calls, statuses


class RssSampler:
    """Samples the RSS of the process the launcher ``launcher_pid`` spawned, against ``progress()``."""

    def __init__(self, launcher_pid: int, progress: Callable[[], int]):
        self.launcher_pid = launcher_pid
        self.progress = progress
        self.samples: list[RssSample] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._done.wait(RSS_EVERY_S):
            rss = _rss_mb(self._handoff_pid())
            if rss is not None:
                self.samples.append(RssSample(self.progress(), rss))

    def _handoff_pid(self) -> int | None:
        try:
            children = Path(f"/proc/{self.launcher_pid}/task/{self.launcher_pid}/children").read_text().split()
        except OSError:
            return None
        return int(children[0]) if children else None


def _rss_mb(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def rss_by_tenth(samples: list[RssSample], contacts: int) -> list[tuple[int, float]]:
    """The highest RSS seen up to each tenth of ``contacts`` served."""
    marks: list[tuple[int, float]] = []
    for tenth in range(1, 11):
        upto = contacts * tenth // 10
        seen = [s.rss_mb for s in samples if s.contacts <= upto]
        if seen:
            marks.append((upto, max(seen)))
    return marks


def rss_growth_per_10k(samples: list[RssSample], contacts: int) -> tuple[float, int, int] | None:
    """RSS growth per 10,000 contacts over the second half of the backfill: (MB, from, to)."""
    half = [s for s in samples if s.contacts >= contacts // 2]
    if len(half) < 2 or half[-1].contacts <= half[0].contacts:
        return None
    first = max(s.rss_mb for s in samples if s.contacts <= half[0].contacts)
    last = max(s.rss_mb for s in half)
    span = half[-1].contacts - half[0].contacts
    return (last - first) / span * 10_000, half[0].contacts, half[-1].contacts


# -- starting a sandbox -------------------------------------------------------------------------


def start(args: argparse.Namespace, state_dir: Path) -> Bench:
    """A sandbox with ``args.contacts`` people on 127.0.0.1 and the environment Handoff needs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HANDOFF_", "HUBSPOT_", "SALESFORCE_"))}
    env.update(
        HANDOFF_CRM=args.crm,
        HANDOFF_STATE_URL=f"sqlite:///{state_dir / 'state.sqlite'}",
        HANDOFF_REPORT_DIR=str(state_dir / "reports"),
        HANDOFF_LOG_FORMAT="json",
    )
    if args.api_budget is not None:
        env["HANDOFF_API_BUDGET"] = str(args.api_budget)
    sandbox: HubSpotSandbox | SalesforceSandbox
    if args.crm == "hubspot":
        sandbox = HubSpotSandbox(
            HubSpotConfig(
                token=TOKEN,
                contacts=args.contacts,
                rate_per_10s=args.rate_per_10s,
                search_rate_per_s=args.search_rate_per_s,
            )
        )
        server = sandbox.server().start()
        env.update(HUBSPOT_ACCESS_TOKEN=TOKEN, HUBSPOT_API_BASE=server.base_url)
    else:
        sandbox = SalesforceSandbox(SalesforceConfig(token=TOKEN, contacts=args.contacts, daily_limit=10**9))
        server = sandbox.server().start()
        env.update(
            SALESFORCE_INSTANCE_URL=server.base_url,
            SALESFORCE_SESSION_ID=TOKEN,
            SALESFORCE_CA_BUNDLE=str(sandbox.ca_path),
            # the sandbox completes a query job at once: no poll waits
            HANDOFF_SALESFORCE_BULK_POLL_SECONDS="0",
        )
        if args.bulk_threshold is not None:
            env["HANDOFF_SALESFORCE_BULK_THRESHOLD"] = str(args.bulk_threshold)
    bench = Bench(args.crm, sandbox, server, env, args.timeout)
    sandbox.handle = bench.answering.timed(sandbox.handle)  # type: ignore[method-assign, assignment]
    return bench


# -- what the data needs at best ------------------------------------------------------------------


def _pages(count: int, size: int) -> int:
    return math.ceil(count / size)


def hubspot_floor(sandbox: HubSpotSandbox, run: Run) -> tuple[int, dict[str, int]]:
    """The floor of a backfill (see the module docstring), term by term."""
    portal = sandbox.portal
    contacts = [r for r in portal.all_records(CONTACTS) if not r.archived]
    terms = {
        "start-up": 1
        + _pages(len(portal.owners), 100)
        + run.calls["POST /crm/v3/properties/contacts"]
        + run.calls["POST /crm/v3/properties/contacts/groups"],
        "contact pages": _pages(len(contacts), 100),
        "association reads": 3 * _pages(len(contacts), 1000),
    }
    engagements = 0
    for kind in (MEETINGS, CALLS, EMAILS):
        linked: set[str] = set()
        for contact in contacts:
            linked.update(portal.associations(CONTACTS, contact.id, kind))
        engagements += _pages(len(linked), 100)
    terms["engagement reads"] = engagements
    terms["updates"] = _pages(int(run.report.get("written", 0)), 100)
    terms["task creates"] = _pages(int(run.report.get("tasks_created", 0)), 100)
    return sum(terms.values()), terms


def salesforce_floor(sandbox: SalesforceSandbox, run: Run) -> tuple[int, dict[str, int]]:
    """The floor of a backfill (see the module docstring), term by term."""
    org = sandbox.org
    schema = org.schema.objects
    leads = {r.id for r in org.records(schema["lead"])}
    related = 0
    for name, reference in (("task", "WhoId"), ("event", "WhoId"), ("campaignmember", "LeadId")):
        rows = sum(1 for r in org.records(schema[name]) if r.values.get(reference) in leads)
        related += _pages(rows, 2000)
    terms = {
        "start-up": 3,
        "lead pages": _pages(len(leads), 2000),
        "activity reads": related,
        "updates": _pages(int(run.report.get("written", 0)), 200),
        "task upserts": _pages(int(run.report.get("tasks_created", 0)), 200),
    }
    return sum(terms.values()), terms


# -- steady state ------------------------------------------------------------------------------------


def touch_some(bench: Bench, count: int) -> None:
    """``count`` people, spread over the portal or org, ask for a demo (so their scores move)."""
    now = datetime.now(UTC).isoformat()
    demo = {"type": "form_submission", "name": "Request a demo", "at": now}
    if isinstance(bench.sandbox, HubSpotSandbox):
        people = [r.id for r in bench.sandbox.portal.all_records(CONTACTS) if not r.archived]
        key = "contactId"
    else:
        org = bench.sandbox.org
        people = [r.id for r in org.records(org.schema.objects["lead"]) if not r.values.get("IsConverted")]
        key = "leadId"
    chosen = people[:: max(1, len(people) // max(count, 1))][:count]
    bench.sandbox.add_activities([{key: person, **demo} for person in chosen])


def _is_search(label: str) -> bool:
    return label.endswith("/search")


def _read_calls(crm: str, calls: Counter[str]) -> int:
    """Calls that read (everything but writes)."""
    if crm == "hubspot":
        return sum(
            n for label, n in calls.items() if label.startswith("GET") or "search" in label or "batch/read" in label
        )
    return sum(n for label, n in calls.items() if label.startswith("GET"))


# -- printing ------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--crm", choices=("hubspot", "salesforce"), default="hubspot")
    parser.add_argument("--contacts", type=int, default=10_000, help="synthetic people (default 10,000)")
    parser.add_argument("--rate-per-10s", type=int, default=190, help="HubSpot's 10-second budget (0: off)")
    parser.add_argument("--search-rate-per-s", type=int, default=5, help="HubSpot's search budget (0: off)")
    parser.add_argument(
        "--no-limits",
        action="store_true",
        help=f"HubSpot: {UNLIMITED_PER_10S} per 10 s and searches unlimited, so nothing waits (large sizes)",
    )
    parser.add_argument("--daily-quota", type=int, default=100_000, help="Salesforce calls per 24 h to account against")
    parser.add_argument(
        "--api-budget", type=float, default=None, help="HANDOFF_API_BUDGET for the runs (default: its own)"
    )
    parser.add_argument(
        "--bulk-threshold",
        type=int,
        default=None,
        help="Salesforce: HANDOFF_SALESFORCE_BULK_THRESHOLD for the runs (0: REST only; default: its own)",
    )
    parser.add_argument("--cycles", type=int, default=3, help="quiet sync cycles after the backfill")
    parser.add_argument(
        "--touched",
        type=int,
        default=100,
        help="people who ask for a demo before the last cycle (0: no such cycle, for backfill figures alone)",
    )
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds any one Handoff run may take")
    args = parser.parse_args()
    if args.crm == "salesforce":
        args.rate_per_10s = args.search_rate_per_s = 0  # no short window; the quota is daily
    elif args.no_limits:
        args.rate_per_10s, args.search_rate_per_s = UNLIMITED_PER_10S, 0

    with tempfile.TemporaryDirectory(prefix="handoff-bench-") as state_dir:
        started = time.perf_counter()
        bench = start(args, Path(state_dir))
        print(f"sandbox: {args.crm}, {args.contacts} people, ready in {time.perf_counter() - started:.1f} s")
        try:
            backfill = bench.handoff("backfill")
            state_bytes = sum(p.stat().st_size for p in Path(state_dir).glob("state.sqlite*"))
            if isinstance(bench.sandbox, HubSpotSandbox):
                floor, terms = hubspot_floor(bench.sandbox, backfill)
            else:
                floor, terms = salesforce_floor(bench.sandbox, backfill)
            quiet = [bench.handoff("sync", "--once") for _ in range(args.cycles)]
            busy: Run | None = None
            if args.touched:
                touch_some(bench, args.touched)
                time.sleep(SAFETY_LAG_S + 1)  # a cycle reads changes once they are older than Handoff's safety lag
                busy = bench.handoff("sync", "--once")
        finally:
            bench.server.stop()
            if isinstance(bench.sandbox, SalesforceSandbox):
                bench.sandbox.close()

    people = args.contacts
    print("backfill calls by endpoint:")
    for label, count in sorted(backfill.calls.items(), key=lambda item: -item[1]):
        print(f"  {count:>7}  {label}")
    print("floor: " + ", ".join(f"{name} {count}" for name, count in terms.items()))
    print(
        f"backfill report: read {backfill.report.get('read')}, written {backfill.report.get('written')}, "
        f"tasks {backfill.report.get('tasks_created')}, status {backfill.report.get('status')}"
    )
    for i, cycle in enumerate(quiet, 1):
        print(f"quiet cycle {i}: {cycle.total} calls in {cycle.seconds:.1f} s, {dict(cycle.calls)}")
    if busy is not None:
        print(
            f"cycle after {args.touched} touched: {busy.total} calls, read {busy.report.get('read')}, "
            f"written {busy.report.get('written')}, {dict(busy.calls)}"
        )
    marks = rss_by_tenth(backfill.rss, people)
    if marks:
        print("backfill rss by contacts read: " + ", ".join(f"{n} {mb:.0f} MB" for n, mb in marks))
    growth = rss_growth_per_10k(backfill.rss, people)

    total = backfill.total
    rate_limited = backfill.statuses.get("429", 0)
    headline = {
        "backfill calls": f"{total}",
        "floor": f"{floor}",
        "calls / floor": f"{total / floor:.2f}" if floor else "n/a",
        "calls per contact": f"{total / people:.4f}" if people else "n/a",
    }
    if args.crm == "hubspot":
        searches = sum(n for label, n in backfill.calls.items() if _is_search(label))
        share = args.api_budget if args.api_budget is not None else Settings.model_fields["handoff_api_budget"].default
        if args.rate_per_10s:
            budget = max(1, math.floor(args.rate_per_10s * share))  # what Handoff's limiter allows itself
            general = total - searches
            span = max(backfill.calling_s, 1e-9)
            headline[f"rate share (of Handoff's {budget} per 10 s, first call to last)"] = (
                f"{general / (span * budget / 10):.0%}"
            )
            headline["rate share (of the CRM's limit, first call to last)"] = (
                f"{general / (span * args.rate_per_10s / 10):.0%}"
            )
            headline["rate share (of Handoff's budget, whole process)"] = (
                f"{general / (backfill.seconds * budget / 10):.0%}"
            )
            # the sandbox's own answering time taken out: what Handoff sustains against a CRM that keeps up
            own = max(span - backfill.answering_s, 1e-9) * budget / 10
            headline["rate share without the sandbox's answer time"] = f"{general / own:.0%}"
        else:
            headline["rate share (10 s budget)"] = "n/a (limits off)"
        if args.search_rate_per_s and searches:
            per_s = max(1, math.floor(args.search_rate_per_s * share))
            headline[f"search rate share (of Handoff's {per_s}/s)"] = (
                f"{searches / (max(backfill.calling_s, 1e-9) * per_s):.0%}"
            )
    else:
        per_contact = total / people if people else 0
        headline["daily quota share"] = f"{total / args.daily_quota:.1%} of {args.daily_quota}"
        headline["contacts per day at the quota"] = f"{args.daily_quota / per_contact:.0f}" if per_contact else "n/a"
    busy_written = int(busy.report.get("written", 0)) if busy is not None else 0
    headline.update(
        {
            "429 share": f"{rate_limited / total:.1%}" if total else "n/a",
            "backfill seconds": f"{backfill.seconds:.1f} ({backfill.calling_s:.1f} from first call to last)",
            "contacts per second": f"{people / backfill.seconds:.1f}",
            "calls per second (first call to last)": f"{total / max(backfill.calling_s, 1e-9):.1f}",
            "handoff cpu seconds": f"{backfill.cpu_s:.1f}",
            "sandbox answering seconds": f"{backfill.answering_s:.1f}",
            "peak rss MB": f"{backfill.peak_rss_mb:.0f}",
            "rss growth per 10k contacts (second half of the backfill)": (
                f"{growth[0]:.2f} MB (from {growth[1]} to {growth[2]} contacts)" if growth else "n/a"
            ),
            "state bytes per contact": f"{state_bytes / people:.0f}" if people else "n/a",
            "calls per quiet cycle": f"{sum(c.total for c in quiet) / len(quiet):.1f}" if quiet else "n/a",
            "reads per written record": (
                "n/a (no cycle after touching people)"
                if busy is None
                else f"{_read_calls(args.crm, busy.calls) / busy_written:.2f}"
                if busy_written
                else "n/a (nothing written)"
            ),
        }
    )
    for name, value in headline.items():
        print(f"{name}: {value}")
    return 0 if backfill.report.get("status") == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
