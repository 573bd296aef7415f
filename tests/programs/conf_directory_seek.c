/* Conformance: directory_seek. A directory opened asking for FD_SEEK: seeking fails (ISDIR,
 * NOTCAPABLE or BADF) and the fd does not hold FD_SEEK. */
#include "conf_common.h"

int main(int argc, char **argv) {
    int dir = conf_scratch(argc, argv);
    const char *d = "directory_seek_dir.cleanup";
    int fd;
    OK("mkdir", __wasi_path_create_directory(dir, d));
    OK("open dir asking FD_SEEK", conf_open(dir, 0, d, __WASI_OFLAGS_DIRECTORY, R(FD_SEEK), 0, 0, &fd));
    CHECK("fd > 2", fd > 2);
    __wasi_filesize_t off;
    ERR("seek dir", __wasi_fd_seek(fd, 0, __WASI_WHENCE_CUR, &off), E(ISDIR), E(NOTCAPABLE), E(BADF));
    __wasi_fdstat_t st;
    OK("fdstat", __wasi_fd_fdstat_get(fd, &st));
    CHECK("filetype directory", st.fs_filetype == __WASI_FILETYPE_DIRECTORY);
    CHECK("no FD_SEEK right", (st.fs_rights_base & R(FD_SEEK)) == 0);
    OK("close", __wasi_fd_close(fd));
    OK("rmdir", __wasi_path_remove_directory(dir, d));
    conf_pass();
    return 0;
}
