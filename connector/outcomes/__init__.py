"""What happened after qualification: episodes from MQL/SQL to an outcome, as plain data."""

from connector.outcomes.episode import Episode, FunnelInput, InvalidEpisode, cohort_month
from connector.outcomes.verdict import ConvertedOn, OutcomeRule, Verdict, deals_held_elsewhere, judge

__all__ = [
    "ConvertedOn",
    "Episode",
    "FunnelInput",
    "InvalidEpisode",
    "OutcomeRule",
    "Verdict",
    "cohort_month",
    "deals_held_elsewhere",
    "judge",
]
