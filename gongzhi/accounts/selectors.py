"""Reads about one signed-in user: their posts, which portal they belong in, their registry status."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import QuerySet

from gongzhi.accounts import policies
from gongzhi.accounts.models import COMMAND_ROLES, FIELD_ROLES, Membership, Role, User
from gongzhi.org.models import Level, OrgUnit

if TYPE_CHECKING:
    from gongzhi.registry.models import Resident

# Back-office roles work in the command centre; department handlers take their cases there too.
COMMAND_PORTAL_ROLES = COMMAND_ROLES | {Role.DEPT_HANDLER}


def posts_of(user: User) -> QuerySet[Membership]:
    """The user's active posts with their units, highest unit first."""
    return (Membership.objects.active().filter(user=user)
            .select_related("unit").order_by("unit__depth", "unit__path", "role"))


def primary_portal(user: User) -> str:
    """Where to send a user after login: "command", "worker" or "resident".

    The highest-reaching post wins: someone who is both a grid leader and a dispatcher works mostly in
    the command centre. Merchants use the resident portal for now.
    """
    if user.is_superuser:
        return "command"
    roles = policies.roles_of(user)
    if roles & COMMAND_PORTAL_ROLES:
        return "command"
    if roles & FIELD_ROLES:
        return "worker"
    return "resident"


def totp_offered(user: User) -> bool:
    """Whether the account settings page offers a second factor (command-centre posts only)."""
    return bool(policies.roles_of(user) & COMMAND_ROLES)


def registry_record(user: User) -> Resident | None:
    """The registry.Resident linked to this account, or None.

    Read through the reverse accessor, so accounts does not import the registry app above it.
    """
    try:
        return user.resident_record
    except ObjectDoesNotExist:
        return None


def is_verified_resident(user: User) -> bool:
    """Matched to the population register at sign-up (or later by a grid worker)."""
    return registry_record(user) is not None


def is_verified_household_head(user: User) -> bool:
    """Derived from the linked record, so it follows the register when the head of a household changes."""
    record = registry_record(user)
    return record is not None and record.is_head


def resident_grid(user: User) -> OrgUnit | None:
    """The grid of the user's resident post (their home), or None for unverified residents."""
    post = (Membership.objects.active().filter(user=user, role=Role.RESIDENT)
            .select_related("unit").first())
    return post.unit if post else None


def first_grid_post(user: User) -> OrgUnit | None:
    """The grid of the user's oldest active post at grid level (a grid worker's own grid), or None."""
    post = (Membership.objects.active().filter(user=user, unit__level=Level.GRID)
            .select_related("unit").order_by("pk").first())
    return post.unit if post else None
