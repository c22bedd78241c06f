"""矛盾纠纷: recording the parties to a dispute and its mediation sessions with their agreements.

A dispute is a case whose category has kind "dispute"; such a case is never public (the category
constraint forbids a public dispute category and `services.submit_case` keeps the case private), and
nothing here changes that. Parties and mediation sessions are records on the case, not workflow steps:
they write no CaseLog row and never change the case's status, and they are refused once the case is
finished (rejected, closed or rated).

A party's ID number is validated and kept only as a keyed hash (`core.pii.keyed_hash`), which is enough to
find the same person in other disputes; the number itself is never stored. The risk flags derived from
parties and categories are reads: `selectors.dispute_risks`, `selectors.dispute_cases_at_risk`.
"""

from __future__ import annotations

import datetime
import io
import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts import policies as account_policies
from gongzhi.accounts.models import User
from gongzhi.cases import policies
from gongzhi.cases.models import Case, CategoryKind, DisputeParty, MediationSession
from gongzhi.cases.workflow import FINAL_STATES, Capacity, Status
from gongzhi.core import pii, uploads
from gongzhi.core.errors import DomainError, Forbidden, NotFound
from gongzhi.core.text import clean_text
from gongzhi.core.uploads import UploadLike
from gongzhi.core.validators import normalize_id_number
from gongzhi.registry.models import Household

AGREEMENT_PDF_MAX_BYTES = 10 * 1024 * 1024
SUMMARY_MAX_LENGTH = 5000
NAME_MAX_LENGTH = 60  # DisputeParty.name
ROLE_MAX_LENGTH = 20  # DisputeParty.role

_PARTY_CAPACITIES = frozenset({Capacity.DISPATCHER, Capacity.ASSIGNEE, Capacity.GRID_STAFF})
_MEDIATION_CAPACITIES = frozenset({Capacity.DISPATCHER, Capacity.ASSIGNEE})
# Only these outcomes come with a 调解协议书; "agreed" must have one.
_OUTCOMES_WITH_AGREEMENT = frozenset({MediationSession.Outcome.AGREED, MediationSession.Outcome.PARTIAL})

_PDF_MAGIC = b"%PDF-"
_PDF_EOF = b"%%EOF"
_JPEG_MAGIC = b"\xff\xd8\xff"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# ------------------------------------------------------------------------------------------- checks


def _locked_dispute(*, actor: User, case: Case, allowed: frozenset[str], verb: str) -> Case:
    """Lock the case and check, in this order: scope (404), capacity (403), a dispute, not finished."""
    case = (Case.objects.select_for_update(of=("self",)).select_related("holder", "category")
            .get(pk=case.pk))
    if not policies.cases_visible_to(actor).filter(pk=case.pk).exists():
        raise NotFound()
    if not policies.capacities(actor, case) & allowed:
        raise Forbidden(_("您不能对该事件%(verb)s。") % {"verb": verb})
    if case.category.kind != CategoryKind.DISPUTE:
        raise DomainError(_("只有矛盾纠纷类事件才能登记当事人和调解记录。"), code="not_a_dispute", field="case")
    if case.status in FINAL_STATES:
        raise DomainError(_("事件已结束（%(status)s），不能再修改纠纷信息。") % {
            "status": Status(case.status).label}, code="invalid_state")
    return case


# ------------------------------------------------------------------------------------------ parties


@transaction.atomic
def add_party(*, actor: User, case: Case, name: str, id_number: str | None = None,
              household: Household | None = None, role: str = "") -> DisputeParty:
    """Record a party (当事人) to a dispute case. The ID number, if given, is kept only as a keyed hash."""
    case = _locked_dispute(actor=actor, case=case, allowed=_PARTY_CAPACITIES, verb=_("登记当事人"))
    name = clean_text(name, field="name", max_length=NAME_MAX_LENGTH, required_message=_("请填写当事人姓名或名称。"))
    role = clean_text(role, field="role", max_length=ROLE_MAX_LENGTH)
    id_hash = ""
    if id_number is not None and id_number.strip():
        id_hash = pii.keyed_hash(normalize_id_number(id_number))
        if case.parties.filter(id_number_hash=id_hash).exists():
            raise DomainError(_("该当事人已经登记过了。"), code="duplicate_party", field="id_number")
    if household is not None:
        household = Household.objects.select_related("grid").filter(pk=household.pk).first()
        if household is None or not account_policies.in_scope(actor, household.grid.path):
            raise NotFound(_("未找到该户，或不在您的管辖范围内。"), field="household")
    return DisputeParty.objects.create(case=case, name=name, id_number_hash=id_hash, household=household,
                                       role=role)


# ---------------------------------------------------------------------------------------- mediation


def _agreement_error(message: str, code: str) -> DomainError:
    return DomainError(message, code=code, field="agreement")


def _read_agreement(upload: UploadLike) -> tuple[bytes, str]:
    """The bytes to keep and their extension: a PDF as it is, a JPEG/PNG re-encoded without metadata."""
    seek = getattr(upload, "seek", None)
    if callable(seek):
        try:
            seek(0)
        except (OSError, ValueError):
            pass
    head = upload.read(len(_PNG_MAGIC))
    if not head:
        raise _agreement_error(_("调解协议书是空文件，请重新选择。"), "agreement_empty")
    if head.startswith(_PDF_MAGIC):
        size = getattr(upload, "size", None)
        too_large = _agreement_error(
            _("调解协议书PDF文件不能超过%(n)dMB。") % {"n": AGREEMENT_PDF_MAX_BYTES // (1024 * 1024)},
            "agreement_too_large")
        if isinstance(size, int) and size > AGREEMENT_PDF_MAX_BYTES:
            raise too_large
        data = head + upload.read(AGREEMENT_PDF_MAX_BYTES + 1 - len(head))
        if len(data) > AGREEMENT_PDF_MAX_BYTES:
            raise too_large
        # Readers look for the end marker in the last 1024 bytes; without it the upload was cut short.
        if _PDF_EOF not in data[-1024:]:
            raise _agreement_error(_("调解协议书PDF文件不完整，请重新上传。"), "agreement_corrupt")
        return data, "pdf"
    if head.startswith(_JPEG_MAGIC) or head.startswith(_PNG_MAGIC):
        # process_photo refuses anything over its own limit; reading one byte more is enough to tell.
        rest = upload.read(settings.UPLOAD_PHOTO_MAX_BYTES + 1)
        try:
            photo = uploads.process_photo(io.BytesIO(head + rest))
        except DomainError as err:  # its messages speak of a photo; the field is ours
            raise DomainError(err.message, code=err.code, field="agreement") from None
        return photo.content, photo.extension
    raise _agreement_error(_("调解协议书只能是PDF文件或JPEG、PNG图片。"), "agreement_type")


@transaction.atomic
def record_mediation(*, actor: User, case: Case, kind: str, held_on: datetime.date, outcome: str,
                     summary: str = "", agreement: UploadLike | None = None) -> MediationSession:
    """Record a mediation session held by `actor` (the mediator). "agreed" needs the signed 调解协议书
    (PDF up to 10 MB, or a JPEG/PNG photo of it, checked by content)."""
    case = _locked_dispute(actor=actor, case=case, allowed=_MEDIATION_CAPACITIES, verb=_("登记调解"))
    if kind not in MediationSession.Kind.values:
        raise DomainError(_("请选择调解类型。"), field="kind")
    if outcome not in MediationSession.Outcome.values:
        raise DomainError(_("请选择调解结果。"), field="outcome")
    if isinstance(held_on, datetime.datetime):
        held_on = timezone.localdate(held_on) if timezone.is_aware(held_on) else held_on.date()
    if not isinstance(held_on, datetime.date):
        raise DomainError(_("请填写调解日期。"), field="held_on")
    if held_on > timezone.localdate():
        raise DomainError(_("调解日期不能晚于今天。"), field="held_on")
    summary = clean_text(summary, field="summary", max_length=SUMMARY_MAX_LENGTH)
    if agreement is None and outcome == MediationSession.Outcome.AGREED:
        raise _agreement_error(_("调解成功须上传双方签字的调解协议书。"), "agreement_required")
    if agreement is not None and outcome not in _OUTCOMES_WITH_AGREEMENT:
        raise _agreement_error(_("调解未达成协议，不能上传调解协议书。"), "agreement_unexpected")
    session = MediationSession(case=case, kind=kind, mediator=actor, held_on=held_on, outcome=outcome,
                               summary=summary)
    if agreement is not None:
        content, extension = _read_agreement(agreement)
        # A fresh name: the uploaded one may carry the parties' names.
        session.agreement.save(f"{uuid.uuid4().hex}.{extension}", ContentFile(content), save=False)
    session.save()
    return session
