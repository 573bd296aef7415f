/* The trailing-slash trick: `l -> evil/` with `evil -> ../..` (and the host-made variants given as
 * argv[1..]); every operation on `l`, `l/`, `l/.` and below must be refused. */
#include "escape_common.h"

int main(int argc, char **argv) {
    int d = preopen_fd(NULL);
    printf("symlink evil -> ../..: %s\n", ename(__wasi_path_symlink("../..", d, "evil")));
    printf("symlink l -> evil/: %s\n", ename(__wasi_path_symlink("evil/", d, "l")));
    printf("symlink m -> evil/.: %s\n", ename(__wasi_path_symlink("evil/.", d, "m")));
    printf("symlink n -> l/: %s\n", ename(__wasi_path_symlink("l/", d, "n")));
    const char *paths[] = {"l", "l/", "l/.", "l//", "m", "m/", "n", "n/", "l/canary", "n/canary/secret.txt"};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        try_read_ops(d, paths[i]);
        try_write_ops(d, paths[i]);
    }
    for (int i = 1; i < argc; i++) {
        try_read_ops(d, argv[i]);
        try_write_ops(d, argv[i]);
    }
    printf("attempts=%d successes=%d\n", attempts, successes);
    return 0;
}
