from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "gongzhi.analytics"
    verbose_name = _("统计考核")

    def ready(self) -> None:
        from gongzhi.analytics import notices

        notices.register()  # the task lists' notice types
