"""Who may write, review, see and comment on publications.

Staff: for each kind, the subtrees of the user's posts with one of the kind's author roles (where they may write
in a unit's name) and review roles (where they may approve, publish, withdraw and moderate); the management
list filters on the same paths (`manageable_q`), so a check and a list cannot disagree.

Residents: an item is seen by the residents of its audience unit's subtree while it is live (published, inside
its period). A verified resident's area is the chain of units above their grid; items addressed to a county
or a city are public information, shown to every visitor, signed in or not. A withdrawn item, or one outside
its period, is seen by no resident (its staff still see it in their lists).
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q
from django.utils import timezone

from gongzhi.accounts import policies
from gongzhi.accounts.models import User
from gongzhi.org.models import Level, OrgUnit
from gongzhi.publications import kinds
from gongzhi.publications.models import Comment, CommentMode, Publication, Status

# Items addressed to these levels are public to everyone (政府信息公开); narrower ones to their area's residents.
PUBLIC_LEVELS = (Level.CITY, Level.COUNTY)


def _under(paths: tuple[str, ...], path: str) -> bool:
    return any(path.startswith(p) for p in paths)


def path_chain(path: str) -> list[str]:
    """The paths of a unit and of every unit above it, from the top ("62/6201/" → ["62/", "62/6201/"])."""
    parts = path.rstrip("/").split("/")
    return ["/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)] if path else []


# Staff --------------------------------------------------------------------------------------------------------

def author_paths(user: User | AnonymousUser, kind: str) -> tuple[str, ...]:
    spec = kinds.get(kind)
    return policies.paths_for_roles(user, spec.author_roles) if spec else ()


def review_paths(user: User | AnonymousUser, kind: str) -> tuple[str, ...]:
    spec = kinds.get(kind)
    return policies.paths_for_roles(user, spec.review_roles) if spec else ()


def can_author(user: User | AnonymousUser, kind: str, unit: OrgUnit) -> bool:
    """Whether the user may write items of `kind` in `unit`'s name."""
    return _under(author_paths(user, kind), unit.path)


def authorable_kinds(user: User | AnonymousUser) -> list[kinds.KindSpec]:
    return [spec for spec in kinds.KINDS.values() if author_paths(user, spec.slug)]


def can_edit(user: User | AnonymousUser, publication: Publication) -> bool:
    return (publication.status == Status.DRAFT
            and _under(author_paths(user, publication.kind), publication.author_unit.path))


def can_review(user: User | AnonymousUser, publication: Publication) -> bool:
    """Approve or return an item waiting for review: a reviewer over its author unit, and (four-eyes kinds)
    not the person who wrote it."""
    spec = kinds.get(publication.kind)
    if spec is None or publication.status != Status.IN_REVIEW:
        return False
    if spec.four_eyes and publication.created_by_id == getattr(user, "pk", None):
        return False
    return _under(review_paths(user, publication.kind), publication.author_unit.path)


def can_publish_directly(user: User | AnonymousUser, publication: Publication) -> bool:
    """Publish a draft without a second person: a reviewer of a kind that does not need four eyes."""
    spec = kinds.get(publication.kind)
    return (spec is not None and not spec.four_eyes and publication.status == Status.DRAFT
            and _under(review_paths(user, publication.kind), publication.author_unit.path))


def can_manage(user: User | AnonymousUser, publication: Publication) -> bool:
    """See the item in the management pages (any status), withdraw it, moderate and answer its comments."""
    path = publication.author_unit.path
    return _under(author_paths(user, publication.kind), path) or _under(review_paths(user, publication.kind), path)


def can_withdraw(user: User | AnonymousUser, publication: Publication) -> bool:
    return publication.status == Status.PUBLISHED and can_manage(user, publication)


def manageable_q(user: User | AnonymousUser) -> Q:
    """Publications the user manages (a filter on Publication, matching `can_manage`)."""
    q = Q(pk__in=[])
    for slug in kinds.KINDS:
        paths = tuple(dict.fromkeys(author_paths(user, slug) + review_paths(user, slug)))
        if paths:
            q |= Q(kind=slug) & policies.paths_q(paths, "author_unit__path")
    return q


def reviewable_q(user: User | AnonymousUser) -> Q:
    """Items waiting for this user's review (four-eyes kinds exclude the user's own)."""
    q = Q(pk__in=[])
    for slug, spec in kinds.KINDS.items():
        paths = review_paths(user, slug)
        if not paths:
            continue
        mine = Q(kind=slug) & policies.paths_q(paths, "author_unit__path")
        if spec.four_eyes:
            mine &= ~Q(created_by=user)
        q |= mine
    return Q(status=Status.IN_REVIEW) & q


def may_manage_publications(user: User | AnonymousUser) -> bool:
    """Whether a portal shows the user the publishing pages."""
    return any(author_paths(user, slug) or review_paths(user, slug) for slug in kinds.KINDS)


# Residents ----------------------------------------------------------------------------------------------------

def area_paths(user: User | AnonymousUser) -> tuple[str, ...]:
    """The audience paths whose items the user sees as a resident: the chain above a verified resident's grid
    (their resident post, read once per request with their other posts); none for anyone else (they see
    public items only)."""
    return tuple(dict.fromkeys(chain for path in policies.resident_paths(user) for chain in path_chain(path)))


def live_q(now=None) -> Q:  # type: ignore[no-untyped-def]
    """Published and inside its period."""
    now = now or timezone.now()
    return (Q(status=Status.PUBLISHED) & (Q(publish_from__isnull=True) | Q(publish_from__lte=now))
            & (Q(publish_until__isnull=True) | Q(publish_until__gt=now)))


def audience_q(user: User | AnonymousUser) -> Q:
    """Items addressed to the user's area, or to a county or city (public)."""
    return Q(audience_path__in=area_paths(user)) | Q(audience_unit__level__in=PUBLIC_LEVELS)


def publications_visible_to(user: User | AnonymousUser, now=None) -> Q:  # type: ignore[no-untyped-def]
    """What the user may read as a resident (a filter on Publication)."""
    return live_q(now) & audience_q(user)


def can_view(user: User | AnonymousUser, publication: Publication) -> bool:
    if not publication.is_live():
        return False
    return (publication.audience_path in area_paths(user)
            or publication.audience_unit.level in PUBLIC_LEVELS)


def can_comment(user: User | AnonymousUser, publication: Publication) -> bool:
    """A verified resident of the item's area, on a live item open to comments."""
    return (publication.comments != CommentMode.OFF and publication.is_live()
            and publication.audience_path in area_paths(user))


def comments_visible_to(user: User | AnonymousUser, publication: Publication) -> Q:
    """Comments a reader sees under an item: the shown ones, and their own whatever their state."""
    mine = Q(author=user) if user.is_authenticated else Q(pk__in=[])
    return Q(publication=publication) & (Q(state=Comment.State.VISIBLE) | mine)
