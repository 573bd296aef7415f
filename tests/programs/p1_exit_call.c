/* exit(n) / _Exit(n) / raw proc_exit(n): argv[1] = exit|_exit|proc_exit, argv[2] = n.
 * Text after the call must never appear. */
#include <unistd.h>
#include "common.h"

int main(int argc, char **argv) {
    const char *how = argc > 1 ? argv[1] : "exit";
    int code = argc > 2 ? atoi(argv[2]) : 0;
    printf("%s(%d)\n", how, code); /* buffered: exit() flushes it, _Exit/proc_exit do not */
    fflush(stdout);
    if (strcmp(how, "exit") == 0) exit(code);
    if (strcmp(how, "_exit") == 0) _Exit(code);
    if (strcmp(how, "proc_exit") == 0) __wasi_proc_exit(code);
    printf("unreachable\n");
    return 99;
}
