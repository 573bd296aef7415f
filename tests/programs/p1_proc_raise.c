/* proc_raise (not in wasi-libc's api.h any more: declared from the raw import). */
#include "common.h"

__attribute__((import_module("wasi_snapshot_preview1"), import_name("proc_raise")))
int32_t raw_proc_raise(int32_t sig);

int main(int argc, char **argv) {
    int sig = argc > 1 ? atoi(argv[1]) : 0;
    printf("proc_raise(%d)...\n", sig);
    fflush(stdout);
    int e = raw_proc_raise(sig);
    printf("proc_raise(%d): %s\n", sig, ename(e));
    return 0;
}
