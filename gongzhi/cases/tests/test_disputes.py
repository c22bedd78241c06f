"""矛盾纠纷 services: parties (ID numbers only as hashes), mediation sessions and agreements, risk flags, privacy.
The records' log rows, permissions, idempotency and follow-ups are in test_dispute_records.py."""

import datetime
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from PIL import Image

from gongzhi.cases import categories, selectors, services
from gongzhi.cases.factories import act, report
from gongzhi.cases.models import Case, Category, DisputeParty, MediationAgreement, MediationSession
from gongzhi.cases.services import disputes
from gongzhi.cases.workflow import Action, Status
from gongzhi.core import pii
from gongzhi.core.errors import DomainError, Forbidden, NotFound
from gongzhi.core.validators import id_check_digit
from gongzhi.registry.models import Household

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def valid_id(birth: str = "19800101", seq: str = "123") -> str:
    first17 = "621102" + birth + seq
    return first17 + id_check_digit(first17)


ZHANG = valid_id(seq="123")
LI = valid_id(birth="19851212", seq="456")
WANG = valid_id(birth="19700606", seq="789")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def cats(cats):
    """The shared categories and two dispute leaves."""
    return {**cats, "neighbour": Category.objects.get(code="dispute-neighbour"),
            "marriage": Category.objects.get(code="dispute-marriage")}


@pytest.fixture
def homes(tree):
    def home(number, grid):
        return Household.objects.create(village=tree["village"], grid=grid, number=number, address=f"小山村{number}号")

    return {"zhang": home("H-001", tree["grid"]), "li": home("H-002", tree["grid"]),
            "far": home("H-101", tree["grid2"])}


def dispatched(people, tree, case):
    """Accept the case and dispatch it to the 司法所 as lead unit; it signs."""
    act(people["dispatcher"], case, Action.ACCEPT)
    act(people["dispatcher"], case, Action.DISPATCH, lead_unit=tree["justice"])
    return act(people["justice"], case, Action.SIGN)


def pdf_bytes(padding: int = 0) -> bytes:
    return b"%PDF-1.4\n1 0 obj <<>> endobj\n" + b"0" * padding + b"\ntrailer <<>>\n%%EOF\n"


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (400, 300), (200, 200, 200)).save(out, "PNG")
    return out.getvalue()


def upload(content: bytes, name: str = "协议书.pdf", content_type: str = "application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def mediate(actor, case, **kwargs):
    """record_mediation with the actor as mediator; the session."""
    kwargs = {"kind": MediationSession.Kind.PEOPLE, "held_on": datetime.date(2026, 3, 2),
              "outcome": MediationSession.Outcome.AGREED, "summary": "双方就宅基地边界达成一致",
              "mediators": [actor], "follow_up_on": datetime.date(2026, 4, 2), **kwargs}
    return services.record_mediation(actor=actor, case=case, **kwargs).record


# ------------------------------------------------------------------------------------------ privacy


def test_dispute_cases_are_private_and_a_public_dispute_category_is_refused(people, cats):
    case = report(people["resident"], cats["neighbour"], description="邻居家排水沟把水引到我家院子里")
    assert case.category.kind == "dispute" and case.is_public is False
    with pytest.raises(IntegrityError), transaction.atomic():
        Category.objects.create(code="dispute-new", name="新纠纷", kind="dispute", is_public=True,
                                parent=cats["dispute"])
    cats["neighbour"].is_public = True
    with pytest.raises(IntegrityError), transaction.atomic():
        cats["neighbour"].save()
    assert not Category.objects.filter(kind="dispute", is_public=True).exists()


# ------------------------------------------------------------------------------------------ parties


def test_party_is_recorded_with_only_a_keyed_hash_of_the_id_number(people, cats, homes):
    case = report(people["resident"], cats["neighbour"])
    party = services.add_party(actor=people["grid_worker"], case=case, name="张建国", id_number=f" {ZHANG.lower()} ",
                               household_number=" H-001 ", role="applicant").record
    party.refresh_from_db()
    assert (party.name, party.role, party.household) == ("张建国", "applicant", homes["zhang"])
    assert party.id_number_hash == pii.keyed_hash(ZHANG)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {DisputeParty._meta.db_table}")
        rows = cursor.fetchall()
    raw = " ".join(str(value) for row in rows for value in row)
    assert len(rows) == 1 and "张建国" in raw
    assert ZHANG not in raw and ZHANG[:17] not in raw and ZHANG[-8:] not in raw


@pytest.mark.parametrize("bad", [ZHANG[:-1] + ("0" if ZHANG[-1] != "0" else "1"), ZHANG[:17], "abc"])
def test_an_invalid_id_number_is_refused_and_nothing_is_written(people, cats, bad):
    case = report(people["resident"], cats["neighbour"])
    with pytest.raises(DomainError) as err:
        services.add_party(actor=people["dispatcher"], case=case, name="张建国", id_number=bad)
    assert err.value.field == "id_number"
    assert DisputeParty.objects.count() == 0


def test_a_party_needs_a_name_and_may_come_without_an_id_number(people, cats):
    case = report(people["resident"], cats["neighbour"])
    with pytest.raises(DomainError) as err:
        services.add_party(actor=people["dispatcher"], case=case, name="  ", id_number=ZHANG)
    assert err.value.field == "name" and DisputeParty.objects.count() == 0
    party = services.add_party(actor=people["dispatcher"], case=case, name="某养殖合作社", id_number="").record
    assert party.id_number_hash == "" and party.household is None and party.role == "party"


def test_the_same_person_is_not_recorded_twice_on_one_case(people, cats):
    case = report(people["resident"], cats["neighbour"])
    services.add_party(actor=people["dispatcher"], case=case, name="张建国", id_number=ZHANG)
    with pytest.raises(DomainError) as err:
        services.add_party(actor=people["dispatcher"], case=case, name="张建国", id_number=ZHANG)
    assert err.value.code == "duplicate_party" and DisputeParty.objects.count() == 1


def test_parties_only_on_dispute_cases_and_not_after_the_case_is_finished(people, cats):
    streetlight = report(people["resident"], cats["env"])
    with pytest.raises(DomainError) as err:
        services.add_party(actor=people["dispatcher"], case=streetlight, name="张建国")
    assert err.value.code == "not_a_dispute"
    case = report(people["resident"], cats["neighbour"])
    act(people["dispatcher"], case, Action.REJECT, note="已由法院受理，不属于本平台受理范围")
    with pytest.raises(DomainError) as err:
        services.add_party(actor=people["dispatcher"], case=case, name="张建国")
    assert err.value.code == "invalid_state"
    assert DisputeParty.objects.count() == 0


def test_who_may_record_a_party(tree, people, cats):
    """Dispatcher of the holding level, grid staff of the case's grid and the lead unit may; nobody else.

    Out of scope answers 404 (ids cannot be probed). The resident who reported the dispute sees the case
    in their own list, so hiding it would protect nothing: they get 403. Any other resident gets 404.
    """
    case = report(people["resident"], cats["neighbour"])
    services.add_party(actor=people["dispatcher"], case=case, name="甲")
    services.add_party(actor=people["grid_worker"], case=case, name="乙")
    for who in ("other_dispatcher", "other_grid_worker", "neighbour", "justice"):
        with pytest.raises(NotFound):
            services.add_party(actor=people[who], case=case, name="丙")
    for who in ("resident", "county_dispatcher"):
        with pytest.raises(Forbidden):
            services.add_party(actor=people[who], case=case, name="丙")
    dispatched(people, tree, case)
    services.add_party(actor=people["justice"], case=case, name="丁")  # now the lead unit
    assert sorted(case.parties.values_list("name", flat=True)) == ["丁", "乙", "甲"]


def test_a_household_outside_the_actors_scope_is_not_found(people, cats, homes):
    case = report(people["resident"], cats["neighbour"])
    for number in ("H-101", "H-999"):  # another grid's household and none at all: answered alike
        with pytest.raises(NotFound) as err:
            services.add_party(actor=people["grid_worker"], case=case, name="王某", household_number=number)
        assert err.value.field == "household_number" and err.value.message == "未找到该户号，或不在您的管辖范围内。"
    assert DisputeParty.objects.count() == 0
    # The township dispatcher sees both grids.
    services.add_party(actor=people["dispatcher"], case=case, name="王某", household_number="H-101")


# ---------------------------------------------------------------------------------------- mediation


@time_machine.travel(datetime.datetime(2026, 3, 2, 15, 0, tzinfo=SHANGHAI), tick=False)
def test_agreed_mediation_stores_the_pdf_agreement_and_keeps_the_case_private(tree, people, cats, media):
    case = dispatched(people, tree, report(people["resident"], cats["neighbour"]))
    logs_before = case.logs.count()
    session = mediate(people["justice"], case, agreement=upload(pdf_bytes(), name="张建国李桂英调解协议.pdf"))
    session.refresh_from_db()
    assert session.recorded_by == people["justice"] and list(session.mediators.all()) == [people["justice"]]
    assert session.outcome == "agreed"
    agreement = session.agreement
    assert agreement.file.name.startswith("mediation/2026/") and agreement.file.name.endswith(".pdf")
    assert "张建国" not in agreement.file.name
    assert (agreement.signed_on, agreement.follow_up_on) == (datetime.date(2026, 3, 2), datetime.date(2026, 4, 2))
    with agreement.file.open("rb") as stored:
        assert stored.read() == pdf_bytes()
    case.refresh_from_db()
    # One internal log row, the status unchanged.
    assert case.is_public is False and case.status == Status.IN_PROGRESS and case.logs.count() == logs_before + 1


@time_machine.travel(datetime.datetime(2026, 3, 2, 15, 0, tzinfo=SHANGHAI), tick=False)
def test_a_photographed_agreement_is_re_encoded_as_jpeg(tree, people, cats):
    case = report(people["resident"], cats["neighbour"])
    session = mediate(people["dispatcher"], case, agreement=upload(png_bytes(), "scan.png", "image/png"))
    assert session.agreement.file.name.endswith(".jpg")
    with session.agreement.file.open("rb") as stored:
        assert Image.open(stored).format == "JPEG"


@time_machine.travel(datetime.datetime(2026, 3, 2, 15, 0, tzinfo=SHANGHAI), tick=False)
def test_agreed_without_an_agreement_yet_is_recorded_and_waits_for_it(people, cats):
    """The signed agreement may come later (attach_agreement), or never: an oral agreement (口头协议, 人民调解法
    art. 28) has none. The page shows that one is expected."""
    case = report(people["resident"], cats["neighbour"])
    session = mediate(people["dispatcher"], case, agreement=None, follow_up_on=None)
    assert not MediationAgreement.objects.filter(session=session).exists()
    view = selectors.dispute_of(people["dispatcher"], case)
    assert view.sessions[0].agreement is None and view.sessions[0].agreement_expected
    continued = mediate(people["dispatcher"], case, outcome=MediationSession.Outcome.CONTINUED, follow_up_on=None)
    assert not selectors.dispute_of(people["dispatcher"], case).sessions[1].agreement_expected
    assert continued.outcome == "continued"


@time_machine.travel(datetime.datetime(2026, 3, 2, 15, 0, tzinfo=SHANGHAI), tick=False)
@pytest.mark.parametrize("content,name,code", [
    (b"PK\x03\x04" + b"\x00" * 200, "协议书.pdf", "agreement_type"),  # a .docx named .pdf
    (b"GIF89a" + b"\x00" * 200, "协议书.gif", "agreement_type"),
    (b"<html><script>alert(1)</script></html>", "协议书.pdf", "agreement_type"),
    (b"", "协议书.pdf", "agreement_empty"),
    (b"%PDF-1.4\n1 0 obj <<>> endobj\n", "协议书.pdf", "document_truncated"),  # cut short: no %%EOF
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "scan.png", "photo_type"),  # PNG header, no picture
])
def test_an_agreement_that_is_not_a_pdf_or_picture_is_refused(people, cats, content, name, code, media):
    case = report(people["resident"], cats["neighbour"])
    with pytest.raises(DomainError) as err:
        mediate(people["dispatcher"], case, agreement=upload(content, name))
    assert err.value.field == "agreement" and err.value.code == code
    assert MediationSession.objects.count() == 0 and not list(media.rglob("*.*"))


@time_machine.travel(datetime.datetime(2026, 3, 2, 15, 0, tzinfo=SHANGHAI), tick=False)
def test_an_agreement_pdf_over_10_mb_is_refused(people, cats):
    case = report(people["resident"], cats["neighbour"])
    just_fits = pdf_bytes(settings.UPLOAD_DOCUMENT_MAX_BYTES - len(pdf_bytes()))
    assert len(just_fits) == settings.UPLOAD_DOCUMENT_MAX_BYTES
    mediate(people["dispatcher"], case, agreement=upload(just_fits))
    with pytest.raises(DomainError) as err:
        mediate(people["dispatcher"], case, agreement=upload(just_fits + b"\n"))
    assert err.value.code == "document_too_large"
    assert MediationSession.objects.count() == 1


@time_machine.travel(datetime.datetime(2026, 3, 2, 15, 0, tzinfo=SHANGHAI), tick=False)
def test_mediation_input_is_checked(people, cats):
    case = report(people["resident"], cats["neighbour"])
    for kwargs, field, message in [
        ({"held_on": datetime.date(2026, 3, 3)}, "held_on", "调解日期不能晚于今天。"),
        ({"held_on": None}, "held_on", "请填写调解日期。"),
        ({"kind": "arbitration"}, "kind", "请选择调解类型。"),
        ({"outcome": "won"}, "outcome", "请选择调解结果。"),
        ({"outcome": "failed"}, "agreement", "调解未达成协议，不能上传调解协议书。"),
        ({"summary": "字" * (disputes.SUMMARY_MAX_LENGTH + 1)}, "summary", "内容不能超过5000个字。"),
        ({"mediators": [], "other_mediators": " 、 "}, "mediators", "请选择或填写调解员。"),
        ({"mediators": [people["other_dispatcher"]]}, "mediators", "所选调解员不是办理该纠纷的单位的工作人员。"),
        ({"other_mediators": "王" * 201}, "other_mediators", "内容不能超过200个字。"),
        ({"follow_up_on": None}, "follow_up_on", "请填写履行回访日期。"),
        ({"follow_up_on": datetime.date(2026, 3, 1)}, "follow_up_on", "履行回访日期不能早于签订日期。"),
        ({"follow_up_on": datetime.date(2027, 3, 5)}, "follow_up_on", "履行回访日期应在签订后一年以内。"),
        ({"signed_on": datetime.date(2026, 3, 1)}, "signed_on", "签订日期不能早于调解日期。"),
        ({"signed_on": datetime.date(2026, 3, 3)}, "signed_on", "签订日期不能晚于今天。"),
    ]:
        with pytest.raises(DomainError) as err:
            mediate(people["dispatcher"], case, **{"agreement": upload(pdf_bytes()), **kwargs})
        assert (err.value.field, err.value.message) == (field, message), kwargs
    assert MediationSession.objects.count() == 0 and MediationAgreement.objects.count() == 0
    assert case.logs.count() == 1  # the report only
    mediate(people["dispatcher"], case, held_on=datetime.date(2026, 3, 2), agreement=upload(pdf_bytes()))


@time_machine.travel(datetime.datetime(2026, 3, 2, 15, 0, tzinfo=SHANGHAI), tick=False)
def test_who_may_record_a_mediation(tree, people, cats):
    """As for parties: the holding command centre, the grid's staff (the village's 人民调解委员会 settles most
    disputes where they arise) and the lead unit; upper levels and assisting units only see."""
    case = report(people["resident"], cats["neighbour"])
    kwargs = {"outcome": MediationSession.Outcome.FAILED}
    for who in ("other_dispatcher", "other_grid_worker", "neighbour", "justice"):
        with pytest.raises(NotFound):
            mediate(people[who], case, **kwargs)
    for who in ("resident", "county_dispatcher", "county_supervisor"):
        with pytest.raises(Forbidden):
            mediate(people[who], case, **kwargs)
    with pytest.raises(DomainError) as err:
        mediate(people["dispatcher"], report(people["resident"], cats["env"]), **kwargs)
    assert err.value.code == "not_a_dispute"
    assert MediationSession.objects.count() == 0
    act(people["dispatcher"], case, Action.ACCEPT)
    act(people["dispatcher"], case, Action.DISPATCH, lead_unit=tree["justice"], assist_units=[tree["police"]])
    act(people["justice"], case, Action.SIGN)
    with pytest.raises(Forbidden):
        mediate(people["police"], case, **kwargs)  # 协办: named as a mediator, does not record
    mediate(people["justice"], case, mediators=[people["justice"], people["police"]], **kwargs)
    mediate(people["dispatcher"], case, **kwargs)
    mediate(people["grid_worker"], case, **kwargs)
    assert MediationSession.objects.count() == 3


# -------------------------------------------------------------------------------------------- risks


def at(day: int, hour: int) -> datetime.datetime:
    return datetime.datetime(2026, 1, 5, hour, 0, tzinfo=SHANGHAI) + datetime.timedelta(days=day)


def dispute_on(people, cats, when, *, category="neighbour", **party):
    with time_machine.travel(when, tick=False):
        case = report(people["resident"], cats[category])
        if "household" in party:
            party["household_number"] = party.pop("household").number
        services.add_party(actor=people["dispatcher"], case=case, name=party.pop("name", "张建国"), **party)
    return case


def codes(case, now):
    case.refresh_from_db()
    return [risk.code for risk in selectors.dispute_risks(case, now=now)]


def test_the_same_party_twice_within_90_days_is_a_repeat(people, cats):
    first = dispute_on(people, cats, at(0, 9), id_number=ZHANG)
    assert codes(first, at(0, 9)) == []
    # 90 calendar days later, in the afternoon: more than 90×24 hours, still within 90 days.
    second = dispute_on(people, cats, at(90, 16), id_number=ZHANG, name="张建国（二）")
    assert codes(second, at(90, 16)) == ["repeat"]
    assert codes(first, at(90, 16)) == ["repeat"]
    risk = selectors.dispute_risks(second, now=at(90, 16))[0]
    assert "90" in risk.message
    # A day later the first dispute has left the window.
    assert codes(second, at(91, 8)) == []


def test_disputes_91_days_apart_are_no_repeat(people, cats):
    dispute_on(people, cats, at(0, 16), id_number=ZHANG)
    second = dispute_on(people, cats, at(91, 9), id_number=ZHANG)
    assert codes(second, at(91, 9)) == []


def test_the_same_household_twice_is_a_repeat(people, cats, homes):
    dispute_on(people, cats, at(0, 9), name="张建国", household=homes["zhang"])
    second = dispute_on(people, cats, at(30, 9), name="张建国之妻", household=homes["zhang"])
    other = dispute_on(people, cats, at(30, 10), name="李桂英", household=homes["li"], id_number=LI)
    assert codes(second, at(30, 12)) == ["repeat"]
    assert codes(other, at(30, 12)) == []


def test_a_merged_duplicate_is_not_a_second_dispute(people, cats):
    first = dispute_on(people, cats, at(0, 9), id_number=ZHANG)
    duplicate = dispute_on(people, cats, at(1, 9), id_number=ZHANG)
    with time_machine.travel(at(1, 10), tick=False):
        act(people["dispatcher"], duplicate, Action.MERGE, merge_into=first, note="同一纠纷重复反映")
    assert codes(first, at(1, 12)) == []


def test_an_open_marriage_dispute_is_flagged_until_it_is_closed(tree, people, cats):
    case = dispute_on(people, cats, at(0, 9), category="marriage", name="赵某")
    assert codes(case, at(0, 12)) == ["marriage_family_open"]
    with time_machine.travel(at(1, 9), tick=False):
        dispatched(people, tree, case)
        act(people["dispatcher"], case, Action.DEFER, review_on=at(30, 9).date(), note="待法院判决")
        assert codes(case, at(1, 12)) == ["marriage_family_open"]  # 挂账 is not settled
        act(people["dispatcher"], case, Action.RESUME)
        act(people["justice"], case, Action.COMPLETE, note="双方和好")
        act(people["grid_worker"], case, Action.CONFIRM, note="回访：家庭和睦")
        act(people["dispatcher"], case, Action.CLOSE)
    assert codes(case, at(2, 12)) == []


def test_the_marriage_flag_is_inherited_from_an_ancestor_category(people, cats):
    child = Category.objects.create(code="dispute-marriage-support", name="赡养纠纷", kind="dispute",
                                    is_public=False, parent=cats["marriage"])
    assert child.marriage_family is False
    case = dispute_on(people, cats | {"support": child}, at(0, 9), category="support")
    assert codes(case, at(0, 12)) == ["marriage_family_open"]
    assert child.pk in categories.marriage_family_ids()


def test_other_cases_carry_no_dispute_risks(people, cats):
    case = report(people["resident"], cats["env"])
    assert selectors.dispute_risks(case) == []


def test_the_list_of_cases_at_risk_shows_visible_cases_only_in_a_few_queries(
        people, cats, homes, django_assert_max_num_queries):
    repeats = [dispute_on(people, cats, at(day, 9), id_number=ZHANG) for day in (0, 10, 20)]
    family = dispute_on(people, cats, at(21, 9), category="marriage", name="赵某")
    calm = [dispute_on(people, cats, at(22, 9), name=f"钱某{n}") for n in range(3)]
    old = dispute_on(people, cats, at(-100, 9), id_number=WANG)
    dispute_on(people, cats, at(-95, 9), id_number=WANG)
    report(people["resident"], cats["env"])
    # 钱某0 also has a dispute in another township: the flag counts it, the list does not show it.
    with time_machine.travel(at(23, 9), tick=False):
        elsewhere = report(people["resident"], cats["neighbour"], lng=104.625)
        services.add_party(actor=people["other_dispatcher"], case=elsewhere, name="钱某0", id_number=LI)
        services.add_party(actor=people["dispatcher"], case=calm[0], name="钱某0", id_number=LI)
    assert elsewhere.holder.pk != calm[0].holder.pk
    now = at(25, 12)
    with django_assert_max_num_queries(4):
        found = {c.pk: (c.risk_repeat, c.risk_marriage_family)
                 for c in selectors.dispute_cases_at_risk(people["dispatcher"], now=now)}
    calm_flagged, calm = calm[0], calm[1:]
    assert found == {**{c.pk: (True, False) for c in [*repeats, calm_flagged]}, family.pk: (False, True)}
    assert not set(found) & {c.pk for c in calm} and old.pk not in found
    # The other township sees its own case, flagged through ours; a grid worker of another grid sees none.
    assert list(selectors.dispute_cases_at_risk(people["other_dispatcher"], now=now)) == [elsewhere]
    assert not selectors.dispute_cases_at_risk(people["other_grid_worker"], now=now).exists()
    # The flags on the list agree with the flags of each case.
    for pk, (repeat, marriage) in found.items():
        risks = codes(Case.objects.get(pk=pk), now)
        assert ("repeat" in risks, "marriage_family_open" in risks) == (repeat, marriage)
