"""Claims and awards (M18): a resident applies, the village reviews; administrators give and deduct points
directly; an event elsewhere (a resident's report closed) awards by rule; a correction reverses an award.

Each award posts one ledger movement between the village's issuing account and the household's account,
inside the same transaction; the award's caps are checked under a lock on the account.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts.models import User
from gongzhi.accounts.selectors import registry_record
from gongzhi.core import uploads
from gongzhi.core.errors import Conflict, DomainError, Forbidden, NotFound
from gongzhi.core.text import clean_text
from gongzhi.points import notices, policies
from gongzhi.points.models import Account, Award, CapPeriod, Claim, EvidencePhoto, RuleItem, SourceType, Trigger
from gongzhi.points.services import ledger
from gongzhi.registry.models import Resident

MAX_PHOTOS = 6
NOTE_MAX = 500
REASON_MAX = 200


# Caps --------------------------------------------------------------------------------------------------------

def _period_start(period: str, now: datetime.datetime) -> datetime.datetime | None:
    local = timezone.localtime(now)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == CapPeriod.DAY:
        return midnight
    if period == CapPeriod.MONTH:
        return midnight.replace(day=1)
    if period == CapPeriod.YEAR:
        return midnight.replace(month=1, day=1)
    return None  # EVER


def _counted_awards(account: Account, item: RuleItem, now: datetime.datetime) -> int:
    """Awards of this item (any version) to the account in the item's cap period, not since reversed."""
    awards = Award.objects.filter(account=account, rule_item__lineage=item.lineage, reversed_by__isnull=True,
                                  origin__in=[Award.Origin.CLAIM, Award.Origin.DIRECT, Award.Origin.EVENT])
    start = _period_start(item.cap_period, now)
    if start is not None:
        awards = awards.filter(created_at__gte=start)
    return awards.count()


def _cap_reached(account: Account, item: RuleItem, now: datetime.datetime) -> bool:
    return item.cap_count is not None and _counted_awards(account, item, now) >= item.cap_count


def _cap_message(item: RuleItem) -> str:
    return _("“%(item)s”%(period)s最多%(n)d次，本户已达上限。") % {
        "item": item.name, "period": CapPeriod(item.cap_period).label, "n": item.cap_count}


def _lock(account: Account) -> Account:
    return Account.objects.select_for_update().get(pk=account.pk)


# Awards ------------------------------------------------------------------------------------------------------

def _book(*, account: Account, village_id: int, item: RuleItem, origin: str, points: int, reason: str,
          actor: User | None, claim: Claim | None = None, reverses: Award | None = None,
          source_key: str | None = None) -> Award:
    """Write the award and its movement (the caller holds the account lock and has checked caps)."""
    now = timezone.now()
    issue = ledger.issue_account(account.unit)
    booked = points if points > 0 else -min(-points, account.balance)
    award = Award.objects.create(account=account, village_id=village_id, path=account.path, rule_item=item,
                                 origin=origin, points=points, booked=booked, reason=reason, claim=claim,
                                 reverses=reverses, source_key=source_key, actor=actor, created_at=now)
    if booked > 0:
        ledger.post(source_type=SourceType.AWARD, source_id=award.pk, debit=issue, credit=account, amount=booked,
                    memo=f"{item.name}", actor=actor, at=now)
    elif booked < 0:
        ledger.post(source_type=SourceType.AWARD, source_id=award.pk, debit=account, credit=issue, amount=-booked,
                    memo=f"{item.name}", actor=actor, at=now)
    return award


def _live_item(item: RuleItem) -> RuleItem:
    item = RuleItem.objects.select_related("category").get(pk=item.pk)
    if item.retired_at is not None or not item.category.is_active:
        raise DomainError(_("该积分事项已停用或已修改，请重新选择。"), code="item_retired", field="rule_item")
    return item


def _item_applies(item: RuleItem, account: Account) -> bool:
    """The item belongs to the account's township catalogue, or to its own village's."""
    category = item.category
    if category.village_id is not None:
        return category.village_id == account.unit_id
    return account.path.startswith(category.township.path)


def award_directly(*, actor: User, resident: Resident, item: RuleItem, reason: str,
                   photos: Sequence[uploads.UploadLike] = (), client_key: str = "") -> Award:
    """An administrator gives (or, for a negative item, deducts) points to the resident's household, with a
    reason and optional evidence photos. The same form sent twice books once."""
    key = f"direct:{actor.pk}:{client_key}" if client_key else None
    if key and (done := Award.objects.filter(source_key=key).first()) is not None:
        return done
    stored = uploads.store_photos(list(photos), folder="points", limit=MAX_PHOTOS)
    try:
        return _award_directly(actor=actor, resident=resident, item=item, reason=reason, stored=stored, key=key)
    except IntegrityError:
        uploads.delete_stored(stored)
        if key and (done := Award.objects.filter(source_key=key).first()) is not None:
            return done
        raise
    except BaseException:
        uploads.delete_stored(stored)
        raise


@transaction.atomic
def _award_directly(*, actor: User, resident: Resident, item: RuleItem, reason: str,
                    stored: list[uploads.StoredPhoto], key: str | None) -> Award:
    item = _live_item(item)
    account = _lock(ledger.account_for_resident(resident))
    village = account.unit
    if not policies.can_view_village(actor, village):
        raise NotFound()
    if not policies.can_award(actor, village, item):
        raise Forbidden(_("“%(item)s”由%(who)s审核给予。") % {"item": item.name, "who": item.get_awarder_display()})
    if not _item_applies(item, account):
        raise DomainError(_("该事项不适用于本村。"), field="rule_item")
    reason = clean_text(reason, field="reason", max_length=REASON_MAX, required_message=_("请填写事由。"))
    if _cap_reached(account, item, timezone.now()):
        raise DomainError(_cap_message(item), code="cap_reached", field="rule_item")
    award = _book(account=account, village_id=village.pk, item=item, origin=Award.Origin.DIRECT,
                  points=item.points, reason=reason, actor=actor, source_key=key)
    EvidencePhoto.objects.bulk_create(EvidencePhoto(award=award, file=p.file, thumbnail=p.thumbnail,
                                                    content_type=p.content_type, sha256=p.sha256) for p in stored)
    transaction.on_commit(lambda: notices.award_booked(award))
    return award


@transaction.atomic
def reverse_award(*, actor: User, award: Award, reason: str) -> Award:
    """A correction: a new award with the opposite value (what the original booked is taken back or
    returned). The original stays as it was."""
    award = Award.objects.select_related("rule_item", "account").get(pk=award.pk)
    if not policies.can_view_village(actor, award.account.unit):
        raise NotFound()
    if not policies.can_award(actor, award.account.unit, award.rule_item):
        raise Forbidden()
    if award.origin == Award.Origin.CORRECTION or hasattr(award, "reversed_by"):
        raise Conflict(_("该记录已更正过。"), code="already_reversed")
    reason = clean_text(reason, field="reason", max_length=REASON_MAX, required_message=_("请填写更正原因。"))
    account = _lock(award.account)
    if award.booked > account.balance:
        raise DomainError(_("该户积分已用于兑换，现有%(have)d分，不足以更正%(need)d分。") % {
            "have": account.balance, "need": award.booked}, code="insufficient_points")
    correction = _book(account=account, village_id=award.village_id, item=award.rule_item,
                       origin=Award.Origin.CORRECTION, points=-award.points, reason=reason, actor=actor,
                       reverses=award, source_key=f"reverse:{award.pk}")
    # Take back exactly what was booked (a capped deduction booked less than its value).
    if correction.booked != -award.booked:
        raise DomainError(_("更正金额与原记录不符，请联系系统管理员。"), code="ledger_mismatch")
    transaction.on_commit(lambda: notices.award_booked(correction))
    return correction


def award_for_event(*, trigger: str, resident_user: User | None, source_key: str, memo: str,
                    quantity: Decimal | int = 1) -> Award | None:
    """Award the township's items with `trigger` to the household of `resident_user` (a verified resident),
    once per `source_key` (e.g. "case:12"); None when nothing applies (no such item, an unverified reporter,
    the cap reached). Called explicitly by the app where the event happens. `quantity` multiplies the item's
    points (hours of volunteer service), rounded down; nothing is given when that comes to 0."""
    if trigger not in Trigger.values or not trigger or resident_user is None:
        return None
    resident = registry_record(resident_user)
    if resident is None or resident.status != Resident.Status.ACTIVE:
        return None
    with transaction.atomic():
        if (done := Award.objects.filter(source_key=source_key).first()) is not None:
            return done
        account = _lock(ledger.account_for_resident(resident))
        items = [item for item in RuleItem.objects.filter(trigger=trigger, retired_at__isnull=True,
                                                          category__is_active=True).select_related("category",
                                                                                                   "category__township")
                 if _item_applies(item, account)]
        if not items:
            return None
        item = items[0]
        if _cap_reached(account, item, timezone.now()):
            return None
        points = item.points if quantity == 1 else int(item.points * Decimal(quantity))
        if points == 0:
            return None
        award = _book(account=account, village_id=account.unit_id, item=item, origin=Award.Origin.EVENT,
                      points=points, reason=memo[:REASON_MAX], actor=None, source_key=source_key)
        transaction.on_commit(lambda: notices.award_booked(award))
        return award


# Claims ------------------------------------------------------------------------------------------------------

def _claimant_record(user: User) -> Resident:
    resident = registry_record(user)
    if resident is None or resident.status != Resident.Status.ACTIVE:
        raise Forbidden(_("请先完成实名核验（与户籍信息匹配）后再申请积分。"), code="unverified")
    return resident


def submit_claim(*, user: User, item: RuleItem, note: str, photos: Sequence[uploads.UploadLike] = (),
                 client_key: str = "") -> Claim:
    """A verified resident applies for a claimable item of their village's catalogue; the village reviews it.
    The same form sent twice (same `client_key`) is answered with the first claim."""
    if client_key and (done := Claim.objects.filter(claimant=user, client_key=client_key).first()) is not None:
        return done
    resident = _claimant_record(user)
    note = clean_text(note, field="note", max_length=NOTE_MAX, required_message=_("请简要说明事迹。"))
    stored = uploads.store_photos(list(photos), folder="points", limit=MAX_PHOTOS)
    try:
        return _submit(user=user, resident=resident, item=item, note=note, stored=stored, client_key=client_key)
    except IntegrityError:
        uploads.delete_stored(stored)
        if client_key and (done := Claim.objects.filter(claimant=user, client_key=client_key).first()) is not None:
            return done
        raise
    except BaseException:
        uploads.delete_stored(stored)
        raise


@transaction.atomic
def _submit(*, user: User, resident: Resident, item: RuleItem, note: str, stored: list[uploads.StoredPhoto],
            client_key: str) -> Claim:
    item = _live_item(item)
    account = _lock(ledger.account_for_resident(resident))
    if not item.claimable or not _item_applies(item, account):
        raise DomainError(_("该事项不能在线申请。"), field="rule_item")
    if item.photo_required and not stored:
        raise DomainError(_("该事项须上传照片作为佐证。"), field="photos")
    if _cap_reached(account, item, timezone.now()):
        raise DomainError(_cap_message(item), code="cap_reached", field="rule_item")
    if Claim.objects.filter(account=account, rule_item__lineage=item.lineage,
                            status__in=[Claim.Status.SUBMITTED, Claim.Status.MORE_NEEDED]).exists():
        raise DomainError(_("本户已有该事项的申请在审核中，请等待审核结果。"), code="claim_pending", field="rule_item")
    claim = Claim.objects.create(claimant=user, resident=resident, account=account, village=account.unit,
                                 path=account.path, rule_item=item, note=note, client_key=client_key)
    EvidencePhoto.objects.bulk_create(EvidencePhoto(claim=claim, file=p.file, thumbnail=p.thumbnail,
                                                    content_type=p.content_type, sha256=p.sha256) for p in stored)
    transaction.on_commit(lambda: notices.claim_submitted(claim))
    return claim


def supplement_claim(*, user: User, claim: Claim, note: str, photos: Sequence[uploads.UploadLike] = ()) -> Claim:
    """The claimant adds what the reviewer asked for (a note, more photos); the claim goes back for review."""
    if claim.claimant_id != user.pk:
        raise NotFound()
    note = clean_text(note, field="note", max_length=NOTE_MAX, required_message=_("请填写补充说明。"))
    stored = uploads.store_photos(list(photos), folder="points", limit=MAX_PHOTOS)
    try:
        with transaction.atomic():
            claim = Claim.objects.select_for_update().get(pk=claim.pk)
            if claim.status != Claim.Status.MORE_NEEDED:
                raise Conflict(_("该申请当前为“%(status)s”，不需要补充。") % {"status": claim.get_status_display()},
                               code="invalid_state")
            if claim.photos.count() + len(stored) > MAX_PHOTOS:
                raise DomainError(_("最多上传%(n)d张照片。") % {"n": MAX_PHOTOS}, field="photos")
            claim.note = f"{claim.note}\n{_('补充：')}{note}"[:NOTE_MAX]
            claim.status = Claim.Status.SUBMITTED
            claim.save(update_fields=["note", "status", "updated_at"])
            EvidencePhoto.objects.bulk_create(
                EvidencePhoto(claim=claim, file=p.file, thumbnail=p.thumbnail, content_type=p.content_type,
                              sha256=p.sha256) for p in stored)
            transaction.on_commit(lambda: notices.claim_submitted(claim))
            return claim
    except BaseException:
        uploads.delete_stored(stored)
        raise


@transaction.atomic
def withdraw_claim(*, user: User, claim: Claim) -> Claim:
    claim = Claim.objects.select_for_update().get(pk=claim.pk)
    if claim.claimant_id != user.pk:
        raise NotFound()
    if claim.status == Claim.Status.WITHDRAWN:
        return claim
    if not claim.is_open:
        raise Conflict(_("该申请已审核，不能撤回。"), code="invalid_state")
    claim.status = Claim.Status.WITHDRAWN
    claim.save(update_fields=["status", "updated_at"])
    return claim


class ReviewDecision:
    APPROVE = "approve"
    REJECT = "reject"
    MORE = "more"
    ALL = (APPROVE, REJECT, MORE)


@transaction.atomic
def review_claim(*, actor: User, claim: Claim, decision: str, note: str = "") -> Claim:
    """批准 (the points are credited), 驳回 with a reason, or 补充材料 with what is missing. Deciding again the
    same way answers with the claim as it is; a claim decided otherwise meanwhile is refused."""
    claim = Claim.objects.select_for_update().select_related("rule_item", "account").get(pk=claim.pk)
    if not policies.can_view_village(actor, claim.village):
        raise NotFound()
    if not policies.can_review(actor, claim):
        raise Forbidden(_("“%(item)s”由%(who)s审核。") % {"item": claim.rule_item.name,
                                                       "who": claim.rule_item.get_awarder_display()})
    if decision not in ReviewDecision.ALL:
        raise DomainError(_("请选择审核结果。"), field="decision")
    done = {ReviewDecision.APPROVE: Claim.Status.APPROVED, ReviewDecision.REJECT: Claim.Status.REJECTED,
            ReviewDecision.MORE: Claim.Status.MORE_NEEDED}[decision]
    if claim.status == done:
        return claim  # a replay of the same decision
    if claim.status != Claim.Status.SUBMITTED:
        raise Conflict(_("该申请当前为“%(status)s”，不能再审核。") % {"status": claim.get_status_display()},
                       code="invalid_state")
    required = None if decision == ReviewDecision.APPROVE else (
        _("请填写驳回原因。") if decision == ReviewDecision.REJECT else _("请写明需要补充的材料。"))
    note = clean_text(note, field="note", max_length=REASON_MAX, required_message=required)
    if decision == ReviewDecision.APPROVE:
        account = _lock(claim.account)
        if _cap_reached(account, claim.rule_item, timezone.now()):
            raise DomainError(_cap_message(claim.rule_item), code="cap_reached")
        _book(account=account, village_id=claim.village_id, item=claim.rule_item, origin=Award.Origin.CLAIM,
              points=claim.rule_item.points, reason=note or claim.note[:REASON_MAX], actor=actor, claim=claim)
    claim.status = done
    claim.review_note = note
    claim.reviewed_by = actor
    claim.reviewed_at = timezone.now()
    claim.save(update_fields=["status", "review_note", "reviewed_by", "reviewed_at", "updated_at"])
    transaction.on_commit(lambda: notices.claim_reviewed(claim))
    return claim
