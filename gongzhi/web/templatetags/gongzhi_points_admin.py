"""`{% if user|may_use_points_admin %}`: whether the portals' navigation shows 积分管理 to the user.

The same answer as `points.policies.may_use_points_office` (a post among the points viewing roles, or a
superuser), read from the roles `accounts.policies.roles_of` keeps on the user for the request (the portal's
guard has read them already), so the link costs no query on every page. The pages themselves check the policy.
"""

from django import template

from gongzhi.accounts.models import User
from gongzhi.accounts.policies import roles_of
from gongzhi.points.policies import VIEW_ROLES

register = template.Library()


@register.filter
def may_use_points_admin(user: User) -> bool:
    if not (user.is_authenticated and user.is_active and user.kind == User.Kind.STAFF):
        return False
    return user.is_superuser or bool(roles_of(user) & VIEW_ROLES)
