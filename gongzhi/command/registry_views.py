"""一标三实 in the command portal (desktop): the search hub and the lists of people, households, houses, units and
addresses in the viewer's scope with their filters, paged without counting. Record pages, household views and
the edit forms (for those who may edit) are the shared ones of `gongzhi.web.registry`."""

from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from gongzhi.core.errors import DomainError
from gongzhi.registry.selectors import records as selectors
from gongzhi.web.access import portal_required
from gongzhi.web.paging import Window
from gongzhi.web.registry_forms import RecordFilterForm, SearchForm

PER_PAGE = 50
# kind → (title, the list, the create page when the viewer may add records)
LISTS = {
    "people": (_("实有人口"), selectors.resident_list, "command:registry_resident_new"),
    "households": (_("户"), selectors.household_list, "command:registry_household_new"),
    "houses": (_("实有房屋"), selectors.house_list, "command:registry_rented_new"),
    "units": (_("实有单位"), selectors.establishment_list, "command:registry_unit_new"),
    "addresses": (_("标准地址"), selectors.address_list, "command:registry_address_new"),
}


@portal_required("command")
def hub(request):
    """一标三实: the search box (names, ID and phone numbers by POST, 户号, addresses, units) and the lists."""
    return render(request, "command/registry/hub.html", {
        "search_form": SearchForm(), "lists": [(kind, title) for kind, (title, _l, _n) in LISTS.items()],
        "may_edit": selectors.may_edit_any(request.user), "registry_tab": "search"})


@portal_required("command")
def record_list(request, kind: str):
    """One list, newest first (a grid's in reading order), filtered by area and by what the kind of record has."""
    if kind not in LISTS:
        raise Http404
    title, listing, new_url = LISTS[kind]
    user = request.user
    form = RecordFilterForm(request.GET, kind=kind, areas=selectors.filter_areas(user),
                            groups=selectors.special_groups() if kind == "people" else [])
    form.is_valid()  # a field with bad input shows its error and is left out of the filter
    try:
        rows = listing(user, form.record_filter())
    except DomainError:
        rows = listing(user, selectors.RecordFilter())
    return render(request, "command/registry/list.html", {
        "kind": kind, "title": title, "form": form, "page": Window(rows, request.GET.get("page"), PER_PAGE),
        "new_url": new_url if selectors.may_edit_any(user) else "", "registry_tab": kind})
