/* Conformance: interesting_paths. Absolute path: PERM or NOTCAPABLE; a path wandering through "."
 * "..", and repeated slashes but staying inside opens; a trailing NUL is INVAL, ILSEQ or NOENT; a
 * file with trailing slash(es) is NOTDIR or NOENT; a directory with trailing slash(es) opens; too
 * many ".." is PERM or NOTCAPABLE. The scratch subdirectory has the suite's narrower rights here. */
#include "conf_common.h"

/* The raw import, so that the path length can include a NUL (wasi-libc's wrapper uses strlen). */
int32_t conf_raw_path_open(int32_t fd, int32_t dirflags, int32_t path, int32_t path_len, int32_t oflags,
                           int64_t base, int64_t inheriting, int32_t fdflags, int32_t out)
    __attribute__((import_module("wasi_snapshot_preview1"), import_name("path_open")));

int main(int argc, char **argv) {
    int base = conf_scratch(argc, argv);
    const char *arg = argc > 1 ? argv[1] : "/";
    const char *dname = "interesting_paths_dir.cleanup";
    OK("mkdir scratch subdir", __wasi_path_create_directory(base, dname));
    int dir;
    OK("open scratch subdir",
       conf_open(base, 0, dname, __WASI_OFLAGS_DIRECTORY,
                 R(FD_FILESTAT_GET) | R(FD_READDIR) | R(PATH_CREATE_FILE) | R(PATH_CREATE_DIRECTORY) |
                     R(PATH_REMOVE_DIRECTORY) | R(PATH_OPEN) | R(PATH_UNLINK_FILE),
                 R(FD_READ) | R(FD_WRITE) | R(FD_READDIR) | R(FD_FILESTAT_GET) | R(FD_SEEK), 0, &dir));
    OK("mkdir dir", __wasi_path_create_directory(dir, "dir"));
    OK("mkdir dir/nested", __wasi_path_create_directory(dir, "dir/nested"));
    conf_touch(dir, "dir/nested/file");
    int fd;
    ERR("absolute path", conf_open(dir, 0, "/dir/nested/file", 0, 0, 0, 0, &fd), E(PERM), E(NOTCAPABLE));
    OK("dots and slashes", conf_open(dir, 0, "dir/.//nested/../../dir/nested/../nested///./file", 0, 0, 0, 0, &fd));
    CHECK("fd > 2", fd > 2);
    OK("close", __wasi_fd_close(fd));
    /* the path's length includes the NUL */
    static const char nul[] = "dir/nested/file";  /* 15 characters and its NUL */
    static __wasi_fd_t wfd;
    ERR("trailing NUL", conf_raw_path_open(dir, 0, (int32_t)(uintptr_t)nul, 16, 0, 0, 0, 0, (int32_t)(uintptr_t)&wfd),
        E(INVAL), E(ILSEQ), E(NOENT));
    ERR("file/", conf_open(dir, 0, "dir/nested/file/", 0, 0, 0, 0, &fd), E(NOTDIR), E(NOENT));
    ERR("file///", conf_open(dir, 0, "dir/nested/file///", 0, 0, 0, 0, &fd), E(NOTDIR), E(NOENT));
    OK("dir/", conf_open(dir, 0, "dir/nested/", 0, 0, 0, 0, &fd));
    OK("close 2", __wasi_fd_close(fd));
    OK("dir///", conf_open(dir, 0, "dir/nested///", 0, 0, 0, 0, &fd));
    OK("close 3", __wasi_fd_close(fd));
    char bad[512];
    snprintf(bad, sizeof bad, "dir/nested/../../../%s/dir/nested/file", arg);
    ERR("too many ..", conf_open(dir, 0, bad, 0, 0, 0, 0, &fd), E(PERM), E(NOTCAPABLE));
    OK("unlink file", __wasi_path_unlink_file(dir, "dir/nested/file"));
    OK("rmdir nested", __wasi_path_remove_directory(dir, "dir/nested"));
    OK("rmdir dir", __wasi_path_remove_directory(dir, "dir"));
    OK("close dir", __wasi_fd_close(dir));
    OK("rmdir scratch subdir", __wasi_path_remove_directory(base, dname));
    conf_pass();
    return 0;
}
