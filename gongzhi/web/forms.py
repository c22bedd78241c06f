"""What the portals' forms share: the text rule, how a service's refusal reaches the form, file fields,
category lists."""

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from django import forms
from django.core.validators import ProhibitNullCharactersValidator
from django.http import HttpResponse, QueryDict
from django.utils.translation import gettext_lazy as _

from gongzhi.cases import categories, selectors
from gongzhi.cases.models import Category, CategoryKind
from gongzhi.cases.services import MAX_STEP_DOCUMENTS
from gongzhi.core.errors import DomainError, Forbidden, NotFound, RateLimited
from gongzhi.core.text import (
    CONTROL_CHARACTERS_CODE,
    control_characters_message,
    has_control_characters,
    normalize_newlines,
)

MAX_PHOTOS = 9


class Form(forms.Form):
    """Every portal form. Its text follows `core.text`'s rule, as the API's does: the browser's CRLF line
    breaks arrive as LF, and a text field holding another control character than newline and tab is refused
    next to that field, by its label (this replaces Django's own check, which catches only NUL)."""

    use_required_attribute = False  # our own translated messages, not the browser's

    def __init__(self, data: Mapping[str, Any] | None = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(_newlines_normalized(data), *args, **kwargs)
        for name, field in self.fields.items():
            if isinstance(field, forms.CharField):
                field.validators = [v for v in field.validators if not isinstance(v, ProhibitNullCharactersValidator)]
                field.validators.append(_NoControlCharacters(field, name))

    def add_error(self, field: str | None, error: Any) -> None:
        """Also give the first field with an error `autofocus`: a refused form comes back with the cursor in
        the field to fix, scrolled into view, however far down the page it is (a case page's action forms
        lie 1,000 px and more below its top)."""
        super().add_error(field, error)
        first = next((name for name in self.fields if name in self.errors
                      and not self.fields[name].widget.is_hidden), None)
        for name, form_field in self.fields.items():
            if name == first:
                form_field.widget.attrs["autofocus"] = True
            else:
                form_field.widget.attrs.pop("autofocus", None)


class _NoControlCharacters:
    def __init__(self, field: forms.Field, name: str) -> None:
        self.field, self.name = field, name

    def __call__(self, value: Any) -> None:
        if isinstance(value, str) and has_control_characters(value):
            # The label is read now: some forms set it after the field was made.
            raise forms.ValidationError(control_characters_message(self.field.label or self.name),
                                        code=CONTROL_CHARACTERS_CODE)


def _newlines_normalized(data: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The submitted data with CRLF as LF; the same object when no value holds a CR."""
    if data is None:
        return None
    if isinstance(data, QueryDict):
        if not any(isinstance(v, str) and "\r" in v for _key, values in data.lists() for v in values):
            return data
        copy = data.copy()
        for key, values in data.lists():
            copy.setlist(key, [normalize_newlines(v) if isinstance(v, str) else v for v in values])
        return copy
    return {key: normalize_newlines(v) if isinstance(v, str) else v for key, v in data.items()}


def add_domain_error(form: forms.Form, error: DomainError) -> None:
    """Show a service's refusal next to the (visible) field it names, or at the top of the form.

    "Not found" and "not yours" about the page's own object are not input mistakes: they go on to the error
    middleware, which answers with the portal's 404 or 403 page. One naming a field (a household number
    typed into the form, say) is shown there.
    """
    if isinstance(error, NotFound | Forbidden) and error.field is None:
        raise error
    field = form.fields.get(error.field or "")
    # A hidden field (a form's client key, say) shows nothing next to itself: its message goes on top.
    form.add_error(error.field if field is not None and not field.widget.is_hidden else None, str(error.message))


def refused(response: HttpResponse, error: DomainError | None) -> HttpResponse:
    """A page re-rendered after a refusal answers with the refusal's status when it is "too many attempts"
    (429 with Retry-After), so scripts back off as they do on the API; other refusals keep the page's."""
    if isinstance(error, RateLimited):
        response.status_code = error.status
        if error.retry_after:
            response["Retry-After"] = str(error.retry_after)
    return response


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    """Up to MAX_PHOTOS photos from one <input type=file multiple>; the list may be empty."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*", "capture": "environment"}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if len(files) > MAX_PHOTOS:
            raise forms.ValidationError(_("最多上传%(n)d张照片。") % {"n": MAX_PHOTOS})
        return [super(MultiplePhotoField, self).clean(f, initial) for f in files]


class MultipleDocumentField(forms.FileField):
    """Up to MAX_STEP_DOCUMENTS PDF documents from one <input type=file multiple>; the list may be empty
    (each is checked by `services.upload_document`)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "application/pdf,.pdf"}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if len(files) > MAX_STEP_DOCUMENTS:
            raise forms.ValidationError(_("最多上传%(n)d个文件。") % {"n": MAX_STEP_DOCUMENTS})
        return [super(MultipleDocumentField, self).clean(f, initial) for f in files]


def complaint_category_ids() -> list[int]:
    """The categories that are 投诉举报 (a complaint names the unit it is about)."""
    return [c.pk for c in categories.active() if c.kind == CategoryKind.COMPLAINT]


POPULAR_COUNT = 8
# 常用 on a new installation, before there are cases to count: the matters seeds 000–004 name most.
POPULAR_PRESET = ("talk-environment-garbage", "talk-development-infrastructure", "dispute-neighbour",
                  "talk-service-utilities", "talk-policy-agriculture", "dispute-labour-wages",
                  "talk-environment-sewage", "dispute-homestead")


def category_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The categories a resident picks from, as option groups: 常用事项 (the 8 most reported lately), then one
    group per 说事类型, 矛盾纠纷 and 投诉举报, each with its matters and, unless it has its own 其他…, the type
    itself as "（其他）". 村民说事's 矛盾纠纷类 is left out: the 矛盾纠纷 tree lists the same disputes in detail,
    and a villager should not meet 邻里纠纷 twice. 网格事项 are the grid workers' own."""
    active = categories.active()
    children: dict[int | None, list[Category]] = defaultdict(list)
    for category in active:
        children[category.parent_id].append(category)

    def matters(node: Category) -> list[Category]:
        found = []
        for child in children[node.pk]:
            found += [child, *matters(child)]
        return found

    groups: list[tuple[str, list[tuple[str, str]]]] = []
    for root in children[None]:
        if root.kind == CategoryKind.TALK:
            types = [c for c in children[root.pk] if c.kind != CategoryKind.DISPUTE]
        elif root.kind == CategoryKind.GRID_AFFAIR:
            continue
        else:
            types = [root]
        for type_node in types:
            options = [(str(c.pk), c.name) for c in matters(type_node)]
            if not any(c.name.startswith("其他") for c in children[type_node.pk]):
                options.append((str(type_node.pk), str(_("%(name)s（其他）") % {"name": type_node.name})))
            groups.append((type_node.name, options))
    label_of = {value: label for _name, options in groups for value, label in options}
    preset = [c.pk for code in POPULAR_PRESET if (c := categories.by_code(code)) is not None]
    popular = [str(pk) for pk in dict.fromkeys([*selectors.popular_categories(POPULAR_COUNT * 2), *preset])
               if str(pk) in label_of][:POPULAR_COUNT]
    return [(str(_("常用事项")), [(value, label_of[value]) for value in popular]), *groups]
