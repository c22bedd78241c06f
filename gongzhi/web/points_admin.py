"""积分管理: the administration pages of the points economy, shared by the command portal (township dispatchers
and system administrators at a desk: the township's catalogue, star scale, all shops, statistics, the ledger
checks) and the worker portal (a village administrator's phone: the village's own items and its 爱心超市, the
village's figures). `urlpatterns_for(guard)` gives a portal these URLs under points/admin/ behind its own
guard (the ledger checks only with `ledger=True`, the command portal's); each page is the shared template under
`web/points/admin/`, in the portal's chrome.

Every page is about one unit (`?unit=`, a township or a village open to the viewer, else their own):
`points.selectors.catalogue` and `points.selectors.stats` read, each write is one call of `points.services`.
Something outside the viewer's scope answers 404; what they may see but not change (a supervisor, a village
administrator looking at the township's catalogue) shows no buttons, and a write sent anyway answers 403.
Bad input shows the form again with the message at its field and nothing changed (422).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.core import excel
from gongzhi.core.errors import DomainError, Forbidden, NotFound
from gongzhi.core.models import Job
from gongzhi.org.models import Level, OrgUnit
from gongzhi.points import policies
from gongzhi.points.models import LedgerCheck, RuleItem, StarScale
from gongzhi.points.selectors import catalogue as selectors
from gongzhi.points.selectors import stats as stats_selectors
from gongzhi.points.services import checks, rules, shops
from gongzhi.web import points_admin_forms as pf
from gongzhi.web.forms import add_domain_error
from gongzhi.web.portals import COMMAND, portal_of


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _unit(request) -> OrgUnit:
    """The unit the page is about (`?unit=`); a value that is no number is a unit nobody has."""
    raw = request.GET.get("unit") or request.POST.get("unit")
    if raw and not raw.isdigit():
        raise NotFound()
    return selectors.points_unit(request.user, _int(raw))


def url(request, name: str, *args: Any, unit: OrgUnit | None = None, **query: Any) -> str:
    """A points administration URL of the request's portal, with `?unit=` and any other query."""
    suffix = f"_{name}" if name else ""
    address = reverse(f"{portal_of(request).name}:points_admin{suffix}", args=args)
    params = {**({"unit": unit.pk} if unit is not None else {}), **{k: v for k, v in query.items() if v}}
    return f"{address}?{urlencode(params)}" if params else address


def page(request, name: str, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    """The shared template `web/points/admin/<name>` with what every points administration page needs."""
    unit: OrgUnit | None = context.get("unit")
    units = selectors.points_units(request.user)
    return render(request, f"web/points/admin/{name}", {
        "units": units, "show_units": len(units) > 1, "is_command": portal_of(request) is COMMAND,
        "may_check_ledger": portal_of(request) is COMMAND and policies.may_check_ledger(request.user),
        "unit_query": f"?unit={unit.pk}" if unit is not None else "", **context}, status=status)


def _form_status(request) -> int:
    return 422 if request.method == "POST" else 200


# ---------------------------------------------------------------------------------------------------------
# The hub


def hub(request) -> HttpResponse:
    """积分管理: what there is to manage for the unit, and its figures this month."""
    unit = _unit(request)
    view = selectors.catalogue(request.user, unit)
    figures = None
    if selectors.statistics_open(request.user, unit):
        figures = stats_selectors.village_table(unit, stats_selectors.this_month())[1]
    latest = (LedgerCheck.objects.order_by("-started_at").first()
              if portal_of(request) is COMMAND and policies.may_check_ledger(request.user) else None)
    return page(request, "hub.html", {
        "unit": unit, "view": view, "figures": figures, "latest_check": latest, "tab": "hub",
        "item_count": sum(len(b.items) for b in [*view.township_blocks, *view.village_blocks]),
        "shop_count": len(selectors.shops(request.user, unit))})


# ---------------------------------------------------------------------------------------------------------
# 积分细则


def catalogue(request) -> HttpResponse:
    unit = _unit(request)
    view = selectors.catalogue(request.user, unit)
    return page(request, "catalogue.html", {"unit": unit, "view": view, "tab": "catalogue"})


def preset_install(request) -> HttpResponse:
    """安装预设细则 (POST): the preset catalogue and star scale for a township without a catalogue."""
    unit = _unit(request)
    township = selectors.township_of(unit)
    added = rules.install_preset(actor=request.user, township=township)
    if added:
        messages.success(request, _("已安装预设积分细则，共%(n)d项。") % {"n": added})
    else:
        messages.info(request, _("该乡镇(街道)已有积分细则，未作改动。"))
    return redirect(url(request, "catalogue", unit=unit))


def category_new(request) -> HttpResponse:
    """添加类别: of the township's catalogue or of a village's own items."""
    unit = _unit(request)
    view = selectors.catalogue(request.user, unit)
    if not (view.may_manage_township or view.manageable_villages):
        raise Forbidden(_("您不能修改该积分细则。"))
    form = pf.CategoryForm(request.POST or None, township=view.township, may_township=view.may_manage_township,
                           villages=view.manageable_villages)
    if request.method == "POST" and form.is_valid():
        try:
            category = rules.add_category(actor=request.user, township=view.township,
                                          village=form.cleaned_data["owner"], name=form.cleaned_data["name"])
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("已添加类别“%(name)s”。") % {"name": category.name})
            return redirect(url(request, "catalogue", unit=unit) + f"#category-{category.pk}")
    return page(request, "category_form.html", {"unit": unit, "form": form, "view": view, "tab": "catalogue",
                                                "back": url(request, "catalogue", unit=unit)},
                status=_form_status(request))


def item_new(request, category_id: int) -> HttpResponse:
    category = selectors.category_for(request.user, category_id)
    if not selectors.may_manage_category(request.user, category):
        raise Forbidden(_("您不能修改该积分细则。"))
    unit = category.village or category.township
    form = pf.RuleItemForm(request.POST or None, village_item=category.village_id is not None,
                           initial={"claimable": True, "cap_period": "year"})
    if request.method == "POST" and form.is_valid():
        try:
            item = rules.add_item(actor=request.user, category=category, fields=form.to_fields())
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("已添加事项“%(name)s”。") % {"name": item.name})
            return redirect(url(request, "catalogue", unit=unit) + f"#category-{category.pk}")
    return page(request, "item_form.html", {"unit": unit, "form": form, "category": category, "tab": "catalogue",
                                            "back": url(request, "catalogue", unit=unit)},
                status=_form_status(request))


def _item_unit(item: RuleItem) -> OrgUnit:
    return item.category.village or item.category.township


def item_page(request, item_id: int) -> HttpResponse:
    """An item with its versions (第N版, when each applied, the awards under each)."""
    history = selectors.item_history(request.user, item_id)
    return page(request, "item.html", {"unit": _item_unit(history.item), "history": history,
                                       "item": history.item, "tab": "catalogue"})


def item_edit(request, item_id: int) -> HttpResponse:
    """修改事项: saved as a new version; awards already given keep the version they were given under."""
    history = selectors.item_history(request.user, item_id)
    item = history.item
    if not history.may_manage:
        raise Forbidden(_("您不能修改该积分细则。"))
    if item.retired_at is not None and request.method == "GET":
        if history.current is not None:
            return redirect(url(request, "item_edit", history.current.pk))
        raise NotFound()
    form = pf.RuleItemForm(request.POST or None, village_item=item.category.village_id is not None,
                           initial=pf.RuleItemForm.initial_for(item))
    if request.method == "POST" and form.is_valid():
        try:
            new = rules.change_item(actor=request.user, item=item, fields=form.to_fields())
        except DomainError as err:
            add_domain_error(form, err)
        else:
            number = len(selectors.item_history(request.user, new.pk).versions)
            messages.success(request, _("已保存为第%(n)d版；此前已给予的积分仍按原版本记录。") % {"n": number})
            return redirect(url(request, "item", new.pk))
    return page(request, "item_form.html", {"unit": _item_unit(item), "form": form, "category": item.category,
                                            "item": item, "history": history, "tab": "catalogue",
                                            "back": url(request, "item", item.pk)},
                status=_form_status(request))


def item_retire(request, item_id: int) -> HttpResponse:
    """停用 (POST): the item is no longer applied for or given; past awards keep it."""
    item = selectors.item_for(request.user, item_id)
    rules.retire_item(actor=request.user, item=item)
    messages.success(request, _("已停用“%(name)s”。") % {"name": item.name})
    return redirect(url(request, "catalogue", unit=_item_unit(item)))


# ---------------------------------------------------------------------------------------------------------
# 十星等级标准


def stars(request) -> HttpResponse:
    unit = _unit(request)
    scale = selectors.star_scale(request.user, unit)
    form = pf.StarScaleForm(request.POST or None, initial=pf.StarScaleForm.initial_for(scale.basis, scale.thresholds))
    if request.method == "POST":
        if not scale.may_manage:
            raise Forbidden(_("您不能修改十星等级标准。"))
        if form.is_valid():
            try:
                rules.set_star_scale(actor=request.user, township=scale.township,
                                     basis=form.cleaned_data["basis"], thresholds=form.thresholds())
            except DomainError as err:
                add_domain_error(form, err)
            else:
                messages.success(request, _("十星等级标准已保存。"))
                return redirect(url(request, "stars", unit=unit))
    counts = (stats_selectors.star_counts(request.user, unit)
              if selectors.statistics_open(request.user, unit) else None)
    return page(request, "stars.html", {"unit": unit, "scale": scale, "form": form, "counts": counts,
                                        "basis_label": StarScale.Basis(scale.basis).label, "tab": "stars"},
                status=_form_status(request))


# ---------------------------------------------------------------------------------------------------------
# 商铺管理


def shop_list(request) -> HttpResponse:
    unit = _unit(request)
    return page(request, "shops.html", {"unit": unit, "rows": selectors.shops(request.user, unit),
                                        "may_open": bool(selectors.shop_units(request.user, unit)), "tab": "shops"})


def shop_new(request) -> HttpResponse:
    unit = _unit(request)
    units = selectors.shop_units(request.user, unit)
    if not units:
        raise Forbidden(_("您不能在该单位开设商铺。"))
    default_kind = "supermarket" if unit.level == Level.VILLAGE else "alliance"
    form = pf.ShopForm(request.POST or None, units=units, initial={"kind": default_kind, "is_active": True,
                                                                   "unit": str(unit.pk)})
    if request.method == "POST" and form.is_valid():
        try:
            shop = shops.create_shop(actor=request.user, unit=form.chosen_unit(), fields=form.to_fields())
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("已开设商铺“%(name)s”，请设置商铺管理员并上架商品。") % {"name": shop.name})
            return redirect(url(request, "shop", shop.pk))
    return page(request, "shop_form.html", {"unit": unit, "form": form, "tab": "shops"}, status=_form_status(request))


def _shop_page(request, shop_id: int, *, managers_form: pf.ManagersForm | None = None,
               status: int = 200) -> HttpResponse:
    view = selectors.shop_page(request.user, shop_id)
    choices = selectors.manager_choices(request.user, view.shop)
    form = managers_form or pf.ManagersForm(choices=choices, initial={"managers": view.managers})
    return page(request, "shop.html", {"unit": view.shop.village or view.shop.township, "view": view,
                                       "shop": view.shop, "managers_form": form, "tab": "shops"}, status=status)


def shop_page(request, shop_id: int) -> HttpResponse:
    return _shop_page(request, shop_id)


def shop_edit(request, shop_id: int) -> HttpResponse:
    shop = selectors.shop_for(request.user, shop_id)
    if not policies.can_manage_shop(request.user, shop):
        raise Forbidden(_("您不能修改该商铺。"))
    form = pf.ShopForm(request.POST or None, initial=pf.ShopForm.initial_for(shop))
    if request.method == "POST" and form.is_valid():
        try:
            shops.update_shop(actor=request.user, shop=shop, fields=form.to_fields())
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("已保存。"))
            return redirect(url(request, "shop", shop.pk))
    return page(request, "shop_form.html", {"unit": shop.village or shop.township, "form": form, "shop": shop,
                                            "tab": "shops"}, status=_form_status(request))


def shop_managers(request, shop_id: int) -> HttpResponse:
    """设置商铺管理员 (POST)."""
    shop = selectors.shop_for(request.user, shop_id)
    if not policies.can_manage_shop(request.user, shop):
        raise Forbidden(_("您不能修改该商铺。"))
    form = pf.ManagersForm(request.POST, choices=selectors.manager_choices(request.user, shop))
    if form.is_valid():
        try:
            shops.set_managers(actor=request.user, shop=shop, managers=list(form.cleaned_data["managers"]))
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("商铺管理员已更新。"))
            return redirect(url(request, "shop", shop.pk))
    return _shop_page(request, shop_id, managers_form=form, status=422)


def shop_item_new(request, shop_id: int) -> HttpResponse:
    shop = selectors.shop_for(request.user, shop_id)
    if not policies.can_manage_shop(request.user, shop):
        raise Forbidden(_("您不能修改该商铺。"))
    form = pf.ShopItemForm(request.POST or None, initial={"is_active": True})
    if request.method == "POST" and form.is_valid():
        try:
            item = shops.add_item(actor=request.user, shop=shop, fields=form.to_fields())
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("已上架“%(name)s”。") % {"name": item.name})
            return redirect(url(request, "shop", shop.pk))
    return page(request, "shop_item_form.html", {"unit": shop.village or shop.township, "form": form, "shop": shop,
                                                 "tab": "shops"}, status=_form_status(request))


def shop_item_edit(request, item_id: int) -> HttpResponse:
    item = selectors.shop_item_for(request.user, item_id)
    shop = item.shop
    if not policies.can_manage_shop(request.user, shop):
        raise Forbidden(_("您不能修改该商铺。"))
    form = pf.ShopItemForm(request.POST or None, initial=pf.ShopItemForm.initial_for(item))
    if request.method == "POST" and form.is_valid():
        try:
            shops.update_item(actor=request.user, item=item, fields=form.to_fields())
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("已保存。"))
            return redirect(url(request, "shop", shop.pk))
    return page(request, "shop_item_form.html", {"unit": shop.village or shop.township, "form": form,
                                                 "shop": shop, "item": item, "tab": "shops"},
                status=_form_status(request))


# ---------------------------------------------------------------------------------------------------------
# 积分统计


def _statistics(request) -> tuple[OrgUnit, pf.PeriodForm, stats_selectors.Statistics]:
    unit = _unit(request)
    form = pf.PeriodForm(request.GET)
    return unit, form, stats_selectors.statistics(request.user, unit, form.chosen())


def statistics(request) -> HttpResponse:
    unit, form, view = _statistics(request)
    failed = not form.is_valid()
    shown = form if failed else pf.PeriodForm(initial=pf.PeriodForm.initial_for(view.period))
    return page(request, "stats.html", {
        "unit": unit, "form": shown, "view": view, "tab": "stats",
        "stat_units": selectors.statistics_units(request.user),
        "export_query": urlencode({"unit": unit.pk, **pf.PeriodForm.query_for(view.period)})},
        status=422 if failed else 200)


def _stat_headers() -> list[str]:
    return [_("申请"), _("通过"), _("驳回"), _("发放积分"), _("扣减积分"), _("兑换积分"), _("当前余额")]


def statistics_workbook(view: stats_selectors.Statistics) -> Any:
    """The page's tables as a workbook, one sheet each (the same figures)."""
    period = view.period
    note = _("%(unit)s · %(start)s至%(end)s · 导出时间：%(now)s") % {
        "unit": view.unit.name, "start": period.start.isoformat(), "end": period.end.isoformat(),
        "now": f"{timezone.localtime():%Y-%m-%d %H:%M}"}
    villages = [[row.village.name if row.village else "", *row.figures()] for row in view.villages]
    villages.append([_("合计"), *view.total.figures()])
    items = [[s.category, s.name, s.points, s.awards, s.total, s.booked] for s in view.items]
    shop_rows = [[s.shop.name, s.shop.get_kind_display(), s.shop.village.name if s.shop.village else _("全乡镇"),
                  s.redemptions, s.items, s.points] for s in view.shops]
    board = view.board
    board_note = (_("按%(year)d年获得积分（扣分已减去）排名") % {"year": board.year} if board.year
                  else _("按历年累计获得积分（扣分已减去）排名"))
    board_rows = [[r.rank, r.name, r.number, r.village, r.earned, r.stars] for r in board.rows]
    return excel.workbook(
        excel.Sheet(title=_("按村统计"), header=[_("村(社区)"), *_stat_headers()], rows=villages, note=note,
                    widths=[18, 8, 8, 8, 10, 10, 10, 10]),
        excel.Sheet(title=_("按事项统计"), header=[_("类别"), _("积分事项"), _("现行分值"), _("给予次数"),
                                                    _("积分合计"), _("实际记账")], rows=items, note=note,
                    widths=[12, 40, 10, 10, 10, 10]),
        excel.Sheet(title=_("按商铺统计"), header=[_("商铺"), _("类型"), _("所属"), _("兑换笔数"), _("兑换件数"),
                                                    _("兑换积分")], rows=shop_rows, note=note,
                    widths=[22, 16, 14, 10, 10, 10]),
        excel.Sheet(title=_("积分榜"), header=[_("名次"), _("户主"), _("户号"), _("村(社区)"), _("获得积分"),
                                                _("星级")], rows=board_rows, note=board_note,
                    widths=[6, 12, 16, 14, 10, 6]))


def statistics_export(request) -> FileResponse:
    """导出Excel: the page's four tables as sheets."""
    unit, _form, view = _statistics(request)
    name = _("积分统计-%(unit)s-%(start)s-%(end)s.xlsx") % {
        "unit": unit.name, "start": f"{view.period.start:%Y%m%d}", "end": f"{view.period.end:%Y%m%d}"}
    return FileResponse(statistics_workbook(view), as_attachment=True, filename=name,
                        content_type=excel.CONTENT_TYPE)


# ---------------------------------------------------------------------------------------------------------
# 账本核验 (command portal)


def ledger(request) -> HttpResponse:
    view = stats_selectors.ledger_checks(request.user)
    return page(request, "ledger.html", {"view": view, "tab": "ledger", "sync_entries": checks.SYNC_ENTRIES})


def ledger_run(request) -> HttpResponse:
    """立即核验 (POST): at once on a short ledger, else in the background."""
    result = checks.start_check(actor=request.user)
    if isinstance(result, Job):
        messages.info(request, _("账本较大，核验已在后台进行，完成后结果显示在下表中，请稍后刷新本页。"))
    elif result.ok:
        messages.success(request, _("核验完成：%(n)d条流水，未发现问题。") % {"n": result.entries})
    else:
        messages.error(request, _("核验发现%(n)d个问题，详见下表。") % {"n": len(result.problems)})
    return redirect(url(request, "ledger"))


# ---------------------------------------------------------------------------------------------------------


def urlpatterns_for(guard: Callable[..., Any], *, ledger_checks: bool = False) -> list[URLPattern]:
    """The points administration of a portal under points/admin/, behind `guard` (its access decorator); the
    ledger checks with `ledger_checks` (the command portal)."""
    routes: list[tuple[str, Callable[..., Any], str]] = [
        ("points/manage/", hub, ""),
        ("points/manage/catalogue/", catalogue, "catalogue"),
        ("points/manage/catalogue/categories/new/", category_new, "category_new"),
        ("points/manage/catalogue/categories/<int:category_id>/items/new/", item_new, "item_new"),
        ("points/manage/catalogue/items/<int:item_id>/", item_page, "item"),
        ("points/manage/catalogue/items/<int:item_id>/edit/", item_edit, "item_edit"),
        ("points/manage/stars/", stars, "stars"),
        ("points/manage/shops/", shop_list, "shops"),
        ("points/manage/shops/new/", shop_new, "shop_new"),
        ("points/manage/shops/<int:shop_id>/", shop_page, "shop"),
        ("points/manage/shops/<int:shop_id>/edit/", shop_edit, "shop_edit"),
        ("points/manage/shops/<int:shop_id>/items/new/", shop_item_new, "shop_item_new"),
        ("points/manage/shop-items/<int:item_id>/edit/", shop_item_edit, "shop_item_edit"),
        ("points/manage/stats/", statistics, "stats"),
        ("points/manage/stats/export/", statistics_export, "stats_export"),
    ]
    posts: list[tuple[str, Callable[..., HttpResponse], str]] = [
        ("points/manage/catalogue/preset/", preset_install, "preset"),
        ("points/manage/catalogue/items/<int:item_id>/retire/", item_retire, "item_retire"),
        ("points/manage/shops/<int:shop_id>/managers/", shop_managers, "shop_managers"),
    ]
    if ledger_checks:
        routes.append(("points/manage/ledger/", ledger, "ledger"))
        posts.append(("points/manage/ledger/run/", ledger_run, "ledger_run"))

    def name(suffix: str) -> str:
        return f"points_admin_{suffix}" if suffix else "points_admin"

    return [path(route, guard(view), name=name(n)) for route, view, n in routes] + [
        path(route, require_POST(guard(view)), name=name(n)) for route, view, n in posts]
