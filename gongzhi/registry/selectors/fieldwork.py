"""Reads of field work (巡查走访): patrols with their tracks, visits, what a worker may patrol or visit, and the
patrol and visit figures of the work log (工作手册) and of the command centre's monthly counts, always for what
the viewer may see (`policies.fieldwork_q`; one's own field work is always one's own). Out of scope: NotFound.

The work log and the monthly counts also count cases, which this app may not read (cases lie above it): they
are put together in `gongzhi.analytics.selectors.fieldwork` from the parts here."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts import policies as account_policies
from gongzhi.accounts.models import Membership, User
from gongzhi.core import files
from gongzhi.core.errors import DomainError, NotFound
from gongzhi.org.models import Level, OrgUnit, UnitKind
from gongzhi.registry import policies, tracks
from gongzhi.registry.models import (
    Establishment,
    House,
    Household,
    Patrol,
    Resident,
    TrackPoint,
    Visit,
    VisitPhoto,
)
from gongzhi.registry.services.visits import VisitTarget

# A track is drawn through at most this many points (evenly thinned): enough for a day's walk at 15 s a point.
TRACK_POINTS_SHOWN = 2000
VISIT_TARGETS_SHOWN = 20


# Scope ----------------------------------------------------------------------------------------------------------

def patrols_visible_to(user: User) -> QuerySet[Patrol]:
    return Patrol.objects.filter(policies.fieldwork_q(user, "grid__path") | Q(worker_id=user.pk))


def visits_visible_to(user: User) -> QuerySet[Visit]:
    """Visits in scope (a key-person visit only where the user may see key persons), and the user's own."""
    in_scope = policies.fieldwork_q(user, "area__path") & (
        ~Q(kind=Visit.Kind.KEY_PERSON) | policies.key_persons_q(user, "area__path"))
    return Visit.objects.filter(in_scope | Q(visitor_id=user.pk))


def stored_visit_file(user: User | AnonymousUser, name: str) -> files.ServedFile | None:
    """A visit photo (or its thumbnail) stored under `name`, for those who may see the visit; None for a name
    nobody owns and for one they may not see alike."""
    if not user.is_authenticated or not name.startswith("visits/"):
        return None
    assert isinstance(user, User)
    field_name = "thumbnail" if "/thumbs/" in name else "file"
    photo = (VisitPhoto.objects.filter(**{field_name: name}, visit__in=visits_visible_to(user))
             .only("file", "thumbnail", "content_type").first())
    if photo is None:
        return None
    return files.served(photo.thumbnail if field_name == "thumbnail" else photo.file, content_type=photo.content_type)


def _active_areas(level: str) -> QuerySet[OrgUnit]:
    return OrgUnit.objects.filter(level=level, kind=UnitKind.AREA, is_active=True)


def patrol_grids(user: User) -> list[OrgUnit]:
    """The grids where `user` may start a patrol (`policies.can_patrol`)."""
    return list(_active_areas(Level.GRID).filter(account_policies.paths_q(policies.patrol_paths(user)))
                .select_related("parent").order_by("path"))


def visit_grids(user: User) -> list[OrgUnit]:
    """The grids where `user` may record a household or place visit (`policies.can_record_visit`)."""
    return list(_active_areas(Level.GRID).filter(policies.editable_q(user, "path"))
                .select_related("parent").order_by("path"))


def visit_grid(user: User, grid_id: int) -> OrgUnit:
    grid = next((g for g in visit_grids(user) if g.pk == grid_id), None)
    if grid is None:
        raise NotFound()
    return grid


def cadre_villages(user: User) -> list[OrgUnit]:
    """The villages where `user` may record a cadre visit (`policies.can_record_cadre_visit`)."""
    if not account_policies.is_staff_member(user):
        return []
    return list(account_policies.filter_to_scope(_active_areas(Level.VILLAGE), user)
                .select_related("parent").order_by("path"))


def may_record_cadre_visit(user: User) -> bool:
    return account_policies.is_staff_member(user) and account_policies.filter_to_scope(
        _active_areas(Level.VILLAGE), user).exists()


def visible_worker(user: User, worker_id: int) -> User:
    """A staff member whose field work `user` may look at: themselves, or someone holding a post in their scope."""
    if worker_id == user.pk:
        return user
    worker = User.objects.filter(pk=worker_id, kind=User.Kind.STAFF).first()
    if worker is None or account_policies.place_in_scope(user, worker) is None:
        raise NotFound()
    return worker


# Patrols --------------------------------------------------------------------------------------------------------

def open_patrol(user: User) -> Patrol | None:
    """The user's own patrol under way, if any."""
    return Patrol.objects.select_related("grid__parent").filter(worker_id=user.pk, ended_at__isnull=True).first()


def own_open_patrol(user: User, patrol_id: Any) -> Patrol | None:
    """The user's own open patrol of this id (as a report form names it), else None: a stale or someone else's
    id is ignored, not an error."""
    text = str(patrol_id or "")
    if not text.isdigit():
        return None
    return Patrol.objects.filter(pk=int(text), worker_id=user.pk, ended_at__isnull=True).first()


def own_patrol(user: User, patrol_id: int) -> Patrol:
    """One of the user's own patrols (what they may send points to or end), else NotFound."""
    patrol = Patrol.objects.select_related("grid__parent").filter(pk=patrol_id, worker_id=user.pk).first()
    if patrol is None:
        raise NotFound()
    return patrol


def patrol_for(user: User, patrol_id: int) -> Patrol:
    patrol = patrols_visible_to(user).select_related("grid__parent", "worker").filter(pk=patrol_id).first()
    if patrol is None:
        raise NotFound()
    return patrol


def recent_patrols(user: User, *, limit: int = 10) -> list[Patrol]:
    return list(Patrol.objects.filter(worker_id=user.pk).select_related("grid").order_by("-started_at")[:limit])


def patrol_visits(user: User, patrol: Patrol) -> list[Visit]:
    """The visits recorded on a patrol the user may see."""
    return list(visits_visible_to(user).filter(patrol=patrol)
                .select_related("household", "house__address", "establishment", "key_person__resident")
                .order_by("visited_at"))


def patrol_track(user: User, patrol_id: int) -> dict[str, Any]:
    """The patrol's track as a GeoJSON Feature (a LineString through its good points, `tracks.good_fixes`,
    thinned to TRACK_POINTS_SHOWN; null geometry with fewer than two) with the patrol's figures."""
    patrol = patrol_for(user, patrol_id)
    fixes = [tracks.Fix(*row) for row in TrackPoint.objects.filter(patrol=patrol).order_by("at")
             .values_list("at", "lat", "lng", "accuracy_m")]
    shown = tracks.thinned(tracks.good_fixes(fixes), TRACK_POINTS_SHOWN)
    geometry = ({"type": "LineString", "coordinates": [[round(f.lng, 6), round(f.lat, 6)] for f in shown]}
                if len(shown) >= 2 else None)
    return {"type": "Feature", "geometry": geometry, "properties": {
        "id": patrol.pk, "worker": patrol.worker.real_name or patrol.worker.username, "grid": patrol.grid.name,
        "started_at": timezone.localtime(patrol.started_at).isoformat(),
        "ended_at": timezone.localtime(patrol.ended_at).isoformat() if patrol.ended_at else None,
        "distance_m": round(patrol.distance_m), "point_count": patrol.point_count, "points_shown": len(shown)}}


def duration(patrol: Patrol, now: datetime.datetime | None = None) -> datetime.timedelta:
    """How long the patrol lasted (so far, while open)."""
    return (patrol.ended_at or now or timezone.now()) - patrol.started_at


# Visits ---------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TargetChoice:
    value: str  # "household:12", "house:3", "establishment:7"
    label: str
    hint: str = ""


def visit_targets(user: User, grid: OrgUnit, kind: str, query: str = "") -> list[TargetChoice]:
    """What a household or place visit in `grid` may be to, matching `query` (户号, address, head's name; a
    place's address or a unit's name), at most VISIT_TARGETS_SHOWN. NotFound unless `user` may record visits
    in the grid."""
    if not policies.can_record_visit(user, grid):
        raise NotFound()
    query = query.strip()[:50]
    if kind == Visit.Kind.HOUSEHOLD:
        heads = Resident.objects.filter(household__grid=grid, relation=Resident.Relation.HEAD)
        households = Household.objects.filter(grid=grid)
        if query:
            households = households.filter(Q(number__icontains=query) | Q(address__icontains=query)
                                           | Q(pk__in=heads.filter(name__icontains=query).values("household_id")))
        found = list(households.order_by("number")[:VISIT_TARGETS_SHOWN])
        names = dict(heads.filter(household__in=found).values_list("household_id", "name"))
        return [TargetChoice(f"household:{h.pk}", f"{h.number} {names.get(h.pk, '')}".strip(), h.address)
                for h in found]
    if kind == Visit.Kind.PLACE:
        units = Establishment.objects.filter(grid=grid).exclude(status=Establishment.Status.DEREGISTERED)
        houses = House.objects.filter(grid=grid).select_related("address")
        if query:
            units = units.filter(Q(name__icontains=query) | Q(address_text__icontains=query))
            houses = houses.filter(address__label__icontains=query)
        half = VISIT_TARGETS_SHOWN // 2
        return ([TargetChoice(f"establishment:{e.pk}", e.name, e.get_kind_display())
                 for e in units.order_by("name")[:half]]
                + [TargetChoice(f"house:{h.pk}", h.address.label, h.get_use_display())
                   for h in houses.order_by("address__label")[:half]])
    raise DomainError(_("走访类型无效。"), field="kind")


def visit_target(user: User, grid: OrgUnit, value: str, place: str = "") -> VisitTarget:
    """The record a visit form names ("household:12" …) within `grid`, or a named place when none is chosen
    (empty: `services.visits.record_visit` asks for one). NotFound for a record outside the grid."""
    if not policies.can_record_visit(user, grid):
        raise NotFound()
    kind, _sep, pk = (value or "").partition(":")
    if not value:
        return VisitTarget(place=place.strip())
    if kind not in ("household", "house", "establishment") or not pk.isdigit():
        raise DomainError(_("请选择走访对象。"), field="target")
    missing = NotFound(_("未找到该走访对象，请重新搜索。"), field="target")
    if kind == "household":
        if (household := Household.objects.filter(pk=int(pk), grid=grid).first()) is None:
            raise missing
        return VisitTarget(household=household)
    if kind == "house":
        if (house := House.objects.select_related("address").filter(pk=int(pk), grid=grid).first()) is None:
            raise missing
        return VisitTarget(house=house)
    if (unit := Establishment.objects.filter(pk=int(pk), grid=grid).first()) is None:
        raise missing
    return VisitTarget(establishment=unit)


def visit_label(visit: Visit) -> str:
    """What a visit was to, in a few words (the related records selected by the caller)."""
    if visit.household is not None:
        return f"{visit.household.number} {visit.household.address}"
    if visit.establishment is not None:
        return visit.establishment.name
    if visit.house is not None:
        return visit.house.address.label
    if visit.key_person is not None:
        return _("重点人员")  # the person's name only on the key-person pages, which log who looked
    return visit.place


# The work log (工作手册) and the monthly figures ---------------------------------------------------------------

def local_day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    return start, timezone.make_aware(datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min))


def month_bounds(month: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    first = month.replace(day=1)
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    return local_day_bounds(first)[0], local_day_bounds(following)[0]


def worker_patrols(user: User, worker: User, start: datetime.datetime, end: datetime.datetime) -> list[Patrol]:
    """The worker's patrols started in [start, end) that `user` may see, oldest first."""
    return list(patrols_visible_to(user).filter(worker=worker, started_at__gte=start, started_at__lt=end)
                .select_related("grid").annotate(visit_count=Count("visits")).order_by("started_at"))


def worker_visits(user: User, worker: User, start: datetime.datetime, end: datetime.datetime) -> list[Visit]:
    return list(visits_visible_to(user).filter(visitor=worker, visited_at__gte=start, visited_at__lt=end)
                .select_related("area", "household", "house__address", "establishment")
                .annotate(photo_count=Count("photos")).order_by("visited_at"))


@dataclass
class DayFigures:
    """A worker's field work on one day (or a month's total)."""

    patrols: int = 0
    patrol_seconds: float = 0
    distance_m: float = 0
    visits: int = 0
    cases: int = 0  # reported
    steps: int = 0  # case steps taken

    @property
    def patrol_hours(self) -> float:
        return round(self.patrol_seconds / 3600, 1)

    @property
    def km(self) -> float:
        return round(self.distance_m / 1000, 1)

    def add(self, other: DayFigures) -> None:
        for name in ("patrols", "patrol_seconds", "distance_m", "visits", "cases", "steps"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


_ENDED_DURATION = ExpressionWrapper(F("ended_at") - F("started_at"), output_field=DurationField())


def _seconds(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    return float(value) / 1_000_000  # a backend handing back microseconds


def worker_days(user: User, worker: User, start: datetime.datetime,
                end: datetime.datetime) -> dict[datetime.date, DayFigures]:
    """Patrols (ended ones count their time) and visits per local day in [start, end): two grouped queries."""
    days: dict[datetime.date, DayFigures] = defaultdict(DayFigures)
    tz = timezone.get_current_timezone()
    patrols = (patrols_visible_to(user).filter(worker=worker, started_at__gte=start, started_at__lt=end)
               .annotate(day=TruncDate("started_at", tzinfo=tz)).values("day")
               .annotate(n=Count("id"), metres=Sum("distance_m"),
                         time=Sum(_ENDED_DURATION, filter=Q(ended_at__isnull=False))))
    for row in patrols:
        figures = days[row["day"]]
        figures.patrols, figures.distance_m = row["n"], row["metres"] or 0
        figures.patrol_seconds = _seconds(row["time"])
    visits = (visits_visible_to(user).filter(visitor=worker, visited_at__gte=start, visited_at__lt=end)
              .annotate(day=TruncDate("visited_at", tzinfo=tz)).values("day").annotate(n=Count("id")))
    for row in visits:
        days[row["day"]].visits = row["n"]
    return days


@dataclass
class WorkerFigures:
    """One worker's month in an area, for the command centre's table."""

    worker: User
    posts: list[str] = field(default_factory=list)
    patrols: int = 0
    patrol_seconds: float = 0
    distance_m: float = 0
    visits: dict[str, int] = field(default_factory=dict)
    cases: int = 0  # reported on a patrol

    @property
    def patrol_hours(self) -> float:
        return round(self.patrol_seconds / 3600, 1)

    @property
    def km(self) -> float:
        return round(self.distance_m / 1000, 1)

    @property
    def visit_total(self) -> int:
        return sum(self.visits.values())

    def visits_of(self, kind: str) -> int:
        return self.visits.get(kind, 0)


def area_paths(user: User, area_id: int | None) -> tuple[tuple[str, ...], OrgUnit | None]:
    """The paths the monthly figures cover: an area unit the user may see (NotFound otherwise), or the user's
    whole scope."""
    if area_id is None:
        return account_policies.scope_paths(user), None
    area = account_policies.units_visible_to(user).filter(pk=area_id, kind=UnitKind.AREA).first()
    if area is None:
        raise NotFound()
    return (area.path,), area


def area_choices(user: User) -> list[OrgUnit]:
    """The areas above grid level in the user's scope, to choose the monthly figures' area from."""
    return list(account_policies.units_visible_to(user).filter(kind=UnitKind.AREA, is_active=True)
                .exclude(level=Level.GRID).order_by("path"))


def patrols_in(user: User, paths: tuple[str, ...], start: datetime.datetime,
               end: datetime.datetime) -> QuerySet[Patrol]:
    """Patrols started in [start, end) in grids under `paths`, as far as `user` may see them."""
    return Patrol.objects.filter(account_policies.paths_q(paths, "grid__path"),
                                 policies.fieldwork_q(user, "grid__path"), started_at__gte=start, started_at__lt=end)


def worker_month_figures(user: User, paths: tuple[str, ...], start: datetime.datetime,
                         end: datetime.datetime) -> dict[int, WorkerFigures]:
    """Per worker: the patrol and visit figures in [start, end) under `paths` (grouped queries, one per table),
    for everyone holding a patrol post there and anyone else with field work there. Cases: the caller's."""
    posts = (Membership.objects.active().filter(account_policies.paths_q(paths, "unit__path"),
                                                account_policies.scope_q(user, "unit__path"),
                                                role__in=policies.PATROL_ROLES)
             .select_related("user", "unit").order_by("unit__path", "pk"))
    rows: dict[int, WorkerFigures] = {}
    for post in posts:
        row = rows.setdefault(post.user_id, WorkerFigures(worker=post.user))
        row.posts.append(post.unit.name)
    patrols = (patrols_in(user, paths, start, end).values("worker")
               .annotate(n=Count("id"), metres=Sum("distance_m"),
                         time=Sum(_ENDED_DURATION, filter=Q(ended_at__isnull=False))))
    visits = (Visit.objects.filter(account_policies.paths_q(paths, "area__path"),
                                   policies.fieldwork_q(user, "area__path"), visited_at__gte=start, visited_at__lt=end)
              .values("visitor", "kind").annotate(n=Count("id")))
    patrol_rows, visit_rows = list(patrols), list(visits)
    missing = ({r["worker"] for r in patrol_rows} | {r["visitor"] for r in visit_rows}) - rows.keys()
    for worker in User.objects.filter(pk__in=missing):
        rows[worker.pk] = WorkerFigures(worker=worker)
    for r in patrol_rows:
        row = rows[r["worker"]]
        row.patrols, row.distance_m, row.patrol_seconds = r["n"], r["metres"] or 0, _seconds(r["time"])
    for r in visit_rows:
        rows[r["visitor"]].visits[r["kind"]] = r["n"]
    return rows
