/* Conformance: path_link. Hard links in the same and another directory share filestat and (with
 * the same rights asked) fdstat; linking over an existing file, itself, or a directory is EXIST;
 * linking a directory is PERM or ACCES; a new name with a trailing slash is NOENT; a dangling link
 * and a link loop can be hard-linked; a hard link over a dangling link is EXIST; SYMLINK_FOLLOW on
 * a dangling link is INVAL or NOENT. */
#include "conf_common.h"

#define TR (R(FD_READ) | R(PATH_LINK_SOURCE) | R(PATH_LINK_TARGET) | R(FD_FILESTAT_GET) | R(PATH_OPEN) | \
            R(PATH_UNLINK_FILE))

static int open_tr(int dir, const char *p, int oflags) {
    int fd;
    OK(p, conf_open(dir, 0, p, oflags, TR, TR, 0, &fd));
    CHECK("fd > 2", fd > 2);
    return fd;
}

static void same(int a, int b) {
    __wasi_filestat_t x, y;
    OK("filestat a", __wasi_fd_filestat_get(a, &x));
    OK("filestat b", __wasi_fd_filestat_get(b, &y));
    CHECK("dev", x.dev == y.dev);
    CHECK("ino", x.ino == y.ino);
    CHECK("atim", x.atim == y.atim);
    CHECK("mtim", x.mtim == y.mtim);
    CHECK("ctim", x.ctim == y.ctim);
    CHECK("size", x.size == y.size);
    CHECK("nlink", x.nlink == y.nlink);
    CHECK("filetype", x.filetype == y.filetype);
    __wasi_fdstat_t s, t;
    OK("fdstat a", __wasi_fd_fdstat_get(a, &s));
    OK("fdstat b", __wasi_fd_fdstat_get(b, &t));
    CHECK("fs_flags", s.fs_flags == t.fs_flags);
    CHECK("fs_filetype", s.fs_filetype == t.fs_filetype);
    if (__wasi_fd_fdstat_set_rights(a, s.fs_rights_base, s.fs_rights_inheriting) != E(NOTSUP)) {
        CHECK("rights base", s.fs_rights_base == t.fs_rights_base);
        CHECK("rights inheriting", s.fs_rights_inheriting == t.fs_rights_inheriting);
    }
}

int main(int argc, char **argv) {
    int base = conf_scratch(argc, argv);
    int dir = conf_tmpdir(base, "path_link_dir.cleanup");
    int file = open_tr(dir, "file", __WASI_OFLAGS_CREAT);
    OK("link same dir", __wasi_path_link(dir, 0, "file", dir, "link"));
    int link = open_tr(dir, "link", 0);
    same(file, link);
    OK("close link", __wasi_fd_close(link));
    OK("unlink link", __wasi_path_unlink_file(dir, "link"));

    OK("mkdir subdir", __wasi_path_create_directory(dir, "subdir"));
    int sub = open_tr(dir, "subdir", __WASI_OFLAGS_DIRECTORY);
    OK("link into subdir", __wasi_path_link(dir, 0, "file", sub, "link"));
    link = open_tr(sub, "link", 0);
    same(file, link);
    OK("close link 2", __wasi_fd_close(link));
    OK("close file", __wasi_fd_close(file));
    OK("unlink sub link", __wasi_path_unlink_file(sub, "link"));
    OK("close subdir", __wasi_fd_close(sub));
    OK("rmdir subdir", __wasi_path_remove_directory(dir, "subdir"));

    conf_touch(dir, "link");
    ERR("link over existing", __wasi_path_link(dir, 0, "file", dir, "link"), E(EXIST));
    OK("unlink link 3", __wasi_path_unlink_file(dir, "link"));
    ERR("link to itself", __wasi_path_link(dir, 0, "file", dir, "file"), E(EXIST));
    OK("mkdir link", __wasi_path_create_directory(dir, "link"));
    ERR("link over a directory", __wasi_path_link(dir, 0, "file", dir, "link"), E(EXIST));
    OK("rmdir link", __wasi_path_remove_directory(dir, "link"));
    OK("mkdir subdir 2", __wasi_path_create_directory(dir, "subdir"));
    sub = open_tr(dir, "subdir", __WASI_OFLAGS_DIRECTORY);
    ERR("link a directory", __wasi_path_link(dir, 0, "subdir", dir, "link"), E(PERM), E(ACCES));
    OK("close subdir 2", __wasi_fd_close(sub));
    OK("rmdir subdir 2", __wasi_path_remove_directory(dir, "subdir"));
    ERR("new name with slash", __wasi_path_link(dir, 0, "file", dir, "link/"), E(NOENT));

    if (__wasi_path_symlink("target", dir, "symlink") == 0) {
        OK("hard link a dangling link", __wasi_path_link(dir, 0, "symlink", dir, "link"));
        OK("unlink symlink", __wasi_path_unlink_file(dir, "symlink"));
        OK("unlink hard link", __wasi_path_unlink_file(dir, "link"));
        OK("symlink loop", __wasi_path_symlink("symlink", dir, "symlink"));
        OK("hard link a loop", __wasi_path_link(dir, 0, "symlink", dir, "link"));
        OK("unlink loop", __wasi_path_unlink_file(dir, "symlink"));
        OK("unlink loop link", __wasi_path_unlink_file(dir, "link"));
        OK("dangling again", __wasi_path_symlink("target", dir, "symlink"));
        ERR("link over a dangling link", __wasi_path_link(dir, 0, "file", dir, "symlink"), E(EXIST));
        OK("unlink dangling", __wasi_path_unlink_file(dir, "symlink"));
        OK("dangling third", __wasi_path_symlink("target", dir, "symlink"));
        ERR("link following a dangling link",
            __wasi_path_link(dir, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "symlink", dir, "link"), E(INVAL), E(NOENT));
        OK("unlink dangling 2", __wasi_path_unlink_file(dir, "symlink"));
    } else {
        printf("ok symlink refused (suite skips)\n");
    }
    OK("unlink file", __wasi_path_unlink_file(dir, "file"));
    OK("close dir", __wasi_fd_close(dir));
    OK("rmdir", __wasi_path_remove_directory(base, "path_link_dir.cleanup"));
    conf_pass();
    return 0;
}
