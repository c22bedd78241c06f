"""Visits (走访): the one way every portal records a visit to a household, a house, a unit or a key person, or a
cadre's visit to a village, on a patrol or on its own, with notes and photos."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts.models import User
from gongzhi.core import uploads
from gongzhi.core.errors import DomainError, NotFound
from gongzhi.core.text import clean_text
from gongzhi.org.models import Level, OrgUnit
from gongzhi.registry import policies
from gongzhi.registry.models import Establishment, House, Household, KeyPerson, Patrol, Visit, VisitPhoto
from gongzhi.registry.services import key_persons

MAX_PHOTOS = 6
NOTES_MAX = 2000
# A visit written up later the same week is normal; one dated in the future, or months back, is a typo.
BACKDATE_DAYS = 7


@dataclass(frozen=True)
class VisitTarget:
    """What was visited: exactly one record for a household, place or key-person visit (a place visit may
    instead name the place in `place`), the village for a cadre visit."""

    household: Household | None = None
    house: House | None = None
    establishment: Establishment | None = None
    key_person: KeyPerson | None = None
    village: OrgUnit | None = None
    place: str = ""


def _area(actor: User, kind: str, target: VisitTarget, grid: OrgUnit | None) -> OrgUnit:
    """The unit the visit counts for, checked against what `actor` may do there (NotFound otherwise)."""
    if kind == Visit.Kind.CADRE:
        village = target.village
        if village is None or village.level != Level.VILLAGE or not policies.can_record_cadre_visit(actor, village):
            raise NotFound()
        return village
    record = target.key_person or target.household or target.house or target.establishment
    area = record.grid if record is not None else grid
    if area is None:
        raise DomainError(_("请选择走访对象。"), field="target")
    allowed = (policies.can_view_key_persons(actor, area) if kind == Visit.Kind.KEY_PERSON
               else policies.can_record_visit(actor, area))
    if not allowed:
        raise NotFound()
    return area


def _check_target(kind: str, target: VisitTarget) -> None:
    records = [r for r in (target.household, target.house, target.establishment, target.key_person) if r]
    wanted: dict[str, object] = {
        Visit.Kind.HOUSEHOLD: target.household,
        Visit.Kind.KEY_PERSON: target.key_person,
        Visit.Kind.PLACE: target.house or target.establishment or (target.place or None),
        Visit.Kind.CADRE: target.village,
    }
    if kind not in wanted:
        raise DomainError(_("走访类型无效。"), field="kind")
    if wanted[kind] is None or len(records) > 1:
        raise DomainError(_("请选择走访对象。"), field="target")
    if kind == Visit.Kind.KEY_PERSON and target.key_person is not None and target.key_person.ended_on is not None:
        raise DomainError(_("该重点人员已解除列管，不再登记重点人员走访。"), field="target")


def _visited_at(value: datetime.datetime | None) -> datetime.datetime:
    now = timezone.now()
    if value is None:
        return now
    if value > now + datetime.timedelta(minutes=5):
        raise DomainError(_("走访时间不能晚于现在。"), field="visited_at")
    if value < now - datetime.timedelta(days=BACKDATE_DAYS):
        raise DomainError(_("只能补记%(n)d天内的走访。") % {"n": BACKDATE_DAYS}, field="visited_at")
    return value


def record_visit(*, actor: User, kind: str, target: VisitTarget, notes: str, grid: OrgUnit | None = None,
                 visited_at: datetime.datetime | None = None, patrol: Patrol | None = None,
                 lat: float | None = None, lng: float | None = None, photos: Sequence[UploadedFile] = (),
                 client_key: str | None = None) -> Visit:
    """登记走访. A key-person visit moves the person's plan on (`key_persons.advance_plan`). A visit on a patrol
    must be on the visitor's own open patrol. A form sent twice with the same `client_key` records one visit
    and answers both with it. Refusals raise DomainError (with `field`) or NotFound and write nothing."""
    if client_key and (done := Visit.objects.filter(client_key=client_key, visitor=actor).first()) is not None:
        return done
    _check_target(kind, target)
    area = _area(actor, kind, target, grid)
    text = clean_text(notes, field="notes", max_length=NOTES_MAX, required_message=_("请填写走访情况。"))
    when = _visited_at(visited_at)
    if patrol is not None and (patrol.worker_id != actor.pk or patrol.ended_at is not None):
        raise DomainError(_("这次巡查已经结束，走访将单独登记。"), field="patrol")
    stored = uploads.store_photos(list(photos), folder="visits", limit=MAX_PHOTOS)
    try:
        return _save(actor=actor, kind=kind, target=target, area=area, notes=text, visited_at=when, patrol=patrol,
                     lat=lat, lng=lng, stored=stored, client_key=client_key or None)
    except IntegrityError:
        uploads.delete_stored(stored)
        if client_key and (done := Visit.objects.filter(client_key=client_key, visitor=actor).first()) is not None:
            return done
        raise
    except BaseException:
        uploads.delete_stored(stored)
        raise


@transaction.atomic
def _save(*, actor: User, kind: str, target: VisitTarget, area: OrgUnit, notes: str, visited_at: datetime.datetime,
          patrol: Patrol | None, lat: float | None, lng: float | None, stored: list[uploads.StoredPhoto],
          client_key: str | None) -> Visit:
    visit = Visit.objects.create(
        kind=kind, visitor=actor, area=area, visited_at=visited_at, patrol=patrol, household=target.household,
        house=target.house, establishment=target.establishment, key_person=target.key_person,
        place=target.place[:100], notes=notes, lat=lat, lng=lng, client_key=client_key)
    VisitPhoto.objects.bulk_create(VisitPhoto(visit=visit, file=p.file, thumbnail=p.thumbnail,
                                              content_type=p.content_type, sha256=p.sha256) for p in stored)
    if target.key_person is not None:
        key_persons.advance_plan(KeyPerson.objects.select_for_update().get(pk=target.key_person.pk), visited_at)
    return visit
