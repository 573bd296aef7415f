/* Conformance: fd_fdstat_set_rights. With rights supported: read/write work, dropping FD_READ and
 * FD_WRITE keeps FD_SEEK, then read/write fail (BADF or NOTCAPABLE) and asking the rights back is
 * NOTCAPABLE. */
#include "conf_common.h"

int main(int argc, char **argv) {
    int base = conf_scratch(argc, argv);
    const char *dname = "rights_dir.cleanup", *fname = "file.cleanup";
    int dir = conf_tmpdir(base, dname);
    __wasi_fdstat_t st;
    OK("dir fdstat", __wasi_fd_fdstat_get(dir, &st));
    int e = __wasi_fd_fdstat_set_rights(dir, st.fs_rights_base, st.fs_rights_inheriting);
    if (e == E(NOTSUP)) {
        printf("ok rights unsupported (suite skips)\n");
    } else {
        int fd;
        OK("create", conf_open(dir, 0, fname, __WASI_OFLAGS_CREAT,
                               R(FD_READ) | R(FD_WRITE) | R(FD_SEEK) | R(FD_TELL), 0, 0, &fd));
        uint8_t w[4] = {0, 1, 2, 3}, r[4] = {9, 9, 9, 9};
        size_t n;
        __wasi_filesize_t off;
        OK("write", conf_write(fd, w, 4, &n));
        OK("seek 0", __wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &off));
        OK("read", conf_read(fd, r, 4, &n));
        CHECK("read 4", n == 4);
        CHECK("same bytes", memcmp(w, r, 4) == 0);
        OK("fdstat", __wasi_fd_fdstat_get(fd, &st));
        OK("drop read|write", __wasi_fd_fdstat_set_rights(fd, st.fs_rights_base & ~(R(FD_READ) | R(FD_WRITE)),
                                                          st.fs_rights_inheriting));
        OK("fdstat 2", __wasi_fd_fdstat_get(fd, &st));
        CHECK("no read|write", (st.fs_rights_base & (R(FD_READ) | R(FD_WRITE))) == 0);
        CHECK("still seek", (st.fs_rights_base & R(FD_SEEK)) != 0);
        ERR("read without right", conf_read(fd, r, 4, &n), E(BADF), E(NOTCAPABLE));
        ERR("write without right", conf_write(fd, w, 4, &n), E(BADF), E(NOTCAPABLE));
        __wasi_rights_t more = R(FD_READ) | R(FD_WRITE) | R(FD_SEEK) | R(FD_TELL);
        ERR("regrant", __wasi_fd_fdstat_set_rights(fd, st.fs_rights_base | more, st.fs_rights_inheriting | more),
            E(NOTCAPABLE));
        OK("close", __wasi_fd_close(fd));
        OK("unlink", __wasi_path_unlink_file(dir, fname));
    }
    OK("close dir", __wasi_fd_close(dir));
    OK("rmdir", __wasi_path_remove_directory(base, dname));
    conf_pass();
    return 0;
}
