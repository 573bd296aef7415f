/* Symlinks the host test created inside the sandbox (absolute and relative targets outside):
 * argv[1..] are their names. */
#include "escape_common.h"

int main(int argc, char **argv) {
    int d = preopen_fd(NULL);
    for (int i = 1; i < argc; i++) {
        try_read_ops(d, argv[i]);
        try_write_ops(d, argv[i]);
        char sub[256];
        snprintf(sub, sizeof sub, "%s/secret.txt", argv[i]);
        try_read_ops(d, sub);
        snprintf(sub, sizeof sub, "%s/", argv[i]);
        try_read_ops(d, sub);
    }
    printf("attempts=%d successes=%d\n", attempts, successes);
    return 0;
}
