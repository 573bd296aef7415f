"""Handlers by area. Each is named after its import and called as `handler(cx, *raw_args) -> errno`.

Handlers decode guest memory through `cx.mem`, name descriptors through `cx.fds`, and reach the world
only through `cx.host`; they return an errno or raise `WasiError`.
"""
from vwasm.model.wasi import SIGNATURES

from . import args_env, clock_random, fd, path, poll, proc, sock

_AREAS = (args_env, clock_random, fd, path, poll, proc, sock)

HANDLERS = {name: getattr(area, name) for area in _AREAS for name in SIGNATURES if hasattr(area, name)}
# Every import of the signature table has exactly one handler.
assert HANDLERS.keys() == SIGNATURES.keys(), sorted(SIGNATURES.keys() - HANDLERS.keys())
