"""The resident's points pages (积分制, 道德储蓄银行): 我的积分, 积分明细, 积分细则 and 申请积分, 我的申请, 积分商城,
我的兑换 with the QR code to show at the shop.

Thin views over `points.selectors.resident` (reads, always given the user) and the points services (writes).
An account not yet linked to the register gets a page that explains how to get verified, on every one of
these pages, instead of an error.
"""

from functools import wraps

import segno
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from gongzhi.core.errors import DomainError
from gongzhi.notifications import services as notification_services
from gongzhi.points.models import Claim, Redemption
from gongzhi.points.selectors import resident as selectors
from gongzhi.points.services import awards, redemptions
from gongzhi.resident.points_forms import ClaimForm, HoldForm, SupplementForm
from gongzhi.web.access import login_required
from gongzhi.web.forms import add_domain_error
from gongzhi.web.paging import Window

PER_PAGE = 20
# The QR code's quiet zone, in modules (the standard's four: a phone camera finds the code against anything),
# and about how wide it is drawn, in CSS pixels (a 360 px phone's column is 318–328 px wide).
QR_BORDER = 4
QR_WIDTH = 320


def with_member(view):
    """Signed in, and linked to the register: the view gets the resident's `Member`; an unverified account
    gets the page that says how to get verified."""
    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        member = selectors.member(request.user)
        if member is None:
            return render(request, "resident/points/unverified.html")
        return view(request, member, *args, **kwargs)

    return wrapped


# 我的积分 --------------------------------------------------------------------------------------------------------

@with_member
def points(request, member):
    return render(request, "resident/points/index.html", {"overview": selectors.overview(request.user, member)})


@with_member
def history(request, member):
    page = Window(selectors.history(member), request.GET.get("page"), PER_PAGE)
    reasons = selectors.award_reasons(list(page))
    entries = [(entry, reasons.get(entry.pk, "")) for entry in page]
    return render(request, "resident/points/history.html", {"page": page, "entries": entries,
                                                             "balance": member.account.balance})


# 积分细则 and 申请积分 ----------------------------------------------------------------------------------------------

@with_member
def catalogue(request, member):
    return render(request, "resident/points/catalogue.html", {
        "member": member, "groups": selectors.catalogue(member), "pending": selectors.pending_lineages(member)})


@with_member
def claim_new(request, member, item_id: int):
    item = selectors.claimable_item(member, item_id)
    status = 200
    if request.method == "POST":
        form = ClaimForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                claim = awards.submit_claim(user=request.user, item=item, note=data["note"], photos=data["photos"],
                                            client_key=data["client_key"])
            except DomainError as err:
                add_domain_error(form, err)
            else:
                messages.success(request, _("申请已提交。"))
                return redirect("resident:points_claim", claim_id=claim.pk)
        status = 422
    else:
        form = ClaimForm()
    return render(request, "resident/points/claim_new.html", {
        "member": member, "item": item, "form": form, "files_dropped": bool(request.FILES)}, status=status)


# 我的申请 --------------------------------------------------------------------------------------------------------

@login_required
def claims(request):
    page = Window(selectors.my_claims(request.user), request.GET.get("page"), PER_PAGE)
    return render(request, "resident/points/claims.html", {"page": page})


def _claim_page(request, claim_id: int, *, form=None, status: int = 200):
    claim = selectors.my_claim(request.user, claim_id)
    # Looking at the claim reads the messages about it (the review's result).
    notification_services.mark_target_read(user=request.user, target_type="claim", target_id=claim.pk)
    return render(request, "resident/points/claim_detail.html", {
        "claim": claim, "photos": selectors.claim_photos(claim),
        "form": form or (SupplementForm() if claim.status == Claim.Status.MORE_NEEDED else None),
        "files_dropped": form is not None and bool(request.FILES)}, status=status)


@login_required
def claim_detail(request, claim_id: int):
    return _claim_page(request, claim_id)


@login_required
@require_POST
def claim_supplement(request, claim_id: int):
    claim = selectors.my_claim(request.user, claim_id)
    form = SupplementForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            awards.supplement_claim(user=request.user, claim=claim, note=data["note"], photos=data["photos"])
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("补充材料已提交，等待村里重新审核。"))
            return redirect("resident:points_claim", claim_id=claim.pk)
    return _claim_page(request, claim_id, form=form, status=422)


@login_required
@require_POST
def claim_withdraw(request, claim_id: int):
    claim = selectors.my_claim(request.user, claim_id)
    try:
        awards.withdraw_claim(user=request.user, claim=claim)
    except DomainError as err:
        messages.error(request, str(err.message))
    else:
        messages.success(request, _("申请已撤回。"))
    return redirect("resident:points_claim", claim_id=claim.pk)


# 积分商城 --------------------------------------------------------------------------------------------------------

@with_member
def shop(request, member):
    return render(request, "resident/points/shop.html", {
        "member": member, "offers": selectors.shops(member)})


@with_member
def shop_item(request, member, item_id: int):
    """兑换: choose how many (a plain GET form), confirm with the balance after, then hold → the QR code."""
    item = selectors.shop_item(member, item_id)
    balance = member.account.balance
    most = max(item.available, 1)
    status = 200
    if request.method == "POST":
        form = HoldForm(request.POST, most=redemptions.MAX_QUANTITY)
        if form.is_valid():
            try:
                redemption = redemptions.hold(user=request.user, item=item, quantity=form.cleaned_data["quantity"],
                                              client_key=form.cleaned_data["client_key"])
            except DomainError as err:
                add_domain_error(form, err)
            else:
                messages.success(request, _("兑换成功，积分已冻结。请在有效期内到店出示二维码领取。"))
                return redirect("resident:points_redemption", redemption_id=redemption.pk)
        status = 422
        quantity = form.cleaned_data.get("quantity") if hasattr(form, "cleaned_data") else None
    else:
        chosen = HoldForm({"quantity": request.GET.get("quantity", "")}, most=most)
        quantity = chosen.cleaned_data["quantity"] if "quantity" in request.GET and chosen.is_valid() else None
        form = HoldForm(initial={"quantity": quantity or 1}, most=most)
    need = item.price * quantity if quantity else None
    return render(request, "resident/points/shop_item.html", {
        "member": member, "item": item, "shop": item.shop, "form": form, "quantity": quantity, "need": need,
        "balance": balance, "after": balance - need if need is not None else None,
        "affordable": balance >= item.price}, status=status)


# 我的兑换 --------------------------------------------------------------------------------------------------------

@login_required
def redemption_list(request):
    page = Window(selectors.my_redemptions(request.user), request.GET.get("page"), PER_PAGE)
    return render(request, "resident/points/redemptions.html", {"page": page})


def qr_svg(token: str) -> tuple[str, int]:
    """The token as an inline SVG QR code, black on white with its quiet zone, and its width in modules.

    Each module is a whole number of CSS pixels (the code comes out about QR_WIDTH px wide: crisp, and ≥ 250 px
    of code on a 360 px phone); the viewBox lets it shrink to a narrower column."""
    code = segno.make(token, error="m", micro=False)
    modules = int(code.symbol_size(scale=1, border=QR_BORDER)[0])
    width = max(1, QR_WIDTH // modules) * modules
    svg = code.svg_inline(scale=1, border=QR_BORDER, omitsize=True, dark="#000", light="#fff",
                          svgclass="redeem-qr-code", title=_("兑换二维码"))
    return svg.replace("<svg ", f'<svg width="{width}" height="{width}" ', 1), modules


@never_cache  # the QR code and the 6-digit code are bearer tokens: no copy in any cache, the browser's neither
@login_required
def redemption_detail(request, redemption_id: int):
    redemption = selectors.my_redemption(request.user, redemption_id)
    notification_services.mark_target_read(user=request.user, target_type="redemption", target_id=redemption.pk)
    waiting = selectors.is_waiting(redemption)
    qr, modules = qr_svg(redemptions.token_for(redemption)) if waiting else ("", 0)
    return render(request, "resident/points/redemption_detail.html", {
        "redemption": redemption, "shop": redemption.shop, "waiting": waiting,
        "lapsed": redemption.status == Redemption.Status.HELD and not waiting,
        "qr": qr, "qr_modules": modules,
        "code": f"{redemption.code[:3]} {redemption.code[3:]}" if waiting else ""})


@never_cache
@login_required
@require_POST
def redemption_cancel(request, redemption_id: int):
    redemption = selectors.my_redemption(request.user, redemption_id)
    try:
        redemptions.cancel(user=request.user, redemption=redemption)
    except DomainError as err:
        messages.error(request, str(err.message))
    else:
        messages.success(request, _("已取消兑换，%(points)d分已退回。") % {"points": redemption.points})
    return redirect("resident:points_redemption", redemption_id=redemption.pk)
