/* The cheapest WASI calls served without entering Python's interpreter: each entry is a wasmtime
 * unchecked host callback that handles only its call's common, successful case -- a known clock, a
 * file descriptor holding the right, an aligned pointer whose bytes lie in the caller's memory --
 * exactly as the Python handler would, and hands every other case (an unknown clock, a descriptor
 * that is no file or lacks the right, a pointer that traps) to that handler's own callback, so
 * errnos and traps are always the Python handler's. vwasm/fastcalls.py loads this library and says
 * which imports may use it; proofs/host/fastcalls.py checks each entry against its handler.
 *
 * The clock and random entries need no sandbox state; their `env` is the handler's callback. The
 * descriptor entries' `env` is a `table_env`. fd_seek, fd_tell and poll_oneoff read the table's
 * files, streams and sockets as the FdTable itself shows them (`struct files`, rewritten by the table
 * at every change, compared with it after every call by the obligations), and fd_seek and fd_tell
 * PosixHost's file positions, without the GIL: taking it costs more than the call. fd_fdstat_get reads the Python FdTable's entry under the GIL. The four
 * wasmtime functions used are given by address, with the layout of wasmtime_extern_t, by
 * vwasm_fast_init (from wasmtime-py's own bindings): no wasmtime header.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>  /* first, as Python asks; it sets the POSIX feature macros this file needs */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <poll.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "wasm memory is little-endian: values are stored with memcpy, so the host must be too"
#endif

typedef size_t (*callback_t)(void *env, void *caller, uint64_t *raw, size_t count);
typedef bool (*export_get_t)(void *caller, const char *name, size_t name_len, void *item);
typedef void *(*caller_context_t)(void *caller);
typedef uint8_t *(*memory_data_t)(const void *context, const void *memory);
typedef size_t (*memory_data_size_t)(const void *context, const void *memory);

enum { EXTERN_ROOM = 64 };  /* bytes for one wasmtime_extern_t (checked at init) */

static struct {
    export_get_t export_get;
    caller_context_t caller_context;
    memory_data_t memory_data;
    memory_data_size_t memory_data_size;
    size_t of_offset;     /* offsetof(wasmtime_extern_t, of) */
    uint8_t memory_kind;  /* WASMTIME_EXTERN_MEMORY */
    size_t stride;        /* u64 words per wasmtime_val_raw_t */
} api;

/* Calls answered here: a count, so tests and obligations can tell the fast path was taken. */
static uint64_t served;

/* The attribute names read, made by vwasm_fast_init. */
enum { FDS, TABLE, RIGHTS, INHERITING, FILETYPE, FDFLAGS, N_NAMES };
static PyObject *names[N_NAMES];
static const char *const NAME_TEXT[] = {"fds", "_fds", "rights_base", "rights_inheriting", "filetype",
                                        "fdflags"};

/* A new reference to `object.names[which]`, or NULL (also for no object). */
static PyObject *attribute(PyObject *object, int which) {
    return object ? PyObject_GetAttr(object, names[which]) : NULL;
}

static void pool_init(void);

/* PosixHost's file positions (vwasm/posix_host.py's POSITIONS): for OS fd h below n_positions,
 * positions[h] < 0 is ~position of a file whose position is kept in user space; anything else means
 * the kernel keeps it. Only the thread running the store that owns h reads or moves positions[h]. */
static int64_t *positions;
static uint64_t n_positions;

int vwasm_fast_init(void *export_get, void *caller_context, void *memory_data, void *memory_data_size,
                    size_t extern_size, size_t of_offset, unsigned memory_kind, size_t raw_size,
                    int64_t *kept_positions, uint64_t n_kept) {
    if (extern_size > EXTERN_ROOM || raw_size % 8 != 0 || raw_size == 0 || !kept_positions)
        return -1;
    positions = kept_positions;
    n_positions = n_kept;
    api.export_get = (export_get_t)export_get;
    api.caller_context = (caller_context_t)caller_context;
    api.memory_data = (memory_data_t)memory_data;
    api.memory_data_size = (memory_data_size_t)memory_data_size;
    api.of_offset = of_offset;
    api.memory_kind = (uint8_t)memory_kind;
    api.stride = raw_size / 8;
    PyGILState_STATE gil = PyGILState_Ensure();  /* ctypes calls this without it */
    int made = 0;
    for (int i = 0; i < N_NAMES; i++)
        made += names[i] || (names[i] = PyUnicode_InternFromString(NAME_TEXT[i]));
    PyErr_Clear();
    PyGILState_Release(gil);
    pool_init();
    return made == N_NAMES ? 0 : -1;
}

uint64_t vwasm_fast_served(void) {
    return __atomic_load_n(&served, __ATOMIC_RELAXED);
}

/* Argument j, an i32, as the unsigned 32-bit value the Python glue masks it to. */
static uint32_t arg_u32(const uint64_t *raw, size_t j) {
    return (uint32_t)raw[j * api.stride];
}

/* The `len` bytes at guest address `ptr` of the calling instance's exported memory, or NULL when
 * the Python handler must decide: no memory export, `ptr` not a multiple of `align` (a power of
 * two), or bytes past the end. */
static uint8_t *guest_bytes(void *caller, uint32_t ptr, uint32_t len, uint32_t align) {
    _Alignas(16) uint8_t item[EXTERN_ROOM];
    if (ptr & (align - 1))
        return NULL;
    if (!api.export_get(caller, "memory", 6, item) || item[0] != api.memory_kind)
        return NULL;
    const void *context = api.caller_context(caller);
    const void *memory = item + api.of_offset;
    if ((uint64_t)ptr + len > api.memory_data_size(context, memory))
        return NULL;
    return api.memory_data(context, memory) + ptr;
}

/* The 8 bytes of a u64 result at `ptr`. */
static uint8_t *u64_slot(void *caller, uint32_t ptr) {
    return guest_bytes(caller, ptr, 8, 8);
}

/* The preview1 clock ids, in order, as POSIX clocks. */
static const clockid_t CLOCKS[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID,
                                   CLOCK_THREAD_CPUTIME_ID};
enum { N_CLOCKS = sizeof CLOCKS / sizeof CLOCKS[0] };

static uint64_t nanoseconds(const struct timespec *ts) {
    return (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
}

/* Answer SUCCESS (the call's effects are done). */
static size_t success(uint64_t *raw) {
    raw[0] = 0;
    __atomic_add_fetch(&served, 1, __ATOMIC_RELAXED);
    return 0;
}

/* Store `value` at `slot` and answer SUCCESS. */
static size_t succeed(uint64_t *raw, uint8_t *slot, uint64_t value) {
    memcpy(slot, &value, 8);
    return success(raw);
}

/* clock_time_get(id: u32, precision: u64, time: ptr<u64>) -> errno */
size_t vwasm_clock_time_get(void *env, void *caller, uint64_t *raw, size_t count) {
    uint32_t id = arg_u32(raw, 0);
    struct timespec ts;
    if (id < N_CLOCKS) {
        uint8_t *slot = u64_slot(caller, arg_u32(raw, 2));
        if (slot && clock_gettime(CLOCKS[id], &ts) == 0)
            return succeed(raw, slot, nanoseconds(&ts));
    }
    return ((callback_t)env)(NULL, caller, raw, count);
}

/* clock_res_get(id: u32, resolution: ptr<u64>) -> errno; a resolution is never 0. */
size_t vwasm_clock_res_get(void *env, void *caller, uint64_t *raw, size_t count) {
    uint32_t id = arg_u32(raw, 0);
    struct timespec ts;
    if (id < N_CLOCKS) {
        uint8_t *slot = u64_slot(caller, arg_u32(raw, 1));
        if (slot && clock_getres(CLOCKS[id], &ts) == 0) {
            uint64_t ns = nanoseconds(&ts);
            return succeed(raw, slot, ns ? ns : 1);
        }
    }
    return ((callback_t)env)(NULL, caller, raw, count);
}

/* sched_yield() -> errno: nothing to do (as the Python handler). */
size_t vwasm_sched_yield(void *env, void *caller, uint64_t *raw, size_t count) {
    (void)env, (void)caller, (void)count;
    return success(raw);
}

/* --- random bytes: the kernel's, fetched a page at a time ------------------------------------ */

/* A system call costs ~0.7 µs here, and wasmtime's random_get draws from a user-space generator in
 * ~0.2 µs. The kernel stays the only generator; its bytes are fetched ahead instead: a page of
 * getrandom(2) output, handed out from its end, each byte once (zeroed as it goes: no byte given to a
 * guest stays in this process), refilled when it runs short. The page is MADV_WIPEONFORK, so a forked
 * child finds it zeroed -- empty and unlocked -- and draws its own bytes, never its parent's. Without
 * that madvise (Linux before 4.14) there is no pool and every draw is a getrandom(2). One pool for
 * the process, under a lock kept in the page: the threads' sandboxes never get the same bytes. */
enum { POOL_BYTES = 4096 - 2 * sizeof(size_t), SMALL_DRAW = 256 };
static struct pool {
    size_t lock;  /* 0: free */
    size_t left;  /* bytes not yet handed out: bytes[0, left) */
    uint8_t bytes[POOL_BYTES];
} *pool;

_Static_assert(sizeof(struct pool) == 4096, "the pool is one page");

/* Pool refills: a count, so obligations can tell the pool is in use. */
static uint64_t refills;

uint64_t vwasm_fast_refills(void) {
    return __atomic_load_n(&refills, __ATOMIC_RELAXED);
}

static void pool_init(void) {
    if (pool)
        return;
    void *page = mmap(NULL, sizeof *pool, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page != MAP_FAILED && madvise(page, sizeof *pool, MADV_WIPEONFORK) == 0)
        pool = page;
    else if (page != MAP_FAILED)
        munmap(page, sizeof *pool);
}

/* Fill out[0, len) with bytes of the kernel's generator; whether it did (it may not: a short
 * getrandom(2), which only a signal causes). Exported for the obligation's fork check. */
bool vwasm_fast_random(uint8_t *out, uint32_t len) {
    if (!pool || len > SMALL_DRAW)
        return getrandom(out, len, 0) == (ssize_t)len;
    while (__atomic_exchange_n(&pool->lock, 1, __ATOMIC_ACQUIRE))
        sched_yield();
    bool ok = pool->left >= len;
    if (!ok && getrandom(pool->bytes, POOL_BYTES, 0) == (ssize_t)POOL_BYTES) {
        pool->left = POOL_BYTES;
        ok = true;
        __atomic_add_fetch(&refills, 1, __ATOMIC_RELAXED);
    }
    if (ok) {
        pool->left -= len;
        memcpy(out, pool->bytes + pool->left, len);
        memset(pool->bytes + pool->left, 0, len);
    }
    __atomic_store_n(&pool->lock, 0, __ATOMIC_RELEASE);
    return ok;
}

/* random_get(buf: ptr<u8>, len: u32) -> errno */
size_t vwasm_random_get(void *env, void *caller, uint64_t *raw, size_t count) {
    uint32_t len = arg_u32(raw, 1);
    uint8_t *buf = guest_bytes(caller, arg_u32(raw, 0), len, 1);
    if (buf && vwasm_fast_random(buf, len))
        return success(raw);
    return ((callback_t)env)(NULL, caller, raw, count);
}

/* --- the descriptor calls ------------------------------------------------------------------- */

/* A store's files -- regular files, streams and sockets -- as its FdTable shows them here
 * (vwasm/fdtable.py's Files, rewritten by the table at every change): for every n below count,
 * words[3 n] is the host fd of the descriptor numbered n (IN_PROCESS: a stream PosixHost keeps in
 * Python, bytes or a callback), words[3 n + 1] its base rights and words[3 n + 2] its kind's bit
 * (fdtable.py's SHOWN_KINDS); NOTHING, 0, 0 for a number with nothing shown. Read without the GIL,
 * on the thread running the store's call. */
struct files {
    const int64_t *words;
    uint64_t count;
};
enum { WORDS = 3, NOTHING = -1, IN_PROCESS = -2 };

/* What an entry asks of a descriptor in each of its two cases (fd_seek: a query of the offset, a move
 * of it; poll_oneoff: a read subscription, a write one): the base rights it must hold (model/rights.py)
 * and the kinds it may be (a mask of SHOWN_KINDS bits). Any other descriptor is the handler's. */
struct need {
    uint64_t rights;
    uint64_t kinds;
};

/* What a descriptor entry's `env` points to (made by vwasm/fastcalls.py, one per import per store). */
struct table_env {
    callback_t fallback;         /* the import's Python callback */
    PyObject *context;           /* the store's vwasm Context (its `fds`: the FdTable); kept alive by Python */
    struct need need[2];
    const struct files *files;   /* the Context's FdTable's `files` */
};

/* The host fd of guest descriptor `fd` -- an OS fd, or IN_PROCESS -- if it is of a kind `need` allows
 * and its base rights hold every right `need` asks; otherwise NOTHING. (The table writes a shown
 * number's host fd as an int's, IN_PROCESS or an OS fd, and NOTHING with no kind.) */
static int host_fd(const struct files *files, uint32_t fd, struct need need) {
    if (fd >= files->count)
        return NOTHING;
    const int64_t *shown = files->words + WORDS * (size_t)fd;
    uint64_t held = (uint64_t)shown[1], kind = (uint64_t)shown[2];
    return (kind & need.kinds) && (need.rights & ~held) == 0 ? (int)shown[0] : NOTHING;
}

/* fd_seek on guest descriptor `fd`, as `need` asks: the new position, or -1 (the handler then
 * decides). A position kept in user space moves as PosixHost.seek moves it: to any new position in
 * [0, 2**63), END from fstat's size; any other is the kernel's, moved by lseek(2). wasm's whence
 * values are POSIX's (SET 0, CUR 1, END 2), as PosixHost.seek passes them on. */
static int64_t seek(const struct files *files, uint32_t fd, int64_t offset, int whence, struct need need) {
    int h = host_fd(files, fd, need);
    if (h < 0)  /* NOTHING, or IN_PROCESS: no file has it */
        return -1;
    int64_t *kept = (uint64_t)h < n_positions && positions[h] < 0 ? &positions[h] : NULL;
    if (!kept)
        return lseek(h, offset, whence);
    struct stat st;
    int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? ~*kept : fstat(h, &st) == 0 ? st.st_size : -1;
    int64_t at;
    if (base < 0 || __builtin_add_overflow(base, offset, &at) || at < 0)
        return -1;
    *kept = ~at;
    return at;
}

_Static_assert(SEEK_SET == 0 && SEEK_CUR == 1 && SEEK_END == 2, "wasm's whence values are POSIX's");

/* fd_seek(fd: u32, offset: s64, whence: u8, newoffset: ptr<u64>) -> errno */
size_t vwasm_fd_seek(void *env, void *caller, uint64_t *raw, size_t count) {
    const struct table_env *e = env;
    int64_t offset = (int64_t)raw[api.stride];
    uint32_t whence = arg_u32(raw, 2);
    if (whence <= SEEK_END) {
        uint8_t *slot = u64_slot(caller, arg_u32(raw, 3));
        struct need need = e->need[!(offset == 0 && whence == SEEK_CUR)];  /* a query, or a move */
        int64_t at = slot ? seek(e->files, arg_u32(raw, 0), offset, (int)whence, need) : -1;
        if (at >= 0)
            return succeed(raw, slot, (uint64_t)at);
    }
    return e->fallback(NULL, caller, raw, count);
}

/* fd_tell(fd: u32, offset: ptr<u64>) -> errno */
size_t vwasm_fd_tell(void *env, void *caller, uint64_t *raw, size_t count) {
    const struct table_env *e = env;
    uint8_t *slot = u64_slot(caller, arg_u32(raw, 1));
    int64_t at = slot ? seek(e->files, arg_u32(raw, 0), 0, SEEK_CUR, e->need[0]) : -1;
    if (at >= 0)
        return succeed(raw, slot, (uint64_t)at);
    return e->fallback(NULL, caller, raw, count);
}

/* A new reference to guest descriptor `fd`: the entry of the Context's FdTable, or NULL. */
static PyObject *descriptor(PyObject *context, uint32_t fd) {
    PyObject *table = attribute(context, FDS);
    PyObject *fds = attribute(table, TABLE);
    PyObject *key = PyLong_FromUnsignedLong(fd);
    PyObject *desc = fds && key && PyDict_CheckExact(fds) ? PyDict_GetItemWithError(fds, key) : NULL;  /* borrowed */
    Py_XINCREF(desc);
    Py_XDECREF(key), Py_XDECREF(fds), Py_XDECREF(table);
    return desc;
}

/* Attribute `which` of `desc` into *out if it is an int (an IntEnum's too) in [0, max]; whether it is. */
static bool number(PyObject *desc, int which, uint64_t max, uint64_t *out) {
    PyObject *value = attribute(desc, which);
    bool ok = value && PyLong_Check(value);
    if (ok) {
        *out = PyLong_AsUnsignedLongLong(value);
        ok = !PyErr_Occurred() && *out <= max;
    }
    Py_XDECREF(value);
    return ok;
}

/* The fdstat record of guest descriptor `fd` into `slot`, laid out as model/wasi.py's FDSTAT (filetype
 * u8 at 0, flags u16 at 2, rights_base u64 at 8, rights_inheriting u64 at 16, the rest zero: checked
 * byte for byte against the handler); whether `fd` is open. Called with the GIL held; leaves no
 * Python error set. */
enum { FDSTAT_SIZE = 24 };
static bool fdstat(PyObject *context, uint32_t fd, uint8_t *slot) {
    PyObject *desc = descriptor(context, fd);
    uint64_t filetype, flags, base, inheriting;
    bool ok = number(desc, FILETYPE, UINT8_MAX, &filetype) && number(desc, FDFLAGS, UINT16_MAX, &flags)
              && number(desc, RIGHTS, UINT64_MAX, &base) && number(desc, INHERITING, UINT64_MAX, &inheriting);
    PyErr_Clear();
    Py_XDECREF(desc);
    if (ok) {
        uint8_t record[FDSTAT_SIZE] = {(uint8_t)filetype};
        uint16_t flags16 = (uint16_t)flags;
        memcpy(record + 2, &flags16, 2);
        memcpy(record + 8, &base, 8);
        memcpy(record + 16, &inheriting, 8);
        memcpy(slot, record, FDSTAT_SIZE);
    }
    return ok;
}

/* fd_fdstat_get(fd: u32, stat: ptr<fdstat>) -> errno: any open descriptor, no right needed. */
size_t vwasm_fd_fdstat_get(void *env, void *caller, uint64_t *raw, size_t count) {
    const struct table_env *e = env;
    uint8_t *slot = guest_bytes(caller, arg_u32(raw, 1), FDSTAT_SIZE, 8);
    if (slot) {
        PyGILState_STATE gil = PyGILState_Ensure();
        bool ok = fdstat(e->context, arg_u32(raw, 0), slot);
        PyGILState_Release(gil);
        if (ok)
            return success(raw);
    }
    return e->fallback(NULL, caller, raw, count);
}

/* poll_oneoff(in: ptr<subscription>, out: ptr<event>, n: u32, nevents: ptr<u32>) -> errno, when it
 * need not wait: each of its (at most POLL_MAX) subscriptions is a clock already due or a read or
 * write of a stream or socket (`need`), and some event is ready -- every clock is due, or poll(2)
 * with no timeout finds a stream ready, or a stream is kept in Python (always ready, as PosixHost.ready
 * says). This is what nanosleep(0) and POSIX poll() with a zero timeout send. The events are written
 * as the handler writes them: in subscription order, a due clock's all zeros but the userdata and
 * type, a ready stream's with nbytes 1 (wasmtime's "some"), an OS fd ready when poll(2) reports the
 * condition, a hang-up or an error. A poll that would wait, or that watches a regular file (whose read
 * event reports end-of-file), is the handler's: a wait in C could not be interrupted. Layouts as model/wasi.py's SUBSCRIPTION (its clock and fd bodies at 16) and EVENT. */
enum { SUBSCRIPTION_SIZE = 48, TAG_AT = 8, BODY_AT = 16, EVENT_SIZE = 32, TYPE_AT = 10, NBYTES_AT = 16,
       TAG_CLOCK = 0, TAG_READ = 1, TAG_WRITE = 2, ABSTIME = 1, POLL_MAX = 16 };

static bool clock_due(const uint8_t *clock) {
    uint32_t id;
    uint64_t timeout;
    uint16_t flags;
    memcpy(&id, clock, 4), memcpy(&timeout, clock + 8, 8), memcpy(&flags, clock + 24, 2);
    struct timespec now;
    if (id > 1 || flags > ABSTIME)  /* preview1's realtime and monotonic clocks are CLOCKS[0] and [1] */
        return false;
    if (!(flags & ABSTIME))
        return timeout == 0;
    return clock_gettime(CLOCKS[id], &now) == 0 && timeout <= nanoseconds(&now);
}

/* Whether C can answer subscription `sub`: a clock already due (`*watch` then watches nothing, fd
 * NOTHING), or a read or write of a descriptor `e` allows (`*watch` then polls its host fd for that
 * condition; poll(2) skips IN_PROCESS as it skips any negative fd). */
static bool watchable(const struct table_env *e, const uint8_t *sub, struct pollfd *watch) {
    uint8_t tag = sub[TAG_AT];
    uint32_t fd;
    memcpy(&fd, sub + BODY_AT, 4);
    *watch = (struct pollfd){.fd = NOTHING, .events = tag == TAG_READ ? POLLIN : POLLOUT};
    if (tag == TAG_CLOCK)
        return clock_due(sub + BODY_AT);
    if (tag != TAG_READ && tag != TAG_WRITE)
        return false;
    watch->fd = host_fd(e->files, fd, e->need[tag == TAG_WRITE]);
    return watch->fd != NOTHING;
}

size_t vwasm_poll_oneoff(void *env, void *caller, uint64_t *raw, size_t count) {
    const struct table_env *e = env;
    uint32_t n = arg_u32(raw, 2);
    const uint8_t *subs = NULL;
    uint8_t *out = NULL, *nevents = NULL;
    if (n <= POLL_MAX) {  /* none: nothing is ready, and the handler answers EINVAL */
        subs = guest_bytes(caller, arg_u32(raw, 0), n * SUBSCRIPTION_SIZE, 8);
        out = guest_bytes(caller, arg_u32(raw, 1), n * EVENT_SIZE, 8);
        nevents = guest_bytes(caller, arg_u32(raw, 3), 4, 4);
    }
    struct pollfd watch[POLL_MAX];
    bool servable = subs && out && nevents, polling = false;
    for (uint32_t i = 0; servable && i < n; i++) {
        servable = watchable(e, subs + i * SUBSCRIPTION_SIZE, &watch[i]);
        polling |= watch[i].fd >= 0;
    }
    if (servable && (!polling || poll(watch, n, 0) >= 0)) {  /* clocks alone: no system call */
        uint8_t events[POLL_MAX][EVENT_SIZE] = {{0}};  /* all made before any is written: `out` may overlap `subs` */
        uint32_t ready = 0;
        for (uint32_t i = 0; i < n; i++) {
            const uint8_t *sub = subs + i * SUBSCRIPTION_SIZE;
            bool polled = watch[i].fd >= 0;  /* not a clock (due), nor a stream kept in Python (ready) */
            if (!polled || watch[i].revents & (watch[i].events | POLLHUP | POLLERR)) {
                memcpy(events[ready], sub, 8);  /* the userdata */
                events[ready][TYPE_AT] = sub[TAG_AT];
                events[ready][NBYTES_AT] = sub[TAG_AT] != TAG_CLOCK;
                ready++;
            }
        }
        if (ready) {
            memcpy(out, events, ready * EVENT_SIZE);
            memcpy(nevents, &ready, 4);
            return success(raw);
        }
    }
    return e->fallback(NULL, caller, raw, count);
}
