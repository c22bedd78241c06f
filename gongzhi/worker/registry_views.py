"""The grid worker's 一标三实 hub: the grid page with its search box, tabs for 人口, 户, 房屋, 单位 and 地址 with
their counts, and a button to add the tab's kind of record. Record pages and forms are the shared ones of
`gongzhi.web.registry`."""

from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts import policies as account_policies
from gongzhi.registry import policies
from gongzhi.registry import selectors as registry_selectors
from gongzhi.registry.models import Resident
from gongzhi.registry.selectors import records as selectors
from gongzhi.web.access import portal_required
from gongzhi.web.paging import Window
from gongzhi.web.registry_forms import SearchForm

PER_PAGE = 30
# tab → (label, the list, the counts' figure)
TABS = {
    "people": (_("人口"), selectors.resident_list, "residents"),
    "households": (_("户"), selectors.household_list, "households"),
    "houses": (_("房屋"), selectors.house_list, "houses"),
    "units": (_("单位"), selectors.establishment_list, "establishments"),
    "addresses": (_("地址"), selectors.address_list, "addresses"),
}


@portal_required("worker")
def grid_hub(request, grid_id: int):
    """网格: search the grid's records, page through one kind of them, add one."""
    user = request.user
    grid = registry_selectors.visible_grid(user, grid_id)
    counts = selectors.record_counts(user, grid)
    tab = request.GET.get("tab") if request.GET.get("tab") in TABS else "people"
    everyone = request.GET.get("all") == "1"
    status = "" if everyone or tab != "people" else Resident.Status.ACTIVE
    rows = TABS[tab][1](user, selectors.RecordFilter(grid=grid, status=status))
    tabs = [{"name": name, "label": label, "count": getattr(counts, figure), "current": name == tab}
            for name, (label, _list, figure) in TABS.items()]
    return render(request, "worker/grid.html", {
        "grid": grid, "tab": tab, "tabs": tabs, "counts": counts, "everyone": everyone,
        "page": Window(rows, request.GET.get("page"), PER_PAGE), "search_form": SearchForm(),
        "may_edit": policies.can_edit_records(user, grid),
        "may_unmask": account_policies.can_unmask_pii(user, grid.path), "section": "grids"})
