"""What one hostile or one big photo costs `core.uploads.process_photo`: time and peak memory.

    .venv/bin/python bench/photos.py [--png-side 9400] [--jpeg-size 8000x6000] [--threads 4]

The pictures are written first, into a temporary folder: a one-colour PNG of `--png-side`² pixels (a few
hundred KB on the wire, 265 MB once decoded at 9,400²; issue 8's attacker used one) and a JPEG of
`--jpeg-size` like a 48 MP phone photo. Each figure then comes from a fresh child process, so one run's
heap cannot flatter the next: the child imports Django and reads the file, notes its resident memory,
calls process_photo (once, or from `--threads` threads at the same time) and reports the wall time, the
peak resident memory above that baseline (VmHWM) and what is still held once the call returned.
A refused upload counts like a processed one: what matters is what it cost to find out.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    # VmHWM, not getrusage's ru_maxrss: a child started by fork + exec reports its parent's peak there.
    with open("/proc/self/status") as f:
        line = next(line for line in f if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # Linux ≥ 4.0: start VmHWM again from the current resident size


def child(path: str, threads: int) -> dict[str, object]:
    """Run in a fresh process: process the file `threads` times at once and measure."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gongzhi.settings")
    import django

    django.setup()
    from gongzhi.core.errors import DomainError
    from gongzhi.core.uploads import process_photo

    data = Path(path).read_bytes()
    outcomes: list[str] = []

    def one() -> None:
        try:
            photo = process_photo(io.BytesIO(data))
            outcomes.append(f"{photo.width}x{photo.height}")
        except DomainError as error:
            outcomes.append(str(error.code))

    baseline = _rss_mb()
    _reset_peak()
    started = time.perf_counter()
    workers = [threading.Thread(target=one) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 2),
        "peak_mb": round(_peak_mb() - baseline),
        "held_after_mb": round(_rss_mb() - baseline),
        "outcomes": sorted(set(outcomes)),
    }


def write_pictures(folder: Path, png_side: int, jpeg_size: tuple[int, int]) -> dict[str, Path]:
    from PIL import Image, ImageFilter

    png = folder / "bomb.png"
    Image.new("RGB", (png_side, png_side), (200, 200, 200)).save(png, "PNG")
    # A phone-like JPEG: smooth gradients with a little grain, so it is neither tiny nor over 15 MB.
    w, h = jpeg_size
    base = Image.merge("RGB", [Image.linear_gradient("L").resize((w, h)),
                               Image.radial_gradient("L").resize((w, h)),
                               Image.linear_gradient("L").rotate(90).resize((w, h))])
    grain = Image.effect_noise((w // 4, h // 4), 25).filter(ImageFilter.SMOOTH).resize((w, h))
    jpeg = folder / "phone.jpg"
    Image.blend(base, Image.merge("RGB", [grain] * 3), 0.25).save(jpeg, "JPEG", quality=85)
    return {"png": png, "jpeg": jpeg}


def measure(png_side: int = 9400, jpeg_size: tuple[int, int] = (8000, 6000), threads: int = 4) -> dict:
    figures: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as folder:
        env = dict(os.environ, GONGZHI_VAR_DIR=folder, PYTHONPATH=str(ROOT))
        pictures = write_pictures(Path(folder), png_side, jpeg_size)
        for kind, path in pictures.items():
            for n in (1, threads):
                out = subprocess.run(
                    [sys.executable, __file__, "--child", str(path), "--threads", str(n)],
                    env=env, cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True,
                ).stdout
                figures[f"{kind} ×{n}"] = {"file_kb": path.stat().st_size // 1024, **json.loads(out)}
    return figures


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--png-side", type=int, default=9400)
    parser.add_argument("--jpeg-size", default="8000x6000")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.threads)))
        return {}
    w, h = (int(v) for v in args.jpeg_size.split("x"))
    figures = measure(args.png_side, (w, h), args.threads)
    print(f"{'picture':<10} {'file':>8} {'seconds':>8} {'peak MB':>8} {'held MB':>8}  outcome")
    for name, f in figures.items():
        print(f"{name:<10} {f['file_kb']:>6}KB {f['seconds']:>8} {f['peak_mb']:>8} {f['held_after_mb']:>8}  "
              f"{', '.join(f['outcomes'])}")
    return figures


if __name__ == "__main__":
    main()
