/* Absolute paths given to the host directly (raw calls on the preopen fd) and through libc. */
#include <fcntl.h>
#include "escape_common.h"

int main(int argc, char **argv) {
    int d = preopen_fd(NULL);
    const char *canary = argc > 1 ? argv[1] : "/tmp/canary"; /* the host path of the canary dir */
    const char *paths[] = {"/", "/etc/passwd", "/etc", canary, "/sandbox", "/sandbox/x", "//etc/passwd"};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        try_read_ops(d, paths[i]);
        try_write_ops(d, paths[i]);
    }
    /* libc: absolute paths outside any preopen never reach the host */
    int fd = open("/etc/passwd", O_RDONLY);
    printf("libc open(/etc/passwd): %s\n", fd < 0 ? ename(errno) : "SUCCESS");
    printf("attempts=%d successes=%d\n", attempts, successes);
    return 0;
}
