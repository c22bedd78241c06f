"""Scheduled anonymisation (B3): residents' personal data leaves a case once it has been closed longer than
CASE_PERSONAL_DATA_RETENTION_DAYS (3 years by default); the case itself and its statistics stay.

What is removed (docs/architecture.md, "Retention of personal data"):
- the link from the case to the residents concerned: its resident reporter (`Case.reporter` set to null,
  so the case leaves that resident's own list), followers (rows deleted), raters (`Rating.rater` null,
  the score stays), the uploader of their photos (`Attachment.uploaded_by` null), and their inbox
  messages about the case (deleted; staff's messages are scrubbed like the log);
- in every free text of the case (description, address, log notes — which hold the follow-up questions and
  answers and the return-visit and handling notes —, rating comments, mediation summaries): mainland mobile
  and landline numbers, 18-digit ID numbers and the names of those residents, each replaced by "[已删除]";
  dispute parties' names by their role and a letter ("当事人甲", "申请人乙"), in their rows as in the texts;
  the notes of agreements' performance follow-ups are scrubbed the same way;
- dispute parties' ID hashes and household links, voice notes and other non-photo attachments (a voice
  identifies its speaker), and the files of mediation agreements (signed with names and ID numbers; the
  mediation committee keeps the paper original in its own file; the agreement's dates and whether it was
  performed stay).

What stays: category, place (grid, area, coordinates), source, anonymity flag, status, every timestamp and
deadline, assignments, staff on the case (entered_by, log actors who are staff, visitors, mediators),
scores, and photos (they show the matter reported, and lost all metadata on upload). A grid worker's own
report keeps its reporter: that is a record of their work, not a resident's data.

Log rows are append-only (and meant to be hash-chained): of the existing rows only `CaseLog.note` is
rewritten; the run adds one `anonymise` row (no status change, not public).

A run takes cases in batches, each batch in its own transaction, and marks each case
(`personal_data_removed_at`), so a doubled run finds nothing and a missed one catches up.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.files.storage import Storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from gongzhi.accounts.models import User
from gongzhi.cases.models import (
    Attachment,
    Case,
    CaseLog,
    DisputeParty,
    Follower,
    MediationAgreement,
    MediationSession,
    Rating,
)
from gongzhi.cases.services.transition import write_log
from gongzhi.cases.workflow import FINAL_STATES, Action
from gongzhi.notifications import services as notification_services

STEP_KEY = "anonymise"
# Mainland mobiles (optionally +86, spaced or dashed 3-4-4) and landlines with an area code and a separator
# (bare 7-8 digit runs are too often other numbers), then 18-digit ID numbers (the last may be X).
_PHONE = re.compile(r"(?<![\d+])(?:\+?86[-\s]?)?1[3-9]\d(?:[-\s]?\d{4}){2}(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)0\d{2,3}[-\s]\d{7,8}(?!\d)")
_ID_NUMBER = re.compile(r"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])")
# 甲乙丙丁…: how Chinese documents name parties without naming them.
_STEMS = "甲乙丙丁戊己庚辛壬癸"
# Names shorter than this are not looked for in texts: a single character would hit ordinary words.
_MIN_NAME = 2


def _party_label(role: str, index: int) -> str:
    stem = _STEMS[index] if index < len(_STEMS) else str(index + 1)
    return f"{role or _('当事人')}{stem}"


def _scrubber(names: Iterable[str], parties: dict[str, str]) -> Callable[[str], str]:
    """A function taking the personal details out of one text: parties' names become their labels, the
    residents' names, phone and ID numbers the marker."""
    marker = _("[已删除]")
    replacements = {name: marker for name in names if len(name) >= _MIN_NAME}
    replacements.update({name: label for name, label in parties.items() if len(name) >= _MIN_NAME})
    # Longest first, so 张建国 is not half-replaced as 张建.
    pattern = re.compile("|".join(re.escape(n) for n in sorted(replacements, key=len, reverse=True))) \
        if replacements else None

    def scrub(text: str) -> str:
        if not text:
            return text
        text = _ID_NUMBER.sub(marker, text)
        text = _PHONE.sub(marker, text)
        text = _LANDLINE.sub(marker, text)
        if pattern is not None:
            text = pattern.sub(lambda m: replacements[m.group(0)], text)
        return text

    return scrub


def _delete_files_after_commit(files: list[tuple[Storage, str]]) -> None:
    """Files go only once the rows that name them are gone for good (a rolled back batch keeps both)."""
    def delete() -> None:
        for storage, name in files:
            storage.delete(name)

    if files:
        transaction.on_commit(delete)


def _anonymise_case(case: Case, *, now: datetime.datetime, days: int) -> None:
    residents = {u.pk: u.real_name for u in User.objects.filter(
        Q(pk=case.reporter_id) | Q(followed_cases__case=case) | Q(pk__in=Rating.objects.filter(case=case)
                                                                   .values("rater_id"))
        | Q(pk__in=CaseLog.objects.filter(case=case).values("actor_id")),
        kind=User.Kind.RESIDENT).distinct()}
    parties = list(DisputeParty.objects.filter(case=case).order_by("pk"))
    labels = {p.pk: _party_label(p.get_role_display(), i) for i, p in enumerate(parties)}
    scrub = _scrubber(residents.values(), {p.name: labels[p.pk] for p in parties})

    if case.reporter_id in residents:
        case.reporter = None
    case.description = scrub(case.description)
    case.address = scrub(case.address)
    case.personal_data_removed_at = now
    case.save(update_fields=["reporter", "description", "address", "personal_data_removed_at"])

    # Only the note of existing log rows is rewritten (see the module docstring).
    for pk, note in CaseLog.objects.filter(case=case).exclude(note="").values_list("pk", "note"):
        if (clean := scrub(note)) != note:
            CaseLog.objects.filter(pk=pk).update(note=clean)
    for rating in Rating.objects.filter(case=case):
        rating.comment = scrub(rating.comment)
        rating.rater = None
        rating.save(update_fields=["comment", "rater"])
    Follower.objects.filter(case=case).delete()
    for party in parties:
        party.name, party.id_number_hash, party.household = labels[party.pk], "", None
        party.save(update_fields=["name", "id_number_hash", "household"])

    files: list[tuple[Storage, str]] = []
    for session in MediationSession.objects.filter(case=case):
        session.summary = scrub(session.summary)
        session.save(update_fields=["summary"])
    for agreement in MediationAgreement.objects.filter(case=case):
        if agreement.file:
            files.append((agreement.file.storage, agreement.file.name))
        agreement.performance_note = scrub(agreement.performance_note)
        agreement.file = ""  # an empty name: no file
        agreement.save(update_fields=["performance_note", "file"])
    for attachment in Attachment.objects.filter(case=case).exclude(kind=Attachment.Kind.PHOTO):
        files.extend((f.storage, f.name) for f in (attachment.file, attachment.thumbnail) if f)
        attachment.delete()
    Attachment.objects.filter(case=case, uploaded_by__in=residents).update(uploaded_by=None)
    _delete_files_after_commit(files)

    notification_services.forget_target(target_type="case", target_id=case.pk, recipient_ids=residents,
                                        scrub=scrub)
    write_log(case=case, action=Action.ANONYMISE, from_status=case.status, actor=None, public=False,
              step_key=STEP_KEY,
              note=_("结案已满%(days)d天，已按个人信息保存期限删除群众的个人信息。") % {"days": days})


@transaction.atomic
def _anonymise_batch(*, cutoff: datetime.datetime, now: datetime.datetime, days: int, batch: int) -> int:
    # Locked and checked again inside the transaction: a case reopened meanwhile has no closed_at.
    cases = list(Case.objects.select_for_update().filter(
        closed_at__lt=cutoff, personal_data_removed_at__isnull=True, status__in=FINAL_STATES,
    ).order_by("closed_at", "pk")[:batch])
    for case in cases:
        _anonymise_case(case, now=now, days=days)
    return len(cases)


def anonymise_closed_cases(*, now: datetime.datetime | None = None, batch: int = 500) -> int:
    """Remove residents' personal data from every case closed before `now` minus the retention period and
    not done yet; returns how many cases were done. Not one transaction: each batch of `batch` cases is
    its own, so a long first run holds the database only a batch at a time and a failure keeps what
    committed."""
    now = now or timezone.now()
    days: int = settings.CASE_PERSONAL_DATA_RETENTION_DAYS
    cutoff = now - datetime.timedelta(days=days)
    done = 0
    # Stored texts (markers, party labels, the log note) are in the site's language, not a request's.
    with translation.override(settings.LANGUAGE_CODE):
        while True:
            count = _anonymise_batch(cutoff=cutoff, now=now, days=days, batch=batch)
            done += count
            if count < batch:
                return done
