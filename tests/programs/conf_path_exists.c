/* Conformance: path_exists. path_filestat_get with and without SYMLINK_FOLLOW on a directory, a
 * file, a link to the file and a link to the directory. */
#include "conf_common.h"

static void stat_is(int dir, int flags, const char *p, int type, const char *label) {
    __wasi_filestat_t st;
    OK(label, __wasi_path_filestat_get(dir, flags, p, &st));
    CHECK(label, st.filetype == type);
}

int main(int argc, char **argv) {
    int base = conf_scratch(argc, argv);
    int dir = conf_tmpdir(base, "path_exists_dir.cleanup");
    const int F = __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW;
    OK("mkdir", __wasi_path_create_directory(dir, "subdir"));
    stat_is(dir, 0, "subdir", __WASI_FILETYPE_DIRECTORY, "subdir");
    stat_is(dir, F, "subdir", __WASI_FILETYPE_DIRECTORY, "subdir follow");
    conf_touch(dir, "subdir/file");
    stat_is(dir, 0, "subdir/file", __WASI_FILETYPE_REGULAR_FILE, "file");
    stat_is(dir, F, "subdir/file", __WASI_FILETYPE_REGULAR_FILE, "file follow");
    OK("symlink to file", __wasi_path_symlink("subdir/file", dir, "link1"));
    stat_is(dir, 0, "link1", __WASI_FILETYPE_SYMBOLIC_LINK, "link1");
    stat_is(dir, F, "link1", __WASI_FILETYPE_REGULAR_FILE, "link1 follow");
    OK("symlink to dir", __wasi_path_symlink("subdir", dir, "link2"));
    stat_is(dir, 0, "link2", __WASI_FILETYPE_SYMBOLIC_LINK, "link2");
    stat_is(dir, F, "link2", __WASI_FILETYPE_DIRECTORY, "link2 follow");
    OK("unlink link1", __wasi_path_unlink_file(dir, "link1"));
    OK("unlink link2", __wasi_path_unlink_file(dir, "link2"));
    OK("unlink file", __wasi_path_unlink_file(dir, "subdir/file"));
    OK("rmdir subdir", __wasi_path_remove_directory(dir, "subdir"));
    OK("close dir", __wasi_fd_close(dir));
    OK("rmdir", __wasi_path_remove_directory(base, "path_exists_dir.cleanup"));
    conf_pass();
    return 0;
}
