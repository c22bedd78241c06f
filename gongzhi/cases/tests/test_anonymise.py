"""Scheduled anonymisation (B3): residents' personal data leaves a case closed longer than the retention
period; the case and what statistics read from it stay. Every story runs under a frozen clock."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from gongzhi.cases import selectors, services, tasks
from gongzhi.cases.factories import act, report
from gongzhi.cases.models import (
    Attachment,
    Case,
    CaseLog,
    Category,
    DisputeParty,
    Follower,
    MediationAgreement,
    MediationSession,
    Rating,
)
from gongzhi.cases.tests.helpers import closed, dispatched, handled
from gongzhi.cases.workflow import Action, Status
from gongzhi.notifications.models import Notification
from gongzhi.registry.models import Household

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
CLOSED_ON = datetime.datetime(2023, 3, 1, 10, 0, tzinfo=SHANGHAI)
DAYS = 1095
PHONE, ID_NUMBER = "13912345678", "62110219800101123X"
REMOVED = "[已删除]"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def story(tree, people, cats):
    """A dispute 王秀兰 reported with her phone and ID number, asked about, rated, with two parties, a
    mediation, a voice note and a photo; closed at CLOSED_ON. Returns the case."""
    with time_machine.travel(CLOSED_ON - datetime.timedelta(days=20), tick=False):
        category = Category.objects.get(code="dispute-neighbour")
        case = report(people["resident"], category,
                      description=f"王秀兰反映：邻居张建国把水引到我家，电话{PHONE}，身份证{ID_NUMBER}。")
        Case.objects.filter(pk=case.pk).update(address="小山村3号王秀兰家门口")
        home = Household.objects.create(village=tree["village"], grid=tree["grid"], number="H-001",
                                        address="小山村3号")
        services.add_party(actor=people["dispatcher"], case=case, name="王秀兰", role="applicant",
                           id_number=ID_NUMBER, household_number=home.number)
        services.add_party(actor=people["dispatcher"], case=case, name="张建国", role="respondent")
        dispatched(people, tree, case)
        act(people["justice"], case, Action.SIGN)
        services.record_mediation(
            actor=people["justice"], case=case, kind=MediationSession.Kind.PEOPLE,
            held_on=datetime.date(2023, 2, 8), outcome=MediationSession.Outcome.AGREED,
            summary="王秀兰与张建国就排水沟达成一致，张建国电话0931-8123456", mediators=[people["justice"]],
            agreement=SimpleUploadedFile("协议.pdf", b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"),
            follow_up_on=datetime.date(2023, 2, 9))
        services.record_performance(
            actor=people["grid_worker"], case=case, agreement=MediationAgreement.objects.get(case=case),
            performance=MediationAgreement.Performance.PERFORMED, checked_on=datetime.date(2023, 2, 9),
            note="张建国已改好排水沟，王秀兰认可")
        services.ask_follow_up(actor=people["resident"], case=case, question="什么时候处理？我的电话 139 1234 5678")
        Follower.objects.create(case=case, user=people["neighbour"])
        for kind, name in ((Attachment.Kind.PHOTO, "photo.jpg"), (Attachment.Kind.VOICE, "voice.webm")):
            attachment = Attachment(case=case, kind=kind, content_type="x", sha256="0" * 64,
                                    uploaded_by=people["resident"])
            attachment.file.save(name, ContentFile(b"bytes"), save=False)
            attachment.save()
        act(people["justice"], case, Action.COMPLETE, note="已调解，王秀兰满意，邻居李建国作证")
        act(people["grid_worker"], case, Action.CONFIRM, note=f"电话回访王秀兰（{PHONE}），已解决")
    with time_machine.travel(CLOSED_ON, tick=False):
        act(people["dispatcher"], case, Action.CLOSE)
    with time_machine.travel(CLOSED_ON + datetime.timedelta(days=1), tick=False):
        services.rate_case(actor=people["resident"], case=case, score=Rating.Score.SATISFIED,
                           comment=f"谢谢！有事打{PHONE}")
    return Case.objects.get(pk=case.pk)


def snapshot(case):
    """What statistics read from a case: none of it may change."""
    case = Case.objects.get(pk=case.pk)
    return {
        "case": {f: getattr(case, f) for f in (
            "category_id", "category_version", "lat", "lng", "grid_id", "area_path", "holder_id", "status",
            "source", "is_anonymous", "is_public", "entered_by_id", "subject_unit_id", "respond_due",
            "handle_due", "responded_at", "closed_at", "created_at", "merged_into_id")},
        "logs": list(case.logs.values_list("seq", "action", "from_status", "to_status", "actor_id",
                                           "actor_unit_id", "is_public", "deadlines", "step_key", "client_key",
                                           "created_at")),
        "ratings": list(Rating.objects.filter(case=case).values_list("score", "round", "handling_unit_id",
                                                                     "created_at")),
        "assignments": list(case.assignments.values_list("unit_id", "role", "is_active")),
        "mediations": list(case.mediations.values_list("kind", "outcome", "held_on", "recorded_by_id",
                                                       "other_mediators")),
        "mediators": list(case.mediations.values_list("mediators", flat=True)),
        "agreements": list(case.agreements.values_list("signed_on", "follow_up_on", "performance",
                                                       "performance_checked_on")),
        "parties": list(case.parties.order_by("pk").values_list("role", flat=True)),
    }


def run(at: datetime.datetime, **kwargs) -> int:
    with time_machine.travel(at, tick=False):
        return services.anonymise_closed_cases(**kwargs)


def test_a_case_closed_one_day_short_of_the_period_is_untouched(story):
    before = snapshot(story)
    texts = (story.description, list(story.logs.values_list("note", flat=True)))
    assert run(CLOSED_ON + datetime.timedelta(days=DAYS - 1)) == 0
    case = Case.objects.get(pk=story.pk)
    assert case.personal_data_removed_at is None and case.reporter_id is not None
    assert snapshot(case) == before and (case.description, list(case.logs.values_list("note", flat=True))) == texts
    assert DisputeParty.objects.filter(case=case, name="王秀兰").exists()


def test_a_case_closed_longer_than_the_period_loses_its_residents_personal_data(
        story, people, media, django_capture_on_commit_callbacks):
    resident = people["resident"]
    before = snapshot(story)
    voice = Attachment.objects.get(case=story, kind=Attachment.Kind.VOICE).file.name
    agreement = MediationAgreement.objects.get(case=story).file.name
    assert (media / voice).exists() and (media / agreement).exists()
    assert Notification.objects.filter(recipient=resident, target_id=story.pk).exists()
    staff_messages = Notification.objects.filter(target_type="case", target_id=story.pk).exclude(
        recipient__kind="resident")
    assert staff_messages.filter(body__contains="139 1234 5678").exists()  # the question, quoted
    assert list(selectors.my_cases(resident)) == [story]
    assert list(selectors.my_cases(people["neighbour"])) == [story]  # a follower
    at = CLOSED_ON + datetime.timedelta(days=DAYS + 1)

    with django_capture_on_commit_callbacks(execute=True):  # files are deleted once the batch commits
        assert run(at) == 1
    case = Case.objects.get(pk=story.pk)
    assert case.personal_data_removed_at == at
    assert case.reporter_id is None
    # 王秀兰 is the reporter and a party: the party's label stands for her, 李建国 (a follower) is removed.
    assert case.description == f"申请人甲反映：邻居被申请人乙把水引到我家，电话{REMOVED}，身份证{REMOVED}。"
    assert case.address == "小山村3号申请人甲家门口"
    notes = " ".join(case.logs.values_list("note", flat=True))
    for detail in ("王秀兰", "张建国", "李建国", PHONE, "139 1234 5678", ID_NUMBER):
        assert detail not in notes
    assert case.logs.get(action=Action.FOLLOW_UP).note == f"什么时候处理？我的电话 {REMOVED}"
    assert case.logs.get(action=Action.CONFIRM).note == f"电话回访申请人甲（{REMOVED}），已解决"
    assert case.logs.get(action=Action.COMPLETE).note == f"已调解，申请人甲满意，邻居{REMOVED}作证"
    rating = Rating.objects.get(case=case)
    assert rating.rater_id is None and rating.comment == f"谢谢！有事打{REMOVED}"
    assert list(case.parties.order_by("pk").values_list("name", "id_number_hash", "household_id")) == [
        ("申请人甲", "", None), ("被申请人乙", "", None)]
    session = MediationSession.objects.get(case=case)
    assert session.summary == f"申请人甲与被申请人乙就排水沟达成一致，被申请人乙电话{REMOVED}"
    record = MediationAgreement.objects.get(case=case)
    assert not record.file and not (media / agreement).exists()
    assert record.performance_note == "被申请人乙已改好排水沟，申请人甲认可"
    assert not Attachment.objects.filter(case=case, kind=Attachment.Kind.VOICE).exists()
    assert not (media / voice).exists()
    photo = Attachment.objects.get(case=case, kind=Attachment.Kind.PHOTO)
    assert photo.uploaded_by_id is None and (media / photo.file.name).exists()  # the photo shows the matter
    assert not Follower.objects.filter(case=case).exists()
    assert not Notification.objects.filter(recipient__in=[resident, people["neighbour"]], target_id=case.pk).exists()
    assert staff_messages.exists()
    for body in staff_messages.values_list("body", flat=True):
        assert "139 1234 5678" not in body and PHONE not in body and "王秀兰" not in body
    # The residents' own lists no longer show it; staff still find it.
    assert not selectors.my_cases(resident).exists() and not selectors.my_cases(people["neighbour"]).exists()
    assert selectors.case_for(people["dispatcher"], case.pk).pk == case.pk

    # One log row says so, without changing the status; statistics read the same.
    last = case.logs.order_by("-seq").first()
    assert (last.action, last.from_status, last.to_status, last.actor_id, last.is_public, last.step_key) == (
        Action.ANONYMISE, Status.RATED, Status.RATED, None, False, "anonymise")
    assert "1095" in last.note
    after = snapshot(case)
    after["logs"] = after["logs"][:-1]
    assert after == before


def test_a_second_run_changes_nothing(story):
    at = CLOSED_ON + datetime.timedelta(days=DAYS + 1)
    assert run(at) == 1
    case = Case.objects.get(pk=story.pk)
    state = (snapshot(case), case.description, case.address, case.personal_data_removed_at,
             list(CaseLog.objects.filter(case=case).values_list("seq", "note")),
             list(case.parties.values_list("name", flat=True)))
    assert run(at) == 0
    assert run(at + datetime.timedelta(days=30)) == 0
    case = Case.objects.get(pk=story.pk)
    assert state == (snapshot(case), case.description, case.address, case.personal_data_removed_at,
                     list(CaseLog.objects.filter(case=case).values_list("seq", "note")),
                     list(case.parties.values_list("name", flat=True)))


def test_an_open_case_reported_long_ago_is_untouched(tree, people, cats):
    with time_machine.travel(CLOSED_ON - datetime.timedelta(days=400), tick=False):
        case = handled(people, tree, report(people["resident"], cats["env"], description=f"电话{PHONE}"))
    assert run(CLOSED_ON + datetime.timedelta(days=DAYS * 2)) == 0
    case = Case.objects.get(pk=case.pk)
    assert case.personal_data_removed_at is None and case.reporter == people["resident"]
    assert case.description == f"电话{PHONE}"


def test_a_grid_workers_own_report_keeps_its_reporter(tree, people, cats):
    with time_machine.travel(CLOSED_ON, tick=False):
        case = closed(people, tree, report(people["grid_worker"], cats["env"], description=f"村民电话{PHONE}"))
    assert run(CLOSED_ON + datetime.timedelta(days=DAYS + 1)) == 1
    case = Case.objects.get(pk=case.pk)
    assert case.reporter == people["grid_worker"] and case.description == f"村民电话{REMOVED}"


def test_batches_cover_every_due_case_and_the_period_follows_the_setting(settings, tree, people, cats):
    settings.CASE_PERSONAL_DATA_RETENTION_DAYS = 30
    with time_machine.travel(CLOSED_ON, tick=False):
        cases = [closed(people, tree, report(people["resident"], cats["env"])) for _ in range(5)]
    assert run(CLOSED_ON + datetime.timedelta(days=29)) == 0
    assert run(CLOSED_ON + datetime.timedelta(days=31), batch=2) == 5
    assert Case.objects.filter(pk__in=[c.pk for c in cases], personal_data_removed_at__isnull=True).count() == 0
    assert CaseLog.objects.filter(action=Action.ANONYMISE).count() == 5


def test_phone_and_id_patterns():
    from gongzhi.cases.services.anonymise import _scrubber

    scrub = _scrubber([], {})
    assert scrub("电话13912345678。") == f"电话{REMOVED}。"
    assert scrub("+86 139-1234-5678") == REMOVED
    assert scrub("身份证62110219800101123x") == f"身份证{REMOVED}"
    assert scrub("座机0931-8123456") == f"座机{REMOVED}"
    # Case numbers, sums and dates stay.
    for text in ("事件20261124000123", "赔偿12000元", "2023年3月1日", "编号1391234567890123456789"):
        assert scrub(text) == text


def test_the_nightly_task_calls_the_service(story):
    with time_machine.travel(CLOSED_ON + datetime.timedelta(days=DAYS + 1), tick=False):
        assert tasks.anonymise_closed_cases.call_local() == 1
