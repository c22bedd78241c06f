"""The kinds of publication, as data: who writes them, who reviews them, where residents find them.

Every kind is a `KindSpec` in `KINDS`. A kind that needs more than the core (a board's entries and appeals, a
meeting's stages, an alert's SMS) has its own module, named in `module`, imported at start-up; it may register
hooks that run inside the core's transaction when one of its items is published or withdrawn
(`@on("published", "alert")`).

Review: an item goes draft → in_review → published. Someone who may review a kind (a post with one of its
`review_roles` over the author unit) may also publish their own draft at once, unless the kind is `four_eyes`
(红黑榜, 三务公开: the township checks what a village puts up, so a second person must approve).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.models import Role

if TYPE_CHECKING:
    from gongzhi.accounts.models import User
    from gongzhi.publications.models import Publication

VILLAGE_WRITERS = frozenset({Role.VILLAGE_ADMIN, Role.VILLAGE_STATION, Role.DISPATCHER, Role.SYSTEM_ADMIN})
VILLAGE_REVIEWERS = frozenset({Role.VILLAGE_ADMIN, Role.DISPATCHER, Role.SYSTEM_ADMIN})
TOWNSHIP_REVIEWERS = frozenset({Role.DISPATCHER, Role.SYSTEM_ADMIN})


class Group:
    """Where residents find a kind: one section of the resident portal per group."""

    NOTICES = "notices"        # 村情动态, 安全提示, 活动通知, 紧急通知
    BOARDS = "boards"          # 红黑榜
    DISCLOSURES = "disclosures"  # 三务公开
    MEETINGS = "meetings"      # 村民说事
    LIBRARY = "library"        # 政策, 法律法规, 文书模板, 办事指南, 便民服务
    VOLUNTEERS = "volunteers"  # 志愿服务
    SUGGESTIONS = "suggestions"  # 建言献策


# The resident portal's sections, in the order the public index shows them: (title, one line on what is there).
GROUPS: dict[str, tuple[str | Promise, str | Promise]] = {
    Group.NOTICES: (_("通知公告"), _("村情动态、安全提示、活动通知和紧急通知")),
    Group.DISCLOSURES: (_("三务公开"), _("党务、村务、财务公开，群众可以提问")),
    Group.MEETINGS: (_("村民说事"), _("说、议、办、督、评，村里的事大家商量着办")),
    Group.BOARDS: (_("红黑榜"), _("好人好事上红榜，陈规陋习上黑榜")),
    Group.LIBRARY: (_("政策法规与办事指南"), _("惠农政策、法律法规、文书模板、办事指南、便民服务")),
    Group.VOLUNTEERS: (_("志愿服务"), _("志愿队伍和志愿活动，报名参加")),
    Group.SUGGESTIONS: (_("建言献策"), _("为村里发展提建议，支持好的建议")),
}


@dataclass(frozen=True)
class KindSpec:
    slug: str
    label: str | Promise
    group: str
    author_roles: frozenset[str]
    review_roles: frozenset[str]
    four_eyes: bool = False
    # Published items also appear in residents' messages (read by query from the area, never copied per person).
    in_inbox: bool = False
    # The comment setting a new item starts with (CommentMode value).
    comments: str = "off"
    module: str = ""


KINDS: dict[str, KindSpec] = {spec.slug: spec for spec in [
    KindSpec("news", _("村情动态"), Group.NOTICES, VILLAGE_WRITERS, VILLAGE_REVIEWERS, in_inbox=True),
    KindSpec("safety", _("安全提示"), Group.NOTICES, VILLAGE_WRITERS, VILLAGE_REVIEWERS, in_inbox=True),
    KindSpec("activity_notice", _("活动通知"), Group.NOTICES, VILLAGE_WRITERS, VILLAGE_REVIEWERS, in_inbox=True),
    KindSpec("alert", _("紧急通知"), Group.NOTICES, VILLAGE_REVIEWERS, VILLAGE_REVIEWERS, in_inbox=True,
             module="gongzhi.publications.alerts"),
    KindSpec("board", _("红黑榜"), Group.BOARDS, VILLAGE_WRITERS, TOWNSHIP_REVIEWERS, four_eyes=True,
             module="gongzhi.publications.boards"),
    KindSpec("disclosure", _("三务公开"), Group.DISCLOSURES, VILLAGE_WRITERS, TOWNSHIP_REVIEWERS, four_eyes=True,
             comments="moderated", module="gongzhi.publications.affairs"),
    KindSpec("meeting", _("村民说事"), Group.MEETINGS, VILLAGE_WRITERS, VILLAGE_REVIEWERS, comments="moderated",
             module="gongzhi.publications.affairs"),
    KindSpec("policy", _("惠农政策"), Group.LIBRARY, TOWNSHIP_REVIEWERS, TOWNSHIP_REVIEWERS,
             module="gongzhi.publications.library"),
    KindSpec("law", _("法律法规"), Group.LIBRARY, TOWNSHIP_REVIEWERS, TOWNSHIP_REVIEWERS,
             module="gongzhi.publications.library"),
    KindSpec("template", _("文书模板"), Group.LIBRARY, TOWNSHIP_REVIEWERS, TOWNSHIP_REVIEWERS,
             module="gongzhi.publications.library"),
    KindSpec("guide", _("办事指南"), Group.LIBRARY, VILLAGE_WRITERS, TOWNSHIP_REVIEWERS,
             module="gongzhi.publications.library"),
    KindSpec("service_link", _("便民服务"), Group.LIBRARY, TOWNSHIP_REVIEWERS, TOWNSHIP_REVIEWERS,
             module="gongzhi.publications.library"),
    KindSpec("volunteer_activity", _("志愿活动"), Group.VOLUNTEERS, VILLAGE_WRITERS, VILLAGE_REVIEWERS,
             module="gongzhi.publications.volunteers"),
    KindSpec("suggestion", _("建言献策"), Group.SUGGESTIONS, frozenset(), VILLAGE_REVIEWERS, comments="open",
             module="gongzhi.publications.boards"),
]}


def get(slug: str) -> KindSpec | None:
    return KINDS.get(slug)


def of_group(group: str) -> list[KindSpec]:
    return [spec for spec in KINDS.values() if spec.group == group]


def inbox_kinds() -> list[str]:
    return [spec.slug for spec in KINDS.values() if spec.in_inbox]


# Hooks ------------------------------------------------------------------------------------------------------

Hook = Callable[["User", "Publication"], None]
_HOOKS: dict[tuple[str, str], list[Hook]] = {}
EVENTS = ("published", "withdrawn")


def on(event: str, *slugs: str) -> Callable[[Hook], Hook]:
    """Register `fn(actor, publication)` to run, inside the core's transaction, when an item of one of `slugs`
    is published or withdrawn. Raising DomainError refuses the step."""
    if event not in EVENTS:
        raise ValueError(f"unknown publication event {event!r}")

    def register(fn: Hook) -> Hook:
        for slug in slugs:
            hooks = _HOOKS.setdefault((event, slug), [])
            if fn not in hooks:
                hooks.append(fn)
        return fn

    return register


def run_hooks(event: str, actor: User, publication: Publication) -> None:
    for fn in _HOOKS.get((event, publication.kind), []):
        fn(actor, publication)


# Pages ------------------------------------------------------------------------------------------------------
# A kind shows more than the core on an item's page (a board's entries, a meeting's five stages, an activity's
# slots). It registers a function giving the extra context for a reader (resident portal) or for the item's
# staff; the page puts it under `kind` and includes `resident/publications/kinds/<slug>.html` or
# `web/publications/kinds/<slug>.html` when that template exists.

Context = Callable[["User", "Publication"], dict]
_CONTEXT: dict[tuple[str, str], Context] = {}


def page_context(audience: str, *slugs: str) -> Callable[[Context], Context]:
    """Register `fn(user, publication) -> dict` for the reader's page (`audience="reader"`) or the staff page
    (`audience="staff"`) of items of `slugs`."""
    if audience not in ("reader", "staff"):
        raise ValueError(f"unknown page audience {audience!r}")

    def register(fn: Context) -> Context:
        for slug in slugs:
            _CONTEXT[(audience, slug)] = fn
        return fn

    return register


def context_for(audience: str, user: User, publication: Publication) -> dict:
    fn = _CONTEXT.get((audience, publication.kind))
    return fn(user, publication) if fn else {}


@dataclass
class _Loaded:
    done: bool = False
    modules: list[str] = field(default_factory=list)


_loaded = _Loaded()


def load_all() -> None:
    """Import every kind's own module (and the core's notice types) once, at start-up."""
    if _loaded.done:
        return
    from gongzhi.publications import notices

    notices.register()
    for module in dict.fromkeys(spec.module for spec in KINDS.values() if spec.module):
        importlib.import_module(module)
        _loaded.modules.append(module)
    _loaded.done = True
