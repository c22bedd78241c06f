from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PointsConfig(AppConfig):
    name = "gongzhi.points"
    verbose_name = _("积分")

    def ready(self) -> None:
        from gongzhi.points import notices

        notices.register()
