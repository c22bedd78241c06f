"""Reads of the analytics app, always for what the viewer may see (others answer NotFound): the
assessment figures (`figures`), the map (`map`), the risk warnings (`warnings`) and the dashboard
(`dashboard`)."""

from gongzhi.analytics.selectors.dashboard import (
    STREAM_SIZE,
    Dashboard,
    Hotspots,
    Mix,
    Series,
    StreamCase,
    Tiles,
    category_mix,
    dashboard,
    dashboard_unit,
    hotspots,
    newest_case_id,
    newest_cases,
    rankings,
    tiles,
    trends,
)
from gongzhi.analytics.selectors.figures import (
    MAX_MONTHS,
    PUBLIC_LEVELS,
    WORKER_LEVELS,
    WORKERS_SHOWN,
    Assessment,
    Period,
    assessment,
    period,
    public_unit,
    public_units,
    top_units,
    unit_for,
)
from gongzhi.analytics.selectors.map import (
    CASE_MARKER_LEVELS,
    CASE_MARKERS_MAX,
    COLOUR_LETTERS,
    PANEL_CASES_MAX,
    SHAPES_FORMAT,
    ChildFigures,
    Encoded,
    Figures,
    StaffPost,
    UnitPanel,
    case_markers,
    case_place,
    grid_colours,
    map_roots,
    map_unit,
    unit_panel,
    unit_shapes,
)
from gongzhi.analytics.selectors.warnings import (
    WarningCase,
    may_acknowledge,
    open_warnings,
    warning_cases,
    warning_for,
)

__all__ = [
    "Assessment", "CASE_MARKERS_MAX", "CASE_MARKER_LEVELS", "COLOUR_LETTERS", "ChildFigures", "Encoded", "Figures",
    "MAX_MONTHS", "PANEL_CASES_MAX", "PUBLIC_LEVELS", "Period", "SHAPES_FORMAT", "StaffPost", "UnitPanel",
    "WORKERS_SHOWN", "WORKER_LEVELS", "assessment", "case_markers", "case_place", "grid_colours", "map_roots",
    "map_unit", "period", "public_unit", "public_units", "top_units", "unit_for", "unit_panel", "unit_shapes",
    "WarningCase", "may_acknowledge", "open_warnings", "warning_cases", "warning_for",
    "STREAM_SIZE", "Dashboard", "Hotspots", "Mix", "Series", "StreamCase", "Tiles", "category_mix",
    "dashboard", "dashboard_unit", "hotspots", "newest_case_id", "newest_cases", "rankings", "tiles", "trends",
]
