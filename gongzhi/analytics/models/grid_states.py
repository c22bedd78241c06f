"""The map's grid states (民情地图 红/黄/蓝): one row per active grid, recomputed by a periodic task, so a map view
reads 8,703 small rows instead of counting a million open cases (`services.refresh_grid_states`)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from gongzhi.org.models import OrgUnit


class Colour(models.TextChoices):
    """A grid's colour on the map; the rule is `services.colour_of`, in words on the map's legend."""

    RED = "red", _("红色网格")
    YELLOW = "yellow", _("黄色网格")
    BLUE = "blue", _("蓝色网格")


class GridState(models.Model):
    grid = models.OneToOneField(OrgUnit, on_delete=models.CASCADE, primary_key=True, related_name="+",
                                verbose_name=_("网格"))
    # The grid's path, copied so a subtree's states are one prefix filter without a join.
    path = models.CharField(_("路径"), max_length=400, db_index=True)
    open_cases = models.PositiveIntegerField(_("在办事件"), default=0)
    red_cases = models.PositiveIntegerField(_("已超期事件"), default=0)
    yellow_cases = models.PositiveIntegerField(_("即将到期事件"), default=0)
    risky_disputes = models.PositiveIntegerField(_("高风险纠纷"), default=0)
    colour = models.CharField(_("颜色"), max_length=6, choices=Colour.choices, default=Colour.BLUE)
    changed_at = models.DateTimeField(_("变化时间"))

    class Meta:
        verbose_name = _("网格状态")
        verbose_name_plural = _("网格状态")

    def __str__(self) -> str:
        return f"{self.path} {self.colour}"


class GridStateRun(models.Model):
    """The one row saying when the states were last computed (the lag the page shows) and last changed (what
    the states' ETag is made of, so a browser revalidates for nothing while no grid changed)."""

    refreshed_at = models.DateTimeField(_("计算时间"))
    changed_at = models.DateTimeField(_("变化时间"))
    took_ms = models.PositiveIntegerField(_("耗时（毫秒）"), default=0)

    class Meta:
        verbose_name = _("网格状态计算")
        verbose_name_plural = _("网格状态计算")

    def __str__(self) -> str:
        return self.refreshed_at.isoformat()
