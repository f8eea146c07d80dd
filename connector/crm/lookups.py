"""Slow-changing CRM facts (property list, owners) read through the state store's lookups when kept there."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from connector.crm.base import Lookups


class KeptLookups:
    """Reads a CRM fact from ``lookups`` while it is younger than ``max_age``, else from the CRM (keeping it).

    Without lookups, or with a ``max_age`` of zero, every read goes to the CRM.
    """

    def __init__(self) -> None:
        self.lookups: Lookups | None = None
        self.max_age = timedelta(0)

    def keep_in(self, lookups: Lookups, max_age: timedelta) -> None:
        self.lookups, self.max_age = lookups, max_age

    @property
    def kept(self) -> bool:
        """Whether facts are kept between reads at all."""
        return self.lookups is not None and self.max_age > timedelta(0)

    def read(
        self, name: str, fetch: Callable[[], Any], fresh: bool = False, usable: Callable[[Any], bool] = lambda _: True
    ) -> Any:
        """The fact named ``name``: kept if young enough and ``usable`` (and not ``fresh``), else fetched and kept."""
        if not fresh and self.kept and self.lookups is not None:
            kept = self.lookups.get(name, self.max_age)
            if kept is not None and usable(kept):
                return kept
        value = fetch()
        self.keep(name, value)
        return value

    def keep(self, name: str, value: Any) -> None:
        """Keep ``value`` under ``name`` as read now (what the adapter itself just made the CRM hold)."""
        if self.lookups is not None:
            self.lookups.put(name, value)
