"""The command centre (/command/): staff login and TOTP, the org tree in scope and each unit's page.
Case lists are in cases_views, 代为登记 in report_views; the case page, messages and the PII page are the
shared ones of `gongzhi.web`."""

import segno
from django.contrib import messages
from django.contrib.auth import login, logout
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.accounts import policies
from gongzhi.accounts import services as account_services
from gongzhi.command.forms import StaffLoginForm, TotpConfirmForm
from gongzhi.command.geo import summarize_boundary
from gongzhi.core.clients import client_address
from gongzhi.core.errors import DomainError
from gongzhi.org.models import Level
from gongzhi.registry import selectors as registry_selectors
from gongzhi.web.access import portal_home, portal_required, safe_next
from gongzhi.web.forms import add_domain_error, refused

TOTP_SESSION_KEY = "totp_enrolment_secret"


def staff_login(request):
    """One sign-in page for every staff portal; `next` brings them back where they were going."""
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    ask_totp = False
    refusal = None
    if request.method == "POST":
        form = StaffLoginForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                user = account_services.staff_login(username=data["username"], password=data["password"],
                                                    totp_code=data["totp_code"] or None,
                                                    client=client_address(request))
            except DomainError as err:
                ask_totp = err.code in {"totp_required", "totp_invalid"}
                add_domain_error(form, err)
                refusal = err
            else:
                login(request, user)
                return redirect(next_url or portal_home(user))
        else:
            ask_totp = bool(request.POST.get("totp_code"))
    else:
        form = StaffLoginForm()
    return refused(render(request, "command/login.html",
                          {"form": form, "ask_totp": ask_totp, "next": next_url or ""}), refusal)


@require_POST
def staff_logout(request):
    logout(request)
    messages.info(request, _("您已退出登录。"))
    return redirect("command:login")


@portal_required("command")
def home(request):
    tree = registry_selectors.scope_tree(request.user)
    return render(request, "command/home.html", {"tree": tree})


@portal_required("command")
def unit_detail(request, unit_id: int):
    detail = registry_selectors.unit_detail(request.user, unit_id)
    boundary = summarize_boundary(detail.unit.boundary) if detail.unit.level == Level.GRID else None
    return render(request, "command/unit.html", {
        "detail": detail, "boundary": boundary,
        "may_unmask": policies.can_unmask_pii(request.user, detail.unit.path)})


def _qr_data_uri(uri: str) -> str:
    return segno.make(uri, error="m").png_data_uri(scale=6, border=2)


@portal_required("command")
def totp_setup(request):
    """Enrol an authenticator app: show a QR code of a fresh secret, turn TOTP on once a code matches.

    The secret waits in the (server-side) session until confirmed, so a wrong code can be retried with
    the same QR code.
    """
    user = request.user
    enrolment = request.session.get(TOTP_SESSION_KEY)
    if request.method == "POST" and enrolment:
        form = TotpConfirmForm(request.POST)
        if form.is_valid():
            try:
                account_services.confirm_totp(user=user, secret=enrolment["secret"],
                                              code=form.cleaned_data["code"])
            except DomainError as err:
                add_domain_error(form, err)
            else:
                del request.session[TOTP_SESSION_KEY]
                messages.success(request, _("动态口令已启用，下次登录时需要输入。"))
                return redirect("command:home")
    else:
        form = TotpConfirmForm()
        try:
            secret, uri = account_services.begin_totp_enrolment(user=user)
        except DomainError as err:
            messages.error(request, err.message)
            return redirect("command:home")
        enrolment = {"secret": secret, "uri": uri}
        request.session[TOTP_SESSION_KEY] = enrolment
    return render(request, "command/totp_setup.html", {
        "form": form, "secret": enrolment["secret"], "qr": _qr_data_uri(enrolment["uri"])})
