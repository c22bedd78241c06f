"""Benchmark of the data generator: wall time and peak memory of `generate --scale S` per scale.

    .venv/bin/python bench/generate.py township county [city] [--seed N]

Each scale runs in its own subprocess against a fresh database: SQLite in a temporary GONGZHI_VAR_DIR,
or, when DATABASE_URL is set, a temporary database created on that PostgreSQL server and dropped after.
Peak memory is the child's ru_maxrss, read with os.wait4: the same figure getrusage(RUSAGE_CHILDREN)
reports, but for that one child, so a later scale is not credited with an earlier one's peak.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def fresh_database(workdir: Path, label: str) -> Iterator[dict[str, str]]:
    """Environment for a child process pointing at an empty database that is removed afterwards."""
    env = {**os.environ, "GONGZHI_VAR_DIR": str(workdir), "DJANGO_SETTINGS_MODULE": "gongzhi.settings",
           "PYTHONPATH": str(ROOT)}
    env.pop("GONGZHI_SQLITE_PATH", None)  # else the benchmark would write into someone's database
    url = os.environ.get("DATABASE_URL")
    if not url:
        yield env
        return
    import psycopg

    parsed = urlparse(url)
    name = f"gongzhi_bench_{label}_{os.getpid()}"
    admin_url = urlunparse(parsed._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield {**env, "DATABASE_URL": urlunparse(parsed._replace(path=f"/{name}"))}
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def django(args: list[str], env: dict[str, str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "django", *args], env=env, cwd=ROOT, check=True, **kwargs)


def run_scale(scale: str, *, seed: int, workdir: Path, progress: bool = False) -> dict:
    with fresh_database(workdir, scale) as env:
        django(["migrate", "--verbosity", "0"], env)
        command = [sys.executable, "-m", "django", "generate", "--scale", scale, "--seed", str(seed),
                   "--verbosity", "0"]
        if not progress:
            command.append("--no-progress")
        started = time.perf_counter()
        child = subprocess.Popen(command, env=env, cwd=ROOT)
        _pid, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode:
            raise SystemExit(f"generate --scale {scale} failed with exit code {child.returncode}")
        counts = django(["shell", "--verbosity", "0", "-c", (
            "from gongzhi.registry.models import Resident, Household;"
            "from gongzhi.accounts.models import User;"
            "print(Resident.objects.count(), Household.objects.count(), User.objects.count())")],
            env, capture_output=True, text=True).stdout.splitlines()[-1].split()
        db_file = workdir / "gongzhi.sqlite3"
        return {
            "scale": scale,
            "database": "postgresql" if os.environ.get("DATABASE_URL") else "sqlite",
            "seconds": seconds,
            # Linux reports ru_maxrss in KiB.
            "max_rss_mb": usage.ru_maxrss / 1024,
            "residents": int(counts[0]),
            "households": int(counts[1]),
            "users": int(counts[2]),
            "db_mb": db_file.stat().st_size / 2**20 if db_file.exists() else None,
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scales", nargs="+", choices=["tiny", "township", "county", "city"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args()
    print(f"{'scale':10} {'db':10} {'seconds':>9} {'peak RSS MB':>12} {'residents':>10} {'households':>10} "
          f"{'users':>7} {'residents/s':>11} {'db MB':>7}", flush=True)
    for scale in args.scales:
        with tempfile.TemporaryDirectory(prefix=f"gongzhi-bench-{scale}-") as tmp:
            r = run_scale(scale, seed=args.seed, workdir=Path(tmp), progress=not args.no_progress)
        db_mb = f"{r['db_mb']:7.0f}" if r["db_mb"] is not None else f"{'-':>7}"
        print(f"{r['scale']:10} {r['database']:10} {r['seconds']:9.1f} {r['max_rss_mb']:12.0f} "
              f"{r['residents']:10d} {r['households']:10d} {r['users']:7d} "
              f"{r['residents'] / r['seconds']:11.0f} {db_mb}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
