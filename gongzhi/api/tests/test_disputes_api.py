"""A dispute's records over JSON: the same checks as the pages (scope 404, capacity 403, state and input 422),
masked names, replays of a client key, multipart agreement uploads, and the lists."""

import datetime
import json
import typing

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from gongzhi.api.cases import dispute_schemas
from gongzhi.api.tests.fuzzing import CSRF
from gongzhi.cases.factories import act, report
from gongzhi.cases.models import CaseLog, Category, DisputeParty, MediationAgreement, MediationSession
from gongzhi.cases.workflow import DISPUTE_ACTIONS, Action
from gongzhi.core.models import PiiAccessLog

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def dispute(people):
    return report(people["resident"], Category.objects.get(code="dispute-neighbour"),
                  description="邻居家排水沟把水引到我家院子里")


def client_for(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.cookies["csrftoken"] = CSRF
    return client


def post(client, path, data):
    return client.post(f"/api/cases{path}", json.dumps(data), content_type="application/json",
                       HTTP_X_CSRFTOKEN=CSRF)


def upload(client, path, data, content=PDF):
    return client.post(f"/api/cases{path}", {"agreement": SimpleUploadedFile("协议.pdf", content), **data},
                       HTTP_X_CSRFTOKEN=CSRF)


def test_the_schemas_choices_are_the_models():
    assert set(typing.get_args(dispute_schemas.PartyRole)) == set(DisputeParty.Role.values)
    assert set(typing.get_args(dispute_schemas.MediationKind)) == set(MediationSession.Kind.values)
    assert set(typing.get_args(dispute_schemas.MediationOutcome)) == set(MediationSession.Outcome.values)
    assert set(typing.get_args(dispute_schemas.Performance)) == set(MediationAgreement.Performance.values)


def test_a_dispute_recorded_over_json(people, dispute):
    client = client_for(people["dispatcher"])
    base = f"/{dispute.pk}/dispute"
    response = post(client, base + "/parties", {"name": "张建国", "role": "applicant", "client_key": "p1"})
    assert response.status_code == 201, response.content
    party = response.json()
    assert party["name"] == "张**" and party["role_label"] == "申请人" and not party["has_id_number"]
    again = post(client, base + "/parties", {"name": "张建国", "role": "applicant", "client_key": "p1"})
    assert again.status_code == 200 and again.json()["id"] == party["id"]
    response = post(client, base + "/parties", {"name": "李桂英", "role": "respondent", "id_number": "123"})
    assert response.status_code == 422 and response.json()["field"] == "id_number"
    response = post(client, base + "/parties", {"name": "李桂英", "role": "respondent"})
    assert response.status_code == 201
    other = response.json()["id"]
    response = post(client, base + f"/parties/{party['id']}/edit", {"role": "third"})
    assert response.status_code == 200 and response.json()["role"] == "third"
    response = post(client, base + f"/parties/{party['id']}/edit", {"role": "third"})
    assert response.status_code == 422 and response.json()["code"] == "no_change"
    response = post(client, base + f"/parties/{other}/remove", {"client_key": "r1"})
    assert response.json() == {"party_id": other, "created": True}
    response = post(client, base + f"/parties/{other}/remove", {"client_key": "r1"})
    assert response.status_code == 200 and response.json() == {"party_id": other, "created": False}

    mediators = client.get(f"/api/cases{base}/mediators").json()
    assert {m["label"] for m in mediators} >= {"disp（八里镇）", "sifa（八里镇司法所）"}
    today = datetime.date.today().isoformat()
    session_in = {"kind": "people", "held_on": today, "outcome": "agreed", "summary": "双方同意改沟",
                  "mediator_ids": [people["dispatcher"].pk, people["justice"].pk], "other_mediators": "王国辉"}
    response = post(client, base + "/mediations", {**session_in, "mediator_ids": [people["other_dispatcher"].pk]})
    assert response.status_code == 422 and response.json()["field"] == "mediators"
    response = post(client, base + "/mediations", {**session_in, "mediator_ids": [99999]})
    assert response.status_code == 422 and response.json()["field"] == "mediators"
    response = post(client, base + "/mediations", session_in)
    assert response.status_code == 201, response.content
    session = response.json()
    assert session["mediators"] == ["disp", "sifa", "王国辉"] and session["agreement_expected"]
    response = upload(client, base + f"/mediations/{session['id']}/agreement",
                      {"signed_on": today, "follow_up_on": today, "client_key": "a1"}, content=b"GIF89a")
    assert response.status_code == 422 and response.json()["code"] == "agreement_type"
    response = upload(client, base + f"/mediations/{session['id']}/agreement",
                      {"signed_on": today, "follow_up_on": today, "client_key": "a1"})
    assert response.status_code == 201, response.content
    agreement = response.json()
    assert agreement["url"].startswith("/media/mediation/") and agreement["follow_up_due"]
    assert client.get(agreement["url"]).status_code == 200
    response = upload(client, base + f"/agreements/{agreement['id']}/replace", {"follow_up_on": today})
    assert response.status_code == 200 and response.json()["url"] != agreement["url"]
    response = post(client, base + f"/agreements/{agreement['id']}/performance",
                    {"performance": "partly", "checked_on": today, "note": "还差一半"})
    assert response.status_code == 200 and response.json()["performance_label"] == "部分履行"

    detail = client.get(f"/api/cases{base}").json()
    assert [p["name"] for p in detail["parties"]] == ["张**"]
    assert detail["sessions"][0]["agreement"]["performance"] == "partly"
    assert detail["may_record"] and not detail["may_unmask"]
    actions = list(CaseLog.objects.filter(case=dispute, action__in=DISPUTE_ACTIONS).values_list("action", flat=True))
    assert actions == [Action.ADD_PARTY, Action.ADD_PARTY, Action.EDIT_PARTY, Action.REMOVE_PARTY,
                       Action.RECORD_MEDIATION, Action.ATTACH_AGREEMENT, Action.REPLACE_AGREEMENT,
                       Action.RECORD_PERFORMANCE]


def test_who_gets_what(people, dispute):
    act(people["dispatcher"], dispute, Action.ACCEPT)
    path = f"/{dispute.pk}/dispute"
    # Another township: 404, like a case that does not exist.
    assert client_for(people["other_dispatcher"]).get(f"/api/cases{path}").status_code == 404
    assert post(client_for(people["other_dispatcher"]), path + "/parties", {"name": "某"}).status_code == 404
    # Its reporter sees the case, not the dispute's records.
    assert client_for(people["resident"]).get(f"/api/cases{path}").status_code == 403
    resident_view = client_for(people["resident"]).get(f"/api/cases/{dispute.pk}").json()
    assert "parties" not in resident_view and [e["action"] for e in resident_view["timeline"]] == ["report", "accept"]
    assert post(client_for(people["resident"]), path + "/parties", {"name": "某"}).status_code == 403
    # The county sees, and may not write.
    assert client_for(people["county_supervisor"]).get(f"/api/cases{path}").json()["may_record"] is False
    assert post(client_for(people["county_supervisor"]), path + "/parties", {"name": "某"}).status_code == 403
    # No dispute at all: 404.
    other = report(people["resident"], Category.objects.get(code="talk-environment"))
    assert client_for(people["dispatcher"]).get(f"/api/cases/{other.pk}/dispute").status_code == 404
    # JSON only, except the uploads.
    response = client_for(people["dispatcher"]).post(f"/api/cases{path}/parties", json.dumps({"name": "某"}),
                                                      content_type="text/plain", HTTP_X_CSRFTOKEN=CSRF)
    assert response.status_code == 415
    assert not DisputeParty.objects.exists()


def test_full_names_over_json_are_logged(people, dispute):
    post(client_for(people["dispatcher"]), f"/{dispute.pk}/dispute/parties", {"name": "张建国"})
    response = post(client_for(people["dispatcher"]), f"/{dispute.pk}/dispute/names", {"reason": "组织调解"})
    assert response.status_code == 403
    people["dispatcher"].user_permissions.add(Permission.objects.get(codename="unmask_pii"))
    client = client_for(people["dispatcher"])
    assert post(client, f"/{dispute.pk}/dispute/names", {"reason": ""}).status_code == 422
    response = post(client, f"/{dispute.pk}/dispute/names", {"reason": "组织调解"})
    assert response.status_code == 200 and [p["name"] for p in response.json()] == ["张建国"]
    assert PiiAccessLog.objects.get().reason == "组织调解"


def test_the_lists(people, tree, dispute):
    marriage = report(people["resident"], Category.objects.get(code="dispute-marriage"))
    client = client_for(people["county_dispatcher"])
    data = client.get("/api/cases/disputes/at-risk").json()
    assert data["count"] == 1 and data["items"][0]["id"] == marriage.pk and data["items"][0]["risk_marriage_family"]
    assert client.get(f"/api/cases/disputes/at-risk?township_id={tree['other_town'].pk}").json()["count"] == 0
    assert client.get("/api/cases/disputes/at-risk?township_id=999999").status_code == 422
    assert client.get("/api/cases/disputes/at-risk?risk=repeat").json()["count"] == 0
    assert client_for(people["resident"]).get("/api/cases/disputes/at-risk").json()["count"] == 0
    assert client.get("/api/cases/disputes/follow-ups-due").json() == []
