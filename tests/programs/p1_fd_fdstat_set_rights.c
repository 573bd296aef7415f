/* fd_fdstat_set_rights: narrowing works, a dropped right makes its operation ENOTCAPABLE,
 * widening again is refused (ENOTCAPABLE); on a directory, dropping PATH_OPEN stops path_open. */
#include "common.h"

int main(void) {
    int d = preopen_fd(NULL), fd;
    MUST(put_file(d, "f", "data"));
    MUST(raw_open(d, "f", 0, 0, 0, &fd));
    __wasi_fdstat_t st;
    MUST(__wasi_fd_fdstat_get(fd, &st));
    __wasi_rights_t orig = st.fs_rights_base;
    printf("has read=%d write=%d\n", !!(orig & __WASI_RIGHTS_FD_READ), !!(orig & __WASI_RIGHTS_FD_WRITE));
    printf("drop FD_WRITE: %s\n", ename(__wasi_fd_fdstat_set_rights(fd, orig & ~__WASI_RIGHTS_FD_WRITE, 0)));
    MUST(__wasi_fd_fdstat_get(fd, &st));
    printf("now write=%d\n", !!(st.fs_rights_base & __WASI_RIGHTS_FD_WRITE));
    printf("write: %s\n", ename(raw_write_all(fd, "x", 1)));
    char b[8];
    size_t n;
    { int re = raw_read(fd, b, 4, &n); printf("read: %s n=%zu\n", ename(re), n); }
    printf("widen back: %s\n", ename(__wasi_fd_fdstat_set_rights(fd, orig, 0)));
    printf("drop FD_READ too: %s\n", ename(__wasi_fd_fdstat_set_rights(fd, st.fs_rights_base & ~__WASI_RIGHTS_FD_READ, 0)));
    printf("read: %s\n", ename(raw_read(fd, b, 4, &n)));
    printf("drop FD_SEEK|FD_TELL: %s\n",
           ename(__wasi_fd_fdstat_set_rights(fd, __WASI_RIGHTS_FD_FILESTAT_GET, 0)));
    __wasi_filesize_t pos;
    printf("seek: %s\n", ename(__wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &pos)));
    printf("tell: %s\n", ename(__wasi_fd_tell(fd, &pos)));
    __wasi_filestat_t fs;
    printf("filestat_get (kept): %s\n", ename(__wasi_fd_filestat_get(fd, &fs)));
    MUST(__wasi_fd_close(fd));
    /* a directory */
    int dfd;
    MUST(raw_open(d, ".", 0, __WASI_OFLAGS_DIRECTORY, 0, &dfd));
    MUST(__wasi_fd_fdstat_get(dfd, &st));
    printf("dir drop PATH_OPEN: %s\n",
           ename(__wasi_fd_fdstat_set_rights(dfd, st.fs_rights_base & ~__WASI_RIGHTS_PATH_OPEN, st.fs_rights_inheriting)));
    printf("path_open via it: %s\n", ename(raw_open(dfd, "f", 0, 0, 0, &fd)));
    printf("dir drop PATH_CREATE_DIRECTORY: %s\n",
           ename(__wasi_fd_fdstat_set_rights(dfd, st.fs_rights_base & ~(__WASI_RIGHTS_PATH_OPEN | __WASI_RIGHTS_PATH_CREATE_DIRECTORY), 0)));
    printf("mkdir via it: %s\n", ename(__wasi_path_create_directory(dfd, "newdir")));
    printf("set_rights on bad fd: %s\n", ename(__wasi_fd_fdstat_set_rights(77, 0, 0)));
    return 0;
}
