/* Conformance: poll_oneoff_stdio. A clock (200 ms) plus stdin-readable: at least one event, each
 * either the clock or stdin, error SUCCESS, right userdata. Then stdout and stderr writable,
 * polled with the clock until both report (the clock firing first is a failure). */
#include "conf_common.h"

#define CLOCK_ID 0x012345678ULL
#define STDIN_ID 0x876543210ULL
#define TIMEOUT 200000000ULL

static __wasi_subscription_t clock_sub(void) {
    __wasi_subscription_t s;
    memset(&s, 0, sizeof s);
    s.userdata = CLOCK_ID;
    s.u.tag = __WASI_EVENTTYPE_CLOCK;
    s.u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    s.u.u.clock.timeout = TIMEOUT;
    return s;
}

int main(void) {
    __wasi_subscription_t in[3];
    __wasi_event_t ev[3];
    __wasi_size_t n = 0;
    in[0] = clock_sub();
    memset(&in[1], 0, sizeof in[1]);
    in[1].userdata = STDIN_ID;
    in[1].u.tag = __WASI_EVENTTYPE_FD_READ;
    in[1].u.u.fd_read.file_descriptor = 0;
    memset(ev, 0, sizeof ev);
    OK("poll stdin+clock", __wasi_poll_oneoff(in, ev, 2, &n));
    CHECK("at least one event", n >= 1);
    for (__wasi_size_t i = 0; i < n; i++) {
        if (ev[i].type == __WASI_EVENTTYPE_CLOCK) {
            CHECK("clock event ok", ev[i].error == 0 && ev[i].userdata == CLOCK_ID);
        } else if (ev[i].type == __WASI_EVENTTYPE_FD_READ) {
            CHECK("stdin event ok", ev[i].error == 0 && ev[i].userdata == STDIN_ID);
        } else {
            CHECK("known event type", 0);
        }
    }
    int pending_out = 1, pending_err = 1;
    for (int round = 0; round < 100 && (pending_out || pending_err); round++) {
        int k = 0;
        if (pending_out) {
            memset(&in[k], 0, sizeof in[k]);
            in[k].userdata = 1;
            in[k].u.tag = __WASI_EVENTTYPE_FD_WRITE;
            in[k].u.u.fd_write.file_descriptor = 1;
            k++;
        }
        if (pending_err) {
            memset(&in[k], 0, sizeof in[k]);
            in[k].userdata = 2;
            in[k].u.tag = __WASI_EVENTTYPE_FD_WRITE;
            in[k].u.u.fd_write.file_descriptor = 2;
            k++;
        }
        in[k++] = clock_sub();
        memset(ev, 0, sizeof ev);
        OK("poll stdout/stderr+clock", __wasi_poll_oneoff(in, ev, k, &n));
        for (__wasi_size_t i = 0; i < n; i++) {
            CHECK("not timed out", ev[i].userdata != CLOCK_ID);
            CHECK("write event", ev[i].type == __WASI_EVENTTYPE_FD_WRITE && ev[i].error == 0);
            if (ev[i].userdata == 1) pending_out = 0;
            else if (ev[i].userdata == 2) pending_err = 0;
            else CHECK("known userdata", 0);
        }
    }
    CHECK("both writable", !pending_out && !pending_err);
    conf_pass();
    return 0;
}
