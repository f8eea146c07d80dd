"""Where labelled leads come from: the one module of connector.learning that reads anything.

``--from FILE.jsonl`` (or ``-`` for standard input) reads a labelled leads file; ``--from state``
reads the episodes the state store keeps (``HANDOFF_STATE_URL``, ``HANDOFF_CRM``) and turns them
into labelled leads exactly as ``handoff export --labelled`` writes them. A new source is a
function here returning a :class:`LabelledSet`, nothing else in the package changes.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from connector.config.files import ConfigError
from connector.config.settings import load_settings
from connector.learning.episodes import labelled_from_episodes
from connector.learning.labelled import LabelledSet, parse_labelled
from connector.outcomes.verdict import OutcomeRule
from connector.state import StateError, Store

#: the name that selects the state store as the source
STATE = "state"


class SourceError(Exception):
    """Labelled leads cannot be read from this source; the message is one line for the admin."""


def labelled_from_store(store: Store, as_of: datetime, rule: OutcomeRule, since: datetime | None = None) -> LabelledSet:
    """The store's decided episodes (started on or after ``since``) as labelled leads, as of ``as_of``."""
    episodes = store.episodes.all(since)
    records = store.records.get(sorted({e.record_id for e in episodes}))
    leads = {record_id: state.lead for record_id, state in records.items()}
    return labelled_from_episodes(episodes, leads, as_of, rule, STATE)


def open_store() -> Store:
    """The state store the settings name; SourceError (one line per problem) when it cannot be opened."""
    try:
        settings = load_settings()
        return Store(settings.handoff_state_url.get_secret_value(), settings.handoff_crm, lambda: datetime.now(UTC))
    except ConfigError as exc:
        raise SourceError("\n".join(str(p) for p in exc.problems)) from None
    except StateError as exc:
        raise SourceError(str(exc)) from None


def load_labelled(
    spec: str, as_of: datetime | None = None, rule: OutcomeRule | None = None, since: datetime | None = None
) -> LabelledSet:
    """Labelled leads from ``spec``: a JSON-lines file, ``-`` for standard input, or ``state``.

    ``as_of``, ``rule`` and ``since`` apply to the state store only: when outcomes are judged, what
    counts as converted, and which episodes (by start) are read.
    """
    if spec == STATE:
        store = open_store()
        try:
            return labelled_from_store(store, as_of or datetime.now(UTC), rule or OutcomeRule(), since)
        finally:
            store.close()
    if spec == "-":
        return parse_labelled(sys.stdin, "<stdin>")
    path = Path(spec)
    try:
        with path.open(encoding="utf-8") as stream:
            return parse_labelled(stream, spec)
    except OSError as exc:
        raise SourceError(f"{spec}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise SourceError(f"{spec}: not UTF-8 text") from None
