"""Visit photos under /media/visits/ are served to those who see the visit; a key-person visit's photos only to
posts with key-person access (or the visitor); everyone else gets 404, as for a name that does not exist."""

import pytest

from gongzhi.accounts.models import Role
from gongzhi.registry.models import Visit, VisitPhoto
from gongzhi.registry.services.visits import VisitTarget, record_visit
from gongzhi.testing.fieldwork import phone_photo

pytestmark = pytest.mark.django_db


def _photo_urls(visit):
    photo = VisitPhoto.objects.get(visit=visit)
    return [photo.file.url, photo.thumbnail.url]


def _status(client, user, url):
    client.force_login(user)
    return client.get(url).status_code


def test_a_household_visit_photo_is_served_in_scope_only(client, worker, records, tree, make_staff, media):
    visit = record_visit(actor=worker, kind=Visit.Kind.HOUSEHOLD, target=VisitTarget(household=records["household"]),
                         notes="入户走访", photos=[phone_photo()])
    dispatcher = make_staff("乡镇调度", tree["town"], Role.DISPATCHER)
    stranger = make_staff("邻格网格员", tree["grid2"], Role.GRID_WORKER)
    for url in _photo_urls(visit):
        assert _status(client, worker, url) == 200
        assert _status(client, dispatcher, url) == 200
        assert _status(client, stranger, url) == 404


def test_a_key_person_visit_is_hidden_from_posts_without_key_person_access(client, worker, records, tree,
                                                                          make_staff, media):
    visit = record_visit(actor=worker, kind=Visit.Kind.KEY_PERSON,
                         target=VisitTarget(key_person=records["key_person"]), notes="面谈，情绪稳定",
                         photos=[phone_photo()])
    station = make_staff("村工作站", tree["village"], Role.VILLAGE_STATION)
    supervisor = make_staff("督查员", tree["county"], Role.SUPERVISOR)
    for url in _photo_urls(visit):
        assert _status(client, worker, url) == 200
        assert _status(client, supervisor, url) == 200
        assert _status(client, station, url) == 404
