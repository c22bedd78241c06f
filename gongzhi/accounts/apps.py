from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "gongzhi.accounts"
    verbose_name = _("账号与岗位")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from gongzhi.accounts.sessions import start_staff_session

        # A staff login starts with the idle timeout, so the next request need not write the session.
        user_logged_in.connect(start_staff_session, dispatch_uid="accounts.start_staff_session")
