"""`gongzhi backup` / `gongzhi restore` between real instances, each in its own processes: a populated instance is
backed up and restored into an empty one (a fresh SQLite file and media folder, or a fresh PostgreSQL database
when DATABASE_URL is set), which then holds every case, log row and file; a corrupted archive, a non-empty target
and a wrong PII key are refused."""

import hashlib
import json
import os
import stat
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest

from gongzhi.cli import backup

ROOT = Path(__file__).resolve().parents[3]
KEY = "backup-test-pii-key-A"
POSTGRES = bool(os.environ.get("DATABASE_URL"))


class Instances:
    """Instances by name, each with its own var folder (and its own PostgreSQL database when DATABASE_URL is
    set, dropped afterwards)."""

    def __init__(self, base: Path):
        self.base, self.databases = base, []

    def env(self, name: str, *, pii_key: str | None = KEY) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items()
               if key not in {"DATABASE_URL", "REDIS_URL", "GONGZHI_SECRET_KEY", "GONGZHI_PII_KEY",
                              "GONGZHI_SQLITE_PATH", "DJANGO_SETTINGS_MODULE"}}
        env.update(GONGZHI_VAR_DIR=str(self.base / name / "var"), PYTHONPATH=str(ROOT), GONGZHI_HUEY_IMMEDIATE="1")
        if pii_key:
            env["GONGZHI_PII_KEY"] = pii_key
        if POSTGRES:
            env["DATABASE_URL"] = self.database(name)
        return env

    def database(self, name: str) -> str:
        """A fresh database on DATABASE_URL's server for the instance `name` (created once)."""
        import psycopg

        url = urlparse(os.environ["DATABASE_URL"])
        db = f"gongzhi_backup_{name}_{self.base.name[-8:]}".lower().replace("-", "_")
        if db not in self.databases:
            with psycopg.connect(urlunparse(url._replace(path="/postgres")), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db}"')
                conn.execute(f'CREATE DATABASE "{db}"')
            self.databases.append(db)
        return urlunparse(url._replace(path=f"/{db}"))

    def drop(self) -> None:
        if not self.databases:
            return
        import psycopg

        url = urlparse(os.environ["DATABASE_URL"])
        with psycopg.connect(urlunparse(url._replace(path="/postgres")), autocommit=True) as conn:
            for db in self.databases:
                conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')

    def run(self, name: str, *args: str, pii_key: str | None = KEY, ok: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run([sys.executable, *args], cwd=self.base, env=self.env(name, pii_key=pii_key),
                              capture_output=True, text=True, timeout=300, check=False)
        if ok:
            assert done.returncode == 0, done.stdout + done.stderr
        return done

    def gongzhi(self, name: str, *args: str, **kwargs) -> subprocess.CompletedProcess:
        return self.run(name, "-m", "gongzhi", *args, **kwargs)

    def inspect(self, name: str, **kwargs) -> dict:
        return json.loads(self.run(name, "-m", "gongzhi.cli.tests.instance", "inspect", **kwargs).stdout)

    def var(self, name: str) -> Path:
        return self.base / name / "var"


@pytest.fixture(scope="module")
def instances(tmp_path_factory):
    found = Instances(tmp_path_factory.mktemp(f"backup-{uuid.uuid4().hex[:8]}"))
    yield found
    found.drop()


@pytest.fixture(scope="module")
def source(instances):
    """The populated instance "a", what it holds, and its backup."""
    instances.run("a", "-m", "gongzhi.cli.tests.instance", "populate")
    before = instances.inspect("a")
    archive = instances.base / "out" / "a.tar"
    done = instances.gongzhi("a", "backup", "--quiet", "--output", str(archive))
    assert done.stdout.strip() == str(archive)
    assert "此备份不含密钥" in done.stderr  # the warning that the keys must be kept apart
    return before, archive


def members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}


def test_the_source_instance_holds_what_the_test_needs(source):
    before, _archive = source
    assert len(before["cases"]) == 3 and len(before["logs"]) >= 8
    assert len(before["attachments"]) == 6 and len(before["files"]) == 12  # photos and their thumbnails
    assert before["id_numbers"] == ["621102196804123826"] and before["phones"] == ["19912340001"]


def test_the_archive_is_private_and_its_manifest_counts_and_hashes_every_member(source):
    before, archive = source
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    assert stat.S_IMODE(archive.parent.stat().st_mode) == 0o700
    content = members(archive)
    manifest = json.loads(content.pop("manifest.json"))
    assert manifest["format"] == "gongzhi-backup" and manifest["version"] == 1
    assert manifest["database"]["vendor"] == ("postgresql" if POSTGRES else "sqlite")
    assert manifest["counts"]["cases"] == 3 and manifest["counts"]["case_log"] == len(before["logs"])
    assert manifest["counts"]["files"] == 12 and manifest["files_referenced_but_missing"] == []
    assert manifest["keys"]["included"] is False and not any(name.startswith("keys/") for name in content)
    assert set(content) == set(manifest["members"])
    assert {name[len("media/"):] for name in content if name.startswith("media/")} == set(before["files"])
    assert all(hashlib.sha256(data).hexdigest() == manifest["members"][name]["sha256"]
               for name, data in content.items())


def test_restore_into_an_empty_instance_finds_every_case_log_row_and_file(instances, source):
    before, archive = source
    done = instances.gongzhi("b", "restore", "--quiet", str(archive))
    assert "已恢复：3 个事件" in done.stderr and "12 个文件" in done.stderr
    assert "个人信息可读" in done.stderr
    assert instances.inspect("b") == before
    if not POSTGRES:
        assert stat.S_IMODE((instances.var("b") / "gongzhi.sqlite3").stat().st_mode) == 0o600

    # Now "b" is not empty: a second restore is refused unless forced, and keeps what it replaces.
    refused = instances.gongzhi("b", "restore", "--quiet", str(archive), ok=False)
    assert refused.returncode == 1 and "目标实例不是空的" in refused.stderr and "--force" in refused.stderr
    forced = instances.gongzhi("b", "restore", "--quiet", "--force", str(archive))
    assert "原有数据已改名保留" in forced.stderr
    assert any(p.name.startswith("media.before-restore-") for p in instances.var("b").iterdir())
    assert instances.inspect("b") == before


def test_a_corrupted_archive_is_refused_and_nothing_is_written(instances, source):
    _before, archive = source
    data = bytearray(archive.read_bytes())
    with tarfile.open(archive) as tar:
        photo = next(m for m in tar.getmembers() if m.name.startswith("media/"))
    data[photo.offset_data + 100] ^= 0xFF  # one flipped byte inside a photo
    corrupted = instances.base / "out" / "corrupted.tar"
    corrupted.write_bytes(data)
    done = instances.gongzhi("c", "restore", "--quiet", str(corrupted), ok=False)
    assert done.returncode == 1 and "校验和不符" in done.stderr and photo.name in done.stderr

    truncated = instances.base / "out" / "truncated.tar"
    truncated.write_bytes(archive.read_bytes()[: photo.offset_data + 10])
    done = instances.gongzhi("c", "restore", "--quiet", str(truncated), ok=False)
    assert done.returncode == 1 and "错误：" in done.stderr

    assert not (instances.var("c") / "media").exists()
    verified = instances.gongzhi("c", "restore", "--quiet", "--verify-only", str(archive)).stderr
    assert "校验通过" in verified and "只校验，未恢复" in verified
    assert not (instances.var("c") / "media").exists()


def test_a_wrong_pii_key_is_refused_before_anything_is_replaced(instances, source):
    _before, archive = source
    done = instances.gongzhi("d", "restore", "--quiet", str(archive), pii_key="some-other-key", ok=False)
    assert done.returncode == 1 and "PII_KEY 不对" in done.stderr and "未做任何改动" in done.stderr
    assert not (instances.var("d") / "media").exists()
    # Without the key in the environment a fresh instance generates its own: refused too.
    done = instances.gongzhi("d", "restore", "--quiet", str(archive), pii_key=None, ok=False)
    assert "PII_KEY 不对" in done.stderr and "var/pii.key" in done.stderr


def test_an_archive_made_with_include_keys_brings_its_keys_to_an_instance_without_them(instances, source):
    before, _archive = source
    archive = instances.base / "out" / "with-keys.tar"
    done = instances.gongzhi("a", "backup", "--quiet", "--include-keys", "--output", str(archive))
    assert "此备份包含密钥" in done.stderr
    assert members(archive)["keys/pii.key"] == KEY.encode()
    done = instances.gongzhi("e", "restore", "--quiet", str(archive), pii_key=None)
    assert (instances.var("e") / "pii.key").read_text() == KEY
    assert stat.S_IMODE((instances.var("e") / "pii.key").stat().st_mode) == 0o600
    assert instances.inspect("e", pii_key=None) == before


@pytest.mark.django_db
def test_personal_data_written_with_another_key_is_found_unreadable(settings, tree):
    from gongzhi.cases.factories import make_resident

    user = make_resident("res", "王秀兰", tree["grid"])
    user.id_number, user.phone = "621102196804123826", "19912340001"
    user.save()
    assert backup.check_pii_readable() == (2, [])
    settings.PII_KEY = "another-key"
    checked, unreadable = backup.check_pii_readable()
    assert unreadable == ["accounts_user.id_number", "accounts_user.phone"]


def test_the_key_fingerprint_tells_keys_apart_without_showing_them():
    from gongzhi.core.pii import key_fingerprint

    assert key_fingerprint(KEY) == key_fingerprint(KEY) != key_fingerprint(KEY + "x")
    assert KEY not in key_fingerprint(KEY) and len(key_fingerprint(KEY)) == 16
