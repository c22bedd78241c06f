"""Redemption (M19): hold → signed one-time QR code (and a 6-digit code) → the merchant captures it once;
cancel or expiry releases the hold.

The token in the QR code is "GZ1:<id>.<nonce>:<signature>" (django.core.signing, salted for this use): a
forged or altered one fails the signature; a genuine one names its redemption, whose row says whether it is
still waiting, and until when. Capture locks that row, so of many simultaneous scans exactly one succeeds.
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Callable

from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from gongzhi.accounts.models import User
from gongzhi.accounts.selectors import registry_record
from gongzhi.core import throttle
from gongzhi.core.errors import Conflict, DomainError, Forbidden, NotFound
from gongzhi.points import notices, policies
from gongzhi.points.models import Redemption, Shop, ShopItem, SourceType
from gongzhi.points.services import ledger
from gongzhi.registry.models import Resident

HOLD_DAYS = 7
MAX_QUANTITY = 10
MAX_OPEN_HOLDS = 5
TOKEN_PREFIX = "GZ1:"
_SALT = "gongzhi.points.redemption"
# Wrong 6-digit codes typed at one shop: a few are typos; then each further try waits longer.
CODE_FREE_FAILURES = 5


class TokenRefused(DomainError):
    """A scanned or typed code that captures nothing; `message` says why, for the merchant to read out."""

    status = 409
    code = "token_refused"


def token_for(redemption: Redemption) -> str:
    return TOKEN_PREFIX + signing.Signer(salt=_SALT).sign(f"{redemption.pk}.{redemption.nonce}")


def _redemption_from_token(token: str) -> Redemption:
    text = (token or "").strip()
    if not text.startswith(TOKEN_PREFIX):
        raise TokenRefused(_("这不是积分兑换二维码。"), code="token_foreign")
    try:
        value = signing.Signer(salt=_SALT).unsign(text[len(TOKEN_PREFIX):])
        pk, nonce = value.split(".", 1)
        redemption = Redemption.objects.filter(pk=int(pk), nonce=nonce).first()
    except (signing.BadSignature, ValueError):
        redemption = None
    if redemption is None:
        raise TokenRefused(_("二维码无效（可能被篡改或伪造），请让居民打开兑换页面重新出示。"), code="token_invalid")
    return redemption


def _local(moment: datetime.datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "Y-m-d H:i")


# Holding -----------------------------------------------------------------------------------------------------

def _may_buy_at(resident: Resident, shop: Shop) -> bool:
    grid_path = resident.grid.path
    if shop.village is not None:
        return grid_path.startswith(shop.village.path)
    return grid_path.startswith(shop.township.path)


def _new_code(shop: Shop) -> str:
    held = set(Redemption.objects.filter(shop=shop, status=Redemption.Status.HELD).values_list("code", flat=True))
    while True:
        code = f"{secrets.randbelow(1_000_000):06d}"
        if code not in held:
            return code


def hold(*, user: User, item: ShopItem, quantity: int = 1, client_key: str = "") -> Redemption:
    """Hold the points and the stock for `quantity` of `item`; the resident then shows the QR code at the
    shop. The same form sent twice is answered with the first redemption."""
    if client_key and (done := Redemption.objects.filter(redeemer=user, client_key=client_key).first()):
        return done
    for _attempt in range(5):
        try:
            return _hold(user=user, item=item, quantity=quantity, client_key=client_key)
        except IntegrityError:
            if client_key and (done := Redemption.objects.filter(redeemer=user, client_key=client_key).first()):
                return done
            # Else two holds drew the same 6-digit code at once: draw again.
    raise Conflict(_("系统繁忙，请稍后再试。"), code="busy")


@transaction.atomic
def _hold(*, user: User, item: ShopItem, quantity: int, client_key: str) -> Redemption:
    resident = registry_record(user)
    if resident is None or resident.status != Resident.Status.ACTIVE:
        raise Forbidden(_("请先完成实名核验（与户籍信息匹配）后再兑换。"), code="unverified")
    if not 1 <= quantity <= MAX_QUANTITY:
        raise DomainError(_("兑换数量须为1到%(n)d。") % {"n": MAX_QUANTITY}, field="quantity")
    # Only the item's row: PostgreSQL cannot lock the nullable side of the outer join to the shop's village.
    item = ShopItem.objects.select_for_update(of=("self",)).select_related(
        "shop", "shop__village", "shop__township").get(pk=item.pk)
    shop = item.shop
    if not (item.is_active and shop.is_active and _may_buy_at(resident, shop)):
        raise NotFound(_("该商品已下架，或不在您所在的村镇。"))
    account = ledger.account_for_resident(resident)
    if Redemption.objects.filter(account=account, status=Redemption.Status.HELD).count() >= MAX_OPEN_HOLDS:
        raise DomainError(_("本户已有%(n)d个待领取的兑换，请先领取或取消。") % {"n": MAX_OPEN_HOLDS},
                          code="too_many_holds")
    if item.available < quantity:
        raise DomainError(_("库存不足：还可兑换%(n)d件。") % {"n": max(item.available, 0)}, code="out_of_stock",
                          field="quantity")
    points = item.price * quantity
    now = timezone.now()
    redemption = Redemption.objects.create(
        account=account, redeemer=user, shop=shop, item=item, quantity=quantity, points=points,
        nonce=secrets.token_hex(8), code=_new_code(shop), expires_at=now + datetime.timedelta(days=HOLD_DAYS),
        client_key=client_key)
    ShopItem.objects.filter(pk=item.pk).update(reserved=F("reserved") + quantity)
    ledger.post(source_type=SourceType.HOLD, source_id=redemption.pk, debit=account,
                credit=ledger.hold_account(shop.township), amount=points,
                memo=f"{shop.name} {item.name}×{quantity}", actor=user, at=now)
    return redemption


# Capturing ---------------------------------------------------------------------------------------------------

def capture_token(*, merchant: User, shop: Shop, token: str) -> Redemption:
    """The merchant's scan: capture the redemption the QR code names, once."""
    return _capture(merchant=merchant, shop=shop, find=lambda: _redemption_from_token(token))


def capture_code(*, merchant: User, shop: Shop, code: str) -> Redemption:
    """The 6-digit fallback code typed at the shop; repeated wrong codes slow down."""
    if not policies.can_capture(merchant, shop):
        raise NotFound()
    key = f"points-code:{shop.pk}"
    wait = throttle.blocked_for(key)
    if wait > 0:
        raise DomainError(_("输错次数过多，请%(s)d秒后再试。") % {"s": int(wait) + 1}, code="throttled")
    text = "".join(ch for ch in (code or "") if not ch.isspace())
    if not (len(text) == 6 and text.isascii() and text.isdigit()):
        raise DomainError(_("请输入6位数字兑换码。"), field="code")

    def find() -> Redemption:
        found = (Redemption.objects.filter(shop=shop, code=text).order_by(
            # A waiting one first; else the latest with this code, to say what became of it.
            F("ended_at").desc(nulls_first=True), "-id").first())
        if found is None:
            throttle.record_failure(key, free=CODE_FREE_FAILURES, delay=5, max_delay=300)
            raise TokenRefused(_("兑换码不存在，请核对后重新输入。"), code="code_unknown")
        return found

    return _capture(merchant=merchant, shop=shop, find=find)


def _capture(*, merchant: User, shop: Shop, find: Callable[[], Redemption]) -> Redemption:
    if not policies.can_capture(merchant, shop):
        raise NotFound()
    found = find()
    if found.shop_id != shop.pk:
        raise TokenRefused(_("该兑换属于“%(shop)s”，不能在本店领取。") % {"shop": found.shop.name},
                           code="token_other_shop")
    expired = False
    with transaction.atomic():
        redemption = Redemption.objects.select_for_update().select_related("item", "shop__township").get(
            pk=found.pk)
        if redemption.status == Redemption.Status.HELD and redemption.expires_at <= timezone.now():
            _end(redemption, Redemption.Status.EXPIRED, actor=None)
            expired = True
        elif redemption.status == Redemption.Status.HELD:
            _capture_held(redemption, merchant)
            transaction.on_commit(lambda: notices.redemption_captured(redemption))
            return redemption
    if expired:
        notices.redemption_expired(redemption)
    raise _refusal(redemption)


def _refusal(redemption: Redemption) -> TokenRefused:
    when = _local(redemption.ended_at or redemption.updated_at)
    if redemption.status == Redemption.Status.CAPTURED:
        return TokenRefused(_("该兑换已于%(when)s领取，不能重复领取。") % {"when": when}, code="token_used")
    if redemption.status == Redemption.Status.EXPIRED:
        return TokenRefused(_("该兑换已于%(when)s过期，积分已退回居民账户。") % {
            "when": _local(redemption.expires_at)}, code="token_expired")
    return TokenRefused(_("该兑换已于%(when)s取消，积分已退回居民账户。") % {"when": when}, code="token_cancelled")


def _capture_held(redemption: Redemption, merchant: User) -> None:
    now = timezone.now()
    ledger.post(source_type=SourceType.CAPTURE, source_id=redemption.pk,
                debit=ledger.hold_account(redemption.shop.township), credit=ledger.shop_account(redemption.shop),
                amount=redemption.points, memo=f"{redemption.shop.name} {redemption.item.name}×{redemption.quantity}",
                actor=merchant, at=now)
    ShopItem.objects.filter(pk=redemption.item_id).update(stock=F("stock") - redemption.quantity,
                                                         reserved=F("reserved") - redemption.quantity)
    redemption.status = Redemption.Status.CAPTURED
    redemption.captured_by = merchant
    redemption.ended_at = now
    redemption.save(update_fields=["status", "captured_by", "ended_at", "updated_at"])


# Releasing ---------------------------------------------------------------------------------------------------

def _end(redemption: Redemption, status: str, *, actor: User | None) -> None:
    """Release a held redemption's points and stock (the caller holds the row lock)."""
    now = timezone.now()
    ledger.post(source_type=SourceType.RELEASE, source_id=redemption.pk,
                debit=ledger.hold_account(redemption.shop.township), credit=redemption.account,
                amount=redemption.points, memo=f"{redemption.shop.name} {redemption.item.name}", actor=actor, at=now)
    ShopItem.objects.filter(pk=redemption.item_id).update(reserved=F("reserved") - redemption.quantity)
    redemption.status = status
    redemption.ended_at = now
    redemption.save(update_fields=["status", "ended_at", "updated_at"])


@transaction.atomic
def cancel(*, user: User, redemption: Redemption) -> Redemption:
    """The redeemer changes their mind before pickup: points and stock go back. Cancelling twice is fine."""
    redemption = Redemption.objects.select_for_update().select_related("shop__township", "account").get(
        pk=redemption.pk)
    if redemption.redeemer_id != user.pk:
        raise NotFound()
    if redemption.status == Redemption.Status.CANCELLED:
        return redemption
    if redemption.status != Redemption.Status.HELD:
        raise Conflict(_("该兑换当前为“%(status)s”，不能取消。") % {"status": redemption.get_status_display()},
                       code="invalid_state")
    _end(redemption, Redemption.Status.CANCELLED, actor=user)
    return redemption


def expire_due(*, now: datetime.datetime | None = None, limit: int = 1000) -> int:
    """Release every hold past its expiry (the periodic sweep); returns how many. Idempotent."""
    now = now or timezone.now()
    due = list(Redemption.objects.filter(status=Redemption.Status.HELD, expires_at__lte=now)
               .order_by("expires_at").values_list("pk", flat=True)[:limit])
    done = 0
    for pk in due:
        with transaction.atomic():
            redemption = Redemption.objects.select_for_update().select_related("shop__township", "account").get(
                pk=pk)
            if redemption.status != Redemption.Status.HELD:
                continue
            _end(redemption, Redemption.Status.EXPIRED, actor=None)
            transaction.on_commit(lambda r=redemption: notices.redemption_expired(r))  # type: ignore[misc]
            done += 1
    return done
