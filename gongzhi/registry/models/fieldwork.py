"""Field work (巡查走访): a grid worker's patrols with the track the phone recorded, and visits (走访) to
households, places and key persons, on a patrol or on their own; cadres' village visits (干部进村走访) are
visits too. The daily work log (工作手册) is read from these and from cases, not stored."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gongzhi.org.models import OrgUnit


class Patrol(models.Model):
    """One patrol (巡查) of a grid, from start to end. `client_key` makes a retried start create one patrol."""

    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="patrols",
                               verbose_name=_("网格员"))
    grid = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("网格"))
    started_at = models.DateTimeField(_("开始时间"))
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    # Kept as points arrive, so lists need not read the track.
    distance_m = models.FloatField(_("里程(米)"), default=0)
    point_count = models.PositiveIntegerField(_("轨迹点数"), default=0)
    note = models.TextField(_("巡查情况"), blank=True, default="")
    client_key = models.CharField(max_length=64, unique=True, null=True, blank=True)

    class Meta:
        verbose_name = _("巡查")
        verbose_name_plural = verbose_name
        indexes = [models.Index(fields=["worker", "started_at"], name="patrol_worker_started")]
        constraints = [models.UniqueConstraint(fields=["worker"], condition=models.Q(ended_at__isnull=True),
                                               name="patrol_one_open_per_worker")]

    def __str__(self) -> str:
        return f"{self.worker_id} {self.started_at:%Y-%m-%d %H:%M}"


class TrackPoint(models.Model):
    """A position the phone sent during a patrol. A point resent after a lost answer is the same (patrol, at)."""

    patrol = models.ForeignKey(Patrol, on_delete=models.CASCADE, related_name="points")
    at = models.DateTimeField()
    lat = models.FloatField()
    lng = models.FloatField()
    accuracy_m = models.FloatField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["patrol", "at"], name="track_point_once")]

    def __str__(self) -> str:
        return f"{self.patrol_id} {self.at:%H:%M:%S}"


class Visit(models.Model):
    """A visit (走访): to a household, a house, a unit or a key person, or a cadre's visit to a village. `area` is
    the unit the visit counts for (the grid, or the village of a cadre visit), which decides who sees it."""

    class Kind(models.TextChoices):
        HOUSEHOLD = "household", _("入户走访")
        PLACE = "place", _("场所走访")
        KEY_PERSON = "key_person", _("重点人员走访")
        CADRE = "cadre", _("干部进村走访")

    kind = models.CharField(_("走访类型"), max_length=12, choices=Kind.choices)
    visitor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="visits",
                                verbose_name=_("走访人"))
    area = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("网格/村"))
    visited_at = models.DateTimeField(_("走访时间"))
    patrol = models.ForeignKey(Patrol, on_delete=models.SET_NULL, null=True, blank=True, related_name="visits",
                               verbose_name=_("巡查"))
    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="visits", verbose_name=_("户"))
    house = models.ForeignKey("registry.House", on_delete=models.PROTECT, null=True, blank=True,
                              related_name="visits", verbose_name=_("房屋"))
    establishment = models.ForeignKey("registry.Establishment", on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="visits", verbose_name=_("单位"))
    key_person = models.ForeignKey("registry.KeyPerson", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="visits", verbose_name=_("重点人员"))
    # Whom a cadre met, or where a place visit went when it is not a registered unit.
    place = models.CharField(_("走访对象/地点"), max_length=100, blank=True, default="")
    notes = models.TextField(_("走访情况"))
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    client_key = models.CharField(max_length=64, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("走访")
        verbose_name_plural = verbose_name
        indexes = [models.Index(fields=["visitor", "visited_at"], name="visit_visitor_at"),
                   models.Index(fields=["key_person", "visited_at"], name="visit_key_person_at")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.visited_at:%Y-%m-%d}"


class VisitPhoto(models.Model):
    """A photo of a visit, processed by `core.uploads` (re-encoded without EXIF)."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(_("文件"), upload_to="visits/%Y/%m/")
    thumbnail = models.FileField(_("缩略图"), upload_to="visits/%Y/%m/thumbs/", blank=True, default="")
    content_type = models.CharField(max_length=50)
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("走访照片")
        verbose_name_plural = verbose_name
        indexes = [models.Index(fields=["file"], name="visit_photo_file")]

    def __str__(self) -> str:
        return str(self.file)
