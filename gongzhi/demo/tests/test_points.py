"""The demo's points economy (demo.points): catalogue, shops and their managers, and a history written through the
services that leaves a ledger `check-ledger` passes."""

import datetime
import io
from collections import Counter

import pytest
from django.core.management import call_command
from django.utils import timezone

from gongzhi.accounts.models import Membership, Role, User
from gongzhi.demo import generate as gen
from gongzhi.demo.generation import points as plan
from gongzhi.org.models import Level, OrgUnit, UnitKind
from gongzhi.points import policies
from gongzhi.points.models import Account, Award, Claim, LedgerEntry, Redemption, RuleItem, Shop, ShopItem, Trigger
from gongzhi.points.presets import item_count
from gongzhi.points.selectors.integrity import verify_ledger

SEED = 7


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """The generated points applications store their photos: in a temporary folder, not the real var/."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def tiny(db):
    return gen.generate(scale="tiny", seed=SEED, progress=False)


def test_every_note_and_reason_names_one_item_of_the_preset_catalogue():
    from gongzhi.points.presets import PRESET_CATALOGUE

    names = [item.name for _category, items in PRESET_CATALOGUE for item in items]
    for table in (plan.CLAIM_NOTES, plan.DIRECT_AWARD_REASONS, plan.TOWNSHIP_AWARD_REASONS, plan.DEDUCTION_REASONS):
        for part, _text in table:
            assert len([n for n in names if part in n]) == 1, part
    claimable = {item.name for _c, items in PRESET_CATALOGUE for item in items if item.claimable and item.points > 0}
    assert all(any(part in n for n in claimable) for part, _text in plan.CLAIM_NOTES)
    assert all(item.points < 0 for _c, items in PRESET_CATALOGUE for item in items
               if any(part in item.name for part, _t in plan.DEDUCTION_REASONS))
    for shop in (*plan.ALLIANCE, *plan.ONLINE):
        assert 3 <= len(shop.goods) <= 8 and all(5 <= g.price <= 200 and g.stock > 0 for g in shop.goods)
    assert len(plan.ALLIANCE) == gen.MERCHANTS_PER_TOWNSHIP and len(plan.ONLINE) == 10


def test_each_township_has_the_catalogue_and_its_shops_with_their_managers(tiny):
    town = OrgUnit.objects.get(level=Level.TOWNSHIP, kind=UnitKind.AREA)
    # The preset's items (the volunteer demo adds one more, 志愿服务时长, afterwards).
    preset = RuleItem.objects.filter(category__township=town).exclude(trigger=Trigger.VOLUNTEER_HOURS)
    assert preset.count() == item_count() == tiny.point_items
    villages = OrgUnit.objects.filter(level=Level.VILLAGE, kind=UnitKind.AREA, parent=town)
    for village in villages:
        shop = Shop.objects.get(village=village)
        assert shop.kind == Shop.Kind.LOVE_SUPERMARKET and shop.name == f"{village.name}爱心超市"
        admin = User.objects.get(memberships__unit=village, memberships__role=Role.VILLAGE_ADMIN)
        assert list(shop.managers.all()) == [admin] and policies.can_capture(admin, shop)
        assert 6 <= shop.items.count() <= 8
    alliance = Shop.objects.filter(township=town, kind=Shop.Kind.ALLIANCE).order_by("pk")
    merchants = [f"shanghu_bali_{n}" for n in range(1, 10)]
    assert [list(s.managers.values_list("username", flat=True)) for s in alliance] == [[m] for m in merchants]
    assert alliance[0].name == "八里惠民粮油店" == gen.demo_logins("tiny", SEED)[13]["unit"]
    assert all(s.phone and s.address for s in alliance)
    online = Shop.objects.filter(township=town, kind=Shop.Kind.ONLINE)
    assert online.count() == 10 and not online.filter(managers__isnull=True).exists()
    for shop in Shop.objects.all():
        assert Account.objects.filter(shop=shop, kind=Account.Kind.SHOP).exists()
        assert 3 <= shop.items.count() <= 8
    assert not ShopItem.objects.exclude(price__range=(5, 200)).exists()
    assert tiny.point_shops == Shop.objects.count() == villages.count() + 19
    # A merchant sees only their own shops: the alliance shop and the online shop(s) they run.
    merchant = User.objects.get(username="shanghu_bali_2")
    assert set(Shop.objects.filter(policies.shops_managed_q(merchant)).values_list("kind", flat=True)) == {
        Shop.Kind.ALLIANCE, Shop.Kind.ONLINE}


def test_the_history_has_seed_000s_figures_and_a_sound_ledger(tiny):
    claims = Counter(Claim.objects.values_list("status", flat=True))
    assert sum(claims.values()) == tiny.claims == 52
    assert claims[Claim.Status.APPROVED] == tiny.claims_approved == 32
    assert claims[Claim.Status.REJECTED] and claims[Claim.Status.SUBMITTED] and claims[Claim.Status.MORE_NEEDED]
    assert claims[Claim.Status.WITHDRAWN]
    awards = Counter(Award.objects.values_list("origin", flat=True))
    assert awards[Award.Origin.CLAIM] == 32 and awards[Award.Origin.DIRECT] >= 10
    assert awards[Award.Origin.CORRECTION] == 1
    assert Award.objects.filter(origin=Award.Origin.DIRECT, points__lt=0).count() == plan.DEDUCTIONS
    assert Claim.objects.filter(photos__isnull=False).exists()
    redemptions = Counter(Redemption.objects.values_list("status", flat=True))
    assert redemptions == {Redemption.Status.CAPTURED: 11, Redemption.Status.HELD: 2,
                           Redemption.Status.CANCELLED: 1, Redemption.Status.EXPIRED: 1}
    assert tiny.redemptions == 15 and tiny.redemptions_captured == 11
    # Spread over the past months, in working hours, nothing in the future; the chain's times run forward.
    now = timezone.now()
    times = list(LedgerEntry.objects.order_by("seq").values_list("created_at", flat=True))
    assert times == sorted(times) and times[-1] < now
    assert now - times[0] > datetime.timedelta(days=100)
    # The points demo's own history in working hours; the volunteer demo's hour awards are booked at its run.
    volunteer = set(Award.objects.filter(rule_item__trigger=Trigger.VOLUNTEER_HOURS).values_list("pk", flat=True))
    history = [t for t, kind, source in LedgerEntry.objects.values_list("created_at", "source_type", "source_id")
               if not (kind == "award" and source in volunteer)]
    assert history and all(8 <= timezone.localtime(t).hour < 20 for t in history)
    # Still waiting: picked up within the week, one of them the first demo resident's at merchant 1's shop.
    held = Redemption.objects.filter(status=Redemption.Status.HELD).select_related("redeemer", "shop")
    assert all(r.expires_at > now for r in held)
    mine = held.get(redeemer__username="jumin_demo1")
    assert mine.shop.managers.filter(username="shanghu_bali_1").exists()
    report = verify_ledger()
    assert report.ok, report.problems
    assert report.entries == LedgerEntry.objects.count() > 100
    out = io.StringIO()
    call_command("check_ledger", stdout=out)
    assert "账本完整" in out.getvalue()


def test_participants_are_verified_heads_of_household_signed_in_by_phone(tiny):
    users = User.objects.filter(username__startswith="r-demo-bali-")
    assert users.count() == tiny.point_users - 2  # the two demo residents take part too
    for user in users.select_related("resident_record__household"):
        record = user.resident_record
        assert record.is_head and user.kind == User.Kind.RESIDENT and user.confirmed_at is not None
        assert not user.has_usable_password()
        assert user.id_number.reveal() == record.id_number.reveal()
        assert user.phone.reveal() == record.phone.reveal()
        assert Membership.objects.filter(user=user, unit=record.grid, role=Role.RESIDENT).exists()
    assert tiny.users == User.objects.count()


def test_the_demo_cases_award_on_top_and_the_ledger_still_checks(tiny):
    from gongzhi.demo.cases import make_demo_cases

    before = LedgerEntry.objects.count()
    make_demo_cases(seed=5)
    assert Award.objects.filter(origin=Award.Origin.EVENT).exists()
    assert LedgerEntry.objects.count() > before
    report = verify_ledger()
    assert report.ok, report.problems
