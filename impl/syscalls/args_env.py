"""args_* and environ_*: the strings the embedder granted, copied out NUL-terminated."""
from vwasm.model.wasi import SUCCESS


def _sizes(cx, items: list[bytes], count_ptr: int, size_ptr: int) -> int:
    cx.mem.check(count_ptr, 4, 4)
    cx.mem.check(size_ptr, 4, 4)
    cx.mem.put_u32(count_ptr, len(items))
    cx.mem.put_u32(size_ptr, sum(map(len, items)) + len(items))  # each string and its NUL
    return SUCCESS


def args_sizes_get(cx, argc_ptr: int, buf_size_ptr: int) -> int:
    return _sizes(cx, cx.args, argc_ptr, buf_size_ptr)


def args_get(cx, argv_ptr: int, buf_ptr: int) -> int:
    cx.mem.strings(cx.args, argv_ptr, buf_ptr)
    return SUCCESS


def environ_sizes_get(cx, count_ptr: int, buf_size_ptr: int) -> int:
    return _sizes(cx, cx.env, count_ptr, buf_size_ptr)


def environ_get(cx, environ_ptr: int, buf_ptr: int) -> int:
    cx.mem.strings(cx.env, environ_ptr, buf_ptr)
    return SUCCESS
