from django.contrib.auth.backends import ModelBackend

from gongzhi.accounts.models import User


class StaffPasswordBackend(ModelBackend):
    """Passwords are for staff only; residents sign in with an SMS code (see accounts.services).

    Lock-out and the second factor are enforced by `accounts.services.staff_login`, which callers use
    instead of calling `authenticate` directly.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None and user.kind != User.Kind.STAFF:
            return None
        return user
