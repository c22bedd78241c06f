"""The grid-worker portal (/worker/): my grids, my tasks, field reports, my posts, and on the home page the open
tasks of the task lists (任务清单) given to my units. Each grid's 一标三实 hub is in registry_views; messages, the
PII page, the case page, the task page and the registry's record pages are the shared ones of `gongzhi.web`."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.accounts import policies
from gongzhi.accounts import selectors as account_selectors
from gongzhi.analytics import selectors as analytics_selectors
from gongzhi.cases import selectors
from gongzhi.core.clients import client_address
from gongzhi.core.errors import DomainError, NotFound
from gongzhi.registry import policies as registry_policies
from gongzhi.registry import selectors as registry_selectors
from gongzhi.registry import services as registry_services
from gongzhi.registry.selectors import fieldwork as fieldwork_selectors
from gongzhi.registry.selectors import key_persons as key_person_selectors
from gongzhi.web.access import portal_required
from gongzhi.web.forms import add_domain_error, refused
from gongzhi.web.report import report_page
from gongzhi.worker.forms import RebindForm, VerifyForm

TASKS_PER_PAGE = 30


@portal_required("worker")
def home(request):
    grids = registry_selectors.grid_summaries(request.user)
    waiting = (registry_selectors.verification_queue(request.user, limit=0)[1]
               if policies.identity_paths(request.user) else None)
    return render(request, "worker/home.html", {
        "grids": grids, "identity_waiting": waiting,
        "open_tasks": analytics_selectors.open_tasks_of_my_units(request.user),
        "key_persons": key_person_selectors.due_summary(request.user)})


@portal_required("worker")
def me(request):
    return render(request, "worker/me.html", {
        "may_cadre_visit": fieldwork_selectors.may_record_cadre_visit(request.user),
        "may_import_export": registry_policies.can_import_or_export(request.user)})


@portal_required("worker")
def tasks(request):
    """我的任务: cases led by the user's units, and handled cases in their grids awaiting a return visit."""
    queryset = selectors.tasks_for(request.user)
    page = Paginator(queryset.select_related("category", "grid"), TASKS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "worker/cases_tasks.html", {"page": page})


@portal_required("worker")
def report(request):
    """上报事件: the worker's own field report (never anonymous), located by the phone, typed coordinates or
    the worker's grid."""
    # Started from the patrol page (?patrol=, then the form's hidden field): the case is linked to the patrol
    # when it is the worker's own open one; any other id is ignored.
    patrol = fieldwork_selectors.own_open_patrol(request.user, request.POST.get("patrol")
                                                 or request.GET.get("patrol"))
    grid = patrol.grid if patrol is not None else account_selectors.first_grid_post(request.user)
    return report_page(request, grid_point=grid.inner_point() if grid is not None else None, show_anonymous=False,
                       patrol=patrol)


def _identity_page(request, *, verify_forms=None, rebind_form=None, code_sent_to="", status=200):
    queue, total = registry_selectors.verification_queue(request.user)
    verify_forms = verify_forms or {}
    return render(request, "worker/identity.html", {
        "queue": [(item, verify_forms.get(item.account.pk) or VerifyForm(auto_id=f"v{item.account.pk}-%s"))
                  for item in queue],
        "total": total, "rebind_form": rebind_form or RebindForm(), "code_sent_to": code_sent_to,
        "section": "identity"}, status=status)


@portal_required("worker")
def identity(request):
    """身份核验: unverified residents waiting to be seen in person, and re-binding a verified one's phone
    (village administrators)."""
    return _identity_page(request)


@portal_required("worker")
@require_POST
def identity_verify(request, account_id: int):
    account = registry_selectors.pending_account(request.user, account_id)
    form = VerifyForm(request.POST, auto_id=f"v{account.pk}-%s")
    if form.is_valid():
        try:
            record = registry_services.verify_in_person(actor=request.user, account=account,
                                                        reason=form.cleaned_data["reason"])
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("已核实%(name)s的身份。") % {"name": record.name})
            return redirect("worker:identity")
    return _identity_page(request, verify_forms={account.pk: form}, status=422)


@portal_required("worker")
@require_POST
def identity_rebind(request):
    """换绑手机号 in two presses: 发送验证码到新手机 (the code goes to the new phone), then 确认换绑 with the code
    the resident reads out."""
    if not policies.identity_paths(request.user):
        raise NotFound()
    form = RebindForm(request.POST)
    sending = "send_code" in request.POST
    refusal = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            if sending:
                sent_to = registry_services.send_rebind_code(actor=request.user, id_number=data["id_number"],
                                                             phone=data["phone"], client=client_address(request))
            else:
                account = registry_services.rebind_phone(actor=request.user, id_number=data["id_number"],
                                                         phone=data["phone"], reason=data["reason"],
                                                         code=data["code"])
        except DomainError as err:
            add_domain_error(form, err)
            refusal = err
        else:
            if sending:
                return _identity_page(request, rebind_form=form, code_sent_to=sent_to)
            messages.success(request, _("已将%(name)s的手机号换绑为%(phone)s。") % {
                "name": account.real_name, "phone": account.phone})
            return redirect("worker:identity")
    return refused(_identity_page(request, rebind_form=form, status=422), refusal)
