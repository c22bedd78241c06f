"""The points economy over JSON: a merchant captures a redemption (商铺核销) by the token in the resident's QR code.

Every endpoint needs a session (see gongzhi.api.accounts); without one the answer is 401. The POST also needs
the session's CSRF token in an `X-CSRFToken` header (403 without it) and `Content-Type: application/json`.
A shop the caller does not manage answers 404, like one that does not exist.
"""

from datetime import datetime
from typing import Annotated, cast

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Path, Router, Schema
from pydantic import StrictStr

from gongzhi.accounts.models import User
from gongzhi.api.schemas import ErrorOut, SignedIn, StrictIn, UnparsableOut, ValidationErrorOut, require_json
from gongzhi.points.models import Redemption
from gongzhi.points.selectors.merchant import managed_shop
from gongzhi.points.services import redemptions

router = Router(auth=SignedIn())

MAX_ID = 2**63 - 1
ShopId = Annotated[int, Path(..., ge=1, le=MAX_ID, description="商铺编号（id）")]
# A token is "GZ1:<id>.<nonce>:<signature>", some 60 characters; room to spare, but no essays.
TOKEN_MAX_LENGTH = 200


class CaptureIn(StrictIn):
    token: StrictStr = Field(min_length=1, max_length=TOKEN_MAX_LENGTH,
                             description="居民兑换二维码的内容（以 GZ1: 开头）")


class RedemptionOut(Schema):
    id: int
    shop_id: int
    shop: str = Field(description="商铺名称")
    item: str = Field(description="商品名称")
    quantity: int
    points: int = Field(description="所用积分")
    status: str = Field(description="状态：held 待领取、captured 已领取、cancelled 已取消、expired 已过期")
    status_label: str
    ended_at: datetime | None = Field(description="领取（或取消、过期）的时间")


def _out(redemption: Redemption) -> dict:
    return {
        "id": redemption.pk,
        "shop_id": redemption.shop_id,
        "shop": redemption.shop.name,
        "item": redemption.item.name,
        "quantity": redemption.quantity,
        "points": redemption.points,
        "status": redemption.status,
        "status_label": str(redemption.get_status_display()),
        "ended_at": timezone.localtime(redemption.ended_at) if redemption.ended_at else None,
    }


@router.post("/shops/{shop_id}/captures",
             response={200: RedemptionOut, 400: UnparsableOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut,
                       409: ErrorOut, 415: ErrorOut, 422: ValidationErrorOut, 503: ErrorOut},
             summary="扫码核销兑换")
def capture(request: HttpRequest, shop_id: ShopId, payload: CaptureIn):
    """The shop's manager (商铺管理员) scans the resident's QR code: the redemption it names is captured once
    (the held points go to the shop, the stock leaves the shelf) and answered with. A code that captures
    nothing answers 409 with a message to read out and its `code`: token_foreign (not a redemption code),
    token_invalid (forged or altered), token_used (already picked up), token_expired, token_cancelled,
    token_other_shop (another shop's). 404: not a shop the caller manages. 503: the database was busy; nothing
    was changed, try again."""
    require_json(request)
    merchant = cast(User, request.auth)  # type: ignore[attr-defined]
    shop = managed_shop(merchant, shop_id)
    return _out(redemptions.capture_token(merchant=merchant, shop=shop, token=payload.token))
