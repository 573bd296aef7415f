"""In-process standard streams: stdin from bytes, stdout/stderr to a callback.

They stand in for an OS fd where the embedder asked for one; PosixHost sends reads and writes on a
non-int handle here.
"""
from __future__ import annotations

from typing import Callable

from vwasm.model.wasi import Errno, WasiError


class BytesInput:
    """A stdin that yields fixed bytes, then end-of-file."""

    def __init__(self, data: bytes) -> None:
        self._data = memoryview(bytes(data))
        self._at = 0

    def readv(self, bufs) -> int:
        got = 0
        for buf in bufs:
            chunk = self._data[self._at:self._at + len(buf)]
            buf[:len(chunk)] = chunk
            self._at += len(chunk)
            got += len(chunk)
            if len(chunk) < len(buf):
                break
        return got

    def writev(self, bufs) -> int:
        raise WasiError(Errno.BADF)

    def pending(self) -> bool:
        return True  # a read never blocks: data or end-of-file


class CallbackOutput:
    """A stdout/stderr that hands every write to a Python callable."""

    def __init__(self, callback: Callable[[bytes], object]) -> None:
        self._callback = callback

    def writev(self, bufs) -> int:
        data = b"".join(bufs)
        if data:
            self._callback(data)
        return len(data)

    def readv(self, bufs) -> int:
        raise WasiError(Errno.BADF)

    def pending(self) -> bool:
        return True
