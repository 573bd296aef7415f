"""The compile cache and precompiled modules (`vwasm compile`): compiled code kept between runs.

A module is compiled once per wasmtime build and engine settings, stored with
`wasmtime.Module.serialize()` and loaded next time with `Module.deserialize`. Deserializing is
*trusted*: wasmtime maps the bytes in as native code without validating them, so loading bytes that
someone else could write would run their code outside the sandbox. Hence:

- the cache directory is private: created 0700; one owned by another user, or writable by group
  or others, is not used at all (the run compiles, as with `--no-cache`);
- entries are opened through that directory's descriptor without following symlinks, must be regular
  files of ours, and are written whole to a temporary file (0600) then renamed into place;
- every entry (and every `.cwasm` file) carries the engine it was compiled for and the sha256 of what
  it holds and of the module it came from; anything that does not check out is compiled again and
  rewritten, never deserialized.

The digest catches corruption and mix-ups (a truncated write, an entry for another module, another
wasmtime), not a writer with our own uid -- who could as well change vwasm's code.

Entry layout: MAGIC, sha256(payload), sha256(source module), u32 length + the engine description,
then the serialized module.
"""
from __future__ import annotations

import ctypes
import os
import stat
import struct
from types import SimpleNamespace

import wasmtime

from . import limits
from .loader import ModuleError, cause, compile_module

MAGIC = b"\0vwasm-compiled1"  # 16 bytes; \0 first: never WAT text, never "\0asm"
_HEAD = struct.Struct("<16s32s32sI")
_ENTRY_SUFFIX = ".entry"
_TMP_PREFIX = ".tmp-"
_UNSAFE_MODE = stat.S_IWGRP | stat.S_IWOTH  # a directory or entry others may write is never trusted


def _sha256(data) -> bytes:
    """SHA-256 of `data`. Small inputs use Python's own implementation: importing hashlib (OpenSSL)
    costs ~5 ms of every start; large ones (a 26 MB interpreter) OpenSSL's, ~8 times faster."""
    if len(data) < 1 << 20:
        try:
            from _sha256 import sha256  # Python 3.11
        except ImportError:
            from _sha2 import sha256  # 3.12 and later
    else:
        from hashlib import sha256
    return sha256(data).digest()


def default_directory() -> str:
    """$XDG_CACHE_HOME/vwasm, or ~/.cache/vwasm (a relative $XDG_CACHE_HOME is ignored, as the XDG
    specification says)."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "vwasm")


_IDENTITY: str | None = None


def _wasmtime_identity() -> str:
    """The wasmtime build: the distribution's version and its native library's size and mtime (a
    reinstall changes them; reading the version through importlib.metadata would cost 40 ms a start)."""
    global _IDENTITY
    if _IDENTITY is None:
        from wasmtime import _ffi
        package = os.path.dirname(os.path.abspath(wasmtime.__file__))
        versions = [name[len("wasmtime-"):-len(".dist-info")] for name in os.listdir(os.path.dirname(package))
                    if name.startswith("wasmtime-") and name.endswith(".dist-info")]
        lib = os.stat(_ffi.dll._name)
        _IDENTITY = f"wasmtime {'/'.join(sorted(versions)) or '?'} lib {lib.st_size}:{lib.st_mtime_ns}"
    return _IDENTITY


def engine_description(engine: wasmtime.Engine) -> str | None:
    """Everything that decides the code an engine compiles; None for an engine vwasm did not make
    (its settings are unknown, so it is never cached)."""
    settings = limits.engine_settings(engine)
    if settings is None:
        return None
    fuel, epochs = settings
    return f"{_wasmtime_identity()}; {os.uname().machine}; consume_fuel={int(fuel)}; epoch_interruption={int(epochs)}; memory_may_move=0"


def pack(description: str, source: bytes, module: wasmtime.Module) -> bytes:
    payload = bytes(module.serialize())
    text = description.encode()
    return (_HEAD.pack(MAGIC, _sha256(payload), _sha256(source), len(text))
            + text + payload)


def unpack(data) -> tuple[str, bytes, memoryview]:
    """(engine description, sha256 of the source module, payload: a view into `data`), the payload's
    digest checked; ValueError saying what is wrong otherwise."""
    data = memoryview(data)
    if data[:len(MAGIC)] != MAGIC:
        raise ValueError("not a module compiled by vwasm")
    if len(data) < _HEAD.size or len(data) < _HEAD.size + _HEAD.unpack_from(data)[3]:
        raise ValueError("truncated")
    _, digest, source, length = _HEAD.unpack_from(data)
    end = _HEAD.size + length
    payload = data[end:]
    if _sha256(payload) != digest:
        raise ValueError("corrupt (its checksum does not match)")
    return bytes(data[_HEAD.size:end]).decode("utf-8", "replace"), source, payload


def _deserialize(engine: wasmtime.Engine, payload: memoryview) -> wasmtime.Module:
    """`Module.deserialize`, without its copy of the bytes when they are writable (an entry read into
    a bytearray: 25 MB saved for a 26 MB interpreter)."""
    if payload.readonly:
        return wasmtime.Module.deserialize(engine, bytes(payload))
    from wasmtime import _ffi as ffi
    module = ctypes.POINTER(ffi.wasmtime_module_t)()
    error = ffi.wasmtime_module_deserialize(engine.ptr(), (ctypes.c_uint8 * len(payload)).from_buffer(payload),
                                            len(payload), ctypes.byref(module))
    if error:
        raise wasmtime.WasmtimeError._from_ptr(error)
    return wasmtime.Module._from_ptr(module)


class CompileCache:
    """A directory of compiled modules. `hits`, `misses` (compiled: nothing usable was there),
    `rejected` (an entry was there but did not check out) and `writes` count what happened;
    `refused` says why the directory is not used, if it is not."""

    def __init__(self, directory: str | os.PathLike | None = None) -> None:
        self.directory = os.fspath(directory) if directory is not None else default_directory()
        self.hits = self.misses = self.rejected = self.writes = 0
        self.refused: str | None = None

    def _open_directory(self, create: bool) -> int | None:
        """A descriptor on the directory if it is ours and private enough, else None (`refused` says why)."""
        try:
            if create:
                os.makedirs(self.directory, mode=0o700, exist_ok=True)
            fd = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError as e:
            self.refused = f"cannot open {self.directory}: {e.strerror}"
            return None
        st = os.fstat(fd)
        if st.st_uid != os.geteuid() or st.st_mode & _UNSAFE_MODE:
            os.close(fd)
            self.refused = f"{self.directory} is not private (owned by another user, or writable by others)"
            return None
        return fd

    def compile(self, engine: wasmtime.Engine, source: bytes) -> wasmtime.Module:
        """`source` (wasm or WAT) compiled for `engine`: from the cache if a checked entry is there,
        else compiled (ModuleError if it cannot be) and stored."""
        description = engine_description(engine)
        directory = None if description is None else self._open_directory(create=True)
        if directory is None:
            return compile_module(engine, source)
        try:
            digest = _sha256(source)
            name = _sha256(description.encode() + b"\0" + digest).hex() + _ENTRY_SUFFIX
            module = self._load(engine, directory, name, description, digest)
            if module is not None:
                self.hits += 1
                return module
            self.misses += 1
            module = compile_module(engine, source)
            self._store(directory, name, pack(description, source, module))
            return module
        finally:
            os.close(directory)

    def _load(self, engine, directory: int, name: str, description: str, digest: bytes):
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=directory)
        except FileNotFoundError:
            return None
        except OSError:  # a symlink (ELOOP) or anything else odd: recompile and replace it
            self.rejected += 1
            return None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & _UNSAFE_MODE:
                raise ValueError("not a private regular file")
            data = bytearray(st.st_size)
            with os.fdopen(fd, "rb", closefd=False) as f:
                if f.readinto(data) != st.st_size:
                    raise ValueError("changed while read")
            found, source, payload = unpack(data)
            if found != description or source != digest:
                raise ValueError("made for another engine or module")
            return _deserialize(engine, payload)
        except (OSError, ValueError, wasmtime.WasmtimeError):
            self.rejected += 1
            return None
        finally:
            os.close(fd)

    def _store(self, directory: int, name: str, data: bytes) -> None:
        """Write `name` atomically; a cache that cannot be written only costs the next start time."""
        tmp = f"{_TMP_PREFIX}{os.getpid()}-{os.urandom(6).hex()}"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600,
                         dir_fd=directory)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, name, src_dir_fd=directory, dst_dir_fd=directory)
            self.writes += 1
        except OSError:
            try:
                os.unlink(tmp, dir_fd=directory)
            except OSError:
                pass

    def clear(self) -> list[tuple[str, int]]:
        """Remove every entry (and leftover temporary file): [(path, size)] of what was removed."""
        directory = self._open_directory(create=False)
        if directory is None:
            return []
        removed = []
        try:
            for name in sorted(os.listdir(directory)):
                if name.endswith(_ENTRY_SUFFIX) or name.startswith(_TMP_PREFIX):
                    try:
                        size = os.stat(name, dir_fd=directory, follow_symlinks=False).st_size
                        os.unlink(name, dir_fd=directory)
                    except OSError:
                        continue
                    removed.append((os.path.join(self.directory, name), size))
        finally:
            os.close(directory)
        return removed


def compile_with(engine: wasmtime.Engine, source: bytes, cache) -> wasmtime.Module:
    """`Config.cache`: False/None compiles; True uses the default directory; a path or a
    `CompileCache` that one."""
    if cache is None or cache is False:
        return compile_module(engine, source)
    if not isinstance(cache, CompileCache):
        cache = CompileCache(None if cache is True else cache)
    return cache.compile(engine, source)


# --- precompiled files: `vwasm compile FILE.wasm -o FILE.cwasm`, `vwasm run --allow-precompiled` --
def is_precompiled(data: bytes) -> bool:
    return data.startswith(MAGIC)


def precompile(engine: wasmtime.Engine, source: bytes) -> bytes:
    """The contents of a .cwasm file: `source` compiled for `engine` (one vwasm made)."""
    description = engine_description(engine)
    if description is None:
        raise ValueError("precompiling needs an engine made by vwasm.limits.engine_for")
    return pack(description, source, compile_module(engine, source))


def load_precompiled(engine: wasmtime.Engine, data: bytes, allowed: bool = False) -> wasmtime.Module:
    """A .cwasm file's module, checked: made by vwasm for this wasmtime and these engine settings,
    and intact. Anything else is a ModuleError (one line). Its code is trusted (see the docstring):
    as `wasmtime run`, only with `allowed` (--allow-precompiled)."""
    if not allowed:
        raise ModuleError("a precompiled module is native code, trusted as it is: run it with "
                          "--allow-precompiled if you compiled it yourself (vwasm compile)")
    try:
        found, _, payload = unpack(data)
    except ValueError as e:
        raise ModuleError(f"bad precompiled module: {e}") from None
    wanted = engine_description(engine)
    if found != wanted:
        differ = [f"{was} (this run needs {now})" for was, now in zip(found.split("; "), wanted.split("; ")) if was != now]
        raise ModuleError(f"precompiled for another engine: {', '.join(differ) or found}; compile it again "
                          "(vwasm compile, with --with-fuel / --with-timeout for run --fuel / --timeout)")
    try:
        return _deserialize(engine, payload)
    except wasmtime.WasmtimeError as e:
        raise ModuleError(f"bad precompiled module: {cause(e)}") from None


def compile_main(source_path: str, output: str | None, fuel: bool, epochs: bool) -> int:
    """`vwasm compile FILE.wasm [-o FILE.cwasm]`: written whole, then renamed into place."""
    output = output or os.path.splitext(source_path)[0] + ".cwasm"
    try:
        with open(source_path, "rb") as f:
            source = f.read()
    except OSError as e:
        raise FileNotFoundError(f"cannot read {source_path}: {e.strerror}") from None
    # the engine `vwasm run` builds for --fuel / --timeout (limits.engine_for reads only these two)
    wanted = SimpleNamespace(fuel=1 if fuel else None, timeout=1.0 if epochs else None)
    try:
        data = precompile(limits.engine_for(wanted), source)
    except ModuleError as e:
        raise ValueError(f"{source_path}: {e}") from None
    tmp = f"{output}.{os.getpid()}-{os.urandom(6).hex()}.tmp"  # a new file: never one planted there
    try:
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644),
                       "wb") as f:
            f.write(data)
        os.replace(tmp, output)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise FileNotFoundError(f"cannot write {output}: {e.strerror}") from None
    return 0


def clear_main() -> int:
    """`vwasm cache clear`: removes every entry, printing each and a total."""
    cache = CompileCache()
    removed = cache.clear()
    for path, _ in removed:
        print(f"removed {path}")
    total = sum(size for _, size in removed)
    print(f"vwasm: cache cleared: {len(removed)} entries, {total} bytes removed from {cache.directory}"
          + (f" ({cache.refused})" if cache.refused else ""))
    return 0
