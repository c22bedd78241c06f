"""Task lists (任务清单, M16) under a frozen clock: every step and who may take it (the township issuer, the village
and department owners, another township, a grid worker), bad input changing nothing, replays, the colour flags,
the sweep's reminders (once per task × deadline, a doubled run writing nothing), the supervision figures against
hand-counted tasks, and the report files only for those who see the task."""

import datetime
import io
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from gongzhi.accounts.models import Role
from gongzhi.analytics import selectors, services, tasks
from gongzhi.analytics.models import Task, TaskAction, TaskAttachment, TaskLog, TaskStatus
from gongzhi.core.errors import Conflict, DomainError, Forbidden, NotFound
from gongzhi.notifications.models import Notification

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime.datetime(2026, 3, 20, 10, 0, tzinfo=SHANGHAI)  # a Friday
TODAY = NOW.date()


def day(n: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=n)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ACCEL_REDIRECT = ""
    return settings.MEDIA_ROOT


@pytest.fixture
def cast(tree, make_staff):
    return {
        "issuer": make_staff("disp", tree["town"], Role.DISPATCHER),
        "village": make_staff("cun", tree["village"], Role.VILLAGE_ADMIN),
        "village_b": make_staff("cun2", tree["village"], Role.VILLAGE_STATION),
        "village2": make_staff("dawan", tree["village2"], Role.VILLAGE_ADMIN),
        "justice": make_staff("sifa", tree["justice"], Role.DEPT_HANDLER),
        "grid": make_staff("wangge", tree["grid"], Role.GRID_WORKER),
        "county": make_staff("cdisp", tree["county"], Role.DISPATCHER),
        "other": make_staff("odisp", tree["other_town"], Role.DISPATCHER),
    }


def new_task(cast, tree, *, owner="village", deadline=None, issuer="issuer", issuing="town", **extra) -> Task:
    return services.create_task(actor=cast[issuer], issuing_unit=tree[issuing], owner_unit=tree[owner],
                                title=extra.pop("title", "人居环境整治"), description="清理村内垃圾和柴草堆",
                                deadline=deadline or day(10), **extra)


def snapshot(task: Task) -> tuple:
    task.refresh_from_db()
    return (task.status, task.progress, task.deadline, task.owner_person_id, task.logs.count(),
            task.reports.count(), TaskAttachment.objects.filter(task=task).count())


def jpeg() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), (30, 120, 60)).save(buffer, "JPEG")
    return SimpleUploadedFile("现场.jpg", buffer.getvalue(), content_type="image/jpeg")


def pdf() -> SimpleUploadedFile:
    return SimpleUploadedFile("验收记录.pdf", b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n",
                              content_type="application/pdf")


# Issuing ----------------------------------------------------------------------------------------------------------


def test_a_township_gives_a_task_to_its_village_who_hears_of_it(cast, tree):
    task = new_task(cast, tree, category="livelihood")
    assert (task.status, task.progress, task.issuer_path, task.owner_path) == (
        TaskStatus.NOT_STARTED, 0, tree["town"].path, tree["village"].path)
    log = task.logs.get()
    assert (log.action, log.actor, log.status) == (TaskAction.CREATE, cast["issuer"], TaskStatus.NOT_STARTED)
    told = Notification.objects.filter(kind="task.assigned")
    assert {n.recipient for n in told} == {cast["village"], cast["village_b"]}
    assert {n.target_id for n in told} == {task.pk}


def test_a_township_gives_tasks_to_its_departments_and_a_county_to_its_townships(cast, tree):
    assert new_task(cast, tree, owner="justice").owner_unit == tree["justice"]
    assert new_task(cast, tree, owner="town", issuer="county", issuing="county").owner_unit == tree["town"]


@pytest.mark.parametrize(("who", "owner", "issuing", "error"), [
    ("village", "grid", "village", Forbidden),       # a village administrator issues nothing
    ("justice", "village", "town", Forbidden),       # nor does a department handler
    ("issuer", "other_village", "town", NotFound),   # another township's village: not in scope
    ("issuer", "town", "town", DomainError),         # not to itself
    ("issuer", "village", "county", DomainError),    # not from a level where they hold no post
    ("other", "village", "other_town", NotFound),
])
def test_only_a_command_centre_issues_and_only_downwards(cast, tree, who, owner, issuing, error):
    with pytest.raises(error):
        services.create_task(actor=cast[who], issuing_unit=tree[issuing], owner_unit=tree[owner], title="防汛检查",
                             deadline=day(5))
    assert not Task.objects.exists() and not TaskLog.objects.exists()


@pytest.mark.parametrize(("changes", "field"), [
    ({"title": "  "}, "title"), ({"title": "x" * 101}, "title"), ({"deadline": day(-1)}, "deadline"),
    ({"category": "nonsense"}, "category"), ({"description": "a\x00b"}, "description"),
])
def test_bad_input_when_issuing_is_refused_at_its_field_and_writes_nothing(cast, tree, changes, field):
    kwargs = {"title": "防汛检查", "deadline": day(5), "description": "", **changes}
    with pytest.raises(DomainError) as refused:
        services.create_task(actor=cast["issuer"], issuing_unit=tree["town"], owner_unit=tree["village"], **kwargs)
    assert refused.value.field == field
    assert not Task.objects.exists() and not Notification.objects.exists()


def test_a_retried_create_form_answers_with_the_first_task(cast, tree):
    first = new_task(cast, tree, client_key="k1")
    again = new_task(cast, tree, client_key="k1", title="改了标题也一样")
    assert again.pk == first.pk and Task.objects.count() == 1


def test_a_county_task_is_broken_down_into_village_sub_tasks_due_no_later(cast, tree):
    county_task = new_task(cast, tree, owner="town", issuer="county", issuing="county", deadline=day(20))
    sub = new_task(cast, tree, owner="village", parent=county_task, deadline=day(15))
    assert sub.parent == county_task
    assert selectors.subtasks_of(cast["county"], county_task) == [sub]
    with pytest.raises(DomainError) as late:
        new_task(cast, tree, owner="village2", parent=county_task, deadline=day(21))
    assert late.value.field == "deadline"
    with pytest.raises(DomainError):  # the parent must be a task given to the issuing unit
        new_task(cast, tree, owner="village2", parent=sub, deadline=day(5))


# Who sees what ----------------------------------------------------------------------------------------------------


def test_a_task_is_seen_by_its_issuer_its_owner_and_those_above_only(cast, tree):
    village_task = new_task(cast, tree)
    dept_task = new_task(cast, tree, owner="justice")
    seen = {who: set(selectors.task_list(cast[who]).values_list("pk", flat=True)) for who in cast}
    assert seen["issuer"] == seen["county"] == {village_task.pk, dept_task.pk}
    assert seen["village"] == seen["village_b"] == {village_task.pk}
    assert seen["justice"] == {dept_task.pk}
    assert seen["village2"] == seen["grid"] == seen["other"] == set()
    for who in ("village2", "grid", "other"):
        with pytest.raises(NotFound):
            selectors.task_for(cast[who], village_task.pk)
    assert set(selectors.task_list(cast["issuer"], side="issued").values_list("pk", flat=True)) == seen["issuer"]
    assert not selectors.task_list(cast["issuer"], side="owned").exists()
    assert list(selectors.task_list(cast["justice"], side="owned")) == [dept_task]


# Progress, submission, confirmation ------------------------------------------------------------------------------


def test_the_whole_round_report_submit_send_back_submit_confirm(cast, tree):
    task = new_task(cast, tree)
    report = services.report_task_progress(actor=cast["village"], task=task, note="已清理3处垃圾点", percent=40)
    task.refresh_from_db()
    assert (task.status, task.progress, report.percent) == (TaskStatus.IN_PROGRESS, 40, 40)
    services.submit_task(actor=cast["village_b"], task=task, note="全部清理完毕")
    task.refresh_from_db()
    assert (task.status, task.progress) == (TaskStatus.SUBMITTED, 100)
    assert Notification.objects.filter(kind="task.submitted", recipient=cast["issuer"]).count() == 1
    services.send_back_task(actor=cast["issuer"], task=task, reason="村西头仍有柴草堆")
    task.refresh_from_db()
    assert (task.status, task.submitted_at) == (TaskStatus.IN_PROGRESS, None)
    assert Notification.objects.filter(kind="task.sent_back", recipient=cast["village"]).count() == 1
    services.submit_task(actor=cast["village"], task=task, note="柴草堆已清运")
    services.confirm_task(actor=cast["issuer"], task=task, note="验收合格")
    task.refresh_from_db()
    assert (task.status, task.on_time) == (TaskStatus.DONE, True)
    assert list(task.logs.order_by("pk").values_list("action", "status")) == [
        ("create", "not_started"), ("report", "in_progress"), ("submit", "submitted"), ("send_back", "in_progress"),
        ("submit", "submitted"), ("confirm", "done")]
    with pytest.raises(DomainError) as closed:
        services.report_task_progress(actor=cast["village"], task=task, note="再报一次", percent=100)
    assert "已完成" in str(closed.value.message)


def test_a_department_owns_its_task_and_a_village_cannot_touch_it(cast, tree):
    task = new_task(cast, tree, owner="justice", title="矛盾纠纷排查化解")
    services.report_task_progress(actor=cast["justice"], task=task, note="排查纠纷12起，化解10起", percent=80)
    with pytest.raises(NotFound):
        services.report_task_progress(actor=cast["village"], task=task, note="x", percent=10)
    services.submit_task(actor=cast["justice"], task=task, note="已全部化解")
    services.confirm_task(actor=cast["issuer"], task=task)
    assert Task.objects.get(pk=task.pk).status == TaskStatus.DONE


@pytest.mark.parametrize("who", ["issuer", "county"])
def test_the_issuing_side_does_not_report_for_the_owner(cast, tree, who):
    task = new_task(cast, tree)
    before = snapshot(task)
    for step in (lambda: services.report_task_progress(actor=cast[who], task=task, note="x", percent=10),
                 lambda: services.submit_task(actor=cast[who], task=task, note="x")):
        with pytest.raises(Forbidden):
            step()
    assert snapshot(task) == before


@pytest.mark.parametrize("who", ["village2", "grid", "other", "justice"])
def test_out_of_scope_staff_get_not_found_for_every_step(cast, tree, who):
    task = new_task(cast, tree)
    services.submit_task(actor=cast["village"], task=task, note="完成")
    before = snapshot(task)
    steps = [lambda: services.report_task_progress(actor=cast[who], task=task, note="x", percent=1),
             lambda: services.submit_task(actor=cast[who], task=task, note="x"),
             lambda: services.confirm_task(actor=cast[who], task=task),
             lambda: services.send_back_task(actor=cast[who], task=task, reason="x"),
             lambda: services.cancel_task(actor=cast[who], task=task, reason="x"),
             lambda: services.extend_task_deadline(actor=cast[who], task=task, deadline=day(30), reason="x"),
             lambda: services.assign_task_person(actor=cast[who], task=task, person=None)]
    for step in steps:
        with pytest.raises(NotFound):
            step()
    assert snapshot(task) == before


def test_the_owner_cannot_confirm_send_back_cancel_or_extend(cast, tree):
    task = new_task(cast, tree)
    services.submit_task(actor=cast["village"], task=task, note="完成")
    before = snapshot(task)
    for step in (lambda: services.confirm_task(actor=cast["village"], task=task),
                 lambda: services.send_back_task(actor=cast["village"], task=task, reason="x"),
                 lambda: services.cancel_task(actor=cast["village"], task=task, reason="x"),
                 lambda: services.extend_task_deadline(actor=cast["village"], task=task, deadline=day(30),
                                                       reason="x")):
        with pytest.raises(Forbidden):
            step()
    assert snapshot(task) == before


@pytest.mark.parametrize(("step", "field"), [
    (lambda c, t: services.report_task_progress(actor=c["village"], task=t, note="", percent=10), "note"),
    (lambda c, t: services.report_task_progress(actor=c["village"], task=t, note="x", percent=101), "percent"),
    (lambda c, t: services.report_task_progress(actor=c["village"], task=t, note="x", percent=None), "percent"),
    (lambda c, t: services.report_task_progress(actor=c["village"], task=t, note="x" * 2001, percent=5), "note"),
    (lambda c, t: services.report_task_progress(actor=c["village"], task=t, note="x", percent=5,
                                                documents=[SimpleUploadedFile("a.docx", b"PK\x03\x04")]), "documents"),
    (lambda c, t: services.report_task_progress(actor=c["village"], task=t, note="x", percent=5,
                                                photos=[SimpleUploadedFile("a.jpg", b"not a picture")]), "photos"),
    (lambda c, t: services.submit_task(actor=c["village"], task=t, note=" "), "note"),
    (lambda c, t: services.cancel_task(actor=c["issuer"], task=t, reason=""), "reason"),
    (lambda c, t: services.extend_task_deadline(actor=c["issuer"], task=t, deadline=day(10), reason="x"), "deadline"),
    (lambda c, t: services.extend_task_deadline(actor=c["issuer"], task=t, deadline=day(3), reason="x"), "deadline"),
    (lambda c, t: services.extend_task_deadline(actor=c["issuer"], task=t, deadline=day(12), reason=""), "reason"),
    (lambda c, t: services.assign_task_person(actor=c["issuer"], task=t, person=c["village2"]), "owner_person"),
])
def test_bad_input_on_a_step_is_refused_at_its_field_and_changes_nothing(cast, tree, media, step, field):
    task = new_task(cast, tree)
    before = snapshot(task)
    with pytest.raises(DomainError) as refused:
        step(cast, task)
    assert refused.value.field == field
    assert snapshot(task) == before
    assert not list(media.rglob("*.*"))  # no file left behind


def test_a_submitted_task_is_confirmed_once_and_a_wrong_state_says_so(cast, tree):
    task = new_task(cast, tree)
    with pytest.raises(DomainError) as early:
        services.confirm_task(actor=cast["issuer"], task=task)
    assert "未开始" in str(early.value.message)
    services.submit_task(actor=cast["village"], task=task, note="完成")
    with pytest.raises(DomainError):
        services.submit_task(actor=cast["village"], task=task, note="again")


def test_cancel_and_extend_are_the_issuers_and_logged(cast, tree):
    task = new_task(cast, tree)
    log = services.extend_task_deadline(actor=cast["issuer"], task=task, deadline=day(20), reason="遇降雨天气")
    assert log.details == {"from": day(10).isoformat(), "to": day(20).isoformat()}
    assert Task.objects.get(pk=task.pk).deadline == day(20)
    assert Notification.objects.filter(kind="task.extended", recipient=cast["village"]).exists()
    services.cancel_task(actor=cast["county"], task=task, reason="任务调整")  # a level above may too
    task.refresh_from_db()
    assert task.status == TaskStatus.CANCELLED and task.cancelled_at is not None
    with pytest.raises(DomainError):
        services.extend_task_deadline(actor=cast["issuer"], task=task, deadline=day(30), reason="x")


def test_a_person_of_the_owner_unit_is_named_and_alone_hears_of_it(cast, tree):
    task = new_task(cast, tree)
    services.assign_task_person(actor=cast["village"], task=task, person=cast["village_b"])
    task.refresh_from_db()
    assert task.owner_person == cast["village_b"]
    services.extend_task_deadline(actor=cast["issuer"], task=task, deadline=day(12), reason="x")
    assert list(Notification.objects.filter(kind="task.extended").values_list("recipient__username", flat=True)) \
        == ["cun2"]


def test_a_replayed_report_answers_with_the_first_and_another_persons_key_conflicts(cast, tree):
    task = new_task(cast, tree)
    first = services.report_task_progress(actor=cast["village"], task=task, note="一", percent=10, client_key="r1")
    again = services.report_task_progress(actor=cast["village"], task=task, note="二", percent=20, client_key="r1")
    assert again.pk == first.pk and task.reports.count() == 1
    with pytest.raises(Conflict):
        services.report_task_progress(actor=cast["village_b"], task=task, note="三", percent=30, client_key="r1")
    services.submit_task(actor=cast["village"], task=task, note="完成", client_key="s1")
    assert services.submit_task(actor=cast["village"], task=task, note="完成", client_key="s1").action == "submit"
    assert task.logs.filter(action="submit").count() == 1


# Files --------------------------------------------------------------------------------------------------------------


def test_report_files_are_stored_clean_and_served_only_to_those_who_see_the_task(cast, tree, client):
    task = new_task(cast, tree)
    report = services.report_task_progress(actor=cast["village"], task=task, note="整治前后对比", percent=50,
                                           photos=[jpeg()], documents=[pdf()])
    photo, document = sorted(TaskAttachment.objects.filter(log=report.log), key=lambda a: a.kind, reverse=True)
    assert (photo.kind, photo.content_type, bool(photo.thumbnail.name)) == ("photo", "image/jpeg", True)
    assert (document.kind, document.name) == ("document", "验收记录.pdf")
    for who, status in (("village", 200), ("issuer", 200), ("county", 200), ("village2", 404), ("other", 404),
                        ("grid", 404)):
        client.force_login(cast[who])
        for name in (photo.file.name, photo.thumbnail.name, document.file.name):
            assert client.get("/media/" + name).status_code == status, (who, name)
    client.force_login(cast["issuer"])
    answer = client.get("/media/" + document.file.name)
    assert answer["Content-Disposition"].startswith("attachment")


# Flags and the sweep ----------------------------------------------------------------------------------------------


def make_at(when: datetime.datetime, fn):
    with time_machine.travel(when, tick=False):
        return fn()


def test_flags_and_the_sweep_remind_once_per_task_and_deadline(cast, tree, clock):
    earlier = NOW - datetime.timedelta(days=10)
    overdue = make_at(earlier, lambda: new_task(cast, tree, title="过期", deadline=day(-1)))
    due_soon = new_task(cast, tree, title="三个工作日内", deadline=day(5))  # Wed 25 March: the 3rd working day
    later = new_task(cast, tree, title="下周四", deadline=day(6))
    done = make_at(earlier, lambda: new_task(cast, tree, title="已办结", deadline=day(-2)))
    make_at(earlier, lambda: services.submit_task(actor=cast["village"], task=done, note="完成"))
    make_at(earlier, lambda: services.confirm_task(actor=cast["issuer"], task=done))
    waiting = make_at(earlier, lambda: new_task(cast, tree, title="待确认", deadline=day(-1)))
    make_at(earlier, lambda: services.submit_task(actor=cast["village"], task=waiting, note="完成"))

    flags = {t.title: t.flag for t in selectors.task_list(cast["issuer"])}
    assert flags == {"过期": "red", "三个工作日内": "yellow", "下周四": "", "已办结": "green", "待确认": ""}
    assert [t.title for t in selectors.task_list(cast["issuer"], flag="red")] == ["过期"]

    result = services.sweep_tasks()
    assert (result.due_soon, result.overdue) == (1, 1)
    assert overdue.logs.get(action=TaskAction.OVERDUE).step_key == f"overdue:{day(-1).isoformat()}"
    assert due_soon.logs.filter(action=TaskAction.DUE_SOON).count() == 1
    assert not later.logs.exclude(action="create").exists()
    told = Notification.objects.filter(kind="task.overdue")
    assert {n.recipient for n in told} == {cast["village"], cast["village_b"]}
    logs, notices = TaskLog.objects.count(), Notification.objects.count()

    assert tasks.sweep_task_deadlines.call_local() == {"due_soon": 0, "overdue": 0}  # a doubled run
    assert (TaskLog.objects.count(), Notification.objects.count()) == (logs, notices)

    # A new deadline gets its own reminders: coming due now, overdue once it passes.
    services.extend_task_deadline(actor=cast["issuer"], task=overdue, deadline=day(4), reason="再给几天")
    assert services.sweep_tasks().due_soon == 1
    clock.move_to(NOW + datetime.timedelta(days=6))  # Thursday 26 March
    # Overdue: the extended task (24th) and 三个工作日内 (25th); 下周四 (today) is coming due.
    assert services.sweep_tasks() == services.TaskSweepResult(due_soon=1, overdue=2)
    assert overdue.logs.filter(action=TaskAction.OVERDUE).count() == 2
    assert services.sweep_tasks() == services.TaskSweepResult(due_soon=0, overdue=0)


# Supervision ------------------------------------------------------------------------------------------------------


def test_supervision_counts_level_by_level_against_hand_counted_tasks(cast, tree):
    earlier = NOW - datetime.timedelta(days=10)

    def finished(title, deadline, submit_at):
        task = make_at(earlier, lambda: new_task(cast, tree, title=title, deadline=deadline))
        make_at(submit_at, lambda: services.submit_task(actor=cast["village"], task=task, note="完成"))
        services.confirm_task(actor=cast["issuer"], task=task)

    finished("按时", day(-3), earlier + datetime.timedelta(days=2))      # done on time
    finished("逾期完成", day(-5), earlier + datetime.timedelta(days=8))  # submitted after its deadline
    make_at(earlier, lambda: new_task(cast, tree, title="超期", deadline=day(-1)))
    cancelled = new_task(cast, tree, title="撤销")
    services.cancel_task(actor=cast["issuer"], task=cancelled, reason="重复")
    new_task(cast, tree, title="进行中")
    submitted = new_task(cast, tree, owner="justice", title="司法所")
    services.submit_task(actor=cast["justice"], task=submitted, note="完成")

    view = selectors.supervision(cast["issuer"])
    rows = {r.unit.name: (r.total, r.done, r.on_time, r.overdue, r.open) for r in view.rows}
    assert rows == {"小山村": (4, 2, 1, 1, 2), "八里镇司法所": (1, 0, 0, 0, 1)}
    assert view.total is not None
    assert (view.total.total, view.total.done, view.total.on_time, view.total.overdue) == (5, 2, 1, 1)
    village = next(r for r in view.rows if r.unit == tree["village"])
    assert (village.done_percent, village.on_time_percent) == (50.0, 50.0)
    # The village sees its own row only; another township sees nothing; a month narrows by deadline.
    assert [r.unit.name for r in selectors.supervision(cast["village"]).rows] == ["小山村"]
    assert selectors.supervision(cast["other"]).rows == []
    march = selectors.supervision(cast["issuer"], month=datetime.date(2026, 3, 1))
    assert {r.unit.name: r.total for r in march.rows} == {"小山村": 4, "八里镇司法所": 1}
    with pytest.raises(NotFound):
        selectors.supervision(cast["other"], root_id=tree["town"].pk)
    # Level by level: the county sees its township with everything under it, and drills down to the same rows.
    county = selectors.supervision(cast["county"])
    assert county.root == tree["county"]
    assert [(r.unit.name, r.total, r.done, r.on_time, r.overdue, r.open) for r in county.rows] == [
        ("八里镇", 5, 2, 1, 1, 3)]
    down = selectors.supervision(cast["county"], root_id=tree["town"].pk)
    assert {r.unit.name: (r.total, r.done, r.on_time, r.overdue, r.open) for r in down.rows} == rows


# Pages ------------------------------------------------------------------------------------------------------------


def test_the_pages_list_create_act_and_export(cast, tree, client):
    client.force_login(cast["issuer"])
    answer = client.post(reverse("command:task_new"), {
        "issuing_unit": tree["town"].pk, "owner_unit": tree["village"].pk, "title": "防汛检查",
        "category": "special", "description": "排查河道隐患", "deadline": day(7).isoformat(), "client_key": "c1"})
    task = Task.objects.get()
    assert answer.status_code == 302 and answer["Location"] == reverse("command:task", args=[task.pk])
    refused = client.post(reverse("command:task_new"), {
        "issuing_unit": tree["town"].pk, "owner_unit": tree["village"].pk, "title": "", "deadline": "x"})
    assert refused.status_code == 422 and "请填写任务名称。" in refused.content.decode()
    page = client.get(reverse("command:tasks")).content.decode()
    assert "防汛检查" in page and "任务清单" in page
    assert client.get(reverse("command:task", args=[task.pk])).status_code == 200

    client.force_login(cast["village"])
    told = Notification.objects.get(kind="task.assigned", recipient=cast["village"])
    opened = client.post(reverse("worker:message_open", args=[told.pk]))  # the message opens the task's page
    assert opened.status_code == 302 and opened["Location"] == reverse("worker:task", args=[task.pk])
    home = client.get(reverse("worker:home")).content.decode()
    assert "本单位待办任务" in home and reverse("worker:task", args=[task.pk]) in home
    answer = client.post(reverse("worker:task_action", args=[task.pk, "report"]), {
        "report-note": "已排查3处", "report-percent": "60", "report-photos": [jpeg()], "report-client_key": "p1"})
    assert answer.status_code == 302
    assert TaskAttachment.objects.filter(task=task, kind="photo").count() == 1
    bad = client.post(reverse("worker:task_action", args=[task.pk, "report"]),
                      {"report-note": "", "report-percent": "5"})
    assert bad.status_code == 422 and "请填写进展情况。" in bad.content.decode()
    assert client.post(reverse("worker:task_action", args=[task.pk, "confirm"]), {}).status_code == 403
    assert client.post(reverse("worker:task_action", args=[task.pk, "submit"]),
                       {"submit-note": "完成"}).status_code == 302

    client.force_login(cast["other"])
    assert client.get(reverse("command:task", args=[task.pk])).status_code == 404
    assert client.post(reverse("command:task_action", args=[task.pk, "confirm"]), {}).status_code == 404

    client.force_login(cast["issuer"])
    assert client.post(reverse("command:task_action", args=[task.pk, "confirm"]),
                       {"confirm-note": "合格"}).status_code == 302
    assert Task.objects.get(pk=task.pk).status == TaskStatus.DONE
    page = client.get(reverse("command:task_supervision")).content.decode()
    assert "小山村" in page and "1/1" in page
    export = client.get(reverse("command:task_supervision_export"))
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(export.streaming_content))).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[1][:3] == ["责任单位", "任务数", "已完成"] and values[2][:3] == ["小山村", 1, 1]
