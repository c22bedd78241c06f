"""The libraries' writes (M25): a guide's structured facts, a service link's address, a template's files.

Each is part of a draft: only who may edit the draft (`policies.can_edit`) may change them, and a published
item is changed by withdrawing it and publishing a corrected one, as with every publication. Each write logs
one event in the item's history.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts.models import User
from gongzhi.core import uploads
from gongzhi.core.errors import Conflict, DomainError, Forbidden
from gongzhi.core.text import clean_text
from gongzhi.publications import office, policies
from gongzhi.publications.models import Attachment, Guide, Publication, ServiceLink, Status
from gongzhi.publications.services import core

MATERIALS_MAX = 30
MATERIAL_MAX = 100
URL_MAX = 300


def _editable(actor: User, publication: Publication, kind: str) -> Publication:
    publication = (Publication.objects.select_for_update(of=("self",)).select_related("author_unit")
                   .get(pk=publication.pk))
    if publication.kind != kind:
        raise DomainError(_("该事项不是这一类别。"), code="publication_invalid")
    if not policies.can_edit(actor, publication):
        raise Conflict(_("只有草稿可以修改。")) if publication.status != Status.DRAFT else Forbidden()
    return publication


def clean_https_url(value: str, *, field: str, required: bool) -> str:
    """An https address to another service (never http, javascript: or a bare word), or "" when optional."""
    value = clean_text(value, field=field, max_length=URL_MAX,
                       required_message=_("请填写链接地址。") if required else None)
    if not value:
        return ""
    bad = DomainError(_("链接地址必须以 https:// 开头，且是完整的网址。"), code="url_invalid", field=field)
    if any(ch.isspace() for ch in value):
        raise bad
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise bad from None
    host = parts.hostname or ""
    if (parts.scheme.lower() != "https" or not host or "." not in host or parts.username or parts.password
            or (port is not None and port not in (443, 8443))):
        raise bad
    return value


def clean_materials(value: str | Sequence[str]) -> list[str]:
    """One material a line (or a list): blank lines dropped, numbering ("1." "2、" "（3）") taken off."""
    lines = value.splitlines() if isinstance(value, str) else list(value)
    out: list[str] = []
    for raw in lines:
        line = clean_text(raw, field="materials", max_length=MATERIAL_MAX + 10).lstrip("0123456789.、)）(（ •·-")
        line = line.strip()
        if not line:
            continue
        if len(line) > MATERIAL_MAX:
            raise DomainError(_("每项材料不能超过%(n)d个字。") % {"n": MATERIAL_MAX}, field="materials")
        out.append(line)
    if len(out) > MATERIALS_MAX:
        raise DomainError(_("所需材料最多%(n)d项。") % {"n": MATERIALS_MAX}, field="materials")
    return out


@dataclass
class GuideFields:
    matter: str = ""
    materials: str | Sequence[str] = field(default_factory=list)
    place: str = ""
    office_hours: str = ""
    fee: str = ""
    time_limit: str = ""
    online_url: str = ""
    phone: str = ""


@transaction.atomic
def save_guide(*, actor: User, publication: Publication, fields: GuideFields) -> Guide:
    """Fill in (or change) a draft guide's 办理事项, 所需材料, 办理地点 …"""
    publication = _editable(actor, publication, "guide")
    values = {
        "matter": clean_text(fields.matter, field="matter", max_length=100, required_message=_("请填写办理事项。")),
        "materials": clean_materials(fields.materials),
        "place": clean_text(fields.place, field="place", max_length=200),
        "office_hours": clean_text(fields.office_hours, field="office_hours", max_length=200),
        "fee": clean_text(fields.fee, field="fee", max_length=100),
        "time_limit": clean_text(fields.time_limit, field="time_limit", max_length=100),
        "online_url": clean_https_url(fields.online_url, field="online_url", required=False),
        "phone": clean_text(fields.phone, field="phone", max_length=40),
        "updated_at": timezone.now(),
    }
    guide, _created = Guide.objects.update_or_create(publication=publication, defaults=values)
    core.log_step(publication=publication, actor=actor, note=_("填写办事指南"))
    return guide


@transaction.atomic
def save_service_link(*, actor: User, publication: Publication, url: str, phone: str = "") -> ServiceLink:
    """Set a draft 便民服务 item's address (https only) and service phone."""
    publication = _editable(actor, publication, "service_link")
    values = {"url": clean_https_url(url, field="url", required=True),
              "phone": clean_text(phone, field="phone", max_length=40), "updated_at": timezone.now()}
    link, _created = ServiceLink.objects.update_or_create(publication=publication, defaults=values)
    core.log_step(publication=publication, actor=actor, note=_("设置便民服务链接"))
    return link


def add_template_files(*, actor: User, publication: Publication,
                       files: Sequence[uploads.UploadLike]) -> list[Attachment]:
    """Attach Word, Excel or PDF files to a draft 文书模板 (checked by content, see `publications.office`);
    a bad one refuses them all and nothing is stored."""
    if not files:
        raise DomainError(_("请选择要上传的文件。"), field="files")
    with transaction.atomic():
        _editable(actor, publication, "template")
    if publication.attachments.count() + len(files) > core.ATTACHMENTS_MAX:
        raise DomainError(_("每条最多%(n)d个附件。") % {"n": core.ATTACHMENTS_MAX}, code="publication_invalid",
                          field="files")
    processed = [office.process_template_file(upload) for upload in files]
    where = f"publications/{timezone.localdate():%Y/%m}"
    stored: list[str] = []
    try:
        rows = []
        for document in processed:
            name = default_storage.save(f"{where}/{uuid.uuid4().hex}.{document.extension}",
                                        ContentFile(document.content))
            stored.append(name)
            rows.append(Attachment(publication=publication, file=name, name=document.name,
                                   content_type=document.content_type, size=len(document.content)))
        with transaction.atomic():
            locked = _editable(actor, publication, "template")
            start = locked.attachments.count()
            for i, row in enumerate(rows):
                row.position = start + i
            created = Attachment.objects.bulk_create(rows)
            core.log_step(publication=locked, actor=actor, note=_("上传模板文件%(n)d个") % {"n": len(rows)})
    except BaseException:
        for name in stored:
            default_storage.delete(name)
        raise
    return created


def check_ready(publication: Publication) -> None:
    """Refuse publishing an item whose own part is missing (run by the kinds' `published` hooks)."""
    if publication.kind == "service_link" and not ServiceLink.objects.filter(publication=publication).exists():
        raise DomainError(_("请先填写便民服务的链接地址再发布。"), code="publication_incomplete", field="url")
    if publication.kind == "guide" and not Guide.objects.filter(publication=publication).exists():
        raise DomainError(_("请先填写办事指南的办理事项和所需材料再发布。"), code="publication_incomplete",
                          field="matter")
    if publication.kind == "template" and not publication.attachments.exists():
        raise DomainError(_("请先上传模板文件再发布。"), code="publication_incomplete", field="files")


__all__ = ["GuideFields", "add_template_files", "check_ready", "clean_https_url",
           "clean_materials", "save_guide", "save_service_link"]
