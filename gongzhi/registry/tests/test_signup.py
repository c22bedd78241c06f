import datetime
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import time_machine
from django.contrib.auth.models import Permission

from gongzhi.accounts import selectors
from gongzhi.accounts.models import AccountEvent, Membership, Role, User
from gongzhi.accounts.services import reveal_pii, send_login_code
from gongzhi.accounts.tests.helpers import last_code, valid_id
from gongzhi.core.errors import Conflict, DomainError, Forbidden, NotFound
from gongzhi.core.models import PiiAccessLog
from gongzhi.registry.models import Household, Resident
from gongzhi.registry.services import register_resident

PHONE = "13812345678"
T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def make_household(tree, number="H001", grid="grid"):
    return Household.objects.create(village=tree[grid].parent, grid=tree[grid], number=number,
                                    address="小山村1号")


def make_person(household, name, id_number, relation=Resident.Relation.HEAD):
    return Resident.objects.create(household=household, name=name, id_number=id_number, phone=PHONE,
                                   gender="F", birth_date=datetime.date(1970, 5, 6), relation=relation)


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def signup(clock):
    """Ask for a code and sign up with it, as the form does."""

    def run(name, id_number, phone=PHONE):
        send_login_code(phone=phone, purpose="signup", client="192.0.2.1")
        user = register_resident(name=name, id_number=id_number, phone=phone, code=last_code(phone),
                                 client="192.0.2.1")
        clock.shift(61)
        return user

    return run


def refused(signup_fn, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as exc:
        signup_fn(*args, **kwargs)
    return exc.value


@pytest.mark.django_db
def test_household_head_is_linked_placed_in_the_grid_and_verified(tree, signup):
    record = make_person(make_household(tree), "王秀英", valid_id(birth="19700506", seq="222"))
    user = signup("王秀英", valid_id(birth="19700506", seq="222"))
    assert user.kind == User.Kind.RESIDENT and user.real_name == "王秀英" and not user.has_usable_password()
    assert user.id_number == valid_id(birth="19700506", seq="222") and user.phone == PHONE
    record.refresh_from_db()
    assert record.user == user
    assert [(m.unit, m.role) for m in Membership.objects.filter(user=user)] == [(tree["grid"], Role.RESIDENT)]
    assert selectors.is_verified_resident(user) and selectors.is_verified_household_head(user)
    assert selectors.primary_portal(user) == "resident"
    assert valid_id(birth="19700506", seq="222")[-8:] not in user.username


@pytest.mark.django_db
def test_household_member_is_verified_but_not_head(tree, signup):
    household = make_household(tree)
    make_person(household, "王秀英", valid_id(seq="222"))
    make_person(household, "李娜", valid_id(birth="19950101", seq="224"), relation=Resident.Relation.CHILD)
    user = signup("李娜", valid_id(birth="19950101", seq="224"))
    assert selectors.is_verified_resident(user) and not selectors.is_verified_household_head(user)


@pytest.mark.django_db
def test_without_a_registry_record_the_account_is_created_unverified(tree, signup):
    user = signup("阿依古丽•买买提", valid_id(region="650102", seq="333"))
    assert user.real_name == "阿依古丽·买买提"
    assert not selectors.is_verified_resident(user) and not Membership.objects.filter(user=user).exists()


@pytest.mark.django_db
def test_name_and_id_on_another_phone_give_an_unverified_account_and_no_household_data(tree, signup):
    """Knowing someone's name and ID number proves nothing: the register's phone is not theirs."""
    head_id = valid_id(seq="222")
    record = make_person(make_household(tree), "王秀英", head_id)
    impostor = signup("王秀英", head_id, "13900000001")
    record.refresh_from_db()
    assert record.user is None and not selectors.is_verified_resident(impostor)
    assert not Membership.objects.filter(user=impostor).exists()
    # The real person, on the register's phone, is verified afterwards all the same.
    owner = signup("王秀英", head_id, PHONE)
    record.refresh_from_db()
    assert owner != impostor and record.user == owner and selectors.is_verified_household_head(owner)


@pytest.mark.django_db
def test_a_name_not_matching_the_register_is_not_verified_even_on_its_phone(tree, signup):
    record = make_person(make_household(tree), "王秀英", valid_id(seq="222"))
    user = signup("王秀兰", valid_id(seq="222"))
    record.refresh_from_db()
    assert record.user is None and not selectors.is_verified_resident(user)
    assert AccountEvent.objects.filter(user=user).count() == 0


@pytest.mark.django_db
def test_before_the_code_the_answer_does_not_depend_on_the_register(tree, clock):
    make_person(make_household(tree), "王秀英", valid_id(seq="222"))
    send_login_code(phone="13900000001", purpose="signup", client="192.0.2.1")
    answers = set()
    for name, id_number in (("王秀英", valid_id(seq="222")), ("王秀兰", valid_id(seq="222")),
                            ("王秀英", valid_id(seq="999"))):
        err = refused(register_resident, name=name, id_number=id_number, phone="13900000001", code="000000",
                      client="192.0.2.1")
        answers.add((err.status, err.code, err.field))
    assert len(answers) == 1 and answers.pop()[2] == "code"


@pytest.mark.django_db
def test_sign_ups_are_limited_per_address_and_for_the_whole_site(tree, clock, settings):
    settings.SIGNUP_CLIENT_LIMIT = (3, 3600)
    statuses = [refused(register_resident, name="张三", id_number=valid_id(seq=f"{i:03d}"), phone=PHONE,
                        code="000000", client="192.0.2.1").status for i in range(5)]
    assert statuses == [422, 422, 422, 429, 429]
    settings.SIGNUP_GLOBAL_LIMIT = (3, 3600)  # three attempts so far passed the address limit
    err = refused(register_resident, name="张三", id_number=valid_id(), phone=PHONE, code="000000",
                  client="192.0.2.9")
    assert err.status == 429 and err.retry_after


@pytest.mark.django_db
def test_signing_up_again_on_the_same_phone_is_refused(tree, signup):
    signup("张三", valid_id(seq="555"))
    err = refused(signup, "张三", valid_id(seq="555"))
    assert isinstance(err, Conflict) and err.field == "id_number" and "直接登录" in str(err.message)
    assert User.objects.filter(kind=User.Kind.RESIDENT).count() == 1


@pytest.mark.django_db
def test_a_verified_person_cannot_be_shadowed_by_a_second_account(tree, signup):
    make_person(make_household(tree), "王秀英", valid_id(seq="222"))
    signup("王秀英", valid_id(seq="222"))
    err = refused(signup, "王秀英", valid_id(seq="222"), "13900000001")
    assert isinstance(err, Conflict) and err.code == "already_verified" and "换绑" in str(err.message)
    assert User.objects.filter(kind=User.Kind.RESIDENT).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("name,why", [("张", "2到20"), ("张三a", "汉字"), ("·张三", "汉字"),
                                      ("张三·", "汉字"), ("", "请填写"), ("张" * 21, "2到20")])
def test_bad_names(tree, clock, name, why):
    err = refused(register_resident, name=name, id_number=valid_id(), phone=PHONE, code="123456",
                  client="192.0.2.1")
    assert err.field == "name" and why in str(err.message)


@pytest.mark.django_db
def test_wrong_code_creates_nothing(tree, clock):
    send_login_code(phone=PHONE, purpose="signup", client="192.0.2.1")
    wrong = f"{(int(last_code(PHONE)) + 1) % 10**6:06d}"
    err = refused(register_resident, name="张三", id_number=valid_id(), phone=PHONE, code=wrong, client="192.0.2.1")
    assert err.field == "code" and not User.objects.filter(kind=User.Kind.RESIDENT).exists()


@pytest.mark.django_db
def test_each_bad_input_names_its_field(tree, clock):
    good = {"name": "张三", "id_number": valid_id(), "phone": PHONE, "code": "123456", "client": "192.0.2.1"}
    for field, bad in (("name", "Zhang"), ("id_number", "1"), ("phone", "1"), ("code", "1")):
        assert refused(register_resident, **{**good, field: bad}).field == field


@pytest.mark.django_db
def test_reveal_a_registry_record_checks_its_grid(tree, make_staff):
    record = make_person(make_household(tree), "王秀英", valid_id(seq="222"))
    perm = Permission.objects.get(codename="unmask_pii")
    here = make_staff("gw", tree["grid"], Role.GRID_WORKER)
    there = make_staff("gw2", tree["grid2"], Role.GRID_WORKER)
    for user in (here, there):
        user.user_permissions.add(perm)
    here, there = User.objects.get(pk=here.pk), User.objects.get(pk=there.pk)
    with pytest.raises(NotFound):
        reveal_pii(actor=there, subject=record, field="id_number", reason="走访")
    no_perm = make_staff("va", tree["village"], Role.VILLAGE_ADMIN)
    with pytest.raises(Forbidden):
        reveal_pii(actor=no_perm, subject=record, field="id_number", reason="走访")
    assert reveal_pii(actor=here, subject=record, field="id_number", reason="走访") == valid_id(seq="222")
    assert PiiAccessLog.objects.filter(subject_type="registry.resident", subject_id=record.pk).count() == 1


# --- Personal numbers never reach the disk in the clear ------------------------------------------------

_WRITER = textwrap.dedent("""
    import datetime, json, os, shutil, sys
    import django
    django.setup()
    from django.contrib.auth.models import Permission
    from django.core.management import call_command
    from django.db import connection
    call_command("migrate", verbosity=0)
    from gongzhi.accounts.models import Membership, Role, SmsCode, User
    from gongzhi.accounts.services import reveal_pii, resident_login, send_login_code
    from gongzhi.accounts.tests.helpers import last_code
    from gongzhi.org.factories import make_tree
    from gongzhi.registry.models import Household, Resident
    from gongzhi.registry.services import register_resident

    head_id, member_id, phone, member_phone, snapshot = sys.argv[1:6]
    tree = make_tree()
    home = Household.objects.create(village=tree["village"], grid=tree["grid"], number="H1",
                                    address="小山村1号")
    Resident.objects.create(household=home, name="王秀英", id_number=head_id, phone=phone, gender="F",
                            birth_date=datetime.date(1970, 5, 6), relation="head")
    Resident.objects.create(household=home, name="李娜", id_number=member_id, phone=member_phone, gender="F",
                            birth_date=datetime.date(1995, 1, 1), relation="child")
    send_login_code(phone=phone, purpose="signup", client="192.0.2.1")
    user = register_resident(name="王秀英", id_number=head_id, phone=phone, code=last_code(phone),
                             client="192.0.2.1")
    # Let the login code go out without waiting out the resend limit.
    SmsCode.objects.update(created_at=datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC))
    send_login_code(phone=phone, purpose="login", client="192.0.2.1")
    resident_login(id_number=head_id, phone=phone, code=last_code(phone), client="192.0.2.1")
    staff = User.objects.create_user(username="gw", password="Gongzhi#2026", phone=member_phone)
    Membership.objects.create(user=staff, unit=tree["grid"], role=Role.GRID_WORKER)
    staff.user_permissions.add(Permission.objects.get(codename="unmask_pii"))
    staff = User.objects.get(pk=staff.pk)
    reveal_pii(actor=staff, subject=user, field="id_number", reason="核实")
    # Copy the files while the connection is open: closing it checkpoints and removes the WAL.
    name = connection.settings_dict["NAME"]
    os.makedirs(snapshot)
    for suffix in ("", "-wal"):
        if os.path.exists(name + suffix):
            shutil.copy(name + suffix, os.path.join(snapshot, "db" + suffix))
    print(json.dumps({"journal": connection.cursor().execute("PRAGMA journal_mode").fetchone()[0]}))
""")


def test_no_plaintext_id_or_phone_in_the_sqlite_files(tmp_path):
    """Runs sign-up, login and an unmasking against a real file database, then greps its bytes."""
    head_id, member_id = valid_id(birth="19700506", seq="222"), valid_id(birth="19950101", seq="224")
    phone, member_phone = "13987654321", "13600001111"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(DJANGO_SETTINGS_MODULE="gongzhi.settings_test", GONGZHI_VAR_DIR=str(tmp_path),
               GONGZHI_SQLITE_PATH=str(tmp_path / "gongzhi.sqlite3"), GONGZHI_LOG_LEVEL="WARNING")
    snapshot = tmp_path / "snapshot"
    args = [sys.executable, "-c", _WRITER, head_id, member_id, phone, member_phone, str(snapshot)]
    result = subprocess.run(args, env=env, cwd=Path(__file__).resolve().parents[3], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["journal"] == "wal"
    files = [p for p in [*tmp_path.glob("gongzhi.sqlite3*"), *snapshot.iterdir()] if p.is_file()]
    assert snapshot / "db-wal" in files and (snapshot / "db-wal").stat().st_size > 0
    data = b"".join(p.read_bytes() for p in files)
    # The scan does see text that is stored in the clear, so a miss below means the numbers are not there.
    assert "王秀英".encode() in data and "李娜".encode() in data
    for secret in (head_id, member_id, phone, member_phone):
        for form in (secret, secret.encode("utf-16-le").decode("latin-1")):
            assert form.encode("latin-1") not in data, f"plaintext {secret[:3]}… found on disk"
