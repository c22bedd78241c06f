"""The analytics app's tables, one module per concern (rollups, map states, …), all imported here."""

from gongzhi.analytics.models.grid_states import Colour, GridState, GridStateRun
from gongzhi.analytics.models.rollups import (
    COUNTS,
    FIELDS,
    CaseTrack,
    CategoryCount,
    DayCount,
    KpiCount,
    RollupCursor,
    Subject,
)
from gongzhi.analytics.models.tasklists import (
    OPEN_TASK_STATES,
    Task,
    TaskAction,
    TaskAttachment,
    TaskCategory,
    TaskLog,
    TaskReport,
    TaskStatus,
)
from gongzhi.analytics.models.warnings import Warning, WarningKind

__all__ = ["COUNTS", "FIELDS", "CaseTrack", "CategoryCount", "Colour", "DayCount", "GridState", "GridStateRun",
           "KpiCount", "RollupCursor", "Subject", "Warning", "WarningKind", "OPEN_TASK_STATES", "Task", "TaskAction",
           "TaskAttachment", "TaskCategory", "TaskLog", "TaskReport", "TaskStatus"]
