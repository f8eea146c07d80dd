"""Owner routing: who gets the task of a record nobody (or nobody who can take it) owns.

Pure. The rules file lists reps to take turns; a rep with weight 2 takes two
turns per round. The turns form a fixed cycle (smooth weighted round-robin, so
a heavy rep's turns are spread through the round rather than bunched), and the
rotation is just a position in that cycle: the store keeps it, so the next
unowned lead goes to the next rep whatever record it is, and reps the CRM says
cannot take tasks (deactivated, a queue) are passed over.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field


class WeightedOwner(BaseModel):
    """A rep in the rotation taking ``weight`` turns per round."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    weight: int = Field(1, ge=1, le=100)


class Owners(BaseModel):
    """Who gets a task when the record has no owner who can take it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    round_robin: list[str | WeightedOwner] = Field(
        default_factory=list, description="owner ids (or {id, weight}) taking turns on unowned leads"
    )
    fallback: str | None = Field(None, description="owner id used when no one in the rotation can take the task")

    @property
    def configured(self) -> bool:
        """Whether the rules name anyone to give unowned leads to."""
        return bool(self.round_robin) or self.fallback is not None

    @property
    def reps(self) -> tuple[str, ...]:
        """The reps in the rotation, each once, in the rules' order."""
        return tuple(o if isinstance(o, str) else o.id for o in self.round_robin)

    def turns(self) -> tuple[str, ...]:
        """One round of the rotation: each rep as many times as its weight, spread evenly."""
        weights = [(o, 1) if isinstance(o, str) else (o.id, o.weight) for o in self.round_robin]
        total = sum(w for _, w in weights)
        credit = [0] * len(weights)
        round_: list[str] = []
        for _ in range(total):
            credit = [c + w for c, (_, w) in zip(credit, weights, strict=True)]
            best = max(range(len(weights)), key=lambda i: credit[i])  # first of equals: list order
            credit[best] -= total
            round_.append(weights[best][0])
        return tuple(round_)


@dataclass(frozen=True)
class Turns:
    """Owners given to records in rotation order, and the position after the last of them."""

    owners: dict[str, str]
    position: int


def take_turns(position: int, keys: Sequence[str], turns: Sequence[str], can_take: Callable[[str], bool]) -> Turns:
    """Give each key (in order) the next rep in ``turns`` from ``position`` who ``can_take`` a task.

    A rep who cannot is skipped, and the rotation moves past them. When nobody
    in the round can, keys get no owner and the position stays where it was.
    """
    owners: dict[str, str] = {}
    if not turns:
        return Turns(owners, position)
    for key in keys:
        for step in range(len(turns)):
            candidate = turns[(position + step) % len(turns)]
            if can_take(candidate):
                owners[key] = candidate
                position += step + 1
                break
        else:
            break  # nobody in the round can take a task: the rest would find no one either
    return Turns(owners, position)
