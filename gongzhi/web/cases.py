"""The case page and its actions, shared by the worker and command portals: facts, attachments,
assignments, the full timeline and a form for each action the user may take; for a dispute, its 纠纷信息
section (`web.dispute_forms`, written through `web.disputes`).

Every action is one call of `services.take_action`: the URL names the form, the form names the workflow
action and gives its payload. An action without a form of its own (below) gets `NoteForm`, so a new staff
action in the workflow table shows up here by itself.

`urlpatterns_for(guard)` gives a portal both URLs behind its own guard; the templates are the portal's
`case_detail.html` (its chrome around `web/_case_body.html`).
"""

import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from gongzhi.analytics import selectors as analytics_selectors
from gongzhi.cases import policies, selectors, services
from gongzhi.cases.models import Case
from gongzhi.cases.workflow import TRANSITIONS, Action, Capacity
from gongzhi.core.errors import DomainError
from gongzhi.notifications import services as notification_services
from gongzhi.web import case_forms, dispute_forms, pii
from gongzhi.web.forms import add_domain_error
from gongzhi.web.portals import portal_of

# The actions of this page: those staff take (residents ask and rate in their own portal, the sweep acts alone).
_STAFF_ACTIONS = tuple(t.action for t in TRANSITIONS if t.capacities - {Capacity.REPORTER, Capacity.SYSTEM})
# Forms by name; every other staff action uses NoteForm. CONFIRM and VISIT_FAILED are one 回访 form
# ("visit", whose answer picks the action); REPLY is one form per open question.
_FORMS: dict[str, type[case_forms.ActionForm]] = {
    str(Action.DISPATCH): case_forms.DispatchForm,
    str(Action.DEFER): case_forms.DeferForm,
    str(Action.COMPLETE): case_forms.CompleteForm,
    str(Action.RESOLVE_ON_SPOT): case_forms.CompleteForm,
    str(Action.MERGE): case_forms.MergeForm,
    str(Action.SUPERVISE): case_forms.SuperviseForm,
    str(Action.REQUEST_EXTENSION): case_forms.ExtensionRequestForm,
    str(Action.APPROVE_EXTENSION): case_forms.ExtensionDecisionForm,
    str(Action.REFUSE_EXTENSION): case_forms.ExtensionDecisionForm,
    "visit": case_forms.ReturnVisitForm,
    str(Action.REPLY): case_forms.ReplyForm,
}
_FORM_OF = {str(Action.CONFIRM): "visit", str(Action.VISIT_FAILED): "visit"}
_NAMES = frozenset(_FORM_OF.get(action, action) for action in _STAFF_ACTIONS)  # what the URL may name
_LABELS = {"visit": gettext_lazy("回访")}
# Actions whose note the workflow requires: the form says so up front, in the workflow's words.
_NOTE_REQUIRED = {t.action: t.note_prompt for t in TRANSITIONS if t.note_required}
_DONE = {"visit": gettext_lazy("回访已记录。"), str(Action.SUPERVISE): gettext_lazy("已下发督办。"),
         str(Action.REPLY): gettext_lazy("已答复。"), str(Action.MERGE): gettext_lazy("已合并。"),
         str(Action.REQUEST_EXTENSION): gettext_lazy("延期申请已提交，等待审批。"),
         str(Action.APPROVE_EXTENSION): gettext_lazy("已批准延期，办理期限已更新。"),
         str(Action.REFUSE_EXTENSION): gettext_lazy("已驳回延期申请。")}


def _make_form(name: str, case: Case, data=None, files=None):
    form_class = _FORMS.get(name, case_forms.NoteForm)
    if form_class is case_forms.DispatchForm:
        return form_class(data, files, case=case, prefix=name)
    form = form_class(data, files, prefix=name)
    if name in _NOTE_REQUIRED and "note" in form.fields:
        form.fields["note"].required = True
        prompt = _NOTE_REQUIRED[name]
        if prompt:
            form.fields["note"].error_messages["required"] = prompt
    return form


# The step that moves a case on, where the user may take it, comes first (open, the primary button); the
# others (退回, 不予受理, 挂账, 上报上级 …) follow in workflow order.
_NEXT_STEPS = (str(Action.ACCEPT), str(Action.DISPATCH), str(Action.SIGN), str(Action.COMPLETE), "visit",
               str(Action.CLOSE), str(Action.RESUME), str(Action.RESOLVE_ON_SPOT))


def _available(user, case: Case) -> list[str]:
    """The action forms to show: the next step first, then the rest in workflow order."""
    names: list[str] = []
    for rule in policies.actions_for(user, case):
        name = _FORM_OF.get(rule.action, rule.action)
        if rule.action in _STAFF_ACTIONS and name not in names and name != Action.REPLY:
            names.append(name)
    return sorted(names, key=lambda name: name not in _NEXT_STEPS)


def _opened(names: list[str], bound: tuple[str, Any] | None) -> str:
    """The form that starts open: the one just refused, else a waiting 延期 to decide, else the first."""
    if bound and bound[0] in names:
        return bound[0]
    if Action.APPROVE_EXTENSION in names:
        return Action.APPROVE_EXTENSION
    return names[0] if names else ""


def _open_follow_ups(user, case: Case) -> list:
    if Action.REPLY not in {r.action for r in policies.actions_for(user, case)}:
        return []
    return selectors.open_follow_ups(case)


def _render_case(request, case: Case, *, bound: tuple[str, Any] | None = None,
                 status: int = 200, dispute_bound: tuple[str, Any] | None = None):
    user = request.user
    pending = selectors.pending_extension(case)
    step_files = selectors.step_files(case)
    names = _available(user, case)
    opened = _opened(names, bound)
    forms = []
    for name in names:
        form = bound[1] if bound and bound[0] == name else _make_form(name, case)
        label = _LABELS.get(name) or Action(name).label
        forms.append({"name": name, "label": label, "form": form, "open": name == opened})
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
        "timeline": [(entry, step_files.get(entry.seq)) for entry in selectors.timeline_for(user, case)],
        "attachments": selectors.report_attachments(case),
        "assignments": case.assignments.select_related("unit", "person").order_by("-is_active", "role", "pk"),
        "orders": case.supervision_orders.select_related("issuing_unit").order_by("-pk"),
        "extensions": selectors.extensions_of(user, case), "pending_extension": pending,
        "action_forms": forms, "follow_ups": follow_ups, "stray_errors": stray_errors,
        "can_phone_reporter": (policies.can_phone_reporter(user, case) and case.reporter is not None
                               and bool(case.reporter.phone)),
        "dispute": dispute_forms.section(request, case, bound=dispute_bound), "place": _place(case)}, status=status)


def _place(case: Case) -> str:
    """The case's point and grid outline with the tile settings, as JSON for the small map (js/case-map.js)."""
    place = analytics_selectors.case_place(case)
    if place is None:
        return ""
    place["tiles"] = {"url": settings.MAP_TILE_URL, "attribution": settings.MAP_ATTRIBUTION,
                      "subdomains": settings.MAP_TILE_SUBDOMAINS, "crs": settings.MAP_TILE_CRS}
    return json.dumps(place, ensure_ascii=False, separators=(",", ":"))


def render_case(request, case: Case, *, dispute_bound: tuple[str, Any], status: int):
    """The case page with a form of its 纠纷信息 section just refused (`web.disputes`), open with its messages."""
    return _render_case(request, case, dispute_bound=dispute_bound, status=status)


def case_page(request, case_id: int):
    """One case. Opening it marks read the questions addressed to the user's units and the user's messages
    about it (the badges count unread ones)."""
    case = selectors.case_for(request.user, case_id)
    services.mark_follow_ups_read(actor=request.user, case=case)
    notification_services.mark_target_read(user=request.user, target_type="case", target_id=case.pk)
    return _render_case(request, case)


def case_action(request, case_id: int, name: str):
    """POST one action. Success: back to the case with a message. Bad input: the page again with the
    message next to the field, nothing changed. Not the user's to do: 403 page. Out of scope: 404. The same
    form sent twice (its client key) answers like the first time."""
    case = selectors.case_for(request.user, case_id)
    if name not in _NAMES:
        raise Http404
    form = _make_form(name, case, request.POST, request.FILES)
    if form.is_valid():
        try:
            action = form.action(name)
            payload = form.payload(user=request.user, case=case)
            if "photo_tokens" in services.payload_names(action):
                # Each file is checked on its own first, as the report form's photos are (outside the step's
                # transaction); the step then takes them by token.
                payload["photo_tokens"] = [
                    (stage, services.upload_photo(actor=request.user, upload=upload)[0].token)
                    for stage, upload in form.photo_uploads()]
                payload["document_tokens"] = [
                    services.upload_document(actor=request.user, upload=upload)[0].token
                    for upload in form.document_uploads()]
            services.take_action(actor=request.user, case=case, action=action,
                                 client_key=form.cleaned_data["client_key"], **payload)
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
        path("cases/<int:case_id>/phone/", guard(pii.phone_reporter), name="case_phone"),
        path("cases/<int:case_id>/<str:name>/", require_POST(guard(case_action)), name="case_action"),
    ]
