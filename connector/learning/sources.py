"""Where labelled leads come from: the one module of connector.learning that reads anything.

``--from FILE.jsonl`` (or ``-`` for standard input) works today. ``--from state`` will read the
episodes the state store keeps once it records outcomes; until then it says so in one line. A new
source is a function here returning a :class:`LabelledSet`, nothing else in the package changes.
"""

from __future__ import annotations

import sys
from pathlib import Path

from connector.learning.labelled import LabelledSet, parse_labelled

#: the name that selects the state store as the source
STATE = "state"


class SourceError(Exception):
    """Labelled leads cannot be read from this source; the message is one line for the admin."""


def load_labelled(spec: str) -> LabelledSet:
    """Labelled leads from ``spec``: a JSON-lines file, ``-`` for standard input, or ``state``."""
    if spec == STATE:
        raise SourceError(
            "--from state: the state store does not keep outcomes yet; pass a labelled leads file (--from FILE.jsonl)"
        )
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
