/* Sleeping: nanosleep/usleep (relative poll_oneoff clock subscriptions), a raw absolute
 * subscription, two clocks at once, zero subscriptions -> EINVAL. Checks elapsed >= requested. */
#include <time.h>
#include <unistd.h>
#include "common.h"

static __wasi_timestamp_t now(void) {
    __wasi_timestamp_t t = 0;
    MUST(__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t));
    return t;
}

static void check(const char *what, __wasi_timestamp_t t0, __wasi_timestamp_t want_ns) {
    __wasi_timestamp_t d = now() - t0;
    printf("%s: elapsed>=requested=%s\n", what, d >= want_ns ? "yes" : "no");
}

int main(void) {
    __wasi_timestamp_t t0 = now();
    struct timespec ts = {0, 20 * 1000 * 1000};
    int r = nanosleep(&ts, NULL);
    printf("nanosleep(20ms) = %d\n", r);
    check("nanosleep", t0, 20000000ULL);

    t0 = now();
    r = usleep(15000);
    printf("usleep(15ms) = %d\n", r);
    check("usleep", t0, 15000000ULL);

    /* raw relative subscription */
    __wasi_subscription_t sub[2];
    __wasi_event_t ev[2];
    __wasi_size_t nev = 0;
    memset(sub, 0, sizeof sub);
    memset(ev, 0, sizeof ev);
    sub[0].userdata = 0x1234;
    sub[0].u.tag = __WASI_EVENTTYPE_CLOCK;
    sub[0].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    sub[0].u.u.clock.timeout = 10000000ULL;
    sub[0].u.u.clock.precision = 0;
    sub[0].u.u.clock.flags = 0;
    t0 = now();
    int e = __wasi_poll_oneoff(sub, ev, 1, &nev);
    printf("poll_oneoff(relative 10ms): %s nevents=%u userdata=0x%llx error=%s type=%d\n", ename(e), nev,
           (unsigned long long)ev[0].userdata, ename(ev[0].error), ev[0].type);
    check("relative", t0, 10000000ULL);

    /* absolute deadline on the monotonic clock */
    t0 = now();
    sub[0].userdata = 0xabcd;
    sub[0].u.u.clock.timeout = t0 + 12000000ULL;
    sub[0].u.u.clock.flags = __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME;
    memset(ev, 0, sizeof ev);
    e = __wasi_poll_oneoff(sub, ev, 1, &nev);
    printf("poll_oneoff(absolute +12ms): %s nevents=%u userdata=0x%llx error=%s type=%d\n", ename(e), nev,
           (unsigned long long)ev[0].userdata, ename(ev[0].error), ev[0].type);
    check("absolute", t0, 12000000ULL);

    /* absolute deadline in the past: returns at once */
    sub[0].u.u.clock.timeout = 1;
    e = __wasi_poll_oneoff(sub, ev, 1, &nev);
    printf("poll_oneoff(absolute past): %s nevents=%u\n", ename(e), nev);

    /* two timers: the shorter one fires first */
    memset(sub, 0, sizeof sub);
    memset(ev, 0, sizeof ev);
    for (int i = 0; i < 2; i++) {
        sub[i].userdata = 100 + i;
        sub[i].u.tag = __WASI_EVENTTYPE_CLOCK;
        sub[i].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    }
    sub[0].u.u.clock.timeout = 2000000000ULL; /* 2 s */
    sub[1].u.u.clock.timeout = 5000000ULL;    /* 5 ms */
    t0 = now();
    e = __wasi_poll_oneoff(sub, ev, 2, &nev);
    printf("poll_oneoff(2s, 5ms): %s nevents=%u first=%llu\n", ename(e), nev, (unsigned long long)ev[0].userdata);
    printf("poll_oneoff(2s, 5ms) returned before 1s: %s\n", now() - t0 < 1000000000ULL ? "yes" : "no");

    /* zero subscriptions */
    e = __wasi_poll_oneoff(sub, ev, 0, &nev);
    printf("poll_oneoff(0 subscriptions): %s\n", ename(e));
    return 0;
}
