"""Owner routing: the rotation's turns (pure), its record in the state store, and both CRMs end to end."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, datetime
from threading import Barrier, Thread

import pytest
from builders import DEFAULT_RULES, rules_from
from deployments import deploy
from pydantic import ValidationError
from typer.testing import CliRunner

from connector.cli.app import app
from connector.config.ruleset import Ruleset
from connector.policy.routing import Owners, WeightedOwner, take_turns
from connector.sandbox.portals import HubSpotPortal
from connector.state import Store
from connector.sync.dry_run import CsvPlanSink, DryRun


def now() -> datetime:
    return datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def everyone(_: str) -> bool:
    return True


def _keys(n: int) -> list[str]:
    return [f"handoff:{i}:sql:0" for i in range(n)]


# ------------------------------------------------------------------ pure


def test_unowned_leads_take_turns_one_after_another():
    turns = Owners(round_robin=["a", "b", "c"]).turns()
    given = take_turns(0, _keys(6), turns, everyone)
    assert list(given.owners.values()) == ["a", "b", "c", "a", "b", "c"]
    assert given.position == 6


def test_the_rotation_is_fair_over_many_leads_whatever_their_ids():
    turns = Owners(round_robin=["a", "b", "c"]).turns()
    position, counts = 0, Counter[str]()
    for batch in range(100):  # 100 runs of 3 leads each, as if one page per cycle
        given = take_turns(position, [f"k{batch}-{i}" for i in range(3)], turns, everyone)
        counts.update(given.owners.values())
        position = given.position
    assert counts == {"a": 100, "b": 100, "c": 100}


def test_the_next_run_continues_where_the_last_one_stopped():
    turns = Owners(round_robin=["a", "b"]).turns()
    first = take_turns(0, _keys(3), turns, everyone)
    second = take_turns(first.position, ["x"], turns, everyone)
    assert second.owners == {"x": "b"}


def test_a_rep_with_weight_two_takes_two_turns_a_round_spread_out():
    owners = rules_from(
        """
        version: w
        lifecycle:
          owners: {round_robin: [{id: "101", weight: 2}, "102"]}
        """
    ).policy.owners
    assert owners.turns() == ("101", "102", "101")
    given = take_turns(0, _keys(300), owners.turns(), everyone)
    assert Counter(given.owners.values()) == {"101": 200, "102": 100}


def test_smooth_weights_never_bunch_a_heavy_reps_turns():
    turns = Owners(round_robin=[WeightedOwner(id="a", weight=3), "b", "c"]).turns()
    assert Counter(turns) == {"a": 3, "b": 1, "c": 1}
    assert "aaa" not in "".join(turns + turns)


def test_an_inactive_rep_is_passed_over_and_the_others_share_the_leads():
    turns = Owners(round_robin=["a", "b", "c"]).turns()
    given = take_turns(0, _keys(6), turns, lambda rep: rep != "b")
    assert list(given.owners.values()) == ["a", "c", "a", "c", "a", "c"]


def test_when_nobody_can_take_a_task_the_rotation_does_not_move():
    given = take_turns(4, _keys(2), ("a", "b"), lambda rep: False)
    assert given.owners == {} and given.position == 4


def test_a_weight_below_one_is_refused():
    with pytest.raises(ValidationError):
        Owners.model_validate({"round_robin": [{"id": "a", "weight": 0}]})


def test_owners_are_configured_by_a_list_or_a_fallback():
    assert not Owners().configured
    assert Owners(round_robin=["a"]).configured and Owners(fallback="z").configured


# ----------------------------------------------------------------- store


def _choose(turns: tuple[str, ...]):
    def choose(position, keys):
        return take_turns(position, keys, turns, everyone)

    return choose


def test_a_pick_is_made_once_per_task_key_and_recorded(state_url):
    store = Store(state_url, "hubspot", now)
    choose = _choose(("a", "b"))
    assert store.rotation.assign(["k1", "k2"], choose) == {"k1": "a", "k2": "b"}
    # the same task planned again (a crash before its claim) keeps its rep; a new one gets the next turn
    assert store.rotation.assign(["k2", "k3"], choose) == {"k2": "b", "k3": "a"}
    assert store.rotation.position() == 3
    store.close()


def test_a_preview_records_nothing(state_url):
    store = Store(state_url, "hubspot", now)
    choose = _choose(("a", "b"))
    store.rotation.assign(["k1"], choose)
    assert store.rotation.preview(["k2", "k3"], choose) == {"k2": "b", "k3": "a"}
    assert store.rotation.position() == 1
    assert store.rotation.assign(["k2"], choose) == {"k2": "b"}
    store.close()


def test_each_crm_keeps_its_own_rotation(state_url):
    hubspot, salesforce = Store(state_url, "hubspot", now), Store(state_url, "salesforce", now)
    hubspot.rotation.assign(["h1"], _choose(("a", "b")))
    assert salesforce.rotation.assign(["s1"], _choose(("a", "b"))) == {"s1": "a"}
    hubspot.close()
    salesforce.close()


def test_replicas_picking_at_once_never_hand_out_the_same_turn(state_url):
    stores = [Store(state_url, "hubspot", now) for _ in range(4)]
    choose = _choose(("a", "b", "c", "d"))
    barrier = Barrier(len(stores))
    answers: list[dict[str, str]] = []

    def replica(store: Store, i: int) -> None:
        barrier.wait()
        # every replica plans the shared task and one of its own
        answers.append(store.rotation.assign(["shared", f"own-{i}"], choose))

    threads = [Thread(target=replica, args=(s, i)) for i, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({a["shared"] for a in answers}) == 1  # one pick for the shared task, whoever made it
    given = [answers[0]["shared"]] + [owner for a in answers for key, owner in a.items() if key != "shared"]
    assert Counter(given) == {"a": 2, "b": 1, "c": 1, "d": 1}  # five turns of a four-rep round, none twice
    assert stores[0].rotation.position() == 5
    for s in stores:
        s.close()


# ------------------------------------------------------------ end to end


def _with_owners(runtime, owners: Owners) -> None:
    policy = runtime.ruleset.policy.model_copy(update={"owners": owners})
    file = runtime.ruleset.file.model_copy(update={"lifecycle": policy})
    runtime.sync.ruleset = Ruleset(runtime.ruleset.path, file, runtime.ruleset.compiled)


def _unowned_sqls(portal, n: int) -> list[str]:
    leads = []
    for i in range(n):
        lead = portal.seed(email=f"lead{i}@acme.io")
        portal.unown(lead)
        portal.activity(lead, "form_submission", name="Request a demo")
        leads.append(lead)
    return leads


@pytest.fixture
def deployed(portal, tmp_path):
    runtime = deploy(portal, tmp_path / "state.sqlite")
    yield portal, runtime
    runtime.close()


def _cycle(portal, runtime):
    portal.clock.advance(300)
    return runtime.sync.sync_once()


def test_four_unowned_leads_are_spread_two_and_two_over_two_reps(deployed):
    portal, runtime = deployed
    first, second = portal.reps()[:2]
    _with_owners(runtime, Owners(round_robin=[first, second]))
    leads = _unowned_sqls(portal, 4)
    report = _cycle(portal, runtime)
    assert report.tasks_created == 4 and report.tasks_unassigned == 0
    owners = [t.owner_id for lead in leads for t in portal.tasks(lead)]
    assert Counter(owners) == {first: 2, second: 2}
    assert all(portal.owner_of(lead) != first and portal.owner_of(lead) != second for lead in leads)


def test_a_deactivated_rep_gets_no_more_leads(deployed):
    portal, runtime = deployed
    first, second, third = portal.reps()[:3]
    portal.deactivate(second)
    # the owners are kept for HANDOFF_LOOKUP_REFRESH_SECONDS, then read again at the next start or cycle
    portal.clock.advance(runtime.settings.handoff_lookup_refresh_seconds + 1)
    runtime.adapter.start()
    _with_owners(runtime, Owners(round_robin=[first, second, third]))
    leads = _unowned_sqls(portal, 4)
    _cycle(portal, runtime)
    owners = [t.owner_id for lead in leads for t in portal.tasks(lead)]
    assert Counter(owners) == {first: 2, third: 2}


def test_without_owner_rules_unowned_leads_get_unassigned_tasks_and_the_run_says_so(deployed):
    portal, runtime = deployed
    leads = _unowned_sqls(portal, 2)
    owned = portal.seed(email="owned@acme.io")
    portal.activity(owned, "form_submission", name="Request a demo")
    report = _cycle(portal, runtime)
    assert report.tasks_created == 3
    assert report.tasks_unassigned == 2
    assert report.counts()["tasks_unassigned"] == 2 and report.to_json()["tasks_unassigned"] == 2
    tasks = [t for lead in leads for t in portal.tasks(lead)]
    assert len(tasks) == 2 and not {t.owner_id for t in tasks} & set(portal.reps())


def test_check_config_warns_when_no_owner_rules_are_set(tmp_path):
    bare = tmp_path / "bare.yaml"
    bare.write_text("version: bare\n")
    routed = tmp_path / "routed.yaml"
    routed.write_text("version: routed\nlifecycle:\n  owners: {round_robin: [{id: '101', weight: 2}, '102']}\n")
    warned = CliRunner().invoke(app, ["check-config", "--rules", str(bare)])
    assert warned.exit_code == 0, warned.output
    assert f"{bare}: warning: no owners: rules; tasks for unowned records will be unassigned" in warned.stderr
    quiet = CliRunner().invoke(app, ["check-config", "--rules", str(routed)])
    assert quiet.exit_code == 0, quiet.output
    assert "warning" not in quiet.output


def test_a_dry_run_and_explain_show_the_rotations_pick_and_record_nothing(deployed):
    portal, runtime = deployed
    first, second = portal.reps()[:2]
    _with_owners(runtime, Owners(round_robin=[first, second]))
    [lead] = _unowned_sqls(portal, 1)
    portal.clock.advance(300)
    stream = io.StringIO()
    runtime.sync.sync_once(sink=DryRun(CsvPlanSink(stream)))
    [row] = csv.DictReader(io.StringIO(stream.getvalue()))
    assert row["task_owner"] == first
    explained = runtime.sync.explain(lead)
    assert explained is not None and explained[3].task.owner_id == first
    assert runtime.store.rotation.position() == 0
    _cycle(portal, runtime)
    assert [t.owner_id for t in portal.tasks(lead)] == [first]
    assert runtime.store.rotation.position() == 1


def test_sync_once_says_how_many_tasks_went_unassigned(hubspot_sandbox, tmp_path):
    portal = HubSpotPortal(hubspot_sandbox.app, hubspot_sandbox.base_url, hubspot_sandbox.clock)
    _unowned_sqls(portal, 2)
    hubspot_sandbox.clock.advance(300)
    env = {
        **portal.env(),
        "HANDOFF_STATE_URL": f"sqlite:///{tmp_path / 'state.sqlite'}",
        "HANDOFF_RULES": str(DEFAULT_RULES),
        "HANDOFF_LOG_FORMAT": "json",
    }
    result = CliRunner().invoke(app, ["sync", "--once"], env=env)
    assert result.exit_code == 0, result.output
    summary = result.stdout.strip().splitlines()[-1]
    assert "tasks created 2" in summary
    assert "tasks unassigned 2 (no owner who can take them: see owners: in the rules)" in summary
