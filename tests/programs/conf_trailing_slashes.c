/* Conformance: path_symlink_trailing_slashes, remove_directory_trailing_slashes,
 * unlink_file_trailing_slashes (Linux answers; the suite accepts them in every mode).
 *   symlink: new name "target/" for a dangling link NOENT; over an existing dir (with or without
 *     slash) EXIST; over a file with slash NOTDIR (or EXIST), without EXIST.
 *   rmdir: a dir, a dir with a trailing slash (or ACCES); a file NOTDIR, a file with slash NOTDIR.
 *   unlink: a dir ISDIR, "dir/" ISDIR, "file/" NOTDIR, "file" succeeds. */
#include "conf_common.h"

static void symlink_slashes(int base) {
    int dir = conf_tmpdir(base, "path_symlink_trailing_slashes_dir.cleanup");
    ERR("sym: dangling new name with slash", __wasi_path_symlink("source", dir, "target/"), E(NOENT));
    if (__wasi_path_symlink("source", dir, "target") == 0) OK("sym: unlink", __wasi_path_unlink_file(dir, "target"));
    OK("sym: mkdir", __wasi_path_create_directory(dir, "target"));
    ERR("sym: over dir, slash", __wasi_path_symlink("source", dir, "target/"), E(EXIST));
    OK("sym: rmdir", __wasi_path_remove_directory(dir, "target"));
    OK("sym: mkdir 2", __wasi_path_create_directory(dir, "target"));
    ERR("sym: over dir", __wasi_path_symlink("source", dir, "target"), E(EXIST));
    OK("sym: rmdir 2", __wasi_path_remove_directory(dir, "target"));
    conf_touch(dir, "target");
    ERR("sym: over file, slash", __wasi_path_symlink("source", dir, "target/"), E(NOTDIR), E(EXIST));
    OK("sym: unlink file", __wasi_path_unlink_file(dir, "target"));
    conf_touch(dir, "target");
    ERR("sym: over file", __wasi_path_symlink("source", dir, "target"), E(EXIST));
    OK("sym: unlink file 2", __wasi_path_unlink_file(dir, "target"));
    OK("sym: close dir", __wasi_fd_close(dir));
    OK("sym: rmdir scratch", __wasi_path_remove_directory(base, "path_symlink_trailing_slashes_dir.cleanup"));
}

static void rmdir_slashes(int dir) {
    OK("rmdir: mkdir", __wasi_path_create_directory(dir, "dir.cleanup"));
    OK("rmdir: plain", __wasi_path_remove_directory(dir, "dir.cleanup"));
    OK("rmdir: mkdir 2", __wasi_path_create_directory(dir, "dir.cleanup"));
    int e = __wasi_path_remove_directory(dir, "dir.cleanup/");
    if (e == 0) {
        printf("ok rmdir: with slash\n");
    } else {
        ERR("rmdir: with slash", e, E(ACCES));
        OK("rmdir: plain after", __wasi_path_remove_directory(dir, "dir.cleanup"));
    }
    conf_touch(dir, "file.cleanup");
    ERR("rmdir: a file", __wasi_path_remove_directory(dir, "file.cleanup"), E(NOTDIR));
    ERR("rmdir: a file with slash", __wasi_path_remove_directory(dir, "file.cleanup/"), E(NOTDIR));
    OK("rmdir: unlink file", __wasi_path_unlink_file(dir, "file.cleanup"));
}

static void unlink_slashes(int base) {
    int dir = conf_tmpdir(base, "unlink_file_trailing_slashes_dir.cleanup");
    OK("unlink: mkdir", __wasi_path_create_directory(dir, "dir"));
    ERR("unlink: a dir", __wasi_path_unlink_file(dir, "dir"), E(ISDIR));
    ERR("unlink: a dir with slash", __wasi_path_unlink_file(dir, "dir/"), E(ISDIR));
    OK("unlink: rmdir", __wasi_path_remove_directory(dir, "dir"));
    conf_touch(dir, "file");
    ERR("unlink: file with slash", __wasi_path_unlink_file(dir, "file/"), E(NOTDIR));
    OK("unlink: file", __wasi_path_unlink_file(dir, "file"));
    OK("unlink: close dir", __wasi_fd_close(dir));
    OK("unlink: rmdir scratch", __wasi_path_remove_directory(base, "unlink_file_trailing_slashes_dir.cleanup"));
}

int main(int argc, char **argv) {
    const char *which = argc > 2 ? argv[2] : "all";
    int base = conf_scratch(argc > 1 ? 2 : 1, argv);
    if (strcmp(which, "all") == 0 || strcmp(which, "symlink") == 0) symlink_slashes(base);
    if (strcmp(which, "all") == 0 || strcmp(which, "rmdir") == 0) rmdir_slashes(base);
    if (strcmp(which, "all") == 0 || strcmp(which, "unlink") == 0) unlink_slashes(base);
    conf_pass();
    return 0;
}
