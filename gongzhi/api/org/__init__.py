"""The org tree over JSON (`/api/org`): endpoints in `endpoints.py`."""

from gongzhi.api.org.endpoints import router

__all__ = ["router"]
