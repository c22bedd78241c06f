"""Settings for the test suite: tasks run inline, a fixed PII key, fast password hashing."""

import os
import tempfile
from pathlib import Path

from gongzhi.settings import *  # noqa: F403

HUEY = {**HUEY, "immediate": True}  # noqa: F405
PII_KEY = "test-only-pii-key-not-secret"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SHOW_DEV_SMS_PAGE = True
# Not the real var/ (a test's refused write must not show on a running demo's /healthz); the testing plugin
# removes it before each test.
WRITES_REFUSED_FILE = Path(tempfile.gettempdir()) / f"gongzhi-test-writes-refused-{os.getpid()}"
