/* Conformance: path_open_preopen. The preopen "/" holds (at least) the directory rights the suite
 * lists as base and those plus the file rights as inheriting; "." re-opens with the same rights,
 * with no rights, with O_DIRECTORY and no rights, with O_DIRECTORY and FD_READ; O_DIRECTORY with
 * FD_READ|FD_WRITE is ISDIR. */
#include "conf_common.h"

int main(void) {
    int pre = conf_preopen("/");
    CHECK("preopen / found", pre >= 3);
    __wasi_prestat_t ps;
    OK("prestat", __wasi_fd_prestat_get(pre, &ps));
    CHECK("prestat dir", ps.tag == __WASI_PREOPENTYPE_DIR);
    __wasi_fdstat_t st;
    OK("fdstat", __wasi_fd_fdstat_get(pre, &st));
    __wasi_rights_t dirb = R(PATH_CREATE_DIRECTORY) | R(PATH_CREATE_FILE) | R(PATH_LINK_SOURCE) | R(PATH_LINK_TARGET) |
                           R(PATH_OPEN) | R(FD_READDIR) | R(PATH_READLINK) | R(PATH_RENAME_SOURCE) |
                           R(PATH_RENAME_TARGET) | R(PATH_SYMLINK) | R(PATH_REMOVE_DIRECTORY) |
                           R(PATH_UNLINK_FILE) | R(PATH_FILESTAT_GET) | R(PATH_FILESTAT_SET_TIMES) |
                           R(FD_FILESTAT_GET) | R(FD_FILESTAT_SET_TIMES);
    __wasi_rights_t inh = dirb | R(FD_DATASYNC) | R(FD_READ) | R(FD_SEEK) | R(FD_FDSTAT_SET_FLAGS) | R(FD_SYNC) |
                          R(FD_TELL) | R(FD_WRITE) | R(FD_ADVISE) | R(FD_ALLOCATE) | R(FD_FILESTAT_GET) |
                          R(FD_FILESTAT_SET_SIZE) | R(FD_FILESTAT_SET_TIMES) | R(POLL_FD_READWRITE);
    printf("missing base rights %#llx inheriting %#llx\n", (unsigned long long)(dirb & ~st.fs_rights_base),
           (unsigned long long)(inh & ~st.fs_rights_inheriting));
    CHECK("base rights", (st.fs_rights_base & dirb) == dirb);
    CHECK("inheriting rights", (st.fs_rights_inheriting & inh) == inh);
    int fd;
    OK("same rights", conf_open(pre, 0, ".", 0, st.fs_rights_base, st.fs_rights_inheriting, 0, &fd));
    OK("no rights", conf_open(pre, 0, ".", 0, 0, 0, 0, &fd));
    OK("O_DIRECTORY no rights", conf_open(pre, 0, ".", __WASI_OFLAGS_DIRECTORY, 0, 0, 0, &fd));
    OK("O_DIRECTORY read", conf_open(pre, 0, ".", __WASI_OFLAGS_DIRECTORY, R(FD_READ), 0, 0, &fd));
    ERR("O_DIRECTORY read|write", conf_open(pre, 0, ".", __WASI_OFLAGS_DIRECTORY, R(FD_READ) | R(FD_WRITE), 0, 0, &fd),
        E(ISDIR));
    conf_pass();
    return 0;
}
