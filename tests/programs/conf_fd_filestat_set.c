/* Conformance: fd_filestat_set. set_size then set_times(MTIM) changes mtim only. */
#include "conf_common.h"

int main(int argc, char **argv) {
    int dir = conf_scratch(argc, argv);
    const char *f = "fd_filestat_set_file.cleanup";
    int fd;
    OK("create", conf_open(dir, 0, f, __WASI_OFLAGS_CREAT,
                           R(FD_READ) | R(FD_WRITE) | R(FD_FILESTAT_GET) | R(FD_FILESTAT_SET_SIZE) |
                               R(FD_FILESTAT_SET_TIMES), 0, 0, &fd));
    CHECK("fd > 2", fd > 2);
    __wasi_filestat_t st;
    OK("stat", __wasi_fd_filestat_get(fd, &st));
    CHECK("size 0", st.size == 0);
    OK("set_size", __wasi_fd_filestat_set_size(fd, 100));
    OK("stat 2", __wasi_fd_filestat_get(fd, &st));
    CHECK("size 100", st.size == 100);
    __wasi_timestamp_t atim = st.atim, mtim = st.mtim - 100;
    OK("set_times mtim", __wasi_fd_filestat_set_times(fd, mtim, mtim, __WASI_FSTFLAGS_MTIM));
    OK("stat 3", __wasi_fd_filestat_get(fd, &st));
    CHECK("size unchanged", st.size == 100);
    CHECK("mtim changed", st.mtim == mtim);
    CHECK("atim unchanged", st.atim == atim);
    OK("close", __wasi_fd_close(fd));
    OK("unlink", __wasi_path_unlink_file(dir, f));
    conf_pass();
    return 0;
}
