"""Resident accounts over JSON: SMS code, sign-up, login (a Django session), and who am I.

Clients other than a browser (e.g. a WeChat mini-program, whose wx.request keeps no cookies): keep the
`sessionid` and `csrftoken` cookies from the login or sign-up response and send them back in a `Cookie`
header; the login response also carries `csrf_token`, to be sent as `X-CSRFToken` on every unsafe request
to endpoints that use the session. The endpoints here need no CSRF token themselves (there is no session
yet), but accept only `Content-Type: application/json`: a cross-site page cannot send that without a CORS
preflight, which this API does not grant, so it cannot sign a visitor into someone else's account.
"""

from typing import Annotated, Literal, cast

from django.contrib.auth import login
from django.http import HttpRequest
from django.middleware.csrf import get_token
from ninja import Field, Router, Schema, Status
from pydantic import StrictStr

from gongzhi.accounts import selectors, services
from gongzhi.accounts.models import User
from gongzhi.api.schemas import ErrorOut, SignedIn, StrictIn, UnparsableOut, require_json
from gongzhi.core.clients import client_address
from gongzhi.registry.services import register_resident

router = Router()



# The formats the services accept, so the schema documents them; check digits, birth dates and the code
# itself can only be checked by the services (422 with `field`).
_PHONE_PATTERN = r"^[ ()-]*(\+86|0086)?[ ()-]*1[3-9]([ ()-]*[0-9]){9}[ ()-]*$"
Phone = Annotated[StrictStr, Field(max_length=24, pattern=_PHONE_PATTERN,
                                   description="中国大陆手机号，可带+86、空格或连字符")]
IdNumber = Annotated[StrictStr, Field(max_length=24, pattern=r"^ *[1-9][0-9]{16}[0-9Xx] *$",
                                      description="18位居民身份证号")]
Code = Annotated[StrictStr, Field(max_length=10, pattern=r"^ *[0-9]{6} *$",
                                  description="短信验证码（6位数字）")]


class SmsCodeIn(StrictIn):
    phone: Phone
    purpose: Literal["signup", "login"]


class SignupIn(StrictIn):
    name: StrictStr = Field(min_length=2, max_length=40, description="与户籍登记一致的姓名")
    id_number: IdNumber
    phone: Phone
    code: Code


class LoginIn(StrictIn):
    id_number: IdNumber
    phone: Phone
    code: Code


class PostOut(Schema):
    unit_id: int
    unit_name: str
    role: str
    role_label: str


class MeOut(Schema):
    id: int
    username: str
    kind: Literal["resident", "staff"]
    real_name: str
    id_number_masked: str | None = Field(description="脱敏身份证号，如 620102********1234")
    phone_masked: str | None = Field(description="脱敏手机号，如 138****5678")
    portal: Literal["resident", "worker", "command"]
    verified_resident: bool = Field(description="已与户籍登记信息匹配")
    household_head: bool = Field(description="已核实的户主")
    posts: list[PostOut]


class SessionOut(Schema):
    user: MeOut
    csrf_token: str = Field(description="对使用会话的写操作，放在 X-CSRFToken 请求头中")


def _me(user: User) -> dict:
    return {
        "id": user.pk,
        "username": user.username,
        "kind": user.kind,
        "real_name": user.real_name,
        "id_number_masked": str(user.id_number) if user.id_number else None,
        "phone_masked": str(user.phone) if user.phone else None,
        "portal": selectors.primary_portal(user),
        "verified_resident": selectors.is_verified_resident(user),
        "household_head": selectors.is_verified_household_head(user),
        "posts": [
            {"unit_id": p.unit_id, "unit_name": p.unit.name, "role": p.role,
             "role_label": p.get_role_display()}
            for p in selectors.posts_of(user)
        ],
    }


def _start_session(request: HttpRequest, user: User) -> dict:
    login(request, user)
    return {"user": _me(user), "csrf_token": get_token(request)}


# Every JSON POST here may answer: not JSON at all, not sent as JSON, or refused input.
_POST_ERRORS = {400: UnparsableOut, 415: ErrorOut, 422: ErrorOut}


@router.post("/sms-code", response={204: None, 429: ErrorOut, 503: ErrorOut, **_POST_ERRORS},
             summary="获取短信验证码")
def sms_code(request: HttpRequest, payload: SmsCodeIn):
    """Texts a 6-digit code. A login code is only sent to phones with a resident account, but the answer
    is the same either way. 429 (with Retry-After): asked again within 60 seconds, too often today, too
    many codes from this address or to this number range, or the site's hourly SMS budget is spent."""
    require_json(request)
    services.send_login_code(phone=payload.phone, purpose=payload.purpose, client=client_address(request))
    return Status(204, None)


@router.post("/resident-signup", response={201: SessionOut, 409: ErrorOut, 429: ErrorOut, **_POST_ERRORS},
             summary="居民注册")
def resident_signup(request: HttpRequest, payload: SignupIn):
    """Creates the resident account once the SMS code proves the phone, and signs in. The account is
    verified (`verified_resident`) only when the phone is the one the population register holds for this
    ID number and the name matches; otherwise it is unverified until the village verifies the person in
    person. 409: this ID number and phone already have an account, or the ID number has a verified
    account on another phone. 422: `field` names the input to correct. 429: too many sign-ups."""
    require_json(request)
    user = register_resident(name=payload.name, id_number=payload.id_number, phone=payload.phone,
                             code=payload.code, client=client_address(request))
    return Status(201, _start_session(request, user))


@router.post("/resident-login", response={200: SessionOut, 429: ErrorOut, **_POST_ERRORS}, summary="居民登录")
def resident_login(request: HttpRequest, payload: LoginIn):
    """ID number + phone + SMS login code; starts a session. 429 with Retry-After after repeated failures
    from this address for this ID number (other addresses are not affected)."""
    require_json(request)
    user = services.resident_login(id_number=payload.id_number, phone=payload.phone, code=payload.code,
                                   client=client_address(request))
    return _start_session(request, user)


@router.get("/me", response={200: MeOut, 401: ErrorOut}, summary="当前用户", auth=SignedIn())
def me(request: HttpRequest):
    """The signed-in user, with ID and phone numbers masked."""
    return _me(cast(User, request.user))  # SignedIn admits signed-in users only
