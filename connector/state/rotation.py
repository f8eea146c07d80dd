"""The owner rotation: where it stands, and which rep it gave each task.

A pick is made once per task key and recorded before the task is claimed, so a
task planned again (after a crash, or by another replica) goes to the same rep.
Picks for new keys are made under a lock on the rotation's row (a row lock on
PostgreSQL, the write lock on SQLite, both taken by the first statement), so two
replicas never hand out the same turn.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import Connection, select, update

from connector.policy.routing import Turns
from connector.state.database import Database, chunks
from connector.state.schema import rotation, rotation_picks

#: position, keys still without a rep -> the reps they get and the new position
Chooser = Callable[[int, Sequence[str]], Turns]


class Rotation:
    def __init__(self, db: Database):
        self._db = db

    def assign(self, keys: Sequence[str], choose: Chooser) -> dict[str, str]:
        """The rep of each key: the one picked before, else the next turns ``choose`` gives (recorded).

        Keys ``choose`` leaves without a rep are left out (and get a turn next time).
        """
        if not keys:
            return {}
        now = self._db.clock()
        with self._db.connect() as conn:
            self._db.insert_new(conn, rotation, [{"crm": self._db.crm, "position": 0, "updated_at": now}], "crm")
        with self._db.connect() as conn:
            # the lock first: whoever waited here reads the picks and the position the other one left
            position = conn.execute(
                update(rotation)
                .where(rotation.c.crm == self._db.crm)
                .values(updated_at=now)
                .returning(rotation.c.position)
            ).scalar_one()
            picked = _picks(conn, keys)
            missing = [k for k in dict.fromkeys(keys) if k not in picked]
            if not missing:
                return picked
            turns = choose(position, missing)
            rows = [
                {"key": k, "crm": self._db.crm, "owner_id": owner, "created_at": now}
                for k, owner in turns.owners.items()
            ]
            self._db.insert_new(conn, rotation_picks, rows, "key")
            conn.execute(update(rotation).where(rotation.c.crm == self._db.crm).values(position=turns.position))
        return {**picked, **turns.owners}

    def preview(self, keys: Sequence[str], choose: Chooser) -> dict[str, str]:
        """What ``assign`` would answer now, recording nothing (a dry run)."""
        with self._db.connect() as conn:
            position = conn.execute(select(rotation.c.position).where(rotation.c.crm == self._db.crm)).scalar()
            picked = _picks(conn, keys)
        missing = [k for k in dict.fromkeys(keys) if k not in picked]
        return {**picked, **choose(position or 0, missing).owners}

    def position(self) -> int:
        """How many turns the rotation has handed out (or skipped) so far."""
        with self._db.connect() as conn:
            found = conn.execute(select(rotation.c.position).where(rotation.c.crm == self._db.crm)).scalar()
        return found or 0


def _picks(conn: Connection, keys: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for chunk in chunks(list(dict.fromkeys(keys))):
        rows = conn.execute(
            select(rotation_picks.c.key, rotation_picks.c.owner_id).where(rotation_picks.c.key.in_(chunk))
        )
        found.update((r.key, r.owner_id) for r in rows)
    return found
