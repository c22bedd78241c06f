from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


def _category_tree_changed(**kwargs: Any) -> None:
    from gongzhi.cases import categories

    categories.bump()


class CasesConfig(AppConfig):
    name = "gongzhi.cases"
    verbose_name = _("事件")

    def ready(self) -> None:
        from gongzhi.cases import notices  # noqa: F401  (registers the case notice types)

        # Signals rather than save() overrides: they also fire for the admin's bulk delete and for cascades.
        for model_name in ("Category", "TimeLimit"):
            model = self.get_model(model_name)
            post_save.connect(_category_tree_changed, sender=model, dispatch_uid=f"category-tree-{model_name}")
            post_delete.connect(_category_tree_changed, sender=model,
                                dispatch_uid=f"category-tree-delete-{model_name}")
