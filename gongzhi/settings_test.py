"""Settings for the test suite: tasks run inline, a fixed PII key, fast password hashing."""

from gongzhi.settings import *  # noqa: F403

HUEY = {**HUEY, "immediate": True}  # noqa: F405
PII_KEY = "test-only-pii-key-not-secret"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SHOW_DEV_SMS_PAGE = True
