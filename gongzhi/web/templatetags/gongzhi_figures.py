"""`{{ figure|figure }}`: an assessment figure as people read it ("92.3%", "4.2天", "—" with no cases), and
`{{ figure|fraction }}`: what it is made of ("12/13")."""

from django import template
from django.utils.translation import gettext as _

from gongzhi.analytics.kpis import Figure

register = template.Library()


@register.filter
def figure(value: Figure) -> str:
    if value.value is None:
        return "—"
    if value.percent:
        return f"{value.value:.1f}%"
    return _("%(days)s天") % {"days": f"{value.value:.1f}"}


@register.filter
def fraction(value: Figure) -> str:
    numerator = f"{value.numerator:.1f}" if not value.percent else f"{value.numerator:g}"
    return f"{numerator}/{value.denominator}"
