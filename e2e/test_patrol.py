"""A grid worker on a 360 px phone with the position mocked: starts a patrol, the track arrives while they walk,
reports a case on the way (linked to the patrol), records a household visit, ends the patrol, and the day's work
log (工作手册) shows it all. The command centre's pages of the same, on a 1920 px screen."""

import datetime

import pytest
from django.conf import settings as django_settings
from django.test import Client
from playwright.sync_api import expect

from gongzhi.accounts.models import Membership, Role, User
from gongzhi.cases.models import Case
from gongzhi.org.factories import make_tree
from gongzhi.registry.models import Household, Patrol, Resident, TrackPoint, Visit
from gongzhi.worker import fieldwork_views

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LAT, LNG = 35.5852, 104.6052  # inside tree["grid"] (a 0.01° square from 35.58, 104.60)
STEP = 0.00004  # about 4.5 m north: a walk, not a jump


@pytest.fixture
def world(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    tree = make_tree()
    worker = User.objects.create_user(username="wgy", real_name="王网格", kind=User.Kind.STAFF)
    Membership.objects.create(user=worker, unit=tree["grid"], role=Role.GRID_WORKER)
    home = Household.objects.create(village=tree["village"], grid=tree["grid"], number="H-001",
                                    address="小山村一社12号")
    Resident.objects.create(household=home, name="张三", id_number="110101198001010017", gender="M",
                            birth_date=datetime.date(1980, 1, 1), relation=Resident.Relation.HEAD)
    dispatcher = User.objects.create_user(username="disp", real_name="李调度", kind=User.Kind.STAFF)
    Membership.objects.create(user=dispatcher, unit=tree["town"], role=Role.DISPATCHER)
    return {"tree": tree, "worker": worker, "dispatcher": dispatcher}


def log_in_as(page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.add_cookies([{"name": django_settings.SESSION_COOKIE_NAME, "url": live_server.url,
                               "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value}])


def fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def walk(page, steps: int, start: int = 0) -> None:
    """Move the phone north a few metres at a time, a little over the (shortened) interval apart."""
    for i in range(start, start + steps):
        page.context.set_geolocation({"latitude": LAT + STEP * i, "longitude": LNG, "accuracy": 8})
        page.wait_for_timeout(1100)


def test_a_patrol_from_start_to_the_work_log(new_page, live_server, world, monkeypatch, shot):
    monkeypatch.setattr(fieldwork_views, "TRACK_INTERVAL_SECONDS", 1)  # a point a second, not every 15
    page = new_page(width=360, height=740, geolocation={"latitude": LAT, "longitude": LNG, "accuracy": 8},
                    permissions=["geolocation"])
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in_as(page, live_server, world["worker"])
    page.goto(live_server.url + "/worker/")
    nav = page.locator(".bottom-nav a")
    expect(nav).to_have_count(5)
    fits(page, 360)
    nav.filter(has_text="巡查").click()
    expect(page.get_by_role("heading", name="巡查", exact=True)).to_be_visible()
    shot(page, "patrol-start-360")
    page.get_by_role("button", name="开始巡查").click()

    # Under way: the phone's points reach the server.
    expect(page.get_by_role("heading", name="巡查中", exact=True)).to_be_visible()
    patrol = Patrol.objects.get()
    walk(page, 4)
    expect(page.locator("[data-points]")).not_to_have_text("0")
    expect(page.locator("[data-pending]")).to_contain_text("轨迹已全部上传")
    assert TrackPoint.objects.filter(patrol=patrol).count() >= 3
    assert page.evaluate(f"localStorage.getItem('gongzhi.patrol.{patrol.pk}')") is None  # all sent
    fits(page, 360)
    shot(page, "patrol-active-360")

    # A matter found on the way: reported from the patrol page, linked to the patrol.
    page.get_by_role("link", name="上报事件").click()
    expect(page.locator("#report-patrol")).to_contain_text("本事件将记入这次巡查")
    page.get_by_label("具体事项").select_option(label="垃圾清运")
    page.get_by_label("要说的事").fill("河道边堆了一堆建筑垃圾，影响行洪。")
    fits(page, 360)
    shot(page, "patrol-report-360")
    page.get_by_role("button", name="提交").click()
    expect(page.get_by_text("已提交，事件编号")).to_be_visible()
    case = Case.objects.get()
    assert case.patrol_id == patrol.pk

    # Back to the patrol (the 巡查 tab opens the patrol under way), where the case is listed; then a visit.
    page.locator(".bottom-nav a").filter(has_text="巡查").click()
    expect(page.locator("#patrol-cases")).to_contain_text(case.number)
    walk(page, 3, start=4)
    page.get_by_role("link", name="走访登记").click()
    expect(page.get_by_role("heading", name="走访登记")).to_be_visible()
    page.get_by_label("H-001 张三").check()
    page.get_by_label("走访情况").fill("户主在家，家中无异常。")
    fits(page, 360)
    shot(page, "patrol-visit-360")
    page.get_by_role("button", name="保存走访").click()
    expect(page.get_by_text("已登记走访。")).to_be_visible()
    expect(page.locator("#patrol-visits")).to_contain_text("H-001")
    visit = Visit.objects.get()
    assert visit.patrol_id == patrol.pk and visit.lat == pytest.approx(LAT, abs=0.001)

    # The end: what is still buffered is sent first.
    walk(page, 2, start=7)
    page.get_by_label("巡查情况（可选）").fill("巡查一社、二社，发现垃圾堆放1处。")
    page.get_by_role("button", name="结束巡查").click()
    expect(page.get_by_text("巡查已结束")).to_be_visible()
    expect(page.get_by_role("heading", name="巡查记录")).to_be_visible()
    patrol.refresh_from_db()
    assert patrol.ended_at is not None and patrol.point_count >= 5 and patrol.distance_m > 10
    fits(page, 360)
    shot(page, "patrol-ended-360")

    page.get_by_role("link", name="工作手册").click()
    log = page.locator("#work-log")
    expect(log.locator("li")).to_have_count(3)
    expect(log).to_contain_text("小山村第1网格")
    expect(log).to_contain_text(case.number)
    expect(log).to_contain_text("户主在家")
    expect(page.locator("#month-days tbody tr")).to_have_count(1)
    fits(page, 360)
    shot(page, "worklog-360")
    assert not errors, errors


def test_the_bottom_navigation_fits_a_phone_in_large_type(new_page, live_server, world, shot):
    page = new_page(width=360, height=740)
    log_in_as(page, live_server, world["worker"])
    page.context.add_cookies([{"name": "large_type", "value": "1", "url": live_server.url}])
    page.goto(live_server.url + "/worker/patrol/")
    fits(page, 360)
    # Each label on one line: its text's boxes are one per line.
    lines = page.locator(".bottom-nav a").evaluate_all("""links => links.map(a => {
        const text = [...a.childNodes].find(n => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
        const range = document.createRange();
        range.selectNodeContents(text);
        return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
    })""")
    assert lines == [1, 1, 1, 1, 1]
    shot(page, "nav-large-type-360")


def test_the_command_centre_sees_the_month_and_the_track(new_page, live_server, world, shot):
    from gongzhi.registry.services import patrols
    from gongzhi.registry.services.visits import VisitTarget, record_visit

    worker = world["worker"]
    patrol, _created = patrols.start_patrol(actor=worker, grid=world["tree"]["grid"])
    now = datetime.datetime.now(datetime.UTC)
    patrols.add_track_points(actor=worker, patrol=patrol, points=[
        {"at": int((now + datetime.timedelta(seconds=i)).timestamp() * 1000), "lat": LAT + STEP * i,
         "lng": LNG + STEP * (i % 7), "accuracy": 6} for i in range(40)])
    record_visit(actor=worker, kind=Visit.Kind.HOUSEHOLD, target=VisitTarget(household=Household.objects.get()),
                 notes="入户走访", patrol=patrol, lat=LAT + STEP * 20, lng=LNG)
    patrols.end_patrol(actor=worker, patrol=patrol, note="例行巡查")

    for width in (1920, 360):
        page = new_page(width=width, height=1000 if width > 360 else 740)
        errors: list[str] = []
        page.on("pageerror", lambda error, errors=errors: errors.append(str(error)))
        log_in_as(page, live_server, world["dispatcher"])
        page.goto(live_server.url + "/command/")
        page.get_by_role("link", name="巡查走访").click()
        table = page.locator("#fieldwork-table")
        expect(table).to_contain_text("王网格")
        shot(page, f"command-fieldwork-{width}")
        table.get_by_role("link", name="巡查次数").click()
        expect(page.locator("th[aria-sort]")).to_contain_text("巡查次数")
        page.get_by_role("link", name="王网格").click()
        expect(page.locator("#patrol-map .leaflet-interactive").first).to_be_visible()
        expect(page.locator("#worker-patrols")).to_contain_text("小山村第1网格")
        page.wait_for_timeout(300)
        shot(page, f"command-fieldwork-worker-{width}")
        assert not errors, errors
