"""The notification inbox over JSON (`/api/notifications`): endpoints in `endpoints.py`."""

from gongzhi.api.notifications.endpoints import router

__all__ = ["router"]
