/* Conformance: fd_advise. set_size 100, advise leaves the size alone, allocate(100,100) grows it to
 * 200 or is ENOTSUP. */
#include "conf_common.h"

int main(int argc, char **argv) {
    int dir = conf_scratch(argc, argv);
    const char *f = "fd_advise_file.cleanup";
    int fd;
    OK("create", conf_open(dir, 0, f, __WASI_OFLAGS_CREAT,
                           R(FD_READ) | R(FD_WRITE) | R(FD_ADVISE) | R(FD_FILESTAT_GET) |
                               R(FD_FILESTAT_SET_SIZE) | R(FD_ALLOCATE), 0, 0, &fd));
    CHECK("fd > 2", fd > 2);
    __wasi_filestat_t st;
    OK("stat", __wasi_fd_filestat_get(fd, &st));
    CHECK("size 0", st.size == 0);
    OK("set_size 100", __wasi_fd_filestat_set_size(fd, 100));
    OK("stat 2", __wasi_fd_filestat_get(fd, &st));
    CHECK("size 100", st.size == 100);
    OK("advise", __wasi_fd_advise(fd, 10, 50, __WASI_ADVICE_NORMAL));
    OK("stat 3", __wasi_fd_filestat_get(fd, &st));
    CHECK("size still 100", st.size == 100);
    int e = __wasi_fd_allocate(fd, 100, 100);
    if (e == 0) {
        OK("stat 4", __wasi_fd_filestat_get(fd, &st));
        CHECK("size 200 after allocate", st.size == 200);
    } else {
        ERR("allocate", e, E(NOTSUP));
    }
    OK("close", __wasi_fd_close(fd));
    OK("unlink", __wasi_path_unlink_file(dir, f));
    conf_pass();
    return 0;
}
