"""一标三实 record pages and their forms, shared by the worker portal (a grid worker's phone) and the command
portal (village and township staff at a desk): each person, household, house, unit and standard address with
its history, and the forms that add and edit them. `urlpatterns_for(guard)` gives a portal these URLs under
`registry/` behind its own guard; each page renders the portal's own template (`worker/registry/…`,
`command/registry/…`), which includes the shared body under `web/registry/`.

Every write is one call of `registry.services.records`; bad input shows the form again with the message at the
field and nothing changed (422); a record outside the viewer's scope answers 404, one they may see but not edit
403. Personal numbers appear masked, with the audited reveal link for those who may unmask them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.accounts import policies as account_policies
from gongzhi.core.errors import DomainError, Forbidden, NotFound
from gongzhi.org.models import OrgUnit
from gongzhi.registry import policies
from gongzhi.registry.models import Address, House
from gongzhi.registry.selectors import records as selectors
from gongzhi.registry.services import records as services
from gongzhi.web import registry_forms as rf
from gongzhi.web.forms import add_domain_error
from gongzhi.web.portals import WORKER, portal_of


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def page(request, name: str, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    """The portal's template `registry/<name>` (or the shared one) with what every registry page needs."""
    portal = portal_of(request)
    extra = {"section": "grids"} if portal is WORKER else {"registry_tab": context.get("registry_tab", "")}
    return render(request, portal.templates(f"registry/{name}"), {"grid": None, **context, **extra}, status=status)


def record_url(request, name: str, *args: Any) -> str:
    return reverse(f"{portal_of(request).name}:registry_{name}", args=args)


def _unmask(request, grid: OrgUnit) -> bool:
    return account_policies.can_unmask_pii(request.user, grid.path)


def _grids(request) -> list[OrgUnit]:
    """The grids the viewer may add records to; a form is for them only (NotFound for anyone else). `?grid=`
    narrows the choice to one grid when the viewer may edit it."""
    grids = list(selectors.editable_grids(request.user))
    if not grids:
        raise NotFound()
    wanted = _int(request.GET.get("grid"))
    chosen = [g for g in grids if g.pk == wanted]
    return chosen or grids


def _address_param(request) -> Address | None:
    """The standard address a new record is added at (`?address=`), when the viewer may edit its grid."""
    address_id = _int(request.GET.get("address") or request.POST.get("address_id"))
    if address_id is None:
        return None
    address = selectors.address_for(request.user, address_id)
    if not policies.can_edit_records(request.user, address.grid):
        raise Forbidden(_("您可以查看但不能修改该网格的登记信息。"))
    return address


def _edit_check(request, grid: OrgUnit) -> None:
    if not policies.can_edit_records(request.user, grid):
        raise Forbidden(_("您可以查看但不能修改该网格的登记信息。"))


def _form_page(request, name: str, context: dict[str, Any], failed: bool, *,
               grids: list[OrgUnit] | None = None) -> HttpResponse:
    """A form page (422 after a refusal); a new record's page names its grid when there is one to choose."""
    if grids is not None and len(grids) == 1:
        context.setdefault("grid", grids[0])
    return page(request, name, context, status=422 if failed else 200)


# ---------------------------------------------------------------------------------------------------------
# People


def resident_page(request, resident_id: int) -> HttpResponse:
    view = selectors.resident_page(request.user, resident_id)
    return page(request, "resident.html", {
        "view": view, "record": view.resident, "may_unmask": _unmask(request, view.resident.grid),
        "status_form": rf.StatusForm(initial={"status": view.resident.status}), "registry_tab": "people"})


def _household_of(request, form: rf.ResidentForm) -> Any:
    number = form.cleaned_data["household_number"]
    return selectors.household_by_number(request.user, number) if number else None


def resident_new(request) -> HttpResponse:
    """登记居民: in a household (`?household=` fills in its 户号) or on their own in a grid, at `?address=`."""
    grids = _grids(request)
    address = _address_param(request)
    initial: dict[str, Any] = {}
    if (household_id := _int(request.GET.get("household"))) is not None:
        home = selectors.household_for(request.user, household_id)
        initial = {"household_number": home.number, "relation": "child"}
    form = rf.ResidentForm(request.POST or None, grids=grids, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            household = _household_of(request, form)
            resident = services.add_resident(actor=request.user, data=form.to_input(), household=household,
                                             grid=form.chosen_grid(), standard_address=address)
        except DomainError as err:
            rf.show_error(form, err)
        else:
            messages.success(request, _("已登记居民%(name)s。") % {"name": resident.name})
            return redirect(record_url(request, "resident", resident.pk))
    return _form_page(request, "resident_form.html", {"form": form, "address": address, "registry_tab": "people"},
                      request.method == "POST", grids=grids)


def resident_edit(request, resident_id: int) -> HttpResponse:
    resident = selectors.resident_for(request.user, resident_id)
    _edit_check(request, resident.grid)
    grids = list(selectors.editable_grids(request.user))
    form = rf.ResidentForm(request.POST or None, resident=resident, grids=grids,
                           initial=rf.ResidentForm.initial_for(resident))
    if request.method == "POST" and form.is_valid():
        try:
            household = _household_of(request, form)
            grid = household.grid if household is not None else (form.chosen_grid() or resident.grid)
            address = resident.standard_address if resident.standard_address and \
                resident.standard_address.grid_id == grid.pk else None
            services.edit_resident(actor=request.user, resident=resident, data=form.to_input(), household=household,
                                   grid=grid, standard_address=address)
        except DomainError as err:
            rf.show_error(form, err)
        else:
            messages.success(request, _("已保存。"))
            return redirect(record_url(request, "resident", resident.pk))
    return _form_page(request, "resident_form.html", {"form": form, "record": resident, "registry_tab": "people"},
                      request.method == "POST")


def resident_status(request, resident_id: int) -> HttpResponse:
    """迁出, 死亡 or back to 在册 (POST)."""
    resident = selectors.resident_for(request.user, resident_id)
    form = rf.StatusForm(request.POST)
    if form.is_valid():
        try:
            services.set_resident_status(actor=request.user, resident=resident, status=form.cleaned_data["status"],
                                         note=form.cleaned_data["note"])
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("状态已改为“%(status)s”。") % {"status": resident.get_status_display()})
            return redirect(record_url(request, "resident", resident.pk))
    view = selectors.resident_page(request.user, resident_id)
    return page(request, "resident.html", {"view": view, "record": view.resident, "status_form": form,
                                           "may_unmask": _unmask(request, view.resident.grid),
                                           "registry_tab": "people"}, status=422)


# ---------------------------------------------------------------------------------------------------------
# Households


def household_page(request, household_id: int) -> HttpResponse:
    view = selectors.household_page(request.user, household_id)
    return page(request, "household.html", {"view": view, "record": view.household,
                                            "may_unmask": _unmask(request, view.household.grid),
                                            "registry_tab": "households"})


def household_new(request) -> HttpResponse:
    address = _address_param(request)
    grids = [address.grid] if address is not None else _grids(request)
    form = rf.HouseholdForm(request.POST or None, grids=grids, standard_address=address)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            home = services.create_household(actor=request.user, grid=form.chosen_grid(), number=data["number"],
                                             address=data["address"], standard_address=address)
        except DomainError as err:
            rf.show_error(form, err)
        else:
            messages.success(request, _("已登记户%(number)s。") % {"number": home.number})
            return redirect(record_url(request, "household", home.pk))
    return _form_page(request, "household_form.html", {"form": form, "address": address,
                                                       "registry_tab": "households"}, request.method == "POST",
                      grids=grids)


def household_edit(request, household_id: int) -> HttpResponse:
    home = selectors.household_for(request.user, household_id)
    _edit_check(request, home.grid)
    grids = list(selectors.editable_grids(request.user, within=home.village))
    form = rf.HouseholdForm(request.POST or None, grids=grids, standard_address=home.standard_address,
                            initial=rf.HouseholdForm.initial_for(home))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        grid = form.chosen_grid()
        address = home.standard_address if home.standard_address and home.standard_address.grid_id == grid.pk \
            else None
        try:
            services.update_household(actor=request.user, household=home, grid=grid, number=data["number"],
                                      address=data["address"], standard_address=address, lat=home.lat, lng=home.lng)
        except DomainError as err:
            rf.show_error(form, err)
        else:
            messages.success(request, _("已保存。"))
            return redirect(record_url(request, "household", home.pk))
    return _form_page(request, "household_form.html", {"form": form, "record": home, "registry_tab": "households"},
                      request.method == "POST")


# ---------------------------------------------------------------------------------------------------------
# Houses and tenants


def house_page(request, house_id: int) -> HttpResponse:
    view = selectors.house_page(request.user, house_id)
    return page(request, "house.html", {"view": view, "record": view.house,
                                        "may_unmask": _unmask(request, view.house.grid),
                                        "end_form": rf.EndTenancyForm(), "registry_tab": "houses"})


def house_new(request) -> HttpResponse:
    """登记房屋: at `?address=`, or with the address typed on the form."""
    address = _address_param(request)
    grids = [address.grid] if address is not None else _grids(request)
    if address is not None:
        form: rf.HouseForm = rf.HouseForm(request.POST or None)
    else:
        form = rf.NewHouseForm(request.POST or None, grids=grids)
    if request.method == "POST" and form.is_valid():
        place: Address | services.AddressInput = address if address is not None else \
            form.address_input(form.chosen_grid())  # type: ignore[attr-defined]
        try:
            house = services.create_house(actor=request.user, address=place, data=form.to_input())
        except DomainError as err:
            rf.show_error(form, err)
        else:
            messages.success(request, _("已登记房屋。"))
            return redirect(record_url(request, "house", house.pk))
    return _form_page(request, "house_form.html", {"form": form, "address": address, "registry_tab": "houses"},
                      request.method == "POST", grids=grids)


def house_edit(request, house_id: int) -> HttpResponse:
    house = selectors.house_for(request.user, house_id)
    _edit_check(request, house.grid)
    form = rf.HouseForm(request.POST or None, house=house, initial=rf.HouseForm.initial_for(house))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_house(actor=request.user, house=house, data=form.to_input())
        except DomainError as err:
            rf.show_error(form, err)
        else:
            messages.success(request, _("已保存。"))
            return redirect(record_url(request, "house", house.pk))
    return _form_page(request, "house_form.html", {"form": form, "record": house, "registry_tab": "houses"},
                      request.method == "POST")


def _tenant_count(request) -> int:
    count = _int(request.POST.get("tenants")) or 1
    if "add_tenant" in request.POST:
        count += 1
    return max(1, min(count, rf.MAX_TENANTS))


def rented_new(request) -> HttpResponse:
    """登记出租房屋: the house (at `?address=` or typed) and its tenants in one form. 再加一位租客 sends the form
    back with one more tenant block (JavaScript adds it in the page instead, when it runs)."""
    address = _address_param(request)
    grids = [address.grid] if address is not None else _grids(request)
    posted = request.method == "POST"
    count = _tenant_count(request) if posted else 1
    if posted and "add_tenant" in request.POST:  # nothing is checked yet: the page again with one more block
        form = rf.RentedHouseForm(grids=grids, address=address, initial={**request.POST.dict(), "tenants": count})
        return _form_page(request, "rented_form.html", {
            "form": form, "tenants": rf.tenant_forms(None, count, initial=request.POST), "tenant_count": count,
            "address": address, "registry_tab": "houses"}, False, grids=grids)
    form = rf.RentedHouseForm(request.POST or None, grids=grids, address=address,
                              initial={"tenants": count, "address_id": address.pk if address else None})
    blocks = rf.tenant_forms(request.POST if posted else None, count)
    filled = [b for b in blocks if not b.is_blank()] if posted else []
    if posted and form.is_valid() and all(b.is_valid() for b in filled):
        try:
            people = []
            for index, block in enumerate(filled):
                try:
                    people.append(block.to_input())
                except DomainError as err:
                    raise DomainError(err.message, field=f"tenants.{index}.{err.field}") from None
            house = services.register_rented_house(actor=request.user, address=form.place(),
                                                   data=form.house_input(House.Use.RENTED, editing=False),
                                                   tenants=people)
        except DomainError as err:
            rf.show_error(form, err, filled)
        else:
            messages.success(request, _("已登记出租房屋和%(n)d位租客。") % {"n": len(people)})
            return redirect(record_url(request, "house", house.pk))
    return _form_page(request, "rented_form.html", {"form": form, "tenants": blocks, "tenant_count": count,
                                                    "address": address, "registry_tab": "houses"}, posted,
                      grids=grids)


def tenant_new(request, house_id: int) -> HttpResponse:
    """登记租客 of a house."""
    house = selectors.house_for(request.user, house_id)
    _edit_check(request, house.grid)
    [block] = rf.tenant_forms(request.POST or None, 1)
    if request.method == "POST" and block.is_valid():
        try:
            tenancy = services.add_tenancy(actor=request.user, house=house, tenant=block.to_input())
        except DomainError as err:
            if err.field and err.field.startswith("tenants."):
                err.field = err.field.split(".", 2)[2]
            add_domain_error(block, err)
        else:
            messages.success(request, _("已登记租客%(name)s。") % {"name": tenancy.resident.name})
            return redirect(record_url(request, "house", house.pk))
    return _form_page(request, "tenant_form.html", {"form": block, "record": house, "registry_tab": "houses"},
                      request.method == "POST")


def tenancy_end(request, tenancy_id: int) -> HttpResponse:
    """租客搬离 (POST)."""
    tenancy = selectors.tenancy_for(request.user, tenancy_id)
    form = rf.EndTenancyForm(request.POST)
    if form.is_valid():
        try:
            services.end_tenancy(actor=request.user, tenancy=tenancy, ended_on=form.cleaned_data["ended_on"])
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("已登记%(name)s搬离。") % {"name": tenancy.resident.name})
            return redirect(record_url(request, "house", tenancy.house_id))
    view = selectors.house_page(request.user, tenancy.house_id)
    return page(request, "house.html", {"view": view, "record": view.house, "end_form": form,
                                        "end_failed": tenancy.pk, "may_unmask": _unmask(request, view.house.grid),
                                        "registry_tab": "houses"}, status=422)


# ---------------------------------------------------------------------------------------------------------
# Units


def unit_page(request, unit_id: int) -> HttpResponse:
    view = selectors.establishment_page(request.user, unit_id)
    return page(request, "unit.html", {"view": view, "record": view.establishment, "registry_tab": "units"})


def unit_new(request) -> HttpResponse:
    address = _address_param(request)
    grids = [address.grid] if address is not None else _grids(request)
    form = rf.EstablishmentForm(request.POST or None, grids=grids)
    if address is not None:
        form.fields["address_text"].help_text = _("不填则使用标准地址：%(label)s") % {"label": address.label}
    if request.method == "POST" and form.is_valid():
        try:
            unit = services.create_establishment(actor=request.user, grid=form.chosen_grid(), data=form.to_input(),
                                                 address=address)
        except DomainError as err:
            rf.show_error(form, err)
        else:
            messages.success(request, _("已登记单位%(name)s。") % {"name": unit.name})
            return redirect(record_url(request, "unit", unit.pk))
    return _form_page(request, "unit_form.html", {"form": form, "address": address, "registry_tab": "units"},
                      request.method == "POST", grids=grids)


def unit_edit(request, unit_id: int) -> HttpResponse:
    unit = selectors.establishment_for(request.user, unit_id)
    _edit_check(request, unit.grid)
    grids = list(selectors.editable_grids(request.user))
    form = rf.EstablishmentForm(request.POST or None, grids=grids, establishment=unit,
                                initial=rf.EstablishmentForm.initial_for(unit))
    if request.method == "POST" and form.is_valid():
        grid = form.chosen_grid()
        try:
            services.update_establishment(actor=request.user, establishment=unit, data=form.to_input(), grid=grid,
                                          address=unit.address if unit.address and unit.address.grid_id == grid.pk
                                          else None)
        except DomainError as err:
            rf.show_error(form, err)
        else:
            messages.success(request, _("已保存。"))
            return redirect(record_url(request, "unit", unit.pk))
    return _form_page(request, "unit_form.html", {"form": form, "record": unit, "registry_tab": "units"},
                      request.method == "POST")


# ---------------------------------------------------------------------------------------------------------
# Standard addresses


def address_page(request, address_id: int) -> HttpResponse:
    view = selectors.address_page(request.user, address_id)
    return page(request, "address.html", {"view": view, "record": view.address, "registry_tab": "addresses"})


def address_new(request) -> HttpResponse:
    grids = _grids(request)
    form = rf.AddressForm(request.POST or None, grids=grids)
    if request.method == "POST" and form.is_valid():
        try:
            address = services.create_address(actor=request.user, data=form.to_input())
        except DomainError as err:
            rf.show_error(form, err)
        else:
            messages.success(request, _("已登记地址%(label)s。") % {"label": address.label})
            return redirect(record_url(request, "address", address.pk))
    return _form_page(request, "address_form.html", {"form": form, "registry_tab": "addresses"},
                      request.method == "POST", grids=grids)


def address_edit(request, address_id: int) -> HttpResponse:
    address = selectors.address_for(request.user, address_id)
    _edit_check(request, address.grid)
    grids = list(selectors.editable_grids(request.user, within=address.village))
    form = rf.AddressForm(request.POST or None, grids=grids, initial=rf.AddressForm.initial_for(address))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_address(actor=request.user, address=address, data=form.to_input())
        except DomainError as err:
            rf.show_error(form, err)
        else:
            messages.success(request, _("已保存。"))
            return redirect(record_url(request, "address", address.pk))
    return _form_page(request, "address_form.html", {"form": form, "record": address, "registry_tab": "addresses"},
                      request.method == "POST")


# ---------------------------------------------------------------------------------------------------------
# Search


def search(request) -> HttpResponse:
    """查找: people (name, ID or phone number), households (户号), addresses, houses and units in the viewer's
    scope, or in `grid`. A personal number comes by POST, so it never stands in a URL or an access log; a name
    may come by GET too (a link, the back button)."""
    grid = None
    grid_id = _int(request.POST.get("grid") or request.GET.get("grid"))
    if grid_id is not None:
        grid = selectors.visible_grid(request.user, grid_id)
    form = rf.SearchForm(request.POST if request.method == "POST" else request.GET)
    results = None
    if form.is_valid() and form.cleaned_data["q"]:
        by, _value = selectors.classify(form.cleaned_data["q"])
        if request.method == "POST" or by in ("text", "number"):
            results = selectors.search_records(request.user, form.cleaned_data["q"], grid=grid)
    return page(request, "search.html", {"form": form, "results": results, "grid": grid,
                                         "may_edit": selectors.may_edit_any(request.user), "registry_tab": "search"})


def urlpatterns_for(guard: Callable[..., Any]) -> list[URLPattern]:
    """The record pages and forms of a portal under registry/, behind `guard` (its access decorator)."""
    routes: list[tuple[str, Callable[..., HttpResponse], str]] = [
        ("registry/search/", search, "search"),
        ("registry/residents/new/", resident_new, "resident_new"),
        ("registry/residents/<int:resident_id>/", resident_page, "resident"),
        ("registry/residents/<int:resident_id>/edit/", resident_edit, "resident_edit"),
        ("registry/households/new/", household_new, "household_new"),
        ("registry/households/<int:household_id>/", household_page, "household"),
        ("registry/households/<int:household_id>/edit/", household_edit, "household_edit"),
        ("registry/houses/new/", house_new, "house_new"),
        ("registry/houses/rented/new/", rented_new, "rented_new"),
        ("registry/houses/<int:house_id>/", house_page, "house"),
        ("registry/houses/<int:house_id>/edit/", house_edit, "house_edit"),
        ("registry/houses/<int:house_id>/tenants/new/", tenant_new, "tenant_new"),
        ("registry/units/new/", unit_new, "unit_new"),
        ("registry/units/<int:unit_id>/", unit_page, "unit"),
        ("registry/units/<int:unit_id>/edit/", unit_edit, "unit_edit"),
        ("registry/addresses/new/", address_new, "address_new"),
        ("registry/addresses/<int:address_id>/", address_page, "address"),
        ("registry/addresses/<int:address_id>/edit/", address_edit, "address_edit"),
    ]
    posts: list[tuple[str, Callable[..., HttpResponse], str]] = [
        ("registry/residents/<int:resident_id>/status/", resident_status, "resident_status"),
        ("registry/tenancies/<int:tenancy_id>/end/", tenancy_end, "tenancy_end"),
    ]
    return [path(route, guard(view), name=f"registry_{name}") for route, view, name in routes] + [
        path(route, require_POST(guard(view)), name=f"registry_{name}") for route, view, name in posts]
