"""Photos at size: how long checking and re-encoding a customer's photo takes (in a worker thread,
off the event loop), what it costs in memory, and how much smaller the stored file is.

Photos as phones take them, made here with Pillow: noise, so JPEG can't shrink them to nothing, and
EXIF with a location. Figures, not assertions:

    .venv/bin/python scripts/bench_photos.py [--sizes 1600x1200 4000x3000 8000x6000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image

from appliance.conversations import attachments


def phone_photo(width: int, height: int) -> bytes:
    # Noise on a coarse grid, enlarged: as much detail as a photo (a file of a phone's size),
    # without the noise no JPEG can compress.
    noise = Image.merge("RGB", [Image.effect_noise((width // 6, height // 6), 50 + 10 * n) for n in range(3)])
    noise = noise.resize((width, height), Image.Resampling.BICUBIC)
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x8825] = {1: "N", 2: (35.0, 41.0, 22.0), 3: "E", 4: (51.0, 23.0, 19.0)}
    out = io.BytesIO()
    noise.save(out, "JPEG", quality=92, exif=exif)
    return out.getvalue()


def peak_mib() -> float:
    """This process's peak resident memory (VmHWM: ru_maxrss would carry the parent's over exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def clean_one(path: str, repeat: int) -> None:
    """In a process of its own, so that its peak memory is the cleaning's: prints the figures."""
    before = peak_mib()
    sent = Path(path).read_bytes()  # counted: the request's body is in memory too
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        try:
            clean = attachments.clean_image(sent, "photo.jpg", 25_000_000)
        except attachments.AttachmentRefused as exc:
            print(json.dumps({"refused": str(exc)}))
            return
        times.append(time.perf_counter() - started)
    peak = peak_mib()
    print(json.dumps({"stored": len(clean.data), "median_s": sorted(times)[len(times) // 2], "mib": peak - before}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", default=["1600x1200", "4000x3000", "8000x6000"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        clean_one(args.one, args.repeat)
        return
    print(f"{'photo':>11} {'sent':>9} {'stored':>9} {'ratio':>6} {'median s':>9} {'+MiB to clean':>14}")
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            width, height = (int(n) for n in size.split("x"))
            path = Path(tmp) / f"{size}.jpg"
            path.write_bytes(phone_photo(width, height))
            out = subprocess.run(
                [sys.executable, __file__, "--one", str(path), "--repeat", str(args.repeat)],
                capture_output=True,
                text=True,
                check=True,
            )
            got = json.loads(out.stdout)
            sent = path.stat().st_size
            if "refused" in got:
                print(f"{size:>11} {sent / 1e6:>7.2f}MB refused: {got['refused']}")
                continue
            print(
                f"{size:>11} {sent / 1e6:>7.2f}MB {got['stored'] / 1e6:>7.2f}MB {got['stored'] / sent:>6.2f} "
                f"{got['median_s']:>9.3f} {got['mib']:>14.0f}"
            )


if __name__ == "__main__":
    main()
