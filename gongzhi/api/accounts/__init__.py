"""Resident accounts over JSON (`/api/accounts`): endpoints in `endpoints.py`."""

from gongzhi.api.accounts.endpoints import router

__all__ = ["router"]
