"""The ledger: balanced pairs, replays credit nothing, no balance below zero, and the check finds any edit made
behind the application's back, naming the first broken entry."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from gongzhi.points.models import Account, LedgerCheck, LedgerEntry, LedgerHead
from gongzhi.points.selectors.integrity import verify_ledger
from gongzhi.points.services import ledger
from gongzhi.points.services.ledger import InsufficientPoints

pytestmark = pytest.mark.django_db


@pytest.fixture
def accounts(points_world):
    return ledger.issue_account(points_world.village), points_world.account


def _post(source_id, debit, credit, amount, source_type="award"):
    with transaction.atomic():
        return ledger.post(source_type=source_type, source_id=source_id, debit=debit, credit=credit, amount=amount,
                           memo="测试", actor=None)


def test_a_movement_is_a_balanced_pair_and_moves_the_balances(accounts):
    issue, home = accounts
    assert _post(1, issue, home, 7) is True
    entries = list(LedgerEntry.objects.order_by("seq"))
    assert [(e.seq, e.account_id, e.amount) for e in entries] == [(1, issue.pk, -7), (2, home.pk, 7)]
    assert entries[1].prev_hash == entries[0].hash
    issue.refresh_from_db()
    home.refresh_from_db()
    assert (issue.balance, home.balance) == (-7, 7)
    assert LedgerHead.objects.get().last_seq == 2


def test_a_replayed_source_credits_nothing_twice(accounts):
    issue, home = accounts
    assert _post(1, issue, home, 7) is True
    assert _post(1, issue, home, 7) is False
    home.refresh_from_db()
    assert home.balance == 7
    assert LedgerEntry.objects.count() == 2


def test_no_balance_goes_below_zero_and_the_refusal_changes_nothing(accounts):
    issue, home = accounts
    _post(1, issue, home, 5)
    with pytest.raises(InsufficientPoints) as refused:
        _post(2, home, issue, 6)
    assert "现有5分" in str(refused.value.message)
    home.refresh_from_db()
    assert home.balance == 5
    assert LedgerEntry.objects.count() == 2
    assert verify_ledger().ok


def _chain(accounts, n=5):
    issue, home = accounts
    for i in range(1, n + 1):
        _post(i, issue, home, i)


def _raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_an_intact_ledger_passes_the_check(accounts):
    _chain(accounts)
    report = verify_ledger()
    assert report.ok and report.entries == 10 and report.first_broken_seq is None


@pytest.mark.parametrize("column, value", [("amount", 99), ("memo", "改过"), ("source_id", 77)])
def test_an_entry_edited_in_the_database_is_reported_first(accounts, column, value):
    _chain(accounts)
    _raw(f"UPDATE points_ledgerentry SET {column} = %s WHERE seq = 6", [value])
    report = verify_ledger()
    assert not report.ok
    assert report.first_broken_seq == 6
    assert "第6条" in report.problems[0]


def test_an_edit_that_recomputes_its_own_hash_breaks_the_next_link(accounts):
    _chain(accounts)
    entry = LedgerEntry.objects.get(seq=4)
    from gongzhi.points.models import entry_hash

    forged = entry_hash(prev_hash=entry.prev_hash, seq=4, account_id=entry.account_id, amount=entry.amount + 10,
                        source_type=entry.source_type, source_id=entry.source_id, memo=entry.memo,
                        actor_id=entry.actor_id, created_at=entry.created_at)
    _raw("UPDATE points_ledgerentry SET amount = amount + 10, hash = %s WHERE seq = 4", [forged])
    report = verify_ledger()
    assert report.first_broken_seq == 5
    assert any("不成对" in p for p in report.problems)  # and the pair no longer balances


def test_a_deleted_entry_is_reported(accounts):
    _chain(accounts)
    _raw("DELETE FROM points_ledgerentry WHERE seq = 3")
    report = verify_ledger()
    assert report.first_broken_seq == 4
    assert "不连续" in report.problems[0]


def test_deleting_the_last_movement_is_caught_by_the_head(accounts):
    _chain(accounts)
    _raw("DELETE FROM points_ledgerentry WHERE seq >= 9")
    report = verify_ledger()
    assert not report.ok
    assert report.first_broken_seq == 9
    assert any("链尾" in p for p in report.problems)


def test_a_cached_balance_that_differs_from_the_sum_is_reported(accounts):
    _chain(accounts)
    _, home = accounts
    Account.objects.filter(pk=home.pk).update(balance=1000)
    report = verify_ledger()
    assert report.first_broken_seq is None  # the chain is fine; the cache is not
    assert any(f"账户#{home.pk}的余额1000" in p for p in report.problems)


def test_the_command_exits_non_zero_and_names_the_first_broken_entry(accounts, capsys):
    _chain(accounts)
    call_command("check_ledger")
    assert "账本完整" in capsys.readouterr().out
    _raw("UPDATE points_ledgerentry SET amount = 3 WHERE seq = 8")
    with pytest.raises(CommandError) as failed:
        call_command("check_ledger")
    assert failed.value.returncode == 1
    assert "第8条" in capsys.readouterr().err
    assert list(LedgerCheck.objects.order_by("started_at").values_list("ok", flat=True)) == [True, False]


def test_a_broken_check_notifies_the_system_administrators(accounts, make_staff, tree,
                                                           django_capture_on_commit_callbacks):
    from gongzhi.accounts.models import Role
    from gongzhi.notifications.models import Notification
    from gongzhi.points.services.checks import run_check

    admin = make_staff("sysadmin", tree["city"], Role.SYSTEM_ADMIN)
    _chain(accounts)
    _raw("UPDATE points_ledgerentry SET memo = 'x' WHERE seq = 2")
    with django_capture_on_commit_callbacks(execute=True):
        report, check = run_check()
    assert not check.ok and check.problems == report.problems
    assert Notification.objects.filter(recipient=admin, kind="points.ledger_broken").count() == 1
