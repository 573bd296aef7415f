"""Handlers by area. Each is named after its import and called as `handler(cx, *raw_args) -> errno`.

Handlers decode guest memory through `cx.mem`, name descriptors through `cx.fds`, and reach the world
only through `cx.host`; they return an errno or raise `WasiError`. An import with no handler here is
still linked and answers ENOSYS (see `vwasm.abi`).
"""
from vwasm.model.wasi import SIGNATURES

from . import args_env, clock_random, fd, poll, proc

_AREAS = [args_env, clock_random, fd, poll, proc]
for _optional in ("path", "sock"):
    try:
        _AREAS.append(__import__(f"{__name__}.{_optional}", fromlist=["_"]))
    except ModuleNotFoundError as e:  # an area not written yet answers ENOSYS
        if e.name != f"{__name__}.{_optional}":
            raise

HANDLERS = {name: getattr(area, name) for area in _AREAS for name in SIGNATURES if hasattr(area, name)}
