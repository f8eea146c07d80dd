"""The funnel report's figures, worked out from episodes and lead counts. Pure: no I/O, no clock.

How things count (the page says the same in words):

- **Cohort**: the month the record was created (the month the episode started when the creation
  time is unknown). ``--since`` keeps the cohorts from its month on.
- **Steps count episodes.** A lead recycled and qualified again is two episodes. *Leads* are the
  CRM's count of records created that month (never fewer than the records of that month that
  qualified). *MQL* counts episodes that passed through MQL; *SQL* counts every episode that
  reached SQL, including those that went **straight to SQL** without being MQL first (shown
  apart as ``sql_direct``). *Opportunity* and *won* count episodes whose deal got there; a won
  or lost deal was an opportunity.
- **Conversion from step A to step B** is the share of the episodes that reached A which also
  reached B. So MQL→SQL is "of the episodes that became MQL, how many then became SQL": straight-
  to-SQL episodes are in neither side of that rate. Lead→MQL is MQL episodes per lead.
- **Open episodes** (no outcome yet) count at every step they have reached so far, so the newest
  cohorts are still growing. The figures that compare scores with outcomes (score bands, AUC,
  rule lift, rules versions, shadow) use only *decided* episodes, and what is decided and
  converted is judged by ``connector.outcomes.verdict`` (the export of labelled leads judges the
  same way): converted means reached an opportunity (or won, with ``converted_on="won"``);
  decided means converted, or ended without converting (lost, recycled, rejected), or open for
  longer than ``stale_after_days`` (counted as not converted). Others are left out and counted in
  ``open``.
- **Robustness**: of two episodes with the same record and number the last one read wins; an
  outcome dated before its episode started belongs to something earlier and is ignored; a
  deleted deal is no opportunity, win or loss; a deal claimed by several episodes counts once,
  for the episode that was live when the deal came; a deal won and then lost (reopened and closed
  again) counts by its latest close; a won deal without an amount counts as won but adds nothing
  to the won amount.
- **Speed to lead** runs from becoming SQL to the first sales touch (a touch between qualifying
  and becoming SQL counts as zero minutes). Median and 90th percentile interpolate between ranks.
  *Within SLA* is the share of SQL episodes touched by their deadline (the task's due time, else
  SQL time plus the SLA), among those touched or whose deadline has passed.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np

from connector.learning.metrics import auc
from connector.model import Stage
from connector.outcomes.episode import Episode, FunnelInput, cohort_month
from connector.outcomes.verdict import ConvertedOn, OutcomeRule, deals_held_elsewhere, judge

NO_OWNER = "(no owner)"
NO_VERSION = "(unknown)"
NO_REASON = "(none given)"


@dataclass(frozen=True, slots=True)
class ReportOptions:
    """What the report counts as a conversion, when an open episode counts as failed, which cohorts."""

    converted_on: ConvertedOn = "opportunity"
    #: an episode still open this many days after it started counts as not converted (None: never)
    stale_after_days: int | None = 90
    #: keep the cohorts from this date's month on
    since: date | None = None
    #: how many score bands (10: deciles)
    bands: int = 10

    @property
    def outcome_rule(self) -> OutcomeRule:
        """What counts as converted and when an open episode counts as failed: shared with the export."""
        return OutcomeRule(self.converted_on, self.stale_after_days)


@dataclass(frozen=True, slots=True)
class StepCounts:
    """How many reached each step of the funnel (episodes, except ``leads``)."""

    leads: int | None
    mql: int
    sql: int
    #: SQL episodes that were never MQL (included in ``sql``)
    sql_direct: int
    opportunity: int
    won: int
    #: episodes without an outcome yet (included in the steps they reached)
    open: int
    won_amount: Decimal


@dataclass(frozen=True, slots=True)
class Conversion:
    """Share of the episodes at one step that reached the next; ``None`` when nothing reached the first."""

    lead_to_mql: float | None
    mql_to_sql: float | None
    sql_to_opportunity: float | None
    opportunity_to_won: float | None


@dataclass(frozen=True, slots=True)
class Cohort:
    month: str
    counts: StepCounts
    conversion: Conversion


@dataclass(frozen=True, slots=True)
class SpeedToLead:
    """Time from SQL to the first sales touch, for everyone (``owner`` None) or one rep."""

    owner: str | None
    sql: int
    touched: int
    median_minutes: float | None
    p90_minutes: float | None
    within_sla: float | None
    #: SQL episodes the SLA share is taken over (touched, or whose deadline has passed)
    sla_counted: int


@dataclass(frozen=True, slots=True)
class ScoreBand:
    """Decided episodes whose score fell in one band (bands split them into equal-sized groups by score)."""

    band: int
    min_score: int
    max_score: int
    episodes: int
    converted: int
    rate: float


@dataclass(frozen=True, slots=True)
class RuleLift:
    """How decided episodes where a rule fired converted, against those where it did not."""

    name: str
    fired: int
    not_fired: int
    converted_fired: int
    converted_not_fired: int
    converted_when_fired: float | None
    converted_when_not: float | None
    lift: float | None


@dataclass(frozen=True, slots=True)
class VersionFigures:
    """One rules version's episodes and how they turned out."""

    version: str
    episodes: int
    sql_share: float
    decided: int
    converted: int
    rate: float | None
    auc: float | None
    first_started: datetime
    last_started: datetime


@dataclass(frozen=True, slots=True)
class LevelAgreement:
    """Decided episodes the live rules put at ``live`` and the shadow rules at ``shadow``."""

    live: str
    shadow: str
    episodes: int
    converted: int
    rate: float


@dataclass(frozen=True, slots=True)
class ShadowComparison:
    """Live against shadow scores on the same decided episodes (only leads the live rules qualified)."""

    episodes: int
    auc_live: float | None
    auc_shadow: float | None
    levels: tuple[LevelAgreement, ...]
    #: the same episodes in score bands by the live score, and by the shadow score
    live_bands: tuple[ScoreBand, ...] = ()
    shadow_bands: tuple[ScoreBand, ...] = ()


@dataclass(frozen=True, slots=True)
class ReasonCount:
    reason: str
    count: int


@dataclass(frozen=True, slots=True)
class DataNotes:
    """What the report set aside or corrected, so nobody has to wonder where an episode went."""

    episodes_read: int = 0
    duplicates_dropped: int = 0
    before_period: int = 0
    outcomes_before_start: int = 0
    deleted_deals: int = 0
    shared_deals: int = 0
    reopened_after_won: int = 0
    won_without_amount: int = 0
    stale_counted_not_converted: int = 0


@dataclass(frozen=True, slots=True)
class ReportFigures:
    """Every number the funnel report shows."""

    generated_at: datetime
    options: ReportOptions
    first_cohort: str | None
    last_cohort: str | None
    funnel: StepCounts
    conversion: Conversion
    cohorts: tuple[Cohort, ...]
    speed_to_lead: SpeedToLead
    speed_by_owner: tuple[SpeedToLead, ...]
    #: decided episodes and how many of them converted: the base of bands, AUC and lift
    decided: int
    converted: int
    score_bands: tuple[ScoreBand, ...]
    auc: float | None
    rules: tuple[RuleLift, ...]
    rules_versions: tuple[VersionFigures, ...]
    shadow: ShadowComparison | None
    recycle_reasons: tuple[ReasonCount, ...]
    rejection_reasons: tuple[ReasonCount, ...]
    notes: DataNotes = field(default_factory=DataNotes)

    @property
    def episodes(self) -> int:
        return self.funnel.mql + self.funnel.sql_direct

    @property
    def empty(self) -> bool:
        """Nothing to report: no episodes and no leads."""
        return self.episodes == 0 and not self.funnel.leads

    def to_json(self) -> dict[str, Any]:
        """The figures as JSON-ready data (times ISO-8601, money and rates as numbers)."""
        return {
            "generated_at": self.generated_at.isoformat().replace("+00:00", "Z"),
            "period": {
                "since": self.options.since.isoformat() if self.options.since else None,
                "first_cohort": self.first_cohort,
                "last_cohort": self.last_cohort,
            },
            "options": {
                "converted_on": self.options.converted_on,
                "stale_after_days": self.options.stale_after_days,
                "bands": self.options.bands,
            },
            "funnel": _jsonable(self.funnel),
            "conversion": _jsonable(self.conversion),
            "cohorts": [
                {"month": c.month, "funnel": _jsonable(c.counts), "conversion": _jsonable(c.conversion)}
                for c in self.cohorts
            ],
            "speed_to_lead": {
                **_jsonable(self.speed_to_lead, skip=("owner",)),
                "by_owner": [_jsonable(s) for s in self.speed_by_owner],
            },
            "decided": self.decided,
            "converted": self.converted,
            "score_bands": [_jsonable(b) for b in self.score_bands],
            "auc": _round(self.auc),
            "rules": [_jsonable(r) for r in self.rules],
            "rules_versions": [_jsonable(v) for v in self.rules_versions],
            "shadow": None
            if self.shadow is None
            else {
                **_jsonable(self.shadow, skip=("levels", "live_bands", "shadow_bands")),
                "levels": [_jsonable(level) for level in self.shadow.levels],
                "live_bands": [_jsonable(b) for b in self.shadow.live_bands],
                "shadow_bands": [_jsonable(b) for b in self.shadow.shadow_bands],
            },
            "recycle_reasons": [_jsonable(r) for r in self.recycle_reasons],
            "rejection_reasons": [_jsonable(r) for r in self.rejection_reasons],
            "notes": _jsonable(self.notes),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _jsonable(item: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in item.__slots__:
        if name in skip:
            continue
        value = getattr(item, name)
        if isinstance(value, float):
            value = _round(value)
        elif isinstance(value, Decimal):
            value = float(value)
        elif isinstance(value, datetime):
            value = value.isoformat().replace("+00:00", "Z")
        out[name] = value
    return out


# -- one episode, cleaned -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Trace:
    """What one episode reached once the counting rules above are applied."""

    episode: Episode
    cohort: str
    mql: bool
    sql: bool
    opportunity: bool
    won: bool
    lost: bool
    recycled: bool
    rejected: bool
    touched_at: datetime | None
    #: True / False once known; None while the episode is open
    converted: bool | None
    stale: bool

    @property
    def open(self) -> bool:
        return not (self.won or self.lost or self.recycled or self.rejected)

    @property
    def entry_level(self) -> Stage:
        return Stage.MQL if self.mql else Stage.SQL


def _trace(episode: Episode, keeps_deal: bool, options: ReportOptions, as_of: datetime) -> _Trace:
    verdict = judge(episode, as_of, options.outcome_rule, keeps_deal)
    start = episode.started_at
    return _Trace(
        episode=episode,
        cohort=cohort_month(episode.cohort_time),
        mql=episode.mql_at is not None and (episode.sql_at is None or episode.mql_at <= episode.sql_at),
        sql=episode.sql_at is not None,
        opportunity=verdict.opportunity,
        won=verdict.won,
        lost=verdict.lost,
        recycled=verdict.recycled,
        rejected=verdict.rejected,
        touched_at=episode.first_touch_at if episode.first_touch_at and episode.first_touch_at >= start else None,
        converted=verdict.converted,
        stale=verdict.stale,
    )


def _latest_per_key(episodes: Iterable[Episode]) -> list[Episode]:
    """One episode per (record, number): the last one read carries the newest news."""
    latest: dict[tuple[str, int], Episode] = {}
    for episode in episodes:
        key = (episode.record_id, episode.number)
        latest.pop(key, None)  # keep reading order of the survivors
        latest[key] = episode
    return list(latest.values())


# -- small statistics ---------------------------------------------------------------------------


def _rate(part: int, whole: int | None) -> float | None:
    return None if not whole else part / whole


def quantile(ordered: Sequence[float], q: float) -> float | None:
    """The q-quantile of sorted values, interpolating linearly between ranks; None for no values."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def rank_auc(scored: Iterable[tuple[float, bool]]) -> float | None:
    """Area under the ROC curve of a score against a yes/no outcome (ties count half); None without both.

    The same measure backtest and calibrate use, so the report and a backtest agree to the digit.
    """
    pairs = list(scored)
    scores = np.array([score for score, _ in pairs], dtype=float)
    converted = np.array([hit for _, hit in pairs], dtype=bool)
    return auc(scores, converted)


# -- the figures --------------------------------------------------------------------------------


def _steps(traces: Sequence[_Trace], leads: int | None) -> StepCounts:
    return StepCounts(
        leads=leads,
        mql=sum(t.mql for t in traces),
        sql=sum(t.sql for t in traces),
        sql_direct=sum(t.sql and not t.mql for t in traces),
        opportunity=sum(t.opportunity for t in traces),
        won=sum(t.won for t in traces),
        open=sum(t.open for t in traces),
        won_amount=sum((t.episode.amount for t in traces if t.won and t.episode.amount is not None), Decimal(0)),
    )


def _conversion(traces: Sequence[_Trace], leads: int | None, mql_of_leads: int) -> Conversion:
    def both(first: Callable[[_Trace], bool], second: Callable[[_Trace], bool]) -> float | None:
        reached = [t for t in traces if first(t)]
        return _rate(sum(1 for t in reached if second(t)), len(reached))

    return Conversion(
        lead_to_mql=_rate(mql_of_leads, leads),
        mql_to_sql=both(lambda t: t.mql, lambda t: t.sql),
        sql_to_opportunity=both(lambda t: t.sql, lambda t: t.opportunity),
        opportunity_to_won=both(lambda t: t.opportunity, lambda t: t.won),
    )


def _cohorts(traces: Sequence[_Trace], lead_counts: Mapping[str, int]) -> tuple[Cohort, ...]:
    by_month: dict[str, list[_Trace]] = defaultdict(list)
    for t in traces:
        by_month[t.cohort].append(t)
    cohorts = []
    for month in sorted(set(by_month) | set(lead_counts)):
        month_traces = by_month.get(month, [])
        leads = lead_counts.get(month)
        if leads is not None:  # every record that qualified was a lead of its month
            leads = max(leads, len({t.episode.record_id for t in month_traces}))
        counts = _steps(month_traces, leads)
        cohorts.append(Cohort(month, counts, _conversion(month_traces, leads, counts.mql)))
    return tuple(cohorts)


def _deadline(episode: Episode) -> datetime | None:
    if episode.task_due_at is not None:
        return episode.task_due_at
    if episode.sql_at is not None and episode.sla_minutes is not None:
        return episode.sql_at + timedelta(minutes=episode.sla_minutes)
    return None


def _speed(traces: Sequence[_Trace], owner: str | None, as_of: datetime) -> SpeedToLead:
    sqls = [t for t in traces if t.sql]
    minutes: list[float] = []
    within = counted = 0
    for t in sqls:
        sql_at = t.episode.sql_at
        assert sql_at is not None
        if t.touched_at is not None:
            minutes.append(max(0.0, (t.touched_at - sql_at).total_seconds() / 60))
        deadline = _deadline(t.episode)
        if deadline is None:
            continue
        if t.touched_at is not None and t.touched_at <= deadline:
            within += 1
            counted += 1
        elif t.touched_at is not None or as_of > deadline:
            counted += 1
    minutes.sort()
    return SpeedToLead(
        owner=owner,
        sql=len(sqls),
        touched=len(minutes),
        median_minutes=quantile(minutes, 0.5),
        p90_minutes=quantile(minutes, 0.9),
        within_sla=_rate(within, counted),
        sla_counted=counted,
    )


def _speed_by_owner(traces: Sequence[_Trace], as_of: datetime) -> tuple[SpeedToLead, ...]:
    by_owner: dict[str, list[_Trace]] = defaultdict(list)
    for t in traces:
        if t.sql:
            by_owner[t.episode.owner_id or NO_OWNER].append(t)
    return tuple(_speed(by_owner[owner], owner, as_of) for owner in sorted(by_owner))


def _scored(decided: Sequence[_Trace]) -> list[tuple[int, bool]]:
    return [(t.episode.score, bool(t.converted)) for t in decided if t.episode.score is not None]


def _score_bands(scored: Sequence[tuple[int, bool]], bands: int) -> tuple[ScoreBand, ...]:
    """Equal-sized groups by score; episodes with the same score always share a band."""
    ordered = sorted(scored, key=lambda p: p[0])
    first_rank: dict[int, int] = {}
    for rank, (score, _) in enumerate(ordered):
        first_rank.setdefault(score, rank)
    groups: dict[int, list[tuple[int, bool]]] = defaultdict(list)
    for score, hit in ordered:
        groups[first_rank[score] * bands // len(ordered) + 1].append((score, hit))
    return tuple(
        ScoreBand(
            band=band,
            min_score=members[0][0],
            max_score=members[-1][0],
            episodes=len(members),
            converted=sum(hit for _, hit in members),
            rate=sum(hit for _, hit in members) / len(members),
        )
        for band, members in sorted(groups.items())
    )


def _rule_lift(decided: Sequence[_Trace]) -> tuple[RuleLift, ...]:
    fired_sets = [(frozenset(t.episode.rules_fired), bool(t.converted)) for t in decided]
    names = sorted({name for fired, _ in fired_sets for name in fired})
    lifts = []
    for name in names:
        fired = [hit for rules, hit in fired_sets if name in rules]
        not_fired = [hit for rules, hit in fired_sets if name not in rules]
        when_fired = _rate(sum(fired), len(fired))
        when_not = _rate(sum(not_fired), len(not_fired))
        lifts.append(
            RuleLift(
                name=name,
                fired=len(fired),
                not_fired=len(not_fired),
                converted_fired=sum(fired),
                converted_not_fired=sum(not_fired),
                converted_when_fired=when_fired,
                converted_when_not=when_not,
                lift=when_fired / when_not if when_fired is not None and when_not else None,
            )
        )
    # the strongest rules first; rules whose lift cannot be told (never converted without them) last
    return tuple(sorted(lifts, key=lambda r: (r.lift is None, -(r.lift or 0.0), r.name)))


def _versions(traces: Sequence[_Trace]) -> tuple[VersionFigures, ...]:
    by_version: dict[str, list[_Trace]] = defaultdict(list)
    for t in traces:
        by_version[t.episode.rules_version or NO_VERSION].append(t)
    out = []
    for version, members in by_version.items():
        decided = [t for t in members if t.converted is not None]
        converted = sum(bool(t.converted) for t in decided)
        starts = [t.episode.started_at for t in members]
        out.append(
            VersionFigures(
                version=version,
                episodes=len(members),
                sql_share=sum(t.sql for t in members) / len(members),
                decided=len(decided),
                converted=converted,
                rate=_rate(converted, len(decided)),
                auc=rank_auc(_scored(decided)),
                first_started=min(starts),
                last_started=max(starts),
            )
        )
    return tuple(sorted(out, key=lambda v: (v.first_started, v.version)))


def _shadow(traces: Sequence[_Trace], decided: Sequence[_Trace], bands: int) -> ShadowComparison | None:
    if not any(t.episode.shadow_score is not None or t.episode.shadow_level is not None for t in traces):
        return None
    both = [t for t in decided if t.episode.score is not None and t.episode.shadow_score is not None]
    live = [(t.episode.score or 0, bool(t.converted)) for t in both]
    shadow = [(t.episode.shadow_score or 0, bool(t.converted)) for t in both]
    cells: dict[tuple[str, str], list[bool]] = defaultdict(list)
    for t in decided:
        if t.episode.shadow_level is not None:
            cells[(t.entry_level.value, t.episode.shadow_level.value)].append(bool(t.converted))
    return ShadowComparison(
        episodes=len(both),
        auc_live=rank_auc(live),
        auc_shadow=rank_auc(shadow),
        levels=tuple(
            LevelAgreement(live_level, shadow_level, len(hits), sum(hits), sum(hits) / len(hits))
            for (live_level, shadow_level), hits in sorted(cells.items())
        ),
        live_bands=_score_bands(live, bands) if live else (),
        shadow_bands=_score_bands(shadow, bands) if shadow else (),
    )


def _reasons(traces: Iterable[_Trace]) -> tuple[ReasonCount, ...]:
    counts = Counter((t.episode.sales_reason or "").strip() or NO_REASON for t in traces)
    return tuple(ReasonCount(reason, n) for reason, n in sorted(counts.items(), key=lambda rc: (-rc[1], rc[0])))


def build_figures(data: FunnelInput, as_of: datetime, options: ReportOptions | None = None) -> ReportFigures:
    """Every figure of the funnel report from episodes and lead counts, as of ``as_of`` (aware UTC)."""
    options = options or ReportOptions()
    first_month = options.since.strftime("%Y-%m") if options.since else ""
    latest = _latest_per_key(data.episodes)
    in_period = [e for e in latest if cohort_month(e.cohort_time) >= first_month]
    losers = deals_held_elsewhere(in_period)
    traces = [_trace(e, i not in losers, options, as_of) for i, e in enumerate(in_period)]
    lead_counts = {m: n for m, n in data.lead_counts.items() if m >= first_month}

    cohorts = _cohorts(traces, lead_counts)
    known = [c for c in cohorts if c.counts.leads is not None]
    leads = sum(c.counts.leads or 0 for c in known) if known else None
    funnel = _steps(traces, leads)
    decided = [t for t in traces if t.converted is not None]
    scored = _scored(decided)
    return ReportFigures(
        generated_at=as_of,
        options=options,
        first_cohort=cohorts[0].month if cohorts else None,
        last_cohort=cohorts[-1].month if cohorts else None,
        funnel=funnel,
        conversion=_conversion(traces, leads, sum(c.counts.mql for c in known)),
        cohorts=cohorts,
        speed_to_lead=_speed(traces, None, as_of),
        speed_by_owner=_speed_by_owner(traces, as_of),
        decided=len(decided),
        converted=sum(bool(t.converted) for t in decided),
        score_bands=_score_bands(scored, options.bands) if scored else (),
        auc=rank_auc(scored),
        rules=_rule_lift(decided),
        rules_versions=_versions(traces),
        shadow=_shadow(traces, decided, options.bands),
        recycle_reasons=_reasons(t for t in traces if t.recycled),
        rejection_reasons=_reasons(t for t in traces if t.rejected),
        notes=DataNotes(
            episodes_read=len(data.episodes),
            duplicates_dropped=len(data.episodes) - len(latest),
            before_period=len(latest) - len(in_period),
            outcomes_before_start=sum(
                any(t is not None and t < e.started_at for t in e.sales_times) for e in in_period
            ),
            deleted_deals=sum(e.deal_deleted_at is not None for e in in_period),
            shared_deals=len(losers),
            reopened_after_won=sum(_reopened_after_won(e) for e in in_period),
            won_without_amount=sum(t.won and t.episode.amount is None for t in traces),
            stale_counted_not_converted=sum(t.stale for t in traces),
        ),
    )


def _reopened_after_won(episode: Episode) -> bool:
    won = episode.won_at
    return won is not None and any(t is not None and t > won for t in (episode.lost_at, episode.opportunity_at))
