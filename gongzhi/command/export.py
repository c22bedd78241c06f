"""The Excel export of 全部事件 and 超期事件: the rows the page lists, with the same scope and filters."""

import itertools

from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.cases import selectors
from gongzhi.cases.workflow import Flag
from gongzhi.core import excel

# A file of 50,000 rows takes a few seconds of one server process and opens comfortably in Excel or WPS;
# beyond that a list is better narrowed (a month, a township) than sent whole, and a request that runs for
# minutes would hold a worker that others wait for.
MAX_ROWS = 50_000
CHUNK = 2_000


def cases_workbook(user, queryset, title: str) -> FileResponse:
    """The list as an .xlsx download, at most MAX_ROWS rows (a note on top says when there were more). No
    phone or ID number; the reporter by name as the staff case page shows it (匿名 for an anonymous report)."""
    rows = selectors.with_reporter_names(queryset)
    # One row more than the cap tells that the list was longer, without counting it.
    more = rows[MAX_ROWS:MAX_ROWS + 1].exists()
    note = _("仅导出前%(n)s件事件，请缩小筛选范围后分批导出。") % {"n": f"{MAX_ROWS:,}"} if more else ""
    header = [_("编号"), _("上报时间"), _("分类"), _("内容"), _("地点"), _("乡镇"), _("网格"), _("承办单位"),
              _("状态"), _("时限"), _("期限"), _("反映人")]
    file = excel.workbook(excel.Sheet(title=title, header=header, rows=_rows(rows[:MAX_ROWS]), note=note,
                                      widths=[17, 17, 14, 50, 24, 12, 16, 18, 10, 10, 17, 10]))
    name = _("%(title)s-%(date)s.xlsx") % {"title": title, "date": f"{timezone.localdate():%Y%m%d}"}
    return FileResponse(file, as_attachment=True, filename=name, content_type=excel.CONTENT_TYPE)


def _rows(queryset):
    flags = dict(Flag.choices)
    cases = queryset.iterator(chunk_size=CHUNK)
    while chunk := list(itertools.islice(cases, CHUNK)):
        townships = selectors.townships_of(chunk)
        for case in chunk:
            yield [case.number, timezone.localtime(case.created_at), case.category.name, case.description,
                   case.address, townships[case.area_path], case.grid.name if case.grid else "",
                   case.lead_unit_name or case.holder.name, case.get_status_display(),
                   flags.get(case.flag, ""), timezone.localtime(case.due) if case.due else "",
                   selectors.reporter_shown(case)]
