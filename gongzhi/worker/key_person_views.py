"""重点人员 in the grid-worker portal (phone): the key persons of my grids, the most pressing first (已逾期, 即将到期);
a person's record with the plan, a 登记走访 form (`registry.services.visits.record_visit`, which moves the plan on)
and the visits; listing a resident (found by name or ID number) and changing or ending the plan.

Who sees what is the registry's key-person policy: a post without key-person access (a village station, a
part-time member) gets 404 on every page here, as does a record outside the viewer's grids."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.core.errors import DomainError, NotFound
from gongzhi.notifications import services as notification_services
from gongzhi.registry import policies
from gongzhi.registry.models import Visit
from gongzhi.registry.selectors import key_persons as selectors
from gongzhi.registry.services import key_persons as services
from gongzhi.registry.services.visits import VisitTarget, record_visit
from gongzhi.web.access import portal_required
from gongzhi.web.forms import add_domain_error
from gongzhi.web.key_person_forms import EndForm, ListForm, PlanForm, SearchForm, VisitForm

PER_PAGE = 30


def _require_access(user) -> None:
    if not policies.key_person_paths(user):
        raise NotFound()


@portal_required("worker")
def key_person_list(request):
    """My grids' key persons, by the date their next visit is owed; tabs for 已逾期 and 即将到期."""
    _require_access(request.user)
    due = request.GET.get("due") or ""
    due = due if due in selectors.DUE_FILTERS else ""
    persons = selectors.key_person_list(request.user, selectors.Filters(due=due or None))
    page = Paginator(persons, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "worker/key_persons/list.html", {
        "page": page, "persons": selectors.with_due_states(page), "due": due,
        "summary": selectors.due_summary(request.user, shown=0), "section": "grids",
        "may_list": selectors.may_list_key_persons(request.user)})


def _record_page(request, key_person_id: int, *, visit_form=None, end_form=None, status=200):
    record = selectors.open_record(request.user, key_person_id)
    return render(request, "worker/key_persons/detail.html", {
        "record": record, "person": record.person, "section": "grids",
        "visit_form": visit_form or VisitForm(), "end_form": end_form or EndForm(),
        "end_open": end_form is not None}, status=status)


@portal_required("worker")
def key_person_detail(request, key_person_id: int):
    """The record (each opening is logged) with the 登记走访 form first: the worker is usually standing at the door."""
    response = _record_page(request, key_person_id)
    notification_services.mark_target_read(user=request.user, target_type="key_person", target_id=key_person_id)
    return response


@portal_required("worker")
@require_POST
def key_person_visit(request, key_person_id: int):
    person = selectors.key_person_for(request.user, key_person_id)
    form = VisitForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            record_visit(actor=request.user, kind=Visit.Kind.KEY_PERSON, target=VisitTarget(key_person=person),
                         notes=data["notes"], photos=data["photos"], client_key=data["client_key"] or None)
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("走访已登记。"))
            return redirect("worker:key_person", key_person_id=person.pk)
    return _record_page(request, person.pk, visit_form=form, status=422)


@portal_required("worker")
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
            return redirect("worker:key_person", key_person_id=person.pk)
    return _record_page(request, person.pk, end_form=form, status=422)


@portal_required("worker")
def key_person_plan(request, key_person_id: int):
    """修改管控计划: categories, risk level, own interval, responsible worker, care plan."""
    person = selectors.manageable_key_person(request.user, key_person_id)
    people = selectors.responsible_choices(person.grid)
    if request.method == "POST":
        form = PlanForm(request.POST, people=people)
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
                return redirect("worker:key_person", key_person_id=person.pk)
        status = 422
    else:
        form = PlanForm(people=people, initial={
            "categories": list(person.categories.all()), "risk_level": person.risk_level,
            "interval_days": person.interval_days, "care_plan": person.care_plan,
            "responsible": str(person.responsible_id or "")})
        status = 200
    return render(request, "worker/key_persons/plan.html", {"person": person, "form": form, "section": "grids"},
                  status=status)


@portal_required("worker")
def key_person_new(request):
    """列管重点人员: find the resident by name or ID number (within the grids the worker may manage), then the
    plan. A person already listed is shown with a link to their record instead."""
    if not selectors.may_list_key_persons(request.user):
        raise NotFound()
    resident_id = request.POST.get("resident") or request.GET.get("resident")
    if not resident_id:
        return _search_page(request)
    resident = selectors.resident_to_list(request.user, int(resident_id) if resident_id.isdigit() else 0)
    people = selectors.responsible_choices(resident.grid)
    status = 200
    if request.method == "POST":
        form = ListForm(request.POST, people=people)
        if form.is_valid():
            data = form.cleaned_data
            try:
                person = services.list_key_person(
                    actor=request.user, resident=resident, categories=list(data["categories"]),
                    risk_level=data["risk_level"], care_plan=data["care_plan"], responsible=data["responsible"],
                    interval_days=data["interval_days"], started_on=data["started_on"])
            except DomainError as err:
                add_domain_error(form, err)
            else:
                messages.success(request, _("已将%(name)s列为重点人员。") % {"name": resident.name})
                return redirect("worker:key_person", key_person_id=person.pk)
        status = 422
    else:
        mine = request.user if any(u.pk == request.user.pk for u in people) else None
        form = ListForm(people=people, initial={"responsible": str(mine.pk) if mine else ""})
    return render(request, "worker/key_persons/new.html", {
        "resident": resident, "form": form, "section": "grids"}, status=status)


def _search_page(request):
    form = SearchForm(request.GET or None)
    results, searched = [], False
    if form.is_valid() and form.cleaned_data["q"]:
        searched = True
        try:
            results = selectors.search_residents(request.user, form.cleaned_data["q"])
        except DomainError as err:
            add_domain_error(form, err)
    return render(request, "worker/key_persons/search.html", {
        "form": form, "results": results, "searched": searched, "section": "grids"},
        status=422 if form.errors else 200)
