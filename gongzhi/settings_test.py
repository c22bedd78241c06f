"""Settings for the test suite: tasks run inline, a fixed PII key, fast password hashing."""

import os
import tempfile
from pathlib import Path

from gongzhi.settings import *  # noqa: F403

HUEY = {**HUEY, "immediate": True}  # noqa: F405
if os.environ.get("REDIS_URL"):
    # scripts/test's pytest-redis step: tasks still run inline, but the queue's storage (the schedule of retries,
    # results, flush) is the real Redis server, not Huey's in-memory stand-in.
    HUEY["immediate_use_memory"] = False
PII_KEY = "test-only-pii-key-not-secret"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SHOW_DEV_SMS_PAGE = True
# Templates and pages find static files in the source folders, unhashed, with no collectstatic first; the
# browser test of page weight (e2e/test_page_weight.py) collects and serves them as production does.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
WHITENOISE_USE_FINDERS = True
# Not the real var/ (a test's refused write must not show on a running demo's /healthz); the testing plugin
# removes it before each test.
WRITES_REFUSED_FILE = Path(tempfile.gettempdir()) / f"gongzhi-test-writes-refused-{os.getpid()}"
ROLLUP_SETTLE_SECONDS = 0  # the tests fold what they have just written
