"""The libraries' reads (M25): a guide's facts, a service link, a template's files, the 便民服务 buttons."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser

from gongzhi.accounts.models import User
from gongzhi.publications.models import Attachment, Guide, Publication, ServiceLink
from gongzhi.publications.selectors import core

LIBRARY_KINDS = ("policy", "law", "template", "guide", "service_link")


def guide_of(publication: Publication) -> Guide | None:
    return Guide.objects.filter(publication_id=publication.pk).first()


def link_of(publication: Publication) -> ServiceLink | None:
    return ServiceLink.objects.filter(publication_id=publication.pk).first()


def files_of(publication: Publication) -> list[Attachment]:
    return [a for a in publication.attachments.all() if not a.is_image]


def service_links(user: User | AnonymousUser) -> list[tuple[Publication, ServiceLink]]:
    """The 便民服务 links the user may read, as big buttons (pinned first)."""
    items = list(core.readable(user, kind="service_link"))
    links = {link.publication_id: link for link in ServiceLink.objects.filter(publication__in=items)}
    return [(item, links[item.pk]) for item in items if item.pk in links]
