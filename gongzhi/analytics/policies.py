"""Who may see and acknowledge risk warnings (风险预警).

See: staff whose scope holds the warning's unit (`accounts.policies.scope_q` on the copied path). Acknowledge
(签收): staff holding a command-centre post (dispatcher, supervisor; a system administrator or superuser) on the
unit or above it, the people who answer for the warnings there (`accounts.policies.on_behalf_paths`: the same
posts and subtrees). Field staff and department handlers see the warnings of their scope but do not sign for
them; residents see none.
"""

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from gongzhi.accounts import policies as account_policies
from gongzhi.accounts.models import User
from gongzhi.analytics.models import Warning


def warnings_visible_to(user: User | AnonymousUser) -> QuerySet[Warning]:
    # A resident's or merchant's scope is empty (scope_paths counts staff posts only), so they see none.
    return Warning.objects.filter(account_policies.scope_q(user, "path"))


def can_view_warning(user: User | AnonymousUser, warning: Warning) -> bool:
    return warnings_visible_to(user).filter(pk=warning.pk).exists()


def can_acknowledge_warning(user: User | AnonymousUser, warning: Warning) -> bool:
    return any(warning.path.startswith(p) for p in account_policies.on_behalf_paths(user))
