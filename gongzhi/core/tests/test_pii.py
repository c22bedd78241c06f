import pytest
from django.db import connection
from django.test import override_settings

from gongzhi.accounts.models import User
from gongzhi.core import pii
from gongzhi.core.pii import SecretValue, decrypt, encrypt, keyed_hash, mask_id_number, mask_phone

ID = "620102198001011234"
PHONE = "13812345678"


def test_encryption_round_trip_and_fresh_nonce():
    a, b = encrypt(ID), encrypt(ID)
    assert a != b and ID not in a
    assert decrypt(a) == decrypt(b) == ID


def test_tampered_ciphertext_is_rejected():
    token = encrypt(PHONE)
    raw = bytearray(pii.base64.b64decode(token[3:]))
    raw[-1] ^= 1
    with pytest.raises(Exception):  # noqa: B017 - cryptography raises InvalidTag
        decrypt("v1:" + pii.base64.b64encode(bytes(raw)).decode())


def test_another_key_cannot_decrypt_and_hashes_differ():
    token, digest = encrypt(PHONE), keyed_hash(PHONE)
    with override_settings(PII_KEY="another-key"):
        with pytest.raises(Exception):  # noqa: B017
            decrypt(token)
        assert keyed_hash(PHONE) != digest
    assert keyed_hash(PHONE) == digest


def test_mask_formats():
    assert mask_id_number(ID) == "620102********1234"
    assert mask_phone(PHONE) == "138****5678"


def test_secret_value_never_prints_plaintext():
    for kind, value in (("id_number", ID), ("phone", PHONE)):
        secret = SecretValue(kind=kind, plain=value)
        shown = (str(secret), repr(secret), f"{secret}", "%s" % secret, str([secret]),  # noqa: UP031
                 str({"v": secret}))
        for text in shown:
            assert value not in text
        assert secret.reveal() == value and secret == value


@pytest.mark.django_db
def test_model_field_stores_ciphertext_and_hash():
    user = User.objects.create_user(username="u", password="x-Long-pass-1", id_number=ID, phone=PHONE)
    with connection.cursor() as cursor:  # raw SQL: the ORM would decrypt
        cursor.execute("SELECT id_number, id_number_hash, phone, phone_hash FROM accounts_user WHERE id = %s",
                       [user.pk])
        names = ["id_number", "id_number_hash", "phone", "phone_hash"]
        row = dict(zip(names, cursor.fetchone(), strict=True))
    assert row["id_number"].startswith("v1:") and ID not in row["id_number"]
    assert PHONE not in row["phone"]
    assert row["id_number_hash"] == keyed_hash(ID) and row["phone_hash"] == keyed_hash(PHONE)
    fresh = User.objects.get(pk=user.pk)
    assert str(fresh.id_number) == "620102********1234" and fresh.phone.reveal() == PHONE
    assert User.objects.filter(phone_hash=keyed_hash(PHONE)).get() == user
