/* clock_res_get for every clock id (no argument) or for the clock id given as argv[1] (invalid ids:
 * the spec's answer is EINVAL; wasmtime traps). Prints only stable facts. */
#include "common.h"

int main(int argc, char **argv) {
    if (argc > 1) {
        unsigned id = (unsigned)strtoul(argv[1], NULL, 0);
        __wasi_timestamp_t res = 12345;
        int e = __wasi_clock_res_get(id, &res);
        printf("clock_res_get(%u): %s\n", id, ename(e));
        return 0;
    }
    const char *names[] = {"realtime", "monotonic", "process_cputime", "thread_cputime"};
    for (int id = 0; id < 4; id++) {
        __wasi_timestamp_t res = 0;
        int e = __wasi_clock_res_get(id, &res);
        printf("clock_res_get(%s): %s", names[id], ename(e));
        if (e == 0) printf(" positive=%s le_1s=%s", res > 0 ? "yes" : "no", res <= 1000000000ULL ? "yes" : "no");
        printf("\n");
    }
    return 0;
}
