from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkerConfig(AppConfig):
    name = "gongzhi.worker"
    verbose_name = _("网格端")
