"""Key persons (重点人员): who they are, their categories, risk level and the care and visit plan, and the log of
every time a key-person record was looked at. Visits themselves are `fieldwork.Visit` rows."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gongzhi.core.models import TimeStampedModel
from gongzhi.org.models import OrgUnit
from gongzhi.registry.models.population import ListEntry


class KeyPersonCategory(ListEntry):
    """社区矫正, 刑满释放, 严重精神障碍, 吸毒, 信访重点 …"""

    class Meta(ListEntry.Meta):
        verbose_name = _("重点人员类别")
        verbose_name_plural = verbose_name


class RiskLevel(models.TextChoices):
    HIGH = "high", _("高风险")
    MEDIUM = "medium", _("中风险")
    LOW = "low", _("低风险")


class VisitFrequency(models.Model):
    """How often a key person of a risk level is visited (every N days), unless their plan says otherwise."""

    risk_level = models.CharField(_("风险等级"), max_length=10, choices=RiskLevel.choices, unique=True)
    interval_days = models.PositiveSmallIntegerField(_("走访间隔(天)"))

    class Meta:
        verbose_name = _("重点人员走访频次")
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return f"{self.get_risk_level_display()}: {self.interval_days}"


class KeyPerson(TimeStampedModel):
    """A resident under care (管控帮扶) and their visit plan. `next_visit_due` is the date by which the next
    visit is owed (the last visit, or the start of the plan, plus the interval); past it the person is a risk
    warning until visited."""

    resident = models.OneToOneField("registry.Resident", on_delete=models.PROTECT, related_name="key_person",
                                    verbose_name=_("居民"))
    grid = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("网格"))
    categories = models.ManyToManyField(KeyPersonCategory, related_name="key_persons", verbose_name=_("类别"))
    risk_level = models.CharField(_("风险等级"), max_length=10, choices=RiskLevel.choices)
    # The grid worker answering for the visits; the grid's workers when empty.
    responsible = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("责任人"))
    interval_days = models.PositiveSmallIntegerField(_("走访间隔(天)"), null=True, blank=True,
                                                     help_text=_("不填则按风险等级的频次。"))
    care_plan = models.TextField(_("帮扶管控措施"), blank=True, default="")
    started_on = models.DateField(_("列管日期"))
    ended_on = models.DateField(_("解除列管日期"), null=True, blank=True)
    last_visit_at = models.DateTimeField(_("最近走访"), null=True, blank=True)
    next_visit_due = models.DateField(_("应走访日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("重点人员")
        verbose_name_plural = verbose_name
        indexes = [models.Index(fields=["next_visit_due"], condition=models.Q(ended_on__isnull=True),
                                name="key_person_due")]

    def __str__(self) -> str:
        return str(self.resident)


class KeyPersonView(models.Model):
    """One row per opening of a key person's record: who looked, when."""

    key_person = models.ForeignKey(KeyPerson, on_delete=models.CASCADE, related_name="views")
    viewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("重点人员查看记录")
        verbose_name_plural = verbose_name
        indexes = [models.Index(fields=["key_person", "at"], name="key_person_view_at")]

    def __str__(self) -> str:
        return f"{self.viewer_id} {self.key_person_id}"
