"""KPI rollups: monthly counts per area, handling unit and worker, folded from the case log.

The case log is append-only, so the rollups are a fold over it (`analytics.rollups`): a periodic task reads
the log rows written since the last run, updates each case's `CaseTrack` (what the next step needs to know:
whether the case was accepted, is 办结 now, who handled it last) and adds the rows' effects to
`KpiCount`. Pages read `KpiCount` rows only, never the cases.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Subject(models.TextChoices):
    """Whom a count is about."""

    AREA = "area", _("区域")  # the cases of an area (a grid and every area above it)
    UNIT = "unit", _("承办单位")  # what a unit did: accepted (a command centre), handled (a department, a village)
    WORKER = "worker", _("工作人员")  # what a person handled


# The counts a row holds; every one is a sum, so rows add up (a township's = the sum of its villages').
COUNTS = ("reported", "responded", "responded_on_time", "handled", "handled_on_time", "handled_at_village",
          "reopened", "rated", "satisfied", "basic", "unsatisfied", "cohort_accepted", "cohort_done")
FIELDS = (*COUNTS, "handling_days")  # the counts and the one sum of durations


class KpiCount(models.Model):
    """One month's counts for one subject. Area and unit rows are keyed by the unit's path (areas: every
    ancestor of the case's area gets the same counts, so a level is read in one row); worker rows by the
    person and the path of the unit they acted for (which scopes them). One plain unique key, with
    worker_id 0 on area and unit rows, so a batch is written with one upsert."""

    month = models.DateField(_("月份"))  # the first day, Asia/Shanghai
    subject = models.CharField(max_length=6, choices=Subject.choices)
    path = models.CharField(max_length=400)
    worker_id = models.BigIntegerField(default=0)
    reported = models.IntegerField(default=0)
    responded = models.IntegerField(default=0)
    responded_on_time = models.IntegerField(default=0)
    handled = models.IntegerField(default=0)
    handled_on_time = models.IntegerField(default=0)
    handled_at_village = models.IntegerField(default=0)
    handling_days = models.FloatField(default=0.0)  # summed office days from report to 办结
    reopened = models.IntegerField(default=0)
    rated = models.IntegerField(default=0)
    satisfied = models.IntegerField(default=0)
    basic = models.IntegerField(default=0)
    unsatisfied = models.IntegerField(default=0)
    cohort_accepted = models.IntegerField(default=0)  # of the cases reported this month: accepted
    cohort_done = models.IntegerField(default=0)  # … and 办结 now

    class Meta:
        verbose_name = _("考核统计")
        verbose_name_plural = _("考核统计")
        constraints = [models.UniqueConstraint(fields=["subject", "month", "path", "worker_id"],
                                               name="kpi_count_key")]

    def __str__(self) -> str:
        return f"{self.subject} {self.month:%Y-%m} {self.path} {self.worker_id or ''}".strip()


class CaseTrack(models.Model):
    """What the fold remembers about one case between its log rows."""

    case_id = models.BigIntegerField(primary_key=True)
    cohort = models.DateField()  # the month it was reported
    area_path = models.CharField(max_length=400)
    reported_at = models.DateTimeField()
    accepted = models.BooleanField(default=False)  # counted in its cohort's cohort_accepted
    done = models.BooleanField(default=False)  # counted in its cohort's cohort_done
    # Who handled it last (办结), to whom a reopening counts.
    handler_path = models.CharField(max_length=400, blank=True, default="")
    handler_id = models.BigIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return str(self.case_id)


class RollupCursor(models.Model):
    """How far the fold has read: the last case log row and rating taken, and how many log rows that was (a
    check compares it with the log, to notice a row committed behind the cursor)."""

    name = models.CharField(max_length=20, primary_key=True)
    last_log_id = models.BigIntegerField(default=0)
    last_rating_id = models.BigIntegerField(default=0)
    logs_seen = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name


class DayCount(models.Model):
    """One day's cases reported and handled (办结) in one area, for the dashboard's trends by day and week.

    Kept for the areas above the grids only (city, county, township, village: every ancestor of the case's
    grid, not the grid itself): a grid's day is read on the map from its open cases, not as a trend, and leaving
    grids out bounds the table. At city scale (兰州: 8,703 grids, about 2,000 villages, 2,000,000 cases over 24
    months) a village has a case on most days, so the villages' rows are about 2,000 × 730 ≈ 1.5 million; grids
    would add one row for nearly every case (2 million more) for a figure no page shows. Folded with `KpiCount`
    (same batch, same transaction, same cursor): `reported` on the day of the 上报 row, `handled` on the day of
    each step into 办结 (as `KpiCount.handled`), Asia/Shanghai days."""

    day = models.DateField(_("日期"))
    path = models.CharField(max_length=400)
    reported = models.IntegerField(default=0)
    handled = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("每日统计")
        verbose_name_plural = _("每日统计")
        constraints = [models.UniqueConstraint(fields=["path", "day"], name="day_count_key")]

    def __str__(self) -> str:
        return f"{self.day} {self.path}"


class CategoryCount(models.Model):
    """One month's cases reported in one area by category (the category mix), for the same areas as `DayCount`
    (not grids). `category_id` is the case's 大类 (`rollups.mix_category_id`: the category one below the top of
    its lineage, as the tree stood when its 上报 row was folded; the top level is only the four kinds, their sums).
    The presets have 38 大类, so a village has a handful of rows a month."""

    month = models.DateField(_("月份"))  # the first day, Asia/Shanghai
    path = models.CharField(max_length=400)
    category_id = models.BigIntegerField()  # its 大类
    reported = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("分类统计")
        verbose_name_plural = _("分类统计")
        constraints = [models.UniqueConstraint(fields=["path", "month", "category_id"], name="category_count_key")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.path} {self.category_id}"
