"""Excel import and export of the registry (一标三实) at 宁海's size: a 250,000-row 人口 workbook imported (check +
write) and exported again, with wall time, peak memory and the progress the page would show, against openpyxl
reading and writing the same file alone.

    .venv/bin/python bench/registry_excel.py [--rows 250000] [--seed 1]

Each step runs in its own child process against one temporary database (SQLite in a temporary GONGZHI_VAR_DIR;
with DATABASE_URL set, a temporary database on that PostgreSQL server, dropped after), so each peak RSS
(os.wait4's ru_maxrss) is that step's alone:
1. setup: migrate; the org tree of the generated county (`generate_units("county")`: 250 villages, 1,700 grids);
   a county dispatcher who may see full numbers; then the workbook: `--rows` people in households of 1–6 spread
   over the grids as the county plan weighs them, with checksum-valid ID numbers, mobile numbers for most adults,
   about 6 % floating households, a few special groups; grids named by village and grid name as people keep
   them (网格编码 only where two villages share a name); written in the template's columns, with a dimension,
   and its text then moved into a shared-strings table as Excel and WPS save it (openpyxl writes text inline,
   which openpyxl also reads about a third more slowly; the re-import of step 6 shows that case).
2. bare read: openpyxl (read-only, values only) iterating the workbook, nothing else.
3. import: `registry.excel.services.run_import` as the task worker runs it, as the dispatcher; a thread samples
   the job's progress every 0.25 s as the page's poll would (the longest gap between progress updates shows
   whether progress is visible throughout).
4. export: `run_export` of the whole county with full numbers.
5. bare write: openpyxl (write-only, plain values) writing the exported rows again, nothing else (the rows are
   read into memory first, untimed).
6. re-import of the export: must create and update nothing.

Targets (issue 12): import < 60 s, export < 30 s, peak RSS < 400 MB, progress visible throughout.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import fresh_database  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"import": 60.0, "export": 30.0}
TARGET_RSS_MB = 400.0
STEPS = ("setup", "read", "import", "export", "write", "reimport")
# Household sizes 1–6, mean ≈ 3.2 people (宁海: 252,800 records in about 78,000 households).
SIZES = (1, 2, 3, 4, 5, 6)
SIZE_WEIGHTS = (12, 20, 25, 22, 13, 8)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------- the steps

def setup(workdir: Path, rows: int, seed: int) -> dict:
    import django

    django.setup()
    from collections import Counter

    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from openpyxl import Workbook

    from gongzhi.accounts.models import UNMASK_PII_GROUP, Membership, Role, User
    from gongzhi.core import excel
    from gongzhi.demo.generate import generate_units
    from gongzhi.demo.generation.people import ORIGIN_CODES, IdAllocator, NameMaker, PhoneAllocator, household_members
    from gongzhi.demo.generation.plan import build_plan
    from gongzhi.org.models import Level, OrgUnit
    from gongzhi.registry.excel.columns import POPULATION, choice_sets
    from gongzhi.registry.models import SpecialGroup

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    generate_units(scale="county", seed=seed)
    county = OrgUnit.objects.get(level=Level.COUNTY)
    user = User.objects.create_user(username="bench-dispatcher", real_name="调度员", kind=User.Kind.STAFF)
    Membership.objects.create(user=user, unit=county, role=Role.DISPATCHER)
    user.groups.add(Group.objects.get(name=UNMASK_PII_GROUP))

    plan = build_plan("county", seed)
    grids = plan.units(Level.GRID)
    weights = [g.residents for g in grids]
    rng = random.Random(f"bench-registry-excel:{seed}")
    names, ids, phones = NameMaker(), IdAllocator(), PhoneAllocator(rng)
    sets = choice_sets()
    genders, relations = sets["gender"].label_of, sets["relation"].label_of
    groups = list(SpecialGroup.objects.values_list("name", flat=True))
    county_code = county.code
    origins = [c for c in ORIGIN_CODES if c != county_code]
    path = workdir / "people.xlsx"
    book = Workbook(write_only=True)
    sheet = book.create_sheet(POPULATION.sheet)
    excel.announce_size(sheet, rows=rows + 2, columns=len(POPULATION.columns))
    sheet.append([f"{county.name}实有人口登记表"])
    sheet.append(POPULATION.headers)
    written = households = 0
    per_grid: Counter[str] = Counter()
    while written < rows:
        grid = rng.choices(grids, weights)[0]
        village = grid.parent
        assert village is not None
        size = min(rng.choices(SIZES, SIZE_WEIGHTS)[0], rows - written)
        floating = rng.random() < 0.06
        per_grid[grid.code] += 1
        n = per_grid[grid.code]
        households += 1
        number = f"{grid.code}{n:04d}"
        address = f"{village.parent.name if village.parent else ''}{village.name}{grid.name[len(village.name):]}{n}号"
        area = rng.choice(origins) if floating else county_code
        for i, person in enumerate(household_members(rng, names, size, floating=floating)):
            id_number = ids.issue(area, person.birth, person.gender)
            adult = person.birth.year <= 2008
            phone = phones.issue() if adult and rng.random() < 0.9 else None
            special = rng.choice(groups) if rng.random() < 0.03 else None
            sheet.append([person.name, id_number, genders[person.gender], person.birth.isoformat(), "汉族", phone,
                          "流动人口" if floating else "户籍人口", number, relations[person.relation],
                          village.name, grid.name, grid.code if _ambiguous(plan, village.name) else None,
                          address if i == 0 else None, None, special, None, None])
        written += size
    book.save(workdir / "openpyxl.xlsx")
    as_excel_saves_it(workdir / "openpyxl.xlsx", path)
    return {"rows": written, "households": households, "grids": len(grids), "file_mb": path.stat().st_size / 2**20,
            "seconds": time.perf_counter() - started}


_INLINE = re.compile(rb'<c r="([A-Z]+[0-9]+)" t="inlineStr"><is><t( xml:space="preserve")?>(.*?)</t></is></c>', re.S)
_SHARED_TYPE = (b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
                b'officedocument.spreadsheetml.sharedStrings+xml" />')
_SHARED_REL = (b'<Relationship Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
               b'sharedStrings" Target="sharedStrings.xml" Id="rIdSharedStrings" />')


def as_excel_saves_it(source: Path, target: Path) -> None:
    """The workbook with its text in a shared-strings table, as Excel and WPS save it (openpyxl writes every
    string inline, which openpyxl also reads back more slowly): the file a county would upload."""
    strings: dict[tuple[bytes, bytes], int] = {}

    def shared(match: re.Match) -> bytes:
        index = strings.setdefault((match[2] or b"", match[3]), len(strings))
        return b'<c r="%s" t="s"><v>%d</v></c>' % (match[1], index)

    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename.startswith("xl/worksheets/sheet"):
                data = _INLINE.sub(shared, data)
            elif info.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", _SHARED_TYPE + b"</Types>")
            elif info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", _SHARED_REL + b"</Relationships>")
            zout.writestr(info.filename, data)
        items = b"".join(b"<si><t%s>%s</t></si>" % key for key in strings)
        head = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="http://schemas.openxmlformats.'
                b'org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">' % (len(strings), len(strings)))
        zout.writestr("xl/sharedStrings.xml", head + items + b"</sst>")


_VILLAGE_NAMES: dict[str, int] = {}


def _ambiguous(plan, village_name: str) -> bool:
    """Whether two villages of the county share the name (then the grid's code is written too)."""
    if not _VILLAGE_NAMES:
        from gongzhi.org.models import Level

        for village in plan.units(Level.VILLAGE):
            _VILLAGE_NAMES[village.name] = _VILLAGE_NAMES.get(village.name, 0) + 1
    return _VILLAGE_NAMES.get(village_name, 0) > 1


def bare_read(workdir: Path) -> dict:
    from openpyxl import load_workbook

    started = time.perf_counter()
    book = load_workbook(workdir / "people.xlsx", read_only=True, data_only=True)
    sheet = book.worksheets[0]
    sheet.reset_dimensions()
    count = sum(1 for _row in sheet.iter_rows(values_only=True))
    book.close()
    return {"rows": count, "seconds": time.perf_counter() - started}


def _sampler(job_id: int, samples: list, stop) -> None:
    from django.db import connection

    from gongzhi.core.models import Job

    while True:
        finished = stop.is_set()  # one more sample after the job ends, so a run shorter than the interval counts
        job = Job.objects.filter(pk=job_id).values("status", "phase", "done", "total", "progressed_at").first()
        if job:
            samples.append((time.perf_counter(), job["status"], job["phase"], job["done"], job["total"],
                            job["progressed_at"].timestamp() if job["progressed_at"] else None))
        if finished:
            break
        stop.wait(0.25)
    connection.close()


def run_import(workdir: Path, name: str) -> dict:
    import threading

    import django

    django.setup()
    from gongzhi.accounts.models import User
    from gongzhi.core import jobs
    from gongzhi.core.models import Job
    from gongzhi.registry.excel import services

    user = User.objects.get(username="bench-dispatcher")
    with open(workdir / name, "rb") as file:
        job = jobs.create_job(owner=user, kind=services.IMPORT, params={"record_type": "population"}, upload=file,
                              input_name=name)
    samples: list = []
    stop = threading.Event()
    sampler = threading.Thread(target=_sampler, args=(job.pk, samples, stop), daemon=True)
    sampler.start()
    started = time.perf_counter()
    services.run_import(job.pk)
    seconds = time.perf_counter() - started
    stop.set()
    sampler.join()
    job = Job.objects.get(pk=job.pk)
    updates = sorted({s[5] for s in samples if s[5] is not None})
    gaps = [b - a for a, b in zip(updates, updates[1:], strict=False)]
    phases = {}
    for at, _status, phase, _done, total, _progressed in samples:
        if phase:
            first = phases.setdefault(phase, [at - started, at - started, total])
            first[1] = at - started
    return {"seconds": seconds, "status": job.status, "message": job.message, "summary": job.summary,
            "progress_updates": len(updates), "longest_gap": max(gaps) if gaps else None,
            "phases": {k: [round(v[0], 1), round(v[1], 1), v[2]] for k, v in phases.items()},
            "samples_with_percent": sum(1 for s in samples if s[4])}


def run_export(workdir: Path) -> dict:
    import shutil

    import django

    django.setup()
    from gongzhi.accounts.models import User
    from gongzhi.core.models import Job
    from gongzhi.org.models import Level, OrgUnit
    from gongzhi.registry.excel import services

    user = User.objects.get(username="bench-dispatcher")
    county = OrgUnit.objects.get(level=Level.COUNTY)
    from django.db import transaction

    with transaction.atomic():
        job = services.start_export(actor=user, record_type="population", area_id=county.pk, full_numbers=True,
                                    reason="基准测试")
    started = time.perf_counter()
    services.run_export(job.pk)
    seconds = time.perf_counter() - started
    job = Job.objects.get(pk=job.pk)
    shutil.copy(job.result_file.path, workdir / "export.xlsx")
    return {"seconds": seconds, "status": job.status, "rows": job.summary.get("rows"),
            "file_mb": (workdir / "export.xlsx").stat().st_size / 2**20}


def bare_write(workdir: Path) -> dict:
    from openpyxl import Workbook, load_workbook

    book = load_workbook(workdir / "export.xlsx", read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    book.close()
    started = time.perf_counter()
    out = Workbook(write_only=True)
    sheet = out.create_sheet("人口")
    for row in rows:
        sheet.append(row)
    out.save(workdir / "bare.xlsx")
    return {"rows": len(rows), "seconds": time.perf_counter() - started}


def child(step: str, workdir: Path, rows: int, seed: int) -> dict:
    if step == "setup":
        return setup(workdir, rows, seed)
    if step == "read":
        return bare_read(workdir)
    if step == "import":
        return run_import(workdir, "people.xlsx")
    if step == "export":
        return run_export(workdir)
    if step == "write":
        return bare_write(workdir)
    return run_import(workdir, "export.xlsx")


# ----------------------------------------------------------------------------------------------- the parent

def _run_child(step: str, env: dict, workdir: Path, rows: int, seed: int) -> dict:
    with tempfile.TemporaryFile(mode="w+") as out:
        process = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--child", step, "--workdir",
                                    str(workdir), "--rows", str(rows), "--seed", str(seed)],
                                   env=env, cwd=ROOT, stdout=out)
        _pid, status, usage = os.wait4(process.pid, 0)
        if os.waitstatus_to_exitcode(status):
            raise SystemExit(f"step {step} failed")
        out.seek(0)
        figures = json.loads(out.read().strip().splitlines()[-1])
    figures["max_rss_mb"] = usage.ru_maxrss / 1024  # KiB on Linux
    return figures


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=250_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", choices=STEPS, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, Path(args.workdir), args.rows, args.seed), default=str))
        return {}
    figures: dict = {}
    with tempfile.TemporaryDirectory(prefix="gongzhi-bench-excel-") as tmp, \
            fresh_database(Path(tmp), "excel") as env:
        env.pop("REDIS_URL", None)
        for step in STEPS:
            _log(f"{step} …")
            figures[step] = _run_child(step, env, Path(tmp), args.rows, args.seed)
    report(figures)
    return figures


def report(f: dict) -> None:
    setup, imported, exported, again = f["setup"], f["import"], f["export"], f["reimport"]
    database = "postgresql" if os.environ.get("DATABASE_URL") else "sqlite"
    print(f"{database}: {setup['rows']:,} people in {setup['households']:,} households over {setup['grids']:,} grids, "
          f"workbook {setup['file_mb']:.1f} MB (built in {setup['seconds']:.0f} s)")
    print(f"{'step':<34} {'seconds':>8} {'peak RSS MB':>12}  notes")
    s = imported["summary"]
    rows = [
        ("openpyxl read alone (baseline)", f["read"], ""),
        ("import: check + write", imported,
         f"{imported['status']}: {s.get('created', 0):,} created, {s.get('updated', 0):,} updated, "
         f"{s.get('errors', 0)} errors; check {s.get('check_seconds', 0):.0f} s"),
        ("export (full numbers)", exported, f"{exported['rows']:,} rows, {exported['file_mb']:.1f} MB"),
        ("openpyxl write alone (baseline)", f["write"], ""),
        ("re-import of the export", again,
         f"{again['status']}: {again['summary'].get('created', 0)} created, "
         f"{again['summary'].get('updated', 0)} updated, {again['summary'].get('unchanged', 0):,} unchanged"),
    ]
    for label, figures, note in rows:
        print(f"{label:<34} {figures['seconds']:8.1f} {figures['max_rss_mb']:12.0f}  {note}")
    print(f"import progress: {imported['progress_updates']} updates, longest gap "
          f"{imported['longest_gap'] or 0:.1f} s, phases (first seen s, last seen s, total) {imported['phases']}")
    worst_rss = max(imported["max_rss_mb"], exported["max_rss_mb"])
    met = (imported["seconds"] < TARGETS["import"] and exported["seconds"] < TARGETS["export"]
           and worst_rss < TARGET_RSS_MB)
    print(f"targets: import < {TARGETS['import']:g} s, export < {TARGETS['export']:g} s, peak RSS < "
          f"{TARGET_RSS_MB:g} MB — {'met' if met else 'MISSED'}")


if __name__ == "__main__":
    main()
