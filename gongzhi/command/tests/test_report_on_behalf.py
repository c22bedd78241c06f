"""代为登记: a dispatcher records a matter for a resident who came in or phoned (/command/cases/new/)."""

import datetime
import io
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from gongzhi.accounts import stations
from gongzhi.accounts.models import Membership, Role, User
from gongzhi.accounts.tests.helpers import make_resident_account, valid_id
from gongzhi.cases import categories, services
from gongzhi.cases.factories import make_categories
from gongzhi.cases.models import Attachment, Case, CaseLog, Source
from gongzhi.cases.selectors import my_cases
from gongzhi.core.errors import DomainError, Forbidden, NotFound
from gongzhi.registry.models import Household, Resident

pytestmark = pytest.mark.django_db

URL = "/command/cases/new/"
ID = valid_id(birth="19700506", seq="222")
PHONE = "13812345678"
WRONG_CHECK_DIGIT = ID[:-1] + ("0" if ID[-1] != "0" else "1")
HERE = {"lat": "35.585", "lng": "104.605"}  # 小山村第1网格 (八里镇)
THERE = {"lat": "35.585", "lng": "104.625"}  # 东关社区第1网格 (城关镇)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {**settings.STORAGES,
                         "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}


@pytest.fixture
def world(tree, make_staff):
    household = Household.objects.create(village=tree["village"], grid=tree["grid"], number="H001",
                                         address="小山村1号")
    record = Resident.objects.create(household=household, name="王秀英", id_number=ID, phone="13900000000",
                                     gender="F", birth_date=datetime.date(1970, 5, 6),
                                     relation=Resident.Relation.HEAD)
    return {
        "tree": tree, "cats": make_categories(), "record": record,
        "disp": make_staff("disp", tree["town"], Role.DISPATCHER),
        "other_disp": make_staff("odisp", tree["other_town"], Role.DISPATCHER),
        "handler": make_staff("handler", tree["justice"], Role.DEPT_HANDLER),
        "gw": make_staff("gw", tree["grid"], Role.GRID_WORKER),
    }


def form(world, **changes) -> dict:
    data = {"client_id": str(uuid.uuid4()), "name": "王秀英", "id_number": ID, "phone": PHONE,
            "category": world["cats"]["env"].pk, "description": "村口垃圾堆了一周没人清运。", "grid": "",
            **HERE, "address": "村口", **changes}
    return {k: v for k, v in data.items() if v is not None}


def photo() -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", (400, 300), (200, 30, 30)).save(buf, "PNG")
    return SimpleUploadedFile("p.png", buf.getvalue(), content_type="image/png")


def nothing_written() -> bool:
    return not Case.objects.exists() and not User.objects.filter(kind=User.Kind.RESIDENT).exists()


# --- the page ----------------------------------------------------------------------------------------------


def test_the_form_offers_the_grids_of_the_dispatchers_scope(client, world):
    tree = world["tree"]
    client.force_login(world["disp"])
    response = client.get(URL)
    page = response.content.decode()
    assert response.status_code == 200
    assert 'name="id_number"' in page and 'name="client_id"' in page and 'name="photos"' in page
    assert tree["grid2"].name in page and tree["grid3"].name in page and "八里镇 · 大湾村" in page
    assert tree["other_grid"].name not in page
    assert "代为登记" in client.get("/command/cases/").content.decode()  # the link in the case menu


def test_a_fresh_client_id_on_every_get(client, world):
    client.force_login(world["disp"])
    first = client.get(URL).context["form"].initial["client_id"]
    assert first != client.get(URL).context["form"].initial["client_id"]


@pytest.mark.parametrize("who", ["resident", "gw", "handler"])
def test_no_form_for_residents_grid_workers_or_departments(client, world, who):
    user = (make_resident_account(id_number=valid_id(seq="999"), phone="13900000001", grid=world["tree"]["grid"])
            if who == "resident" else world[who])
    client.force_login(user)
    response = client.get(URL)
    assert response.status_code in (302, 403, 404)
    assert 'name="id_number"' not in response.content.decode()
    response = client.post(URL, form(world))
    assert response.status_code in (302, 403, 404) and not Case.objects.exists()
    if who == "handler":  # may use the command portal, but not this page; the menu does not offer it
        assert response.status_code == 403
        assert "代为登记" not in client.get("/command/cases/").content.decode()


def test_anonymous_visitors_are_sent_to_the_login(client, world):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/command/login/")


# --- reporting ---------------------------------------------------------------------------------------------


def test_report_for_a_resident_creates_the_account_and_the_case(client, world):
    disp, record = world["disp"], world["record"]
    client.force_login(disp)
    response = client.post(URL, form(world, photos=photo()))
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/command/cases/{case.pk}/"
    resident = User.objects.get(kind=User.Kind.RESIDENT)
    record.refresh_from_db()
    # Not verified and not usable until she signs up on that phone herself: staff typed the number.
    assert record.user is None and resident.real_name == "王秀英" and resident.phone == PHONE
    assert resident.confirmed_at is None and not Membership.objects.filter(user=resident).exists()
    assert case.source == Source.ON_BEHALF and case.reporter == resident and case.entered_by == disp
    assert case.grid == world["tree"]["grid"] and case.holder == world["tree"]["town"]
    assert case.address == "村口" and not case.is_anonymous
    log = CaseLog.objects.get(case=case)
    assert log.actor == disp and log.action == "report"
    assert case.attachments.filter(kind=Attachment.Kind.PHOTO, uploaded_by=disp).count() == 1
    assert list(my_cases(resident)) == [case]
    page = client.get(response["Location"]).content.decode()
    assert f"已代为登记，编号{case.number}。" in page
    assert "请告诉群众：用本手机号注册后，即可在手机上查看办理进度" in page
    assert f"工作人员代报（{disp.real_name or disp.username}登记）" in page  # who entered it, on the case page
    assert case.number in client.get("/command/cases/intake/").content.decode()


def test_report_for_an_existing_account_at_a_chosen_grid(client, world):
    tree = world["tree"]
    account = make_resident_account(id_number=ID, phone="13900000000", grid=tree["grid"], name="王秀英")
    Resident.objects.filter(pk=world["record"].pk).update(user=account)  # verified
    client.force_login(world["disp"])
    response = client.post(URL, form(world, grid=tree["grid2"].pk, lat="", lng="", is_anonymous="on"))
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.reporter == account and case.grid == tree["grid2"] and case.is_anonymous
    assert User.objects.filter(kind=User.Kind.RESIDENT).count() == 1
    assert list(my_cases(account)) == [case]
    # The typed phone differs from the account's: the account keeps its own, and the dispatcher is told.
    page = client.get(response["Location"]).content.decode()
    assert "该群众账号登记的手机号是139****0000，与本次填写的不同" in page
    account.refresh_from_db()
    assert account.phone == "13900000000"


def test_the_same_phone_raises_no_warning(client, world):
    make_resident_account(id_number=ID, phone=PHONE, grid=world["tree"]["grid"], name="王秀英")
    client.force_login(world["disp"])
    response = client.post(URL, form(world))
    assert "与本次填写的不同" not in client.get(response["Location"]).content.decode()


def test_typed_coordinates_win_over_the_chosen_grid(client, world):
    tree = world["tree"]
    client.force_login(world["disp"])
    assert client.post(URL, form(world, grid=tree["grid3"].pk)).status_code == 302
    assert Case.objects.get().grid == tree["grid"]


def test_a_retry_with_the_same_client_id_returns_the_first_case(client, world):
    client.force_login(world["disp"])
    data = form(world)
    first = client.post(URL, data)
    again = client.post(URL, data)
    assert first.status_code == again.status_code == 302 and first["Location"] == again["Location"]
    assert Case.objects.count() == 1 and User.objects.filter(kind=User.Kind.RESIDENT).count() == 1
    with_photo = form(world)
    first = client.post(URL, {**with_photo, "photos": photo()})
    again = client.post(URL, {**with_photo, "photos": photo()})
    assert first["Location"] == again["Location"] and Case.objects.count() == 2
    assert Attachment.objects.count() == 1


def test_a_point_outside_the_dispatchers_grids_is_refused_at_the_field_and_writes_nothing(client, world):
    client.force_login(world["disp"])
    for place in (THERE, {"lat": "36.06", "lng": "103.83"}):  # another township's grid; no grid at all
        response = client.post(URL, form(world, **place))
        assert response.status_code == 422
        assert "该位置不在您管辖的网格内，请核对纬度和经度。" in response.content.decode()
    assert nothing_written()
    assert Resident.objects.get(pk=world["record"].pk).user is None


def test_a_grid_outside_the_scope_cannot_be_chosen(client, world):
    client.force_login(world["other_disp"])
    response = client.post(URL, form(world, grid=world["tree"]["grid"].pk, lat="", lng=""))
    assert response.status_code == 422 and "请选择您管辖范围内的网格。" in response.content.decode()
    assert nothing_written()


@pytest.mark.parametrize("changes,field,message", [
    ({"description": "  "}, "description", "请填写反映的内容。"),
    ({"id_number": WRONG_CHECK_DIGIT}, "id_number", "身份证号码校验位不正确，请核对后重新输入。"),
    ({"id_number": "62110219700506"}, "id_number", "身份证号码应为18位，您填写了14位。"),
    ({"phone": "1234"}, "phone", "请填写有效的11位中国大陆手机号码。"),
    ({"name": ""}, "name", "请填写姓名。"),
    ({"lat": "", "lng": ""}, "grid", "请选择事发网格，或填写事发地点的纬度和经度。"),
    ({"lng": ""}, "lat", "请同时填写纬度和经度。"),
    ({"lat": "95", "lng": "104.605"}, "lat", "纬度必须是 -90 到 90 之间的数字。"),
    ({"category": ""}, "category", "请选择事件分类。"),
    ({"name": "王秀兰"}, "name", "姓名与该身份证号登记的姓名不一致，请核对后重新填写。"),
])
def test_bad_input_shows_the_message_at_its_field_and_writes_nothing(client, world, changes, field, message):
    client.force_login(world["disp"])
    response = client.post(URL, form(world, **changes))
    assert response.status_code == 422
    assert message in response.context["form"].errors[field]
    assert message in response.content.decode()
    assert nothing_written()


def test_a_refused_form_with_a_photo_asks_for_it_again(client, world):
    client.force_login(world["disp"])
    response = client.post(URL, {**form(world, id_number=WRONG_CHECK_DIGIT), "photos": photo()})
    assert response.status_code == 422 and "请重新选择照片和语音后再提交。" in response.content.decode()
    assert nothing_written()


def test_a_refused_case_leaves_no_account_behind(client, world):
    """The account is created before the case service refuses the photo: both roll back."""
    client.force_login(world["disp"])
    fake = SimpleUploadedFile("p.png", b"not a picture at all", content_type="image/png")
    response = client.post(URL, form(world, photos=fake))
    assert response.status_code == 422 and response.context["form"].errors["photos"]
    assert nothing_written()
    assert Resident.objects.get(pk=world["record"].pk).user is None


# --- the service -------------------------------------------------------------------------------------------


def _submit(actor, world, on_behalf_of, lat=35.585, lng=104.605):
    return services.submit_case(actor=actor, on_behalf_of=on_behalf_of, client_id=uuid.uuid4(),
                                category=world["cats"]["env"], description="路灯坏了。", lat=lat, lng=lng)


@pytest.fixture
def resident(world):
    return make_resident_account(id_number=ID, phone=PHONE, grid=world["tree"]["grid"], name="王秀英")


@pytest.mark.parametrize("who", ["gw", "handler", "resident"])
def test_submit_on_behalf_needs_a_command_post(world, resident, who):
    actor = resident if who == "resident" else world[who]
    with pytest.raises(Forbidden):
        _submit(actor, world, resident)
    assert not Case.objects.exists()


def test_submit_on_behalf_checks_the_place_against_the_scope(world, resident):
    with pytest.raises(NotFound):
        _submit(world["other_disp"], world, resident)
    assert not Case.objects.exists()
    case, created = _submit(world["other_disp"], world, resident, lng=104.625)
    assert created and case.entered_by == world["other_disp"] and case.source == Source.ON_BEHALF


def test_submit_on_behalf_only_for_a_resident(world):
    with pytest.raises(DomainError) as exc:
        _submit(world["disp"], world, world["gw"])
    assert not isinstance(exc.value, Forbidden | NotFound) and exc.value.code == "not_resident"
    assert not Case.objects.exists()


def test_an_ordinary_submission_pays_for_no_on_behalf_check(world, resident):
    """The intake fast path: no post or scope lookup, and a resident may report anywhere, as before. (Which
    villages have a station is read once per process and kept, like the grids.)"""
    stations.village_ids()
    with CaptureQueriesContext(connection) as queries:
        case, _created = _submit(resident, world, None, lng=104.625)
    assert case.source == Source.RESIDENT and case.entered_by is None
    assert not [q for q in queries.captured_queries if "accounts_membership" in q["sql"]]


def test_a_complaint_entered_at_the_desk_names_its_unit_and_goes_above_it(client, world):
    """代为登记 of a 投诉举报: the desk offers the units responsible for the place once it is known, and the
    complaint is held a level above the unit it is about."""
    client.force_login(world["disp"])
    complaint = categories.by_code("complaint-attitude")
    first = client.post("/command/cases/new/", form(world, category=complaint.pk))
    assert first.status_code == 422 and "请选择被投诉的单位" in first.content.decode()
    assert f'<option value="{world["tree"]["village"].pk}">小山村</option>' in first.content.decode()
    done = client.post("/command/cases/new/", form(world, category=complaint.pk,
                                                   subject_unit=world["tree"]["village"].pk))
    assert done.status_code == 302
    case = Case.objects.get()
    assert case.subject_unit == world["tree"]["village"] and case.holder == world["tree"]["town"]
    client.force_login(world["gw"])  # a grid worker of the village complained about
    assert client.get(f"/worker/cases/{case.pk}/").status_code == 404
