"""Structured logs: JSON lines for machines, a readable console on a terminal, secrets never.

Everything is rendered by one stdlib handler, so records from structlog loggers
and from libraries that use ``logging`` (SQLAlchemy, urllib3, APScheduler, ...)
come out in the same format and pass through the same secret redaction.
Handoff's own loggers (``structlog.get_logger(__name__)`` under ``connector``)
log from INFO; libraries only from WARNING, so their chatter stays out.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any, Literal, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from connector.config.redact import REDACTED, redact_url

LogFormat = Literal["auto", "json", "console"]

APP_LOGGER = "connector"
_HANDLER_NAME = "handoff"  # marks the handler we own, so reconfiguring replaces it and leaves others alone

# A key whose name says "secret" has its whole value hidden, whatever its type.
_SECRET_KEY = re.compile(
    r"token|passw|secret|authorization|session[_-]?id|api[_-]?key|cookie|credential", re.IGNORECASE
)
# Secrets that turn up inside ordinary text (error messages, headers, URLs): only the secret part is hidden,
# so the rest of the message still tells the admin what happened.
_SECRET_TEXT = (
    (re.compile(r"\b(bearer\s+)[^\s'\",;]+", re.IGNORECASE), rf"\g<1>{REDACTED}"),
    (re.compile(r"\bpat-[\w-]+"), REDACTED),  # HubSpot private-app tokens: pat-<region>-<uuid>
)


def redact_text(text: str) -> str:
    """``text`` with bearer tokens, HubSpot private-app tokens and the credentials inside URLs replaced."""
    for pattern, replacement in _SECRET_TEXT:
        text = pattern.sub(replacement, text)
    return redact_url(text)


def _redact(key: str, value: Any) -> Any:
    if _SECRET_KEY.search(key):
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: _redact(str(k), v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_redact("", v) for v in value]
    return value


def redact_secrets(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: hide secret-named keys and secret-looking text, nested values included."""
    return {key: _redact(key, value) for key, value in event_dict.items()}


def _is_tty(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty is not None and isatty())


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]  # generic only in typeshed, not at run time
    """Writes each line to ``sys.stderr`` as it is at that moment, not as it was when logging was set up.

    Whoever swaps stderr for a while (a test runner capturing a command) gets the
    lines meanwhile, and nobody writes to a stream that was closed since.
    """

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass  # the base class assigns it; stderr is always looked up instead


def configure_logging(fmt: LogFormat = "auto", stream: TextIO | None = None) -> None:
    """Route structlog and stdlib logging to ``stream`` (default: stderr): JSON lines, or a console renderer on a TTY.

    Logs never go to stdout, which carries what a command prints (summaries,
    JSON, scores), so ``handoff sync --once --json | jq`` reads only the summary.
    Every line carries an ISO-8601 UTC ``timestamp``, ``level``, ``event`` and
    ``logger``. Calling it again replaces the previous configuration.
    """
    shared: list[Processor] = [
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    tty = _is_tty(stream if stream is not None else sys.stderr)
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json" or (fmt == "auto" and not tty)
        else structlog.dev.ConsoleRenderer(colors=tty)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            # tracebacks become plain text before redaction: the console renderer's own
            # pretty tracebacks would print local variables, tokens included
            structlog.processors.format_exc_info,
            redact_secrets,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    handler.setFormatter(formatter)
    handler.set_name(_HANDLER_NAME)

    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger(APP_LOGGER).setLevel(logging.INFO)
    logging.captureWarnings(True)  # SQLAlchemy's and urllib3's warnings are `warnings`, not log records

    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # not cached: module-level loggers must follow a later reconfiguration (CLI, tests)
        cache_logger_on_first_use=False,
    )
