/* fd_renumber tricks: renumber a subdirectory fd onto the preopen, then use `..` from it; renumber a
 * file onto the preopen; close the preopen and use it; renumber onto a huge fd. */
#include "escape_common.h"

int main(void) {
    int d = preopen_fd(NULL);
    MUST(__wasi_path_create_directory(d, "sub"));
    MUST(__wasi_path_create_directory(d, "sub/inner"));
    int sub;
    MUST(raw_open(d, "sub", 0, __WASI_OFLAGS_DIRECTORY, 0, &sub));
    note("renumber sub->preopen", "sub", __wasi_fd_renumber(sub, d));
    /* fd d is now `sub`: `..` is the old preopen, which is still inside; `../..` is outside */
    __wasi_prestat_t ps;
    printf("prestat of renumbered fd: %s\n", ename(__wasi_fd_prestat_get(d, &ps)));
    char buf[64];
    int e = get_file(d, "../../canary/secret.txt", buf, sizeof buf);
    note("read", "../../canary/secret.txt", e);
    if (!e) printf("  LEAKED: <%s>\n", buf);
    note("mkdir", "../../canary/x", __wasi_path_create_directory(d, "../../canary/x"));
    int inner;
    MUST(raw_open(d, "inner", 0, __WASI_OFLAGS_DIRECTORY, 0, &inner));
    note("read via inner", "../../../canary/secret.txt", get_file(inner, "../../../canary/secret.txt", buf, sizeof buf));
    int f;
    MUST(put_file(inner, "f", "x"));
    MUST(raw_open(inner, "f", 0, 0, 0, &f));
    note("renumber file->dirfd", "f", __wasi_fd_renumber(f, d));
    note("path_open via a file fd", "x", raw_open(d, "x", 0, 0, 0, &f));
    printf("fd_close(preopen): %s\n", ename(__wasi_fd_close(d)));
    note("use closed preopen", "x", __wasi_path_create_directory(d, "x"));
    note("renumber onto huge fd", "0x7fffffff", __wasi_fd_renumber(inner, 0x7fffffff));
    printf("attempts=%d successes=%d\n", attempts, successes);
    return 0;
}
