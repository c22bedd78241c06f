"""The library and volunteer pages (staff in the worker portal, residents): forms answer 422 with the message
at its field and change nothing, other units' items answer 404, downloads go through the read check."""

import datetime

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from gongzhi.points.models import Award, RuleCategory, Trigger
from gongzhi.points.services import rules
from gongzhi.publications import office
from gongzhi.publications.factories import make_pub_world
from gongzhi.publications.models import Guide, Participation, TeamMember, VolunteerTeam
from gongzhi.publications.services import core, library
from gongzhi.publications.services import volunteers as vs

pytestmark = pytest.mark.django_db
START = datetime.datetime(2026, 6, 6, 0, 0, tzinfo=datetime.UTC)


@pytest.fixture
def pub(tree):
    return make_pub_world(tree)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(START - datetime.timedelta(days=1), tick=False):
        yield


def _login(client, user):
    client.force_login(user)
    return client


def test_staff_fill_in_a_guide_and_bad_input_changes_nothing(client, pub):
    item = core.create_draft(actor=pub.village_admin, kind="guide", author_unit=pub.tree["village"],
                             title="新生儿出生登记")
    url = reverse("worker:library_guide", args=[item.pk])
    _login(client, pub.village_admin)
    assert client.get(url).status_code == 200
    bad = client.post(url, {"matter": "出生登记", "online_url": "http://example.cn/"})
    assert bad.status_code == 422 and "https://" in bad.content.decode()
    assert not Guide.objects.exists()
    ok = client.post(url, {"matter": "出生登记", "materials": "出生医学证明\n父母户口簿", "online_url": ""})
    assert ok.status_code == 302
    assert Guide.objects.get().materials == ["出生医学证明", "父母户口簿"]
    _login(client, pub.other_village_admin)
    assert client.get(url).status_code == 404
    core.submit(actor=pub.village_admin, publication=item)
    _login(client, pub.village_admin)
    assert client.get(url)["Location"] == reverse("worker:publication", args=[item.pk])  # in review: fixed


def test_staff_upload_a_word_template_and_residents_download_it(client, pub, media):
    item = core.create_draft(actor=pub.dispatcher, kind="template", author_unit=pub.tree["town"], title="借条")
    _login(client, pub.dispatcher)
    url = reverse("command:library_files", args=[item.pk])
    bad = client.post(url, {"files": [SimpleUploadedFile("借条.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"0" * 64)]})
    assert bad.status_code == 422 and ".docx" in bad.content.decode()
    docx = office.docx_bytes("借条", ["今借到"])
    assert client.post(url, {"files": [SimpleUploadedFile("借条.docx", docx)]}).status_code == 302
    staff_page = client.get(reverse("command:publication", args=[item.pk])).content.decode()
    assert url in staff_page
    core.publish_now(actor=pub.dispatcher, publication=item)
    attachment = item.attachments.get()
    _login(client, pub.resident)
    page = client.get(reverse("resident:publication", args=[item.pk])).content.decode()
    assert attachment.file.url in page and "WPS" in page
    response = client.get(attachment.file.url)
    assert response.status_code == 200 and response["Content-Type"] == office.DOCX
    assert "attachment" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == docx
    _login(client, pub.other_town_resident)
    assert client.get(attachment.file.url).status_code == 404


def test_the_library_section_shows_the_service_links_as_big_buttons(rf, pub):
    from django.template.loader import render_to_string

    link = core.create_draft(actor=pub.dispatcher, kind="service_link", author_unit=pub.tree["town"],
                             title="甘肃政务服务网")
    library.save_service_link(actor=pub.dispatcher, publication=link, url="https://zwfw.gansu.gov.cn/")
    core.publish_now(actor=pub.dispatcher, publication=link)
    for user, shown in ((pub.resident, True), (pub.other_town_resident, False)):
        request = rf.get("/public/library/")
        request.user = user
        html = render_to_string("resident/publications/_group_extra_library.html", {"group": "library"},
                                request=request)
        assert ("https://zwfw.gansu.gov.cn/" in html) is shown
    request.user = pub.resident
    html = render_to_string("resident/publications/_group_extra_volunteers.html", {}, request=request)
    assert reverse("resident:volunteers") in html


def test_a_resident_joins_a_team_signs_up_and_staff_record_hours(client, pub, points_world):
    volunteer = points_world.resident_user
    category = RuleCategory.objects.create(township=pub.tree["town"], name="志愿服务")
    rules.add_item(actor=None, category=category, fields=rules.ItemFields(
        name="志愿服务（每小时）", points=2, claimable=False, trigger=Trigger.VOLUNTEER_HOURS))
    team = vs.create_team(actor=pub.village_admin, unit=pub.tree["village"], fields=vs.TeamFields(name="助老助残"))
    item = core.create_draft(actor=pub.village_admin, kind="volunteer_activity", author_unit=pub.tree["village"],
                             title="重阳节敬老院慰问")
    _login(client, pub.village_admin)
    edit = reverse("worker:volunteer_activity_edit", args=[item.pk])
    bad = client.post(edit, {"place": "八里镇敬老院", "starts_at": "2026-06-06T08:00", "ends_at": "2026-06-06T07:00",
                             "slots": "5"})
    assert bad.status_code == 422
    assert client.post(edit, {"place": "八里镇敬老院", "starts_at": "2026-06-06T08:00", "ends_at": "2026-06-06T11:00",
                              "slots": "5", "teams": [str(team.pk)]}).status_code == 302
    core.publish_now(actor=pub.village_admin, publication=item)

    _login(client, volunteer)
    home = client.get(reverse("resident:volunteers")).content.decode()
    assert "重阳节敬老院慰问" in home and "助老助残" in home
    client.post(reverse("resident:volunteer_join", args=[team.pk]))
    assert TeamMember.objects.get(team=team).user == volunteer
    assert client.post(reverse("resident:volunteer_signup", args=[item.pk]),
                       {"next": reverse("resident:volunteers")}).status_code == 302
    participation = Participation.objects.get()

    _login(client, pub.village_admin)
    team_page = client.get(reverse("worker:volunteer_team", args=[team.pk])).content.decode()
    assert volunteer.real_name in team_page
    member = TeamMember.objects.get()
    client.post(reverse("worker:volunteer_member_review", args=[member.pk]), {"decision": "approve"})
    member.refresh_from_db()
    assert member.status == TeamMember.Status.APPROVED
    attendance = reverse("worker:volunteer_attendance", args=[item.pk])
    with time_machine.travel(START + datetime.timedelta(hours=12), tick=False):
        _login(client, pub.village_admin)  # a new day: a fresh session
        bad = client.post(attendance, {f"attended-{participation.pk}": "on", f"hours-{participation.pk}": "abc"})
        assert bad.status_code == 422
        assert client.post(attendance, {f"attended-{participation.pk}": "on",
                                        f"hours-{participation.pk}": ""}).status_code == 302
        assert client.post(attendance, {f"attended-{participation.pk}": "on",
                                        f"hours-{participation.pk}": "3"}).status_code == 302
        assert Award.objects.get().points == 6
        _login(client, volunteer)
        record = client.get(reverse("resident:volunteer_record")).content.decode()
    assert "3小时" in record and "6分" in record


def test_staff_of_another_village_get_404_on_teams_and_attendance(client, pub):
    team = VolunteerTeam.objects.create(unit=pub.tree["village"], name="平安守护")
    item = core.create_draft(actor=pub.village_admin, kind="volunteer_activity", author_unit=pub.tree["village"],
                             title="夜间巡逻")
    _login(client, pub.other_village_admin)
    assert client.get(reverse("worker:volunteer_team", args=[team.pk])).status_code == 404
    assert client.get(reverse("worker:volunteer_attendance", args=[item.pk])).status_code == 404
    assert client.get(reverse("worker:volunteer_teams")).status_code == 200
    new = client.post(reverse("worker:volunteer_team_new"), {"unit": str(pub.tree["village2"].pk), "name": "",
                                                              "kind": "fixed"})
    assert new.status_code == 422
    assert client.post(reverse("worker:volunteer_team_new"), {"unit": str(pub.tree["village2"].pk),
                                                              "name": "文明新风", "kind": "fixed",
                                                              "is_active": "on"}).status_code == 302
    assert VolunteerTeam.objects.filter(unit=pub.tree["village2"], name="文明新风").exists()


@pytest.mark.parametrize("slug", ["policy", "law", "template", "guide", "service_link", "volunteer_activity"])
def test_the_kind_partials_render_for_fresh_drafts_and_published_items(rf, pub, slug, media):
    from django.template.loader import render_to_string

    from gongzhi.publications import kinds

    author = pub.village_admin if slug in ("guide", "volunteer_activity") else pub.dispatcher
    unit = pub.tree["village"] if author == pub.village_admin else pub.tree["town"]
    item = core.create_draft(actor=author, kind=slug, author_unit=unit, title="标题")
    for audience, template, user in (("staff", f"web/publications/kinds/{slug}.html", author),
                                     ("reader", f"resident/publications/kinds/{slug}.html", pub.resident)):
        request = rf.get("/")
        request.user = user
        if slug in ("policy", "law"):
            continue  # no part of their own: the core's pages show everything they have
        html = render_to_string(template, {"publication": item, "kind": kinds.context_for(audience, user, item),
                                           "portal": "worker", "user": user, "request": request}, request=request)
        assert "Traceback" not in html
    if slug == "volunteer_activity":
        vs.save_activity(actor=author, publication=item, fields=vs.ActivityFields(
            place="村委会", starts_at=START, ends_at=START + datetime.timedelta(hours=2), slots=3))
        item = core.publish_now(actor=author, publication=item)
        request = rf.get("/")
        request.user = pub.resident
        html = render_to_string("resident/publications/kinds/volunteer_activity.html", {
            "publication": item, "kind": kinds.context_for("reader", pub.resident, item), "user": pub.resident,
            "request": request}, request=request)
        assert "剩余3个名额" in html


def test_anonymous_visitors_see_the_volunteers_page_and_are_sent_to_sign_in_for_their_own(client, pub):
    assert client.get(reverse("resident:volunteers")).status_code == 200
    assert client.get(reverse("resident:volunteer_record")).status_code == 302
    assert client.post(reverse("resident:volunteer_signup", args=[1])).status_code == 302
