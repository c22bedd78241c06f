"""registry.services.visits.record_visit, the one way every page records a visit (走访)."""

import datetime
import io

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image

from gongzhi.accounts.models import Role
from gongzhi.core.errors import DomainError, NotFound
from gongzhi.registry.models import KeyPerson, Patrol, Visit, VisitPhoto
from gongzhi.registry.services.visits import BACKDATE_DAYS, MAX_PHOTOS, VisitTarget, record_visit
from gongzhi.testing.fieldwork import phone_photo

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 3, 10, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


def household_visit(actor, target, **kwargs):
    kwargs.setdefault("notes", "入户了解家庭情况")
    return record_visit(actor=actor, kind=Visit.Kind.HOUSEHOLD, target=VisitTarget(household=target), **kwargs)


# Kinds and targets ----------------------------------------------------------------------------------------------

def test_a_household_visit_counts_for_the_households_grid(worker, records, tree):
    visit = household_visit(worker, records["household"], lat=35.585, lng=104.605)
    assert (visit.kind, visit.household, visit.area, visit.visitor) == ("household", records["household"],
                                                                         tree["grid"], worker)
    assert visit.visited_at == NOW and visit.patrol is None and (visit.lat, visit.lng) == (35.585, 104.605)


@pytest.mark.parametrize("target", ["house", "shop"])
def test_a_place_visit_is_to_a_house_or_a_unit(worker, records, tree, target):
    wanted = VisitTarget(house=records["house"]) if target == "house" else VisitTarget(establishment=records["shop"])
    visit = record_visit(actor=worker, kind=Visit.Kind.PLACE, target=wanted, notes="检查消防通道")
    assert visit.area == tree["grid"] and (visit.house or visit.establishment) == records[target]


def test_a_place_visit_may_name_an_unregistered_place_in_a_given_grid(worker, tree):
    visit = record_visit(actor=worker, kind=Visit.Kind.PLACE, target=VisitTarget(place="村口小卖部"),
                         grid=tree["grid"], notes="新开的小卖部，尚未登记")
    assert (visit.place, visit.area) == ("村口小卖部", tree["grid"])
    with pytest.raises(DomainError) as refused:  # a named place needs the grid it is in
        record_visit(actor=worker, kind=Visit.Kind.PLACE, target=VisitTarget(place="村口小卖部"), notes="x")
    assert refused.value.field == "target"


def test_a_cadre_visit_counts_for_the_village(tree, make_staff):
    cadre = make_staff("乡镇干部", tree["town"], Role.DISPATCHER)
    visit = record_visit(actor=cadre, kind=Visit.Kind.CADRE, target=VisitTarget(village=tree["village"],
                                                                                 place="村两委班子"),
                         notes="听取村里春耕准备情况")
    assert (visit.kind, visit.area, visit.place) == ("cadre", tree["village"], "村两委班子")


@pytest.mark.parametrize("kind, target", [
    ("household", VisitTarget()),                      # nothing chosen
    ("household", VisitTarget(place="张三家")),          # a household visit is to a registered household
    ("key_person", VisitTarget()),
    ("cadre", VisitTarget(place="村委会")),              # no village
])
def test_a_visit_without_its_target_is_refused(worker, kind, target):
    with pytest.raises(DomainError) as refused:
        record_visit(actor=worker, kind=kind, target=target, notes="走访")
    assert refused.value.field == "target"
    assert not Visit.objects.exists()


def test_two_records_at_once_or_an_unknown_kind_are_refused(worker, records):
    with pytest.raises(DomainError) as refused:
        record_visit(actor=worker, kind=Visit.Kind.PLACE, notes="x",
                     target=VisitTarget(house=records["house"], establishment=records["shop"]))
    assert refused.value.field == "target"
    with pytest.raises(DomainError) as refused:
        record_visit(actor=worker, kind="phone_call", target=VisitTarget(household=records["household"]), notes="x")
    assert refused.value.field == "kind"
    assert not Visit.objects.exists()


# Scope ----------------------------------------------------------------------------------------------------------

def test_a_household_of_another_grid_is_not_found(worker, records):
    with pytest.raises(NotFound):
        household_visit(worker, records["other_household"])
    assert not Visit.objects.exists()


@pytest.mark.parametrize("role, unit", [(Role.DEPT_HANDLER, "justice"), (Role.GRID_PART_TIME, "grid"),
                                        (Role.DISPATCHER, "town")])
def test_posts_that_do_not_edit_the_grids_records_cannot_record_visits_there(tree, records, make_staff, role,
                                                                                 unit):
    with pytest.raises(NotFound):
        household_visit(make_staff("someone", tree[unit], role), records["household"])


def test_key_person_visits_need_a_key_person_post(tree, records, make_staff):
    station = make_staff("工作站", tree["village"], Role.VILLAGE_STATION)  # edits records, not key persons
    with pytest.raises(NotFound):
        record_visit(actor=station, kind=Visit.Kind.KEY_PERSON, target=VisitTarget(key_person=records["key_person"]),
                     notes="x")


def test_cadre_visits_only_to_villages_in_the_cadres_scope(tree, make_staff, worker):
    other = make_staff("城关干部", tree["other_town"], Role.DISPATCHER)
    with pytest.raises(NotFound):
        record_visit(actor=other, kind=Visit.Kind.CADRE, target=VisitTarget(village=tree["village"]), notes="x")
    with pytest.raises(NotFound):  # a grid worker's scope is the grid, not the village
        record_visit(actor=worker, kind=Visit.Kind.CADRE, target=VisitTarget(village=tree["village"]), notes="x")
    cadre = make_staff("乡镇干部", tree["town"], Role.DISPATCHER)
    with pytest.raises(NotFound):  # a grid is not a village
        record_visit(actor=cadre, kind=Visit.Kind.CADRE, target=VisitTarget(village=tree["grid"]), notes="x")
    assert not Visit.objects.exists()


# Notes and time -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("notes", ["", "   \n  ", None])
def test_notes_are_required(worker, records, notes):
    with pytest.raises(DomainError) as refused:
        household_visit(worker, records["household"], notes=notes)
    assert refused.value.field == "notes" and str(refused.value.message) == "请填写走访情况。"
    assert not Visit.objects.exists()


def test_notes_are_trimmed_and_limited(worker, records):
    assert household_visit(worker, records["household"], notes="  家中一切正常  ").notes == "家中一切正常"
    with pytest.raises(DomainError) as refused:
        household_visit(worker, records["household"], notes="字" * 2001)
    assert refused.value.field == "notes"


def test_a_visit_may_be_written_up_to_a_week_later(worker, records):
    week_ago = NOW - datetime.timedelta(days=BACKDATE_DAYS)
    assert household_visit(worker, records["household"], visited_at=week_ago).visited_at == week_ago
    with pytest.raises(DomainError) as refused:
        household_visit(worker, records["household"], visited_at=week_ago - datetime.timedelta(minutes=1))
    assert refused.value.field == "visited_at"
    assert Visit.objects.count() == 1


def test_a_visit_cannot_be_dated_in_the_future_beyond_a_clock_difference(worker, records):
    soon = NOW + datetime.timedelta(minutes=4)
    assert household_visit(worker, records["household"], visited_at=soon).visited_at == soon
    with pytest.raises(DomainError) as refused:
        household_visit(worker, records["household"], visited_at=NOW + datetime.timedelta(minutes=6))
    assert refused.value.field == "visited_at"


# Photos ---------------------------------------------------------------------------------------------------------

def test_photos_are_stored_without_exif(worker, records, media):
    visit = household_visit(worker, records["household"], photos=[phone_photo(), phone_photo("IMG_0002.JPG")])
    photos = list(VisitPhoto.objects.filter(visit=visit))
    assert len(photos) == 2
    for photo in photos:
        assert photo.content_type == "image/jpeg" and len(photo.sha256) == 64
        with default_storage.open(photo.file.name, "rb") as stored:
            raw = stored.read()
        assert b"Exif" not in raw and b"PhoneMaker" not in raw
        assert len(Image.open(io.BytesIO(raw)).getexif()) == 0
        assert default_storage.exists(photo.thumbnail.name)
        assert photo.file.name.startswith("visits/2026/03/")


def test_a_refused_visit_leaves_no_files(worker, records, media):
    with pytest.raises(DomainError):
        household_visit(worker, records["household"], notes="", photos=[phone_photo()])
    with pytest.raises(DomainError) as refused:
        household_visit(worker, records["household"], photos=[phone_photo() for _ in range(MAX_PHOTOS + 1)])
    assert refused.value.field == "photos"
    with pytest.raises(DomainError) as refused:
        bad = phone_photo()
        bad.file = io.BytesIO(b"<html>not a photo</html>")
        household_visit(worker, records["household"], photos=[phone_photo(), bad])
    assert refused.value.field == "photos"
    assert not Visit.objects.exists() and not VisitPhoto.objects.exists()
    assert not [path for path in media.rglob("*") if path.is_file()]


# Retries --------------------------------------------------------------------------------------------------------

def test_a_form_sent_twice_records_one_visit(worker, records, media):
    first = household_visit(worker, records["household"], client_key="key-1", photos=[phone_photo()])
    again = household_visit(worker, records["household"], client_key="key-1", photos=[phone_photo()])
    assert again.pk == first.pk
    assert Visit.objects.count() == 1 and VisitPhoto.objects.count() == 1
    assert sum(1 for path in media.rglob("*") if path.is_file()) == 2  # the photo and its thumbnail, once
    assert household_visit(worker, records["household"], client_key="key-2").pk != first.pk


# Key persons ----------------------------------------------------------------------------------------------------

def test_a_key_person_visit_moves_the_plan_on(worker, records):
    person = records["key_person"]
    record_visit(actor=worker, kind=Visit.Kind.KEY_PERSON, target=VisitTarget(key_person=person),
                 notes="本人在家，情绪稳定")
    person.refresh_from_db()
    assert person.last_visit_at == NOW
    assert person.next_visit_due == timezone.localdate(NOW) + datetime.timedelta(days=7)  # high risk: weekly
    # A visit written up later but made before the last one changes nothing.
    record_visit(actor=worker, kind=Visit.Kind.KEY_PERSON, target=VisitTarget(key_person=person), notes="补记",
                 visited_at=NOW - datetime.timedelta(days=3))
    person.refresh_from_db()
    assert person.last_visit_at == NOW and person.next_visit_due == datetime.date(2026, 3, 17)


def test_a_household_visit_does_not_touch_any_plan(worker, records):
    household_visit(worker, records["household"])
    assert KeyPerson.objects.get().last_visit_at is None


# Patrols --------------------------------------------------------------------------------------------------------

def test_a_visit_on_the_workers_own_open_patrol_is_linked_to_it(worker, records, tree):
    patrol = Patrol.objects.create(worker=worker, grid=tree["grid"], started_at=NOW - datetime.timedelta(hours=1))
    assert household_visit(worker, records["household"], patrol=patrol).patrol == patrol


def test_a_visit_on_someone_elses_or_an_ended_patrol_is_refused(worker, records, tree, make_staff):
    colleague = make_staff("李网格", tree["grid"], Role.GRID_WORKER)
    theirs = Patrol.objects.create(worker=colleague, grid=tree["grid"], started_at=NOW - datetime.timedelta(hours=1))
    ended = Patrol.objects.create(worker=worker, grid=tree["grid"], started_at=NOW - datetime.timedelta(hours=3),
                                  ended_at=NOW - datetime.timedelta(hours=2))
    for patrol in (theirs, ended):
        with pytest.raises(DomainError) as refused:
            household_visit(worker, records["household"], patrol=patrol)
        assert refused.value.field == "patrol"
    assert not Visit.objects.exists()
