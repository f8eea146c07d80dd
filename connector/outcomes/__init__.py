"""What happened after qualification: episodes from MQL/SQL to an outcome, as plain data."""

from connector.outcomes.episode import Episode, FunnelInput, InvalidEpisode, cohort_month

__all__ = ["Episode", "FunnelInput", "InvalidEpisode", "cohort_month"]
