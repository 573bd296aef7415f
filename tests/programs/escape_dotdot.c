/* `..` chains: straight up, deep, hidden behind subdirectories, via the guest's libc view. */
#include <fcntl.h>
#include "escape_common.h"

int main(void) {
    int d = preopen_fd(NULL);
    MUST(__wasi_path_create_directory(d, "a"));
    MUST(__wasi_path_create_directory(d, "a/b"));
    const char *paths[] = {"..", "../canary", "../canary/secret.txt", "a/../..", "a/b/../../../canary",
                           "a/../../canary/secret.txt", "./../canary", "a/b/../../..",
                           "../../../../../../../../etc/passwd", "..//canary", "a/./../../canary/."};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        try_read_ops(d, paths[i]);
        try_write_ops(d, paths[i]);
    }
    int fd = open("/sandbox/../canary/secret.txt", O_RDONLY);
    printf("libc open(/sandbox/../canary/secret.txt): %s\n", fd < 0 ? ename(errno) : "SUCCESS");
    printf("attempts=%d successes=%d\n", attempts, successes);
    return 0;
}
