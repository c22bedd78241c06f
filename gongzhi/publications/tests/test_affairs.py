"""三务公开 and 村民说事: a finance disclosure's lines and totals (typed and imported), the township's four eyes,
one disclosure per period, projects' progress; a meeting's stages in order, published one by one, overdue
actions under a frozen clock, residents' evaluation once each."""

import datetime
import io

import pytest
import time_machine
from django.utils import timezone
from openpyxl import Workbook

from gongzhi.cases.factories import make_categories, report
from gongzhi.core.errors import Conflict, DomainError, Forbidden, NotFound
from gongzhi.publications.models import (
    FinanceLine,
    MeetingEvaluation,
    PublicationEvent,
    Stage,
    Status,
)
from gongzhi.publications.selectors import affairs as selectors
from gongzhi.publications.selectors import core as core_selectors
from gongzhi.publications.services import affairs as services
from gongzhi.publications.services import core

pytestmark = pytest.mark.django_db


def finance_draft(pub, *, month=11, title="2026年11月财务公开"):
    item = core.create_draft(actor=pub.village_admin, kind="disclosure", author_unit=pub.tree["village"],
                             title=title)
    services.set_disclosure(actor=pub.village_admin, publication=item, category="finance", year=2026,
                            period_type="month", period=month)
    return item


def add(pub, item, direction="expense", amount="1500", item_text="保洁员工资", **kw):
    return services.add_line(actor=pub.village_admin, publication=item, direction=direction, date="2026-11-10",
                             item=item_text, amount=amount, **kw)


# Money -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("typed", "fen"), [("1234.56", 123456), ("1,234.5", 123450), ("¥12", 1200),
                                            ("3000元", 300000), (12.3, 1230), (7, 700), ("0.01", 1)])
def test_amounts_typed_as_yuan_are_stored_as_whole_fen(typed, fen):
    assert services.parse_amount(typed) == fen


@pytest.mark.parametrize("typed", ["", "abc", "0", "-5", "1.234", "1e3x", "NaN"])
def test_bad_amounts_are_refused_at_their_field(typed):
    with pytest.raises(DomainError) as err:
        services.parse_amount(typed)
    assert err.value.field == "amount"


def test_money_is_shown_with_the_yuan_sign_and_thousands():
    assert selectors.yuan(123456) == "¥1,234.56"
    assert selectors.yuan(5) == "¥0.05"
    assert selectors.yuan(-1234500) == "-¥12,345.00"


# 三务公开 -----------------------------------------------------------------------------------------------------

def test_a_finance_disclosure_shows_its_lines_and_totals(pub):
    item = finance_draft(pub)
    add(pub, item, "income", "12000", "村集体经济收入")
    add(pub, item, "expense", "1500", "保洁员工资")
    add(pub, item, "expense", "860.50", "办公经费", voucher_no="记-003")
    view = selectors.disclosure_view(item)
    assert [row.line.item for row in view.income] == ["村集体经济收入"]
    assert [row.amount_shown for row in view.expense] == ["¥1,500.00", "¥860.50"]
    assert (view.totals.income_shown, view.totals.expense_shown, view.totals.balance_shown) == (
        "¥12,000.00", "¥2,360.50", "¥9,639.50")


def test_the_township_approves_what_the_village_discloses(pub):
    item = finance_draft(pub)
    add(pub, item)
    core.submit(actor=pub.village_admin, publication=item)
    with pytest.raises(Conflict):
        add(pub, item, item_text="迟到的一笔")  # in review: nothing changes
    with pytest.raises(Forbidden):
        core.approve(actor=pub.village_admin, publication=item)
    core.approve(actor=pub.dispatcher, publication=item)
    assert core_selectors.readable_one(pub.resident, item.pk) == item
    with pytest.raises(NotFound):
        core_selectors.readable_one(pub.village2_resident, item.pk)
    assert FinanceLine.objects.count() == 1


def test_a_finance_disclosure_without_lines_cannot_go_live(pub):
    item = finance_draft(pub)
    core.submit(actor=pub.village_admin, publication=item)
    with pytest.raises(DomainError) as err:
        core.approve(actor=pub.dispatcher, publication=item)
    assert err.value.field == "lines"
    item.refresh_from_db()
    assert item.status == Status.IN_REVIEW


def test_a_disclosure_without_category_and_period_goes_live_outside_the_filter(pub):
    item = core.create_draft(actor=pub.village_admin, kind="disclosure", author_unit=pub.tree["village"], title="x")
    core.submit(actor=pub.village_admin, publication=item)
    core.approve(actor=pub.dispatcher, publication=item)
    assert list(selectors.readable_disclosures(pub.resident)) == [item]
    f = selectors.DisclosureFilter(category="finance")
    assert not selectors.readable_disclosures(pub.resident, f).exists()
    assert selectors.disclosure_view(item).disclosure is None


def test_one_live_disclosure_per_unit_category_and_period(pub):
    first = finance_draft(pub)
    add(pub, first)
    second = finance_draft(pub, title="2026年11月财务公开（重复）")
    add(pub, second)
    core.submit(actor=pub.village_admin, publication=first)
    core.submit(actor=pub.village_admin, publication=second)
    core.approve(actor=pub.dispatcher, publication=first)
    with pytest.raises(DomainError) as err:
        core.approve(actor=pub.dispatcher, publication=second)
    assert err.value.field == "period"
    third = core.create_draft(actor=pub.village_admin, kind="disclosure", author_unit=pub.tree["village"], title="y")
    with pytest.raises(DomainError):
        services.set_disclosure(actor=pub.village_admin, publication=third, category="finance", year=2026,
                                period_type="month", period=11)
    # Another month, another category, another village: fine.
    services.set_disclosure(actor=pub.village_admin, publication=third, category="finance", year=2026,
                            period_type="month", period=10)
    services.set_disclosure(actor=pub.village_admin, publication=third, category="village", year=2026,
                            period_type="month", period=11)


@pytest.mark.parametrize(("fields", "field"), [
    ({"year": "20x6"}, "year"), ({"period_type": "week"}, "period_type"), ({"period": "13"}, "period"),
    ({"period_type": "quarter", "period": "5"}, "period"), ({"category": "other"}, "category")])
def test_a_bad_period_is_refused_and_nothing_stored(pub, fields, field):
    item = core.create_draft(actor=pub.village_admin, kind="disclosure", author_unit=pub.tree["village"], title="x")
    data = {"category": "finance", "year": "2026", "period_type": "month", "period": "11", **fields}
    with pytest.raises(DomainError) as err:
        services.set_disclosure(actor=pub.village_admin, publication=item, **data)
    assert err.value.field == field
    assert not hasattr(item, "disclosure") or item.disclosure is None


def test_quarters_are_labelled(pub):
    item = core.create_draft(actor=pub.village_admin, kind="disclosure", author_unit=pub.tree["village"], title="x")
    d = services.set_disclosure(actor=pub.village_admin, publication=item, category="party", year=2026,
                                period_type="quarter", period=4)
    assert d.period_label == "2026年第4季度"


@pytest.mark.parametrize(("fields", "field"), [
    ({"amount": "abc"}, "amount"), ({"date": ""}, "date"), ({"date": "2026-13-01"}, "date"),
    ({"item_text": ""}, "item"), ({"direction": "gift"}, "direction")])
def test_bad_lines_are_refused_at_their_field(pub, fields, field):
    item = finance_draft(pub)
    kwargs = {"direction": "expense", "date": "2026-11-10", "item": "保洁员工资", "amount": "100"}
    kwargs.update({("item" if k == "item_text" else k): v for k, v in fields.items()})
    with pytest.raises(DomainError) as err:
        services.add_line(actor=pub.village_admin, publication=item, **kwargs)
    assert err.value.field == field
    assert not FinanceLine.objects.exists()


def test_lines_need_a_finance_disclosure(pub):
    item = core.create_draft(actor=pub.village_admin, kind="disclosure", author_unit=pub.tree["village"], title="x")
    with pytest.raises(DomainError):
        add(pub, item)
    services.set_disclosure(actor=pub.village_admin, publication=item, category="village", year=2026,
                            period_type="month", period=11)
    with pytest.raises(DomainError):
        add(pub, item)


def test_a_line_sent_twice_is_added_once_and_deleted_only_from_a_draft(pub):
    item = finance_draft(pub)
    first = add(pub, item, client_key="k1")
    assert add(pub, item, client_key="k1") == first
    assert FinanceLine.objects.count() == 1
    other = add(pub, item, amount="20")
    services.delete_line(actor=pub.village_admin, line=other)
    core.submit(actor=pub.village_admin, publication=item)
    with pytest.raises(Conflict):
        services.delete_line(actor=pub.village_admin, line=first)
    assert FinanceLine.objects.count() == 1


def test_only_the_villages_own_staff_write_its_lines(pub):
    item = finance_draft(pub)
    with pytest.raises(NotFound):
        services.add_line(actor=pub.other_village_admin, publication=item, direction="income",
                          date="2026-11-01", item="x", amount="1")
    with pytest.raises(NotFound):
        services.add_line(actor=pub.resident, publication=item, direction="income", date="2026-11-01", item="x",
                          amount="1")
    line = add(pub, item)
    with pytest.raises(NotFound):
        services.delete_line(actor=pub.other_dispatcher, line=line)


def workbook(rows, header=services.FINANCE_HEADER, title_row=True):
    book = Workbook()
    sheet = book.active
    if title_row:
        sheet.append(["小山村2026年11月财务收支明细"])
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return buffer


def test_lines_are_imported_from_a_workbook(pub):
    item = finance_draft(pub)
    file = workbook([("收入", "2026-11-05", "土地流转费", "经营收入", 12000, "记-001", ""),
                     ("支出", datetime.datetime(2026, 11, 10), "保洁员工资", "管理费用", "1,500.00", "记-002", "11月"),
                     (None, None, None, None, None, None, None),
                     ("支出", "2026/11/20", "办公经费", "", 860.5, "", "")])
    assert services.import_lines(actor=pub.village_admin, publication=item, file=file) == 3
    view = selectors.disclosure_view(item)
    assert view.totals.income == 1200000 and view.totals.expense == 236050
    assert PublicationEvent.objects.filter(publication=item, action="step", note__contains="3").exists()
    # Replacing: the old lines go, the new ones stay.
    file = workbook([("收入", "2026-11-05", "上级补助", "补助收入", 5000, "", "")], title_row=False)
    services.import_lines(actor=pub.village_admin, publication=item, file=file, replace=True)
    assert list(FinanceLine.objects.values_list("item", flat=True)) == ["上级补助"]


def test_an_import_with_bad_rows_imports_nothing_and_names_them(pub):
    item = finance_draft(pub)
    file = workbook([("收入", "2026-11-05", "土地流转费", "", 12000, "", ""),
                     ("转账", "2026-11-06", "x", "", 1, "", ""),
                     ("支出", "2026-11-07", "y", "", "abc", "", "")])
    with pytest.raises(services.ImportRefused) as err:
        services.import_lines(actor=pub.village_admin, publication=item, file=file)
    assert [p[:3] for p in err.value.problems] == ["第4行", "第5行"]
    assert not FinanceLine.objects.exists()


def test_a_file_that_is_no_workbook_or_has_no_header_is_refused(pub):
    item = finance_draft(pub)
    with pytest.raises(DomainError) as err:
        services.import_lines(actor=pub.village_admin, publication=item, file=io.BytesIO(b"not a workbook"))
    assert err.value.field == "file"
    with pytest.raises(DomainError):
        services.import_lines(actor=pub.village_admin, publication=item,
                              file=workbook([("a", "b")], header=("甲", "乙")))
    assert not FinanceLine.objects.exists()


def test_projects_show_their_progress_and_milestones_are_reached_on_the_live_item(pub):
    item = core.create_draft(actor=pub.village_admin, kind="disclosure", author_unit=pub.tree["village"],
                             title="村道硬化项目公开")
    services.set_disclosure(actor=pub.village_admin, publication=item, category="village", year=2026,
                            period_type="quarter", period=4)
    project = services.add_project(actor=pub.village_admin, publication=item, name="村道硬化", budget="380,000",
                                   contractor="定西市路通建筑工程有限公司")
    services.add_milestone(actor=pub.village_admin, project=project, name="开工", planned_on="2026-10-08",
                           done_on="2026-10-09")
    late = services.add_milestone(actor=pub.village_admin, project=project, name="竣工验收",
                                  planned_on="2026-12-20")
    with pytest.raises(DomainError) as err:
        services.add_milestone(actor=pub.village_admin, project=project, name="", planned_on="2026-12-01")
    assert err.value.field == "name"
    core.submit(actor=pub.village_admin, publication=item)
    core.approve(actor=pub.dispatcher, publication=item)
    with pytest.raises(Conflict):
        services.add_project(actor=pub.village_admin, publication=item, name="又一个")
    view = selectors.disclosure_view(item).projects[0]
    assert (view.done, view.total, view.percent, view.budget_shown) == (1, 2, 50, "¥380,000.00")
    with time_machine.travel(datetime.datetime(2026, 12, 21, 10, tzinfo=timezone.get_current_timezone())):
        with pytest.raises(DomainError):
            services.set_milestone_done(actor=pub.village_admin, milestone=late, done_on="2026-12-25")
        services.set_milestone_done(actor=pub.village_admin, milestone=late, done_on="2026-12-21")
    assert selectors.disclosure_view(item).projects[0].percent == 100
    assert PublicationEvent.objects.filter(publication=item, action="step", note__contains="竣工验收").exists()
    with pytest.raises(NotFound):
        services.set_milestone_done(actor=pub.other_village_admin, milestone=late, done_on="2026-12-21")


def test_residents_filter_disclosures_by_category_and_period(pub):
    made = {}
    for category, month in [("finance", 10), ("finance", 11), ("village", 11), ("party", 11)]:
        item = core.create_draft(actor=pub.village_admin, kind="disclosure", author_unit=pub.tree["village"],
                                 title=f"{category}{month}")
        services.set_disclosure(actor=pub.village_admin, publication=item, category=category, year=2026,
                                period_type="month", period=month)
        if category == "finance":
            add(pub, item)
        core.submit(actor=pub.village_admin, publication=item)
        core.approve(actor=pub.dispatcher, publication=item)
        made[(category, month)] = item

    def titles(**query):
        f = selectors.DisclosureFilter.from_query(query)
        return [p.title for p in selectors.readable_disclosures(pub.resident, f)]

    assert set(titles()) == {"finance10", "finance11", "village11", "party11"}
    assert titles(category="finance") == ["finance11", "finance10"]
    assert set(titles(period="11")) == {"finance11", "village11", "party11"}
    assert titles(category="finance", year="2026", period_type="month", period="10") == ["finance10"]
    assert set(titles(category="nonsense", year="x")) == {"finance10", "finance11", "village11", "party11"}
    assert titles(year="2025") == []
    assert selectors.readable_disclosures(pub.village2_resident).count() == 0
    assert selectors.disclosure_years(pub.resident) == [2026]


# 村民说事 -----------------------------------------------------------------------------------------------------

def meeting(pub, **say):
    item = core.create_draft(actor=pub.village_admin, kind="meeting", author_unit=pub.tree["village"],
                             title="村道路灯不亮")
    say.setdefault("matter", "村东头到学校的路灯坏了5盏，晚上孩子放学看不见路。")
    say.setdefault("raised_by_name", "王秀兰")
    services.save_say(actor=pub.village_admin, publication=item, raised_on="2026-11-02", **say)
    return item


def discuss(pub, item):
    return services.save_discussion(actor=pub.village_admin, publication=item, discussed_on="2026-11-05",
                                    participants="村两委成员、村民代表5人、说事人",
                                    discussion="大家认为路灯应尽快修复。",
                                    decision="由村委会联系电工，11月20日前修好全部路灯。")


def test_a_meeting_goes_public_stage_by_stage_in_order(pub):
    item = meeting(pub)
    with pytest.raises(Conflict):
        services.publish_stage(actor=pub.village_admin, publication=item, stage=2)  # not live yet
    core.publish_now(actor=pub.village_admin, publication=item)
    item.refresh_from_db()
    assert item.meeting.published_stage == Stage.SAY
    with pytest.raises(Conflict):
        services.publish_stage(actor=pub.village_admin, publication=item, stage=3)  # 办 before 议
    with pytest.raises(DomainError) as err:
        services.publish_stage(actor=pub.village_admin, publication=item, stage=2)  # nothing decided yet
    assert err.value.field == "decision"
    discuss(pub, item)
    services.publish_stage(actor=pub.village_admin, publication=item, stage=2)
    with pytest.raises(Conflict):
        discuss(pub, item)  # 议 is public: its record stays as published
    services.add_action(actor=pub.village_admin, publication=item, title="更换路灯5盏", assignee="村委会 张明",
                        due_on="2026-11-20")
    services.publish_stage(actor=pub.village_admin, publication=item, stage=3)
    services.publish_stage(actor=pub.village_admin, publication=item, stage=3)  # a repeat changes nothing
    with pytest.raises(DomainError):
        services.publish_stage(actor=pub.village_admin, publication=item, stage=4)  # no supervision yet
    services.add_supervision_note(actor=pub.dispatcher, publication=item, body="镇综治中心已电话督办。")
    services.publish_stage(actor=pub.village_station, publication=item, stage=4)
    services.publish_stage(actor=pub.village_admin, publication=item, stage=5)
    notes = list(PublicationEvent.objects.filter(publication=item, action="step").values_list("note", flat=True))
    assert notes == ["公开“议”环节", "公开“办”环节", "公开“督”环节", "公开“评”环节"]
    with pytest.raises(NotFound):
        services.publish_stage(actor=pub.other_village_admin, publication=item, stage=5)


def test_a_meeting_published_without_its_say_form_raises_its_own_text(pub):
    item = core.create_draft(actor=pub.village_admin, kind="meeting", author_unit=pub.tree["village"],
                             title="垃圾清运", body="三社垃圾点一周没人清运。")
    core.publish_now(actor=pub.village_admin, publication=item)
    item.refresh_from_db()
    assert (item.meeting.matter, item.meeting.published_stage) == ("三社垃圾点一周没人清运。", Stage.SAY)


def test_the_say_form_needs_the_matter_and_who_raised_it(pub):
    item = core.create_draft(actor=pub.village_admin, kind="meeting", author_unit=pub.tree["village"], title="x")
    with pytest.raises(DomainError) as err:
        services.save_say(actor=pub.village_admin, publication=item, matter="")
    assert err.value.field == "matter"
    with pytest.raises(DomainError) as err:
        services.save_say(actor=pub.village_admin, publication=item, matter="路灯坏了")
    assert err.value.field == "raised_by_name"


def test_residents_see_only_the_public_stages(pub):
    item = meeting(pub)
    discuss(pub, item)
    services.add_action(actor=pub.village_admin, publication=item, title="更换路灯", assignee="张明",
                        due_on="2026-11-20")
    core.publish_now(actor=pub.village_admin, publication=item)
    reader = selectors.meeting_view(pub.resident, item, staff=False)
    assert [s.public for s in reader.stages] == [True, False, False, False, False]
    assert reader.actions == [] and not reader.can_evaluate
    staff = selectors.meeting_view(pub.village_admin, item, staff=True)
    assert len(staff.actions) == 1 and [s.is_next for s in staff.stages] == [False, True, False, False, False]


def test_an_action_past_its_deadline_is_overdue_until_done(pub):
    item = meeting(pub)
    action = services.add_action(actor=pub.village_admin, publication=item, title="更换路灯", assignee="张明",
                                 due_on="2026-11-20")
    tz = timezone.get_current_timezone()
    with time_machine.travel(datetime.datetime(2026, 11, 20, 22, tzinfo=tz)):
        assert not selectors.meeting_view(pub.village_admin, item, staff=True).overdue
    with time_machine.travel(datetime.datetime(2026, 11, 21, 8, tzinfo=tz)):
        assert selectors.meeting_view(pub.village_admin, item, staff=True).overdue
        services.finish_action(actor=pub.village_admin, action=action, done_on="2026-11-21")
        assert not selectors.meeting_view(pub.village_admin, item, staff=True).overdue


def test_residents_of_the_area_evaluate_once_each(pub):
    item = meeting(pub)
    core.publish_now(actor=pub.village_admin, publication=item)
    with pytest.raises(Conflict):
        services.evaluate(actor=pub.resident, publication=item, rating="satisfied")
    discuss(pub, item)
    services.add_action(actor=pub.village_admin, publication=item, title="更换路灯", assignee="张明",
                        due_on="2026-11-20")
    services.add_supervision_note(actor=pub.village_admin, publication=item, body="已修好3盏。")
    for stage in (2, 3, 4, 5):
        services.publish_stage(actor=pub.village_admin, publication=item, stage=stage)
    first = services.evaluate(actor=pub.resident, publication=item, rating="satisfied", comment="修得很快")
    assert services.evaluate(actor=pub.resident, publication=item, rating="satisfied", comment="修得很快") == first
    with pytest.raises(Conflict):
        services.evaluate(actor=pub.resident, publication=item, rating="unsatisfied")
    services.evaluate(actor=pub.neighbour, publication=item, rating="fair")
    with pytest.raises(DomainError) as err:
        services.evaluate(actor=pub.neighbour, publication=item, rating="great")
    for outsider in (pub.village2_resident, pub.unverified, pub.other_town_resident):
        with pytest.raises(NotFound):
            services.evaluate(actor=outsider, publication=item, rating="satisfied")
    assert err.value.field == "rating"
    view = selectors.meeting_view(pub.resident, item, staff=False)
    assert view.counts == {"satisfied": 1, "fair": 1, "unsatisfied": 0} and view.mine == first
    assert not view.can_evaluate
    assert selectors.meeting_view(pub.village2_resident, item, staff=False).can_evaluate is False
    assert MeetingEvaluation.objects.count() == 2


def test_a_meeting_links_a_case_its_staff_can_see(pub):
    categories = make_categories()
    case = report(pub.resident, categories["env"])
    item = meeting(pub, case_id=str(case.pk))
    assert item.meeting.case == case
    with pytest.raises(DomainError) as err:
        services.save_say(actor=pub.village_admin, publication=item, matter="x", raised_by_name="y",
                          case_id="99999999")
    assert err.value.field == "case_id"
    other = core.create_draft(actor=pub.other_village_admin, kind="meeting", author_unit=pub.tree["village2"],
                              title="x")
    with pytest.raises(DomainError):
        services.save_say(actor=pub.other_village_admin, publication=other, matter="x", raised_by_name="y",
                          case_id=str(case.pk))


def test_stage_forms_refuse_outsiders_and_withdrawn_items(pub):
    item = meeting(pub)
    core.publish_now(actor=pub.village_admin, publication=item)
    with pytest.raises(NotFound):
        discuss(pub.__class__(**{**pub.__dict__, "village_admin": pub.other_village_admin}), item)
    core.withdraw(actor=pub.village_admin, publication=item, reason="重复")
    with pytest.raises(Conflict):
        discuss(pub, item)


def test_project_milestone_action_and_note_forms_sent_twice_add_one_row(pub):
    item = core.create_draft(actor=pub.village_admin, kind="disclosure", author_unit=pub.tree["village"], title="x")
    services.set_disclosure(actor=pub.village_admin, publication=item, category="village", year=2026,
                            period_type="month", period=11)
    project = services.add_project(actor=pub.village_admin, publication=item, name="村道硬化", client_key="p")
    assert services.add_project(actor=pub.village_admin, publication=item, name="村道硬化", client_key="p") == project
    first = services.add_milestone(actor=pub.village_admin, project=project, name="开工", planned_on="2026-10-08",
                                   client_key="m")
    assert services.add_milestone(actor=pub.village_admin, project=project, name="开工", planned_on="2026-10-08",
                                  client_key="m") == first
    matter = meeting(pub)
    action = services.add_action(actor=pub.village_admin, publication=matter, title="a", assignee="b",
                                 due_on="2026-11-20", client_key="a")
    assert services.add_action(actor=pub.village_admin, publication=matter, title="a", assignee="b",
                               due_on="2026-11-20", client_key="a") == action
    note = services.add_supervision_note(actor=pub.village_admin, publication=matter, body="n", client_key="n")
    assert services.add_supervision_note(actor=pub.village_admin, publication=matter, body="n", client_key="n") == note
    assert (project.milestones.count(), matter.meeting.actions.count(), matter.meeting.notes.count()) == (1, 1, 1)
