/* Conformance: dangling_symlink. A symlink to a missing target, opened without following:
 * as a directory ENOTDIR or ELOOP; as a file ELOOP. */
#include "conf_common.h"

int main(int argc, char **argv) {
    int dir = conf_scratch(argc, argv);
    const char *l = "dangling_symlink_symlink.cleanup";
    int fd;
    if (__wasi_path_symlink("target", dir, l) != 0) {
        printf("ok symlink refused (suite skips)\n");
        conf_pass();
        return 0;
    }
    ERR("open dangling as dir", conf_open(dir, 0, l, __WASI_OFLAGS_DIRECTORY, 0, 0, 0, &fd), E(NOTDIR), E(LOOP));
    ERR("open dangling as file", conf_open(dir, 0, l, 0, 0, 0, 0, &fd), E(LOOP));
    OK("unlink link", __wasi_path_unlink_file(dir, l));
    conf_pass();
    return 0;
}
