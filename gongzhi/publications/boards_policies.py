"""Who may do what with 红黑榜 (boards) and 建言献策 (suggestions), on top of the core's `policies`.

Boards: the board's authors (a village's writers) change its entries and settings while it is a draft; its
managers (authors and the township's reviewers, `policies.can_manage`) decide appeals. Any verified resident of
the board's area may appeal an entry while the board is shown: the person named often has no account, and a
neighbour or relative who knows a mistake should be able to say so (the village decides, and the appellant is
told). Suggestions: a verified resident writes to their own village; the village's reviewers (村级管理员, the
township's dispatchers) reply and publish; the author always sees their own; residents of the area support a
published one.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser

from gongzhi.accounts import policies as account_policies
from gongzhi.accounts.models import User
from gongzhi.org.models import Level, OrgUnit
from gongzhi.publications import policies
from gongzhi.publications.models import Publication, Status


def can_edit_board(user: User | AnonymousUser, publication: Publication) -> bool:
    return publication.kind == "board" and policies.can_edit(user, publication)


def can_manage_board(user: User | AnonymousUser, publication: Publication) -> bool:
    return publication.kind == "board" and policies.can_manage(user, publication)


def can_appeal(user: User | AnonymousUser, publication: Publication) -> bool:
    """A verified resident of the board's area, while it is shown (published, inside its period)."""
    return (publication.kind == "board" and publication.is_live()
            and publication.audience_path in policies.area_paths(user))


def home_village(user: User | AnonymousUser) -> OrgUnit | None:
    """The village (村/社区) of a verified resident's grid, or None."""
    paths = account_policies.resident_paths(user)
    if not paths:
        return None
    chain = policies.path_chain(paths[0])
    return OrgUnit.objects.filter(path__in=chain, level=Level.VILLAGE).first()


def can_manage_suggestion(user: User | AnonymousUser, publication: Publication) -> bool:
    return publication.kind == "suggestion" and policies.can_manage(user, publication)


def is_suggestion_author(user: User | AnonymousUser, publication: Publication) -> bool:
    return (publication.kind == "suggestion" and user.is_authenticated
            and publication.created_by_id == user.pk)


def can_support(user: User | AnonymousUser, publication: Publication) -> bool:
    return (publication.kind == "suggestion" and publication.status == Status.PUBLISHED
            and publication.is_live() and publication.audience_path in policies.area_paths(user))
