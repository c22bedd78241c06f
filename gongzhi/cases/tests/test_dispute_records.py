"""A dispute's records: one internal log row per change (and none on a refusal), who may write them, the
states that take them, replays of a client key, party edits and removals, agreements attached and replaced,
performance follow-ups, masked names and their logged reveal, and the lists built on them."""

import datetime
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile

from gongzhi.accounts.models import Role
from gongzhi.cases import selectors, services
from gongzhi.cases.factories import act, report
from gongzhi.cases.models import CaseLog, Category, DisputeParty, MediationAgreement, MediationSession
from gongzhi.cases.workflow import DISPUTE_ACTIONS, Action, Status
from gongzhi.core.errors import Conflict, DomainError, Forbidden, NotFound
from gongzhi.core.models import PiiAccessLog
from gongzhi.core.validators import id_check_digit
from gongzhi.registry.models import Household

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = datetime.date(2026, 3, 2)
NOW = datetime.datetime(2026, 3, 2, 15, 0, tzinfo=SHANGHAI)


def valid_id(birth: str, seq: str) -> str:
    first17 = "621102" + birth + seq
    return first17 + id_check_digit(first17)


ZHANG = valid_id("19800101", "123")
LI = valid_id("19851212", "456")
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def dispute(people):
    return report(people["resident"], Category.objects.get(code="dispute-neighbour"),
                  description="邻居家排水沟把水引到我家院子里")


@pytest.fixture
def village_admin(tree, make_staff):
    return make_staff("cunguan", tree["village"], Role.VILLAGE_ADMIN)


def pdf(name="协议书.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def grant_unmask(user):
    user.user_permissions.add(Permission.objects.get(codename="unmask_pii"))
    return type(user).objects.get(pk=user.pk)  # a fresh object: permissions are cached


def mediate(actor, case, **kwargs):
    kwargs = {"kind": MediationSession.Kind.PEOPLE, "held_on": TODAY, "outcome": MediationSession.Outcome.AGREED,
              "mediators": [actor], **kwargs}
    return services.record_mediation(actor=actor, case=case, **kwargs)


def dispute_logs(case):
    return list(CaseLog.objects.filter(case=case, action__in=DISPUTE_ACTIONS).order_by("seq"))


def dispatched(people, tree, case):
    act(people["dispatcher"], case, Action.ACCEPT)
    act(people["dispatcher"], case, Action.DISPATCH, lead_unit=tree["justice"], assist_units=[tree["police"]])
    return act(people["justice"], case, Action.SIGN)


def closed(people, tree, case, *, dispatch=True):
    if dispatch:
        dispatched(people, tree, case)
    act(people["justice"], case, Action.COMPLETE, note="双方达成协议")
    act(people["grid_worker"], case, Action.CONFIRM, note="回访：已解决")
    return act(people["dispatcher"], case, Action.CLOSE)


# --------------------------------------------------------------------------------------------- log rows


def test_each_change_writes_one_internal_log_row_without_personal_data(people, tree, dispute):
    Household.objects.create(village=tree["village"], grid=tree["grid"], number="H-001", address="小山村1号")
    party = services.add_party(actor=people["grid_worker"], case=dispute, name="张建国", role="applicant",
                               id_number=ZHANG, household_number="H-001").record
    services.edit_party(actor=people["dispatcher"], case=dispute, party=party, name="张建国（改）", id_number=LI)
    other = services.add_party(actor=people["dispatcher"], case=dispute, name="李桂英", role="respondent").record
    services.remove_party(actor=people["dispatcher"], case=dispute, party_id=other.pk)
    session = mediate(people["dispatcher"], dispute, outcome=MediationSession.Outcome.PARTIAL,
                      other_mediators="人民调解员王国辉、退休法官李某", summary="张建国同意改沟").record
    agreement = services.attach_agreement(actor=people["grid_worker"], case=dispute, session=session,
                                          agreement=pdf(), signed_on=TODAY,
                                          follow_up_on=datetime.date(2026, 4, 1)).record
    services.replace_agreement(actor=people["dispatcher"], case=dispute, agreement=agreement, file=pdf("新.pdf"))
    services.record_performance(actor=people["grid_worker"], case=dispute, agreement=agreement,
                                performance="partly", checked_on=TODAY, note="张建国只改了一半",
                                next_follow_up_on=datetime.date(2026, 3, 20))
    logs = dispute_logs(dispute)
    assert [(log.action, log.actor) for log in logs] == [
        (Action.ADD_PARTY, people["grid_worker"]), (Action.EDIT_PARTY, people["dispatcher"]),
        (Action.ADD_PARTY, people["dispatcher"]), (Action.REMOVE_PARTY, people["dispatcher"]),
        (Action.RECORD_MEDIATION, people["dispatcher"]), (Action.ATTACH_AGREEMENT, people["grid_worker"]),
        (Action.REPLACE_AGREEMENT, people["dispatcher"]), (Action.RECORD_PERFORMANCE, people["grid_worker"])]
    assert [log.note for log in logs] == [
        "登记当事人：申请人，已登记身份证号，已关联户籍",
        "修改当事人（申请人）：姓名、身份证号",
        "登记当事人：被申请人",
        "删除当事人：被申请人",
        "登记调解：人民调解，部分达成，调解员3人",
        "上传调解协议书：2026-03-02的调解，签订日期2026-03-02，履行回访日期2026-04-01",
        "更换调解协议书：签订日期2026-03-02，履行回访日期2026-04-01",
        "协议履行回访：部分履行（回访日期2026-03-02），下次回访日期2026-03-20",
    ]
    for log in logs:
        assert not log.is_public and log.from_status == log.to_status == Status.REPORTED
        for secret in ("张建国", "李桂英", "王国辉", ZHANG, LI, "改沟", "一半"):
            assert secret not in log.note
    assert [log.seq for log in CaseLog.objects.filter(case=dispute).order_by("seq")] == list(range(1, 10))
    # Residents never see them.
    assert [e.action for e in selectors.timeline_for(people["resident"], dispute)] == [Action.REPORT]
    assert len(selectors.timeline_for(people["dispatcher"], dispute)) == 9


def test_the_notes_are_in_the_sites_language_whatever_the_request_speaks(people, dispute):
    from django.utils import translation

    with translation.override("en"):
        services.add_party(actor=people["dispatcher"], case=dispute, name="张建国", role="applicant")
    assert dispute_logs(dispute)[0].note == "登记当事人：申请人"


def test_a_refused_change_writes_nothing(people, dispute):
    with pytest.raises(DomainError):
        services.add_party(actor=people["dispatcher"], case=dispute, name="", role="applicant")
    with pytest.raises(DomainError) as err:
        services.add_party(actor=people["dispatcher"], case=dispute, name="张建国", role="judge")
    assert (err.value.field, err.value.message) == ("role", "请选择当事人身份。")
    party = services.add_party(actor=people["dispatcher"], case=dispute, name="张建国").record
    with pytest.raises(DomainError) as err:
        services.edit_party(actor=people["dispatcher"], case=dispute, party=party, name="张建国", role="party")
    assert (err.value.code, err.value.message) == ("no_change", "没有需要保存的修改。")
    assert len(dispute_logs(dispute)) == 1


# ------------------------------------------------------------------------------------------ who, when


@pytest.mark.parametrize("who,allowed", [
    ("dispatcher", True), ("grid_worker", True), ("village_admin", True),
    ("county_dispatcher", Forbidden), ("county_supervisor", Forbidden), ("police", Forbidden),
    ("resident", Forbidden), ("neighbour", NotFound), ("other_dispatcher", NotFound),
    ("other_grid_worker", NotFound), ("justice2", True),
])
def test_who_may_record_after_dispatch(people, tree, dispute, village_admin, who, allowed):
    """The holding command centre, the lead unit (any of its handlers), the grid's and village's staff; the
    county and the assisting 派出所 see but do not write; a resident who reported it gets 403 (they see the
    case), anyone else 404."""
    dispatched(people, tree, dispute)
    actor = village_admin if who == "village_admin" else people[who]
    calls = [
        lambda: services.add_party(actor=actor, case=dispute, name="张建国"),
        lambda: mediate(actor, dispute, outcome=MediationSession.Outcome.FAILED, mediators=[],
                        other_mediators="王国辉"),
    ]
    for call in calls:
        if allowed is True:
            assert call().created
        else:
            with pytest.raises(allowed):
                call()
    assert len(dispute_logs(dispute)) == (2 if allowed is True else 0)


@pytest.mark.parametrize("finish", ["reject", "close", "merge"])
def test_nothing_changes_once_the_case_is_finished(people, tree, dispute, finish):
    party = services.add_party(actor=people["dispatcher"], case=dispute, name="张建国").record
    session = mediate(people["dispatcher"], dispute, outcome=MediationSession.Outcome.PARTIAL).record
    if finish == "reject":
        act(people["dispatcher"], dispute, Action.REJECT, note="已由法院受理")
    elif finish == "close":
        closed(people, tree, dispute)
    else:
        other = report(people["neighbour"], dispute.category)
        services.merge_case(actor=people["dispatcher"], case=dispute, merge_into=other, note="同一纠纷")
    before = len(dispute_logs(dispute))
    calls = [
        lambda: services.add_party(actor=people["dispatcher"], case=dispute, name="李桂英"),
        lambda: services.edit_party(actor=people["dispatcher"], case=dispute, party=party, name="张某"),
        lambda: services.remove_party(actor=people["dispatcher"], case=dispute, party_id=party.pk),
        lambda: mediate(people["dispatcher"], dispute),
        lambda: services.attach_agreement(actor=people["dispatcher"], case=dispute, session=session,
                                          agreement=pdf(), signed_on=TODAY, follow_up_on=TODAY),
    ]
    for call in calls:
        with pytest.raises(DomainError) as err:
            call()
        assert err.value.code == "invalid_state" and "不能再修改纠纷信息" in str(err.value.message)
    assert len(dispute_logs(dispute)) == before


def test_a_performance_follow_up_is_taken_after_closing_not_after_rejection(people, tree, dispute):
    """履行回访 comes after the dispute was settled and the case closed: that is when it is recorded."""
    dispatched(people, tree, dispute)
    agreement = mediate(people["justice"], dispute, agreement=pdf(), follow_up_on=TODAY).record.agreement
    rejected = report(people["resident"], dispute.category)
    rejected_agreement = mediate(people["dispatcher"], rejected, agreement=pdf(), follow_up_on=TODAY).record.agreement
    closed(people, tree, dispute, dispatch=False)
    act(people["dispatcher"], rejected, Action.REJECT, note="已由法院受理")
    done = services.record_performance(actor=people["grid_worker"], case=dispute, agreement=agreement,
                                       performance="performed", checked_on=TODAY, note="围墙已拆除")
    assert done.created and done.record.performance == "performed"
    assert dispute_logs(dispute)[-1].to_status == Status.CLOSED
    dispute.refresh_from_db()
    view = selectors.dispute_of(people["grid_worker"], dispute)
    assert (view.may_record, view.may_record_performance) == (False, True)
    with pytest.raises(DomainError) as err:
        services.record_performance(actor=people["dispatcher"], case=rejected, agreement=rejected_agreement,
                                    performance="performed", checked_on=TODAY)
    assert err.value.code == "invalid_state"


# -------------------------------------------------------------------------------------------- replays


def test_a_replayed_form_answers_with_the_first_result_and_writes_nothing(people, tree, dispute):
    first = services.add_party(actor=people["dispatcher"], case=dispute, name="张建国", client_key="k1")
    again = services.add_party(actor=people["dispatcher"], case=dispute, name="张建国", client_key="k1")
    assert first.created and not again.created
    assert again.record == first.record and again.log == first.log
    session = mediate(people["dispatcher"], dispute, client_key="k2", agreement=pdf(), follow_up_on=TODAY)
    assert mediate(people["dispatcher"], dispute, client_key="k2", agreement=pdf()).record == session.record
    edited = services.edit_party(actor=people["dispatcher"], case=dispute, party=first.record, name="张某",
                                 client_key="k3")
    replay = services.edit_party(actor=people["dispatcher"], case=dispute, party=first.record, name="张某",
                                 client_key="k3")
    assert edited.created and not replay.created and replay.log == edited.log
    assert DisputeParty.objects.count() == 1 and MediationSession.objects.count() == 1
    assert MediationAgreement.objects.count() == 1 and len(dispute_logs(dispute)) == 3
    # Even after the case has moved on (the first answer was lost while it closed).
    removed = services.remove_party(actor=people["dispatcher"], case=dispute, party_id=first.record.pk,
                                    client_key="k4")
    closed(people, tree, dispute)
    assert not services.remove_party(actor=people["dispatcher"], case=dispute, party_id=first.record.pk,
                                     client_key="k4").created
    assert removed.record is None and len(dispute_logs(dispute)) == 4


def test_a_key_used_by_someone_else_or_for_another_change_is_a_conflict(people, dispute):
    party = services.add_party(actor=people["dispatcher"], case=dispute, name="张建国", client_key="k1").record
    with pytest.raises(Conflict):
        services.add_party(actor=people["grid_worker"], case=dispute, name="张建国", client_key="k1")
    with pytest.raises(Conflict):
        services.edit_party(actor=people["dispatcher"], case=dispute, party=party, name="张某", client_key="k1")
    # Scope first: out of scope is 404 even with a known key.
    with pytest.raises(NotFound):
        services.add_party(actor=people["other_dispatcher"], case=dispute, name="张建国", client_key="k1")
    assert len(dispute_logs(dispute)) == 1


# ---------------------------------------------------------------------------------------------- parties


def test_editing_a_party_changes_only_what_is_given(people, tree, dispute):
    Household.objects.create(village=tree["village"], grid=tree["grid"], number="H-001", address="小山村1号")
    party = services.add_party(actor=people["dispatcher"], case=dispute, name="张建国", id_number=ZHANG,
                               household_number="H-001").record
    other = services.add_party(actor=people["dispatcher"], case=dispute, name="李桂英", id_number=LI).record
    with pytest.raises(DomainError) as err:
        services.edit_party(actor=people["dispatcher"], case=dispute, party=other, id_number=ZHANG)
    assert err.value.code == "duplicate_party"
    services.edit_party(actor=people["dispatcher"], case=dispute, party=party, role="respondent")
    party.refresh_from_db()
    assert (party.name, party.role, party.household_id is not None) == ("张建国", "respondent", True)
    services.edit_party(actor=people["dispatcher"], case=dispute, party=party, id_number="", household_number="")
    party.refresh_from_db()
    assert party.id_number_hash == "" and party.household is None
    assert dispute_logs(dispute)[-1].note == "修改当事人（被申请人）：清除身份证号、清除户籍关联"
    # A party of another case is not found through this one.
    elsewhere = report(people["resident"], dispute.category)
    with pytest.raises(NotFound):
        services.edit_party(actor=people["dispatcher"], case=elsewhere, party=party, name="某")


# ------------------------------------------------------------------------------------------ agreements


def test_an_agreement_is_attached_once_to_a_session_that_reached_one(people, dispute, media):
    failed = mediate(people["dispatcher"], dispute, outcome=MediationSession.Outcome.FAILED).record
    agreed = mediate(people["dispatcher"], dispute).record
    with pytest.raises(DomainError) as err:
        services.attach_agreement(actor=people["dispatcher"], case=dispute, session=failed, agreement=pdf(),
                                  signed_on=TODAY, follow_up_on=TODAY)
    assert err.value.code == "agreement_unexpected"
    for kwargs, field in [({"agreement": None}, "agreement"), ({"signed_on": None}, "signed_on"),
                          ({"follow_up_on": None}, "follow_up_on"),
                          ({"agreement": pdf(content=b"PK\x03\x04zip")}, "agreement")]:
        with pytest.raises(DomainError) as err:
            services.attach_agreement(actor=people["dispatcher"], case=dispute, session=agreed, **{
                "agreement": pdf(), "signed_on": TODAY, "follow_up_on": TODAY, **kwargs})
        assert err.value.field == field
    assert not list(media.rglob("*.*"))
    attached = services.attach_agreement(actor=people["dispatcher"], case=dispute, session=agreed,
                                         agreement=pdf(), signed_on=TODAY, follow_up_on=datetime.date(2026, 4, 1))
    assert attached.record.session == agreed and attached.record.log == attached.log
    with pytest.raises(DomainError) as err:
        services.attach_agreement(actor=people["dispatcher"], case=dispute, session=agreed, agreement=pdf(),
                                  signed_on=TODAY, follow_up_on=TODAY)
    assert err.value.code == "agreement_exists"
    assert MediationAgreement.objects.count() == 1


def test_replacing_an_agreement_deletes_the_old_file_once_committed(people, dispute, media,
                                                                    django_capture_on_commit_callbacks):
    agreement = mediate(people["dispatcher"], dispute, agreement=pdf(), follow_up_on=TODAY).record.agreement
    old = agreement.file.name
    with django_capture_on_commit_callbacks(execute=True):
        services.replace_agreement(actor=people["dispatcher"], case=dispute, agreement=agreement,
                                   file=pdf(content=PDF + b"% v2\n%%EOF\n"), follow_up_on=datetime.date(2026, 5, 1))
    agreement.refresh_from_db()
    assert agreement.file.name != old and not (media / old).exists()
    assert agreement.file.read().endswith(b"% v2\n%%EOF\n") and agreement.follow_up_on == datetime.date(2026, 5, 1)
    with pytest.raises(DomainError) as err:
        services.replace_agreement(actor=people["dispatcher"], case=dispute, agreement=agreement, file=None)
    assert err.value.code == "agreement_required"


# -------------------------------------------------------------------------------------------- follow-ups


def test_performance_follow_ups_and_when_they_are_due(people, dispute):
    agreement = mediate(people["dispatcher"], dispute, agreement=pdf(),
                        follow_up_on=datetime.date(2026, 3, 10)).record.agreement
    assert not list(selectors.agreements_due(people["dispatcher"]))
    later = NOW + datetime.timedelta(days=8)
    assert list(selectors.agreements_due(people["dispatcher"], now=later)) == [agreement]
    assert list(selectors.agreements_due(people["grid_worker"], now=later)) == [agreement]
    assert not selectors.agreements_due(people["other_dispatcher"], now=later).exists()
    assert not selectors.agreements_due(people["resident"], now=later).exists()
    with time_machine.travel(later, tick=False):
        for kwargs, field in [({"performance": "maybe"}, "performance"),
                              ({"checked_on": datetime.date(2026, 3, 11)}, "checked_on"),
                              ({"checked_on": datetime.date(2026, 3, 1)}, "checked_on"),
                              ({"next_follow_up_on": datetime.date(2026, 3, 10)}, "next_follow_up_on"),
                              ({"performance": "performed", "next_follow_up_on": datetime.date(2026, 4, 10)},
                               "next_follow_up_on")]:
            with pytest.raises(DomainError) as err:
                services.record_performance(actor=people["grid_worker"], case=dispute, agreement=agreement, **{
                    "performance": "partly", "checked_on": datetime.date(2026, 3, 10), **kwargs})
            assert err.value.field == field
        services.record_performance(actor=people["grid_worker"], case=dispute, agreement=agreement,
                                    performance="partly", checked_on=datetime.date(2026, 3, 10),
                                    next_follow_up_on=datetime.date(2026, 4, 10), note="还差一半赔偿款")
    agreement.refresh_from_db()
    assert (agreement.performance, agreement.follow_up_on) == ("partly", datetime.date(2026, 4, 10))
    assert not selectors.agreements_due(people["dispatcher"], now=later).exists()
    assert list(selectors.agreements_due(people["dispatcher"], now=NOW + datetime.timedelta(days=40))) == [agreement]
    with time_machine.travel(NOW + datetime.timedelta(days=40), tick=False):
        services.record_performance(actor=people["dispatcher"], case=dispute, agreement=agreement,
                                    performance="performed", checked_on=datetime.date(2026, 4, 11))
    assert not selectors.agreements_due(people["dispatcher"], now=NOW + datetime.timedelta(days=400)).exists()


# --------------------------------------------------------------------------------------- what staff see


def test_staff_see_masked_names_and_residents_see_nothing(people, tree, dispute, village_admin):
    services.add_party(actor=people["dispatcher"], case=dispute, name="张建国", role="applicant", id_number=ZHANG)
    services.add_party(actor=people["dispatcher"], case=dispute, name="某建筑劳务有限公司", role="respondent")
    mediate(people["dispatcher"], dispute, mediators=[people["dispatcher"], people["grid_worker"]],
            other_mediators="王国辉、 王国辉", agreement=pdf(), follow_up_on=TODAY)
    view = selectors.dispute_of(people["grid_worker"], dispute)
    assert [(p.name, p.role_label, p.has_id_number) for p in view.parties] == [
        ("张**", "申请人", True), ("某********", "被申请人", False)]
    session = view.sessions[0]
    assert session.mediators == ["disp", "wgy", "王国辉"] and session.recorded_by == "disp"
    assert session.agreement.url.startswith("/media/mediation/") and session.agreement.follow_up_due
    assert (view.may_record, view.may_unmask) == (True, False)
    assert selectors.dispute_of(people["county_supervisor"], dispute).may_record is False
    with pytest.raises(Forbidden):
        selectors.dispute_of(people["resident"], dispute)  # its reporter sees the case, not the dispute
    with pytest.raises(NotFound):
        selectors.dispute_of(people["dispatcher"], report(people["resident"], Category.objects.get(
            code="talk-environment")))


def test_full_names_are_for_those_who_may_unmask_and_each_reveal_is_logged(people, dispute):
    party = services.add_party(actor=people["dispatcher"], case=dispute, name="张建国").record
    with pytest.raises(Forbidden):
        services.reveal_party_names(actor=people["dispatcher"], case=dispute, reason="调解联系")
    with pytest.raises(NotFound):
        services.reveal_party_names(actor=grant_unmask(people["other_dispatcher"]), case=dispute, reason="x")
    dispatcher = grant_unmask(people["dispatcher"])
    assert selectors.dispute_of(dispatcher, dispute).may_unmask
    with pytest.raises(DomainError) as err:
        services.reveal_party_names(actor=dispatcher, case=dispute, reason="  ")
    assert (err.value.field, err.value.message) == ("reason", "请填写查看事由。")
    assert not PiiAccessLog.objects.exists()
    assert services.reveal_party_names(actor=dispatcher, case=dispute, reason="组织调解") == {party.pk: "张建国"}
    entry = PiiAccessLog.objects.get()
    assert (entry.actor, entry.subject_type, entry.subject_id, entry.field, entry.reason) == (
        dispatcher, "cases.disputeparty", party.pk, "name", "组织调解")
    assert not dispute_logs(dispute)[1:]  # a reveal is an access, not a change of the case


def test_mediators_to_choose_from_are_the_staff_working_on_the_case(people, tree, dispute, village_admin,
                                                                    make_staff):
    make_staff("wgy3", tree["grid3"], Role.GRID_WORKER)  # another village's grid: not offered
    names = lambda: {c.user.username for c in selectors.mediator_candidates(dispute)}  # noqa: E731
    assert names() == {"disp", "sifa", "sifa2", "jingcha", "wgy", "cunguan"}
    dispatched(people, tree, dispute)
    assert names() == {"disp", "sifa", "sifa2", "jingcha", "wgy", "cunguan"}
    labels = {c.user.username: c.label for c in selectors.mediator_candidates(dispute)}
    assert labels["sifa"] == "sifa（八里镇司法所）"


def test_the_at_risk_list_filters_by_risk_and_township(people, tree, dispute):
    marriage = report(people["resident"], Category.objects.get(code="dispute-marriage"))
    assert list(selectors.dispute_cases_at_risk(people["county_dispatcher"])) == [marriage]
    assert list(selectors.dispute_cases_at_risk(people["dispatcher"], risk="marriage_family_open")) == [marriage]
    assert not selectors.dispute_cases_at_risk(people["dispatcher"], risk="repeat").exists()
    assert not selectors.dispute_cases_at_risk(people["county_dispatcher"], within=tree["other_town"]).exists()
    assert list(selectors.dispute_cases_at_risk(people["county_dispatcher"], within=tree["town"])) == [marriage]
    assert not selectors.dispute_cases_at_risk(people["resident"]).exists()  # not even their own
    with pytest.raises(DomainError) as err:
        selectors.dispute_cases_at_risk(people["dispatcher"], risk="fire")
    assert err.value.field == "risk"
    assert list(selectors.townships_for(people["county_dispatcher"])) == [tree["town"], tree["other_town"]]


def test_an_image_agreement_is_accepted_by_content(people, dispute):
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (300, 200), (230, 230, 230)).save(out, "PNG")
    session = mediate(people["dispatcher"], dispute, agreement=SimpleUploadedFile("scan.pdf", out.getvalue()),
                      follow_up_on=TODAY).record
    assert session.agreement.file.name.endswith(".jpg")
