/* Conformance: truncation_rights. The scratch subdirectory is a directory with no fdflags and no
 * FD_FILESTAT_SET_SIZE; with PATH_FILESTAT_SET_SIZE, O_TRUNC opens work, still after dropping the
 * inheriting FD_FILESTAT_SET_SIZE; after dropping PATH_FILESTAT_SET_SIZE, O_TRUNC is PERM or
 * NOTCAPABLE. */
#include "conf_common.h"

int main(int argc, char **argv) {
    int base = conf_scratch(argc, argv);
    int dir = conf_tmpdir(base, "truncation_rights_dir.cleanup"), fd;
    conf_touch(dir, "file");
    __wasi_fdstat_t st;
    OK("dir fdstat", __wasi_fd_fdstat_get(dir, &st));
    CHECK("is a directory", st.fs_filetype == __WASI_FILETYPE_DIRECTORY);
    CHECK("no fdflags", st.fs_flags == 0);
    CHECK("no FD_FILESTAT_SET_SIZE on a directory", (st.fs_rights_base & R(FD_FILESTAT_SET_SIZE)) == 0);
    if ((st.fs_rights_base & R(PATH_FILESTAT_SET_SIZE)) == 0) {
        printf("ok no PATH_FILESTAT_SET_SIZE (suite skips)\n");
    } else {
        OK("truncate", conf_open(dir, 0, "file", __WASI_OFLAGS_TRUNC, 0, 0, 0, &fd));
        OK("close", __wasi_fd_close(fd));
        __wasi_rights_t b = st.fs_rights_base, i = st.fs_rights_inheriting;
        if (i & R(FD_FILESTAT_SET_SIZE)) {
            i &= ~R(FD_FILESTAT_SET_SIZE);
            OK("drop inheriting FD_FILESTAT_SET_SIZE", __wasi_fd_fdstat_set_rights(dir, b, i));
        }
        OK("truncate without fd right", conf_open(dir, 0, "file", __WASI_OFLAGS_TRUNC, 0, 0, 0, &fd));
        OK("close 2", __wasi_fd_close(fd));
        b &= ~R(PATH_FILESTAT_SET_SIZE);
        OK("drop PATH_FILESTAT_SET_SIZE", __wasi_fd_fdstat_set_rights(dir, b, i));
        OK("dir fdstat 2", __wasi_fd_fdstat_get(dir, &st));
        CHECK("dropped", (st.fs_rights_base & R(PATH_FILESTAT_SET_SIZE)) == 0);
        ERR("truncate without path right", conf_open(dir, 0, "file", __WASI_OFLAGS_TRUNC, 0, 0, 0, &fd), E(PERM),
            E(NOTCAPABLE));
    }
    OK("unlink", __wasi_path_unlink_file(dir, "file"));
    OK("close dir", __wasi_fd_close(dir));
    OK("rmdir", __wasi_path_remove_directory(base, "truncation_rights_dir.cleanup"));
    conf_pass();
    return 0;
}
