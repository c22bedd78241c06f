import re

import pytest

from gongzhi.accounts.models import Role, User
from gongzhi.cases import services
from gongzhi.cases.factories import make_categories, report
from gongzhi.cases.models import Case, CaseLog

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tree, make_staff):
    cats = make_categories()
    resident = User.objects.create_user(username="res", password="x", real_name="王小明", kind=User.Kind.RESIDENT)
    return {
        "tree": tree, "cats": cats, "resident": resident,
        "disp": make_staff("disp", tree["town"], Role.DISPATCHER),
        "other_disp": make_staff("odisp", tree["other_town"], Role.DISPATCHER),
        "county_disp": make_staff("cdisp", tree["county"], Role.DISPATCHER),
        "handler": make_staff("handler", tree["justice"], Role.DEPT_HANDLER),
        "gw": make_staff("gw", tree["grid"], Role.GRID_WORKER),
        "case": report(resident, cats["env"]),
    }


def post(client, case, name, **data):
    return client.post(f"/command/cases/{case.pk}/{name}/", {f"{name}-{k}": v for k, v in data.items()})


def test_intake_list_and_overdue_pages(client, world):
    client.force_login(world["disp"])
    page = client.get("/command/cases/intake/").content.decode()
    assert world["case"].number in page and "事件受理" in page
    assert world["case"].number in client.get("/command/cases/?status=reported").content.decode()
    assert world["case"].number not in client.get("/command/cases/?status=closed").content.decode()
    assert "未知的事件状态，已忽略该条件。" in client.get("/command/cases/?status=nonsense").content.decode()
    assert world["case"].number not in client.get("/command/cases/overdue/").content.decode()
    client.force_login(world["other_disp"])
    assert world["case"].number not in client.get("/command/cases/intake/").content.decode()


def test_detail_shows_timeline_and_available_actions(client, world):
    client.force_login(world["disp"])
    page = client.get(f"/command/cases/{world['case'].pk}/").content.decode()
    assert 'id="timeline"' in page and "上报" in page
    assert f'action="/command/cases/{world["case"].pk}/accept/"' in page
    assert "/sign/" not in page


def test_out_of_scope_case_is_404(client, world):
    client.force_login(world["other_disp"])
    assert client.get(f"/command/cases/{world['case'].pk}/").status_code == 404
    assert post(client, world["case"], "accept", note="").status_code == 404
    assert Case.objects.get(pk=world["case"].pk).status == "reported"


def test_accept_then_dispatch_to_justice(client, world):
    case, tree = world["case"], world["tree"]
    client.force_login(world["disp"])
    response = post(client, case, "accept", note="")
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "已受理" in page and "八里镇司法所" in page
    response = post(client, case, "dispatch", lead_unit=tree["justice"].pk, note="请司法所调处")
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "dispatched"
    assert case.assignments.get(is_active=True).unit == tree["justice"]


def test_bad_input_rerenders_with_message_and_changes_nothing(client, world):
    case = world["case"]
    client.force_login(world["disp"])
    response = post(client, case, "reject", note="")
    assert response.status_code == 422 and "请填写说明。" in response.content.decode()
    post(client, case, "accept", note="")
    response = post(client, case, "dispatch", lead_unit="", note="")
    assert response.status_code == 422 and "请选择主办单位。" in response.content.decode()
    response = post(client, case, "dispatch", lead_unit=world["tree"]["other_grid"].pk, note="")
    assert response.status_code == 422
    case.refresh_from_db()
    assert case.status == "accepted" and not case.assignments.exists()


def test_refused_action_is_a_403_page_with_message(client, world):
    client.force_login(world["handler"])  # sees nothing yet: not assigned
    assert client.get(f"/command/cases/{world['case'].pk}/").status_code == 404
    client.force_login(world["disp"])
    post(client, world["case"], "accept", note="")
    post(client, world["case"], "dispatch", lead_unit=world["tree"]["justice"].pk, note="")
    response = post(client, world["case"], "sign", note="")  # the dispatcher is not the assignee
    assert response.status_code == 403 and "您不能对该事件执行“签收”。" in response.content.decode()
    assert not CaseLog.objects.filter(case=world["case"], action="sign").exists()


def test_handler_signs_and_completes_then_dispatcher_supervised_by_county(client, world):
    case = world["case"]
    client.force_login(world["disp"])
    post(client, case, "accept", note="")
    post(client, case, "dispatch", lead_unit=world["tree"]["justice"].pk, note="")
    client.force_login(world["county_disp"])
    response = post(client, case, "supervise", note="抓紧办理", due_at="2099-01-01T10:00")
    assert response.status_code == 422 and "督办期限不能超过一年" in response.content.decode()
    client.force_login(world["handler"])
    assert post(client, case, "sign", note="").status_code == 302
    assert post(client, case, "complete", note="已调解").status_code == 302
    case.refresh_from_db()
    assert case.status == "handled"


def test_unknown_action_is_404(client, world):
    client.force_login(world["disp"])
    assert client.post(f"/command/cases/{world['case'].pk}/explode/").status_code == 404


def _accepted(client, world):
    client.force_login(world["disp"])
    post(client, world["case"], "accept", note="")
    return world["case"]


def test_dispatch_with_assisting_units_and_suggested_lead(client, world):
    case, tree = _accepted(client, world), world["tree"]
    page = client.get(f"/command/cases/{case.pk}/").content.decode()
    assert 'name="dispatch-assist_units"' in page
    response = client.post(f"/command/cases/{case.pk}/dispatch/", {
        "dispatch-lead_unit": tree["justice"].pk, "dispatch-assist_units": [tree["police"].pk, tree["grid"].pk],
        "dispatch-note": ""})
    assert response.status_code == 302
    roles = {(a.unit_id, a.role) for a in case.assignments.filter(is_active=True)}
    assert roles == {(tree["justice"].pk, "lead"), (tree["police"].pk, "assist"), (tree["grid"].pk, "assist")}
    response = client.post(f"/command/cases/{case.pk}/dispatch/", {"dispatch-lead_unit": tree["justice"].pk})
    assert response.status_code == 422  # not in a state to dispatch again: message, nothing changed
    assert "不能执行“派单”" in response.content.decode()


def test_the_dispatch_form_preselects_the_handler_the_category_suggests(client, world):
    """The one suggestion (selectors.suggest_handler), so a subcategory inherits its parent's handler type."""
    from gongzhi.cases.models import Category
    from gongzhi.org.models import DepartmentType

    parent = Category.objects.create(code="x-justice", name="调解类", kind="talk", handler_type=DepartmentType.JUSTICE)
    child = Category.objects.create(code="x-justice-child", name="邻里纠纷", kind="talk", parent=parent)
    case = report(world["resident"], child)
    client.force_login(world["disp"])
    post(client, case, "accept", note="")
    page = client.get(f"/command/cases/{case.pk}/").content.decode()
    assert f'<option value="{world["tree"]["justice"].pk}" selected>' in page


def test_defer_and_resume(client, world):
    case = _accepted(client, world)
    post(client, case, "dispatch", lead_unit=world["tree"]["justice"].pk, note="")
    client.force_login(world["handler"])
    post(client, case, "sign", note="")
    client.force_login(world["disp"])
    response = post(client, case, "defer", review_on="2000-01-01", note="等待上级政策")
    assert response.status_code == 422 and "请填写今天以后的复查日期。" in response.content.decode()
    assert post(client, case, "defer", review_on="2099-01-01", note="等待上级政策").status_code == 302
    case.refresh_from_db()
    assert case.status == "deferred" and str(case.review_on) == "2099-01-01"
    assert post(client, case, "resume", note="").status_code == 302
    case.refresh_from_db()
    assert case.status == "in_progress"


def test_escalate_moves_the_case_to_the_county_intake(client, world):
    case = _accepted(client, world)
    response = post(client, case, "escalate", note="")
    assert response.status_code == 422 and "请填写说明。" in response.content.decode()
    assert post(client, case, "escalate", note="涉及多个乡镇").status_code == 302
    client.force_login(world["county_disp"])
    assert case.number in client.get("/command/cases/intake/").content.decode()


def test_merge_by_case_number(client, world):
    other = report(world["resident"], world["cats"]["env"], description="同一盏路灯坏了。")
    client.force_login(world["disp"])
    response = post(client, other, "merge", number="nope", note="重复")
    assert response.status_code == 422 and "未找到该编号的事件" in response.content.decode()
    assert post(client, other, "merge", number=world["case"].number, note="重复").status_code == 302
    other.refresh_from_db()
    assert other.status == "closed" and other.merged_into_id == world["case"].pk


def test_county_supervises_and_the_order_is_shown(client, world):
    case = _accepted(client, world)
    client.force_login(world["county_disp"])
    page = client.get(f"/command/cases/{case.pk}/").content.decode()
    assert f"/command/cases/{case.pk}/supervise/" in page
    response = post(client, case, "supervise", note="请三日内办结", due_at="2026-12-31T10:00")
    assert response.status_code == 302
    page = client.get(f"/command/cases/{case.pk}/").content.decode()
    assert "待落实" in page and "督办" in page and case.supervision_orders.count() == 1


def test_reply_to_a_follow_up(client, world):
    from gongzhi.cases import services

    case = _accepted(client, world)
    services.ask_follow_up(actor=world["resident"], case=case, question="什么时候修？")
    page = client.get(f"/command/cases/{case.pk}/").content.decode()
    assert "什么时候修？" in page
    follow_up = case.follow_ups.get()
    response = client.post(f"/command/cases/{case.pk}/reply/", {"reply-follow_up": follow_up.pk, "reply-answer": ""})
    assert response.status_code == 422 and "请填写答复内容。" in response.content.decode()
    response = client.post(f"/command/cases/{case.pk}/reply/", {"reply-follow_up": follow_up.pk,
                                                               "reply-answer": "本周内修好。"})
    assert response.status_code == 302
    follow_up.refresh_from_db()
    assert follow_up.answer_log is not None
    assert "待答复的追问" not in client.get(f"/command/cases/{case.pk}/").content.decode()


def test_a_reply_sent_twice_from_the_page_answers_like_the_first_time(client, world):
    """The reply form carries its client key too (it renders its fields by hand)."""
    import re

    from gongzhi.cases import services

    case = _accepted(client, world)
    services.ask_follow_up(actor=world["resident"], case=case, question="什么时候修？")
    page = client.get(f"/command/cases/{case.pk}/").content.decode()
    key = re.search(r'name="reply-client_key" value="(\w+)"', page).group(1)
    data = {"reply-follow_up": case.follow_ups.get().pk, "reply-answer": "本周内修好。", "reply-client_key": key}
    first = client.post(f"/command/cases/{case.pk}/reply/", data)
    again = client.post(f"/command/cases/{case.pk}/reply/", data)
    assert first.status_code == again.status_code == 302
    assert CaseLog.objects.filter(case=case, action="reply").count() == 1


def test_opening_the_case_marks_only_my_units_questions_read(client, world):
    from gongzhi.cases import selectors, services

    case = _accepted(client, world)  # held by the township: questions go to its command centre
    follow_up = services.ask_follow_up(actor=world["resident"], case=case, question="什么时候修？")
    assert selectors.unread_follow_ups(world["disp"]) == 1
    client.force_login(world["county_disp"])  # sees the case, but the question is not addressed to the county
    assert client.get(f"/command/cases/{case.pk}/").status_code == 200
    follow_up.refresh_from_db()
    assert follow_up.read_at is None
    client.force_login(world["disp"])
    client.get(f"/command/cases/{case.pk}/")
    assert selectors.unread_follow_ups(world["disp"]) == 0


def test_questions_list_and_badge_until_read_and_answered(client, world):
    from gongzhi.cases import services

    case = _accepted(client, world)
    quiet = report(world["resident"], world["cats"]["env"], description="另一件事")
    services.ask_follow_up(actor=world["resident"], case=case, question="什么时候修？")
    page = client.get("/command/cases/questions/").content.decode()
    assert case.number in page and quiet.number not in page and "新追问" in page
    assert 'aria-label="1条未读追问"' in page  # the badge on the 群众追问 link
    client.get(f"/command/cases/{case.pk}/")  # read, not yet answered: still listed, no badge
    page = client.get("/command/cases/questions/").content.decode()
    assert case.number in page and "新追问" not in page and "条未读追问" not in page
    client.post(f"/command/cases/{case.pk}/reply/", {"reply-follow_up": case.follow_ups.get().pk,
                                                     "reply-answer": "本周内修好。"})
    assert case.number not in client.get("/command/cases/questions/").content.decode()
    client.force_login(world["other_disp"])
    assert case.number not in client.get("/command/cases/questions/").content.decode()


def test_a_form_sent_twice_answers_like_the_first_time(client, world):
    """Each action form carries a fresh client key: a double submit is answered with the first result (the
    same message, back to the case), even though the case has moved on, and nothing is written twice."""
    import re

    case, tree = world["case"], world["tree"]
    client.force_login(world["disp"])
    page = client.get(f"/command/cases/{case.pk}/").content.decode()
    key = re.search(r'name="accept-client_key" value="(\w+)"', page).group(1)
    other_key = re.search(r'name="reject-client_key" value="(\w+)"', page).group(1)
    assert key != other_key  # one per form shown
    first = post(client, case, "accept", note="", client_key=key)
    again = post(client, case, "accept", note="", client_key=key)
    assert first.status_code == again.status_code == 302 and again["Location"] == first["Location"]
    assert CaseLog.objects.filter(case=case, action="accept").count() == 1
    messages = [str(m) for m in client.get(again["Location"]).context["messages"]]
    assert messages == ["已受理。", "已受理。"]
    dispatched = [post(client, case, "dispatch", lead_unit=tree["justice"].pk, note="", client_key="d1")
                  for _ in range(2)]
    assert [r.status_code for r in dispatched] == [302, 302]
    assert case.assignments.filter(is_active=True).count() == 1
    # Another person's key is refused at the top of the form, and nothing changes.
    client.force_login(world["county_disp"])
    refused = post(client, case, "remind", note="", client_key=key)
    assert refused.status_code == 422 and "这个提交编号已用于另一次操作。" in refused.content.decode()


def test_after_signing_the_next_step_is_the_open_primary_form_and_a_refusal_focuses_its_field(client, world):
    """After 签收 the handler's first, open form with the primary button is 办结 (not 退回); sent without its
    note it comes back with the cursor in the note, wherever on the page it is."""
    case = world["case"]
    services.transition(actor=world["disp"], case=case, action="accept")
    services.transition(actor=world["disp"], case=case, action="dispatch", lead_unit=world["tree"]["justice"])
    services.transition(actor=world["handler"], case=case, action="sign")
    client.force_login(world["handler"])
    page = client.get(f"/command/cases/{case.pk}/").content.decode()
    forms = re.findall(r'<details class="case-action" id="action-(\w+)"( open)?', page)
    assert forms[0] == ("complete", " open") and ("return", "") in forms
    assert re.search(r'class="btn" name="submit" value="complete"', page)
    assert re.search(r'class="btn btn-secondary" name="submit" value="return"', page)
    refused = post(client, case, "complete", note="  ").content.decode()
    assert refused.count("autofocus") == 1
    assert re.search(r'<textarea name="complete-note"[^>]*autofocus', refused)


def test_turning_the_page_of_a_filtered_list_keeps_the_filter(client, world, monkeypatch):
    from gongzhi.command import cases_views

    monkeypatch.setattr(cases_views, "CASES_PER_PAGE", 1)
    report(world["resident"], world["cats"]["env"])
    client.force_login(world["disp"])
    page = client.get("/command/cases/?status=reported&archived=exclude").content.decode()
    assert 'href="?status=reported&amp;archived=exclude&amp;page=2"' in page
    second = client.get("/command/cases/?status=reported&archived=exclude&page=2").content.decode()
    assert 'href="?status=reported&amp;archived=exclude&amp;page=1"' in second
