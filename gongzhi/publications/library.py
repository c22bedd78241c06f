"""The library kinds (M25: 惠农政策 policy, 法律法规 law, 文书模板 template, 办事指南 guide, 便民服务 service_link):
their hooks (a guide, a link or a template is published only once its own part is filled in) and their part
of the item pages (`resident/publications/kinds/<slug>.html`, `web/publications/kinds/<slug>.html`)."""

from __future__ import annotations

from gongzhi.accounts.models import User
from gongzhi.publications import kinds, policies
from gongzhi.publications.models import Publication
from gongzhi.publications.selectors import library as selectors
from gongzhi.publications.services import library as services

SLUGS = ("policy", "law", "template", "guide", "service_link")


@kinds.on("published", "guide", "service_link", "template")
def _ready(actor: User, publication: Publication) -> None:
    services.check_ready(publication)


def _context(publication: Publication) -> dict:
    if publication.kind == "guide":
        return {"guide": selectors.guide_of(publication)}
    if publication.kind == "service_link":
        return {"link": selectors.link_of(publication)}
    return {"files": selectors.files_of(publication)}


@kinds.page_context("reader", *SLUGS)
def reader_context(user: User, publication: Publication) -> dict:
    return _context(publication)


@kinds.page_context("staff", *SLUGS)
def staff_context(user: User, publication: Publication) -> dict:
    return {**_context(publication), "may_edit": policies.can_edit(user, publication)}
