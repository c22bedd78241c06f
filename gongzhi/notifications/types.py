"""Notice types: every kind of message the system sends, what it opens, who hears it.

Each app that tells people things registers its types here (the case workflow in `cases.notices`; later
points, publications …) instead of extending a shared if/elif. A type names

- `kind`, the dotted slug stored on each notification ("case.accepted");
- `target`, the kind of object the message opens ("case"), or a list ("cases.due"), or "" for none. A
  notification stores only the target and its id; each portal turns that into its own page when the
  recipient opens it (gongzhi.web.targets), so domain code never writes a portal URL;
- `audience`, who hears it, as a capacity the registering app resolves into people (for cases, a
  `workflow.Capacity`: the reporter, the lead unit, the holding level's dispatchers …);
- `sms`, whether it also goes out by text message (each costs money);
- `build`, which makes the title and the text from the subject and the event (in the caller's language).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NoticeType:
    kind: str
    label: str | Promise
    target: str = ""
    audience: str = ""
    sms: bool = False
    build: Callable[..., tuple[str, str]] | None = field(default=None, compare=False)
    # What makes the registering app send it (for cases: the workflow actions whose log row announces it).
    on: frozenset[str] = frozenset()


_TYPES: dict[str, NoticeType] = {}


def register(*types: NoticeType) -> None:
    """Add notice types; registering the same kind twice with a different definition is a programming error."""
    for notice in types:
        known = _TYPES.get(notice.kind)
        if known is not None and known != notice:
            raise ValueError(f"notice type {notice.kind!r} is registered twice")
        _TYPES[notice.kind] = notice


def get(kind: str) -> NoticeType | None:
    return _TYPES.get(kind)


def all_types() -> list[NoticeType]:
    return sorted(_TYPES.values(), key=lambda t: t.kind)


# A message someone writes to named people (an administrator's note, a test): no target, no audience rule.
SYSTEM_MESSAGE = NoticeType(kind="system.message", label=_("系统消息"))
register(SYSTEM_MESSAGE)

