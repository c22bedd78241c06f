from django.contrib.auth.backends import ModelBackend

from gongzhi.accounts.models import User
from gongzhi.core.rows import RowByPk


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

    def get_user(self, user_id):
        """The signed-in user of a session, read on every signed-in request (see core.rows)."""
        user = _USER_BY_PK.get(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


_USER_BY_PK = RowByPk(User)
