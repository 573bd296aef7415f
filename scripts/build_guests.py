#!/usr/bin/env python3
"""Compile guest programs (C) to WebAssembly/WASI preview1 modules.

    python scripts/build_guests.py --out build/wasm examples tests/programs

Every `*.c` in the given directories becomes `<out>/<stem>.wasm`, compiled with
`python -m ziglang cc --target=wasm32-wasi -O2 -s`. A module is rebuilt only when the hash of
(source, flags, compiler version) changed; the hash is kept next to it in `<stem>.wasm.hash`.
Builds run in parallel (2 jobs by default). On a compile failure the compiler's message is shown,
followed by one summary line, and the exit status is 1.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLAGS = ("--target=wasm32-wasi", "-O2", "-s", "-Wall", "-Wno-unused-function")
ZIG = (sys.executable, "-m", "ziglang")


def _setup_env() -> dict[str, str]:
    env = dict(os.environ)
    cache = str(ROOT / "build" / "zig-cache")
    env.setdefault("ZIG_GLOBAL_CACHE_DIR", cache)
    env.setdefault("ZIG_LOCAL_CACHE_DIR", cache)
    return env


def compiler_version(env: dict[str, str]) -> str:
    try:
        out = subprocess.run([*ZIG, "version"], env=env, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        sys.exit(f"build_guests: cannot run `{' '.join(ZIG)} version`: {exc} (is the ziglang package installed?)")
    return out.stdout.strip()


def digest(src: Path, version: str) -> str:
    h = hashlib.sha256()
    h.update(src.read_bytes())
    for hdr in sorted(src.parent.glob("*.h")):  # shared headers next to the sources
        h.update(b"\0" + hdr.name.encode() + b"\0" + hdr.read_bytes())
    h.update(b"\0" + "\0".join(FLAGS).encode() + b"\0" + version.encode())
    return h.hexdigest()


def build_one(src: Path, out_dir: Path, version: str, env: dict[str, str]) -> tuple[Path, str, str | None]:
    """Returns (source, 'built'|'cached'|'failed', compiler message on failure)."""
    dst = out_dir / (src.stem + ".wasm")
    stamp = out_dir / (src.stem + ".wasm.hash")
    want = digest(src, version)
    if dst.exists() and stamp.exists() and stamp.read_text().strip() == want:
        return src, "cached", None
    tmp = dst.with_suffix(".wasm.tmp")
    cmd = [*ZIG, "cc", *FLAGS, "-o", str(tmp), str(src)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0 or not tmp.exists():
        tmp.unlink(missing_ok=True)
        return src, "failed", (proc.stderr or proc.stdout or f"exit status {proc.returncode}").strip()
    os.replace(tmp, dst)
    stamp.write_text(want + "\n")
    return src, "built", None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, type=Path, help="output directory for .wasm files")
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("-q", "--quiet", action="store_true")
    ap.add_argument("dirs", nargs="+", type=Path, help="directories holding *.c guest sources")
    args = ap.parse_args(argv)

    sources: list[Path] = []
    for d in args.dirs:
        if not d.is_dir():
            print(f"build_guests: error: {d} is not a directory", file=sys.stderr)
            return 2
        sources.extend(sorted(d.glob("*.c")))
    stems: dict[str, Path] = {}
    for s in sources:
        if s.stem in stems:
            print(f"build_guests: error: {s} and {stems[s.stem]} would both build {s.stem}.wasm", file=sys.stderr)
            return 2
        stems[s.stem] = s

    env = _setup_env()
    Path(env["ZIG_GLOBAL_CACHE_DIR"]).mkdir(parents=True, exist_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)
    version = compiler_version(env)

    failures: list[tuple[Path, str]] = []
    counts = {"built": 0, "cached": 0, "failed": 0}
    # The first compile builds wasi-libc into zig's cache: run jobs one at a time until one compile has
    # actually happened, so that parallel jobs don't all build wasi-libc at once.
    results = []
    pending = list(sources)
    while pending:
        r = build_one(pending.pop(0), args.out, version, env)
        results.append(r)
        if r[1] != "cached":
            break
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results += list(pool.map(lambda s: build_one(s, args.out, version, env), pending))
    for src, status, msg in results:
        counts[status] += 1
        if status == "failed":
            failures.append((src, msg or ""))
        elif status == "built" and not args.quiet:
            print(f"  built {src} -> {args.out / (src.stem + '.wasm')}")
    for src, msg in failures:
        print(msg, file=sys.stderr)
    if failures:
        names = ", ".join(str(s) for s, _ in failures)
        print(f"build_guests: error: {len(failures)} guest(s) failed to compile: {names}", file=sys.stderr)
        return 1
    if not args.quiet:
        print(f"build_guests: {counts['built']} built, {counts['cached']} up to date ({args.out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
