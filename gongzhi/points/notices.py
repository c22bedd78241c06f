"""The points economy's notices: each step of a claim, an award or deduction, a redemption picked up or
expired, a broken ledger. Registered with `notifications.types`; sent after the step commits."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gongzhi.accounts.models import Membership, Role, User
from gongzhi.notifications import services as notifications
from gongzhi.notifications import types
from gongzhi.notifications.types import NoticeType
from gongzhi.points.models import Account, Award, Awarder, Claim, Redemption

CLAIM_SUBMITTED = NoticeType(kind="points.claim_submitted", label=gettext_lazy("积分申请待审核"), target="claim",
                             audience="reviewers")
CLAIM_REVIEWED = NoticeType(kind="points.claim_reviewed", label=gettext_lazy("积分申请审核结果"), target="claim",
                            audience="claimant")
AWARD_BOOKED = NoticeType(kind="points.award", label=gettext_lazy("积分变动"), target="points",
                          audience="household")
REDEMPTION_CAPTURED = NoticeType(kind="points.redemption_captured", label=gettext_lazy("兑换已领取"),
                                 target="redemption", audience="redeemer")
REDEMPTION_EXPIRED = NoticeType(kind="points.redemption_expired", label=gettext_lazy("兑换已过期"),
                                target="redemption", audience="redeemer")
LEDGER_BROKEN = NoticeType(kind="points.ledger_broken", label=gettext_lazy("积分账本核验异常"),
                           target="ledger_checks", audience="system_admins")


def register() -> None:
    types.register(CLAIM_SUBMITTED, CLAIM_REVIEWED, AWARD_BOOKED, REDEMPTION_CAPTURED, REDEMPTION_EXPIRED,
                   LEDGER_BROKEN)


def _account_holders(account: Account) -> list[User]:
    """The people with accounts who share the points: the household's members, or the one resident."""
    from gongzhi.registry.models import Resident

    if account.household_id is not None:
        people = Resident.objects.filter(household_id=account.household_id, user__isnull=False)
    else:
        people = Resident.objects.filter(pk=account.resident_id or 0, user__isnull=False)
    return list(User.objects.filter(pk__in=people.values("user_id")))


def claim_submitted(claim: Claim) -> None:
    if claim.rule_item.awarder == Awarder.VILLAGE:
        posts = Membership.objects.active().filter(role=Role.VILLAGE_ADMIN, unit_id=claim.village_id)
    else:
        posts = Membership.objects.active().filter(role=Role.DISPATCHER, unit__level="township",
                                                   unit__path__in=claim.village.ancestor_paths())
    reviewers = User.objects.filter(pk__in=posts.values("user_id"))
    notifications.notify(
        recipients=reviewers, kind=CLAIM_SUBMITTED.kind, target_id=claim.pk,
        title=_("积分申请待审核：%(item)s") % {"item": claim.rule_item.name[:60]},
        body=_("%(name)s申请“%(item)s”（%(points)+d分）。") % {
            "name": claim.resident.name, "item": claim.rule_item.name, "points": claim.rule_item.points},
        dedupe_key=f"claim:{claim.pk}:submitted:{claim.updated_at.timestamp():.0f}")


def claim_reviewed(claim: Claim) -> None:
    if claim.status == Claim.Status.APPROVED:
        title = _("积分申请已通过：%(points)+d分") % {"points": claim.rule_item.points}
    elif claim.status == Claim.Status.REJECTED:
        title = _("积分申请未通过")
    else:
        title = _("积分申请需要补充材料")
    body = _("“%(item)s”：%(note)s") % {"item": claim.rule_item.name,
                                       "note": claim.review_note or claim.get_status_display()}
    notifications.notify(recipients=[claim.claimant], kind=CLAIM_REVIEWED.kind, target_id=claim.pk, title=title,
                         body=body, dedupe_key=f"claim:{claim.pk}:{claim.status}:{claim.updated_at.timestamp():.0f}")


def award_booked(award: Award) -> None:
    if award.claim_id is not None:
        return  # the claimant hears of it as the review's result
    if award.origin == Award.Origin.CORRECTION:
        title = _("积分更正：%(points)+d分") % {"points": award.booked}
    elif award.points > 0:
        title = _("获得积分：%(points)+d分") % {"points": award.booked}
    else:
        title = _("积分扣减：%(points)+d分") % {"points": award.booked}
    body = _("%(item)s。事由：%(reason)s") % {"item": award.rule_item.name, "reason": award.reason}
    notifications.notify(recipients=_account_holders(award.account), kind=AWARD_BOOKED.kind, title=title[:100],
                         body=body, dedupe_key=f"award:{award.pk}")


def redemption_captured(redemption: Redemption) -> None:
    notifications.notify(
        recipients=[redemption.redeemer], kind=REDEMPTION_CAPTURED.kind, target_id=redemption.pk,
        title=_("已在%(shop)s领取%(item)s") % {"shop": redemption.shop.name, "item": redemption.item.name},
        body=_("使用积分%(points)d分。") % {"points": redemption.points},
        dedupe_key=f"redemption:{redemption.pk}:captured")


def redemption_expired(redemption: Redemption) -> None:
    notifications.notify(
        recipients=[redemption.redeemer], kind=REDEMPTION_EXPIRED.kind, target_id=redemption.pk,
        title=_("兑换已过期，积分已退回"),
        body=_("%(shop)s的%(item)s未在有效期内领取，%(points)d分已退回。") % {
            "shop": redemption.shop.name, "item": redemption.item.name, "points": redemption.points},
        dedupe_key=f"redemption:{redemption.pk}:expired")


def ledger_broken(problems: list[str]) -> None:
    admins = User.objects.filter(pk__in=Membership.objects.active().filter(role=Role.SYSTEM_ADMIN)
                                 .values("user_id"))
    notifications.notify(recipients=admins, kind=LEDGER_BROKEN.kind, title=_("积分账本核验发现异常"),
                         body="\n".join(problems[:10]))
