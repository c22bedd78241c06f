"""矛盾纠纷: the records of a dispute — its parties, mediation sessions, agreements (调解协议书) and their
performance follow-ups (履行回访) — and the logged reveal of the parties' names.

A dispute is a case whose category has kind "dispute"; such a case is never public (the category constraint
forbids a public dispute category and `services.submit_case` keeps the case private), and nothing here
changes that. Its records are for the staff who see the case as staff (`policies.disputes_visible_to`),
never for residents, its reporter included.

**One log row per change.** Each service is one transaction that writes one CaseLog row under its own action
(`workflow.DISPUTE_ACTIONS`: 登记当事人, 修改当事人, 删除当事人, 登记调解, 上传/更换调解协议书, 协议履行回访):
never public, the status unchanged, no notice sent. Its note says what changed in words that carry no
personal data — a role, which fields changed, kind and outcome, how many mediators, dates — and is written in
the site's language, like every stored text; names, summaries and follow-up notes stay in the records, which
the nightly anonymisation scrubs.

**Checks, in order:** the case is locked; scope (NotFound, 404: out of scope and missing alike); a replayed
client key (below); capacity (Forbidden, 403: `policies.DISPUTE_RECORDERS` — the holding command centre, the
lead unit, the grid's and village's staff); a dispute at all; its state (`policies.dispute_takes_records`:
nothing once finished, merged or anonymised — except a performance follow-up, which comes after closing);
then the input, each refusal a DomainError naming the field (422). A refusal changes nothing.

**Idempotency**, as `take_action`'s: with a `client_key` (a fresh one per form shown; an offline phone sends
its own) the case's log is searched for it right after the scope check. The same person's same kind of change
answers with its first result (`Recorded.created` False) and writes nothing, even after the case has moved on;
a key used by someone else or for another kind of change is a Conflict (409). A replayed edit answers with the
record as it is now; a replayed removal with no record. `CaseLog`'s unique (case, client_key) stays the last
word, and the lock on the case keeps two replays from racing.

A party's ID number is validated and kept only as a keyed hash (`core.pii.keyed_hash`), which is enough to find
the same person in other disputes; the number itself is never stored. The risk flags derived from parties and
categories are reads: `selectors.dispute_risks`, `selectors.dispute_cases_at_risk`.
"""

from __future__ import annotations

import datetime
import io
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from gongzhi.accounts import policies as account_policies
from gongzhi.accounts.models import User
from gongzhi.cases import policies, selectors
from gongzhi.cases.models import (
    CLIENT_KEY_MAX_LENGTH,
    Case,
    CaseLog,
    CategoryKind,
    DisputeParty,
    MediationAgreement,
    MediationSession,
)
from gongzhi.cases.services.transition import write_log
from gongzhi.cases.workflow import Action, Status
from gongzhi.core import pii, uploads
from gongzhi.core.errors import Conflict, DomainError, Forbidden, NotFound
from gongzhi.core.models import PiiAccessLog
from gongzhi.core.text import clean_text
from gongzhi.core.uploads import UploadLike
from gongzhi.core.validators import normalize_id_number
from gongzhi.registry.models import Household

SUMMARY_MAX_LENGTH = 5000
NAME_MAX_LENGTH = 60  # DisputeParty.name
OTHER_MEDIATORS_MAX_LENGTH = 200  # MediationSession.other_mediators
PERFORMANCE_NOTE_MAX_LENGTH = 1000
REVEAL_REASON_MAX_LENGTH = 200  # PiiAccessLog.reason
MAX_PARTIES = 30
# A follow-up date further out than this is a typing mistake, not a plan.
FOLLOW_UP_MAX_DAYS = 366

_JPEG_MAGIC = b"\xff\xd8\xff"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

T = TypeVar("T")


@dataclass(frozen=True)
class Recorded(Generic[T]):
    """What a change did: the record as it is now (None after a removal), the log row that recorded the
    change, and whether this call wrote it (False: a replay of the client key, answered with the first
    result)."""

    record: T
    log: CaseLog
    created: bool


# ------------------------------------------------------------------------------------------- checks


@dataclass(frozen=True)
class _Step:
    case: Case
    key: str
    replay: CaseLog | None  # the first result's log row, when the client key was used before


def _begin(*, actor: User, case: Case, action: str, client_key: str, performance: bool = False) -> _Step:
    """Lock the case and check it in the order of the module note; a replayed key stops after the scope
    check, with the log row it first wrote."""
    key = clean_text(client_key, field="client_key", max_length=CLIENT_KEY_MAX_LENGTH)
    case = (Case.objects.select_for_update(of=("self",)).select_related("holder", "category")
            .get(pk=case.pk))
    if not policies.cases_visible_to(actor).filter(pk=case.pk).exists():
        raise NotFound()
    if key:
        first = case.logs.filter(client_key=key).first()
        if first is not None:
            if first.actor_id != actor.pk or first.action != action:
                raise Conflict(_("这个提交编号已用于另一次操作。"), code="client_key_used", field="client_key")
            return _Step(case, key, first)
    if not policies.can_record_dispute(actor, case):
        raise Forbidden(_("您不能登记或修改该事件的纠纷信息。"))
    if case.category.kind != CategoryKind.DISPUTE:
        raise DomainError(_("只有矛盾纠纷类事件才能登记当事人和调解记录。"), code="not_a_dispute", field="case")
    if not policies.dispute_takes_records(case, performance=performance):
        raise DomainError(_("事件已结束（%(status)s），不能再修改纠纷信息。") % {
            "status": Status(case.status).label}, code="invalid_state")
    return _Step(case, key, None)


def _log(step: _Step, *, actor: User, action: str, note: Callable[[], str]) -> CaseLog:
    """The change's one log row (internal, status unchanged), keeping the client key. The note is made in the
    site's language: it is stored, and read by everyone."""
    with translation.override(settings.LANGUAGE_CODE):
        text = note()
    log = write_log(case=step.case, action=action, from_status=step.case.status, actor=actor, note=text,
                    public=False)
    if step.key:
        CaseLog.objects.filter(pk=log.pk).update(client_key=step.key)
        log.client_key = step.key
    return log


def _date(value: object, *, field: str, message: str) -> datetime.date:
    """A date from a date (a datetime counts by its local date); anything else is refused on `field`."""
    if isinstance(value, datetime.datetime):
        return timezone.localdate(value) if timezone.is_aware(value) else value.date()
    if not isinstance(value, datetime.date):
        raise DomainError(message, field=field)
    return value


def _role(role: str) -> str:
    if role not in DisputeParty.Role.values:
        raise DomainError(_("请选择当事人身份。"), field="role")
    return role


def _role_label(role: str) -> str:
    return str(DisputeParty.Role(role).label)


def _household(actor: User, number: str) -> Household:
    """The household with this 户号, where the actor may see it; NotFound on the field otherwise (a number
    outside their scope is answered like one that does not exist)."""
    found = Household.objects.select_related("grid").filter(number=number.strip()).first()
    if found is None or not account_policies.in_scope(actor, found.grid.path):
        raise NotFound(_("未找到该户号，或不在您的管辖范围内。"), field="household_number")
    return found


def _id_hash(case: Case, id_number: str, *, other_than: DisputeParty | None = None) -> str:
    id_hash = pii.keyed_hash(normalize_id_number(id_number))
    others = case.parties.filter(id_number_hash=id_hash)
    if other_than is not None:
        others = others.exclude(pk=other_than.pk)
    if others.exists():
        raise DomainError(_("该当事人已经登记过了。"), code="duplicate_party", field="id_number")
    return id_hash


# ------------------------------------------------------------------------------------------ parties


@transaction.atomic
def add_party(*, actor: User, case: Case, name: str, role: str = DisputeParty.Role.PARTY,
              id_number: str | None = None, household_number: str | None = None,
              client_key: str = "") -> Recorded[DisputeParty]:
    """Record a party (当事人) to a dispute: a person or an organisation, with their role; the ID number, if
    given, is kept only as a keyed hash, the household (by 户号) linked when the actor may see it."""
    step = _begin(actor=actor, case=case, action=Action.ADD_PARTY, client_key=client_key)
    if step.replay is not None:
        party = DisputeParty.objects.filter(log=step.replay).first()
        if party is None:  # removed since
            raise NotFound()
        return Recorded(party, step.replay, False)
    case = step.case
    name = clean_text(name, field="name", max_length=NAME_MAX_LENGTH, required_message=_("请填写当事人姓名或名称。"))
    role = _role(role)
    if case.parties.count() >= MAX_PARTIES:
        raise DomainError(_("一起纠纷最多登记%(n)d名当事人。") % {"n": MAX_PARTIES}, code="too_many_parties",
                          field="name")
    id_hash = _id_hash(case, id_number) if id_number is not None and id_number.strip() else ""
    household = _household(actor, household_number) if household_number and household_number.strip() else None

    def note() -> str:
        details = [_role_label(role)]
        if id_hash:
            details.append(_("已登记身份证号"))
        if household is not None:
            details.append(_("已关联户籍"))
        return _("登记当事人：%(details)s") % {"details": "，".join(details)}

    log = _log(step, actor=actor, action=Action.ADD_PARTY, note=note)
    party = DisputeParty.objects.create(case=case, name=name, id_number_hash=id_hash, household=household,
                                        role=role, log=log)
    return Recorded(party, log, True)


def _party(step: _Step, party: DisputeParty) -> DisputeParty:
    found = DisputeParty.objects.filter(case=step.case, pk=party.pk).first()
    if found is None:
        raise NotFound()
    return found


@transaction.atomic
def edit_party(*, actor: User, case: Case, party: DisputeParty, name: str | None = None, role: str | None = None,
               id_number: str | None = None, household_number: str | None = None,
               client_key: str = "") -> Recorded[DisputeParty]:
    """Correct a party. None leaves a field as it is; an empty ID number or 户号 removes it (the hash, the link).
    Nothing to change is refused, so an empty form writes no log row."""
    step = _begin(actor=actor, case=case, action=Action.EDIT_PARTY, client_key=client_key)
    found = _party(step, party)
    if step.replay is not None:
        return Recorded(found, step.replay, False)
    changed: list[str] = []  # in the site's language when the note is made
    if name is not None:
        name = clean_text(name, field="name", max_length=NAME_MAX_LENGTH,
                          required_message=_("请填写当事人姓名或名称。"))
        if name != found.name:
            found.name = name
            changed.append("name")
    if role is not None and _role(role) != found.role:
        found.role = role
        changed.append("role")
    if id_number is not None:
        id_hash = _id_hash(step.case, id_number, other_than=found) if id_number.strip() else ""
        if id_hash != found.id_number_hash:
            changed.append("id_number" if id_hash else "id_number_cleared")
            found.id_number_hash = id_hash
    if household_number is not None:
        household = _household(actor, household_number) if household_number.strip() else None
        if (household.pk if household else None) != found.household_id:
            changed.append("household" if household else "household_cleared")
            found.household = household
    if not changed:
        raise DomainError(_("没有需要保存的修改。"), code="no_change")
    found.save()

    def note() -> str:
        labels = {"name": _("姓名"), "role": _("身份"), "id_number": _("身份证号"),
                  "id_number_cleared": _("清除身份证号"), "household": _("户籍关联"),
                  "household_cleared": _("清除户籍关联")}
        return _("修改当事人（%(role)s）：%(fields)s") % {
            "role": _role_label(found.role), "fields": "、".join(str(labels[c]) for c in changed)}

    log = _log(step, actor=actor, action=Action.EDIT_PARTY, note=note)
    return Recorded(found, log, True)


@transaction.atomic
def remove_party(*, actor: User, case: Case, party_id: int, client_key: str = "") -> Recorded[None]:
    """Remove a party recorded by mistake (the log row keeps that one was removed, and their role). By id: a
    replay comes when the party is gone already, and answers from its log row."""
    step = _begin(actor=actor, case=case, action=Action.REMOVE_PARTY, client_key=client_key)
    if step.replay is not None:
        return Recorded(None, step.replay, False)
    found = DisputeParty.objects.filter(case=step.case, pk=party_id).first()
    if found is None:
        raise NotFound()
    role = found.role
    found.delete()
    log = _log(step, actor=actor, action=Action.REMOVE_PARTY,
               note=lambda: _("删除当事人：%(role)s") % {"role": _role_label(role)})
    return Recorded(None, log, True)


# ---------------------------------------------------------------------------------------- agreements


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
    if head.startswith(uploads.PDF_MAGIC):
        try:
            document = uploads.process_document(upload)  # reads from the start again
        except DomainError as err:  # the field is ours
            raise DomainError(err.message, code=err.code, field="agreement") from None
        return document.content, document.extension
    if head.startswith(_JPEG_MAGIC) or head.startswith(_PNG_MAGIC):
        # process_photo refuses anything over its own limit; reading one byte more is enough to tell.
        rest = upload.read(settings.UPLOAD_PHOTO_MAX_BYTES + 1)
        try:
            photo = uploads.process_photo(io.BytesIO(head + rest))
        except DomainError as err:  # its messages speak of a photo; the field is ours
            raise DomainError(err.message, code=err.code, field="agreement") from None
        return photo.content, photo.extension
    raise _agreement_error(_("调解协议书只能是PDF文件或JPEG、PNG图片。"), "agreement_type")


def _store(agreement: MediationAgreement, upload: UploadLike) -> None:
    """Check the upload and save it under a fresh name (the uploaded one may carry the parties' names); the
    row is saved by the caller."""
    content, extension = _read_agreement(upload)
    agreement.file.save(f"{uuid.uuid4().hex}.{extension}", ContentFile(content), save=False)


def _discard(agreement: MediationAgreement) -> None:
    """Remove the file just stored when the rows naming it could not be written."""
    if agreement.file:
        agreement.file.storage.delete(agreement.file.name or "")


def _agreement_dates(*, held_on: datetime.date, signed_on: object, follow_up_on: object
                     ) -> tuple[datetime.date, datetime.date]:
    signed = _date(signed_on, field="signed_on", message=_("请填写调解协议书的签订日期。"))
    if signed < held_on:
        raise DomainError(_("签订日期不能早于调解日期。"), field="signed_on")
    if signed > timezone.localdate():
        raise DomainError(_("签订日期不能晚于今天。"), field="signed_on")
    follow_up = _date(follow_up_on, field="follow_up_on", message=_("请填写履行回访日期。"))
    if follow_up < signed:
        raise DomainError(_("履行回访日期不能早于签订日期。"), field="follow_up_on")
    if follow_up > signed + datetime.timedelta(days=FOLLOW_UP_MAX_DAYS):
        raise DomainError(_("履行回访日期应在签订后一年以内。"), field="follow_up_on")
    return signed, follow_up


# ---------------------------------------------------------------------------------------- mediation


@transaction.atomic
def record_mediation(*, actor: User, case: Case, kind: str, held_on: datetime.date, outcome: str,
                     mediators: Iterable[User] = (), other_mediators: str = "", summary: str = "",
                     agreement: UploadLike | None = None, signed_on: datetime.date | None = None,
                     follow_up_on: datetime.date | None = None, client_key: str = "") -> Recorded[MediationSession]:
    """Record a mediation session (调解): its kind, date, mediators — staff (`selectors.mediator_candidates`)
    and/or others by name (人民调解员 without an account), at least one — and outcome, with the signed
    调解协议书 if there is one yet (PDF up to 10 MB, or a JPEG/PNG photo of it, checked by content; with it the
    date signed and the performance follow-up date). An agreement may also be attached later
    (`attach_agreement`); an oral agreement (口头协议, 人民调解法 art. 28) has none. Only "agreed" and
    "partial" take one."""
    step = _begin(actor=actor, case=case, action=Action.RECORD_MEDIATION, client_key=client_key)
    if step.replay is not None:
        session = MediationSession.objects.filter(log=step.replay).first()
        if session is None:
            raise NotFound()
        return Recorded(session, step.replay, False)
    case = step.case
    if kind not in MediationSession.Kind.values:
        raise DomainError(_("请选择调解类型。"), field="kind")
    if outcome not in MediationSession.Outcome.values:
        raise DomainError(_("请选择调解结果。"), field="outcome")
    held_on = _date(held_on, field="held_on", message=_("请填写调解日期。"))
    if held_on > timezone.localdate():
        raise DomainError(_("调解日期不能晚于今天。"), field="held_on")
    staff = _mediators(case, mediators)
    others = "、".join(selectors.split_names(clean_text(
        other_mediators, field="other_mediators", max_length=OTHER_MEDIATORS_MAX_LENGTH)))
    if not staff and not others:
        raise DomainError(_("请选择或填写调解员。"), field="mediators")
    summary = clean_text(summary, field="summary", max_length=SUMMARY_MAX_LENGTH)
    dates: tuple[datetime.date, datetime.date] | None = None
    if agreement is not None:
        if outcome not in selectors.AGREEMENT_OUTCOMES:
            raise _agreement_error(_("调解未达成协议，不能上传调解协议书。"), "agreement_unexpected")
        dates = _agreement_dates(held_on=held_on, signed_on=signed_on if signed_on is not None else held_on,
                                 follow_up_on=follow_up_on)
    count = len(staff) + len(selectors.split_names(others))

    def note() -> str:
        text = _("登记调解：%(kind)s，%(outcome)s，调解员%(n)d人") % {
            "kind": MediationSession.Kind(kind).label, "outcome": MediationSession.Outcome(outcome).label, "n": count}
        if dates is not None:
            text += _("，已上传调解协议书（签订日期%(signed)s，履行回访日期%(follow_up)s）") % {
                "signed": dates[0].isoformat(), "follow_up": dates[1].isoformat()}
        return text

    record: MediationAgreement | None = None
    if agreement is not None and dates is not None:
        record = MediationAgreement(case=case, signed_on=dates[0], follow_up_on=dates[1])
        _store(record, agreement)  # last: the most expensive check
    try:
        log = _log(step, actor=actor, action=Action.RECORD_MEDIATION, note=note)
        session = MediationSession.objects.create(case=case, kind=kind, recorded_by=actor, held_on=held_on,
                                                  outcome=outcome, summary=summary, other_mediators=others, log=log)
        session.mediators.set(staff)
        if record is not None:
            record.session, record.log = session, log
            record.save()
    except BaseException:
        if record is not None:
            _discard(record)
        raise
    return Recorded(session, log, True)


def _mediators(case: Case, mediators: Iterable[User]) -> list[User]:
    wanted = list({user.pk: user for user in mediators}.values())
    allowed = {choice.user.pk for choice in selectors.mediator_candidates(case)}
    if any(user.pk not in allowed for user in wanted):
        raise DomainError(_("所选调解员不是办理该纠纷的单位的工作人员。"), field="mediators")
    return wanted


def _session(step: _Step, session: MediationSession) -> MediationSession:
    found = MediationSession.objects.select_related("agreement").filter(case=step.case, pk=session.pk).first()
    if found is None:
        raise NotFound()
    return found


def _agreement(step: _Step, agreement: MediationAgreement) -> MediationAgreement:
    found = (MediationAgreement.objects.select_related("session").filter(case=step.case, pk=agreement.pk)
             .first())
    if found is None:
        raise NotFound()
    return found


@transaction.atomic
def attach_agreement(*, actor: User, case: Case, session: MediationSession, agreement: UploadLike | None,
                     signed_on: datetime.date | None, follow_up_on: datetime.date | None,
                     client_key: str = "") -> Recorded[MediationAgreement]:
    """Attach the signed 调解协议书 to a session that reached one ("agreed" or "partial") and has none yet,
    with the date it was signed and the performance follow-up date."""
    step = _begin(actor=actor, case=case, action=Action.ATTACH_AGREEMENT, client_key=client_key)
    if step.replay is not None:
        found = MediationAgreement.objects.filter(log=step.replay).first()
        if found is None:
            raise NotFound()
        return Recorded(found, step.replay, False)
    session = _session(step, session)
    if session.outcome not in selectors.AGREEMENT_OUTCOMES:
        raise _agreement_error(_("调解未达成协议，不能上传调解协议书。"), "agreement_unexpected")
    if MediationAgreement.objects.filter(session=session).exists():
        raise _agreement_error(_("该次调解已有调解协议书；如需更换，请使用“更换调解协议书”。"), "agreement_exists")
    signed, follow_up = _agreement_dates(held_on=session.held_on, signed_on=signed_on, follow_up_on=follow_up_on)
    if agreement is None:
        raise _agreement_error(_("请选择调解协议书文件。"), "agreement_required")
    record = MediationAgreement(case=step.case, session=session, signed_on=signed, follow_up_on=follow_up)
    _store(record, agreement)
    try:
        record.log = _log(step, actor=actor, action=Action.ATTACH_AGREEMENT, note=lambda: _(
            "上传调解协议书：%(held_on)s的调解，签订日期%(signed)s，履行回访日期%(follow_up)s") % {
            "held_on": session.held_on.isoformat(), "signed": signed.isoformat(),
            "follow_up": follow_up.isoformat()})
        record.save()
    except BaseException:
        _discard(record)
        raise
    return Recorded(record, record.log, True)


@transaction.atomic
def replace_agreement(*, actor: User, case: Case, agreement: MediationAgreement, file: UploadLike | None,
                      signed_on: datetime.date | None = None, follow_up_on: datetime.date | None = None,
                      client_key: str = "") -> Recorded[MediationAgreement]:
    """Replace an agreement's file (a better scan, the wrong document uploaded), and its dates when given. The
    old file is deleted once the change has committed: only one signed copy is kept here."""
    step = _begin(actor=actor, case=case, action=Action.REPLACE_AGREEMENT, client_key=client_key)
    found = _agreement(step, agreement)
    if step.replay is not None:
        return Recorded(found, step.replay, False)
    signed, follow_up = _agreement_dates(
        held_on=found.session.held_on, signed_on=signed_on if signed_on is not None else found.signed_on,
        follow_up_on=follow_up_on if follow_up_on is not None else found.follow_up_on)
    if file is None:
        raise _agreement_error(_("请选择调解协议书文件。"), "agreement_required")
    old_storage, old_name = found.file.storage, found.file.name or ""
    found.signed_on, found.follow_up_on = signed, follow_up
    _store(found, file)
    try:
        log = _log(step, actor=actor, action=Action.REPLACE_AGREEMENT, note=lambda: _(
            "更换调解协议书：签订日期%(signed)s，履行回访日期%(follow_up)s") % {
            "signed": signed.isoformat(), "follow_up": follow_up.isoformat()})
        found.save()
    except BaseException:
        _discard(found)
        raise
    if old_name:
        transaction.on_commit(lambda: old_storage.delete(old_name))
    return Recorded(found, log, True)


@transaction.atomic
def record_performance(*, actor: User, case: Case, agreement: MediationAgreement, performance: str,
                       checked_on: datetime.date, note: str = "", next_follow_up_on: datetime.date | None = None,
                       client_key: str = "") -> Recorded[MediationAgreement]:
    """Record a performance follow-up (履行回访) of an agreement: whether the parties did what they agreed,
    when it was checked, what was found. Also on a closed case: this is when it happens. When the agreement is
    not (fully) performed yet, `next_follow_up_on` sets the date of the next follow-up."""
    step = _begin(actor=actor, case=case, action=Action.RECORD_PERFORMANCE, client_key=client_key,
                  performance=True)
    found = _agreement(step, agreement)
    if step.replay is not None:
        return Recorded(found, step.replay, False)
    if performance not in MediationAgreement.Performance.values:
        raise DomainError(_("请选择协议履行情况。"), field="performance")
    checked = _date(checked_on, field="checked_on", message=_("请填写回访日期。"))
    if checked > timezone.localdate():
        raise DomainError(_("回访日期不能晚于今天。"), field="checked_on")
    if checked < found.signed_on:
        raise DomainError(_("回访日期不能早于协议签订日期。"), field="checked_on")
    text = clean_text(note, field="note", max_length=PERFORMANCE_NOTE_MAX_LENGTH)
    following: datetime.date | None = None
    if next_follow_up_on is not None:
        if performance == MediationAgreement.Performance.PERFORMED:
            raise DomainError(_("协议已履行，不需要再次回访。"), field="next_follow_up_on")
        following = _date(next_follow_up_on, field="next_follow_up_on", message=_("请填写下次回访日期。"))
        if following <= checked:
            raise DomainError(_("下次回访日期应晚于本次回访日期。"), field="next_follow_up_on")
        if following > checked + datetime.timedelta(days=FOLLOW_UP_MAX_DAYS):
            raise DomainError(_("下次回访日期应在一年以内。"), field="next_follow_up_on")
    found.performance, found.performance_checked_on, found.performance_note = performance, checked, text
    if following is not None:
        found.follow_up_on = following
    found.save()

    def log_note() -> str:
        text = _("协议履行回访：%(performance)s（回访日期%(checked)s）") % {
            "performance": MediationAgreement.Performance(performance).label, "checked": checked.isoformat()}
        if following is not None:
            text += _("，下次回访日期%(date)s") % {"date": following.isoformat()}
        return text

    log = _log(step, actor=actor, action=Action.RECORD_PERFORMANCE, note=log_note)
    return Recorded(found, log, True)


# ------------------------------------------------------------------------------------ the parties' names


@transaction.atomic
def reveal_party_names(*, actor: User, case: Case, reason: str) -> dict[int, str]:
    """The parties' full names (party id → name) for staff allowed to unmask personal data, each party's one
    `core.PiiAccessLog` row (who, whose, why) written first. NotFound out of scope; Forbidden without the
    permission; a reason is required."""
    if not policies.cases_visible_to(actor).filter(pk=case.pk).exists():
        raise NotFound()
    if not policies.can_unmask_parties(actor, case):
        raise Forbidden(_("您没有查看完整个人信息的权限。"))
    reason = clean_text(reason, field="reason", max_length=REVEAL_REASON_MAX_LENGTH,
                        required_message=_("请填写查看事由。"), too_long_message=_("查看事由不能超过200个字。"))
    parties = list(DisputeParty.objects.filter(case=case).order_by("pk"))
    PiiAccessLog.objects.bulk_create([
        PiiAccessLog(actor=actor, subject_type=DisputeParty._meta.label_lower, subject_id=party.pk, field="name",
                     reason=reason) for party in parties])
    return {party.pk: party.name for party in parties}
