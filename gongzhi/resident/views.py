"""The resident portal (/): home, sign-up and login by SMS code, large type, 我要说事, 我的事件 with follow-up
questions and ratings. Messages and the report page are the shared ones of `gongzhi.web`."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from gongzhi.accounts import services as account_services
from gongzhi.accounts.models import User
from gongzhi.accounts.selectors import is_verified_resident, primary_portal
from gongzhi.accounts.sms import recent_dev_messages
from gongzhi.analytics import selectors as analytics_selectors
from gongzhi.cases import deadlines, policies, selectors, services
from gongzhi.cases.models import Attachment, Rating
from gongzhi.cases.workflow import Action, Status
from gongzhi.core.clients import client_address
from gongzhi.core.errors import DomainError
from gongzhi.core.pii import mask_phone
from gongzhi.core.validators import normalize_phone
from gongzhi.notifications import services as notification_services
from gongzhi.points.selectors import merchant as merchant_selectors
from gongzhi.publications import kinds
from gongzhi.publications.selectors import core as publication_selectors
from gongzhi.registry import selectors as registry_selectors
from gongzhi.registry import services as registry_services
from gongzhi.resident.forms import FollowUpForm, LoginForm, RatingForm, SignupForm
from gongzhi.web import assessment, inbox
from gongzhi.web.access import login_required, portal_home, safe_next
from gongzhi.web.context_processors import LARGE_TYPE_COOKIE
from gongzhi.web.forms import add_domain_error, refused
from gongzhi.web.report import report_page

LARGE_TYPE_MAX_AGE = 365 * 24 * 3600
HOME_NOTICES = 3


def home(request):
    user = request.user
    if user.is_authenticated and user.kind == User.Kind.STAFF:
        if primary_portal(user) != "resident":
            return redirect(portal_home(user))
        if merchant_selectors.is_merchant(user):  # a 商户 account: their shop's page
            return redirect("resident:merchant_home")
    overview = registry_selectors.resident_overview(user) if user.is_authenticated else None
    # 公开事务: the newest notices of the visitor's area (the public ones for anybody else).
    notices = publication_selectors.readable(user, group=kinds.Group.NOTICES)[:HOME_NOTICES]
    return render(request, "resident/home.html", {"overview": overview, "notices": notices})


def inbox_or_own_portal(request):
    """The messages page (behind login_required in urls); staff read theirs in their own portal."""
    user = request.user
    if user.kind == User.Kind.STAFF and (portal := primary_portal(user)) != "resident":
        return redirect(f"{portal}:messages")
    return inbox.inbox(request)


def _send_code(request, form_class, *, purpose: str, template: str):
    """The "获取验证码" button: a whole-page re-render without JS, just the status line for static/js/sms-code.js."""
    context: dict[str, object] = {"resend_after": settings.SMS_CODE_RESEND_SECONDS}
    phone = request.POST.get("phone", "")
    refusal = None
    try:
        account_services.send_login_code(phone=phone, purpose=purpose, client=client_address(request))
    except DomainError as err:
        context["sms_error"] = err.message
        refusal = err
    else:
        values = {"phone": mask_phone(normalize_phone(phone)),
                  "m": max(1, settings.SMS_CODE_TTL_SECONDS // 60)}
        if purpose == "login":
            # The service sends nothing to unknown phones; the page must not tell which ones exist.
            context["sms_notice"] = _("如该手机号已注册，验证码已发送至%(phone)s，%(m)d分钟内有效。") % values
        else:
            context["sms_notice"] = _("验证码已发送至%(phone)s，%(m)d分钟内有效。") % values
    if request.headers.get("X-Fragment") == "sms-status":
        return refused(render(request, "resident/_sms_status.html", context), refusal)
    initial = {name: request.POST.get(name, "") for name in form_class.base_fields}
    initial["consent"] = bool(request.POST.get("consent"))
    context["form"] = form_class(initial=initial)
    return refused(render(request, template, context), refusal)


def signup(request):
    if request.user.is_authenticated:
        return redirect("resident:home")
    template = "resident/signup.html"
    refusal = None
    if request.method == "POST":
        if request.POST.get("action") == "send_code":
            return _send_code(request, SignupForm, purpose="signup", template=template)
        form = SignupForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                user = registry_services.register_resident(
                    name=data["name"], id_number=data["id_number"], phone=data["phone"], code=data["code"],
                    client=client_address(request))
            except DomainError as err:
                add_domain_error(form, err)
                refusal = err
            else:
                login(request, user)
                if is_verified_resident(user):
                    messages.success(request, _("注册成功，已与户籍信息核实。欢迎使用。"))
                else:
                    messages.info(request, _("注册成功。您的身份尚未核实：可以反映问题、查看自己的事件；"
                                             "请带身份证到村(社区)当面核验后，即可查看户籍信息。"))
                return redirect("resident:home")
    else:
        form = SignupForm()
    return refused(render(request, template, {"form": form}), refusal)


def login_view(request):
    if request.user.is_authenticated:
        return redirect("resident:home")
    template = "resident/login.html"
    refusal = None
    if request.method == "POST":
        if request.POST.get("action") == "send_code":
            return _send_code(request, LoginForm, purpose="login", template=template)
        form = LoginForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                user = account_services.resident_login(
                    id_number=data["id_number"], phone=data["phone"], code=data["code"],
                    client=client_address(request))
            except DomainError as err:
                add_domain_error(form, err)
                refusal = err
            else:
                login(request, user)
                return redirect(safe_next(request, request.GET.get("next")) or reverse("resident:home"))
    else:
        form = LoginForm()
    return refused(render(request, template, {"form": form}), refusal)


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
    sent = recent_dev_messages(limit=20)
    return render(request, "resident/dev_sms.html", {"sent": sent})


# ---------------------------------------------------------------------------------------------------------
# Cases: 我要说事, 我的事件, a case's progress, follow-up questions and ratings

# The four plain-words steps residents know from the paper scheme (我要说事→已派单→正在办理→已完成).
PROGRESS_STEPS = (gettext_lazy("我要说事"), gettext_lazy("已派单"), gettext_lazy("正在办理"), gettext_lazy("已完成"))
_STEP_OF_STATUS = {
    Status.REPORTED: 1, Status.ACCEPTED: 1, Status.RETURNED: 1, Status.ESCALATED: 1,
    Status.DISPATCHED: 2, Status.IN_PROGRESS: 3, Status.DEFERRED: 3, Status.REOPENED: 3,
    Status.HANDLED: 4, Status.CONFIRMED: 4, Status.CLOSED: 4, Status.RATED: 4,
}


def progress_of(status: str) -> list[dict[str, object]]:
    """The four steps with done/current marks; empty for a rejected case (it has its own message)."""
    reached = _STEP_OF_STATUS.get(Status(status), 0)
    if not reached:
        return []
    return [{"label": label, "done": n <= reached, "current": n == reached}
            for n, label in enumerate(PROGRESS_STEPS, start=1)]


def _grid_point(user: User) -> tuple[float, float] | None:
    grid = registry_selectors.resident_overview(user).grid
    return grid.inner_point() if grid is not None else None


@login_required
def case_new(request):
    return report_page(request, grid_point=_grid_point(request.user), show_anonymous=True)


@login_required
def case_list(request):
    cases = [{"case": case, "progress": progress_of(case.status)} for case in selectors.my_cases(request.user)]
    return render(request, "resident/case_list.html", {"cases": cases})


def _detail(request, case_id: int, *, follow_up_form=None, rating_form=None, status: int = 200):
    case = selectors.case_for(request.user, case_id)
    if not policies.is_follower(request.user, case):
        raise Http404  # staff read cases in their own portal
    # Looking at the case reads the messages about it, before the page's badge is counted.
    notification_services.mark_target_read(user=request.user, target_type="case", target_id=case.pk)
    timeline = selectors.public_timeline(case, viewer=request.user)
    available = {t.action for t in policies.actions_for(request.user, case)}
    rated = selectors.has_rated_this_round(request.user, case)
    scores = [(value, label) for value, label in Rating.Score.choices
              if (Action.RATE_UNSATISFIED if value == Rating.Score.UNSATISFIED else Action.RATE) in available]
    rating_closed = bool(scores) and not rated and not deadlines.rating_open(case)
    can_rate = bool(scores) and not rated and not rating_closed
    rejection = next((e.note for e in reversed(timeline) if e.action == Action.REJECT), "")
    attachments = selectors.report_attachments(case)
    step_files = selectors.step_files(case)
    return render(request, "resident/case_detail.html", {
        "case": case, "progress": progress_of(case.status),
        # The public steps, each with the photos and documents it carried (处置后 photos of 办结 …).
        "timeline": [(entry, step_files.get(entry.seq)) for entry in timeline],
        "photos": [a for a in attachments if a.kind == Attachment.Kind.PHOTO],
        "voices": [a for a in attachments if a.kind == Attachment.Kind.VOICE],
        "rejection": rejection,
        "conversation": [e for e in timeline if e.action in (Action.FOLLOW_UP, Action.REPLY)],
        "can_follow_up": Action.FOLLOW_UP in available,
        "follow_up_form": follow_up_form or FollowUpForm(),
        "can_rate": can_rate, "rated": rated, "rating_closed": rating_closed,
        "rating_form": rating_form or RatingForm(scores=scores),
    }, status=status)


@login_required
def case_detail(request, case_id: int):
    return _detail(request, case_id)


def _act(request, case_id: int, form, *, form_name: str, done: str):
    """Take the resident's action of `form` (a question, a rating) on their case: back to it with `done`, or
    the page again with the message next to the field (422), nothing changed."""
    case = selectors.case_for(request.user, case_id)
    if form.is_valid():
        try:
            services.take_action(actor=request.user, case=case, action=form.action(),
                                 client_key=form.cleaned_data["client_key"],
                                 **form.payload(user=request.user, case=case))
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, done)
            return redirect("resident:case", case_id=case.pk)
    return _detail(request, case_id, status=422, **{form_name: form})


@login_required
@require_POST
def case_follow_up(request, case_id: int):
    return _act(request, case_id, FollowUpForm(request.POST), form_name="follow_up_form",
                done=_("追问已发送，答复后会通知您。"))


@login_required
@require_POST
def case_rate(request, case_id: int):
    return _act(request, case_id, RatingForm(request.POST), form_name="rating_form", done=_("感谢您的评价。"))


# ---------------------------------------------------------------------------------------------- public figures


def public_assessments(request):
    """办理情况公开 (B6): the counties and townships whose figures anyone may read."""
    return render(request, "resident/public_assessments.html", {"units": analytics_selectors.public_units()})


def public_assessment(request, code: str):
    """One county's or township's figures for whole months, with the formulas, for anyone: the same counts
    the command centres are assessed on, without the people who handled the cases."""
    unit = analytics_selectors.public_unit(code)
    chosen, sort = assessment.read_period(request), assessment.read_sort(request)
    result = analytics_selectors.assessment(unit, chosen, with_workers=False)
    if request.GET.get("format") == "xlsx":
        return assessment.workbook(result, sort, with_workers=False)
    base = {"from": f"{chosen.first:%Y-%m}", "to": f"{chosen.last:%Y-%m}", "sort": sort}
    public_levels = analytics_selectors.PUBLIC_LEVELS

    def link_for(child) -> str | None:
        if child.level not in public_levels:
            return None
        return reverse("resident:public_assessment", args=[child.code]) + "?" + urlencode(base)

    table = assessment.context(result, sort, link_for)
    return render(request, "resident/public_assessment.html", {
        **table, "unit": unit, "this_month": timezone.localdate(),
        "export_query": urlencode({**base, "format": "xlsx"}),
        "parent_link": link_for(unit.parent) if unit.parent else None,
        "rankings": [(_("下级区域"), table["areas"], "rank-areas"), (_("部门"), table["units"], "rank-units")]})
