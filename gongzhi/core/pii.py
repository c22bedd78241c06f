"""Personal data at rest: AES-GCM encryption, a keyed hash for lookups, masking for display.

A model keeps a `PiiField` (ciphertext) and a `PiiHashField(source=...)` that is filled on every insert
and save. Values read back are `SecretValue`s: they print masked, so a template cannot leak them;
`reveal()` is for services that must use the plaintext (sending an SMS, the audited unmask service).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import models

_PREFIX = "v1:"


@functools.cache
def _keys(secret: str) -> tuple[bytes, bytes]:
    material = HKDF(algorithm=hashes.SHA256(), length=64, salt=b"gongzhi-pii", info=b"v1").derive(
        secret.encode()
    )
    return material[:32], material[32:]


def _enc_key() -> bytes:
    return _keys(settings.PII_KEY)[0]


def _hash_key() -> bytes:
    return _keys(settings.PII_KEY)[1]


def encrypt(plaintext: str) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(_enc_key()).encrypt(nonce, plaintext.encode(), None)
    return _PREFIX + base64.b64encode(nonce + sealed).decode()


def decrypt(token: str) -> str:
    if not token.startswith(_PREFIX):
        raise ValueError("unknown PII ciphertext version")
    raw = base64.b64decode(token[len(_PREFIX):])
    return AESGCM(_enc_key()).decrypt(raw[:12], raw[12:], None).decode()


def keyed_hash(plaintext: str) -> str:
    # hmac.digest: the one-shot C implementation, the same HMAC-SHA256 as hmac.new(...).hexdigest() (imports hash
    # hundreds of thousands of numbers).
    return hmac.digest(_hash_key(), plaintext.encode(), "sha256").hex()


def mask_id_number(value: str) -> str:
    return value[:6] + "*" * (len(value) - 10) + value[-4:] if len(value) > 10 else "*" * len(value)


def mask_phone(value: str) -> str:
    return value[:3] + "****" + value[-4:] if len(value) >= 11 else "*" * len(value)


MASKERS = {"id_number": mask_id_number, "phone": mask_phone}


class SecretValue:
    """A decrypted-on-demand personal value whose text form is masked."""

    __slots__ = ("_plain", "_token", "kind")

    def __init__(self, *, kind: str, plain: str | None = None, token: str | None = None):
        self.kind, self._plain, self._token = kind, plain, token

    def reveal(self) -> str:
        if self._plain is None:
            self._plain = decrypt(self._token or "")
        return self._plain

    def token(self) -> str:
        if self._token is None:
            self._token = encrypt(self._plain or "")
        return self._token

    @property
    def masked(self) -> str:
        return MASKERS[self.kind](self.reveal())

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:
        return f"<SecretValue {self.kind} {self.masked}>"

    def __eq__(self, other) -> bool:
        if isinstance(other, SecretValue):
            return self.reveal() == other.reveal()
        return isinstance(other, str) and self.reveal() == other

    def __hash__(self) -> int:
        return hash(self.reveal())


class _SecretDescriptor:
    """Wraps assigned strings at once, so even an unsaved object never holds plaintext in the clear."""

    def __init__(self, field):
        self.field = field

    def __get__(self, instance, owner):
        if instance is None:
            return self
        if self.field.attname not in instance.__dict__:
            instance.refresh_from_db(fields=[self.field.attname])
        return instance.__dict__[self.field.attname]

    def __set__(self, instance, value):
        instance.__dict__[self.field.attname] = self.field.to_python(value)


class PiiField(models.TextField):
    """Ciphertext column; assign a plain string or a SecretValue."""

    def __init__(self, *args, kind: str = "id_number", **kwargs):
        if kind not in MASKERS:
            raise ValueError(f"unknown PII kind {kind!r}")
        self.kind = kind
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["kind"] = self.kind
        return name, path, args, kwargs

    def contribute_to_class(self, cls, name, *args, **kwargs):
        super().contribute_to_class(cls, name, *args, **kwargs)
        setattr(cls, self.attname, _SecretDescriptor(self))

    def from_db_value(self, value, expression, connection):
        return SecretValue(kind=self.kind, token=value) if value else None

    def to_python(self, value):
        if value is None or value == "" or isinstance(value, SecretValue):
            return value or None
        return SecretValue(kind=self.kind, plain=str(value))

    def get_prep_value(self, value):
        value = self.to_python(value)
        return value.token() if value is not None else ""


class PiiHashField(models.CharField):
    """Keyed hash of another PiiField, recomputed on every insert and save (null when empty)."""

    def __init__(self, *args, source: str = "", **kwargs):
        self.source = source
        kwargs["max_length"] = 64
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        del kwargs["max_length"]
        return name, path, args, kwargs

    def pre_save(self, model_instance, add):
        secret = model_instance._meta.get_field(self.source).to_python(getattr(model_instance, self.source))
        value = keyed_hash(secret.reveal()) if secret is not None else None
        setattr(model_instance, self.attname, value)
        return value


def key_fingerprint(secret: str) -> str:
    """A short fingerprint that tells PII keys apart (backups record it) without revealing anything of the key:
    an HMAC of a fixed text under the key's lookup-hash key."""
    return hmac.new(_keys(secret)[1], b"gongzhi key fingerprint", hashlib.sha256).hexdigest()[:16]
