"""Who may open which portal, and where to send everyone else.

`portal_required` guards the worker and command portals: a signed-in person without the right post is sent
to their own portal; only when that is this very portal (nothing else to offer) do they get a 404, as for
anything else outside their scope. `login_required` guards the resident portal's own pages.
"""

from functools import wraps
from urllib.parse import urlencode

from django.http import Http404, HttpRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from gongzhi.accounts import policies
from gongzhi.accounts.models import COMMAND_ROLES, FIELD_ROLES, Role
from gongzhi.accounts.selectors import primary_portal

PORTAL_ROLES = {
    "worker": FIELD_ROLES,
    "command": COMMAND_ROLES | {Role.DEPT_HANDLER},
}


def portal_home(user) -> str:
    return reverse(f"{primary_portal(user)}:home")


def staff_login_url(next_url: str) -> str:
    return reverse("command:login") + "?" + urlencode({"next": next_url})


def safe_next(request: HttpRequest, value: str | None) -> str | None:
    if value and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()},
                                                 require_https=request.is_secure()):
        return value
    return None


def login_required(view):
    """Signed-in users only; anyone else goes to the resident login and comes back afterwards."""
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect(reverse("resident:login") + "?" + urlencode({"next": request.get_full_path()}))
        return view(request, *args, **kwargs)

    return wrapped


def may_use_portal(user, portal: str) -> bool:
    if not user.is_authenticated:
        return False
    if portal == "command" and user.is_superuser:
        return True
    return bool(policies.roles_of(user) & PORTAL_ROLES[portal])


def portal_required(portal: str):
    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect(staff_login_url(request.get_full_path()))
            if not may_use_portal(user, portal):
                if primary_portal(user) == portal:
                    raise Http404
                return redirect(portal_home(user))
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
