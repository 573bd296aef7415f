/* Conformance: path_open_create_existing (CREAT|EXCL on a file: EXIST), path_open_missing (NOENT),
 * path_open_dirfd_not_dir (a file as the base fd: NOTDIR or NOTCAPABLE), path_open_nonblock
 * ("." with FDFLAGS_NONBLOCK opens). */
#include "conf_common.h"

int main(int argc, char **argv) {
    int base = conf_scratch(argc, argv), fd, ffd;
    int dir = conf_tmpdir(base, "path_open_create_existing_dir.cleanup");
    conf_touch(dir, "file");
    ERR("creat|excl existing", conf_open(dir, 0, "file", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL, 0, 0, 0, &fd),
        E(EXIST));
    OK("unlink", __wasi_path_unlink_file(dir, "file"));
    OK("close dir", __wasi_fd_close(dir));
    OK("rmdir", __wasi_path_remove_directory(base, "path_open_create_existing_dir.cleanup"));

    dir = conf_tmpdir(base, "path_open_missing_dir.cleanup");
    ERR("open missing", conf_open(dir, 0, "file", 0, 0, 0, 0, &fd), E(NOENT));
    OK("close dir 2", __wasi_fd_close(dir));
    OK("rmdir 2", __wasi_path_remove_directory(base, "path_open_missing_dir.cleanup"));

    dir = conf_tmpdir(base, "path_open_dirfd_not_dir_dir.cleanup");
    OK("create file", conf_open(dir, 0, "file", __WASI_OFLAGS_CREAT, 0, 0, 0, &ffd));
    ERR("file as dirfd", conf_open(ffd, 0, "foo", __WASI_OFLAGS_CREAT, 0, 0, 0, &fd), E(NOTDIR), E(NOTCAPABLE));
    OK("close file", __wasi_fd_close(ffd));
    OK("unlink file", __wasi_path_unlink_file(dir, "file"));
    OK("rmdir 3", __wasi_path_remove_directory(base, "path_open_dirfd_not_dir_dir.cleanup"));

    OK("open . nonblock", conf_open(base, 0, ".", 0, 0, 0, __WASI_FDFLAGS_NONBLOCK, &fd));
    conf_pass();
    return 0;
}
