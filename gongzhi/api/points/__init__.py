"""The points economy over JSON (`/api/points`): endpoints in `endpoints.py`."""

from gongzhi.api.points.endpoints import router

__all__ = ["router"]
