"""Database, key and queue files are created 0600 (issue 8): a fresh instance directory, then their modes."""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from gongzhi.core.private_files import create_private_file

ROOT = Path(__file__).resolve().parents[3]

# A fresh instance writes its database (through the real backend, so -wal and -shm exist while it is open),
# touches the task queue, then reports the mode of every file in its var directory.
PROBE = """
import json, os, stat, django
django.setup()
from django.db import connection, transaction
from huey.contrib.djhuey import HUEY
with transaction.atomic():
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE probe (x integer)")
        cursor.execute("INSERT INTO probe VALUES (1)")
HUEY.pending_count()
var = os.environ["GONGZHI_VAR_DIR"]
print(json.dumps({name: stat.S_IMODE(os.stat(os.path.join(var, name)).st_mode) for name in os.listdir(var)
                  if os.path.isfile(os.path.join(var, name))}))
"""


def test_a_fresh_instance_creates_its_private_files_0600(tmp_path):
    env = {key: value for key, value in os.environ.items()
           if key not in {"DATABASE_URL", "REDIS_URL", "GONGZHI_SECRET_KEY", "GONGZHI_PII_KEY", "GONGZHI_SQLITE_PATH"}}
    env.update(GONGZHI_VAR_DIR=str(tmp_path / "var"), DJANGO_SETTINGS_MODULE="gongzhi.settings", PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    modes = json.loads(done.stdout.strip().splitlines()[-1])
    expected = {"gongzhi.sqlite3", "gongzhi.sqlite3-wal", "gongzhi.sqlite3-shm", "gongzhi.sqlite3-writer",
                "huey.sqlite3", "secret.key", "pii.key"}
    assert expected <= set(modes), modes
    assert {name: oct(modes[name]) for name in expected} == {name: "0o600" for name in expected}


def test_create_private_file_never_replaces_an_existing_file(tmp_path):
    path = tmp_path / "pii.key"
    old = os.umask(0)  # the mode must not depend on the umask
    try:
        assert create_private_file(path, b"first") is True
    finally:
        os.umask(old)
    assert create_private_file(path, b"second") is False
    assert path.read_bytes() == b"first"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["pii.key"]  # no temporary file left behind
