"""The 纠纷信息 section of a dispute's case page (command and worker portals), its forms, the page showing the
parties' full names, and the command centre's 风险纠纷 list. The services' own rules are tested in
cases/tests/test_disputes.py and test_dispute_records.py; here: what each person sees, and how a form's
success, refusal and replay answer."""

import datetime
import re

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile

from gongzhi.cases import services
from gongzhi.cases.factories import act, report
from gongzhi.cases.models import CaseLog, Category, DisputeParty, MediationAgreement, MediationSession
from gongzhi.cases.workflow import DISPUTE_ACTIONS, Action
from gongzhi.core.models import PiiAccessLog

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def dispute(people):
    return report(people["resident"], Category.objects.get(code="dispute-neighbour"),
                  description="邻居家排水沟把水引到我家院子里")


def page(client, user, url):
    client.force_login(user)
    response = client.get(url)
    return response.status_code, response.content.decode()


def post(client, url, prefix, files=None, **data):
    return client.post(url, {**{f"{prefix}-{k}": v for k, v in data.items()}, **(files or {})})


def dispute_logs(case):
    return CaseLog.objects.filter(case=case, action__in=DISPUTE_ACTIONS)


def test_the_section_is_for_staff_who_see_the_dispute(client, people, dispute):
    services.add_party(actor=people["dispatcher"], case=dispute, name="张建国", role="applicant")
    status, html = page(client, people["dispatcher"], f"/command/cases/{dispute.pk}/")
    assert status == 200 and 'id="dispute"' in html and "纠纷信息" in html
    assert "张**" in html and "张建国" not in html and "申请人" in html
    assert f'action="/command/cases/{dispute.pk}/dispute/parties/"' in html
    assert f'action="/command/cases/{dispute.pk}/dispute/mediations/"' in html
    assert 'enctype="multipart/form-data"' in html
    assert "查看当事人完整姓名" not in html  # no permission to unmask
    # The grid worker records in the field, on the worker portal.
    status, html = page(client, people["grid_worker"], f"/worker/cases/{dispute.pk}/")
    assert status == 200 and "张**" in html and f'action="/worker/cases/{dispute.pk}/dispute/parties/"' in html
    # The county sees, but writes nothing.
    status, html = page(client, people["county_supervisor"], f"/command/cases/{dispute.pk}/")
    assert status == 200 and "张**" in html and "/dispute/parties/" not in html
    # Residents never see parties or sessions: not its reporter on her own page.
    status, html = page(client, people["resident"], f"/cases/{dispute.pk}/")
    assert status == 200 and "邻居家排水沟" in html
    for hidden in ("纠纷信息", "张**", "张建国", "申请人", "登记当事人", "/dispute/"):
        assert hidden not in html
    # Another case's page has no section at all.
    other = report(people["resident"], Category.objects.get(code="talk-environment"))
    assert 'id="dispute"' not in page(client, people["dispatcher"], f"/command/cases/{other.pk}/")[1]


def test_recording_parties_through_the_page(client, people, tree, dispute):
    client.force_login(people["grid_worker"])
    base = f"/worker/cases/{dispute.pk}/dispute/"
    response = post(client, base + "parties/", "party-add", name="张建国", role="applicant",
                    id_number="621102198001011233x", client_key="k1")
    assert response.status_code == 422
    html = response.content.decode()
    assert "身份证号码" in html and 'id="dispute-add-party" open' in html  # the message, in its open form
    assert not DisputeParty.objects.exists() and not dispute_logs(dispute).exists()
    response = post(client, base + "parties/", "party-add", name="张建国", role="applicant", client_key="k1")
    assert response.status_code == 302 and response["Location"] == f"/worker/cases/{dispute.pk}/#dispute"
    again = post(client, base + "parties/", "party-add", name="张建国", role="applicant", client_key="k1")
    assert again.status_code == 302  # the same form twice: one party, one log row
    assert DisputeParty.objects.count() == 1 and dispute_logs(dispute).count() == 1
    party = DisputeParty.objects.get()
    assert "已登记当事人。" in client.get(response["Location"]).content.decode()
    # Edit: an empty name keeps the name; the role changes.
    response = post(client, base + f"parties/{party.pk}/", f"party-{party.pk}", name="", role="respondent",
                    client_key="k2")
    assert response.status_code == 302
    party.refresh_from_db()
    assert (party.name, party.role) == ("张建国", "respondent")
    response = post(client, base + f"parties/{party.pk}/", f"party-{party.pk}", name="", role="respondent",
                    client_key="k3")
    assert response.status_code == 422 and "没有需要保存的修改。" in response.content.decode()
    response = post(client, base + f"parties/{party.pk}/remove/", f"party-{party.pk}-remove", client_key="k4")
    assert response.status_code == 302 and not DisputeParty.objects.exists()
    assert post(client, base + f"parties/{party.pk}/remove/", f"party-{party.pk}-remove",
                client_key="k4").status_code == 302  # a replay, though the party is gone
    assert post(client, base + f"parties/{party.pk}/remove/", f"party-{party.pk}-remove",
                client_key="k5").status_code == 404
    assert list(dispute_logs(dispute).values_list("action", flat=True)) == [
        Action.ADD_PARTY, Action.EDIT_PARTY, Action.REMOVE_PARTY]


def test_recording_a_mediation_with_its_agreement_and_a_follow_up(client, people, tree, dispute):
    client.force_login(people["dispatcher"])
    base = f"/command/cases/{dispute.pk}/dispute/"
    today = datetime.date.today()
    fields = {"kind": "people", "held_on": today.isoformat(), "outcome": "agreed",
              "mediators": [str(people["dispatcher"].pk), str(people["justice"].pk)],
              "other_mediators": "人民调解员王国辉", "summary": "双方同意改沟", "client_key": "m1"}
    response = post(client, base + "mediations/", "mediation", **fields,
                    files={"mediation-agreement": SimpleUploadedFile("协议.pdf", PDF)})
    assert response.status_code == 422 and "请填写履行回访日期。" in response.content.decode()
    assert not MediationSession.objects.exists()
    follow_up = (today + datetime.timedelta(days=30)).isoformat()
    response = post(client, base + "mediations/", "mediation", **fields, follow_up_on=follow_up,
                    files={"mediation-agreement": SimpleUploadedFile("协议.pdf", PDF)})
    assert response.status_code == 302
    session = MediationSession.objects.get()
    assert set(session.mediators.all()) == {people["dispatcher"], people["justice"]}
    agreement = session.agreement
    html = client.get(f"/command/cases/{dispute.pk}/").content.decode()
    assert agreement.file.url in html and "王国辉" in html and "调解成功" in html
    assert client.get(agreement.file.url).status_code == 200
    response = post(client, base + f"agreements/{agreement.pk}/performance/", f"agreement-{agreement.pk}-performance",
                    performance="performed", checked_on=today.isoformat(), note="已改好", client_key="p1")
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.performance == MediationAgreement.Performance.PERFORMED
    # A staff member of another township: 404, nothing written.
    client.force_login(people["other_dispatcher"])
    response = post(client, base + "parties/", "party-add", name="李某", role="party", client_key="x")
    assert response.status_code == 404
    # The county supervisor sees the case but may not write: 403.
    client.force_login(people["county_supervisor"])
    response = post(client, base + "parties/", "party-add", name="李某", role="party", client_key="y")
    assert response.status_code == 403 and not DisputeParty.objects.exists()


def test_full_names_are_shown_once_a_reason_is_given_and_logged(client, people, dispute):
    services.add_party(actor=people["dispatcher"], case=dispute, name="张建国", role="applicant")
    url = f"/command/cases/{dispute.pk}/dispute/names/"
    assert page(client, people["dispatcher"], url)[0] == 403
    people["dispatcher"].user_permissions.add(Permission.objects.get(codename="unmask_pii"))
    status, html = page(client, people["dispatcher"], f"/command/cases/{dispute.pk}/")
    assert "查看当事人完整姓名" in html
    status, html = page(client, people["dispatcher"], url)
    assert status == 200 and "张**" in html and "张建国" not in html
    response = client.post(url, {"purpose": "", "reason": ""})
    assert "请填写查看事由。" in response.content.decode() and not PiiAccessLog.objects.exists()
    response = client.post(url, {"purpose": "联系工作", "reason": "组织调解"})
    html = response.content.decode()
    assert "张建国" in html and "no-store" in response["Cache-Control"]
    assert PiiAccessLog.objects.get().reason == "联系工作：组织调解"
    assert page(client, people["other_dispatcher"], url)[0] == 404


def test_the_at_risk_list(client, people, tree, dispute):
    marriage = report(people["resident"], Category.objects.get(code="dispute-marriage"),
                      description="夫妻因彩礼返还长期争吵")
    status, html = page(client, people["dispatcher"], "/command/cases/disputes/")
    assert status == 200 and "风险纠纷" in html and marriage.number in html and dispute.number not in html
    assert "民转刑风险" in html and 'href="/command/cases/disputes/"' in html  # linked from the navigation
    assert 'name="township"' not in html  # one township: nothing to choose
    status, html = page(client, people["county_dispatcher"], "/command/cases/disputes/?risk=repeat")
    assert status == 200 and marriage.number not in html and 'name="township"' in html
    status, html = page(client, people["county_dispatcher"],
                        f"/command/cases/disputes/?township={tree['other_town'].pk}")
    assert marriage.number not in html
    status, html = page(client, people["county_dispatcher"], "/command/cases/disputes/?risk=nonsense")
    assert status == 200 and marriage.number in html and "未知的风险类型。" in html
    assert marriage.number not in page(client, people["other_dispatcher"], "/command/cases/disputes/")[1]
    # The follow-ups due, closed cases included.
    act(people["dispatcher"], dispute, Action.ACCEPT)
    session = services.record_mediation(
        actor=people["dispatcher"], case=dispute, kind="people", held_on=datetime.date.today(), outcome="agreed",
        mediators=[people["dispatcher"]], agreement=SimpleUploadedFile("协议.pdf", PDF),
        follow_up_on=datetime.date.today()).record
    html = page(client, people["dispatcher"], "/command/cases/disputes/")[1]
    assert re.search(rf'id="follow-ups-due".*{dispute.number}', html, re.S)
    assert f"#session-{session.pk}" in html
