"""Cases over JSON (`/api/cases`): schemas in `schemas.py`, endpoints in `endpoints.py`."""

from gongzhi.api.cases.endpoints import router

__all__ = ["router"]
