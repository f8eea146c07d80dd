"""Log lines as an admin's log pipeline and terminal see them, secrets never included."""

from __future__ import annotations

import io
import json
import logging
import re
import warnings
from collections.abc import Iterator

import pytest
import structlog

from connector.ops.logs import configure_logging


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.getLogger("connector").setLevel(logging.NOTSET)
    logging.captureWarnings(False)
    structlog.reset_defaults()


def json_lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


log = structlog.get_logger("connector.tests")


def test_json_lines_carry_utc_timestamp_level_event_and_logger_when_not_a_tty():
    out = io.StringIO()
    configure_logging("auto", stream=out)
    log.info("sync ok", written=2)
    [line] = json_lines(out)
    assert line["event"] == "sync ok"
    assert line["level"] == "info"
    assert line["logger"] == "connector.tests"
    assert line["written"] == 2
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z", line["timestamp"])


def test_a_terminal_gets_the_coloured_console_renderer():
    out = Terminal()
    configure_logging("auto", stream=out)
    log.info("sync ok", written=2)
    text = out.getvalue()
    assert "sync ok" in text and "written" in text
    assert "\x1b[" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


def test_json_can_be_forced_on_a_terminal_and_console_off_one():
    tty = Terminal()
    configure_logging("json", stream=tty)
    log.info("forced json")
    assert json_lines(tty)[0]["event"] == "forced json"

    pipe = io.StringIO()
    configure_logging("console", stream=pipe)
    log.info("forced console")
    text = pipe.getvalue()
    assert "forced console" in text
    assert not text.lstrip().startswith("{")
    assert "\x1b[" not in text  # no colour codes into a file


def test_library_warnings_come_out_formatted_and_their_info_chatter_does_not():
    out = io.StringIO()
    configure_logging("json", stream=out)
    logging.getLogger("sqlalchemy.pool").warning("pool %s overflowed", "main")
    logging.getLogger("urllib3.connectionpool").info("Starting new HTTPS connection")
    logging.getLogger("connector.sync.cycle").info("handoff's own info")
    lines = json_lines(out)
    assert [(x["logger"], x["level"], x["event"]) for x in lines] == [
        ("sqlalchemy.pool", "warning", "pool main overflowed"),
        ("connector.sync.cycle", "info", "handoff's own info"),
    ]


def test_python_warnings_are_routed_through_the_log():
    out = io.StringIO()
    configure_logging("json", stream=out)
    with warnings.catch_warnings():
        warnings.simplefilter("always")  # shown even if the test run turns warnings into errors
        warnings.warn("Unverified HTTPS request", UserWarning, stacklevel=2)
    [line] = json_lines(out)
    assert line["logger"] == "py.warnings"
    assert line["level"] == "warning"
    assert "Unverified HTTPS request" in line["event"]


SECRETS = [
    "pat-na1-0f1e2d3c-aaaa-bbbb-cccc-123456789abc",
    "eyJhbGciOi.session.sig",
    "hunter2",
    "00Dxx0000001gPL!AQ4AQ",
    "s3cr3t-pw",
]


def log_every_kind_of_secret() -> None:
    log.info(
        "calling the CRM",
        access_token=SECRETS[0],
        password=SECRETS[2],
        client_secret="anything",
        session_id=SECRETS[3],
        api_key="anything",
        headers={"Authorization": f"Bearer {SECRETS[1]}", "Accept": "application/json"},
        detail=f"401 for Authorization: Bearer {SECRETS[1]}",
        state_url=f"postgresql+psycopg://handoff:{SECRETS[4]}@db:5432/handoff",
    )
    log.warning(f"token {SECRETS[0]} was rejected")
    try:
        raise RuntimeError(f"request failed with bearer {SECRETS[1]}")
    except RuntimeError:
        log.exception("run failed")


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_secrets_never_reach_the_log(fmt):
    out = io.StringIO()
    configure_logging(fmt, stream=out)
    log_every_kind_of_secret()
    text = out.getvalue()
    for secret in SECRETS:
        assert secret not in text
    assert "[redacted]" in text
    assert "RuntimeError" in text  # the traceback itself still comes out


def test_redaction_keeps_what_is_not_secret():
    out = io.StringIO()
    configure_logging("json", stream=out)
    log_every_kind_of_secret()
    first, warning, failure = json_lines(out)
    assert first["access_token"] == first["password"] == first["client_secret"] == "[redacted]"
    assert first["session_id"] == first["api_key"] == "[redacted]"
    assert first["headers"] == {"Authorization": "[redacted]", "Accept": "application/json"}
    assert first["detail"] == "401 for Authorization: Bearer [redacted]"
    assert first["state_url"] == "postgresql+psycopg://[redacted]@db:5432/handoff"
    assert warning["event"] == "token [redacted] was rejected"
    assert "bearer [redacted]" in failure["exception"]


def test_reconfiguring_replaces_the_previous_handler():
    first, second = io.StringIO(), io.StringIO()
    configure_logging("json", stream=first)
    configure_logging("json", stream=second)
    log.info("once")
    assert first.getvalue() == ""
    assert [x["event"] for x in json_lines(second)] == ["once"]


def test_every_credential_inside_a_url_is_hidden_the_host_stays():
    out = io.StringIO()
    configure_logging("json", stream=out)
    log.warning("cannot reach https://ghp_abc123@crm.example:8443/api or http://ana:pw@db/x")
    [line] = json_lines(out)
    assert line["event"] == "cannot reach https://[redacted]@crm.example:8443/api or http://[redacted]@db/x"


def test_logs_go_to_the_stderr_of_the_moment_not_stdout(monkeypatch, capsys):
    # stderr is looked up for every line: a test runner's capture gets them while it lasts,
    # and once it is closed and gone, the lines go to the stderr that replaced it
    captured = io.StringIO()
    monkeypatch.setattr("sys.stderr", captured)
    configure_logging("json")
    log.info("while captured")
    assert json_lines(captured)[0]["event"] == "while captured"
    after = io.StringIO()
    monkeypatch.setattr("sys.stderr", after)
    captured.close()
    log.info("after the capture")
    assert json_lines(after)[0]["event"] == "after the capture"
    assert capsys.readouterr().out == ""
