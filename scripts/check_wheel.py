"""The built wheel installs only the `vwasm` package (never top-level model/impl/proofs), with the
C entries of the cheapest calls built (vwasm/_fastcalls*.so)."""
import sys
import zipfile
from pathlib import Path

wheels = sorted(Path(sys.argv[1]).glob("verified_wasm_runtime-*.whl"))
if not wheels:
    sys.exit("check_wheel: no wheel in " + sys.argv[1])
names = zipfile.ZipFile(wheels[-1]).namelist()
tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith((".dist-info", ".data"))}
needed = {"vwasm/__init__.py", "vwasm/model/wasi.py", "vwasm/syscalls/fd.py", "vwasm/cli.py", "vwasm/__main__.py",
          "vwasm/embed.py", "vwasm/py.typed"}
if not any(n.startswith("vwasm/_fastcalls") for n in names):
    sys.exit(f"check_wheel: {wheels[-1].name} has no vwasm/_fastcalls library (impl/fastcalls.c not built)")
if len(wheels) > 1:
    sys.exit(f"check_wheel: more than one wheel in {sys.argv[1]}: {[w.name for w in wheels]}")
if tops != {"vwasm"} or not needed <= set(names):
    sys.exit(f"check_wheel: {wheels[-1].name} has top-level {sorted(tops)}; missing {sorted(needed - set(names))}")
print(f"wheel ok: {wheels[-1].name} ({len(names)} files, only the vwasm package)")
