/* Conformance: fd_flags_set. A file opened APPEND writes at the end whatever the offset; after
 * fd_fdstat_set_flags(0) a write at offset 0 overwrites. Final size 200. */
#include "conf_common.h"

static void fill(uint8_t *b, int v) { memset(b, v, 100); }

int main(int argc, char **argv) {
    int dir = conf_scratch(argc, argv);
    const char *f = "fd_flags_set_file.cleanup";
    int fd;
    uint8_t data[100], got[100];
    size_t n;
    __wasi_filesize_t off;
    OK("open append", conf_open(dir, 0, f, __WASI_OFLAGS_CREAT,
                                R(FD_READ) | R(FD_WRITE) | R(FD_SEEK) | R(FD_TELL) | R(FD_FDSTAT_SET_FLAGS), 0,
                                __WASI_FDFLAGS_APPEND, &fd));
    fill(data, 0);
    OK("write 0s", conf_write(fd, data, 100, &n));
    CHECK("wrote 100", n == 100);
    OK("seek 0", __wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &off));
    OK("read", conf_read(fd, got, 100, &n));
    CHECK("read 100", n == 100 && memcmp(data, got, 100) == 0);
    fill(data, 1);
    OK("seek 0 again", __wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &off));
    OK("write 1s", conf_write(fd, data, 100, &n));
    CHECK("wrote 100 again", n == 100);
    OK("seek 100", __wasi_fd_seek(fd, 100, __WASI_WHENCE_SET, &off));
    OK("read 2", conf_read(fd, got, 100, &n));
    CHECK("1s appended at 100", n == 100 && memcmp(data, got, 100) == 0);
    OK("clear flags", __wasi_fd_fdstat_set_flags(fd, 0));
    OK("seek 0 third", __wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &off));
    fill(data, 2);
    OK("write 2s", conf_write(fd, data, 100, &n));
    CHECK("wrote 100 third", n == 100);
    OK("seek 0 fourth", __wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &off));
    OK("read 3", conf_read(fd, got, 100, &n));
    CHECK("2s overwrote at 0", n == 100 && memcmp(data, got, 100) == 0);
    OK("close", __wasi_fd_close(fd));
    __wasi_filestat_t st;
    OK("path stat", __wasi_path_filestat_get(dir, 0, f, &st));
    CHECK("size 200", st.size == 200);
    OK("unlink", __wasi_path_unlink_file(dir, f));
    conf_pass();
    return 0;
}
