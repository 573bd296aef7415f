/* sched_yield (raw and libc) succeeds. */
#include <sched.h>
#include "common.h"

int main(void) {
    printf("sched_yield: %s\n", ename(__wasi_sched_yield()));
    int ok = 0;
    for (int i = 0; i < 100; i++) ok += __wasi_sched_yield() == 0;
    printf("100 yields ok: %d\n", ok);
    printf("libc sched_yield(): %d\n", sched_yield());
    return 0;
}
