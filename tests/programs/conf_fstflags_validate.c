/* Conformance: fstflags_validate (and the same rule in path_filestat): MTIM with MTIM_NOW, or ATIM
 * with ATIM_NOW, is EINVAL. */
#include "conf_common.h"

int main(int argc, char **argv) {
    int dir = conf_scratch(argc, argv);
    const char *f = "fstflags_validate.cleanup";
    int fd;
    OK("create", conf_open(dir, 0, f, __WASI_OFLAGS_CREAT, R(FD_READ) | R(FD_FILESTAT_SET_TIMES), 0, 0, &fd));
    ERR("mtim|mtim_now", __wasi_fd_filestat_set_times(fd, 100, 200, __WASI_FSTFLAGS_MTIM | __WASI_FSTFLAGS_MTIM_NOW),
        E(INVAL));
    ERR("atim|atim_now", __wasi_fd_filestat_set_times(fd, 100, 200, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_ATIM_NOW),
        E(INVAL));
    OK("close", __wasi_fd_close(fd));
    conf_pass();
    return 0;
}
