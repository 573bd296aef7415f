/* Conformance: dangling_fd. Create/open/close/unlink a file and then create it again; same for a
 * directory (mkdir, open, close, rmdir, mkdir again). */
#include "conf_common.h"

int main(int argc, char **argv) {
    int dir = conf_scratch(argc, argv);
    const char *f = "dangling_fd_file.cleanup", *d = "dangling_fd_subdir.cleanup";
    int fd;
    OK("create file", conf_open(dir, 0, f, __WASI_OFLAGS_CREAT, 0, 0, 0, &fd));
    OK("close", __wasi_fd_close(fd));
    OK("reopen", conf_open(dir, 0, f, 0, 0, 0, 0, &fd));
    CHECK("fd > 2", fd > 2);
    OK("close reopened", __wasi_fd_close(fd));
    OK("unlink", __wasi_path_unlink_file(dir, f));
    OK("create again", conf_open(dir, 0, f, __WASI_OFLAGS_CREAT, 0, 0, 0, &fd));
    OK("close again", __wasi_fd_close(fd));
    OK("unlink again", __wasi_path_unlink_file(dir, f));
    OK("mkdir", __wasi_path_create_directory(dir, d));
    OK("open dir", conf_open(dir, 0, d, __WASI_OFLAGS_DIRECTORY, 0, 0, 0, &fd));
    CHECK("dir fd > 2", fd > 2);
    OK("close dir", __wasi_fd_close(fd));
    OK("rmdir", __wasi_path_remove_directory(dir, d));
    OK("mkdir again", __wasi_path_create_directory(dir, d));
    conf_pass();
    return 0;
}
