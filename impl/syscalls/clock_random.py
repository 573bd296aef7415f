"""clock_res_get, clock_time_get, random_get."""
from vwasm.model.wasi import SUCCESS, Clockid, Errno, WasiError


_CLOCK_IDS = frozenset(map(int, Clockid))  # plain ints: an int finds an enum member only by a slower comparison


def clock_id(raw: int) -> int:
    """The four preview1 clocks; any other id is EINVAL."""
    if raw not in _CLOCK_IDS:
        raise WasiError(Errno.INVAL)
    return raw


def clock_res_get(cx, clock: int, resolution_ptr: int) -> int:
    cx.mem.put_u64(resolution_ptr, cx.host.clock_res(clock_id(clock)))
    return SUCCESS


def clock_time_get(cx, clock: int, precision: int, time_ptr: int) -> int:
    if clock not in _CLOCK_IDS:  # clock_id, inline: the cheapest call there is, and the most frequent
        raise WasiError(Errno.INVAL)
    cx.mem.put_u64(time_ptr, cx.host.clock_time(clock))
    return SUCCESS


def random_get(cx, buf: int, length: int) -> int:
    out = cx.mem.slice(buf, length)
    out[:] = cx.host.random(length)
    return SUCCESS
