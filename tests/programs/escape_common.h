/* Helpers for the escape programs: try every path operation on a path and print each errno.
 * Every attempt is printed as "<op> <path>: <ERRNO>", so the test can check all are refusals. */
#include "common.h"

static int attempts, successes;

static void note(const char *op, const char *path, int e) {
    attempts++;
    if (e == 0) successes++;
    printf("%s %s: %s\n", op, path, ename(e));
}

/* Operations that read or stat through `path`. */
static void try_read_ops(int d, const char *path) {
    __wasi_fd_t fd;
    int e = __wasi_path_open(d, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, path, 0, __WASI_RIGHTS_FD_READ, 0, 0, &fd);
    note("open-read", path, e);
    if (!e) {
        char buf[128];
        size_t n = 0;
        raw_read(fd, buf, sizeof buf - 1, &n);
        buf[n] = 0;
        printf("  LEAKED: <%s>\n", buf);
        __wasi_fd_close(fd);
    }
    e = __wasi_path_open(d, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, path, __WASI_OFLAGS_DIRECTORY,
                         __WASI_RIGHTS_FD_READDIR | __WASI_RIGHTS_PATH_OPEN, RIGHTS_ALL, 0, &fd);
    note("open-dir", path, e);
    if (!e) __wasi_fd_close(fd);
    __wasi_filestat_t st;
    note("stat-follow", path, __wasi_path_filestat_get(d, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, path, &st));
    char lb[256];
    __wasi_size_t n;
    int re = __wasi_path_readlink(d, path, (uint8_t *)lb, sizeof lb, &n);
    /* readlink of a symlink inside the sandbox is fine (it only reveals the stored text) */
    printf("readlink %s: %s\n", path, ename(re));
}

/* Operations that change the world through `path` (each must be refused). */
static void try_write_ops(int d, const char *path) {
    __wasi_fd_t fd;
    int e = __wasi_path_open(d, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, path, __WASI_OFLAGS_CREAT,
                             __WASI_RIGHTS_FD_WRITE, 0, 0, &fd);
    note("open-creat", path, e);
    if (!e) { raw_write_all(fd, "PWNED", 5); __wasi_fd_close(fd); }
    e = __wasi_path_open(d, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, path, __WASI_OFLAGS_TRUNC, __WASI_RIGHTS_FD_WRITE, 0, 0, &fd);
    note("open-trunc", path, e);
    if (!e) __wasi_fd_close(fd);
    note("utimes", path, __wasi_path_filestat_set_times(d, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, path, 1, 1,
                                                        __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM));
    note("mkdir", path, __wasi_path_create_directory(d, path));
    char sub[512];
    snprintf(sub, sizeof sub, "%s/newdir", path);
    note("mkdir-under", sub, __wasi_path_create_directory(d, sub));
    snprintf(sub, sizeof sub, "%s/secret.txt", path);
    note("unlink-under", sub, __wasi_path_unlink_file(d, sub));
    snprintf(sub, sizeof sub, "%s/sub", path);
    note("rmdir-under", sub, __wasi_path_remove_directory(d, sub));
    snprintf(sub, sizeof sub, "%s/secret.txt", path);
    note("rename-out-of", sub, __wasi_path_rename(d, sub, d, "stolen.txt"));
    MUST(put_file(d, "bait.txt", "bait"));
    snprintf(sub, sizeof sub, "%s/planted.txt", path);
    note("rename-into", sub, __wasi_path_rename(d, "bait.txt", d, sub));
    note("link-into", sub, __wasi_path_link(d, 0, "bait.txt", d, sub));
    snprintf(sub, sizeof sub, "%s/secret.txt", path);
    note("link-out-of", sub, __wasi_path_link(d, 0, sub, d, "stolen-link.txt"));
    snprintf(sub, sizeof sub, "%s/planted-link", path);
    note("symlink-into", sub, __wasi_path_symlink("bait.txt", d, sub));
    __wasi_path_unlink_file(d, "bait.txt");
}
