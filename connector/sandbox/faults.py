"""Injected faults: errors at a rate, added latency, dropped connections."""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Faults:
    """What to inject into API calls (never into the control API).

    ``error_rate`` of calls are answered with ``status``; ``reset_rate`` of calls get
    their connection reset with no answer; every call waits ``latency_ms`` first.
    """

    error_rate: float = 0.0
    status: int = 503
    latency_ms: int = 0
    reset_rate: float = 0.0

    @classmethod
    def from_json(cls, data: Any) -> Faults:
        """Build from the control API's JSON, raising ValueError on bad fields."""
        if not isinstance(data, dict):
            raise ValueError("faults must be a JSON object")
        unknown = set(data) - {"error_rate", "status", "latency_ms", "reset_rate"}
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        faults = cls(
            error_rate=float(data.get("error_rate", 0.0)),
            status=int(data.get("status", 503)),
            latency_ms=int(data.get("latency_ms", 0)),
            reset_rate=float(data.get("reset_rate", 0.0)),
        )
        if not (0 <= faults.error_rate <= 1 and 0 <= faults.reset_rate <= 1):
            raise ValueError("error_rate and reset_rate must be between 0 and 1")
        if not 400 <= faults.status <= 599:
            raise ValueError("status must be an HTTP error status (400-599)")
        if faults.latency_ms < 0:
            raise ValueError("latency_ms must not be negative")
        return faults

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class FaultDecision:
    """What happens to one call."""

    delay_s: float = 0.0
    drop: bool = False
    status: int | None = None


_NO_FAULT = FaultDecision()


class FaultInjector:
    """Draws a :class:`FaultDecision` per call from a seeded generator (reproducible runs)."""

    def __init__(self, seed: int = 0) -> None:
        self._seed = seed
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.faults = Faults()

    def configure(self, faults: Faults) -> None:
        """Replace the active faults."""
        self.faults = faults

    def reset(self) -> None:
        """No faults, and the generator back at its seed."""
        with self._lock:
            self.faults = Faults()
            self._rng = random.Random(self._seed)

    def decide(self) -> FaultDecision:
        """The fate of the next call."""
        faults = self.faults
        if not (faults.error_rate or faults.reset_rate or faults.latency_ms):
            return _NO_FAULT
        with self._lock:
            drop = faults.reset_rate > 0 and self._rng.random() < faults.reset_rate
            error = not drop and faults.error_rate > 0 and self._rng.random() < faults.error_rate
        return FaultDecision(
            delay_s=faults.latency_ms / 1000.0,
            drop=drop,
            status=faults.status if error else None,
        )
