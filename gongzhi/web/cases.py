"""The case page and its actions, shared by the worker and command portals: facts, attachments,
assignments, the full timeline and a form for each action the user may take.

`urlpatterns_for(guard)` gives a portal both URLs behind its own guard; the templates are the portal's
`case_detail.html` (its chrome around `web/_case_body.html`).
"""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_POST

from gongzhi.cases import policies, selectors, services
from gongzhi.cases.models import Case
from gongzhi.cases.workflow import TRANSITIONS, Action, actions_available
from gongzhi.core.errors import DomainError
from gongzhi.web import case_forms
from gongzhi.web.forms import add_domain_error
from gongzhi.web.portals import portal_of

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


def _make_form(name: str, case: Case, data=None):
    form_class = _FORMS[name]
    if form_class is case_forms.DispatchForm:
        return form_class(data, case=case, prefix=name)
    form = form_class(data, prefix=name)
    if name in _NOTE_REQUIRED and "note" in form.fields:
        form.fields["note"].required = True
    return form


def _available(user, case: Case) -> list[str]:
    """The action forms to show, in workflow order."""
    names: list[str] = []
    for rule in actions_available(case.status, policies.capacities(user, case)):
        name = "visit" if rule.action in {Action.CONFIRM, Action.VISIT_FAILED} else str(rule.action)
        if name in _FORMS and name not in names and name != Action.REPLY:
            names.append(name)
    return names


def _open_follow_ups(user, case: Case) -> list:
    if Action.REPLY not in {r.action for r in actions_available(case.status, policies.capacities(user, case))}:
        return []
    return selectors.open_follow_ups(case)


def _render_case(request, case: Case, *, bound: tuple[str, Any] | None = None,
                 status: int = 200):
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
    return render(request, portal_of(request).templates("case_detail.html"), {
        "case": case,
        "timeline": selectors.timeline_for(user, case),
        "attachments": selectors.attachments_of(case),
        "assignments": case.assignments.select_related("unit").order_by("-is_active", "role", "pk"),
        "orders": case.supervision_orders.select_related("issuing_unit").order_by("-pk"),
        "action_forms": forms, "follow_ups": follow_ups, "stray_errors": stray_errors}, status=status)


def case_page(request, case_id: int):
    """One case. Opening it marks the questions addressed to the user's units read (the badge counts
    unread ones)."""
    case = selectors.case_for(request.user, case_id)
    services.mark_follow_ups_read(actor=request.user, case=case)
    return _render_case(request, case)


def _perform(user, case: Case, name: str, data: dict) -> None:
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
        services.merge_case(actor=user, case=case, merge_into=into, note=data["note"])
    elif name == Action.SUPERVISE:
        services.issue_supervision(actor=user, case=case, note=data["note"], due_at=data["due_at"])
    elif name == "visit":
        services.record_return_visit(actor=user, case=case, method=data["method"], settled=data["settled"] == "yes",
                                     note=data["note"])
    elif name == Action.REPLY:
        services.answer_follow_up(actor=user, follow_up=selectors.follow_up_of(case, data["follow_up"]),
                                  answer=data["answer"])


def case_action(request, case_id: int, name: str):
    """POST one action. Success: back to the case with a message. Bad input: the page again with the
    message next to the field, nothing changed. Not the user's to do: 403 page. Out of scope: 404."""
    case = selectors.case_for(request.user, case_id)
    if name not in _FORMS:
        raise Http404
    form = _make_form(name, case, request.POST) if name != Action.REPLY else case_forms.ReplyForm(
        request.POST, prefix="reply")
    if form.is_valid():
        try:
            _perform(request.user, case, name, form.cleaned_data)
        except DomainError as err:
            add_domain_error(form, err)
        else:
            label = _LABELS.get(name) or Action(name).label
            messages.success(request, _DONE.get(name) or _("已%(action)s。") % {"action": label})
            return redirect(f"{portal_of(request).name}:case", case_id=case.pk)
    case = selectors.case_for(request.user, case_id)
    return _render_case(request, case, bound=(name, form), status=422)


def urlpatterns_for(guard: Callable) -> list[URLPattern]:
    """The case page and its action URL of a portal, behind `guard` (its access decorator)."""
    return [
        path("cases/<int:case_id>/", guard(case_page), name="case"),
        path("cases/<int:case_id>/<str:name>/", require_POST(guard(case_action)), name="case_action"),
    ]
