/* Conformance: clock_time_get (precision 1 and 0 succeed, monotonic never goes back), big_random_buf
 * (1024 random bytes, not all zero), sched_yield (succeeds). */
#include "conf_common.h"

int main(void) {
    __wasi_timestamp_t a, b, c;
    OK("clock precision 1", __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &a));
    OK("clock precision 0", __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 0, &b));
    OK("clock again", __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 0, &c));
    CHECK("monotonic", b <= c);
    static uint8_t buf[1024];
    OK("random_get 1024", __wasi_random_get(buf, sizeof buf));
    int any = 0;
    for (size_t i = 0; i < sizeof buf; i++) any |= buf[i];
    CHECK("not all zero", any != 0);
    OK("sched_yield", __wasi_sched_yield());
    conf_pass();
    return 0;
}
