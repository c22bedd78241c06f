from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PublicationsConfig(AppConfig):
    name = "gongzhi.publications"
    verbose_name = _("公开与参与")

    def ready(self) -> None:
        # Each kind registers its spec (and its notice types) when its module is imported.
        from gongzhi.publications import kinds

        kinds.load_all()
