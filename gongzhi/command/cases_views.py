"""Case pages of the command centre: intake queue, all my cases, overdue list, case detail and actions.

`case_page` and `case_action_page` are shared with the worker portal (like `inbox_page`): each portal
passes its own base template, detail template and URL namespace.
"""

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_POST

from gongzhi.cases import feedback, policies, selectors, services, supervision
from gongzhi.cases.workflow import TRANSITIONS, Action, Status, actions_available
from gongzhi.command import case_forms
from gongzhi.command.access import portal_required
from gongzhi.command.views import header_context
from gongzhi.core.errors import DomainError, Forbidden, NotFound
from gongzhi.resident.forms import add_domain_error

CASES_PER_PAGE = 30

# Form per action; CONFIRM and VISIT_FAILED are one 回访 form ("visit"), REPLY is per follow-up.
_NOTE_ACTIONS = (Action.ACCEPT, Action.REJECT, Action.RESOLVE_ON_SPOT, Action.SIGN, Action.RETURN,
                 Action.COMPLETE, Action.RESUME, Action.ESCALATE, Action.CLOSE, Action.REMIND)
_FORMS = {
    **{str(a): case_forms.NoteForm for a in _NOTE_ACTIONS},
    str(Action.DISPATCH): case_forms.DispatchForm,
    str(Action.DEFER): case_forms.DeferForm,
    str(Action.MERGE): case_forms.MergeForm,
    str(Action.SUPERVISE): case_forms.SuperviseForm,
    "visit": case_forms.ReturnVisitForm,
    str(Action.REPLY): case_forms.ReplyForm,
}
_LABELS = {"visit": _l("回访")}
# Actions whose note the workflow requires: the form says so up front.
_NOTE_REQUIRED = {t.action for t in TRANSITIONS if t.note_required}
_DONE = {"visit": _l("回访已记录。"), str(Action.SUPERVISE): _l("已下发督办。"), str(Action.REPLY): _l("已答复。"),
         str(Action.MERGE): _l("已合并。")}


def _make_form(name: str, case, data=None):
    form_class = _FORMS[name]
    if form_class is case_forms.DispatchForm:
        return form_class(data, case=case, prefix=name)
    form = form_class(data, prefix=name)
    if name in _NOTE_REQUIRED and "note" in form.fields:
        form.fields["note"].required = True
    return form


def _available(user, case) -> list[str]:
    """The action forms to show, in workflow order."""
    names: list[str] = []
    for rule in actions_available(case.status, policies.capacities(user, case)):
        name = "visit" if rule.action in {Action.CONFIRM, Action.VISIT_FAILED} else str(rule.action)
        if name in _FORMS and name not in names and name != Action.REPLY:
            names.append(name)
    return names


def _open_follow_ups(user, case) -> list:
    if Action.REPLY not in {r.action for r in actions_available(case.status, policies.capacities(user, case))}:
        return []
    return selectors.open_follow_ups(case)


def _load(user, case_id: int):
    try:
        return selectors.case_for(user, case_id)
    except NotFound:
        raise Http404 from None


def _render_case(request, case, *, base: str, portal: str, template: str, bound: tuple[str, Any] | None = None,
                 status: int = 200, **context):
    user = request.user
    names = _available(user, case)
    forms = []
    for name in names:
        form = bound[1] if bound and bound[0] == name else _make_form(name, case)
        label = _LABELS.get(name) or Action(name).label
        forms.append({"name": name, "label": label, "form": form})
    # A refused action whose form is no longer offered (the case moved on): its message goes on top.
    stray_errors: list[str] = []
    if bound and bound[0] not in names and bound[0] != Action.REPLY:
        stray_errors = [str(e) for errors in bound[1].errors.values() for e in errors]
    follow_ups = []
    for item in _open_follow_ups(user, case):
        if bound and bound[0] == Action.REPLY and str(bound[1].data.get("reply-follow_up")) == str(item.pk):
            form = bound[1]
        else:
            form = case_forms.ReplyForm(prefix="reply", initial={"follow_up": item.pk})
        follow_ups.append({"item": item, "form": form})
    return render(request, template, {
        "base": base, "portal": portal, "case": case,
        "timeline": selectors.timeline_for(user, case),
        "attachments": selectors.attachments_of(case),
        "assignments": case.assignments.select_related("unit").order_by("-is_active", "role", "pk"),
        "orders": case.supervision_orders.select_related("issuing_unit").order_by("-pk"),
        "action_forms": forms, "follow_ups": follow_ups, "stray_errors": stray_errors, **context}, status=status)


def case_page(request, case_id: int, *, base: str, portal: str, template: str, **context):
    """One case: facts, attachments, assignments, full timeline and the forms for what the user may do.
    Opening it marks the questions addressed to the user's units read (the badge counts unread ones)."""
    case = _load(request.user, case_id)
    feedback.mark_follow_ups_read(actor=request.user, case=case)
    return _render_case(request, case, base=base, portal=portal, template=template, **context)


def _perform(user, case, name: str, data: dict) -> None:
    """Call the one service that takes the action; DomainError propagates."""
    if name in {str(a) for a in _NOTE_ACTIONS}:
        services.transition(actor=user, case=case, action=name, note=data["note"])
    elif name == Action.DISPATCH:
        services.transition(actor=user, case=case, action=name, note=data["note"], lead_unit=data["lead_unit"],
                            assist_units=tuple(data["assist_units"]))
    elif name == Action.DEFER:
        services.transition(actor=user, case=case, action=name, note=data["note"], review_on=data["review_on"])
    elif name == Action.MERGE:
        into = selectors.case_by_number(user, data["number"])
        if into is None:
            raise DomainError(_("未找到该编号的事件，或不在您的管辖范围内。"), field="number")
        feedback.merge_case(actor=user, case=case, into=into, note=data["note"])
    elif name == Action.SUPERVISE:
        supervision.issue_supervision(actor=user, case=case, note=data["note"], due_at=data["due_at"])
    elif name == "visit":
        feedback.record_return_visit(actor=user, case=case, method=data["method"], settled=data["settled"] == "yes",
                                     note=data["note"])
    elif name == Action.REPLY:
        feedback.answer_follow_up(actor=user, follow_up=selectors.follow_up_of(case, data["follow_up"]),
                                  answer=data["answer"])


def case_action_page(request, case_id: int, name: str, *, base: str, portal: str, template: str, **context):
    """POST one action. Success: back to the case with a message. Bad input: the page again with the
    message next to the field, nothing changed. Not the user's to do: 403 page. Out of scope: 404."""
    case = _load(request.user, case_id)
    if name not in _FORMS:
        raise Http404
    form = _make_form(name, case, request.POST) if name != Action.REPLY else case_forms.ReplyForm(
        request.POST, prefix="reply")
    if form.is_valid():
        try:
            _perform(request.user, case, name, form.cleaned_data)
        except NotFound:
            raise Http404 from None
        except Forbidden as err:
            raise PermissionDenied(str(err.message)) from None
        except DomainError as err:
            add_domain_error(form, err)
        else:
            label = _LABELS.get(name) or Action(name).label
            messages.success(request, _DONE.get(name) or _("已%(action)s。") % {"action": label})
            return redirect(f"{portal}:case", case_id=case.pk)
    case = _load(request.user, case_id)
    return _render_case(request, case, base=base, portal=portal, template=template, bound=(name, form),
                        status=422, **context)


def _page(request, queryset):
    return Paginator(queryset.select_related("category", "holder", "grid"), CASES_PER_PAGE).get_page(
        request.GET.get("page"))


@portal_required("command")
def intake(request):
    """事件受理: cases waiting for the user's command centre to take them up, red first."""
    queryset = selectors.intake_for(request.user)
    return render(request, "command/cases_list.html", {
        "page": _page(request, queryset), "list_kind": "intake", "title": _("事件受理"), **header_context(request)})


@portal_required("command")
def case_list(request):
    """All the cases in the user's scope, filtered by status and flag."""
    status = request.GET.get("status") or None
    flag = request.GET.get("flag") or None
    try:
        queryset = selectors.cases_for(request.user, status=status, flag=flag)
    except DomainError as err:
        messages.error(request, str(err.message))
        status = flag = None
        queryset = selectors.cases_for(request.user)
    return render(request, "command/cases_list.html", {
        "page": _page(request, queryset), "list_kind": "all", "title": _("全部事件"),
        "statuses": Status.choices, "flags": supervision.Flag.choices, "status": status or "", "flag": flag or "",
        **header_context(request)})


@portal_required("command")
def questions(request):
    """群众追问: cases whose reporters asked the user's units something not answered yet."""
    return render(request, "command/cases_list.html", {
        "page": _page(request, selectors.cases_with_questions(request.user)), "list_kind": "questions",
        "title": _("群众追问"), **header_context(request)})


@portal_required("command")
def overdue(request):
    queryset = selectors.cases_for(request.user, flag=supervision.Flag.RED)
    return render(request, "command/cases_list.html", {
        "page": _page(request, queryset), "list_kind": "overdue", "title": _("超期事件"),
        **header_context(request)})


@portal_required("command")
def case_detail(request, case_id: int):
    return case_page(request, case_id, base="command/base.html", portal="command",
                     template="command/cases_detail.html", **header_context(request))


@require_POST
@portal_required("command")
def case_action(request, case_id: int, name: str):
    return case_action_page(request, case_id, name, base="command/base.html", portal="command",
                            template="command/cases_detail.html", **header_context(request))
