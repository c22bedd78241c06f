"""Static files collected before the web server starts, only when their sources changed.

Production serves what `collectstatic` writes to STATIC_ROOT (settings.STORAGES: WhiteNoise's compressed
manifest storage): every file also under a content-hashed name that may be cached for a year, and next to
it .gz and .br copies made once, so neither WhiteNoise nor nginx compresses a file per request. `gongzhi
serve` (and so `gongzhi demo`) calls `ensure_collected()` first: it fingerprints the source files (a few
milliseconds) and runs collectstatic only when the fingerprint differs from the one stored after the last
run, or the manifest is missing: after an upgrade, not at every start. It then starts from an empty folder,
so files of the previous version go.
"""

from __future__ import annotations

import fcntl
import hashlib
from pathlib import Path

# Beside STATIC_ROOT, not in it: everything in it is served.
STAMP_SUFFIX = ".sources.sha256"
LOCK_SUFFIX = ".lock"


def sources_fingerprint() -> str:
    """A digest of every file collectstatic would copy (name and content) and of the storage writing them."""
    from django.apps import apps
    from django.conf import settings
    from django.contrib.staticfiles.finders import get_finders

    ignore = apps.get_app_config("staticfiles").ignore_patterns  # type: ignore[attr-defined]
    files: dict[str, bytes] = {}
    for finder in get_finders():
        for path, storage in finder.list(ignore):
            name = str(Path(getattr(storage, "prefix", None) or "", path))
            if name not in files:  # the first finder's copy wins, as in collectstatic
                with storage.open(path) as source:
                    files[name] = hashlib.sha256(source.read()).digest()
    digest = hashlib.sha256(settings.STORAGES["staticfiles"]["BACKEND"].encode())
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name])
    return digest.hexdigest()


def ensure_collected() -> bool:
    """Run collectstatic into STATIC_ROOT unless it already holds these sources; True when it ran."""
    from django.conf import settings
    from django.contrib.staticfiles.storage import staticfiles_storage
    from django.core.management import call_command

    root = Path(settings.STATIC_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    stamp = root.with_name(root.name + STAMP_SUFFIX)
    manifest = getattr(staticfiles_storage, "manifest_name", None)
    # Two servers starting on one folder at once: the second waits, then finds the files current.
    with open(root.with_name(root.name + LOCK_SUFFIX), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        fingerprint = sources_fingerprint()
        current = stamp.exists() and stamp.read_text().strip() == fingerprint
        if current and (manifest is None or (root / manifest).exists()):
            return False
        # clear: collectstatic skips a file whose copy is newer than its source, and a package installed
        # from a wheel keeps the wheel's (older) times, so a changed file would be left out.
        call_command("collectstatic", interactive=False, clear=True, verbosity=0)
        stamp.write_text(fingerprint + "\n")
        return True
