"""Reads of the publishing core: what a resident may read, what a staff member manages, comments, history."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Q, QuerySet

from gongzhi.accounts.models import User
from gongzhi.core.errors import NotFound
from gongzhi.org.models import OrgUnit, UnitKind
from gongzhi.publications import kinds, policies
from gongzhi.publications.models import Attachment, Comment, Publication, PublicationEvent, Status

# At most this many characters of a search are used (a search is a LIKE on title, body and tags).
SEARCH_MAX = 50


def _search(qs: QuerySet[Publication], text: str) -> QuerySet[Publication]:
    text = " ".join(text.split())[:SEARCH_MAX]
    for word in text.split(" ") if text else []:
        qs = qs.filter(Q(title__icontains=word) | Q(body__icontains=word) | Q(tags__icontains=word))
    return qs


def readable(user: User | AnonymousUser, *, kind: str | list[str] | None = None, group: str | None = None,
             tag: str = "", search: str = "") -> QuerySet[Publication]:
    """Live items the user may read as a resident, pinned first, newest first; optionally of one kind (or
    several), of a group, with a tag, matching every word of `search`."""
    qs = Publication.objects.filter(policies.publications_visible_to(user))
    if kind is not None:
        qs = qs.filter(kind__in=[kind] if isinstance(kind, str) else kind)
    if group is not None:
        qs = qs.filter(kind__in=[spec.slug for spec in kinds.of_group(group)])
    if tag:
        qs = qs.filter(tags__contains=f",{tag.strip()},")
    if search:
        qs = _search(qs, search)
    return qs.select_related("author_unit").order_by("-pinned", "-published_at", "-id")


def readable_one(user: User | AnonymousUser, pk: int, *, kind: str | list[str] | None = None) -> Publication:
    """One item the user may read (NotFound otherwise: unpublished, withdrawn, out of period, another area)."""
    qs = Publication.objects.filter(policies.publications_visible_to(user), pk=pk)
    if kind is not None:
        qs = qs.filter(kind__in=[kind] if isinstance(kind, str) else kind)
    publication = qs.select_related("author_unit", "audience_unit").prefetch_related("attachments").first()
    if publication is None:
        raise NotFound()
    return publication


def managed(user: User | AnonymousUser, *, kind: str | list[str] | None = None, status: str = "",
            search: str = "") -> QuerySet[Publication]:
    """Items the user manages, any status, most recently changed first."""
    qs = Publication.objects.filter(policies.manageable_q(user))
    if kind is not None:
        qs = qs.filter(kind__in=[kind] if isinstance(kind, str) else kind)
    if status:
        qs = qs.filter(status=status)
    if search:
        qs = _search(qs, search)
    return qs.select_related("author_unit", "audience_unit", "created_by").order_by("-updated_at", "-id")


def managed_one(user: User | AnonymousUser, pk: int, *, kind: str | list[str] | None = None) -> Publication:
    qs = managed(user, kind=kind).filter(pk=pk).prefetch_related("attachments")
    publication = qs.first()
    if publication is None:
        raise NotFound()
    return publication


def review_queue(user: User | AnonymousUser) -> QuerySet[Publication]:
    """Items waiting for this user's review, oldest first."""
    return (Publication.objects.filter(policies.reviewable_q(user))
            .select_related("author_unit", "audience_unit", "created_by").order_by("updated_at", "id"))


def review_count(user: User | AnonymousUser) -> int:
    return Publication.objects.filter(policies.reviewable_q(user)).count()


def history(publication: Publication) -> QuerySet[PublicationEvent]:
    """The item's steps, oldest first (for its staff; callers have checked `can_manage`)."""
    return publication.events.select_related("actor").order_by("at", "id")


def comments_for_reader(user: User | AnonymousUser, publication: Publication) -> QuerySet[Comment]:
    """Comments under an item as a reader sees them: the shown ones and their own (with their state)."""
    return (Comment.objects.filter(policies.comments_visible_to(user, publication))
            .select_related("author", "answered_by").order_by("created_at", "id"))


def comments_for_staff(publication: Publication, *, state: str = "") -> QuerySet[Comment]:
    qs = publication.comment_set.select_related("author", "answered_by", "moderated_by")
    return qs.filter(state=state) if state else qs


def pending_comment_counts(user: User | AnonymousUser) -> dict[int, int]:
    """Waiting comments per item the user manages (for the management list's badges)."""
    rows = (Comment.objects.filter(state=Comment.State.PENDING, publication__in=Publication.objects.filter(
        policies.manageable_q(user)).values("pk")).values("publication_id").annotate(n=Count("id")))
    return {row["publication_id"]: row["n"] for row in rows}


def status_counts(user: User | AnonymousUser, *, kind: str | list[str] | None = None) -> dict[str, int]:
    qs = Publication.objects.filter(policies.manageable_q(user))
    if kind is not None:
        qs = qs.filter(kind__in=[kind] if isinstance(kind, str) else kind)
    counts = {status: 0 for status in Status.values}
    counts.update({row["status"]: row["n"] for row in qs.values("status").annotate(n=Count("id"))})
    return counts


# The staff pages' choices --------------------------------------------------------------------------------------

# A township's 公开范围 list goes down to its villages' grids; deeper subtrees are offered to this many units.
AUDIENCE_CHOICES_MAX = 400


def author_units(user: User | AnonymousUser, kind: str) -> list[OrgUnit]:
    """The units in whose name the user writes items of `kind`: the units of their posts with an author role
    (the top units for a system administrator)."""
    paths = policies.author_paths(user, kind)
    if not paths:
        return []
    qs = OrgUnit.objects.filter(is_active=True, kind=UnitKind.AREA)
    qs = qs.filter(parent__isnull=True) if "" in paths else qs.filter(path__in=paths)
    return list(qs.order_by("path"))


def audience_units(unit: OrgUnit) -> list[OrgUnit]:
    """The units an item of `unit` may address: itself and the areas below it, nearest first by path."""
    return list(OrgUnit.objects.filter(path__startswith=unit.path, is_active=True, kind=UnitKind.AREA,
                                       depth__lte=unit.depth + 2).order_by("path")[:AUDIENCE_CHOICES_MAX])


def managed_comment(user: User | AnonymousUser, comment_id: int) -> Comment:
    """A comment under an item the user manages (NotFound otherwise)."""
    comment = (Comment.objects.filter(pk=comment_id, publication__in=Publication.objects.filter(
        policies.manageable_q(user)).values("pk")).select_related("publication__author_unit").first())
    if comment is None:
        raise NotFound()
    return comment


def managed_attachment(user: User | AnonymousUser, attachment_id: int) -> Attachment:
    attachment = (Attachment.objects.filter(pk=attachment_id, publication__in=Publication.objects.filter(
        policies.manageable_q(user)).values("pk")).select_related("publication__author_unit").first())
    if attachment is None:
        raise NotFound()
    return attachment


def latest_by_group(user: User | AnonymousUser, *, per_group: int = 3) -> dict[str, list[Publication]]:
    """The newest few live items of each group the user may read (the public index); one query per group."""
    return {group: list(readable(user, group=group)[:per_group]) for group in kinds.GROUPS}
