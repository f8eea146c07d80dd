"""Handoff wired to a sandbox portal as ``handoff run`` would be, on the portal's manual clock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from builders import DEFAULT_RULES

from connector.cli.runtime import Runtime, build, hubspot_adapter, salesforce_adapter

ADAPTERS = {"hubspot": hubspot_adapter, "salesforce": salesforce_adapter}


def deploy(portal: Any, state: Path, **settings: Any) -> Runtime:
    """A started runtime for ``portal`` with its state in the SQLite file ``state``.

    Handoff, its rate limiter, its retries and its alert sender all run on the portal's clock, so
    nothing sleeps; ``settings`` override fields of the portal's settings.
    """
    clock = portal.clock
    config = portal.settings(f"sqlite:///{state}", DEFAULT_RULES).model_copy(update=settings)
    adapter = ADAPTERS[portal.crm](config, sleep=clock.advance, monotonic=clock, clock=clock.datetime)
    runtime = build(config, clock=clock.datetime, adapter=adapter, sleep=clock.advance)
    adapter.start()
    return runtime
