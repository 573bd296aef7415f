/* Conformance: isatty. A regular file is not a tty (wasi-libc's isatty: fdstat filetype and rights). */
#include "conf_common.h"
#include <unistd.h>

int main(int argc, char **argv) {
    int base = conf_scratch(argc, argv);
    int dir = conf_tmpdir(base, "isatty_dir.cleanup"), fd;
    OK("create", conf_open(dir, 0, "file", __WASI_OFLAGS_CREAT, 0, 0, 0, &fd));
    CHECK("fd > 2", fd > 2);
    CHECK("not a tty", isatty(fd) == 0);
    OK("close", __wasi_fd_close(fd));
    OK("unlink", __wasi_path_unlink_file(dir, "file"));
    OK("close dir", __wasi_fd_close(dir));
    OK("rmdir", __wasi_path_remove_directory(base, "isatty_dir.cleanup"));
    conf_pass();
    return 0;
}
