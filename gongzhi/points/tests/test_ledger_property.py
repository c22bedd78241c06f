"""Property: whatever sequence of claims, awards, deductions, holds, captures, cancels and expiries happens
(replays included), every movement balances, no balance but an issuing account's is below zero, every cached
balance equals its entries' sum, and the chain verifies."""

import datetime

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gongzhi.core.errors import DomainError
from gongzhi.points.models import Account, LedgerEntry, Redemption, ShopItem
from gongzhi.points.selectors.integrity import verify_ledger
from gongzhi.points.services import awards, redemptions

pytestmark = pytest.mark.django_db

OPS = st.lists(st.one_of(
    st.tuples(st.just("claim"), st.sampled_from(["邻里和睦", "参加义务巡逻", "无偿献血"]), st.booleans()),
    st.tuples(st.just("award"), st.sampled_from(["参加义务巡逻", "捐资助学", "参加志愿服务"]), st.booleans()),
    st.tuples(st.just("deduct"), st.sampled_from(["乱倒垃圾", "违规焚烧", "参与赌博"]), st.booleans()),
    st.tuples(st.just("hold"), st.integers(1, 3), st.booleans()),
    st.tuples(st.just("capture"), st.integers(0, 5), st.booleans()),
    st.tuples(st.just("cancel"), st.integers(0, 5), st.booleans()),
    st.tuples(st.just("expire"), st.integers(0, 5), st.booleans()),
    st.tuples(st.just("reverse"), st.integers(0, 5), st.booleans()),
), min_size=1, max_size=25)


class _Rollback(Exception):
    pass


def _run(w, op, arg, replay, state):
    kind = op
    if kind == "claim":
        claim = awards.submit_claim(user=w.resident_user, item=w.rule(arg), note="事迹")
        awards.review_claim(actor=w.village_admin, claim=claim, decision="approve")
        if replay:
            awards.review_claim(actor=w.village_admin, claim=claim, decision="approve")
    elif kind in {"award", "deduct"}:
        key = f"k{len(state['keys'])}"
        state["keys"].append(key)
        award = awards.award_directly(actor=w.village_admin, resident=w.head, item=w.rule(arg), reason="事由",
                                      client_key=key)
        state["awards"].append(award)
        if replay:
            awards.award_directly(actor=w.village_admin, resident=w.head, item=w.rule(arg), reason="事由",
                                  client_key=key)
    elif kind == "hold":
        state["holds"].append(redemptions.hold(user=w.resident_user, item=w.item, quantity=arg))
    elif kind == "reverse" and state["awards"]:
        awards.reverse_award(actor=w.village_admin, award=state["awards"][arg % len(state["awards"])], reason="更正")
    elif state["holds"]:
        held = state["holds"][arg % len(state["holds"])]
        if kind == "capture":
            for _ in range(2 if replay else 1):
                redemptions.capture_token(merchant=w.merchant, shop=w.shop, token=redemptions.token_for(held))
        elif kind == "cancel":
            redemptions.cancel(user=w.resident_user, redemption=held)
        else:
            Redemption.objects.filter(pk=held.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
            redemptions.expire_due()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_the_ledger_invariants_hold_under_any_sequence(points_world, ops):
    w = points_world
    try:
        with transaction.atomic():
            state = {"keys": [], "awards": [], "holds": []}
            # Cheap goods and a few points to start with, so holds and captures happen in most sequences.
            ShopItem.objects.filter(pk=w.item.pk).update(price=2)
            awards.award_directly(actor=w.village_admin, resident=w.head, item=w.rule("捐资助学"), reason="起始")
            for op, arg, replay in ops:
                try:
                    with transaction.atomic():
                        _run(w, op, arg, replay, state)
                except DomainError:
                    pass  # refused (no points, cap reached, already captured …): must have changed nothing
            report = verify_ledger()
            assert report.ok, report.problems
            for account in Account.objects.all():
                assert account.balance >= 0 or account.kind == Account.Kind.ISSUE
            pairs = {}
            for entry in LedgerEntry.objects.all():
                pairs.setdefault((entry.source_type, entry.source_id), []).append(entry.amount)
            assert all(len(amounts) == 2 and sum(amounts) == 0 for amounts in pairs.values())
            w.item.refresh_from_db()
            held = sum(Redemption.objects.filter(status="held").values_list("quantity", flat=True))
            captured = sum(Redemption.objects.filter(status="captured").values_list("quantity", flat=True))
            assert (w.item.reserved, w.item.stock) == (held, 5 - captured)
            raise _Rollback
    except _Rollback:
        pass
