"""`make demo`: run examples/demo.wasm in the sandbox and show what it could and could not touch."""
import shutil
import subprocess
import sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent
work = root / "build" / "demo"
shutil.rmtree(work, ignore_errors=True)
box = work / "sandbox"
box.mkdir(parents=True)
(work / "outside.txt").write_text("a secret outside the sandbox\n")
(box / "escape").symlink_to("../outside.txt")  # a host-made symlink leading out
vwasm = Path(sys.executable).with_name("vwasm")
cmd = [str(vwasm), "run", "--dir", f"{box}::/sandbox", "--env", "GREETING=hello from the host",
       str(root / "build" / "wasm" / "demo.wasm"), "/sandbox", "first-arg"]
print("$", " ".join(cmd[:1] + ["run", "--dir", "build/demo/sandbox::/sandbox", "--env", "'GREETING=hello from the host'",
                               "build/wasm/demo.wasm", "/sandbox", "first-arg"]), flush=True)
status = subprocess.run(cmd).returncode
print(f"\n[host] guest exit status: {status}")
for path in sorted(box.rglob("*")):
    kind = "symlink" if path.is_symlink() else "dir" if path.is_dir() else f"{path.stat().st_size} bytes"
    print(f"[host] inside the sandbox: {path.relative_to(work)} ({kind})")
print(f"[host] outside.txt unchanged: {(work / 'outside.txt').read_text() == 'a secret outside the sandbox' + chr(10)}")
sys.exit(status)
