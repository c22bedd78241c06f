import segno
from django.contrib import messages
from django.contrib.auth import login, logout
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from gongzhi.accounts import policies
from gongzhi.accounts import services as account_services
from gongzhi.accounts.models import COMMAND_ROLES, Role
from gongzhi.accounts.selectors import posts_of
from gongzhi.command.access import portal_home, portal_required, safe_next, site_path
from gongzhi.command.forms import PiiRevealForm, StaffLoginForm, TotpConfirmForm
from gongzhi.command.geo import summarize_boundary
from gongzhi.core.errors import DomainError, NotFound
from gongzhi.notifications import selectors as notification_selectors
from gongzhi.notifications import services as notification_services
from gongzhi.org.models import Level
from gongzhi.registry import selectors as registry_selectors
from gongzhi.resident.forms import add_domain_error

TOTP_SESSION_KEY = "totp_enrolment_secret"
NOTIFICATIONS_PER_PAGE = 20


def header_context(request) -> dict:
    user = request.user
    return {
        "posts": posts_of(user),
        "is_system_admin": user.is_superuser or Role.SYSTEM_ADMIN in policies.roles_of(user),
        "may_use_totp": bool(policies.roles_of(user) & COMMAND_ROLES),
        "may_report_on_behalf": policies.can_report_on_behalf(user),
    }


def staff_login(request):
    """One sign-in page for every staff portal; `next` brings them back where they were going."""
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    ask_totp = False
    if request.method == "POST":
        form = StaffLoginForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                user = account_services.staff_login(username=data["username"], password=data["password"],
                                                    totp_code=data["totp_code"] or None)
            except DomainError as err:
                ask_totp = err.code in {"totp_required", "totp_invalid"}
                add_domain_error(form, err)
            else:
                login(request, user)
                return redirect(next_url or portal_home(user))
        else:
            ask_totp = bool(request.POST.get("totp_code"))
    else:
        form = StaffLoginForm()
    return render(request, "command/login.html", {"form": form, "ask_totp": ask_totp, "next": next_url or ""})


@require_POST
def staff_logout(request):
    logout(request)
    messages.info(request, _("您已退出登录。"))
    return redirect("command:login")


@portal_required("command")
def home(request):
    tree = registry_selectors.scope_tree(request.user)
    return render(request, "command/home.html", {"tree": tree, **header_context(request)})


@portal_required("command")
def unit_detail(request, unit_id: int):
    try:
        detail = registry_selectors.unit_detail(request.user, unit_id)
    except NotFound:
        raise Http404 from None
    boundary = summarize_boundary(detail.unit.boundary) if detail.unit.level == Level.GRID else None
    return render(request, "command/unit.html", {
        "detail": detail, "boundary": boundary,
        "may_unmask": policies.can_unmask_pii(request.user, detail.unit.path), **header_context(request)})


@never_cache
def reveal_pii_page(request, subject_type: str, subject_id: int, field: str, *, base: str, **context):
    """A masked ID or phone number, and the full one once a reason is given (the worker portal uses it too).

    The full number appears in this one response only: never in a URL, the session, or a log line.
    """
    try:
        target = registry_selectors.pii_target(request.user, subject_type, subject_id, field)
    except NotFound:
        raise Http404 from None
    if not policies.can_unmask_pii(request.user, target.path):
        raise PermissionDenied(_("您没有查看完整个人信息的权限。"))
    value = None
    if request.method == "POST":
        form = PiiRevealForm(request.POST)
        if form.is_valid():
            try:
                value = account_services.reveal_pii(actor=request.user, subject=target.person, field=field,
                                                    reason=form.reason_text())
            except DomainError as err:
                add_domain_error(form, err)
    else:
        form = PiiRevealForm()
    return render(request, "command/pii_reveal.html", {
        "base": base, "target": target, "field": field, "form": form, "value": value,
        "back": safe_next(request, request.GET.get("next")) or portal_home(request.user), **context})


@portal_required("command")
def reveal_pii(request, subject_type: str, subject_id: int, field: str):
    return reveal_pii_page(request, subject_type, subject_id, field, base="command/base.html",
                           **header_context(request))


def inbox_page(request, *, base: str, portal: str, **context):
    """The signed-in user's messages, newest first, 20 a page (the resident and worker portals use it too).

    `portal` is the URL namespace ("resident", "worker", "command") whose message URLs the page posts to.
    """
    page = Paginator(notification_selectors.inbox_for(request.user), NOTIFICATIONS_PER_PAGE).get_page(
        request.GET.get("page"))
    return render(request, "command/inbox.html", {"base": base, "portal": portal, "page": page, **context})


def _inbox_url(portal: str, page: str | None = None) -> str:
    url = reverse(f"{portal}:messages")
    return f"{url}?page={page}" if page and page.isascii() and page.isdigit() and page != "1" else url


@require_POST
def open_notification(request, notification_id: int, *, portal: str):
    """Mark one of the user's messages read, then follow its link, or go back to the inbox without one.

    Someone else's message answers 404. Only a path on this site is followed: notify() accepts nothing
    else, and this refuses anything else too, so a message can never send anyone off-site.
    """
    notification = get_object_or_404(notification_selectors.inbox_for(request.user), pk=notification_id)
    notification_services.mark_read(user=request.user, notification_ids=[notification.pk])
    back = _inbox_url(portal, request.POST.get("page"))
    if not notification.link:
        return redirect(back)
    target = site_path(notification.link)
    if target is None:
        messages.error(request, _("这条消息的链接无效，无法打开。"))
        return redirect(back)
    return redirect(target)


@require_POST
def mark_all_notifications_read(request, *, portal: str):
    count = notification_services.mark_all_read(user=request.user)
    if count:
        text = ngettext("已将%(n)d条消息标为已读。", "已将%(n)d条消息标为已读。", count)
        messages.success(request, text % {"n": count})
    return redirect(_inbox_url(portal))


@portal_required("command")
def inbox(request):
    return inbox_page(request, base="command/base.html", portal="command", **header_context(request))


@portal_required("command")
def inbox_open(request, notification_id: int):
    return open_notification(request, notification_id, portal="command")


@portal_required("command")
def inbox_read_all(request):
    return mark_all_notifications_read(request, portal="command")


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
        "form": form, "secret": enrolment["secret"], "qr": _qr_data_uri(enrolment["uri"]),
        **header_context(request)})
