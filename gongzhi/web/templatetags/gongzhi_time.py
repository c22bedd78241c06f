"""`{{ value|ago }}`: a moment in Asia/Shanghai time as people say it ("刚刚", "3分钟前", "昨天 14:05").

Written here rather than with django.contrib.humanize so the words come from our own catalogue.
"""

import datetime

from django import template
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

register = template.Library()


@register.filter
def ago(value: datetime.datetime | None, now: datetime.datetime | None = None) -> str:
    if not value:
        return ""
    now = now or timezone.now()
    seconds = (now - value).total_seconds()
    if seconds < 60:  # also a clock slightly ahead of ours
        return _("刚刚")
    if seconds < 3600:
        minutes = int(seconds // 60)
        return ngettext("%(n)d分钟前", "%(n)d分钟前", minutes) % {"n": minutes}
    if seconds < 6 * 3600:
        hours = int(seconds // 3600)
        return ngettext("%(n)d小时前", "%(n)d小时前", hours) % {"n": hours}
    local, today = timezone.localtime(value), timezone.localtime(now).date()
    if local.date() == today:
        return _("今天 %(time)s") % {"time": dateformat.format(local, "H:i")}
    if local.date() == today - datetime.timedelta(days=1):
        return _("昨天 %(time)s") % {"time": dateformat.format(local, "H:i")}
    if local.year == today.year:
        # Translators: a PHP-style date format (Django's `date` filter): month and day, then the time.
        return dateformat.format(local, _("n月j日 H:i"))
    # Translators: a PHP-style date format (Django's `date` filter): year, month and day.
    return dateformat.format(local, _("Y年n月j日"))
