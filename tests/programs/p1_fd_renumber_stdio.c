/* fd_renumber among stdio descriptors: 2 -> 1 makes writes to 1 go to stderr; 2 is then closed;
 * renumbering from/to a closed fd -> EBADF. */
#include "common.h"

static void say(int fd, const char *s) {
    int e = raw_write_all(fd, s, strlen(s));
    if (e) printf("write to %d: %s\n", fd, ename(e));
}

int main(void) {
    fflush(stdout);
    say(1, "to stdout before renumber\n");
    printf("fd_renumber(99, 1): %s\n", ename(__wasi_fd_renumber(99, 1)));
    printf("fd_renumber(1, 99): %s\n", ename(__wasi_fd_renumber(1, 99)));
    printf("fd_renumber(1, 1): %s\n", ename(__wasi_fd_renumber(1, 1)));
    fflush(stdout);
    int e = __wasi_fd_renumber(2, 1);
    say(1, "to fd 1 after renumber(2, 1): goes to stderr\n");
    say(1, e ? "renumber(2, 1) failed\n" : "renumber(2, 1): SUCCESS\n");
    __wasi_fdstat_t st;
    char line[64];
    snprintf(line, sizeof line, "fd_fdstat_get(2) after: %s\n", ename(__wasi_fd_fdstat_get(2, &st)));
    say(1, line);
    snprintf(line, sizeof line, "write to 2 after: %s\n", ename(raw_write_all(2, "x", 1)));
    say(1, line);
    return 0;
}
