"""`vwasm run ...`: wasmtime-compatible command line.

Every failure the user can cause (a bad flag, a missing file or directory, an invalid module) is one
line on stderr and a status: 2 for usage, 1 for the rest; never a traceback. The guest's own status
passes through; a trap is 134 with `vwasm: trap: ...`, and so is a guest stopped by --fuel or
--timeout, with `vwasm: limit: ...` naming the limit and its value.

`vwasm run --trace FILE` / `--strace` write every host call out (vwasm.trace); `vwasm audit FILE`
re-checks such a trace: 0 safe, 1 unsafe (the first unsafe effect named), 2 unreadable.
"""
from __future__ import annotations

import os
import sys

import wasmtime

from . import __version__
from vwasm.model.wasi import FD_LIMIT

from . import cache as compile_cache
from .limits import DEFAULT_MAX_MEMORY, engine_for
from .loader import ModuleError, cause
from .sandbox import TRAP_STATUS, Config, Sandbox

USAGE_STATUS = 2
FAILURE_STATUS = 1


class UsageError(Exception):
    pass


def _parser_class():
    """argparse's parser, told the terminal's width and reporting errors in one line (argparse loads
    only when this is asked for: a plain `vwasm run` is read by `_fast_run`)."""
    import argparse

    class _Formatter(argparse.HelpFormatter):
        """argparse's help layout, told the terminal's width. argparse makes a formatter at every
        add_argument (to check its metavar), and one not told asks shutil, whose import (bz2, lzma...)
        costs ~3 ms of every start: the width is found as shutil.get_terminal_size finds it."""

        def __init__(self, prog: str, **kwargs) -> None:
            try:
                columns = int(os.environ.get("COLUMNS", ""))
            except ValueError:
                columns = 0
            if columns <= 0:
                try:
                    columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
                except (AttributeError, ValueError, OSError):  # no stdout, or not a terminal
                    columns = 0
            kwargs.setdefault("width", (columns or 80) - 2)
            super().__init__(prog, **kwargs)

    class _Parser(argparse.ArgumentParser):
        def __init__(self, *args, **kwargs) -> None:
            kwargs.setdefault("formatter_class", _Formatter)
            super().__init__(*args, **kwargs)

        def error(self, message: str):  # argparse would print the whole usage; one line is enough
            raise UsageError(message)

    return _Parser


def _parser():
    import argparse
    _Parser = _parser_class()
    # argparse looks each of its words up with gettext, searching the locale directories every time
    # (10-15 ms a start); Python has no catalogue for them, so they are English anyway.
    argparse._ = str
    top = _Parser(prog="vwasm", description="Run WebAssembly (WASI preview1) in a checked sandbox.")
    top.add_argument("--version", action="version", version=f"vwasm {__version__}")
    sub = top.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    run = sub.add_parser("run", help="run a WASI command module",
                         description="Run FILE.wasm with only the capabilities granted here.")
    run.add_argument("--dir", action="append", default=[], metavar="HOST[::GUEST]",
                     help="grant a host directory (at GUEST in the guest; default: HOST)")
    run.add_argument("--dir-ro", action="append", default=[], metavar="HOST[::GUEST]",
                     help="grant a host directory read-only: nothing beneath it can be changed")
    run.add_argument("--env", action="append", default=[], metavar="K=V | K",
                     help="set a guest environment variable (K alone: copy it from this process)")
    run.add_argument("--inherit-env", action="store_true", help="copy this process's whole environment")
    run.add_argument("--allow-net", action="append", default=[], metavar="PROTO:ADDR[/N]:PORT[-PORT]",
                     help="let the guest open sockets to these endpoints (e.g. tcp:127.0.0.1:8080)")
    run.add_argument("--tcplisten", action="append", default=[], metavar="ADDR:PORT",
                     help="grant a listening TCP socket the guest can accept connections on")
    run.add_argument("--audit", action="store_true",
                     help="check every effect of every host call against the sandbox policy (slower); "
                          "an unsafe one stops the guest with a trap")
    run.add_argument("--trace", metavar="FILE",
                     help="write every host call (arguments, errno, effects) and the policy to FILE as JSON "
                          "Lines, for `vwasm audit FILE` (implies --audit)")
    run.add_argument("--strace", action="store_true",
                     help="print every host call to stderr, one line each (implies --audit)")
    run.add_argument("--no-cache", action="store_true",
                     help="compile the module afresh and keep nothing (default: compiled code is cached in "
                          "$XDG_CACHE_HOME/vwasm)")
    run.add_argument("--allow-precompiled", action="store_true",
                     help="allow FILE to be a .cwasm made by `vwasm compile`: it is native code, trusted, so "
                          "run only one you compiled yourself")
    run.add_argument("--invoke", metavar="NAME",
                     help="call the export NAME instead of _start, with ARGS as its parameters (i32, i64, f32, "
                          "f64), and print its results one per line")
    run.add_argument("-S", dest="wasi_options", action="append", default=[], metavar="KEY=VALUE[,...]",
                     help="wasmtime's WASI options: tcplisten=ADDR:PORT (as --tcplisten)")
    lim = run.add_argument_group(
        "limits", f"A guest that runs out of fuel or time stops with status {TRAP_STATUS} and one line "
                  "'vwasm: limit: ...' naming the limit.")
    lim.add_argument("--fuel", type=_count, metavar="N",
                     help="stop the guest after N units of wasmtime fuel, about one per wasm instruction "
                          "(default: no limit)")
    lim.add_argument("--timeout", type=_seconds, metavar="SECONDS",
                     help="stop the guest after SECONDS of wall-clock time, time blocked in poll_oneoff, "
                          "fd_read, sock_accept... included (default: no limit)")
    lim.add_argument("--max-memory", type=_bytes, default=DEFAULT_MAX_MEMORY, metavar="BYTES",
                     help="linear memory the guest may have (suffix K, M or G for KiB, MiB, GiB): memory.grow "
                          "returns -1 past it, and a module that starts with more is refused "
                          f"(default: {DEFAULT_MAX_MEMORY >> 30}G)")
    lim.add_argument("--max-fds", type=_count, default=FD_LIMIT, metavar="N",
                     help="descriptors the guest may hold at once, standard streams and grants included; "
                          f"opening more is EMFILE (default: {FD_LIMIT})")
    run.add_argument("file", metavar="FILE.wasm")
    run.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS")
    check = sub.add_parser("audit", help="re-check a trace written by `vwasm run --trace`",
                           description="Judge every effect in TRACE against the policy recorded in it: "
                                       "exit 0 if safe, 1 naming the first unsafe effect, 2 if unreadable.")
    check.add_argument("trace", metavar="TRACE")
    compiling = sub.add_parser("compile", help="compile a module ahead of time (run it with --allow-precompiled)",
                               description="Compile FILE.wasm for this wasmtime to FILE.cwasm.")
    compiling.add_argument("file", metavar="FILE.wasm")
    compiling.add_argument("-o", "--output", metavar="FILE.cwasm", help="default: FILE with the suffix .cwasm")
    compiling.add_argument("--with-fuel", action="store_true", help="with fuel checks, for `run --fuel`")
    compiling.add_argument("--with-timeout", action="store_true", help="with epoch checks, for `run --timeout`")
    cache = sub.add_parser("cache", help="manage the compile cache ($XDG_CACHE_HOME/vwasm)",
                           description="vwasm cache clear: remove every compiled module from the cache.")
    cache.add_argument("action", choices=["clear"])
    return top


def _type_error(message: str) -> Exception:
    import argparse
    return argparse.ArgumentTypeError(message)


def _count(text: str) -> int:
    if not text.isdigit() or int(text) == 0:
        raise _type_error(f"expected a positive whole number, not {text!r}")
    return int(text)


_NAN, _INF = float("nan"), float("inf")  # (the math module is one more import a start pays)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = _NAN
    if not 0 < value < _INF:
        raise _type_error(f"expected a positive number of seconds, not {text!r}")
    return value


_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def _bytes(text: str) -> int:
    number, unit = text.rstrip("KMGkmg"), text[len(text.rstrip("KMGkmg")):].upper()
    if not number.isdigit() or unit not in _UNITS or int(number) == 0:
        raise _type_error(f"expected a positive number of bytes (suffix K, M or G), not {text!r}")
    return int(number) * _UNITS[unit]


# `vwasm run` read without argparse (importing it and building the parser: ~5 ms of every start):
# the run options spelled out in full, each value a separate word not starting with "-", then FILE
# (not starting with "-") and everything after it as the guest's ARGS (argparse's REMAINDER). Any
# other command line -- another command, --help, an abbreviation, `--opt=value`, `--`, a value that
# does not convert -- returns None and argparse reads it, so what is accepted and every message stay
# argparse's. tests/test_startup.py checks both readings agree.
_RUN_FLAGS = {"--inherit-env": "inherit_env", "--audit": "audit", "--strace": "strace",
              "--no-cache": "no_cache", "--allow-precompiled": "allow_precompiled"}
_RUN_LISTS = {"--dir": "dir", "--dir-ro": "dir_ro", "--env": "env", "--allow-net": "allow_net",
              "--tcplisten": "tcplisten", "-S": "wasi_options"}
_RUN_VALUES = {"--trace": ("trace", str), "--invoke": ("invoke", str), "--fuel": ("fuel", _count),
               "--timeout": ("timeout", _seconds), "--max-memory": ("max_memory", _bytes),
               "--max-fds": ("max_fds", _count)}


class _Namespace:
    """What argparse.Namespace is to `config_from` and `main`: the options as attributes."""

    def __init__(self, **kwargs) -> None:
        self.__dict__.update(kwargs)


def _fast_run(argv: list[str]) -> _Namespace | None:
    """The options of a plain `vwasm run [OPTIONS] FILE [ARGS...]` as argparse would read them, or None."""
    if len(argv) < 2 or argv[0] != "run":
        return None
    ns = _Namespace(command="run", inherit_env=False, audit=False, strace=False, no_cache=False,
                    allow_precompiled=False, trace=None, invoke=None, fuel=None, timeout=None,
                    max_memory=DEFAULT_MAX_MEMORY, max_fds=FD_LIMIT, dir=[], dir_ro=[], env=[], allow_net=[],
                    tcplisten=[], wasi_options=[])
    i = 1
    while i < len(argv):
        word = argv[i]
        if not word.startswith("-"):
            ns.file, ns.args = word, argv[i + 1:]
            return ns
        if word in _RUN_FLAGS:
            setattr(ns, _RUN_FLAGS[word], True)
            i += 1
            continue
        if i + 1 >= len(argv) or argv[i + 1].startswith("-"):
            return None
        value = argv[i + 1]
        if word in _RUN_LISTS:
            getattr(ns, _RUN_LISTS[word]).append(value)
        elif word in _RUN_VALUES:
            name, convert = _RUN_VALUES[word]
            try:
                setattr(ns, name, convert(value))
            except Exception:  # argparse says what is wrong with it
                return None
        else:
            return None
        i += 2
    return None  # no FILE


def _preopen(spec: str) -> tuple[str, str]:
    host, sep, guest = spec.partition("::")
    if not host or (sep and not guest):
        raise UsageError(f"bad directory {spec!r}: expected HOST or HOST::GUEST")
    if not os.path.isdir(host):
        raise FileNotFoundError(f"--dir {spec}: no such host directory: {host}")
    return host, guest if sep else host


def _wasi_options(ns) -> None:
    """wasmtime's `-S KEY=VALUE[,KEY=VALUE...]`: the keys vwasm has an option for."""
    for item in (part for option in ns.wasi_options for part in option.split(",")):
        key, sep, value = item.partition("=")
        if key == "tcplisten" and sep:
            ns.tcplisten.append(value)
        else:
            raise UsageError(f"-S {item}: not a WASI option vwasm has (-S tcplisten=ADDR:PORT)")


def config_from(ns) -> Config:
    _wasi_options(ns)
    config = Config()
    config.argv = [ns.file, *ns.args]
    env = dict(os.environ) if ns.inherit_env else {}
    for item in ns.env:
        key, sep, value = item.partition("=")
        if not key:
            raise UsageError(f"bad --env {item!r}: expected K=V or K")
        if sep:
            env[key] = value
        elif key in os.environ:
            env[key] = os.environ[key]
    config.env = list(env.items())
    for spec in ns.dir:
        config.preopen_dir(*_preopen(spec))
    for spec in ns.dir_ro:
        config.preopen_dir(*_preopen(spec), read_only=True)
    for rule in ns.allow_net:
        try:
            config.allow_net(rule)
        except ValueError as e:
            raise UsageError(str(e)) from None
    for spec in ns.tcplisten:
        address, sep, port = spec.rpartition(":")
        if not sep or not port.isdigit() or not 0 <= int(port) <= 0xFFFF:
            raise UsageError(f"bad --tcplisten {spec!r}: expected ADDR:PORT")
        config.tcp_listen(address.strip("[]") or "0.0.0.0", int(port))
    if ns.audit:
        config.enable_audit(keep_trace=False)
    config.fuel, config.timeout, config.max_memory = ns.fuel, ns.timeout, ns.max_memory
    granted = 3 + len(config.preopens) + len(config.listeners)
    if ns.max_fds < granted:
        raise UsageError(f"--max-fds {ns.max_fds} is fewer than the {granted} descriptors granted at start "
                         "(standard streams, --dir, --tcplisten)")
    config.max_fds = ns.max_fds
    config.inherit_stdin()
    config.inherit_stdout()
    config.inherit_stderr()
    return config


def main(argv: list[str] | None = None) -> int:
    """`vwasm ARGS...` (default: this process's command line, `sys.argv[1:]`): the exit status."""
    command = argv is None  # the `vwasm` program itself: the process ends when this returns
    argv = sys.argv[1:] if argv is None else argv
    trace_out = recorder = None
    try:
        ns = _fast_run(argv) or _parser().parse_args(argv)
        if ns.command == "audit":
            from .trace import audit_main
            return audit_main(ns.trace)
        if ns.command == "compile":
            return compile_cache.compile_main(ns.file, ns.output, ns.with_fuel, ns.with_timeout)
        if ns.command == "cache":
            return compile_cache.clear_main()
        if ns.command != "run":
            raise UsageError("expected a command: vwasm run [OPTIONS] FILE.wasm [ARGS...] (see vwasm run --help)")
        config = config_from(ns)
        if ns.trace is not None or ns.strace:
            from .trace import Recorder  # the effects model loads only when asked for: start-up
            try:
                trace_out = None if ns.trace is None else open(ns.trace, "w", encoding="utf-8")
            except OSError as e:
                raise FileNotFoundError(f"cannot write trace {ns.trace}: {e.strerror}") from None
            recorder = Recorder(config, trace_out, sys.stderr if ns.strace else None, module=os.path.basename(ns.file))
            config.enable_audit(keep_trace=False, recorder=recorder)
        try:
            with open(ns.file, "rb") as f:
                wasm = f.read()
        except OSError as e:
            raise FileNotFoundError(f"cannot read {ns.file}: {e.strerror}") from None
        config.cache = not ns.no_cache
        try:
            engine = module = None
            if compile_cache.is_precompiled(wasm):
                engine = engine_for(config)
                module = compile_cache.load_precompiled(engine, wasm, allowed=ns.allow_precompiled)
            box = Sandbox(module or wasm, config, engine=engine, command=ns.invoke is None)
        except ModuleError as e:
            raise ValueError(f"{ns.file}: {e}") from None
        except wasmtime.WasmtimeError as e:  # anything the loader's checks did not foresee
            raise ValueError(f"{ns.file}: cannot load the module: {cause(e)}") from None
        sys.stdout.flush()
        if ns.invoke is not None:
            from .invoke import invoke  # only for --invoke: start-up
            status = invoke(box, ns.invoke, ns.args)
        else:
            status = box.run()
        if box.stop_line is not None:
            print(box.stop_line, file=sys.stderr)
        if trace_out is not None:
            try:
                trace_out.flush()
            except OSError as e:
                recorder.error = recorder.error or e
        if recorder is not None and recorder.error is not None:
            print(f"vwasm: error: the trace is incomplete: {recorder.error}", file=sys.stderr)
            return status or FAILURE_STATUS
        # A process reports 8 bits: a larger guest status must not wrap round to look like success.
        return min(status, 255)
    except UsageError as e:
        print(f"vwasm: error: {e}", file=sys.stderr)
        return USAGE_STATUS
    except (OSError, ValueError) as e:
        print(f"vwasm: error: {e}", file=sys.stderr)
        return FAILURE_STATUS
    except KeyboardInterrupt:
        return 130
    finally:
        if trace_out is not None:
            try:
                trace_out.close()
            except OSError:
                pass  # reported above
        if command:
            # The process exits next: nothing left needs collecting, and the interpreter's final
            # collections would traverse every object there is (wasmtime's ctypes bindings alone:
            # ~10 ms of every run). Frozen objects are left out of them.
            import gc
            gc.freeze()


if __name__ == "__main__":
    sys.exit(main())
