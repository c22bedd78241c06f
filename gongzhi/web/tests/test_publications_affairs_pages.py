"""三务公开 and 村民说事 pages: the staff forms (worker portal) with their refusals at the field (422), state
conflicts (409) and scope (404); the workbook template and import; the residents' table with its totals, the
filtered list and the evaluation."""

import io

import pytest
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from gongzhi.publications.factories import make_pub_world
from gongzhi.publications.models import FinanceLine, Meeting, MeetingEvaluation, Project, Stage
from gongzhi.publications.services import affairs as services
from gongzhi.publications.services import core

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return response.content.decode()


@pytest.fixture
def pub(tree):
    return make_pub_world(tree)


@pytest.fixture
def draft(pub):
    return core.create_draft(actor=pub.village_admin, kind="disclosure", author_unit=pub.tree["village"],
                             title="2026年11月财务公开")


def as_admin(client, pub):
    client.force_login(pub.village_admin)
    return client


def set_finance(client, item):
    return client.post(reverse("worker:affairs_disclosure", args=[item.pk]),
                       {"category": "finance", "year": "2026", "period_type": "month", "period": "11"})


LINE = {"direction": "expense", "date": "2026-11-10", "item": "保洁员工资", "amount": "1,500", "category": "管理费用",
        "voucher_no": "记-002", "note": ""}


def test_a_village_admin_enters_finance_lines_on_the_item_page(client, pub, draft):
    as_admin(client, pub)
    page = client.get(reverse("worker:publication", args=[draft.pk]))
    assert page.status_code == 200 and "请先选择公开类别和期次" in text(page)
    response = set_finance(client, draft)
    assert response.status_code == 302 and response["Location"].endswith(f"/publications/{draft.pk}/#affairs-period")
    response = client.post(reverse("worker:affairs_line_add", args=[draft.pk]), {**LINE, "client_key": "a1"})
    assert response.status_code == 302
    client.post(reverse("worker:affairs_line_add", args=[draft.pk]), {**LINE, "client_key": "a1"})  # retried
    client.post(reverse("worker:affairs_line_add", args=[draft.pk]),
                {**LINE, "direction": "income", "item": "村集体经济收入", "amount": "12000"})
    assert FinanceLine.objects.count() == 2
    page = text(client.get(reverse("worker:publication", args=[draft.pk])))
    assert "¥12,000.00" in page and "¥1,500.00" in page and "¥10,500.00" in page
    assert "添加这条明细" in page and "下载导入模板" in page
    line = FinanceLine.objects.get(item="保洁员工资")
    assert client.post(reverse("worker:affairs_line_delete", args=[line.pk])).status_code == 302
    assert FinanceLine.objects.count() == 1


def test_a_bad_line_comes_back_with_the_message_at_its_field(client, pub, draft):
    as_admin(client, pub)
    set_finance(client, draft)
    response = client.post(reverse("worker:affairs_line_add", args=[draft.pk]), {**LINE, "amount": "12.345"})
    assert response.status_code == 422
    body = text(response)
    assert 'id="af-amount-error"' in body and "金额最多保留两位小数" in body and 'value="保洁员工资"' in body
    assert not FinanceLine.objects.exists()


def test_a_line_before_the_finance_period_is_refused_with_the_reason(client, pub, draft):
    as_admin(client, pub)
    response = client.post(reverse("worker:affairs_line_add", args=[draft.pk]), LINE)
    assert response.status_code == 422 and "请先把公开类别设为“财务公开”" in text(response)
    response = client.post(reverse("worker:affairs_project_add", args=[draft.pk]), {"name": "村道硬化"})
    assert response.status_code == 422 and "请先保存公开类别和期次" in text(response)


def test_lines_cannot_change_once_submitted(client, pub, draft):
    as_admin(client, pub)
    set_finance(client, draft)
    client.post(reverse("worker:affairs_line_add", args=[draft.pk]), LINE)
    core.submit(actor=pub.village_admin, publication=draft)
    response = client.post(reverse("worker:affairs_line_add", args=[draft.pk]), LINE)
    assert response.status_code == 409 and "只有草稿可以修改" in text(response)
    page = text(client.get(reverse("worker:publication", args=[draft.pk])))
    assert "添加这条明细" not in page and "¥1,500.00" in page


def test_other_villages_staff_get_404(client, pub, draft):
    as_admin(client, pub)
    set_finance(client, draft)
    line = services.add_line(actor=pub.village_admin, publication=draft, direction="income", date="2026-11-01",
                             item="x", amount="1")
    client.force_login(pub.other_village_admin)
    assert client.post(reverse("worker:affairs_line_add", args=[draft.pk]), LINE).status_code == 404
    assert client.post(reverse("worker:affairs_line_delete", args=[line.pk])).status_code == 404
    assert FinanceLine.objects.count() == 1


def test_the_template_downloads_and_an_import_fills_the_table(client, pub, draft):
    as_admin(client, pub)
    set_finance(client, draft)
    response = client.get(reverse("worker:affairs_template"))
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[1] == services.FINANCE_HEADER
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    buffer.name = "明细.xlsx"
    response = client.post(reverse("worker:affairs_import", args=[draft.pk]), {"file": buffer})
    assert response.status_code == 302
    assert FinanceLine.objects.count() == 2


def test_an_import_with_bad_rows_lists_them(client, pub, draft):
    as_admin(client, pub)
    set_finance(client, draft)
    book = Workbook()
    book.active.append(list(services.FINANCE_HEADER))
    book.active.append(["收入", "2026-11-01", "土地流转费", "", "abc", "", ""])
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    buffer.name = "明细.xlsx"
    response = client.post(reverse("worker:affairs_import", args=[draft.pk]), {"file": buffer})
    assert response.status_code == 422 and "第2行" in text(response)
    response = client.post(reverse("worker:affairs_import", args=[draft.pk]), {})
    assert response.status_code == 422 and "请选择要导入的Excel文件" in text(response)
    assert not FinanceLine.objects.exists()


def test_projects_and_milestones_are_entered_and_reached(client, pub, draft):
    as_admin(client, pub)
    client.post(reverse("worker:affairs_disclosure", args=[draft.pk]),
                {"category": "village", "year": "2026", "period_type": "quarter", "period": "4"})
    response = client.post(reverse("worker:affairs_project_add", args=[draft.pk]),
                           {"name": "村道硬化", "budget": "380000", "contractor": "路通公司"})
    assert response.status_code == 302
    project = Project.objects.get()
    add_milestone = reverse("worker:affairs_milestone_add", args=[project.pk])
    client.post(add_milestone, {"name": "开工", "planned_on": "2026-10-08"})
    response = client.post(add_milestone, {"name": "验收", "planned_on": ""})
    assert response.status_code == 422 and "请填写计划日期" in text(response)
    milestone = project.milestones.get()
    client.post(reverse("worker:affairs_milestone_done", args=[milestone.pk]), {"done_on": "2026-10-09"})
    page = text(client.get(reverse("worker:publication", args=[draft.pk])))
    assert "村道硬化" in page and "进度 1/1" in page and "¥380,000.00" in page


def published_finance(pub):
    item = core.create_draft(actor=pub.village_admin, kind="disclosure", author_unit=pub.tree["village"],
                             title="2026年11月财务公开")
    services.set_disclosure(actor=pub.village_admin, publication=item, category="finance", year=2026,
                            period_type="month", period=11)
    services.add_line(actor=pub.village_admin, publication=item, direction="income", date="2026-11-05",
                      item="村集体经济收入", amount="12000")
    services.add_line(actor=pub.village_admin, publication=item, direction="expense", date="2026-11-10",
                      item="保洁员工资", amount="1500")
    core.submit(actor=pub.village_admin, publication=item)
    return core.approve(actor=pub.dispatcher, publication=item)


def test_residents_see_the_table_with_totals_and_filter_the_list(client, pub):
    item = published_finance(pub)
    client.force_login(pub.resident)
    page = text(client.get(reverse("resident:publication", args=[item.pk])))
    assert 'data-total="income">¥12,000.00' in page and 'data-total="balance"><strong>¥10,500.00' in page
    assert "财务公开" in page and "2026年11月" in page and "删除" not in page
    listing = client.get(reverse("resident:affairs_disclosures"), {"category": "finance", "period": "11"})
    assert listing.status_code == 200 and item.title in text(listing)
    assert item.title not in text(client.get(reverse("resident:affairs_disclosures"), {"category": "party"}))
    assert client.get(reverse("resident:affairs_disclosures"), {"year": "abc"}).status_code == 200
    client.force_login(pub.village2_resident)
    assert item.title not in text(client.get(reverse("resident:affairs_disclosures")))


def live_meeting(pub, *, to_stage=Stage.EVALUATE):
    item = core.create_draft(actor=pub.village_admin, kind="meeting", author_unit=pub.tree["village"],
                             title="垃圾清运不及时")
    services.save_say(actor=pub.village_admin, publication=item, matter="三社垃圾点一周没人清运。",
                      raised_by_name="李建国", raised_on="2026-11-02")
    core.publish_now(actor=pub.village_admin, publication=item)
    services.save_discussion(actor=pub.village_admin, publication=item, discussed_on="2026-11-04",
                             participants="村两委、村民代表", discussion="", decision="每周二、五清运。")
    services.add_action(actor=pub.village_admin, publication=item, title="联系清运车", assignee="张明",
                        due_on="2026-11-08")
    services.add_supervision_note(actor=pub.dispatcher, publication=item, body="已按时清运。")
    for stage in range(2, to_stage + 1):
        services.publish_stage(actor=pub.village_admin, publication=item, stage=stage)
    return item


def test_staff_record_and_publish_a_meeting_stage_by_stage(client, pub):
    as_admin(client, pub)
    item = core.create_draft(actor=pub.village_admin, kind="meeting", author_unit=pub.tree["village"],
                             title="村道路灯不亮")
    page = text(client.get(reverse("worker:publication", args=[item.pk])))
    assert "说：说事内容" in page and "发布本事项即公开" in page
    response = client.post(reverse("worker:affairs_say", args=[item.pk]), {"matter": "", "raised_by_name": "王秀兰"})
    assert response.status_code == 422 and "请填写说事内容" in text(response)
    client.post(reverse("worker:affairs_say", args=[item.pk]),
                {"matter": "路灯坏了5盏", "raised_by_name": "王秀兰", "raised_on": "2026-11-02"})
    core.publish_now(actor=pub.village_admin, publication=item)
    response = client.post(reverse("worker:affairs_stage", args=[item.pk]), {"stage": "3"})
    assert response.status_code == 409 and "下一个应公开“议”" in text(response)
    client.post(reverse("worker:affairs_discuss", args=[item.pk]),
                {"discussed_on": "2026-11-05", "participants": "村两委", "decision": "本月修好"})
    assert client.post(reverse("worker:affairs_stage", args=[item.pk]), {"stage": "2"}).status_code == 302
    client.post(reverse("worker:affairs_action_add", args=[item.pk]),
                {"title": "更换路灯", "assignee": "张明", "due_on": "2026-11-20"})
    page = text(client.get(reverse("worker:publication", args=[item.pk])))
    assert "公开“办”环节" in page and "更换路灯" in page
    assert Meeting.objects.get().published_stage == Stage.DISCUSS
    client.force_login(pub.other_village_admin)
    assert client.post(reverse("worker:affairs_stage", args=[item.pk]), {"stage": "3"}).status_code == 404


def test_residents_see_the_public_stages_and_evaluate_once(client, pub):
    item = live_meeting(pub, to_stage=Stage.DO)
    client.force_login(pub.resident)
    page = text(client.get(reverse("resident:publication", args=[item.pk])))
    assert "三社垃圾点一周没人清运" in page and "每周二、五清运" in page and "联系清运车" in page
    assert "已按时清运" not in page and "提交评价" not in page
    services.publish_stage(actor=pub.village_admin, publication=item, stage=4)
    services.publish_stage(actor=pub.village_admin, publication=item, stage=5)
    page = text(client.get(reverse("resident:publication", args=[item.pk])))
    assert "已按时清运" in page and "提交评价" in page
    response = client.post(reverse("resident:affairs_evaluate", args=[item.pk]), {"rating": ""})
    assert response.status_code == 422 and "请选择满意" in text(response)
    response = client.post(reverse("resident:affairs_evaluate", args=[item.pk]), {"rating": "satisfied"})
    assert response.status_code == 302
    page = text(client.get(reverse("resident:publication", args=[item.pk])))
    assert "您的评价：满意" in page and "提交评价" not in page
    response = client.post(reverse("resident:affairs_evaluate", args=[item.pk]), {"rating": "unsatisfied"})
    assert response.status_code == 409
    client.force_login(pub.village2_resident)
    assert client.post(reverse("resident:affairs_evaluate", args=[item.pk]),
                       {"rating": "satisfied"}).status_code == 404
    assert MeetingEvaluation.objects.count() == 1


def test_every_state_of_both_kinds_renders_for_staff_and_readers(client, pub):
    bare_disclosure = core.create_draft(actor=pub.village_admin, kind="disclosure", author_unit=pub.tree["village"],
                                        title="空白的三务公开")
    bare_meeting = core.create_draft(actor=pub.village_admin, kind="meeting", author_unit=pub.tree["village"],
                                     title="空白的说事")
    finance = published_finance(pub)
    meeting = live_meeting(pub, to_stage=Stage.SUPERVISE)
    withdrawn = live_meeting(pub, to_stage=Stage.EVALUATE)
    core.withdraw(actor=pub.village_admin, publication=withdrawn, reason="重复")
    for user, portal in ((pub.village_admin, "worker"), (pub.village_station, "worker"), (pub.dispatcher, "command")):
        client.force_login(user)
        for item in (bare_disclosure, bare_meeting, finance, meeting, withdrawn):
            response = client.get(reverse(f"{portal}:publication", args=[item.pk]))
            assert response.status_code == 200, (user, item)
    client.force_login(pub.dispatcher)
    page = text(client.get(reverse("command:publication", args=[meeting.pk])))
    assert "公开“评”环节" in page and "已按时清运" in page
    for reader in (pub.resident, pub.neighbour):
        client.force_login(reader)
        for item in (finance, meeting):
            assert client.get(reverse("resident:publication", args=[item.pk])).status_code == 200
        assert client.get(reverse("resident:publication", args=[withdrawn.pk])).status_code == 404
    client.logout()
    assert client.get(reverse("resident:publication", args=[finance.pk])).status_code == 404
    assert client.get(reverse("resident:affairs_disclosures")).status_code == 200
    assert client.get(reverse("resident:public_group", args=["disclosures"])).status_code == 200
