"""The resident's case pages: 我要说事, 我的事件, a case's progress, follow-up questions and ratings."""

import datetime
import io
import re
import uuid
import wave

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from gongzhi.accounts.models import Membership, Role, User
from gongzhi.cases import services
from gongzhi.cases.factories import make_categories, report
from gongzhi.cases.models import Attachment, Case, FollowUp, Rating
from gongzhi.cases.workflow import Action, Status
from gongzhi.registry.models import Household, Resident

pytestmark = pytest.mark.django_db

HERE = {"lat": "35.585", "lng": "104.605"}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {**settings.STORAGES,
                         "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}


def make_resident(tree, username, real_name):
    user = User.objects.create_user(username=username, kind=User.Kind.RESIDENT, real_name=real_name)
    Membership.objects.create(user=user, unit=tree["grid"], role=Role.RESIDENT)
    return user


@pytest.fixture
def resident(tree):
    return make_resident(tree, "res", "王秀兰")


@pytest.fixture
def neighbour(tree):
    return make_resident(tree, "res2", "李建国")


@pytest.fixture
def cats(db):
    return make_categories()


@pytest.fixture
def env_leaf(cats):
    return cats["env"].children.first()


@pytest.fixture
def logged_in(client, resident):
    client.force_login(resident)
    return client


def form_data(cat, **overrides):
    data = {"client_id": str(uuid.uuid4()), "category": str(cat.pk), "description": "村口垃圾堆了一周没人清运。",
            "where": "point", **HERE, "address": "村口", "confirmed": ""}
    data.update(overrides)
    return data


def photo(name="p.jpg"):
    buf = io.BytesIO()
    Image.new("RGB", (640, 480), (30, 120, 30)).save(buf, "JPEG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/jpeg")


def voice(seconds=2.0):
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * int(8000 * seconds))
    return SimpleUploadedFile("v.wav", buf.getvalue(), content_type="audio/wav")


def act(actor, case, action, **kwargs):
    kwargs.setdefault("note", "处理说明")
    return services.transition(actor=actor, case=case, action=action, **kwargs)


# ---- 我要说事 -----------------------------------------------------------------------------------------------

def test_report_page_needs_login(client):
    response = client.get(reverse("resident:case_new"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_report_form_offers_grouped_categories_and_a_fresh_client_id(logged_in, cats, env_leaf):
    page = logged_in.get(reverse("resident:case_new")).content.decode()
    assert '<optgroup label="环境卫生类">' in page and f'<option value="{env_leaf.pk}">{env_leaf.name}' in page
    assert "网格事项" not in page and "党建宣传" not in page  # grid workers' categories are not offered
    assert re.search(r'name="client_id" value="[0-9a-f-]{36}"', page)
    assert 'accept="image/*"' in page and "multiple" in page and 'accept="audio/*"' in page
    assert "<script>" not in page  # CSP: external scripts only


def test_report_creates_one_case_and_shows_it(logged_in, resident, env_leaf):
    response = logged_in.post(reverse("resident:case_new"), form_data(env_leaf))
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("resident:case", args=[case.pk])
    assert case.reporter == resident and case.category == env_leaf and case.address == "村口"
    assert case.status == Status.REPORTED and not case.is_anonymous
    page = logged_in.get(response["Location"]).content.decode()
    assert f"已提交，事件编号{case.number}" in page and "村口垃圾堆了一周没人清运。" in page


def test_same_client_id_twice_gives_one_case(logged_in, env_leaf):
    data = form_data(env_leaf)
    first = logged_in.post(reverse("resident:case_new"), data)
    second = logged_in.post(reverse("resident:case_new"), data)
    assert Case.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_anonymous_report(logged_in, env_leaf):
    logged_in.post(reverse("resident:case_new"), form_data(env_leaf, is_anonymous="on"))
    assert Case.objects.get().is_anonymous


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"description": "  "}, "description", "请填写反映的内容。"),
    ({"category": ""}, "category", "请选择事件分类。"),
    ({"lat": "", "lng": ""}, "lat", "请使用手机定位，或填写事发地点的纬度和经度。"),
    ({"lat": "abc"}, "lat", "请填写有效的纬度。"),
])
def test_invalid_input_shows_the_message_next_to_the_field_and_creates_nothing(logged_in, env_leaf, overrides,
                                                                               field, message):
    data = form_data(env_leaf, **overrides)
    response = logged_in.post(reverse("resident:case_new"), data)
    page = response.content.decode()
    assert response.status_code == 422
    assert re.search(rf'id="id_{field}_error"[^>]*>\s*<ul class="errorlist"><li>{re.escape(message)}', page)
    assert Case.objects.count() == 0
    assert f'value="{data["client_id"]}"' in page  # kept on re-render, so a retry is still the same report


def test_root_category_is_refused(logged_in, cats):
    response = logged_in.post(reverse("resident:case_new"), form_data(cats["talk"]))
    assert response.status_code == 422 and Case.objects.count() == 0


def test_point_outside_every_grid_is_refused(logged_in, env_leaf):
    response = logged_in.post(reverse("resident:case_new"), form_data(env_leaf, lat="30.0", lng="100.0"))
    assert "该位置不在任何网格内。" in response.content.decode()
    assert Case.objects.count() == 0


def test_my_grid_as_location(logged_in, resident, tree, env_leaf):
    grid = tree["grid"]
    grid.centroid_lat, grid.centroid_lng = 35.585, 104.605
    grid.save()
    home = Household.objects.create(village=tree["village"], grid=grid, number="H-1", address="一社1号")
    Resident.objects.create(household=home, name="王秀兰", id_number="621102198001010011", gender="F",
                            birth_date=datetime.date(1980, 1, 1), relation=Resident.Relation.HEAD, user=resident)
    page = logged_in.get(reverse("resident:case_new")).content.decode()
    assert "我所在的网格" in page
    logged_in.post(reverse("resident:case_new"), form_data(env_leaf, where="grid", lat="", lng=""))
    case = Case.objects.get()
    assert (case.lat, case.lng, case.grid) == (35.585, 104.605, grid)


def test_nearby_duplicate_is_shown_before_submitting(logged_in, resident, env_leaf):
    earlier = report(resident, env_leaf, description="垃圾没人清运")
    data = form_data(env_leaf)
    response = logged_in.post(reverse("resident:case_new"), data)
    page = response.content.decode()
    assert "附近已有相同问题，仍要提交？" in page and earlier.number in page
    assert Case.objects.count() == 1
    assert re.search(r'name="confirmed" value="(on|True)"', page)
    response = logged_in.post(reverse("resident:case_new"), {**data, "confirmed": "on"})
    assert response.status_code == 302 and Case.objects.count() == 2


def test_report_with_photos_and_voice(logged_in, env_leaf):
    data = form_data(env_leaf, photos=[photo("a.jpg"), photo("b.jpg")], voice=voice())
    response = logged_in.post(reverse("resident:case_new"), data)
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.attachments.filter(kind=Attachment.Kind.PHOTO).count() == 2
    assert case.attachments.filter(kind=Attachment.Kind.VOICE).count() == 1
    page = logged_in.get(response["Location"]).content.decode()
    assert page.count("<img ") >= 2 and "<audio controls" in page


def test_a_refused_form_says_the_files_must_be_chosen_again(logged_in, env_leaf):
    """A browser cannot be sent its files back: the form shown again says so (and only when files came)."""
    with_photo = logged_in.post(reverse("resident:case_new"), form_data(env_leaf, description="", photos=[photo()]))
    assert with_photo.status_code == 422 and "请重新选择照片和语音后再提交。" in with_photo.content.decode()
    without = logged_in.post(reverse("resident:case_new"), form_data(env_leaf, description=""))
    assert without.status_code == 422 and "请重新选择照片和语音后再提交。" not in without.content.decode()
    assert Case.objects.count() == 0


def test_ten_photos_are_refused(logged_in, env_leaf):
    response = logged_in.post(reverse("resident:case_new"),
                              form_data(env_leaf, photos=[photo(f"{i}.jpg") for i in range(10)]))
    assert "最多上传9张照片。" in response.content.decode()
    assert Case.objects.count() == 0


def test_a_broken_photo_is_refused_and_nothing_is_created(logged_in, env_leaf):
    bad = SimpleUploadedFile("x.jpg", b"not an image", content_type="image/jpeg")
    response = logged_in.post(reverse("resident:case_new"), form_data(env_leaf, photos=[bad]))
    assert response.status_code == 422 and 'id="id_photos_error"' in response.content.decode()
    assert Case.objects.count() == 0


def test_photos_uploaded_first_are_kept_when_the_form_is_refused(logged_in, neighbour, env_leaf):
    """The page's script uploads each photo at once (the endpoint answers a token); a refused form is shown
    again with those photos (thumbnail and token), and sending it fixed attaches them."""
    uploaded = logged_in.post(reverse("resident:photo_upload"), {"photo": photo()})
    assert uploaded.status_code == 201
    token, thumbnail = uploaded.json()["token"], uploaded.json()["thumbnail_url"]
    again = logged_in.post(reverse("resident:photo_upload"), {"photo": photo()})
    assert again.status_code == 200 and again.json()["token"] == token
    refused = logged_in.post(reverse("resident:photo_upload"), {"photo": SimpleUploadedFile("x.jpg", b"no")})
    assert refused.status_code == 422 and refused.json()["field"] == "photos" and refused.json()["detail"]

    theirs = services.upload_photo(actor=neighbour, upload=photo("theirs.jpg"))[0]
    response = logged_in.post(reverse("resident:case_new"),
                              form_data(env_leaf, description="", photo_tokens=[token, theirs.token]))
    page = response.content.decode()
    assert response.status_code == 422
    assert f'name="photo_tokens" value="{token}"' in page and thumbnail in page
    assert theirs.token not in page and theirs.thumbnail.url not in page  # never shown to anyone else
    assert "请重新选择照片和语音后再提交。" not in page  # nothing was lost

    response = logged_in.post(reverse("resident:case_new"), form_data(env_leaf, photo_tokens=[token]))
    assert response.status_code == 302
    assert Case.objects.get().attachments.get().thumbnail.url == thumbnail


def test_someone_elses_photo_token_is_refused_on_the_photos_field(logged_in, neighbour, env_leaf):
    theirs = services.upload_photo(actor=neighbour, upload=photo("theirs.jpg"))[0]
    response = logged_in.post(reverse("resident:case_new"), form_data(env_leaf, photo_tokens=[theirs.token]))
    page = response.content.decode()
    assert response.status_code == 422 and 'id="id_photos_error"' in page and "照片已失效" in page
    assert Case.objects.count() == 0


# ---- 我的事件 and a case's page ----------------------------------------------------------------------------

def test_my_cases_lists_only_mine_newest_first(logged_in, resident, neighbour, env_leaf):
    older = report(resident, env_leaf, description="第一件事")
    newer = report(resident, env_leaf, description="第二件事")
    theirs = report(neighbour, env_leaf, description="邻居的事")
    page = logged_in.get(reverse("resident:case_list")).content.decode()
    assert newer.number in page and older.number in page and theirs.number not in page
    assert page.index("第二件事") < page.index("第一件事")
    assert "我要说事" in page and "已派单" in page and "正在办理" in page and "已完成" in page


def test_another_residents_case_is_404(logged_in, neighbour, env_leaf):
    theirs = report(neighbour, env_leaf)
    assert logged_in.get(reverse("resident:case", args=[theirs.pk])).status_code == 404
    assert logged_in.post(reverse("resident:case_follow_up", args=[theirs.pk]),
                          {"question": "怎么样了？"}).status_code == 404
    assert logged_in.post(reverse("resident:case_rate", args=[theirs.pk]),
                          {"score": "satisfied"}).status_code == 404
    assert FollowUp.objects.count() == 0 and Rating.objects.count() == 0


def test_detail_shows_the_public_timeline_and_the_rejection_reason(logged_in, resident, env_leaf, make_staff,
                                                                   tree):
    dispatcher = make_staff("disp", tree["town"], Role.DISPATCHER)
    case = report(resident, env_leaf)
    act(dispatcher, case, Action.REJECT, note="不属于本平台受理范围，请拨打12345。")
    page = logged_in.get(reverse("resident:case", args=[case.pk])).content.decode()
    assert "不予受理的原因：" in page and "不属于本平台受理范围，请拨打12345。" in page
    assert "上报" in page  # the first step of the timeline


def test_follow_up_is_asked_and_the_answer_shown(logged_in, resident, env_leaf, make_staff, tree):
    dispatcher = make_staff("disp", tree["town"], Role.DISPATCHER)
    case = report(resident, env_leaf)
    url = reverse("resident:case_follow_up", args=[case.pk])
    response = logged_in.post(url, {"question": "什么时候来清运？"})
    assert response.status_code == 302
    follow_up = FollowUp.objects.get()
    services.answer_follow_up(actor=dispatcher, follow_up=follow_up, answer="明天上午清运。")
    page = logged_in.get(reverse("resident:case", args=[case.pk])).content.decode()
    assert "什么时候来清运？" in page and "明天上午清运。" in page


def test_empty_follow_up_shows_a_message(logged_in, resident, env_leaf):
    case = report(resident, env_leaf)
    response = logged_in.post(reverse("resident:case_follow_up", args=[case.pk]), {"question": " "})
    assert response.status_code == 422 and "请填写您要追问的内容。" in response.content.decode()
    assert FollowUp.objects.count() == 0


@pytest.fixture
def closed_case(resident, env_leaf, make_staff, tree):
    dispatcher = make_staff("disp", tree["town"], Role.DISPATCHER)
    handler = make_staff("sifa", tree["justice"], Role.DEPT_HANDLER)
    worker = make_staff("wgy", tree["grid"], Role.GRID_WORKER)
    case = report(resident, env_leaf)
    act(dispatcher, case, Action.ACCEPT)
    act(dispatcher, case, Action.DISPATCH, lead_unit=tree["justice"])
    act(handler, case, Action.SIGN)
    act(handler, case, Action.COMPLETE, note="已清运完毕。")
    services.record_return_visit(actor=worker, case=case, method="phone", settled=True, note="群众确认已清运。")
    act(dispatcher, case, Action.CLOSE)
    case.refresh_from_db()
    return case


def test_rating_a_closed_case(logged_in, closed_case):
    detail = reverse("resident:case", args=[closed_case.pk])
    page = logged_in.get(detail).content.decode()
    assert "评价办理结果" in page and "基本满意" in page
    response = logged_in.post(reverse("resident:case_rate", args=[closed_case.pk]), {"score": "satisfied"})
    assert response.status_code == 302
    assert Rating.objects.get().score == "satisfied"
    closed_case.refresh_from_db()
    assert closed_case.status == Status.RATED
    page = logged_in.get(detail).content.decode()
    assert "您已评价过本轮办理" in page and "提交评价" not in page


def test_unsatisfied_needs_a_comment(logged_in, closed_case):
    url = reverse("resident:case_rate", args=[closed_case.pk])
    response = logged_in.post(url, {"score": "unsatisfied", "comment": ""})
    assert response.status_code == 422 and "请说明不满意的原因。" in response.content.decode()
    assert Rating.objects.count() == 0
    response = logged_in.post(url, {"score": "unsatisfied", "comment": "垃圾又堆起来了。"})
    assert response.status_code == 302
    closed_case.refresh_from_db()
    assert closed_case.status == Status.REOPENED


def test_a_question_or_a_rating_sent_twice_counts_once(logged_in, resident, closed_case):
    """The forms carry a fresh client key each time the page is shown; a phone that sends one twice (a
    double tap, a retry on a bad connection) gets the same answer, and nothing is recorded twice."""
    detail = reverse("resident:case", args=[closed_case.pk])
    key = re.search(r'name="client_key" value="(\w+)"', logged_in.get(detail).content.decode()).group(1)
    rate = reverse("resident:case_rate", args=[closed_case.pk])
    body = {"score": "unsatisfied", "comment": "垃圾又堆起来了。", "client_key": key}
    assert [logged_in.post(rate, body).status_code for _ in range(2)] == [302, 302]
    assert Rating.objects.count() == 1
    # Reopened: now the question form is shown, with a key of its own.
    keys = re.findall(r'name="client_key" value="(\w+)"', logged_in.get(detail).content.decode())
    assert len(keys) == 1 and keys[0] != key
    ask = reverse("resident:case_follow_up", args=[closed_case.pk])
    body = {"question": "什么时候再来？", "client_key": keys[0]}
    assert [logged_in.post(ask, body).status_code for _ in range(2)] == [302, 302]
    assert FollowUp.objects.count() == 1


def test_no_rating_form_while_the_case_is_open(logged_in, resident, env_leaf):
    case = report(resident, env_leaf)
    page = logged_in.get(reverse("resident:case", args=[case.pk])).content.decode()
    assert "提交评价" not in page
    response = logged_in.post(reverse("resident:case_rate", args=[case.pk]), {"score": "satisfied"})
    assert response.status_code == 422 and Rating.objects.count() == 0


def test_home_links_to_report_and_my_cases(logged_in):
    page = logged_in.get(reverse("resident:home")).content.decode()
    assert f'href="{reverse("resident:case_new")}"' in page and f'href="{reverse("resident:case_list")}"' in page


def test_a_report_that_waited_too_long_for_the_database_is_the_busy_page_and_stores_nothing(
        logged_in, env_leaf, monkeypatch):
    from django.db import OperationalError

    from gongzhi.cases import services

    def locked(**kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(services, "submit_case", locked)
    response = logged_in.post(reverse("resident:case_new"), form_data(env_leaf))
    page = response.content.decode()
    assert response.status_code == 503 and response["Retry-After"] == "2"
    assert "系统正忙，您的操作没有保存" in page and 'class="inbox-link"' in page  # the resident's own chrome
    assert not Case.objects.exists()


def test_other_database_errors_are_not_passed_off_as_busy(logged_in, env_leaf, monkeypatch):
    from django.db import OperationalError

    from gongzhi.cases import services

    def broken(**kwargs):
        raise OperationalError("no such table: cases_case")

    monkeypatch.setattr(services, "submit_case", broken)
    with pytest.raises(OperationalError):
        logged_in.post(reverse("resident:case_new"), form_data(env_leaf))
