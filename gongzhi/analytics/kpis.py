"""The assessment figures (考核指标) and their published formulas, computed from summed `KpiCount` rows.

Each figure keeps its numerator and denominator, so every page shows what a rate is made of, and a unit with
fewer than MIN_SAMPLE cases behind a figure is shown but not ranked on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from gongzhi.analytics.models import FIELDS

# Below this many cases a rate says more about chance than about the unit (one late case of three is 67%).
MIN_SAMPLE = 10


@dataclass(frozen=True)
class Figure:
    """One figure of one unit: `value` is numerator / denominator (× 100 for a rate), None with no cases."""

    numerator: float
    denominator: int
    percent: bool = True

    @property
    def value(self) -> float | None:
        if not self.denominator:
            return None
        return self.numerator / self.denominator * (100 if self.percent else 1)

    @property
    def rankable(self) -> bool:
        return self.denominator >= MIN_SAMPLE


@dataclass(frozen=True)
class Definition:
    key: str
    label: Promise
    formula: Promise  # as published on the pages
    higher_is_better: bool = True
    percent: bool = True


DEFINITIONS: tuple[Definition, ...] = (
    Definition("response_on_time", _("受理及时率"),
               _("按期响应（受理、不予受理或现场答复办结）的事件数 ÷ 本期响应的事件数；期限为响应时有效的响应期限")),
    Definition("on_time", _("按时办结率"),
               _("在办理期限内办结的事件数 ÷ 本期办结的事件数；期限含批准的延期，现场答复办结以响应期限计")),
    Definition("completion", _("办结率"),
               _("本期上报并受理的事件中现已办结的件数 ÷ 本期上报并受理的事件数"
                 "（合并、不予受理的不计；重办的事件再次办结前不算办结）")),
    Definition("satisfaction", _("满意率"), _("（满意 + 基本满意）÷ 本期评价数")),
    Definition("village_share", _("村级解决率"),
               _("由村（工作站、村级团队）或网格办结的件数 ÷ 本期办结的事件数（含网格员现场答复办结）")),
    Definition("reopen", _("重办率"), _("本期因回访未解决或群众不满意而重办的件数 ÷ 本期办结的事件数"),
               higher_is_better=False),
    Definition("average_days", _("平均办理时长（工作日）"),
               _("本期办结事件从上报到办结经过的工作时间之和 ÷ 本期办结的事件数；"
                 "按工作日的办公时间计，一个工作日的办公时间为1天"),
               higher_is_better=False, percent=False),
)
BY_KEY = {d.key: d for d in DEFINITIONS}


@dataclass(frozen=True)
class Kpis:
    """The summed counts of one unit over a period, and its figures."""

    counts: Mapping[str, float]

    def __getitem__(self, name: str) -> float:
        return self.counts.get(name, 0)

    def figure(self, key: str) -> Figure:
        c = self.__getitem__
        handled = int(c("handled"))
        if key == "response_on_time":
            return Figure(c("responded_on_time"), int(c("responded")))
        if key == "on_time":
            return Figure(c("handled_on_time"), handled)
        if key == "completion":
            return Figure(c("cohort_done"), int(c("cohort_accepted")))
        if key == "satisfaction":
            return Figure(c("satisfied") + c("basic"), int(c("rated")))
        if key == "village_share":
            return Figure(c("handled_at_village"), handled)
        if key == "reopen":
            return Figure(c("reopened"), handled)
        if key == "average_days":
            return Figure(round(c("handling_days"), 2), handled, percent=False)
        raise KeyError(key)

    def figures(self) -> list[tuple[Definition, Figure]]:
        return [(d, self.figure(d.key)) for d in DEFINITIONS]


def total(rows: Iterable[Mapping[str, float]]) -> Kpis:
    """The sum of count rows (dicts or KpiCount rows as dicts)."""
    summed: dict[str, float] = dict.fromkeys(FIELDS, 0)
    for row in rows:
        for name in summed:
            summed[name] += row.get(name, 0) or 0
    return Kpis(summed)


def ranked(items: list[tuple[object, Kpis]], key: str) -> list[tuple[int | None, object, Kpis]]:
    """The items best first on figure `key`, each with its rank (None: too few cases to rank, listed after the
    ranked ones). Equal values share a rank (1, 2, 2, 4)."""
    definition = BY_KEY[key]
    rankable = [(item, kpis) for item, kpis in items if kpis.figure(key).rankable]
    rest = [(item, kpis) for item, kpis in items if not kpis.figure(key).rankable]

    def value(kpis: Kpis) -> float:
        found = kpis.figure(key).value
        assert found is not None  # rankable: a denominator of at least MIN_SAMPLE
        return found

    rankable.sort(key=lambda pair: value(pair[1]), reverse=definition.higher_is_better)
    out: list[tuple[int | None, object, Kpis]] = []
    previous: float | None = None
    rank = 0
    for position, (item, kpis) in enumerate(rankable, start=1):
        current = value(kpis)
        if previous is None or current != previous:
            rank = position
        previous = current
        out.append((rank, item, kpis))
    out.extend((None, item, kpis) for item, kpis in rest)
    return out
