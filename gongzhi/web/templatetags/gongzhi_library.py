"""`{% service_links as links %}`: the 便民服务 links the requesting user may read (for the library section's
big buttons, resident/publications/_group_extra_library.html)."""

from __future__ import annotations

from django import template

from gongzhi.publications.models import Publication, ServiceLink
from gongzhi.publications.selectors import library

register = template.Library()


@register.simple_tag(takes_context=True)
def service_links(context: template.Context) -> list[tuple[Publication, ServiceLink]]:
    request = context.get("request")
    return library.service_links(request.user) if request is not None else []
