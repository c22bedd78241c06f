"""The change history of registry records (`RecordChange`): every service that creates or edits a record takes
a `snapshot` before and after and calls `log_change`, in its own transaction.

Values are kept as the record page shows them (choices by label, personal numbers masked, many-to-many lists
joined), so the history never holds more than the page does."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import models
from django.utils import timezone

from gongzhi.accounts.models import User
from gongzhi.core.pii import SecretValue
from gongzhi.registry.models import RecordChange

Snapshot = dict[str, str]


def record_type(obj: models.Model) -> str:
    return obj._meta.model_name or ""


def _field(obj: models.Model, name: str) -> models.Field:  # type: ignore[type-arg]
    field = obj._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field


def _shown(obj: models.Model, field: models.Field) -> str:  # type: ignore[type-arg]
    if field.many_to_many:
        if obj.pk is None:
            return ""
        return "、".join(sorted(str(o) for o in getattr(obj, field.name).all()))
    if field.choices:
        return str(getattr(obj, f"get_{field.name}_display")())
    value = getattr(obj, field.name)
    if value is None or value == "":
        return ""
    if isinstance(value, SecretValue):
        return value.masked
    return str(value)


def snapshot(obj: models.Model, fields: Sequence[str]) -> Snapshot:
    """The named fields of `obj` as shown on its page, keyed by their names (empty strings for a new record)."""
    return {name: _shown(obj, _field(obj, name)) for name in fields}


def diff(obj: models.Model, before: Snapshot, after: Snapshot) -> dict[str, list[str]]:
    """{verbose name: [old, new]} for the fields whose shown value changed."""
    return {str(_field(obj, name).verbose_name): [before.get(name, ""), value]
            for name, value in after.items() if before.get(name, "") != value}


def log_change(*, actor: User | None, obj: models.Model, action: str, before: Snapshot, after: Snapshot,
               source: str = "") -> RecordChange | None:
    """One history row for `obj`, or none when nothing shown changed (an edit that saved the same values)."""
    changes = diff(obj, before, after)
    if not changes and action == RecordChange.Action.UPDATED:
        return None
    return RecordChange.objects.create(record_type=record_type(obj), record_id=obj.pk, action=action,
                                       changes=changes, actor=actor, source=source, at=timezone.now())


def log_many(rows: Iterable[RecordChange], *, batch_size: int = 2000) -> None:
    """Bulk history rows (imports build them with `RecordChange(...)` and `diff`)."""
    RecordChange.objects.bulk_create(rows, batch_size=batch_size)
