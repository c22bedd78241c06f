"""Cases over JSON (`/api/cases`): schemas in `schemas.py`, endpoints in `endpoints.py`; a dispute's records in
`disputes.py` (with `dispute_schemas.py`), on the same router."""

from gongzhi.api.cases import disputes  # noqa: F401  (registers the dispute endpoints on the router)
from gongzhi.api.cases.endpoints import router

__all__ = ["router"]
