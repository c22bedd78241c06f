"""The analytics app's tables, one module per concern (rollups, map states, …), all imported here."""

from gongzhi.analytics.models.rollups import COUNTS, FIELDS, CaseTrack, KpiCount, RollupCursor, Subject

__all__ = ["COUNTS", "FIELDS", "CaseTrack", "KpiCount", "RollupCursor", "Subject"]
