"""公开事务 over JSON (`/api/publications`): endpoints in `endpoints.py`."""

from gongzhi.api.publications.endpoints import router

__all__ = ["router"]
