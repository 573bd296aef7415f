/* path_open and its error paths: CREAT, EXCL, TRUNC, DIRECTORY, opening a directory for writing,
 * trailing slashes, missing parents, empty path, non-directory in the middle, bad dirfd. */
#include "common.h"

static void try_open(int dir, const char *label, const char *path, int lookup, int oflags, int fdflags,
                     __wasi_rights_t base) {
    __wasi_fd_t fd;
    int e = __wasi_path_open(dir, lookup, path, oflags, base | __WASI_RIGHTS_FD_FILESTAT_GET, RIGHTS_ALL, fdflags, &fd);
    printf("%-36s %s", label, ename(e));
    if (e == 0) {
        __wasi_fdstat_t st;
        MUST(__wasi_fd_fdstat_get(fd, &st));
        __wasi_filestat_t fs;
        MUST(__wasi_fd_filestat_get(fd, &fs));
        printf(" type=%s size=%llu", ftname(st.fs_filetype), (unsigned long long)fs.size);
        MUST(__wasi_fd_close(fd));
    }
    printf("\n");
}

#define RW (__WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_SEEK | __WASI_RIGHTS_FD_FILESTAT_GET)
#define RO (__WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_FILESTAT_GET)
#define WO (__WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_FILESTAT_GET)

int main(void) {
    int d = preopen_fd(NULL);
    MUST(put_file(d, "existing.txt", "0123456789"));
    MUST(__wasi_path_create_directory(d, "dir"));
    MUST(put_file(d, "dir/inner.txt", "inner"));

    try_open(d, "open existing", "existing.txt", 0, 0, 0, RW);
    try_open(d, "open missing", "missing.txt", 0, 0, 0, RW);
    try_open(d, "creat new", "new.txt", 0, __WASI_OFLAGS_CREAT, 0, RW);
    try_open(d, "creat existing", "existing.txt", 0, __WASI_OFLAGS_CREAT, 0, RW);
    try_open(d, "creat|excl existing", "existing.txt", 0, __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL, 0, RW);
    try_open(d, "creat|excl new", "new2.txt", 0, __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL, 0, RW);
    try_open(d, "excl without creat", "existing.txt", 0, __WASI_OFLAGS_EXCL, 0, RW);
    try_open(d, "trunc existing", "existing.txt", 0, __WASI_OFLAGS_TRUNC, 0, RW);
    MUST(put_file(d, "existing.txt", "0123456789"));
    try_open(d, "creat|trunc existing", "existing.txt", 0, __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC, 0, RW);
    MUST(put_file(d, "existing.txt", "0123456789"));
    try_open(d, "directory flag on dir", "dir", 0, __WASI_OFLAGS_DIRECTORY, 0, 0);
    try_open(d, "directory flag on file", "existing.txt", 0, __WASI_OFLAGS_DIRECTORY, 0, 0);
    try_open(d, "directory flag, missing", "nodir", 0, __WASI_OFLAGS_DIRECTORY, 0, 0);
    try_open(d, "creat|directory", "newdir", 0, __WASI_OFLAGS_CREAT | __WASI_OFLAGS_DIRECTORY, 0, 0);
    try_open(d, "dir read-only, no flag", "dir", 0, 0, 0, RO);
    try_open(d, "dir for writing", "dir", 0, 0, 0, WO);
    try_open(d, "dir with trunc", "dir", 0, __WASI_OFLAGS_TRUNC, 0, RW);
    try_open(d, "creat on existing dir", "dir", 0, __WASI_OFLAGS_CREAT, 0, RW);
    try_open(d, "file with trailing slash", "existing.txt/", 0, 0, 0, RO);
    try_open(d, "dir with trailing slash", "dir/", 0, 0, 0, RO);
    try_open(d, "creat with trailing slash", "newfile/", 0, __WASI_OFLAGS_CREAT, 0, RW);
    try_open(d, "file in subdir", "dir/inner.txt", 0, 0, 0, RO);
    try_open(d, "through a file", "existing.txt/x", 0, 0, 0, RO);
    try_open(d, "missing parent", "nope/x.txt", 0, __WASI_OFLAGS_CREAT, 0, RW);
    try_open(d, "dot", ".", 0, __WASI_OFLAGS_DIRECTORY, 0, 0);
    try_open(d, "dot slash file", "./existing.txt", 0, 0, 0, RO);
    try_open(d, "dir/.. (stays inside)", "dir/../existing.txt", 0, 0, 0, RO);
    try_open(d, "empty path", "", 0, 0, 0, RO);
    try_open(d, "double slash", "dir//inner.txt", 0, 0, 0, RO);
    try_open(d, "append", "existing.txt", 0, 0, __WASI_FDFLAGS_APPEND, WO);
    try_open(1, "dirfd is a stream", "x", 0, 0, 0, RO);
    try_open(77, "dirfd is closed", "x", 0, 0, 0, RO);
    return 0;
}
