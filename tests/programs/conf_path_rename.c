/* Conformance: path_rename and path_rename_dir_trailing_slashes.
 *   dir -> new name; dir -> empty dir (replaces it); dir -> non-empty dir NOTEMPTY; dir -> a file
 *   NOTDIR (or success on Windows); file -> new name; file -> existing file (replaces it);
 *   file -> a directory ISDIR.
 *   A directory renamed with trailing slashes on either or both names succeeds. */
#include "conf_common.h"

static void gone(int dir, const char *p, int oflags) {
    int fd;
    ERR("source gone", conf_open(dir, 0, p, oflags, 0, 0, 0, &fd), E(NOENT));
}
static void there(int dir, const char *p, int oflags) {
    int fd;
    OK("target there", conf_open(dir, 0, p, oflags, 0, 0, 0, &fd));
    CHECK("fd > 2", fd > 2);
    OK("close target", __wasi_fd_close(fd));
}

static void rename_cases(int base) {
    int dir = conf_tmpdir(base, "path_rename_dir.cleanup");
    const int D = __WASI_OFLAGS_DIRECTORY;
    OK("mkdir source", __wasi_path_create_directory(dir, "source"));
    OK("rename dir", __wasi_path_rename(dir, "source", dir, "target"));
    gone(dir, "source", D);
    there(dir, "target", D);
    OK("rmdir target", __wasi_path_remove_directory(dir, "target"));

    OK("mkdir source 2", __wasi_path_create_directory(dir, "source"));
    OK("mkdir target 2", __wasi_path_create_directory(dir, "target"));
    OK("rename dir over empty dir", __wasi_path_rename(dir, "source", dir, "target"));
    gone(dir, "source", D);
    there(dir, "target", D);
    OK("rmdir target 2", __wasi_path_remove_directory(dir, "target"));

    OK("mkdir source 3", __wasi_path_create_directory(dir, "source"));
    OK("mkdir target 3", __wasi_path_create_directory(dir, "target"));
    conf_touch(dir, "target/file");
    ERR("rename dir over non-empty dir", __wasi_path_rename(dir, "source", dir, "target"), E(NOTEMPTY));
    int e = __wasi_path_rename(dir, "source", dir, "target/file");
    if (e == 0) {
        printf("ok rename dir over file: SUCCESS\n");
        OK("rmdir target/file", __wasi_path_remove_directory(dir, "target/file"));
    } else {
        ERR("rename dir over file", e, E(NOTDIR));
        OK("unlink target/file", __wasi_path_unlink_file(dir, "target/file"));
        OK("rmdir source", __wasi_path_remove_directory(dir, "source"));
    }
    OK("rmdir target 3", __wasi_path_remove_directory(dir, "target"));

    conf_touch(dir, "source");
    OK("rename file", __wasi_path_rename(dir, "source", dir, "target"));
    gone(dir, "source", 0);
    there(dir, "target", 0);
    OK("unlink target", __wasi_path_unlink_file(dir, "target"));

    conf_touch(dir, "source");
    conf_touch(dir, "target");
    OK("rename file over file", __wasi_path_rename(dir, "source", dir, "target"));
    gone(dir, "source", 0);
    there(dir, "target", 0);
    OK("unlink target 2", __wasi_path_unlink_file(dir, "target"));

    conf_touch(dir, "source");
    OK("mkdir target 4", __wasi_path_create_directory(dir, "target"));
    ERR("rename file over dir", __wasi_path_rename(dir, "source", dir, "target"), E(ISDIR));
    OK("rmdir target 4", __wasi_path_remove_directory(dir, "target"));
    OK("unlink source", __wasi_path_unlink_file(dir, "source"));
    OK("close dir", __wasi_fd_close(dir));
    OK("rmdir", __wasi_path_remove_directory(base, "path_rename_dir.cleanup"));
}

static void trailing(int base) {
    int dir = conf_tmpdir(base, "path_rename_dir_trailing_slashes_dir.cleanup");
    OK("ts: mkdir", __wasi_path_create_directory(dir, "source"));
    OK("ts: source/ -> target", __wasi_path_rename(dir, "source/", dir, "target"));
    OK("ts: target -> source/", __wasi_path_rename(dir, "target", dir, "source/"));
    OK("ts: source/ -> target/", __wasi_path_rename(dir, "source/", dir, "target/"));
    OK("ts: target -> source", __wasi_path_rename(dir, "target", dir, "source"));
    OK("ts: rmdir", __wasi_path_remove_directory(dir, "source"));
    OK("ts: rmdir scratch", __wasi_path_remove_directory(base, "path_rename_dir_trailing_slashes_dir.cleanup"));
}

int main(int argc, char **argv) {
    int base = conf_scratch(argc, argv);
    rename_cases(base);
    trailing(base);
    conf_pass();
    return 0;
}
