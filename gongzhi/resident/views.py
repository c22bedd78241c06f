from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.accounts import services as account_services
from gongzhi.accounts.models import User
from gongzhi.accounts.selectors import primary_portal
from gongzhi.accounts.sms import recent_dev_messages
from gongzhi.command.access import portal_home, safe_next
from gongzhi.command.views import inbox_page, mark_all_notifications_read, open_notification
from gongzhi.core.context_processors import LARGE_TYPE_COOKIE
from gongzhi.core.errors import DomainError, NotFound
from gongzhi.core.pii import mask_phone
from gongzhi.core.validators import normalize_phone
from gongzhi.registry import selectors as registry_selectors
from gongzhi.registry import services as registry_services
from gongzhi.resident.forms import LoginForm, SignupForm, add_domain_error

LARGE_TYPE_MAX_AGE = 365 * 24 * 3600


def login_required(view):
    """Signed-in users only; anyone else goes to the resident login and comes back afterwards."""
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect(reverse("resident:login") + "?" + urlencode({"next": request.get_full_path()}))
        return view(request, *args, **kwargs)

    return wrapped


def home(request):
    user = request.user
    if user.is_authenticated and user.kind == User.Kind.STAFF and primary_portal(user) != "resident":
        return redirect(portal_home(user))
    overview = registry_selectors.resident_overview(user) if user.is_authenticated else None
    return render(request, "resident/home.html", {"overview": overview})


@login_required
def inbox(request):
    user = request.user
    if user.kind == User.Kind.STAFF and (portal := primary_portal(user)) != "resident":
        return redirect(f"{portal}:messages")  # staff read their messages in their own portal
    return inbox_page(request, base="resident/base.html", portal="resident")


@login_required
def inbox_open(request, notification_id: int):
    return open_notification(request, notification_id, portal="resident")


@login_required
def inbox_read_all(request):
    return mark_all_notifications_read(request, portal="resident")


def _send_code(request, form_class, *, purpose: str, template: str):
    """The "获取验证码" button: a whole-page re-render without JS, just the status line with htmx."""
    context: dict[str, object] = {"resend_after": settings.SMS_CODE_RESEND_SECONDS}
    phone = request.POST.get("phone", "")
    try:
        account_services.send_login_code(phone=phone, purpose=purpose)
    except DomainError as err:
        context["sms_error"] = err.message
    else:
        values = {"phone": mask_phone(normalize_phone(phone)),
                  "m": max(1, settings.SMS_CODE_TTL_SECONDS // 60)}
        if purpose == "login":
            # The service sends nothing to unknown phones; the page must not tell which ones exist.
            context["sms_notice"] = _("如该手机号已注册，验证码已发送至%(phone)s，%(m)d分钟内有效。") % values
        else:
            context["sms_notice"] = _("验证码已发送至%(phone)s，%(m)d分钟内有效。") % values
    if request.headers.get("HX-Request"):
        return render(request, "resident/_sms_status.html", context)
    initial = {name: request.POST.get(name, "") for name in form_class.base_fields}
    initial["consent"] = bool(request.POST.get("consent"))
    context["form"] = form_class(initial=initial)
    return render(request, template, context)


def signup(request):
    if request.user.is_authenticated:
        return redirect("resident:home")
    template = "resident/signup.html"
    if request.method == "POST":
        if request.POST.get("action") == "send_code":
            return _send_code(request, SignupForm, purpose="signup", template=template)
        form = SignupForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                user = registry_services.register_resident(
                    name=data["name"], id_number=data["id_number"], phone=data["phone"], code=data["code"])
            except DomainError as err:
                add_domain_error(form, err)
            else:
                login(request, user)
                messages.success(request, _("注册成功，欢迎使用。"))
                return redirect("resident:home")
    else:
        form = SignupForm()
    return render(request, template, {"form": form})


def login_view(request):
    if request.user.is_authenticated:
        return redirect("resident:home")
    template = "resident/login.html"
    if request.method == "POST":
        if request.POST.get("action") == "send_code":
            return _send_code(request, LoginForm, purpose="login", template=template)
        form = LoginForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                user = account_services.resident_login(
                    id_number=data["id_number"], phone=data["phone"], code=data["code"])
            except DomainError as err:
                add_domain_error(form, err)
            else:
                login(request, user)
                return redirect(safe_next(request, request.GET.get("next")) or reverse("resident:home"))
    else:
        form = LoginForm()
    return render(request, template, {"form": form})


@require_POST
def logout_view(request):
    logout(request)
    messages.info(request, _("您已退出登录。"))
    return redirect("resident:home")


@require_POST
def large_type(request):
    """Turn large type on or off (the form says which), so a double submit cannot flip it back."""
    response = redirect(safe_next(request, request.POST.get("next")) or reverse("resident:home"))
    if request.POST.get("large_type") == "1":
        response.set_cookie(LARGE_TYPE_COOKIE, "1", max_age=LARGE_TYPE_MAX_AGE, samesite="Lax", httponly=True)
    else:
        response.delete_cookie(LARGE_TYPE_COOKIE, samesite="Lax")
    return response


def privacy(request):
    return render(request, "resident/privacy.html")


def dev_sms(request):
    try:
        sent = recent_dev_messages(limit=20)
    except NotFound:
        raise Http404 from None
    return render(request, "resident/dev_sms.html", {"sent": sent})
