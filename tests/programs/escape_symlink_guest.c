/* The guest makes symlinks whose relative targets lead outside (creating them may be allowed: the
 * target is just text) and then uses them, alone, as a middle component and with trailing slashes. */
#include "escape_common.h"

int main(void) {
    int d = preopen_fd(NULL);
    MUST(__wasi_path_create_directory(d, "sub"));
    struct { const char *target, *link; } mk[] = {
        {"..", "up"}, {"../..", "up2"}, {"../canary", "can"}, {"../canary/secret.txt", "sec"},
        {"../../sandbox/..", "sub/tricky"}, {"sub/../..", "via_sub"}, {"up", "chain"},
        {"../canary/newfile", "dangling_out"},
    };
    for (size_t i = 0; i < sizeof mk / sizeof *mk; i++)
        printf("symlink %s -> %s: %s\n", mk[i].link, mk[i].target, ename(__wasi_path_symlink(mk[i].target, d, mk[i].link)));
    /* an absolute target is refused (DESIGN §5); "abs" is then not used as an attack path */
    printf("symlink /etc -> abs: %s\n", ename(__wasi_path_symlink("/etc", d, "abs")));
    const char *paths[] = {"up", "up/canary", "up/canary/secret.txt", "up2", "can", "can/", "can/secret.txt", "sec",
                           "sub/tricky", "via_sub", "chain/canary/secret.txt", "dangling_out"};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        try_read_ops(d, paths[i]);
        try_write_ops(d, paths[i]);
    }
    printf("attempts=%d successes=%d\n", attempts, successes);
    return 0;
}
