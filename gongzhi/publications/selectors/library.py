"""The libraries' reads (M25): the tag cloud of what a resident may read, a guide's facts, a template's files."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser

from gongzhi.accounts.models import User
from gongzhi.core.errors import NotFound
from gongzhi.publications import kinds
from gongzhi.publications.models import Attachment, Guide, Publication, ServiceLink
from gongzhi.publications.selectors import core

TAGS_SHOWN = 30
LIBRARY_KINDS = ("policy", "law", "template", "guide", "service_link")


@dataclass(frozen=True)
class TagCount:
    tag: str
    count: int
    size: int  # 1 … 3, for the cloud's type size


def tag_cloud(user: User | AnonymousUser, *, kind: str | None = None) -> list[TagCount]:
    """The tags of the library items the user may read (of one kind, if given), most used first (ties by
    name), at most TAGS_SHOWN."""
    qs = core.readable(user, kind=kind) if kind in LIBRARY_KINDS else core.readable(user, group=kinds.Group.LIBRARY)
    counts: Counter[str] = Counter()
    for tags in qs.values_list("tags", flat=True):
        counts.update(tag for tag in tags.split(",") if tag)
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:TAGS_SHOWN]
    most = top[0][1] if top else 1
    return [TagCount(tag, n, 3 if n * 3 > most * 2 else 2 if n * 3 > most else 1) for tag, n in top]


def library_kinds() -> list[kinds.KindSpec]:
    return kinds.of_group(kinds.Group.LIBRARY)


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


def readable_file(user: User | AnonymousUser, attachment_id: int) -> Attachment:
    """A file of a library item the user may read (NotFound otherwise)."""
    attachment = Attachment.objects.select_related("publication").filter(pk=attachment_id).first()
    if attachment is None or attachment.publication.kind not in LIBRARY_KINDS:
        raise NotFound()
    core.readable_one(user, attachment.publication_id)
    return attachment
