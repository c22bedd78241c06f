"""A task's page (任务清单) and its steps, shared by the worker portal (village staff report progress and submit)
and the command portal (the issuer confirms, sends back, cancels, extends; department staff report): its facts
and colour flag, its sub-tasks, a form for each step the viewer may take, and the timeline of every step with
the reports' photos and documents.

Every step is one call of an `analytics.services` function; bad input shows the page again with the message at
the field and nothing changed; a task outside the viewer's scope answers 404, a step not theirs 403.
`urlpatterns_for(guard)` gives a portal both URLs behind its own guard; the template is the portal's
`task_detail.html`, else `web/task_detail.html`.
"""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from gongzhi.accounts.models import Membership, User
from gongzhi.analytics import selectors, services
from gongzhi.analytics.models import Task
from gongzhi.core.errors import DomainError, Forbidden, NotFound
from gongzhi.notifications import services as notification_services
from gongzhi.web import task_forms
from gongzhi.web.forms import add_domain_error
from gongzhi.web.portals import portal_of


def _person(task: Task, value: str) -> User | None:
    if not value:
        return None
    found = User.objects.filter(pk=int(value) if value.isdigit() else 0).first()
    if found is None or not Membership.objects.staff().filter(user=found, unit_id=task.owner_unit_id).exists():
        raise DomainError(_("责任人须是责任单位的在岗工作人员。"), field="person")
    return found


# name → (label, form class, what it does with the cleaned data, the message on success)
_Step = tuple[Any, type[task_forms.TaskForm], Callable[[User, Task, dict[str, Any]], object], Any]
STEPS: dict[str, _Step] = {
    "report": (gettext_lazy("报告进展"), task_forms.ReportForm,
               lambda user, task, d: services.report_task_progress(
                   actor=user, task=task, note=d["note"], percent=d["percent"], photos=d["photos"],
                   documents=d["documents"], client_key=d["client_key"]),
               gettext_lazy("进展已报告。")),
    "submit": (gettext_lazy("提交完成"), task_forms.SubmitForm,
               lambda user, task, d: services.submit_task(actor=user, task=task, note=d["note"],
                                                          client_key=d["client_key"]),
               gettext_lazy("已提交完成，等待下达单位确认。")),
    "confirm": (gettext_lazy("确认完成"), task_forms.ConfirmForm,
                lambda user, task, d: services.confirm_task(actor=user, task=task, note=d["note"],
                                                            client_key=d["client_key"]),
                gettext_lazy("已确认任务完成。")),
    "send_back": (gettext_lazy("退回"), task_forms.SendBackForm,
                  lambda user, task, d: services.send_back_task(actor=user, task=task, reason=d["reason"],
                                                                client_key=d["client_key"]),
                  gettext_lazy("已退回，任务继续办理。")),
    "assign": (gettext_lazy("指定责任人"), task_forms.AssignForm,
               lambda user, task, d: services.assign_task_person(
                   actor=user, task=task, person=_person(task, d["person"]), client_key=d["client_key"]),
               gettext_lazy("责任人已更新。")),
    "extend": (gettext_lazy("延长时限"), task_forms.ExtendForm,
               lambda user, task, d: services.extend_task_deadline(
                   actor=user, task=task, deadline=d["deadline"], reason=d["reason"], client_key=d["client_key"]),
               gettext_lazy("完成时限已延长。")),
    "cancel": (gettext_lazy("撤销任务"), task_forms.CancelForm,
               lambda user, task, d: services.cancel_task(actor=user, task=task, reason=d["reason"],
                                                          client_key=d["client_key"]),
               gettext_lazy("任务已撤销。")),
}


def _make_form(name: str, task: Task, data=None, files=None) -> task_forms.TaskForm:
    form_class = STEPS[name][1]
    if form_class is task_forms.AssignForm:
        return task_forms.AssignForm(data, files, staff=selectors.task_owner_staff(task), prefix=name,
                                     initial={"person": str(task.owner_person_id or "")})
    return form_class(data, files, prefix=name)


def _render(request, task: Task, *, bound: tuple[str, task_forms.TaskForm] | None = None, status: int = 200):
    user = request.user
    names = selectors.task_actions(user, task)
    opened = bound[0] if bound and bound[0] in names else (names[0] if names else "")
    forms = [{"name": name, "label": STEPS[name][0], "open": name == opened,
              "form": bound[1] if bound and bound[0] == name else _make_form(name, task)} for name in names]
    stray = [] if not bound or bound[0] in names else [str(e) for errs in bound[1].errors.values() for e in errs]
    return render(request, portal_of(request).templates("task_detail.html"), {
        "task": task, "timeline": selectors.task_timeline(user, task), "subtasks": selectors.subtasks_of(user, task),
        "action_forms": forms, "stray_errors": stray}, status=status)


def task_page(request, task_id: int):
    task = selectors.task_for(request.user, task_id)
    notification_services.mark_target_read(user=request.user, target_type="task", target_id=task.pk)
    return _render(request, task)


def task_action(request, task_id: int, name: str):
    """POST one step. Success: back to the task with a message. Bad input: the page again with the message at
    the field, nothing changed. Out of scope: 404; not the viewer's to take: 403."""
    task = selectors.task_for(request.user, task_id)
    if name not in STEPS:
        raise Http404
    form = _make_form(name, task, request.POST, request.FILES)
    if form.is_valid():
        try:
            STEPS[name][2](request.user, task, form.cleaned_data)
        except (NotFound, Forbidden):
            raise
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, str(STEPS[name][3]))
            return redirect(f"{portal_of(request).name}:task", task_id=task.pk)
    task = selectors.task_for(request.user, task_id)
    return _render(request, task, bound=(name, form), status=422)


def urlpatterns_for(guard: Callable) -> list[URLPattern]:
    """The task page and its step URL of a portal, behind `guard` (its access decorator)."""
    return [
        path("tasks/<int:task_id>/", guard(task_page), name="task"),
        path("tasks/<int:task_id>/<str:name>/", require_POST(guard(task_action)), name="task_action"),
    ]
