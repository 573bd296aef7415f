/* Conformance: nofollow_errors. A link to a directory, not followed: O_DIRECTORY gives LOOP or
 * NOTDIR, plain open LOOP or ACCES; followed with O_DIRECTORY it opens. A link to a file, not
 * followed: O_DIRECTORY LOOP or NOTDIR, plain LOOP; followed with O_DIRECTORY NOTDIR. */
#include "conf_common.h"

int main(int argc, char **argv) {
    int base = conf_scratch(argc, argv);
    int dir = conf_tmpdir(base, "nofollow_errors_dir.cleanup"), fd;
    OK("mkdir target", __wasi_path_create_directory(dir, "target"));
    OK("symlink", __wasi_path_symlink("target", dir, "symlink"));
    ERR("dirlink nofollow O_DIRECTORY", conf_open(dir, 0, "symlink", __WASI_OFLAGS_DIRECTORY, 0, 0, 0, &fd),
        E(LOOP), E(NOTDIR));
    ERR("dirlink nofollow", conf_open(dir, 0, "symlink", 0, 0, 0, 0, &fd), E(LOOP), E(ACCES));
    OK("dirlink follow O_DIRECTORY",
       conf_open(dir, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "symlink", __WASI_OFLAGS_DIRECTORY, 0, 0, 0, &fd));
    CHECK("fd > 2", fd > 2);
    OK("close", __wasi_fd_close(fd));
    OK("unlink link", __wasi_path_unlink_file(dir, "symlink"));
    OK("rmdir target", __wasi_path_remove_directory(dir, "target"));
    OK("create target file", conf_open(dir, 0, "target", __WASI_OFLAGS_CREAT, 0, 0, 0, &fd));
    OK("close target", __wasi_fd_close(fd));
    OK("symlink 2", __wasi_path_symlink("target", dir, "symlink"));
    ERR("filelink nofollow O_DIRECTORY", conf_open(dir, 0, "symlink", __WASI_OFLAGS_DIRECTORY, 0, 0, 0, &fd),
        E(LOOP), E(NOTDIR));
    ERR("filelink nofollow", conf_open(dir, 0, "symlink", 0, 0, 0, 0, &fd), E(LOOP));
    ERR("filelink follow O_DIRECTORY",
        conf_open(dir, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "symlink", __WASI_OFLAGS_DIRECTORY, 0, 0, 0, &fd), E(NOTDIR));
    OK("unlink target", __wasi_path_unlink_file(dir, "target"));
    OK("unlink link 2", __wasi_path_unlink_file(dir, "symlink"));
    OK("close dir", __wasi_fd_close(dir));
    OK("rmdir", __wasi_path_remove_directory(base, "nofollow_errors_dir.cleanup"));
    conf_pass();
    return 0;
}
