"""矛盾纠纷: the parties to a dispute, its mediation sessions and agreements, and its risk flags.

A dispute is a case whose category has kind "dispute"; such a case is never public (the category
constraint forbids a public dispute category and `services.submit_case` keeps the case private), and
nothing here changes that. Parties and mediation sessions are records on the case, not workflow steps:
they write no CaseLog row and never change the case's status, and they are refused once the case is
finished (rejected, closed or rated).

A party's ID number is validated and kept only as a keyed hash (`core.pii.keyed_hash`), which is enough to
find the same person in other disputes; the number itself is never stored.

Risk flags (`dispute_risks`, `dispute_cases_at_risk`):
- "repeat": a party (same ID-number hash) or a household appears in two or more dispute cases reported in
  the 90 calendar days up to now (Asia/Shanghai dates; the case itself counts when it lies in that window;
  cases merged into another are duplicates and do not count; an older case is flagged too when one of its
  parties has two recent disputes). Cases anywhere count, not only those the viewer sees: the flag tells
  nothing about the other cases.
- "marriage_family_open": the category or one of its ancestors is a marriage/family category and the case
  is not settled yet (an open state, or deferred) — the "民转刑" risk.
"""

from __future__ import annotations

import datetime
import io
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts import policies as account_policies
from gongzhi.accounts.models import User
from gongzhi.cases import categories, policies
from gongzhi.cases.models import Case, Category, CategoryKind, DisputeParty, MediationSession
from gongzhi.cases.workflow import FINAL_STATES, OPEN_STATES, Capacity, Status
from gongzhi.core import pii, uploads
from gongzhi.core.errors import DomainError, Forbidden, NotFound
from gongzhi.core.uploads import UploadLike
from gongzhi.core.validators import normalize_id_number
from gongzhi.registry.models import Household

REPEAT_WINDOW_DAYS = 90
REPEAT_THRESHOLD = 2
AGREEMENT_PDF_MAX_BYTES = 10 * 1024 * 1024
SUMMARY_MAX_LENGTH = 5000
NAME_MAX_LENGTH = 60  # DisputeParty.name
ROLE_MAX_LENGTH = 20  # DisputeParty.role

# States in which a dispute is still unresolved for the "民转刑" flag: every open state and 挂账.
UNRESOLVED_STATES = frozenset(OPEN_STATES | {Status.DEFERRED})

_PARTY_CAPACITIES = frozenset({Capacity.DISPATCHER, Capacity.ASSIGNEE, Capacity.GRID_STAFF})
_MEDIATION_CAPACITIES = frozenset({Capacity.DISPATCHER, Capacity.ASSIGNEE})
# Only these outcomes come with a 调解协议书; "agreed" must have one.
_OUTCOMES_WITH_AGREEMENT = frozenset({MediationSession.Outcome.AGREED, MediationSession.Outcome.PARTIAL})

_PDF_MAGIC = b"%PDF-"
_PDF_EOF = b"%%EOF"
_JPEG_MAGIC = b"\xff\xd8\xff"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class RiskCode:
    REPEAT = "repeat"
    MARRIAGE_FAMILY_OPEN = "marriage_family_open"


@dataclass(frozen=True)
class Risk:
    code: str
    message: str


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


def _clean(value: str | None, *, field: str, max_length: int, required: bool, missing: str) -> str:
    value = (value or "").strip()
    if required and not value:
        raise DomainError(missing, field=field)
    if len(value) > max_length:
        raise DomainError(_("内容不能超过%(n)d个字。") % {"n": max_length}, field=field)
    return value


# ------------------------------------------------------------------------------------------ parties


@transaction.atomic
def add_party(*, actor: User, case: Case, name: str, id_number: str | None = None,
              household: Household | None = None, role: str = "") -> DisputeParty:
    """Record a party (当事人) to a dispute case. The ID number, if given, is kept only as a keyed hash."""
    case = _locked_dispute(actor=actor, case=case, allowed=_PARTY_CAPACITIES, verb=_("登记当事人"))
    name = _clean(name, field="name", max_length=NAME_MAX_LENGTH, required=True,
                  missing=_("请填写当事人姓名或名称。"))
    role = _clean(role, field="role", max_length=ROLE_MAX_LENGTH, required=False, missing="")
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
    summary = _clean(summary, field="summary", max_length=SUMMARY_MAX_LENGTH, required=False, missing="")
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


# -------------------------------------------------------------------------------------------- risks


def _window_start(now: datetime.datetime) -> datetime.datetime:
    """Midnight (Asia/Shanghai) starting the 90-day window that ends today."""
    first_day = timezone.localdate(now) - datetime.timedelta(days=REPEAT_WINDOW_DAYS)
    return timezone.make_aware(datetime.datetime.combine(first_day, datetime.time.min))


def _repeat_party_q(now: datetime.datetime) -> Q:
    """Parties whose ID-number hash or household is found in ≥ 2 dispute cases of the window (as
    subqueries, so the whole check stays one SQL statement)."""
    recent = DisputeParty.objects.filter(
        case__category__kind=CategoryKind.DISPUTE, case__merged_into__isnull=True,
        case__created_at__gte=_window_start(now), case__created_at__lte=now)
    hashes = (recent.exclude(id_number_hash="").values("id_number_hash")
              .annotate(n=Count("case", distinct=True)).filter(n__gte=REPEAT_THRESHOLD)
              .values("id_number_hash"))
    households = (recent.filter(household__isnull=False).values("household")
                  .annotate(n=Count("case", distinct=True)).filter(n__gte=REPEAT_THRESHOLD)
                  .values("household"))
    return Q(id_number_hash__in=hashes) | Q(household__in=households)


def _is_marriage_family(category: Category) -> bool:
    node: Category | None = category
    while node is not None:
        if node.marriage_family:
            return True
        node = node.parent
    return False


def dispute_risks(case: Case, *, now: datetime.datetime | None = None) -> list[Risk]:
    """The risk flags of one dispute case (none for other cases). The caller has already got the case
    through a selector; the flags say nothing about the other cases they were derived from."""
    if case.category.kind != CategoryKind.DISPUTE:
        return []
    now = now or timezone.now()
    risks: list[Risk] = []
    if DisputeParty.objects.filter(case=case).filter(_repeat_party_q(now)).exists():
        risks.append(Risk(RiskCode.REPEAT, _(
            "同一当事人或同一户%(days)d天内已发生%(n)d起以上矛盾纠纷，请重点关注，防止矛盾激化。") % {
            "days": REPEAT_WINDOW_DAYS, "n": REPEAT_THRESHOLD}))
    if case.status in UNRESOLVED_STATES and _is_marriage_family(case.category):
        risks.append(Risk(RiskCode.MARRIAGE_FAMILY_OPEN,
                          _("婚姻家庭纠纷尚未化解，请防范“民转刑”风险。")))
    return risks


def dispute_cases_at_risk(user: User, *, now: datetime.datetime | None = None) -> QuerySet[Case]:
    """The dispute cases `user` may see that carry at least one risk flag, for a list page.

    Each case is annotated with `risk_repeat` and `risk_marriage_family` (booleans), so a page can show
    which flag applies; it is one SQL query (plus one small read of the category tree).
    """
    now = now or timezone.now()
    repeat = Exists(DisputeParty.objects.filter(case=OuterRef("pk")).filter(_repeat_party_q(now)))
    marriage_family = Q(category_id__in=categories.marriage_family_ids(), status__in=UNRESOLVED_STATES)
    return (policies.cases_visible_to(user)
            .filter(category__kind=CategoryKind.DISPUTE)
            .annotate(risk_repeat=repeat,
                      risk_marriage_family=ExpressionWrapper(marriage_family, output_field=BooleanField()))
            .filter(Q(risk_repeat=True) | Q(risk_marriage_family=True)))
