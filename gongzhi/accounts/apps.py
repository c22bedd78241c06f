from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


def _posts_changed(**kwargs: Any) -> None:
    from gongzhi.accounts import stations

    stations.bump()


class AccountsConfig(AppConfig):
    name = "gongzhi.accounts"
    verbose_name = _("账号与岗位")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from gongzhi.accounts.sessions import start_staff_session

        # A staff login starts with the idle timeout, so the next request need not write the session.
        user_logged_in.connect(start_staff_session, dispatch_uid="accounts.start_staff_session")
        # Signals rather than save() overrides: they also fire for the admin's bulk delete and for cascades.
        membership = self.get_model("Membership")
        post_save.connect(_posts_changed, sender=membership, dispatch_uid="accounts.posts-saved")
        post_delete.connect(_posts_changed, sender=membership, dispatch_uid="accounts.posts-deleted")
