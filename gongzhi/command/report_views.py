"""代为登记: a command-centre staff member records a matter for a resident who came in or phoned.

One service, `cases.services.report_on_behalf`, finds or opens the resident's account and reports the case
in their name in one transaction: a refusal of either leaves neither an account nor a case behind.
"""

import uuid

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from gongzhi.accounts import policies as account_policies
from gongzhi.cases import categories, services
from gongzhi.command.report_forms import OnBehalfReportForm
from gongzhi.core.errors import DomainError, Forbidden, NotFound
from gongzhi.org import selectors as org_selectors
from gongzhi.org.models import OrgUnit
from gongzhi.web.access import portal_required
from gongzhi.web.forms import add_domain_error
from gongzhi.web.report import complaint_subject, grid_at, posted_point

TEMPLATE = "command/cases_new.html"


def _complaint_grid(data, user) -> OrgUnit | None:
    """The grid whose units a complaint may name: at the typed point, else the chosen grid of the user's."""
    grid = grid_at(posted_point(data))
    if grid is None and str(data.get("grid", "")).isdigit():
        grid = OrgUnit.objects.filter(account_policies.on_behalf_q(user), pk=int(data["grid"])).first()
    return grid


def _point(form: OnBehalfReportForm) -> tuple[float, float] | None:
    """Where the matter happened: the typed coordinates, else a point inside the chosen grid."""
    data = form.cleaned_data
    if data["lat"] is not None and data["lng"] is not None:
        return data["lat"], data["lng"]
    try:
        grid = org_selectors.get_unit(OrgUnit.objects.filter(account_policies.on_behalf_q(form.user)),
                                      data["grid"])
    except NotFound:
        grid = None
    point = grid.inner_point() if grid is not None else None
    if point is None:
        form.add_error("grid", _("该网格没有划定边界，请填写事发地点的纬度和经度。"))
    return point


@portal_required("command")
def case_new(request):
    """GET: the empty form with a fresh client_id. POST: success → the new case's page with its number; bad
    input (a place outside the user's grids included) → the form again (422) with each message next to its
    field, nothing written; not the user's to do → 403. A retry with the same client_id returns the first case."""
    user = request.user
    if not account_policies.can_report_on_behalf(user):
        raise Forbidden(_("只有指挥中心工作人员可以代为登记。"))
    if request.method != "POST":
        form = OnBehalfReportForm(user=user, initial={"client_id": uuid.uuid4()})
        return render(request, TEMPLATE, {"form": form})
    form = OnBehalfReportForm(request.POST, request.FILES, user=user,
                              complaint_grid=_complaint_grid(request.POST, user))
    if form.is_valid():
        data = form.cleaned_data
        category = categories.by_id(data["category"])
        point = _point(form)
        if category is None:
            form.add_error("category", _("请选择事件分类。"))
        elif point is not None:
            try:
                case, _created = services.report_on_behalf(
                    actor=user, name=data["name"], id_number=data["id_number"], phone=data["phone"],
                    client_id=data["client_id"], category=category, description=data["description"],
                    lat=point[0], lng=point[1], address=data["address"], is_anonymous=data["is_anonymous"],
                    photos=data["photos"], subject_unit=complaint_subject(category, data["subject_unit"]))
            except NotFound:  # typed coordinates in no grid, or in none of the user's: one message for both
                form.add_error("lat", _("该位置不在您管辖的网格内，请核对纬度和经度。"))
            except DomainError as err:
                add_domain_error(form, err)
            else:
                messages.success(request, _("已代为登记，编号%(number)s。") % {"number": case.number})
                if case.reporter is not None and case.reporter.confirmed_at is None:
                    messages.info(request, _("请告诉群众：用本手机号注册后，即可在手机上查看办理进度。"))
                stored_phone = case.reporter.phone if case.reporter is not None else None
                if stored_phone is not None and stored_phone != data["phone"]:
                    # An existing account keeps its number (changing it needs the person's SMS code).
                    messages.warning(request, _(
                        "该群众账号登记的手机号是%(phone)s，与本次填写的不同；进度短信将发到账号登记的号码。")
                        % {"phone": stored_phone.masked})
                return redirect("command:case", case_id=case.pk)
    return render(request, TEMPLATE, {"form": form, "files_dropped": bool(request.FILES)}, status=422)
