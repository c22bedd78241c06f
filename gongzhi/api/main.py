from django.db import OperationalError
from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.errors import ValidationError as NinjaValidationError

from gongzhi.api.docs import StaticSwagger
from gongzhi.core.errors import DatabaseBusy, DomainError, is_database_busy
from gongzhi.core.text import CONTROL_CHARACTERS_CODE, control_characters_message
from gongzhi.core.writes import note_write_refused

api = NinjaAPI(
    title="Gongzhi 共治 API",
    version="1",
    description="Grassroots social governance: org tree, grids, accounts, cases, points. All times Asia/Shanghai.",
    openapi_url="/openapi.json",
    docs_url="/docs",
    docs=StaticSwagger(),  # Swagger UI from our static files: the CSP blocks Ninja's CDN page
    urls_namespace="api",
)
api.add_router("/org", "gongzhi.api.org.router", tags=["org"])
api.add_router("/accounts", "gongzhi.api.accounts.router", tags=["accounts"])
api.add_router("/notifications", "gongzhi.api.notifications.router", tags=["notifications"])
api.add_router("/cases", "gongzhi.api.cases.router", tags=["cases"])
api.add_router("/points", "gongzhi.api.points.router", tags=["points"])
api.add_router("/publications", "gongzhi.api.publications.router", tags=["publications"])


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError):
    response = api.create_response(
        request, {"detail": str(exc.message), "code": exc.code, "field": exc.field}, status=exc.status
    )
    if retry_after := getattr(exc, "retry_after", None):
        response["Retry-After"] = str(retry_after)
    return response


@api.exception_handler(OperationalError)
def database_error(request: HttpRequest, exc: OperationalError):
    if is_database_busy(exc):
        note_write_refused()  # /healthz reports degraded for a while
        return domain_error(request, DatabaseBusy())
    raise exc


@api.exception_handler(NinjaValidationError)
def validation_error(request: HttpRequest, exc: NinjaValidationError):
    from django.utils.translation import gettext as _

    for error in exc.errors:
        if error.get("type") == CONTROL_CHARACTERS_CODE:  # api.schemas.TextIn: name the field
            field = error["ctx"]["field"]
            return api.create_response(request, {
                "detail": control_characters_message(field), "code": CONTROL_CHARACTERS_CODE, "field": field,
                "errors": exc.errors}, status=422)
    return api.create_response(
        request, {"detail": _("输入的数据无效。"), "code": "invalid", "errors": exc.errors}, status=422
    )
