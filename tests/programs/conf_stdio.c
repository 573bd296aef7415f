/* Conformance: stdio. For each of fds 0, 1, 2: open a new file, renumber the stdio fd over it; the
 * destination is open, the stdio number is closed. (Nothing may be printed on stdout after fd 1
 * goes, so results are collected and printed through the renumbered descriptor at the end.) */
#include "conf_common.h"

int main(int argc, char **argv) {
    int base = conf_scratch(argc, argv);
    int dir = conf_tmpdir(base, "stdio_dir.cleanup");
    char log[1024];
    size_t len = 0;
    int outfd = 1, bad = 0;
    for (int from = 0; from < 3; from++) {
        int to;
        int e = conf_open(dir, 0, "file.cleanup", __WASI_OFLAGS_CREAT, 0, 0, 0, &to);
        __wasi_fdstat_t st;
        int e2 = e ? e : __wasi_fd_renumber(from, to);
        int e3 = e2 ? e2 : __wasi_fd_fdstat_get(to, &st);
        int e4 = e3 ? -1 : __wasi_fd_fdstat_get(from, &st);
        int e5 = __wasi_path_unlink_file(dir, "file.cleanup");
        len += snprintf(log + len, sizeof log - len, "%s %d => %d: open %s renumber %s dest %s source %s unlink %s\n",
                        (e || e2 || e3 || e4 == 0 || e5) ? "FAIL" : "ok", from, to, ename(e), ename(e2), ename(e3),
                        e4 < 0 ? "-" : ename(e4), ename(e5));
        bad |= (e || e2 || e3 || e4 == 0 || e5);
        if (from == 1 && !e2) outfd = to;  /* stdout now lives at `to` */
    }
    fflush(stdout);
    if (!bad) len += snprintf(log + len, sizeof log - len, "PASS\n");
    __wasi_ciovec_t iov = {(const uint8_t *)log, len};
    __wasi_size_t n;
    __wasi_fd_write(outfd, &iov, 1, &n);
    __wasi_fd_close(dir);
    __wasi_path_remove_directory(base, "stdio_dir.cleanup");
    return bad;
}
