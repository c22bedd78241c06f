"""The cases JSON API: report (idempotent), list with flags, detail with timeline, workflow actions,
follow-ups, return visits, ratings, duplicates and categories; scope answers 404, bad input 422."""

import datetime
import json
import uuid

import pytest
import schemathesis
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

from gongzhi.accounts.models import Membership, Role, User
from gongzhi.api.tests.fuzzing import CSRF, IDENTITY, breaks_the_cookie, session_cookies
from gongzhi.cases.factories import make_categories, report
from gongzhi.cases.models import Case, CaseLog, Category, FollowUp, Rating
from gongzhi.cases.workflow import Action
from gongzhi.wsgi import application

pytestmark = pytest.mark.django_db


@pytest.fixture
def cats(db):
    return make_categories()


@pytest.fixture
def people(tree, make_staff):
    resident = User.objects.create_user(username="res", kind=User.Kind.RESIDENT, real_name="王秀兰")
    Membership.objects.create(user=resident, unit=tree["grid"], role=Role.RESIDENT)
    other = User.objects.create_user(username="res2", kind=User.Kind.RESIDENT, real_name="李四")
    return {
        "resident": resident, "other_resident": other,
        "dispatcher": make_staff("disp", tree["town"], Role.DISPATCHER),
        "other_dispatcher": make_staff("odisp", tree["other_town"], Role.DISPATCHER),
        "justice": make_staff("sifa", tree["justice"], Role.DEPT_HANDLER),
        "grid_worker": make_staff("wgy", tree["grid"], Role.GRID_WORKER),
    }


def client_for(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.cookies["csrftoken"] = CSRF
    return client


def post(client, path, data):
    return client.post(f"/api/cases{path}", data, content_type="application/json", HTTP_X_CSRFTOKEN=CSRF)


def new_case(**extra):
    return {"client_id": str(uuid.uuid4()), "category": "talk-environment", "description": "路灯坏了",
            "lat": 35.585, "lng": 104.605, **extra}


def test_not_signed_in_is_401():
    assert Client().get("/api/cases").status_code == 401


def test_report_then_retry_returns_the_same_case(people, cats):
    client = client_for(people["resident"])
    body = new_case(address="村口", is_anonymous=True)
    first = post(client, "", body)
    assert first.status_code == 201, first.content
    data = first.json()
    assert data["status"] == "reported" and data["created"] and data["number"]
    detail = client.get(f"/api/cases/{data['id']}").json()
    assert detail["is_anonymous"] and detail["address"] == "村口" and detail["category"] == "talk-environment"
    assert [t["action"] for t in detail["timeline"]] == ["report"]
    again = post(client, "", body)
    assert again.status_code == 200 and again.json()["id"] == data["id"] and not again.json()["created"]
    assert Case.objects.count() == 1


def test_someone_elses_client_id_is_404(people, cats):
    body = new_case()
    assert post(client_for(people["resident"]), "", body).status_code == 201
    assert post(client_for(people["other_resident"]), "", body).status_code == 404


@pytest.mark.parametrize("change,field", [
    ({"category": "no-such"}, "category"), ({"category": "talk"}, "category"), ({"description": "  "}, "description"),
])
def test_bad_input_is_a_translated_422_and_writes_nothing(people, cats, change, field):
    response = post(client_for(people["resident"]), "", new_case(**change))
    assert response.status_code == 422
    assert response.json()["field"] == field and response.json()["detail"]
    assert not Case.objects.exists()


def test_schema_refusals(people, cats):
    client = client_for(people["resident"])
    assert post(client, "", new_case(extra=1)).status_code == 422
    assert post(client, "", new_case(lat=123)).status_code == 422
    response = client.post("/api/cases", json.dumps(new_case()), content_type="text/plain",
                           HTTP_X_CSRFTOKEN=CSRF)
    assert response.status_code == 415
    no_csrf = client.post("/api/cases", new_case(), content_type="application/json")
    assert no_csrf.status_code == 403
    assert not Case.objects.exists()


def test_outside_every_grid_is_404(people, cats):
    response = post(client_for(people["resident"]), "", new_case(lat=10.0, lng=10.0))
    assert response.status_code == 404 and not Case.objects.exists()


def test_list_is_scoped_flagged_and_filtered(people, cats):
    mine = report(people["resident"], cats["env"])
    report(people["other_resident"], cats["env"], lng=104.625)  # in the other township
    response = client_for(people["dispatcher"]).get("/api/cases")
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 1 and data["items"][0]["id"] == mine.pk
    assert data["items"][0]["flag"] in {"red", "yellow", "green"} and data["items"][0]["due"]
    assert client_for(people["dispatcher"]).get("/api/cases?status=closed").json()["count"] == 0
    flag = data["items"][0]["flag"]
    assert client_for(people["dispatcher"]).get(f"/api/cases?flag={flag}").json()["count"] == 1
    assert client_for(people["dispatcher"]).get("/api/cases?flag=purple").status_code == 422
    assert client_for(people["resident"]).get("/api/cases").json()["count"] == 1


def test_detail_out_of_scope_is_404(people, cats):
    case = report(people["resident"], cats["env"])
    assert client_for(people["resident"]).get(f"/api/cases/{case.pk}").status_code == 200
    assert client_for(people["other_resident"]).get(f"/api/cases/{case.pk}").status_code == 404
    assert client_for(people["other_dispatcher"]).get(f"/api/cases/{case.pk}").status_code == 404
    assert client_for(people["dispatcher"]).get("/api/cases/999999").status_code == 404


def test_the_whole_loop_over_the_api(tree, people, cats):
    case = report(people["resident"], cats["env"])
    disp, justice = client_for(people["dispatcher"]), client_for(people["justice"])
    url = f"/{case.pk}/actions"
    assert post(disp, url, {"action": "accept"}).status_code == 200
    response = post(disp, url, {"action": "dispatch", "lead_unit_id": tree["justice"].pk,
                                "assist_unit_ids": [tree["police"].pk]})
    assert response.status_code == 200 and response.json()["status"] == "dispatched"
    assert post(justice, url, {"action": "sign"}).json()["status"] == "in_progress"
    # a resident asks; the handler completes
    resident = client_for(people["resident"])
    asked = post(resident, f"/{case.pk}/follow-ups", {"question": "什么时候修？"})
    assert asked.status_code == 201 and FollowUp.objects.count() == 1
    assert post(justice, url, {"action": "complete", "note": "已修复"}).json()["status"] == "handled"
    visit = post(client_for(people["grid_worker"]), f"/{case.pk}/return-visit",
                 {"method": "phone", "settled": True, "note": "路灯已亮"})
    assert visit.status_code == 201, visit.content
    assert post(disp, url, {"action": "close"}).json()["status"] == "closed"
    rated = post(resident, f"/{case.pk}/rating", {"score": "satisfied"})
    assert rated.status_code == 201 and Rating.objects.get().score == "satisfied"
    assert post(resident, f"/{case.pk}/rating", {"score": "satisfied"}).status_code == 409
    staff_timeline = disp.get(f"/api/cases/{case.pk}").json()["timeline"]
    public_timeline = resident.get(f"/api/cases/{case.pk}").json()["timeline"]
    assert len(staff_timeline) >= len(public_timeline) and all(t["is_public"] for t in public_timeline)
    assert staff_timeline[-1]["action"] == Action.RATE


def test_queues_answers_and_supervision(tree, people, cats, make_staff):
    case = report(people["resident"], cats["env"])
    other = report(people["resident"], cats["env"], lng=104.625)  # the other township
    disp, justice = client_for(people["dispatcher"]), client_for(people["justice"])
    ids = lambda client, queue: [c["id"] for c in client.get(f"/api/cases?queue={queue}").json()["items"]]  # noqa: E731
    assert ids(disp, "intake") == [case.pk] and ids(client_for(people["other_dispatcher"]), "intake") == [other.pk]
    assert client_for(people["dispatcher"]).get("/api/cases?queue=nonsense").status_code == 422
    post(disp, f"/{case.pk}/actions", {"action": "accept"})
    post(disp, f"/{case.pk}/actions", {"action": "dispatch", "lead_unit_id": tree["justice"].pk})
    assert ids(disp, "intake") == [] and ids(justice, "tasks") == [case.pk]

    asked = post(client_for(people["resident"]), f"/{case.pk}/follow-ups", {"question": "什么时候修？"})
    assert ids(justice, "questions") == [case.pk] and ids(disp, "questions") == []
    answer_url = f"/{case.pk}/follow-ups/{asked.json()['id']}/answer"
    assert post(justice, f"/{other.pk}/follow-ups/{asked.json()['id']}/answer", {"answer": "x"}).status_code == 404
    assert post(justice, answer_url, {"answer": "  "}).status_code == 422
    assert post(justice, answer_url, {"answer": "本周内修好。"}).status_code == 200
    assert post(justice, answer_url, {"answer": "再答一次"}).status_code == 409
    assert ids(justice, "questions") == []

    supervisor = client_for(make_staff("ducha", tree["county"], Role.SUPERVISOR))
    due_at = (timezone.localtime() + datetime.timedelta(days=10)).replace(hour=17, minute=30, second=0,
                                                                          microsecond=0)
    due = due_at.isoformat()
    assert post(justice, f"/{case.pk}/supervision", {"note": "限期办结", "due_at": due}).status_code == 403
    assert post(supervisor, f"/{case.pk}/supervision", {"note": "限期办结", "due_at": "2020-01-01T00:00:00+08:00"}
                ).json()["field"] == "due_at"
    assert not case.supervision_orders.exists() and not case.logs.filter(action=Action.SUPERVISE).exists()
    issued = post(supervisor, f"/{case.pk}/supervision", {"note": "限期办结", "due_at": due})
    assert issued.status_code == 201 and issued.json()["issuing_unit"] == tree["county"].name
    assert case.supervision_orders.get().due_at == due_at


def test_every_action_through_one_endpoint_and_replays_answer_with_the_first_result(tree, people, cats, make_staff):
    case = report(people["resident"], cats["env"])
    disp, justice = client_for(people["dispatcher"]), client_for(people["justice"])
    resident, worker = client_for(people["resident"]), client_for(people["grid_worker"])
    url = f"/{case.pk}/actions"

    def act(client, body, key=None):
        key = key or str(uuid.uuid4())
        first = post(client, url, {**body, "client_key": key})
        assert first.status_code == 200, first.content
        logs = CaseLog.objects.count()
        again = post(client, url, {**body, "client_key": key})
        assert again.status_code == 200 and CaseLog.objects.count() == logs  # answered, nothing written
        return again.json()

    assert act(disp, {"action": "accept"})["status"] == "accepted"
    assert act(disp, {"action": "dispatch", "lead_unit_id": tree["justice"].pk})["status"] == "dispatched"
    act(resident, {"action": "follow_up", "question": "什么时候修？"})
    follow_up = FollowUp.objects.get()
    act(justice, {"action": "reply", "follow_up_id": follow_up.pk, "answer": "本周内"})
    follow_up.refresh_from_db()
    assert follow_up.answer_log is not None
    supervisor = client_for(make_staff("ducha", tree["county"], Role.SUPERVISOR))
    due = (timezone.localtime() + datetime.timedelta(days=3)).isoformat()
    act(supervisor, {"action": "supervise", "note": "限期办结", "due_at": due})
    act(justice, {"action": "sign"})
    act(justice, {"action": "complete", "note": "已修复"})
    assert act(worker, {"action": "confirm", "method": "phone", "note": "路灯已亮"})["status"] == "confirmed"
    act(disp, {"action": "close"})
    assert act(resident, {"action": "rate_unsatisfied", "comment": "又坏了"})["status"] == "reopened"
    assert Rating.objects.get().score == "unsatisfied" and case.supervision_orders.count() == 1

    # A replay of a step the case has moved past still answers; a key of someone else's is a conflict.
    first_key = CaseLog.objects.get(case=case, action="accept").client_key
    assert post(disp, url, {"action": "accept", "client_key": first_key}).status_code == 200
    taken = post(client_for(people["grid_worker"]), url, {"action": "accept", "client_key": first_key})
    assert taken.status_code == 409 and taken.json()["field"] == "client_key"
    assert post(disp, url, {"action": "reply", "follow_up_id": 999999, "answer": "x"}).status_code == 404


def test_the_older_endpoints_answer_a_replay_with_200_and_the_first_record(tree, people, cats):
    case = report(people["resident"], cats["env"])
    resident = client_for(people["resident"])
    body = {"question": "什么时候修？", "client_key": "phone-1"}
    first, again = post(resident, f"/{case.pk}/follow-ups", body), post(resident, f"/{case.pk}/follow-ups", body)
    assert (first.status_code, again.status_code) == (201, 200) and first.json() == again.json()
    answer_url = f"/{case.pk}/follow-ups/{first.json()['id']}/answer"
    disp = client_for(people["dispatcher"])
    answered = [post(disp, answer_url, {"answer": "明天", "client_key": "desk-1"}) for _ in range(2)]
    assert [r.status_code for r in answered] == [200, 200] and answered[0].json() == answered[1].json()
    assert FollowUp.objects.count() == 1 and CaseLog.objects.filter(case=case).count() == 3


def test_report_on_behalf_over_the_api(tree, people, cats):
    from gongzhi.accounts.tests.helpers import valid_id

    body = new_case(name="赵桂兰", id_number=valid_id(birth="19550301", seq="123"), phone="13912345678")
    assert post(client_for(people["grid_worker"]), "/on-behalf", body).status_code == 403
    assert post(client_for(people["other_dispatcher"]), "/on-behalf", body).status_code == 404  # not its township
    assert post(client_for(people["dispatcher"]), "/on-behalf", {**body, "phone": "12"}).json()["field"] == "phone"
    assert not Case.objects.exists() and not User.objects.filter(real_name="赵桂兰").exists()
    first = post(client_for(people["dispatcher"]), "/on-behalf", body)
    again = post(client_for(people["dispatcher"]), "/on-behalf", body)
    assert (first.status_code, again.status_code) == (201, 200) and first.json()["id"] == again.json()["id"]
    case = Case.objects.get()
    assert case.source == "on_behalf" and case.entered_by == people["dispatcher"]
    assert case.reporter.real_name == "赵桂兰" and case.reporter.kind == User.Kind.RESIDENT


def test_refused_actions_change_nothing(tree, people, cats):
    case = report(people["resident"], cats["env"])
    url = f"/{case.pk}/actions"
    assert post(client_for(people["resident"]), url, {"action": "accept"}).status_code == 403
    assert post(client_for(people["dispatcher"]), url, {"action": "close"}).json()["code"] == "invalid_state"
    assert post(client_for(people["dispatcher"]), url, {"action": "reject"}).json()["field"] == "note"
    assert post(client_for(people["dispatcher"]), url, {"action": "rate"}).status_code == 422
    assert post(client_for(people["other_dispatcher"]), url, {"action": "accept"}).status_code == 404
    post(client_for(people["dispatcher"]), url, {"action": "accept"})
    missing = post(client_for(people["dispatcher"]), url, {"action": "dispatch", "lead_unit_id": 999999})
    assert missing.status_code == 422 and missing.json()["field"] == "lead_unit"
    assert CaseLog.objects.filter(case=case).count() == 2


def test_a_unit_outside_the_callers_area_answers_as_a_missing_one(tree, people, cats):
    """Out-of-scope units must be indistinguishable from missing ones: no name, the same answer."""
    case = report(people["resident"], cats["env"])
    disp = client_for(people["dispatcher"])
    url = f"/{case.pk}/actions"
    post(disp, url, {"action": "accept"})
    missing = post(disp, url, {"action": "dispatch", "lead_unit_id": 999999}).json()
    for field, body in [("lead_unit", {"lead_unit_id": tree["other_village"].pk}),
                        ("assist_units", {"lead_unit_id": tree["justice"].pk,
                                          "assist_unit_ids": [tree["other_village"].pk]})]:
        answer = post(disp, url, {"action": "dispatch", **body})
        assert answer.status_code == 422
        assert answer.json()["detail"] == missing["detail"] and answer.json()["field"] == field
        assert tree["other_village"].name not in answer.content.decode()
    assert CaseLog.objects.filter(case=case).count() == 2


def test_merge_a_duplicate(people, cats):
    first = report(people["resident"], cats["env"])
    dup = report(people["other_resident"], cats["env"])
    disp = client_for(people["dispatcher"])
    dupes = disp.get("/api/cases/duplicates?category=talk-environment&lat=35.585&lng=104.605")
    assert dupes.status_code == 200 and {d["id"] for d in dupes.json()} == {first.pk, dup.pk}
    response = post(disp, f"/{dup.pk}/actions", {"action": "merge", "merge_into_id": first.pk, "note": "重复"})
    assert response.status_code == 200 and response.json()["merged_into_id"] == first.pk
    assert first.followers.filter(user=people["other_resident"]).exists()


def test_duplicates_by_what_the_report_says(people, cats):
    """`description` is optional: without it the answer is what it was (same category within 250 m); with it,
    similar cases of any category within 1 km come in and the most alike comes first."""
    unrelated = report(people["resident"], cats["env"], description="村口垃圾堆没人清")
    similar = report(people["resident"], Category.objects.get(code="grid-service-repair"), lat=35.5895,
                     description="村口那个路灯坏了好几天，晚上黑得很")  # 500 m north, another category
    disp = client_for(people["dispatcher"])
    url, where = "/api/cases/duplicates", {"category": "talk-environment", "lat": 35.585, "lng": 104.605}
    before = disp.get(url, where)
    assert before.status_code == 200 and [d["id"] for d in before.json()] == [unrelated.pk]
    said = {**where, "description": "村口路灯不亮"}
    found = disp.get(url, said).json()
    assert [d["id"] for d in found] == [similar.pk, unrelated.pk]
    assert found[0]["similar_text"] and found[0]["text_similarity"] >= 0.3 and found[0]["score"] > found[1]["score"]
    assert found[0]["category"] == "grid-service-repair" and found[0]["distance_m"] == pytest.approx(500, abs=1)
    assert not found[1]["similar_text"] and found[1]["category"] == "talk-environment"
    assert client_for(people["other_dispatcher"]).get(url, said).json() == []
    too_long = disp.get(url, {**where, "description": "路" * 2001})
    assert too_long.status_code == 422 and "description" in too_long.content.decode()


def test_merging_into_an_unknown_case_answers_404_and_changes_nothing(people, cats):
    dup = report(people["resident"], cats["env"])
    disp = client_for(people["dispatcher"])
    response = post(disp, f"/{dup.pk}/actions", {"action": "merge", "merge_into_id": dup.pk + 1000, "note": "重复"})
    assert response.status_code == 404
    dup.refresh_from_db()
    assert dup.merged_into_id is None and dup.logs.count() == 1


def test_categories_are_the_active_tree(people, cats):
    data = client_for(people["resident"]).get("/api/cases/categories").json()
    codes = {c["code"]: c for c in data}
    assert codes["talk"]["selectable"] is False and codes["talk-environment"]["parent"] == "talk"


def test_every_status_is_documented():
    paths = Client().get("/api/openapi.json").json()["paths"]
    assert set(paths["/api/cases"]["post"]["responses"]) == {
        "200", "201", "400", "401", "403", "404", "409", "415", "422"}
    assert {"/api/cases/{case_id}", "/api/cases/{case_id}/actions", "/api/cases/{case_id}/rating",
            "/api/cases/{case_id}/follow-ups", "/api/cases/{case_id}/return-visit", "/api/cases/duplicates",
            "/api/cases/categories", "/api/cases/{case_id}/supervision", "/api/cases/on-behalf",
            "/api/cases/{case_id}/follow-ups/{follow_up_id}/answer"} <= set(paths)


# --- fuzzing the same operations signed in (test_openapi_fuzz only ever sees 401 here)

cases_schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application).include(path_regex="^/api/cases")


@pytest.fixture
def dispatcher_cookies(people, cats):
    """A dispatcher's session, with a few cases in scope for the fuzzer to find, plus the CSRF cookie."""
    for _ in range(3):
        report(people["resident"], cats["env"])
    return session_cookies(people["dispatcher"])


@cases_schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_signed_in_endpoints_conform_to_their_schema(case, dispatcher_cookies, keep_test_connection):
    if breaks_the_cookie(case):
        return
    case.call_and_validate(cookies=dispatcher_cookies, headers={"X-CSRFToken": CSRF, **IDENTITY},
                           excluded_checks=[positive_data_acceptance, ignored_auth])


@pytest.mark.parametrize("error", ["database is locked", "postgres lock timeout"])
def test_a_report_that_waited_too_long_for_the_database_is_503_with_retry_after(people, cats, monkeypatch, error):
    from django.db import OperationalError

    from gongzhi.cases import services

    class LockNotAvailable(Exception):
        sqlstate = "55P03"

    def locked(**kwargs):
        if error == "database is locked":
            raise OperationalError("database is locked")
        raise OperationalError("canceling statement due to lock timeout") from LockNotAvailable()

    monkeypatch.setattr(services, "submit_case", locked)
    response = post(client_for(people["resident"]), "", new_case())
    assert response.status_code == 503 and response["Retry-After"] == "2"
    assert response.json()["code"] == "busy" and response.json()["detail"] == "系统繁忙，请稍后重试。"
    assert not Case.objects.exists()


def test_a_submission_reads_the_cache_versions_once_and_the_next_request_sees_a_change(people, cats):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from gongzhi.cases.models import Category

    client = client_for(people["resident"])
    post(client, "", new_case())  # the caches are built
    with CaptureQueriesContext(connection) as queries:
        assert post(client, "", new_case()).status_code == 201
    assert sum("core_cacheversion" in q["sql"] for q in queries) == 1  # the categories and the grids, at once
    Category.objects.filter(code="talk-environment").update(is_active=False)
    Category.objects.get(code="talk-environment").save()  # a change as the admin makes it: the token moves
    response = post(client, "", new_case())
    assert response.status_code == 422 and response.json()["field"] == "category"


def test_dispatch_to_a_person_over_the_api(tree, people, cats):
    case = report(people["resident"], cats["env"])
    disp = client_for(people["dispatcher"])
    url = f"/{case.pk}/actions"
    post(disp, url, {"action": "accept"})
    outside = post(disp, url, {"action": "dispatch", "lead_unit_id": tree["justice"].pk,
                               "lead_person_id": people["grid_worker"].pk})
    missing = post(disp, url, {"action": "dispatch", "lead_unit_id": tree["justice"].pk, "lead_person_id": 999999})
    assert outside.status_code == missing.status_code == 422
    assert outside.json()["detail"] == missing.json()["detail"] and outside.json()["field"] == "lead_person"
    done = post(disp, url, {"action": "dispatch", "lead_unit_id": tree["justice"].pk,
                            "lead_person_id": people["justice"].pk})
    assert done.status_code == 200 and done.json()["status"] == "dispatched"
