"""Giving tasks an owner: the record's owner if the CRM lets them take it, else a turn in the rotation.

The rotation's turns come from the rules (``owners: round_robin``); the state
store keeps its position and each task's pick, so the pick is made once per
task key and holds across crashes and replicas. Reps the adapter says cannot
take a task (deactivated, a queue) are passed over; when no one can, the task
goes to ``owners: fallback`` if that one can, else it is created unassigned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from connector.crm.base import CrmAdapter
from connector.model import TaskSpec
from connector.policy.routing import Owners, Turns, take_turns
from connector.state import Store


class Router:
    """Resolves the owner of the tasks a run is about to create."""

    def __init__(self, adapter: CrmAdapter, store: Store):
        self.adapter = adapter
        self.store = store

    def route(self, tasks: Sequence[TaskSpec], owners: Owners, record: bool = True) -> dict[str, TaskSpec]:
        """Each task by key with its owner resolved; ``record=False`` (a dry run) previews the rotation."""
        routed = {t.key: t for t in tasks if self.adapter.assignable(t.owner_id)}
        waiting = [t for t in tasks if t.key not in routed]
        turns = owners.turns()
        picks: dict[str, str] = {}
        if waiting and turns:
            # asked before the rotation is locked: the answer may need the CRM (a re-read of its owners)
            able = {rep for rep in set(turns) if self.adapter.assignable(rep)}

            def choose(position: int, keys: Sequence[str]) -> Turns:
                return take_turns(position, keys, turns, able.__contains__)

            keys = [t.key for t in waiting]
            rotation = self.store.rotation
            picks = rotation.assign(keys, choose) if record else rotation.preview(keys, choose)
        fallback = owners.fallback if self.adapter.assignable(owners.fallback) else None
        for task in waiting:
            routed[task.key] = replace(task, owner_id=picks.get(task.key, fallback))
        return routed
