"""The merchant's pages (/merchant/): a 商户 signs in at the staff login with a user name and password, lands on
their shop's 核销 page, and captures redemptions there: by scanning the resident's QR code with the phone camera
(static/js/merchant-scan.js, which posts the decoded text with fetch and is answered in JSON), or by typing the
6-digit code, or through a scanner gun / pasted token (plain form posts, answered with the page). A shop the
user does not manage answers 404 (points.selectors.merchant).
"""

from functools import wraps
from urllib.parse import urlencode

from django import forms
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from gongzhi.core.errors import DomainError, Forbidden, NotFound
from gongzhi.points.selectors import merchant as selectors
from gongzhi.points.services import redemptions
from gongzhi.web.access import staff_login_url
from gongzhi.web.forms import Form, refused

TOKEN_MAX_LENGTH = 500


class CodeForm(Form):
    # The service checks the format and says what is wrong; the form only bounds the input.
    code = forms.CharField(label=gettext_lazy("兑换码（6位数字）"), max_length=20, required=False,
                           widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off",
                                                         "pattern": "[0-9 ]*", "maxlength": "20"}))


class TokenForm(Form):
    token = forms.CharField(label=gettext_lazy("二维码内容"), max_length=TOKEN_MAX_LENGTH,
                            error_messages={"required": gettext_lazy("请扫描二维码，或粘贴二维码的内容。")},
                            widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false",
                                                          "autocapitalize": "off"}))


def merchant_login_required(view):
    """Signed-in users only; merchants sign in where staff do (user name and password)."""
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect(staff_login_url(request.get_full_path()))
        return view(request, *args, **kwargs)

    return wrapped


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@merchant_login_required
def home(request):
    """Where a merchant lands: their shop's page, or the choice among their shops."""
    shops = selectors.shops_managed(request.user)
    if len(shops) == 1:
        return redirect("resident:merchant_desk", shop_id=shops[0].pk)
    if not shops and not selectors.is_merchant(request.user):
        raise Http404
    return render(request, "resident/merchant/home.html", {"shops": shops})


def _desk_page(request, shop_id: int, *, code_form=None, token_form=None, result=None, refusal=None,
               status: int = 200):
    desk = selectors.shop_desk(request.user, shop_id)
    return render(request, "resident/merchant/desk.html", {
        "desk": desk, "code_form": code_form or CodeForm(), "token_form": token_form or TokenForm(),
        "result": result, "refusal": refusal,
        "several_shops": len(selectors.shops_managed(request.user)) > 1}, status=status)


@merchant_login_required
def desk(request, shop_id: int):
    """The shop's 核销 page; `?done=<id>` shows the pickup a plain form post just confirmed."""
    done = request.GET.get("done", "")
    result = selectors.pickup(request.user, shop_id, int(done)) if done.isascii() and done.isdigit() else None
    return _desk_page(request, shop_id, result=result)


def _pickup_json(pickup: selectors.Pickup, waiting: int) -> dict[str, object]:
    return {"ok": True, "message": _("领取成功"), "item": pickup.item, "quantity": pickup.quantity,
            "points": pickup.points, "resident": pickup.resident,
            "time": formats.time_format(timezone.localtime(pickup.captured_at), "H:i"), "waiting": waiting}


@merchant_login_required
@require_POST
def capture(request, shop_id: int):
    """One capture: the token a scan or a scanner gun gave, or the typed code. The service refuses whatever
    captures nothing (forged, another shop's, expired, already used, cancelled, a wrong code) with its message."""
    shop = selectors.managed_shop(request.user, shop_id)
    by_token = "token" in request.POST
    form = TokenForm(request.POST) if by_token else CodeForm(request.POST)
    refusal: DomainError | None = None
    if form.is_valid():
        try:
            if by_token:
                redemption = redemptions.capture_token(merchant=request.user, shop=shop,
                                                       token=form.cleaned_data["token"])
            else:
                redemption = redemptions.capture_code(merchant=request.user, shop=shop,
                                                      code=form.cleaned_data["code"])
        except (NotFound, Forbidden):
            raise
        except DomainError as err:
            refusal = err
        else:
            if _wants_json(request):
                pickup = selectors.pickup(request.user, shop.pk, redemption.pk)
                if pickup is not None:  # just captured here: always
                    return JsonResponse(_pickup_json(pickup, selectors.waiting_count(request.user, shop.pk)))
            return redirect(reverse("resident:merchant_desk", args=[shop.pk]) + "?" + urlencode(
                {"done": redemption.pk}))
    if refusal is None:  # the form's own check (empty, too long, control characters)
        field = next(iter(form.errors))
        refusal = DomainError(str(form.errors[field][0]), field=field)
    if _wants_json(request):
        return JsonResponse({"ok": False, "message": str(refusal.message), "code": refusal.code},
                            status=refusal.status)
    if refusal.field and refusal.field in form.fields and not form.errors:
        form.add_error(refusal.field, str(refusal.message))
    return refused(_desk_page(request, shop.pk, code_form=None if by_token else form,
                              token_form=form if by_token else None, refusal=None if refusal.field else refusal),
                   refusal)
