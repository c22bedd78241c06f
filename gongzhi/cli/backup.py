"""`gongzhi backup` and `gongzhi restore`: the database, the uploads and a check of the keys, in one file.

The archive is a plain tar (photos are compressed already; the SQLite database is gzipped inside it), made
readable by its owner only (0600, in a 0700 folder):

    database/gongzhi.sqlite3.gz  or  database/gongzhi.pgdump   the database at one moment
    media/…                                                     every file under MEDIA_ROOT
    keys/secret.key, keys/pii.key                              only with --include-keys
    manifest.json                                               last: format version, time, database vendor,
                                                                counts, key fingerprint, sha256 of each member

The database comes first and the uploads after it: a file is written before the transaction that refers to
it commits, so every file the database copy names is already on disk when the uploads are read.

- SQLite: SQLite's online backup API copies the live file while the server runs, from inside one read
  transaction, so the copy is one consistent moment and writers are never blocked (WAL).
- PostgreSQL: `pg_dump --format=custom` inside an exported snapshot, the same snapshot the counts in the
  manifest are taken from; `pg_restore` on the way back.

Keys are not in the archive unless asked (`--include-keys`): a backup is copied to more places and kept
longer than the server, and an archive holding the PII key exposes every ID and phone number to whoever
finds it. The manifest records a fingerprint of the PII key instead (an HMAC, which reveals nothing of the
key), so `restore` can say before touching anything whether the key in use is the one the data was written
with, and after restoring it decrypts a sample of the personal data to prove it.

The messages are Chinese like the rest of the command line, marked for translation with gettext.
"""

from __future__ import annotations

import argparse
import datetime
import gzip
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import IO, Any

from django.utils.translation import gettext as _
from tqdm import tqdm

from gongzhi.cli import COMMAND_HELP, PROG
from gongzhi.core.pii import key_fingerprint
from gongzhi.core.private_files import create_private_file, private_directory

FORMAT = "gongzhi-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database/gongzhi.sqlite3.gz"
POSTGRES_MEMBER = "database/gongzhi.pgdump"
MEDIA_PREFIX = "media/"
KEYS_PREFIX = "keys/"
KEY_FILES = {"secret.key": ("SECRET_KEY", "GONGZHI_SECRET_KEY"), "pii.key": ("PII_KEY", "GONGZHI_PII_KEY")}
# What the manifest counts, by model: `restore` finds the same numbers or fails.
COUNTED = {"cases": "cases.Case", "case_log": "cases.CaseLog", "attachments": "cases.Attachment",
           "users": "accounts.User", "org_units": "org.OrgUnit", "residents": "registry.Resident"}
# Rows that make a database "not empty" for restore.
CONTENT_MODELS = ("org.OrgUnit", "accounts.User", "cases.Case")
PII_SAMPLE = 50  # values per encrypted column decrypted after a restore
CHUNK = 1024 * 1024
SQLITE_PAGES_PER_STEP = 4096


class BackupError(Exception):
    """A refusal or failure, told to the operator as one message; the command exits 1."""


# ---------------------------------------------------------------------------------------------------- helpers


def _progress(quiet: bool, **kwargs: Any) -> tqdm:
    # tqdm draws only on a terminal (disable=None), so logs of a cron job stay clean.
    return tqdm(file=sys.stderr, disable=True if quiet else None, dynamic_ncols=True, **kwargs)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _key_source(name: str) -> str:
    setting, variable = KEY_FILES[name]
    if os.environ.get(variable):
        return _("环境变量 %(variable)s") % {"variable": variable}
    return _("文件 %(path)s") % {"path": _var_dir() / name}


def _var_dir() -> Path:
    from django.conf import settings

    return Path(settings.VAR_DIR)


def _media_root() -> Path:
    from django.conf import settings

    return Path(settings.MEDIA_ROOT)


def _models(labels: Sequence[str]) -> list[Any]:
    from django.apps import apps

    return [apps.get_model(label) for label in labels]


def _file_columns() -> list[tuple[str, str]]:
    """(table, column) of every FileField: the uploads the database refers to."""
    from django.apps import apps
    from django.db import models

    return [(model._meta.db_table, field.column) for model in apps.get_models()
            for field in model._meta.concrete_fields if isinstance(field, models.FileField)]


def _facts(query: Callable[[str], list[tuple[Any, ...]]]) -> tuple[dict[str, int], set[str]]:
    """Counts of COUNTED and the set of file names the database refers to, through `query(sql)`, so the
    same code reads a SQLite copy, a PostgreSQL snapshot, or the restored database."""
    from django.db import connection

    quote = connection.ops.quote_name
    counts = {}
    for key, model in zip(COUNTED, _models(list(COUNTED.values())), strict=True):
        counts[key] = int(query(f"SELECT count(*) FROM {quote(model._meta.db_table)}")[0][0])
    referenced: set[str] = set()
    for table, column in _file_columns():
        rows = query(f"SELECT {quote(column)} FROM {quote(table)} WHERE {quote(column)} <> ''")
        referenced.update(str(row[0]) for row in rows if row[0])
    return counts, referenced


def _media_files(root: Path) -> Iterator[tuple[str, Path]]:
    """(name relative to MEDIA_ROOT, path) of every regular file under it, sorted; symbolic links skipped."""
    if not root.is_dir():
        return
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink():
                yield path.relative_to(root).as_posix(), path


class _HashingReader(io.RawIOBase):
    """Reads a file for tarfile while hashing it."""

    def __init__(self, handle: IO[bytes], on_read: Callable[[int], Any] | None = None):
        self.handle, self.digest, self.on_read = handle, hashlib.sha256(), on_read

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        if self.on_read:
            self.on_read(len(data))
        return data


def _add(tar: tarfile.TarFile, name: str, path: Path, on_read: Callable[[int], Any] | None = None) -> dict:
    """Add one file under `name`; its sha256 and size for the manifest."""
    with open(path, "rb") as handle:
        stat = os.fstat(handle.fileno())
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = stat.st_size, int(stat.st_mtime), 0o600
        reader = _HashingReader(handle, on_read)
        tar.addfile(info, reader)
    return {"sha256": reader.digest.hexdigest(), "size": info.size}


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> dict:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(datetime.datetime.now().timestamp()), 0o600
    tar.addfile(info, io.BytesIO(data))
    return {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}


def _postgres_bin(tool: str) -> str:
    """Debian's newest PostgreSQL client tool (pg_dump must be at least the server's version), else PATH's."""
    versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{tool}"),
                      key=lambda p: [int(part) for part in p.parts[-3].split(".") if part.isdigit()])
    found = str(versions[-1]) if versions else shutil.which(tool)
    if not found:
        raise BackupError(_("找不到 %(tool)s：请安装 PostgreSQL 客户端（Debian：apt-get install postgresql-client）")
                          % {"tool": tool})
    return found


def _postgres_env() -> tuple[dict[str, str], str]:
    """The environment for pg_dump / pg_restore (connection from the settings, password never on the command
    line) and the database name."""
    from django.db import connection

    params = connection.settings_dict
    env = {**os.environ, "PGHOST": str(params.get("HOST") or ""), "PGPORT": str(params.get("PORT") or ""),
           "PGUSER": str(params.get("USER") or ""), "PGPASSWORD": str(params.get("PASSWORD") or "")}
    return {key: value for key, value in env.items() if value}, str(params["NAME"])


def _run_with_progress(command: list[str], env: dict[str, str], bar: tqdm, marker: str) -> None:
    """Run a pg tool with --verbose, advancing `bar` on each stderr line containing `marker`."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    tail: list[str] = []
    for line in process.stderr:
        if marker in line:
            bar.update(1)
        tail = [*tail[-19:], line.rstrip()]
    if process.wait() != 0:
        errors = [line for line in tail if "error" in line.lower()] or tail
        raise BackupError(_("%(tool)s 失败（退出码 %(code)s）：\n%(errors)s")
                          % {"tool": Path(command[0]).name, "code": process.returncode, "errors": "\n".join(errors)})


# ---------------------------------------------------------------------------------------------------- backup


def _sqlite_snapshot(source: str, target: Path, quiet: bool) -> None:
    """Copy the live SQLite database with the online backup API, inside one read transaction."""
    if not Path(source).is_file():
        raise BackupError(_("数据库文件不存在：%(path)s") % {"path": source})
    create_private_file(target)
    src = sqlite3.connect(source, isolation_level=None)
    dst = sqlite3.connect(target)
    try:
        # A read transaction pins one moment (WAL: writers go on); the copy, step after step, reads that moment.
        src.execute("BEGIN")
        pages = src.execute("PRAGMA page_count").fetchone()[0]
        with _progress(quiet, total=pages, desc=_("数据库"), unit=_("页")) as bar:
            src.backup(dst, pages=SQLITE_PAGES_PER_STEP,
                       progress=lambda status, remaining, total: bar.update(total - remaining - bar.n))
        src.execute("COMMIT")
    finally:
        dst.close()
        src.close()


def _gzip(source: Path, target: Path, quiet: bool) -> None:
    create_private_file(target)
    with open(source, "rb") as raw, open(target, "wb") as out, \
            gzip.GzipFile(filename="gongzhi.sqlite3", mode="wb", fileobj=out, compresslevel=6, mtime=0) as packed, \
            _progress(quiet, total=source.stat().st_size, desc=_("压缩数据库"), unit="B", unit_scale=True) as bar:
        while chunk := raw.read(CHUNK):
            packed.write(chunk)
            bar.update(len(chunk))


def _backup_sqlite(staging: Path, quiet: bool) -> tuple[Path, dict[str, int], set[str]]:
    from django.db import connection

    copy = staging / "gongzhi.sqlite3"
    _sqlite_snapshot(str(connection.settings_dict["NAME"]), copy, quiet)
    with sqlite3.connect(copy) as snapshot:
        counts, referenced = _facts(lambda sql: snapshot.execute(sql).fetchall())
    packed = staging / "gongzhi.sqlite3.gz"
    _gzip(copy, packed, quiet)
    copy.unlink()
    return packed, counts, referenced


def _backup_postgres(staging: Path, quiet: bool) -> tuple[Path, dict[str, int], set[str]]:
    from django.db import connection, transaction

    dump = staging / "gongzhi.pgdump"
    create_private_file(dump)
    env, name = _postgres_env()
    with transaction.atomic(), connection.cursor() as cursor:
        # pg_dump reads the snapshot this transaction exports, so the counts and the dump are the same moment.
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]

        def query(sql: str) -> list[tuple[Any, ...]]:
            cursor.execute(sql)
            return list(cursor.fetchall())

        counts, referenced = _facts(query)
        tables = len(connection.introspection.table_names(cursor))
        command = [_postgres_bin("pg_dump"), "--format=custom", "--verbose", f"--snapshot={snapshot}",
                   f"--file={dump}", f"--dbname={name}"]
        with _progress(quiet, total=tables, desc=_("数据库"), unit=_("表")) as bar:
            _run_with_progress(command, env, bar, "dumping contents of table")
    return dump, counts, referenced


def backup(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog=f"{PROG} backup", description=str(COMMAND_HELP["backup"]))
    parser.add_argument("-o", "--output", type=Path,
                        help=_("备份文件路径（默认 $GONGZHI_VAR_DIR/backups/gongzhi-<时间>.tar）"))
    parser.add_argument("--include-keys", action="store_true",
                        help=_("把 SECRET_KEY 和 PII_KEY 也放进备份（默认不放：密钥应与备份分开保管）"))
    parser.add_argument("-q", "--quiet", action="store_true", help=_("不显示进度条"))
    args = parser.parse_args(argv)
    try:
        path = make_backup(args.output, include_keys=args.include_keys, quiet=args.quiet)
    except BackupError as error:
        _say(_("错误：%(error)s") % {"error": error})
        return 1
    print(path)
    return 0


def make_backup(output: Path | None = None, *, include_keys: bool = False, quiet: bool = False) -> Path:
    """Write the archive (see the module docstring) and return its path."""
    from django.conf import settings
    from django.db import connection

    import gongzhi

    now = datetime.datetime.now(datetime.UTC)
    if output is None:
        output = private_directory(_var_dir() / "backups") / f"gongzhi-{now:%Y%m%d-%H%M%S}.tar"
    output = output.resolve()
    if output.exists():
        raise BackupError(_("%(path)s 已存在，不覆盖") % {"path": output})
    private_directory(output.parent)
    vendor = connection.vendor
    if vendor not in {"sqlite", "postgresql"}:
        raise BackupError(_("不支持的数据库：%(vendor)s") % {"vendor": vendor})

    partial = output.with_name(output.name + ".partial")
    partial.unlink(missing_ok=True)
    create_private_file(partial)
    members: dict[str, dict] = {}
    try:
        with tempfile.TemporaryDirectory(prefix=".gongzhi-backup-", dir=output.parent) as tmp, \
                tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as tar:
            staging = Path(tmp)
            _say(_("正在备份数据库（%(vendor)s）……") % {"vendor": vendor})
            if vendor == "sqlite":
                database, counts, referenced = _backup_sqlite(staging, quiet)
                database_member = SQLITE_MEMBER
            else:
                database, counts, referenced = _backup_postgres(staging, quiet)
                database_member = POSTGRES_MEMBER
            members[database_member] = _add(tar, database_member, database)
            database.unlink()

            media = list(_media_files(_media_root()))
            total = sum(path.stat().st_size for _name, path in media)
            _say(_("正在备份上传文件（%(count)s 个，%(megabytes)s MB）……")
                 % {"count": len(media), "megabytes": f"{total / 1e6:.1f}"})
            with _progress(quiet, total=total, desc=_("上传文件"), unit="B", unit_scale=True) as bar:
                for name, path in media:
                    members[MEDIA_PREFIX + name] = _add(tar, MEDIA_PREFIX + name, path, bar.update)
            missing = sorted(referenced - {name for name, _path in media})

            if include_keys:
                for name, (setting, _variable) in KEY_FILES.items():
                    members[KEYS_PREFIX + name] = _add_bytes(tar, KEYS_PREFIX + name,
                                                             getattr(settings, setting).encode())
            manifest: dict[str, Any] = {
                "format": FORMAT, "version": FORMAT_VERSION, "gongzhi_version": gongzhi_version(gongzhi),
                "created_at": now.isoformat(timespec="seconds"),
                "database": {"vendor": vendor, "member": database_member},
                "counts": {**counts, "files": len(media), "file_bytes": total},
                "files_referenced_but_missing": missing,
                "keys": {"included": include_keys, "pii_key_fingerprint": key_fingerprint(settings.PII_KEY),
                         "pii_key_source": _key_source("pii.key")},
                "members": members,
            }
            _add_bytes(tar, MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1).encode())
        with open(partial, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, output)  # a backup that stopped half way never looks complete
    except BaseException:
        partial.unlink(missing_ok=True)
        raise

    c = manifest["counts"]
    _say(_("已备份：%(cases)s 个事件，%(case_log)s 条办理记录，%(attachments)s 个附件，%(users)s 个账号，"
           "%(files)s 个文件；备份文件 %(megabytes)s MB → %(path)s")
         % {"cases": c["cases"], "case_log": c["case_log"], "attachments": c["attachments"], "users": c["users"],
            "files": c["files"], "megabytes": f"{output.stat().st_size / 1e6:.1f}", "path": output})
    if missing:
        _say(_("警告：数据库引用的 %(count)s 个文件在 %(media_root)s 中不存在（例如 %(example)s）")
             % {"count": len(missing), "media_root": _media_root(), "example": missing[0]})
    fingerprint = manifest["keys"]["pii_key_fingerprint"]
    if include_keys:
        _say(_("警告：此备份包含密钥。任何拿到它的人都能读出所有身份证号和手机号：请像保管密钥一样保管它。"))
    else:
        _say(_("注意：此备份不含密钥。没有 PII_KEY，备份中的身份证号和手机号永远无法读出。\n"
               "      当前 PII_KEY 来自%(pii_key_source)s（指纹 %(fingerprint)s），"
               "SECRET_KEY 来自%(secret_key_source)s；\n"
               "      请把它们另行保存在与备份分开的安全位置（见 docs/deploy.md「密钥」）。")
             % {"pii_key_source": _key_source("pii.key"), "fingerprint": fingerprint,
                "secret_key_source": _key_source("secret.key")})
    return output


def gongzhi_version(package: Any) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gongzhi")
    except PackageNotFoundError:
        return str(getattr(package, "__version__", "unknown"))


# ---------------------------------------------------------------------------------------------------- restore


def _read_manifest(tar: tarfile.TarFile) -> dict:
    try:
        handle = tar.extractfile(tar.getmember(MANIFEST))
        assert handle is not None
        manifest = json.loads(handle.read())
    except (KeyError, AssertionError, ValueError, tarfile.TarError) as error:
        raise BackupError(_("不是完整的共治备份文件（%(manifest)s 缺失或损坏：%(error)s）")
                          % {"manifest": MANIFEST, "error": error}) from None
    if manifest.get("format") != FORMAT:
        raise BackupError(_("不是共治备份文件"))
    if manifest.get("version") != FORMAT_VERSION:
        raise BackupError(_("备份格式版本 %(version)s 不受支持（本程序读版本 %(supported)s）")
                          % {"version": manifest.get("version"), "supported": FORMAT_VERSION})
    return manifest


def _safe_name(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts or "\\" in name:
        raise BackupError(_("备份中的文件名不安全：%(name)s") % {"name": repr(name)})
    return path


def _extract_verified(tar: tarfile.TarFile, manifest: dict, staging: Path, quiet: bool) -> None:
    """Extract every member listed in the manifest into `staging`, checking each one's sha256 and that
    nothing is missing or extra. Nothing outside `staging` is written."""
    expected: dict[str, dict] = manifest["members"]
    seen: set[str] = set()
    total = sum(int(entry["size"]) for entry in expected.values())
    with _progress(quiet, total=total, desc=_("校验"), unit="B", unit_scale=True) as bar:
        for member in tar:
            if member.name == MANIFEST:
                continue
            if member.name not in expected:
                raise BackupError(_("备份中有清单之外的文件：%(name)s") % {"name": member.name})
            if not member.isfile():
                raise BackupError(_("备份中的 %(name)s 不是普通文件") % {"name": member.name})
            target = staging.joinpath(*_safe_name(member.name).parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            digest = hashlib.sha256()
            source = tar.extractfile(member)
            assert source is not None
            with open(target, "wb") as out:
                while chunk := source.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    bar.update(len(chunk))
            if digest.hexdigest() != expected[member.name]["sha256"]:
                raise BackupError(_("备份已损坏：%(name)s 的校验和不符") % {"name": member.name})
            seen.add(member.name)
    if missing := sorted(set(expected) - seen):
        raise BackupError(_("备份不完整：缺少 %(count)s 个文件（例如 %(example)s）")
                          % {"count": len(missing), "example": missing[0]})


def _target_contents() -> list[str]:
    """What the target instance already holds (empty list: nothing)."""
    from django.db import connection

    found = []
    tables = set(connection.introspection.table_names())
    for model in _models(CONTENT_MODELS):
        if model._meta.db_table in tables and model.objects.exists():
            found.append(_("%(table)s 表中有 %(count)s 行")
                         % {"table": model._meta.db_table, "count": model.objects.count()})
    if any(True for _entry in _media_files(_media_root())):
        found.append(_("%(media_root)s 中有文件") % {"media_root": _media_root()})
    return found


def _key_in_use(manifest: dict, staging: Path) -> tuple[str, str]:
    """The PII key the restored instance will read with, and where it comes from."""
    from django.conf import settings

    archived = staging / "keys" / "pii.key"
    if manifest["keys"]["included"] and not os.environ.get("GONGZHI_PII_KEY"):
        return archived.read_text(), _("备份中的 keys/pii.key")
    return settings.PII_KEY, _key_source("pii.key")


def _restore_sqlite(packed: Path, stamp: str, quiet: bool, *, keep: bool) -> str | None:
    """Put the restored SQLite file in place; with `keep`, first copy the database it replaces aside and return
    where."""
    from django.db import connection

    target = Path(connection.settings_dict["NAME"])
    connection.close()
    fresh = target.with_name(f".{target.name}.restoring")
    fresh.unlink(missing_ok=True)
    create_private_file(fresh)
    with gzip.open(packed, "rb") as source, open(fresh, "wb") as out, \
            _progress(quiet, desc=_("解压数据库"), unit="B", unit_scale=True) as bar:
        while chunk := source.read(CHUNK):
            out.write(chunk)
            bar.update(len(chunk))
    with sqlite3.connect(fresh) as check:
        if check.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise BackupError(_("备份中的 SQLite 数据库未通过完整性检查"))
    check.close()
    kept = None
    if keep and target.exists():
        # The replaced database is kept (consistently, its WAL included) until the operator removes it.
        kept_path = target.with_name(f"{target.name}.before-restore-{stamp}")
        _sqlite_snapshot(str(target), kept_path, quiet=True)
        kept = str(kept_path)
    for suffix in ("-wal", "-shm"):  # a stale log would be replayed onto the restored file
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    os.replace(fresh, target)
    return kept


def _restore_postgres(dump: Path, quiet: bool) -> None:
    from django.db import connection

    connection.close()
    env, name = _postgres_env()
    listing = subprocess.run([_postgres_bin("pg_restore"), "--list", str(dump)], env=env, capture_output=True,
                             text=True, check=False)
    if listing.returncode != 0:
        raise BackupError(_("pg_restore 读不了备份中的数据库：%(error)s") % {"error": listing.stderr.strip()})
    tables = sum(1 for line in listing.stdout.splitlines() if " TABLE DATA " in line)
    command = [_postgres_bin("pg_restore"), "--verbose", "--clean", "--if-exists", "--no-owner",
               "--no-privileges", "--single-transaction", "--exit-on-error", f"--dbname={name}", str(dump)]
    with _progress(quiet, total=tables, desc=_("数据库"), unit=_("表")) as bar:
        _run_with_progress(command, env, bar, "processing data for table")


def _restore_media(staged: Path, stamp: str) -> str | None:
    from django.conf import settings

    root = _media_root()
    kept = None
    if root.exists() and any(root.iterdir()):
        kept_path = root.with_name(f"{root.name}.before-restore-{stamp}")
        os.replace(root, kept_path)
        kept = str(kept_path)
    elif root.exists():
        root.rmdir()
    if not staged.exists():
        root.mkdir(parents=True, exist_ok=True)
        return kept
    # Uploads keep the modes Django gives them (readable by nginx), not the archive's 0600.
    file_mode = settings.FILE_UPLOAD_PERMISSIONS or 0o644
    dir_mode = settings.FILE_UPLOAD_DIRECTORY_PERMISSIONS or 0o755
    for folder, _dirs, files in os.walk(staged):
        os.chmod(folder, dir_mode)
        for name in files:
            os.chmod(Path(folder) / name, file_mode)
    root.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(staged), str(root))  # a rename when on the same file system
    return kept


def _restore_keys(staging: Path, stamp: str) -> list[str]:
    """Write archived keys into var/ where no environment variable overrides them; returns what was written."""
    written = []
    for name, (_setting, variable) in KEY_FILES.items():
        archived = staging / "keys" / name
        if not archived.exists() or os.environ.get(variable):
            continue
        path = _var_dir() / name
        if path.exists():
            if path.read_bytes() == archived.read_bytes():
                continue
            os.replace(path, path.with_name(f"{name}.before-restore-{stamp}"))
        create_private_file(path, archived.read_bytes())
        written.append(str(path))
    return written


def check_pii_readable(sample: int = PII_SAMPLE) -> tuple[int, list[str]]:
    """Decrypt up to `sample` stored values of every encrypted column with the key in use: (values checked,
    columns where one failed)."""
    from django.apps import apps

    from gongzhi.core.pii import PiiField

    checked, failed = 0, []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if not isinstance(field, PiiField):
                continue
            values = (model._base_manager.exclude(**{field.attname: ""}).order_by("-pk")
                      .values_list(field.attname, flat=True)[:sample])
            for value in values:
                checked += 1
                try:
                    value.reveal()
                except Exception:  # InvalidTag, a bad token: this key did not write it
                    failed.append(f"{model._meta.db_table}.{field.column}")
                    break
    return checked, failed


def restore(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog=f"{PROG} restore", description=str(COMMAND_HELP["restore"]))
    parser.add_argument("archive", type=Path, help=_("%(prog)s backup 生成的备份文件") % {"prog": PROG})
    parser.add_argument("--force", action="store_true",
                        help=_("目标实例已有数据时也恢复（原数据库和上传文件改名保留，不删除）"))
    parser.add_argument("--verify-only", action="store_true", help=_("只校验备份文件，不恢复"))
    parser.add_argument("-q", "--quiet", action="store_true", help=_("不显示进度条"))
    args = parser.parse_args(argv)
    try:
        restore_archive(args.archive, force=args.force, verify_only=args.verify_only, quiet=args.quiet)
    except BackupError as error:
        _say(_("错误：%(error)s") % {"error": error})
        return 1
    return 0


def restore_archive(archive: Path, *, force: bool = False, verify_only: bool = False, quiet: bool = False) -> dict:
    """Verify the archive, restore it into this instance, check it; returns the manifest."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    if not archive.is_file():
        raise BackupError(_("找不到备份文件：%(path)s") % {"path": archive})
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d-%H%M%S")
    try:
        tar = tarfile.open(archive, "r:")
    except tarfile.TarError as error:
        raise BackupError(_("不是可读的备份文件（%(error)s）") % {"error": error}) from None
    with tar, tempfile.TemporaryDirectory(prefix=".gongzhi-restore-", dir=_var_dir()) as tmp:
        manifest = _read_manifest(tar)
        vendor = manifest["database"]["vendor"]
        _say(_("备份创建于 %(created_at)s（共治 %(version)s，数据库 %(vendor)s）")
             % {"created_at": manifest["created_at"], "version": manifest["gongzhi_version"], "vendor": vendor})
        if vendor != connection.vendor:
            raise BackupError(_("备份来自 %(vendor)s 数据库，本实例使用 %(own_vendor)s：不能跨数据库恢复")
                              % {"vendor": vendor, "own_vendor": connection.vendor})
        staging = Path(tmp)
        try:
            _extract_verified(tar, manifest, staging, quiet)
        except (tarfile.TarError, OSError, EOFError, gzip.BadGzipFile) as error:
            raise BackupError(_("备份已损坏或不完整（%(error)s）") % {"error": error}) from None
        _say(_("校验通过：%(count)s 个文件的 sha256 全部相符") % {"count": len(manifest["members"])})

        key, source = _key_in_use(manifest, staging)
        fingerprint = key_fingerprint(key)
        if fingerprint != manifest["keys"]["pii_key_fingerprint"]:
            raise BackupError(
                _("PII_KEY 不对：恢复后将使用的密钥（来自%(source)s，指纹 %(fingerprint)s）不是写入这些数据的密钥"
                  "（指纹 %(archived_fingerprint)s，当时来自%(archived_source)s）。"
                  "用它恢复，所有身份证号和手机号都无法读出。请把原实例的 PII_KEY 设为环境变量 GONGZHI_PII_KEY"
                  "（或写入 var/pii.key）后再恢复。未做任何改动。")
                % {"source": source, "fingerprint": fingerprint,
                   "archived_fingerprint": manifest["keys"]["pii_key_fingerprint"],
                   "archived_source": manifest["keys"]["pii_key_source"]})
        if verify_only:
            _say(_("只校验，未恢复。"))
            return manifest

        if (contents := _target_contents()) and not force:
            raise BackupError(_("目标实例不是空的（%(contents)s）。确认要覆盖时加 --force"
                                "（原数据库文件和上传目录会改名保留）。未做任何改动。")
                              % {"contents": "；".join(contents)})

        kept = []
        _say(_("正在恢复数据库……"))
        if vendor == "sqlite":
            kept.append(_restore_sqlite(staging / "database" / "gongzhi.sqlite3.gz", stamp, quiet,
                                        keep=bool(contents)))
        else:
            _restore_postgres(staging / "database" / "gongzhi.pgdump", quiet)
        _say(_("正在恢复上传文件……"))
        kept.append(_restore_media(staging / "media", stamp))
        written_keys = _restore_keys(staging, stamp)

    from django.conf import settings

    settings.PII_KEY = key  # what this instance reads with from now on (an archived key just written, or its own)
    connection.close()
    with connection.cursor() as cursor:
        def query(sql: str) -> list[tuple[Any, ...]]:
            cursor.execute(sql)
            return list(cursor.fetchall())

        counts, referenced = _facts(query)
    files = {name for name, _path in _media_files(_media_root())}
    expected = manifest["counts"]
    found = {**counts, "files": len(files)}
    wrong = [_("%(name)s: 备份中 %(expected)s，恢复后 %(found)s")
             % {"name": name, "expected": expected[name], "found": found[name]}
             for name in found if found[name] != expected[name]]
    if wrong:
        raise BackupError(_("恢复后的数量与备份不符：%(differences)s") % {"differences": "；".join(wrong)})
    missing = sorted(referenced - files)
    checked, unreadable = check_pii_readable()
    c = found
    _say(_("已恢复：%(cases)s 个事件，%(case_log)s 条办理记录，%(attachments)s 个附件，%(users)s 个账号，"
           "%(org_units)s 个组织单位，%(residents)s 个居民，%(files)s 个文件（%(megabytes)s MB）")
         % {"cases": c["cases"], "case_log": c["case_log"], "attachments": c["attachments"], "users": c["users"],
            "org_units": c["org_units"], "residents": c["residents"], "files": c["files"],
            "megabytes": f"{expected['file_bytes'] / 1e6:.1f}"})
    for path in filter(None, kept):
        _say(_("原有数据已改名保留：%(path)s") % {"path": path})
    for path in written_keys:
        _say(_("已从备份写入密钥：%(path)s") % {"path": path})
    if missing:
        _say(_("警告：数据库引用的 %(count)s 个文件不在上传目录中（例如 %(example)s）")
             % {"count": len(missing), "example": missing[0]})
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        _say(_("数据库结构比本程序旧：请运行 %(prog)s migrate") % {"prog": PROG})
    if unreadable:
        raise BackupError(_("当前 PII_KEY（来自%(source)s）解不开恢复后的个人信息（%(columns)s）："
                            "身份证号和手机号无法读出。请换成原实例的 PII_KEY 后再运行 restore --force。")
                          % {"source": source, "columns": ", ".join(unreadable)})
    _say(_("个人信息可读：用当前 PII_KEY（来自%(source)s）解密抽查了 %(count)s 个身份证号/手机号，全部成功。")
         % {"source": source, "count": checked})
    return manifest
