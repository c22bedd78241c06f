"""The demo's points economy (积分制): `make_points(townships, seed=…)`, called by `demo.generate` for every township.

Each township gets the preset catalogue and star scale (`points.services.rules.install_preset`), a 爱心超市 in
every village (its village administrator scans the codes), nine alliance merchants (积分兑换联盟商家), each the
shop of one of the township's merchant accounts `shanghu_<town>_1..9`, and ten online shops (线上换购商铺) run by
the same merchants, all with goods, point prices and stock (`demo.generation.points`). A few households of each
village have signed up (verified resident accounts, like the demo residents, who take part too) and use it.

Then about five months of history, written through the real services (`points.services.awards` and
`redemptions`), so the ledger's hash chain, its pairs and cached balances, the notices and the caps are what
they would have been: seed 000's 52 applications (32 approved, a few rejected, withdrawn or waiting for more
material, nine waiting for review), direct awards by the village and the township, deductions, one correction,
eleven redemptions picked up, one cancelled, one expired and two still waiting for pickup (one of them the first
demo resident's, at merchant 1's shop, so its QR code can be shown and scanned). Every step runs at its own past
moment under `time_machine` (`demo.cases._clock`), all townships' steps in one chronological order, so the
chain's times run forward. Deterministic for a seed, apart from the moments (relative to now) and the tokens.
"""

from __future__ import annotations

import datetime
import functools
import io
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image, ImageDraw
from tqdm import tqdm

from gongzhi.accounts.models import Membership, Role, User
from gongzhi.core.errors import DomainError
from gongzhi.demo.cases import _clock
from gongzhi.demo.generation import points as plan
from gongzhi.org.models import Level, OrgUnit, UnitKind
from gongzhi.points.models import Account, Award, Claim, Redemption, RuleItem, Shop, ShopItem
from gongzhi.points.services import awards, ledger, redemptions, rules, shops
from gongzhi.registry.models import Resident


@dataclass
class PointsSummary:
    items: int = 0
    shops: int = 0
    goods: int = 0
    participants: int = 0
    accounts: int = 0  # the participants' new resident accounts
    claims: int = 0
    approved: int = 0
    awards: int = 0
    redemptions: int = 0
    captured: int = 0


@dataclass
class _Participant:
    user: User
    resident: Resident
    village: OrgUnit
    demo: bool = False  # one of the fixed demo residents (DEMO_LOGINS)
    account_id: int = 0


@dataclass(order=True)
class _Event:
    at: datetime.datetime
    town: int
    number: int
    run: Callable[[], object] = field(compare=False)


@functools.cache
def _photo_bytes(colour: tuple[int, int, int]) -> bytes:
    image = Image.new("RGB", (480, 360), colour)
    draw = ImageDraw.Draw(image)
    for y in range(220, 360, 45):  # a few bands, so the picture is not a flat square
        draw.rectangle((0, y, 480, y + 20), fill=(colour[0], min(colour[1] + 50, 255), colour[2]))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=75)
    return buffer.getvalue()


def _photo(rng: random.Random) -> SimpleUploadedFile:
    colour = rng.choice(((150, 110, 80), (90, 140, 90), (110, 120, 160), (170, 150, 90)))
    return SimpleUploadedFile("照片.jpg", _photo_bytes(colour), content_type="image/jpeg")


class _Town:
    """One township's economy: its set-up, then the events of its history (run later, in time order)."""

    def __init__(self, index: int, unit: OrgUnit, slug: str, rng: random.Random, now: datetime.datetime,
                 summary: PointsSummary):
        self.index, self.unit, self.slug, self.rng, self.now = index, unit, slug, rng, now
        self.summary = summary
        self.villages = list(OrgUnit.objects.filter(parent=unit, kind=UnitKind.AREA, level=Level.VILLAGE,
                                                    is_active=True).order_by("code"))
        self.admins: dict[int, User] = {}
        for post in (Membership.objects.active().filter(unit__in=self.villages, role=Role.VILLAGE_ADMIN)
                     .select_related("user").order_by("user__username")):
            self.admins.setdefault(post.unit_id, post.user)
        self.dispatcher = self._first(unit, Role.DISPATCHER)
        self.merchants = [post.user for post in Membership.objects.active().filter(unit=unit, role=Role.MERCHANT)
                          .select_related("user").order_by("user__pk")]
        self.supermarkets: dict[int, Shop] = {}
        self.alliance: list[Shop] = []
        self.online: list[Shop] = []
        self.participants: list[_Participant] = []
        self.events: list[_Event] = []
        self.used: set[tuple[int, int]] = set()  # (resident, item lineage): one claim or award each
        self.goods: dict[int, list[ShopItem]] = {}  # shop → its items by price, for shops someone scans at

    @staticmethod
    def _first(unit: OrgUnit, role: str) -> User | None:
        post = (Membership.objects.active().filter(unit=unit, role=role).select_related("user")
                .order_by("user__username").first())
        return post.user if post is not None else None

    # --- set-up ---------------------------------------------------------------------------------------
    def set_up(self) -> None:
        self.summary.items += rules.install_preset(actor=None, township=self.unit)
        short = plan.town_short(self.unit.name)
        for village in self.villages:
            office = "居委会" if village.name.endswith("社区") else "村委会"
            shop = self._shop(village, plan.ShopPlan(
                f"{village.name}爱心超市", plan.SUPERMARKET_HOURS,
                tuple(sorted(self.rng.sample(plan.SUPERMARKET_GOODS, self.rng.randint(6, 8)),
                             key=lambda g: g.price)), f"{village.name}{office}"),
                Shop.Kind.LOVE_SUPERMARKET, [self.admins[village.pk]] if village.pk in self.admins else [])
            self.supermarkets[village.pk] = shop
        for n, shop_plan in enumerate(plan.ALLIANCE):
            managers = [self.merchants[n]] if n < len(self.merchants) else []
            phone = managers[0].phone.reveal() if managers and managers[0].phone else ""
            self.alliance.append(self._shop(self.unit, shop_plan._replace(
                name=shop_plan.name.format(town=short), address=shop_plan.address.format(town=short)),
                Shop.Kind.ALLIANCE, managers, phone=phone))
        for n, shop_plan in enumerate(plan.ONLINE):
            # The alliance merchants run the online shops too (one each, the first one two).
            managers = [self.merchants[n % len(self.merchants)]] if self.merchants else []
            self.online.append(self._shop(self.unit, shop_plan._replace(name=shop_plan.name.format(town=short)),
                                          Shop.Kind.ONLINE, managers))
        self._participants()

    def _shop(self, unit: OrgUnit, shop_plan: plan.ShopPlan, kind: str, managers: list[User],
              phone: str = "") -> Shop:
        shop = shops.create_shop(actor=None, unit=unit, fields=shops.ShopFields(
            name=shop_plan.name, kind=kind, address=shop_plan.address, phone=phone, hours=shop_plan.hours))
        items = [shops.add_item(actor=None, shop=shop, fields=shops.ItemFields(
            name=goods.name, price=goods.price, stock=goods.stock, description=goods.description))
            for goods in shop_plan.goods]
        if managers:
            shops.set_managers(actor=None, shop=shop, managers=managers)
            self.goods[shop.pk] = sorted(items, key=lambda item: (item.price, item.pk))
        self.summary.shops += 1
        self.summary.goods += len(shop_plan.goods)
        return shop

    def _participants(self) -> None:
        """The demo residents of the township, and a few heads of household per village who sign up now
        (verified accounts, as a sign-up on the registered phone makes them)."""
        heads = Resident.objects.filter(household__village__in=self.villages, relation=Resident.Relation.HEAD,
                                        status=Resident.Status.ACTIVE)
        chosen_pks: list[int] = []
        by_village: dict[int, list[int]] = {}
        for pk, village_id in heads.filter(user__isnull=True).order_by("pk").values_list("pk",
                                                                                          "household__village_id"):
            by_village.setdefault(village_id, []).append(pk)
        for village in self.villages:
            pool = by_village.get(village.pk, [])
            chosen_pks += self.rng.sample(pool, min(plan.PARTICIPANTS_PER_VILLAGE, len(pool)))
        found = {r.pk: r for r in Resident.objects.filter(pk__in=chosen_pks).select_related("household")}
        chosen = [found[pk] for pk in chosen_pks]
        for resident in (heads.filter(user__isnull=False, user__kind=User.Kind.RESIDENT)
                         .select_related("user", "household").order_by("pk")):
            assert resident.user is not None
            self.participants.append(_Participant(resident.user, resident, self._village(resident), demo=True))
        users = []
        for n, resident in enumerate(chosen, 1):
            user = User(username=f"r-demo-{self.slug}-{n:03d}", kind=User.Kind.RESIDENT, real_name=resident.name,
                        id_number=resident.id_number.reveal(),
                        phone=resident.phone.reveal() if resident.phone else "", confirmed_at=timezone.now())
            user.set_unusable_password()
            users.append(user)
        User.objects.bulk_create(users, batch_size=500)
        Membership.objects.bulk_create([Membership(user_id=user.pk, unit_id=resident.grid_id, role=Role.RESIDENT)
                                        for user, resident in zip(users, chosen, strict=True)])
        for user, resident in zip(users, chosen, strict=True):
            Resident.objects.filter(pk=resident.pk).update(user=user)
            resident.user = user
            self.participants.append(_Participant(user, resident, self._village(resident)))
        for person in self.participants:
            person.account_id = ledger.account_for_resident(person.resident).pk
        self.summary.participants += len(self.participants)
        self.summary.accounts += len(users)

    def _village(self, resident: Resident) -> OrgUnit:
        assert resident.household is not None  # heads of household
        return next(v for v in self.villages if v.pk == resident.household.village_id)

    # --- time -----------------------------------------------------------------------------------------
    def day_moment(self, days_ago: float) -> datetime.datetime:
        """A moment in working hours about `days_ago` days ago (never in the last ten minutes)."""
        local = timezone.localtime(self.now - datetime.timedelta(days=days_ago))
        at = local.replace(hour=self.rng.randint(8, 19), minute=self.rng.randrange(60), second=0, microsecond=0)
        latest = self.now - datetime.timedelta(minutes=10)
        while at > latest:
            at -= datetime.timedelta(hours=6)
        return at

    def later(self, at: datetime.datetime, low_hours: float, high_hours: float) -> datetime.datetime:
        """Some hours after `at` in working hours (8:00–20:00), but before now and at least a minute after `at`."""
        step = timezone.localtime(at + datetime.timedelta(hours=self.rng.uniform(low_hours, high_hours)))
        step = step.replace(second=0, microsecond=0)
        if not 8 <= step.hour < 20:
            morning = step if step.hour < 8 else step + datetime.timedelta(days=1)
            step = morning.replace(hour=8, minute=self.rng.randrange(60))
        return max(min(step, self.now - datetime.timedelta(minutes=5)), at + datetime.timedelta(minutes=1))

    def event(self, at: datetime.datetime, run: Callable[[], object]) -> None:
        self.events.append(_Event(at, self.index, len(self.events), run))

    # --- the catalogue --------------------------------------------------------------------------------
    def item(self, name_part: str) -> RuleItem | None:
        items = RuleItem.objects.filter(category__township=self.unit, category__village__isnull=True,
                                        retired_at__isnull=True, name__contains=name_part).order_by("pk")
        return items.first()

    def pick(self, choices: Sequence[tuple[str, str]], people: Sequence[_Participant], *,
             min_points: int = 0, claimable: bool | None = None) -> tuple[_Participant, RuleItem, str] | None:
        """A (participant, item, text) not used yet: each household gets an item once, so no cap or
        waiting application stands in the way."""
        for _attempt in range(200):
            person = self.rng.choice(people)
            name_part, text = self.rng.choice(choices)
            item = self.item(name_part)
            if item is None or abs(item.points) < min_points or (claimable is not None
                                                                  and item.claimable != claimable):
                continue
            key = (person.resident.pk, item.lineage or item.pk)
            if key in self.used:
                continue
            self.used.add(key)
            return person, item, text
        return None

    def reviewer(self, person: _Participant, item: RuleItem) -> User | None:
        return self.admins.get(person.village.pk) if item.awarder == "village" else self.dispatcher

    # --- the history ----------------------------------------------------------------------------------
    def plan_history(self) -> None:
        if not self.participants:
            return
        outcomes = [o for o, n in plan.CLAIM_OUTCOMES.items() for _ in range(n)]
        self.rng.shuffle(outcomes)
        demo_people = [p for p in self.participants if p.demo]
        # The demo residents have a record worth showing: several approved applications early on, one waiting.
        for person in demo_people:
            for outcome in ("approve",) * 5 + ("pending",):
                if outcome in outcomes:
                    outcomes.remove(outcome)
                    self.claim(outcome, [person], min_points=5, early=outcome == "approve")
        for outcome in outcomes:
            self.claim(outcome, self.participants)
        others = [p for p in self.participants if not p.demo] or self.participants
        for _ in range(plan.DIRECT_AWARDS):
            self.direct(plan.DIRECT_AWARD_REASONS, self.participants, by_township=False)
        for _ in range(plan.TOWNSHIP_AWARDS):
            self.direct(plan.TOWNSHIP_AWARD_REASONS, self.participants, by_township=True)
        for _ in range(plan.DEDUCTIONS):
            self.direct(plan.DEDUCTION_REASONS, others, by_township=False, low=5, high=120)
        for _ in range(plan.CORRECTIONS):
            self.direct(plan.DIRECT_AWARD_REASONS, others, by_township=False, correct=True)
        kinds = ["supermarket"] * 5 + ["alliance"] * 4 + ["online"] * 2
        for n in range(plan.CAPTURED):
            self.redeem("captured", kinds[n % len(kinds)], self.rng.uniform(3, 100))
        first_demo = demo_people[0] if demo_people else None
        for n in range(plan.HELD):
            self.redeem("held", "alliance" if n == 0 else "supermarket", self.rng.uniform(0.1, 2.5),
                        person=first_demo if n == 0 else None)
        for _ in range(plan.CANCELLED):
            self.redeem("cancelled", "supermarket", self.rng.uniform(10, 90))
        for _ in range(plan.EXPIRED):
            self.redeem("expired", "alliance", self.rng.uniform(20, 90))

    def claim(self, outcome: str, people: Sequence[_Participant], *, min_points: int = 0,
              early: bool = False) -> None:
        picked = self.pick(plan.CLAIM_NOTES, people, min_points=min_points, claimable=True)
        if picked is None:
            return
        person, item, note = picked
        reviewer = self.reviewer(person, item)
        if reviewer is None and outcome not in {"pending", "withdraw"}:
            outcome = "pending"
        days = {"pending": (0.05, 6), "more": (4, 12), "withdraw": (5, 100)}.get(
            outcome, (60, plan.HISTORY_DAYS) if early else (3, plan.HISTORY_DAYS))
        at = self.day_moment(self.rng.uniform(*days))
        photos = [_photo(self.rng)] if item.photo_required else []
        state: dict[str, Claim] = {}

        def submit() -> None:
            state["claim"] = awards.submit_claim(user=person.user, item=item, note=note, photos=photos)
            self.summary.claims += 1

        self.event(at, submit)

        def review(decision: str, text: str = "") -> Callable[[], None]:
            def run() -> None:
                assert reviewer is not None
                claim = awards.review_claim(actor=reviewer, claim=state["claim"], decision=decision, note=text)
                if claim.status == Claim.Status.APPROVED:
                    self.summary.approved += 1
                state["claim"] = claim
            return run

        if outcome == "approve":
            self.event(self.later(at, 3, 72), review("approve", self.rng.choice(plan.APPROVE_NOTES)))
        elif outcome == "reject":
            self.event(self.later(at, 3, 72), review("reject", self.rng.choice(plan.REJECT_NOTES)))
        elif outcome in {"more", "more_then_approve"}:
            asked = self.later(at, 12, 48)
            self.event(asked, review("more", self.rng.choice(plan.MORE_NOTES)))
            if outcome == "more_then_approve":
                supplied, more_photos = self.later(asked, 20, 60), [_photo(self.rng)]
                self.event(supplied, lambda: awards.supplement_claim(
                    user=person.user, claim=state["claim"], note=plan.SUPPLEMENT_NOTE, photos=more_photos))
                self.event(self.later(supplied, 3, 24), review("approve"))
        elif outcome == "withdraw":
            self.event(self.later(at, 1, 20), lambda: awards.withdraw_claim(user=person.user, claim=state["claim"]))

    def direct(self, reasons: Sequence[tuple[str, str]], people: Sequence[_Participant], *, by_township: bool,
               low: float = 2, high: float = plan.HISTORY_DAYS, correct: bool = False) -> None:
        picked = self.pick(reasons, people)
        if picked is None:
            return
        person, item, reason = picked
        actor = self.dispatcher if by_township else self.admins.get(person.village.pk)
        if actor is None:
            return
        at = self.day_moment(self.rng.uniform(low, high))
        state: dict[str, Award] = {}

        def give() -> None:
            state["award"] = awards.award_directly(actor=actor, resident=person.resident, item=item, reason=reason)
            self.summary.awards += 1

        self.event(at, give)
        if correct:
            def reverse() -> None:
                try:
                    awards.reverse_award(actor=actor, award=state["award"], reason=plan.CORRECTION_REASON)
                except DomainError:  # the points were spent meanwhile: the correction waits for another day
                    return
                self.summary.awards += 1

            self.event(self.later(at, 1, 3), reverse)

    def redeem(self, outcome: str, kind: str, days_ago: float, person: _Participant | None = None) -> None:
        at = self.day_moment(days_ago)
        state: dict[str, Redemption] = {}

        def hold() -> None:
            found = self._choose(kind, person)
            if found is None:
                return
            who, item = found
            state["redemption"] = redemptions.hold(user=who.user, item=item)
            self.summary.redemptions += 1

        self.event(at, hold)
        if outcome == "captured":
            def capture() -> None:
                if (redemption := state.get("redemption")) is None:
                    return
                merchant = redemption.shop.managers.order_by("pk").first()  # there is one: see _choose
                if merchant is None:
                    return
                redemptions.capture_token(merchant=merchant, shop=redemption.shop,
                                          token=redemptions.token_for(redemption))
                self.summary.captured += 1

            self.event(self.later(at, 1, 72), capture)
        elif outcome == "cancelled":
            self.event(self.later(at, 2, 48), lambda: state.get("redemption") and redemptions.cancel(
                user=state["redemption"].redeemer, redemption=state["redemption"]))
        elif outcome == "expired":
            due = self.later(at + datetime.timedelta(days=redemptions.HOLD_DAYS), 1, 3)  # the sweep after expiry
            if due < self.now - datetime.timedelta(minutes=5):
                self.event(due, lambda: redemptions.expire_due(now=due))

    def _choose(self, kind: str, person: _Participant | None) -> tuple[_Participant, ShopItem] | None:
        """Someone who can afford something at a shop of `kind` now (the given person first, else anyone at
        random), and one of the dearest few items they can afford there; None when nobody can."""
        # The demo residents take part in one of the random redemptions at most: their points are kept for the
        # one they are shown waiting for pickup.
        people = [person] if person is not None else [
            p for p in self.rng.sample(self.participants, len(self.participants))
            if not (p.demo and Redemption.objects.filter(redeemer=p.user).exists())]
        balances = dict(Account.objects.filter(pk__in=[p.account_id for p in people]).values_list("pk", "balance"))
        for which in [kind, "supermarket"] if person is not None else [kind]:
            for who in people:
                if which == "supermarket":
                    candidates = [self.supermarkets[who.village.pk]] if who.village.pk in self.supermarkets else []
                else:
                    candidates = self.alliance[:1] if person is not None and which == "alliance" else (
                        self.alliance if which == "alliance" else self.online)
                candidates = [shop for shop in candidates if shop.pk in self.goods]
                if not candidates:
                    continue
                shop = self.rng.choice(candidates)
                affordable = [item for item in self.goods[shop.pk] if item.price <= balances[who.account_id]]
                if affordable:
                    return who, self.rng.choice(affordable[-3:])
        return None


def make_points(townships: Sequence[tuple[OrgUnit, str]], *, seed: int, now: datetime.datetime | None = None,
                bar: tqdm | None = None) -> PointsSummary:
    """The economy of each (township, slug) given; the caller holds the transaction. See the module text."""
    now = now or timezone.now()
    summary = PointsSummary()
    start = now - datetime.timedelta(days=plan.HISTORY_DAYS + 2)
    towns = []
    if bar is not None:  # first the townships' set-up, then the events of their history
        bar.reset(total=len(townships))
    with _clock(start):
        for index, (unit, slug) in enumerate(townships):
            town = _Town(index, unit, slug, random.Random(f"points:{seed}:{unit.code}"), now, summary)
            town.set_up()
            town.plan_history()
            towns.append(town)
            if bar is not None:
                bar.update()
    events = sorted(event for town in towns for event in town.events)
    if bar is not None:
        bar.reset(total=len(events))
    for event in events:
        with _clock(event.at):
            event.run()
        if bar is not None:
            bar.update()
    return summary
