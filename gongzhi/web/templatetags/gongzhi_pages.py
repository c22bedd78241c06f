"""`{% page_url n %}`: the current page's address with `page=n` and every other query parameter kept, so
turning the page of a filtered list stays in the filter."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def page_url(context: template.Context, number: int) -> str:
    query = context["request"].GET.copy()
    query["page"] = str(number)
    return "?" + query.urlencode()
