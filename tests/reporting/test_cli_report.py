"""``handoff report`` as an admin runs it: episodes from a JSON-lines file (or the state store), a page and/or JSON out."""

from __future__ import annotations

import json

import pytest
from episode_builders import ten_episodes
from typer.testing import CliRunner

from connector.cli import app

NOW = ["--now", "2026-10-15T12:00:00Z"]


@pytest.fixture
def files(tmp_path):
    data = ten_episodes()
    episodes = tmp_path / "episodes.jsonl"
    episodes.write_text("".join(json.dumps(e.to_json()) + "\n" for e in data.episodes), encoding="utf-8")
    leads = tmp_path / "leads.json"
    leads.write_text(json.dumps(dict(data.lead_counts)), encoding="utf-8")
    return episodes, leads


def invoke(*args):
    return CliRunner().invoke(app, ["report", *args])


def test_json_output_has_the_figures(files):
    episodes, leads = files
    result = invoke("--from", str(episodes), "--leads", str(leads), "--json", *NOW)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["funnel"]["leads"] == 40 and data["funnel"]["mql"] == 8 and data["funnel"]["sql"] == 7
    assert data["conversion"]["mql_to_sql"] == 0.625
    assert (data["speed_to_lead"]["median_minutes"], data["speed_to_lead"]["p90_minutes"]) == (30, 168)
    assert data["auc"] == 0.85
    assert [r["name"] for r in data["rules"]] == ["demo", "pricing", "vp", "webinar"]


def test_writes_the_page_and_says_where(files, tmp_path):
    episodes, leads = files
    out = tmp_path / "reports" / "funnel.html"
    result = invoke("--from", str(episodes), "--leads", str(leads), "--out", str(out), *NOW)
    assert result.exit_code == 0, result.output
    assert "10 episodes, leads 40, MQL 8, SQL 7, opportunities 4, won 2" in result.stdout
    assert str(out) in result.stdout
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_since_and_won_as_conversion(files):
    episodes, _ = files
    result = invoke("--from", str(episodes), "--json", "--since", "2026-10-01", *NOW)
    assert json.loads(result.stdout)["funnel"]["mql"] == 0  # every episode is from the September cohort
    result = invoke("--from", str(episodes), "--json", "--converted-on", "won", *NOW)
    data = json.loads(result.stdout)
    assert (data["decided"], data["converted"]) == (8, 2)  # e2 (deal still open) and e9 wait


def test_bad_lines_are_named_and_skipped(files):
    episodes, _ = files
    with episodes.open("a", encoding="utf-8") as stream:
        stream.write("{not json\n")
        stream.write(json.dumps({"record_id": "x", "number": 1}) + "\n")
    result = invoke("--from", str(episodes), "--json", *NOW)
    assert result.exit_code == 1
    assert json.loads(result.stdout)["funnel"]["mql"] == 8
    assert f"{episodes}:11: not valid JSON" in result.stderr
    assert f"{episodes}:12: an episode starts when the record becomes MQL or SQL" in result.stderr
    assert "2 line(s) skipped" in result.stderr


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--from", "missing.jsonl"], "missing.jsonl: cannot read"),
        (["--from", "{episodes}", "--since", "last spring"], "--since: not an ISO-8601 date or time"),
        (["--from", "{episodes}", "--converted-on", "meeting"], "--converted-on: 'meeting' is not opportunity or won"),
        (["--from", "{episodes}", "--leads", "{episodes}"], "--leads: {episodes}: not valid JSON"),
    ],
)
def test_bad_options_end_with_one_line_and_exit_2(files, args, problem):
    episodes, _ = files
    result = invoke(*[a.format(episodes=episodes) for a in args], *NOW)
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(problem.format(episodes=episodes))
    assert "Traceback" not in result.output


def test_lead_counts_file_must_name_months(tmp_path, files):
    episodes, _ = files
    leads = tmp_path / "leads.json"
    leads.write_text('{"September": 40}', encoding="utf-8")
    result = invoke("--from", str(episodes), "--leads", str(leads), "--json", *NOW)
    assert result.exit_code == 2
    assert result.stderr.strip() == f"--leads: {leads}: lead_counts: 'September' is not a month (YYYY-MM)"


def test_nothing_to_report_is_not_an_error(tmp_path):
    empty = tmp_path / "none.jsonl"
    empty.write_text("", encoding="utf-8")
    out = tmp_path / "r.html"
    result = invoke("--from", str(empty), "--out", str(out), "--json", *NOW)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["auc"] is None
    assert "Nothing to report yet" in out.read_text(encoding="utf-8")


def test_an_unreachable_state_store_ends_with_one_line_and_exit_2(monkeypatch):
    monkeypatch.setenv("HANDOFF_STATE_URL", "postgresql+psycopg://handoff:secret@127.0.0.1:1/state")
    result = invoke(*NOW)
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("state store postgresql+psycopg://[redacted]@127.0.0.1:1/state: ")
