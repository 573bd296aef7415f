/* The cheapest WASI calls served without entering Python: each entry is a wasmtime unchecked host
 * callback that handles only its call's common, successful case -- a known clock, an aligned
 * pointer whose bytes lie in the caller's memory -- exactly as the Python handler would, and hands
 * every other case (an unknown clock, a pointer that traps) to that handler's own callback, passed
 * as `env`, so errnos and traps are always the Python handler's. vwasm/fastcalls.py loads this
 * library and says which imports may use it; proofs/host/fastcalls.py checks each entry against
 * its handler.
 *
 * No Python and no wasmtime header: the four wasmtime functions used are given by address, with the
 * layout of wasmtime_extern_t, by vwasm_fast_init (from wasmtime-py's own bindings).
 */
#define _POSIX_C_SOURCE 200809L  /* clock_getres and the CPU-time clocks under -std=c11 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

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

int vwasm_fast_init(void *export_get, void *caller_context, void *memory_data, void *memory_data_size,
                    size_t extern_size, size_t of_offset, unsigned memory_kind, size_t raw_size) {
    if (extern_size > EXTERN_ROOM || raw_size % 8 != 0 || raw_size == 0)
        return -1;
    api.export_get = (export_get_t)export_get;
    api.caller_context = (caller_context_t)caller_context;
    api.memory_data = (memory_data_t)memory_data;
    api.memory_data_size = (memory_data_size_t)memory_data_size;
    api.of_offset = of_offset;
    api.memory_kind = (uint8_t)memory_kind;
    api.stride = raw_size / 8;
    return 0;
}

uint64_t vwasm_fast_served(void) {
    return __atomic_load_n(&served, __ATOMIC_RELAXED);
}

/* Argument j, an i32, as the unsigned 32-bit value the Python glue masks it to. */
static uint32_t arg_u32(const uint64_t *raw, size_t j) {
    return (uint32_t)raw[j * api.stride];
}

/* The 8 bytes at guest address `ptr` of the calling instance's exported memory, or NULL when the
 * Python handler must decide: no memory export, a misaligned pointer, or bytes past the end. */
static uint8_t *u64_slot(void *caller, uint32_t ptr) {
    _Alignas(16) uint8_t item[EXTERN_ROOM];
    if (ptr & 7)
        return NULL;
    if (!api.export_get(caller, "memory", 6, item) || item[0] != api.memory_kind)
        return NULL;
    const void *context = api.caller_context(caller);
    const void *memory = item + api.of_offset;
    if ((uint64_t)ptr + 8 > api.memory_data_size(context, memory))
        return NULL;
    return api.memory_data(context, memory) + ptr;
}

/* The preview1 clock ids, in order, as POSIX clocks. */
static const clockid_t CLOCKS[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID,
                                   CLOCK_THREAD_CPUTIME_ID};
enum { N_CLOCKS = sizeof CLOCKS / sizeof CLOCKS[0] };

static uint64_t nanoseconds(const struct timespec *ts) {
    return (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
}

/* Store `value` at `slot` and answer SUCCESS. */
static size_t succeed(uint64_t *raw, uint8_t *slot, uint64_t value) {
    memcpy(slot, &value, 8);
    raw[0] = 0;
    __atomic_add_fetch(&served, 1, __ATOMIC_RELAXED);
    return 0;
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
    raw[0] = 0;
    __atomic_add_fetch(&served, 1, __ATOMIC_RELAXED);
    return 0;
}
