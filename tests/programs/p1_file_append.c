/* FDFLAGS_APPEND: every write goes to the end, even after a seek; fd_fdstat_set_flags toggles it. */
#include "common.h"

int main(void) {
    int d = preopen_fd(NULL), fd;
    MUST(put_file(d, "log.txt", "start\n"));
    MUST(raw_open(d, "log.txt", 0, 0, __WASI_FDFLAGS_APPEND, &fd));
    __wasi_fdstat_t st;
    MUST(__wasi_fd_fdstat_get(fd, &st));
    printf("append flag set: %s\n", (st.fs_flags & __WASI_FDFLAGS_APPEND) ? "yes" : "no");
    MUST(raw_write_all(fd, "one\n", 4));
    __wasi_filesize_t pos;
    MUST(__wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &pos));
    MUST(raw_write_all(fd, "two\n", 4));
    MUST(__wasi_fd_tell(fd, &pos));
    printf("offset after append write: %llu\n", (unsigned long long)pos);
    printf("clear append: %s\n", ename(__wasi_fd_fdstat_set_flags(fd, 0)));
    MUST(__wasi_fd_fdstat_get(fd, &st));
    printf("append flag now: %s\n", (st.fs_flags & __WASI_FDFLAGS_APPEND) ? "yes" : "no");
    MUST(__wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &pos));
    MUST(raw_write_all(fd, "S", 1));
    MUST(__wasi_fd_close(fd));
    char buf[128];
    MUST(get_file(d, "log.txt", buf, sizeof buf));
    printf("contents: <%s>\n", buf);
    return 0;
}
