"""The analytics app's tables, one module per concern (rollups, map states, …), all imported here."""

from gongzhi.analytics.models.rollups import COUNTS, CaseTrack, KpiCount, RollupCursor, Subject

__all__ = ["COUNTS", "CaseTrack", "KpiCount", "RollupCursor", "Subject"]
