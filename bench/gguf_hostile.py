"""The GGUF reader on hostile headers (testkit/hostile_gguf.py) against a valid small header,
in the same run: each file is read in a child process of its own, capped at ``--cap-mib``
of address space and ``--timeout`` seconds, which reports the reader's time and its peak
resident memory (ru_maxrss, the child's imports included; the valid header's row is the
baseline).

`altlas` is altlas's reader (adapters/gguf_header.read_header: the bounded walk, then the
gguf package); `--library` adds the gguf package's GGUFReader alone, as altlas read headers
before the walk, on the same files under the same caps. With the packaged SmolLM2 installed,
its real header (49k tokens) is read too.

    python bench/gguf_hostile.py [--library] [--cap-mib 2048] [--timeout 30]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def child(reader: str, path: str, cap: int) -> None:
    """Read ``path`` with ``reader`` and print what it cost, as JSON."""
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    import gguf  # noqa: F401  imported before the clock starts, by either reader

    if reader == "altlas":
        from adapters.gguf_header import read_header

        def read() -> None:
            read_header(Path(path))
    else:
        from gguf import GGUFReader

        def read() -> None:
            GGUFReader(path)
    started = time.perf_counter()
    try:
        read()
        outcome = "read"
    except MemoryError:
        outcome = "MemoryError"
    except Exception as e:  # what it says is the measure
        outcome = f"refused: {str(e).split(': ', 1)[-1][:60]}"
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "peak_mib": peak / 1024, "outcome": outcome}))


def measure(reader: str, path: Path, cap: int, timeout: float) -> dict[str, object]:
    try:
        done = subprocess.run([sys.executable, __file__, "--child", reader, str(path),
                               "--cap", str(cap)], capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"seconds": timeout, "peak_mib": None, "outcome": f"killed after {timeout:g} s"}
    if done.returncode != 0 or not done.stdout.strip():
        tail = (done.stderr.strip().splitlines() or ["?"])[-1][:60]
        return {"seconds": None, "peak_mib": None, "outcome": f"died: {tail}"}
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def files(folder: Path) -> list[tuple[str, Path]]:
    from testkit.helpers import write_gguf
    from testkit.hostile_gguf import HOSTILE

    found = [("valid small header (baseline)", write_gguf(folder / "valid.gguf"))]
    for name, (make, _) in HOSTILE.items():
        path = folder / f"{len(found)}.gguf"
        path.write_bytes(make())
        found.append((name, path))
    try:
        from adapters.llm_local import resolve
        from altlas.settings import Settings

        found.append(("SmolLM2 (packaged, real)", resolve("smollm2",
                                                          Settings().model_cache)[1]))
    except Exception:  # not installed: the table says so by its absence
        pass
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=2, metavar=("READER", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--cap", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--library", action="store_true",
                        help="also the gguf package's reader alone (the unbounded baseline)")
    parser.add_argument("--cap-mib", type=int, default=2048)
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.cap)
        return 0
    cap = args.cap_mib * 1024 * 1024
    readers = ["altlas"] + (["gguf package alone"] if args.library else [])
    print("| header | bytes | reader | seconds | peak RSS MiB | outcome |\n"
          "|---|---:|---|---:|---:|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in files(Path(tmp)):
            for reader in readers:
                got = measure("altlas" if reader == "altlas" else "library", path, cap,
                              args.timeout)
                seconds = "—" if got["seconds"] is None else f"{got['seconds']:.4f}"
                peak = "—" if got["peak_mib"] is None else f"{got['peak_mib']:.0f}"
                print(f"| {name} | {path.stat().st_size} | {reader} | {seconds} | {peak} | "
                      f"{got['outcome']} |", flush=True)
    print(f"\ncaps: {args.cap_mib} MiB of address space, {args.timeout:g} s per read")
    return 0


if __name__ == "__main__":
    sys.exit(main())
