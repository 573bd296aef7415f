/* clock_time_get: realtime is after 2020, monotonic never goes back, cputime clocks as supported.
 * With argv[1] = a clock id, only that id is queried (invalid ids: EINVAL by the spec; wasmtime
 * traps). Raw values are never printed. */
#include <time.h>
#include "common.h"

int main(int argc, char **argv) {
    __wasi_timestamp_t t = 0, prev = 0;
    if (argc > 1) {
        unsigned id = (unsigned)strtoul(argv[1], NULL, 0);
        printf("clock_time_get(%u): %s\n", id, ename(__wasi_clock_time_get(id, 1, &t)));
        return 0;
    }
    int e = __wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 1, &t);
    printf("realtime: %s after_2020=%s\n", ename(e), t > 1577836800ULL * 1000000000ULL ? "yes" : "no");
    e = __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &prev);
    printf("monotonic: %s\n", ename(e));
    int back = 0;
    for (int i = 0; i < 1000; i++) {
        MUST(__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 0, &t));
        if (t < prev) back++;
        prev = t;
    }
    printf("monotonic went back: %d times\n", back);
    for (int id = 2; id < 4; id++) {
        e = __wasi_clock_time_get(id, 1, &t);
        printf("clock_time_get(%s): %s\n", id == 2 ? "process_cputime" : "thread_cputime", ename(e));
    }
    struct timespec ts;
    printf("clock_gettime(CLOCK_MONOTONIC): %d\n", clock_gettime(CLOCK_MONOTONIC, &ts));
    printf("time(NULL) after 2020: %s\n", time(NULL) > 1577836800 ? "yes" : "no");
    return 0;
}
