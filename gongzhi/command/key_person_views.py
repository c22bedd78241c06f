"""重点人员 in the command portal (desktop): the key persons in the viewer's key-person scope with filters (category,
risk level, 已逾期 / 即将到期, responsible worker, area) and their counts by category and risk level, the Excel
export of the list (no ID numbers, phones masked), and a person's record (each opening logged), where those who
may manage the person change the plan or end the listing.

A post without key-person access (a department handler) gets 404 on every page here."""

import itertools

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.core import excel
from gongzhi.core.errors import DomainError, NotFound
from gongzhi.notifications import services as notification_services
from gongzhi.registry import policies
from gongzhi.registry.models import RiskLevel, VisitFrequency
from gongzhi.registry.selectors import key_persons as selectors
from gongzhi.registry.services import key_persons as services
from gongzhi.web.access import portal_required
from gongzhi.web.forms import add_domain_error
from gongzhi.web.key_person_forms import EndForm, PlanForm

PER_PAGE = 50
EXPORT_MAX_ROWS = 50_000
EXPORT_CHUNK = 2_000


def _require_access(user) -> None:
    if not policies.key_person_paths(user):
        raise NotFound()


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _filters(request) -> selectors.Filters:
    get = request.GET
    due = get.get("due") or None
    return selectors.Filters(category=_int(get.get("category")), risk_level=get.get("risk") or None,
                             due=due, responsible=_int(get.get("responsible")), area=_int(get.get("area")),
                             ended=get.get("ended") == "1")


def _filtered_list(request):
    """The list and its filters; a bad filter value is shown as a message and the list given unfiltered."""
    filters = _filters(request)
    try:
        return filters, selectors.key_person_list(request.user, filters), selectors.key_person_counts(
            request.user, filters)
    except DomainError as err:
        messages.error(request, str(err.message))
        filters = selectors.Filters()
        return filters, selectors.key_person_list(request.user, filters), selectors.key_person_counts(
            request.user, filters)


@portal_required("command")
def key_person_list(request):
    _require_access(request.user)
    filters, persons, counts = _filtered_list(request)
    page = Paginator(persons, PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)

    def narrowed(name: str, value: object) -> str:
        changed = query.copy()
        changed[name] = str(value)
        return "?" + changed.urlencode()

    return render(request, "command/key_persons/list.html", {
        "title": _("重点人员"), "page": page, "persons": selectors.with_due_states(page), "filters": filters,
        "counts": counts, "query": query.urlencode(), "categories": selectors.category_choices(),
        "by_category": [(c, n, narrowed("category", c.pk)) for c, n in counts.by_category],
        "by_risk": [(value, label, n, narrowed("risk", value)) for value, label, n in counts.by_risk],
        "risk_levels": RiskLevel.choices, "areas": selectors.area_choices(request.user),
        "responsibles": selectors.responsible_filter_choices(request.user),
        "due_choices": [(selectors.OVERDUE, _("已逾期")), (selectors.DUE_SOON, _("即将到期（3天内）"))]})


@portal_required("command")
def key_person_export(request):
    """The filtered list as an .xlsx download: no ID number, the phone masked, at most EXPORT_MAX_ROWS rows."""
    _require_access(request.user)
    _filters_used, persons, _counts = _filtered_list(request)
    more = persons[EXPORT_MAX_ROWS:EXPORT_MAX_ROWS + 1].exists()
    note = _("仅导出前%(n)s人，请缩小筛选范围后分批导出。") % {"n": f"{EXPORT_MAX_ROWS:,}"} if more else ""
    header = [_("姓名"), _("性别"), _("出生年份"), _("手机号"), _("类别"), _("风险等级"), _("村(社区)"), _("网格"),
              _("责任人"), _("走访间隔(天)"), _("列管日期"), _("最近走访"), _("应走访日期"), _("走访状态"),
              _("逾期天数"), _("帮扶管控措施")]
    title = _("重点人员")
    file = excel.workbook(excel.Sheet(title=title, header=header, rows=_rows(persons[:EXPORT_MAX_ROWS]), note=note,
                                      widths=[10, 6, 9, 14, 20, 9, 14, 16, 10, 11, 11, 17, 11, 10, 9, 50]))
    name = _("%(title)s-%(date)s.xlsx") % {"title": title, "date": f"{timezone.localdate():%Y%m%d}"}
    return FileResponse(file, as_attachment=True, filename=name, content_type=excel.CONTENT_TYPE)


def _rows(queryset):
    states = {selectors.OVERDUE: _("已逾期"), selectors.DUE_SOON: _("即将到期"), selectors.PLANNED: _("按计划"),
              selectors.ENDED: _("已解除列管")}
    intervals = dict(VisitFrequency.objects.values_list("risk_level", "interval_days"))
    today = timezone.localdate()
    persons = queryset.iterator(chunk_size=EXPORT_CHUNK)
    while chunk := selectors.with_due_states(itertools.islice(persons, EXPORT_CHUNK), today):
        for p in chunk:
            resident = p.resident
            yield [resident.name, resident.get_gender_display(), resident.birth_date.year,
                   str(resident.phone) if resident.phone else "",
                   "、".join(c.name for c in p.categories.all()), p.get_risk_level_display(),
                   p.grid.parent.name if p.grid.parent else "", p.grid.name,
                   str(p.responsible) if p.responsible else "", p.interval_days or intervals.get(p.risk_level, ""),
                   p.started_on.isoformat(), timezone.localtime(p.last_visit_at) if p.last_visit_at else "",
                   p.next_visit_due.isoformat() if p.next_visit_due and not p.ended_on else "",
                   states[p.due_state], p.days_overdue or "", p.care_plan]


def _record_page(request, key_person_id: int, *, plan_form=None, end_form=None, status=200):
    record = selectors.open_record(request.user, key_person_id)
    person = record.person
    if record.may_manage and plan_form is None and person.ended_on is None:
        plan_form = PlanForm(people=selectors.responsible_choices(person.grid), initial={
            "categories": record.categories, "risk_level": person.risk_level,
            "interval_days": person.interval_days, "care_plan": person.care_plan,
            "responsible": str(person.responsible_id or "")})
    return render(request, "command/key_persons/detail.html", {
        "title": person.resident.name, "record": record, "person": person, "plan_form": plan_form,
        "plan_open": status != 200 and end_form is None, "end_form": end_form or EndForm(),
        "end_open": end_form is not None}, status=status)


@portal_required("command")
def key_person_detail(request, key_person_id: int):
    response = _record_page(request, key_person_id)
    notification_services.mark_target_read(user=request.user, target_type="key_person", target_id=key_person_id)
    return response


@portal_required("command")
@require_POST
def key_person_plan(request, key_person_id: int):
    person = selectors.manageable_key_person(request.user, key_person_id)
    form = PlanForm(request.POST, people=selectors.responsible_choices(person.grid))
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.change_plan(actor=request.user, key_person=person, categories=list(data["categories"]),
                                 risk_level=data["risk_level"], care_plan=data["care_plan"],
                                 responsible=data["responsible"], interval_days=data["interval_days"])
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("管控计划已更新。"))
            return redirect("command:key_person", key_person_id=person.pk)
    return _record_page(request, person.pk, plan_form=form, status=422)


@portal_required("command")
@require_POST
def key_person_end(request, key_person_id: int):
    person = selectors.manageable_key_person(request.user, key_person_id)
    form = EndForm(request.POST)
    if form.is_valid():
        try:
            services.end_listing(actor=request.user, key_person=person, reason=form.cleaned_data["reason"])
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("已解除列管。"))
            return redirect("command:key_person", key_person_id=person.pk)
    return _record_page(request, person.pk, end_form=form, status=422)
