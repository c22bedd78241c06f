"""The analytics app's tables, one module per concern (rollups, map states, …), all imported here."""

from gongzhi.analytics.models.grid_states import Colour, GridState, GridStateRun

__all__ = ["Colour", "GridState", "GridStateRun"]
