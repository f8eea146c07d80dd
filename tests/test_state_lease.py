"""The replicas' lease on each store: one holder at a time, and freed when its holder dies."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

from builders import REPO
from sqlalchemy import create_engine, text

from connector.state import Store
from connector.state.lease import LEASE_LOCK

#: a replica in its own process: it takes the lease, says so, and holds it until killed
HOLDER = """
import sys
from datetime import UTC, datetime
from connector.state import Store
lease = Store(sys.argv[1], "hubspot", lambda: datetime.now(UTC)).lease()
assert lease.acquire()
print("held", flush=True)
sys.stdin.read()
"""


def now() -> datetime:
    return datetime.now(UTC)


def holder_sessions(url: str) -> list[int]:
    """PostgreSQL sessions holding the lease of this schema's HubSpot connection."""
    engine = create_engine(url)
    with engine.connect() as conn:
        pids = conn.execute(
            text(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = :space "
                "AND objid = ((hashtext(current_schema() || ':' || :crm))::bigint & 4294967295)::oid"
            ),
            {"space": LEASE_LOCK, "crm": "hubspot"},
        ).scalars()
        found = list(pids)
    engine.dispose()
    return found


def end_session(url: str, pid: int) -> None:
    """End a PostgreSQL session and wait until it is gone, as the server does when its client dies."""
    engine = create_engine(url)
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": pid})
    engine.dispose()


def test_one_holder_at_a_time_and_the_next_after_a_release(state_url):
    first, second = Store(state_url, "hubspot", now), Store(state_url, "hubspot", now)
    mine, theirs = first.lease(), second.lease()
    assert mine.acquire()
    assert mine.acquire()  # confirming is not taking it twice
    assert not theirs.acquire()
    mine.release()
    assert theirs.acquire()
    assert not mine.acquire()
    other_crm = Store(state_url, "salesforce", now).lease()
    assert other_crm.acquire()  # each CRM connection has its own
    for lease in (theirs, other_crm):
        lease.release()
    first.close()
    second.close()


def test_a_lease_held_by_a_killed_process_is_taken_over(state_url):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, state_url], cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        store = Store(state_url, "hubspot", now)
        lease = store.lease()
        assert not lease.acquire()
        sessions = holder_sessions(state_url) if state_url.startswith("postgresql") else []
        holder.kill()
        holder.wait(30)
        for pid in sessions:  # its server session ends on its own; wait until it has
            end_session(state_url, pid)
        assert lease.acquire()
        lease.release()
        store.close()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(30)


def test_a_replica_whose_database_session_ended_is_active_no_longer(postgresql_url):
    first, second = Store(postgresql_url, "hubspot", now), Store(postgresql_url, "hubspot", now)
    lost, standby = first.lease(), second.lease()
    assert lost.acquire()
    [session] = holder_sessions(postgresql_url)
    end_session(postgresql_url, session)  # a network cut or a database restart ends it just the same
    assert standby.acquire()
    assert not lost.acquire()
    standby.release()
    assert lost.acquire()  # and it can come back as the active replica later
    lost.release()
    first.close()
    second.close()
