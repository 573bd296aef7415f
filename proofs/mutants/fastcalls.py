"""Planted bugs in the C entries of the cheapest calls (host.fastcalls): edits of `impl/fastcalls.c`
as the obligation builds it, and of the rule choosing where the entries are used."""
from __future__ import annotations

from proofs.core import mutant, patch

FAST = ("host.fastcalls",)


def _edit(old: str, new: str) -> None:
    """The obligation builds the C source with `old` replaced by `new` (which must occur: a stale
    mutant is an error, not a kill)."""
    from proofs.host import fastcalls
    real = fastcalls.c_source
    if old not in real():
        raise AssertionError(f"mutant target text not in fastcalls.c: {old!r}")
    patch(fastcalls, "c_source", lambda: real().replace(old, new))


@mutant("fast_alignment_unchecked", breaks="1 memory isolation: a misaligned clock pointer is written to, where "
        "the handler traps", killers=FAST)
def fast_alignment_unchecked():
    """Bug in the C entries' pointer test: only 4-byte alignment asked of a u64 pointer."""
    _edit("return guest_bytes(caller, ptr, 8, 8);", "return guest_bytes(caller, ptr, 8, 4);")


@mutant("fast_clocks_swapped", breaks="WASI semantics: clock_time_get(REALTIME) reads the monotonic clock",
        killers=FAST)
def fast_clocks_swapped():
    """Bug in the C entries' clock table: the first two preview1 ids mapped the wrong way round."""
    _edit("{CLOCK_REALTIME, CLOCK_MONOTONIC,", "{CLOCK_MONOTONIC, CLOCK_REALTIME,")


@mutant("fast_big_endian", breaks="WASI semantics: the time is stored in the host's other byte order", killers=FAST)
def fast_big_endian():
    """Bug in storing a result: the value's bytes reversed."""
    _edit("memcpy(slot, &value, 8);", "value = __builtin_bswap64(value); memcpy(slot, &value, 8);")


@mutant("fast_errno_not_set", breaks="WASI semantics: a successful clock read answers whatever the result slot "
        "held (the clock id) instead of SUCCESS", killers=FAST)
def fast_errno_not_set():
    """Bug in answering: the result slot is not written."""
    _edit("static size_t success(uint64_t *raw) {\n    raw[0] = 0;", "static size_t success(uint64_t *raw) {")


@mutant("fast_wrong_argument", breaks="1 memory isolation: clock_time_get writes where its precision points, not "
        "its time pointer", killers=FAST)
def fast_wrong_argument():
    """Bug in decoding the raw arguments: clock_time_get's pointer read from the precision's slot."""
    _edit("u64_slot(caller, arg_u32(raw, 2))", "u64_slot(caller, arg_u32(raw, 1))")


@mutant("fast_used_in_audit", breaks="audit mode misses calls: the C entries answer clock reads it must trace",
        killers=FAST)
def fast_used_in_audit():
    """Bug in choosing where the entries stand in: any host, audit mode too."""
    from vwasm import fastcalls
    patch(fastcalls, "serving", lambda host, audit, only=None: fastcalls.library())


@mutant("fast_end_unchecked", breaks="1 memory isolation: a clock pointer at or past the end of memory is written "
        "to, outside the guest's memory", killers=FAST)
def fast_end_unchecked():
    """Bug in the C entries' bounds test: none (the write lands past the end of linear memory)."""
    _edit("if ((uint64_t)ptr + len > api.memory_data_size(context, memory))\n        return NULL;", "")


@mutant("fast_seek_rights_unchecked", breaks="rights: fd_seek moves a descriptor that holds only the right to ask "
        "where it is (the handler: ENOTCAPABLE)", killers=FAST)
def fast_seek_rights_unchecked():
    """Bug in the offset entries' descriptor test: the rights are read but never compared."""
    _edit(" && (need.rights & ~held) == 0", " && ((void)held, 1)")  # held read, so it builds


@mutant("fast_seek_rights_swapped", breaks="rights: fd_seek moves a descriptor that holds only the right to ask "
        "where it is, and refuses a query to one that holds only the right to move", killers=FAST)
def fast_seek_rights_swapped():
    """Bug in fd_seek's entry: a query asks for the right to move, a move for the right to ask."""
    _edit("e->need[!(offset == 0 && whence == SEEK_CUR)]", "e->need[offset == 0 && whence == SEEK_CUR]")


@mutant("fast_seek_stale_descriptor", breaks="fd isolation: fd_seek moves the host fd a guest number named once, "
        "after the number was closed or renumbered onto another file", killers=FAST)
def fast_seek_stale_descriptor():
    """Bug in the offset entries: the first lookup's host fd is remembered, as a copy of the table would be
    if it were not kept in step."""
    _edit("static int host_fd(const struct files *files, uint32_t fd, struct need need) {\n",
          "static int host_fd(const struct files *files, uint32_t fd, struct need need) {\n    static int first = -1;\n"
          "    if (first >= 0) return first;\n")
    _edit("    return (kind & need.kinds)",
          "    if (shown[0] >= 0 && (kind & need.kinds) && (need.rights & ~held) == 0) first = (int)shown[0];\n"
          "    return (kind & need.kinds)")


@mutant("fast_kept_position_ignored", breaks="WASI semantics: fd_tell and fd_seek answer the kernel's offset of a "
        "file whose position PosixHost keeps (reads and writes move the one, seeks the other)", killers=FAST)
def fast_kept_position_ignored():
    """Bug in the offset entries: every file's position taken to be the kernel's."""
    _edit("positions[h] < 0 ? &positions[h] : NULL;", "positions[h] < 0 ? NULL : NULL;")


@mutant("fast_seek_not_kept", breaks="WASI semantics: fd_seek answers the new position of a file whose position "
        "PosixHost keeps, but leaves the position where it was", killers=FAST)
def fast_seek_not_kept():
    """Bug in fd_seek's entry: the new position is computed, never stored."""
    _edit("    *kept = ~at;\n", "")


@mutant("fast_end_from_position", breaks="WASI semantics: fd_seek(END) counts from the file's position, not its "
        "size", killers=FAST)
def fast_end_from_position():
    """Bug in fd_seek's entry: END takes the base CUR takes."""
    _edit("whence == SEEK_CUR ? ~*kept :", "whence != SEEK_SET ? ~*kept :")


@mutant("fast_negative_position", breaks="WASI semantics: fd_seek moves a kept position before the start of the "
        "file, where the handler answers EINVAL", killers=FAST)
def fast_negative_position():
    """Bug in fd_seek's entry: a negative new position is stored and answered."""
    _edit("|| __builtin_add_overflow(base, offset, &at) || at < 0)", "|| __builtin_add_overflow(base, offset, &at))")


@mutant("fast_whence_unchecked", breaks="WASI semantics: fd_seek with an undefined whence (3: Linux's SEEK_DATA) "
        "succeeds, where the handler answers EINVAL", killers=FAST)
def fast_whence_unchecked():
    """Bug in fd_seek's entry: the whence is passed to lseek(2) unchecked."""
    _edit("if (whence <= SEEK_END) {", "if (1) {")



@mutant("fast_pool_kept_across_fork", breaks="randomness: a forked child hands out the random bytes its parent "
        "fetched, so parent and child guests draw the same bytes", killers=FAST)
def fast_pool_kept_across_fork():
    """Bug in random_get's pool: its page is not marked MADV_WIPEONFORK."""
    _edit("page != MAP_FAILED && madvise(page, sizeof *pool, MADV_WIPEONFORK) == 0", "page != MAP_FAILED")


@mutant("fast_pool_bytes_reused", breaks="randomness: random_get hands out the same pool bytes again and again",
        killers=FAST)
def fast_pool_bytes_reused():
    """Bug in drawing from random_get's pool: always from its start, not from what is left."""
    _edit("memcpy(out, pool->bytes + pool->left, len);", "memcpy(out, pool->bytes, len);")


@mutant("fast_pool_lock_kept", breaks="5 no host crash: random_get's pool is never unlocked, so the second draw "
        "waits forever (the host hangs)", killers=FAST)
def fast_pool_lock_kept():
    """Bug in drawing from random_get's pool: the lock is not released."""
    _edit("__atomic_store_n(&pool->lock, 0, __ATOMIC_RELEASE);", "")


@mutant("fast_fdstat_rights_swapped", breaks="rights: fd_fdstat_get reports a descriptor's inheriting rights as its "
        "own and the other way round", killers=FAST)
def fast_fdstat_rights_swapped():
    """Bug in fd_fdstat_get's record: the two rights fields written in each other's place."""
    _edit("memcpy(record + 8, &base, 8);\n        memcpy(record + 16, &inheriting, 8);",
          "memcpy(record + 8, &inheriting, 8);\n        memcpy(record + 16, &base, 8);")


@mutant("fast_poll_no_wait", breaks="WASI semantics: poll_oneoff reports a relative clock at once, before its "
        "timeout has passed (sleep returns early)", killers=FAST)
def fast_poll_no_wait():
    """Bug in telling a clock is due: any relative timeout taken as passed."""
    _edit("return timeout == 0;", "return true;")


@mutant("fast_poll_absolute_reversed", breaks="WASI semantics: poll_oneoff reports an absolute clock before its "
        "time, and leaves one already passed to a wait", killers=FAST)
def fast_poll_absolute_reversed():
    """Bug in comparing an absolute time with the clock: the comparison the wrong way round."""
    _edit("timeout <= nanoseconds(&now)", "timeout >= nanoseconds(&now)")


@mutant("fast_poll_first_of_many", breaks="WASI semantics: poll_oneoff of several subscriptions reports only the "
        "first one's event, dropping the others that are ready", killers=FAST)
def fast_poll_first_of_many():
    """Bug in writing the events: only the first subscription is reported on."""
    _edit("        for (uint32_t i = 0; i < n; i++) {\n            const uint8_t *sub", "        for (uint32_t i = 0; i < 1; i++) {\n            const uint8_t *sub")


@mutant("fast_poll_kind_unchecked", breaks="WASI semantics: poll_oneoff answers a regular file's read without its "
        "end-of-file flag, and a stream watched for what it cannot do (stdin for writing) where the handler "
        "answers EBADF", killers=FAST)
def fast_poll_kind_unchecked():
    """Bug in the table entries' descriptor test: the kind is read but never compared."""
    _edit("(kind & need.kinds) &&", "((void)kind, 1) &&")  # kind read, so it builds


@mutant("fast_poll_conditions_swapped", breaks="rights: poll_oneoff watches a descriptor for reading with the "
        "right to write, and for writing with the right to read", killers=FAST)
def fast_poll_conditions_swapped():
    """Bug in poll_oneoff's entry: a read subscription asks what a write needs, and the other way round."""
    _edit("e->need[tag == TAG_WRITE]", "e->need[tag == TAG_READ]")


@mutant("fast_poll_hangup_unready", breaks="WASI semantics: poll_oneoff does not report a stream whose writer "
        "is gone as ready (a reader waits forever for the end-of-file it would read)", killers=FAST)
def fast_poll_hangup_unready():
    """Bug in poll_oneoff's entry: only the condition asked for counts, not a hang-up or an error."""
    _edit("watch[i].revents & (watch[i].events | POLLHUP | POLLERR)", "watch[i].revents & watch[i].events")


@mutant("fast_poll_never_waits", breaks="WASI semantics: poll_oneoff of streams none of which is ready answers "
        "at once with no events, where it must wait until one is", killers=FAST)
def fast_poll_never_waits():
    """Bug in poll_oneoff's entry: a poll that found nothing is answered, not handed to the handler."""
    _edit("        if (ready) {\n", "        if (1) {\n")
