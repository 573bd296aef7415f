"""clock_res_get, clock_time_get, random_get."""
from vwasm.model.wasi import Clockid, Errno, WasiError


def clock_id(raw: int) -> Clockid:
    """The four preview1 clocks; any other id is EINVAL."""
    try:
        return Clockid(raw)
    except ValueError:
        raise WasiError(Errno.INVAL) from None


def clock_res_get(cx, clock: int, resolution_ptr: int) -> int:
    cx.mem.check(resolution_ptr, 8, 8)
    cx.mem.put_u64(resolution_ptr, cx.host.clock_res(clock_id(clock)))
    return Errno.SUCCESS


def clock_time_get(cx, clock: int, precision: int, time_ptr: int) -> int:
    cx.mem.check(time_ptr, 8, 8)
    cx.mem.put_u64(time_ptr, cx.host.clock_time(clock_id(clock)))
    return Errno.SUCCESS


def random_get(cx, buf: int, length: int) -> int:
    out = cx.mem.slice(buf, length)
    out[:] = cx.host.random(length)
    return Errno.SUCCESS
