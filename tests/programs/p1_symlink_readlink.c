/* path_symlink / path_readlink: relative targets (even dangling) are stored verbatim, absolute
 * targets are refused, readlink of a non-link is EINVAL, short buffers truncate. */
#include "common.h"

#define T(label, expr) printf("%-38s %s\n", label, ename(expr))

static void rl(int d, const char *path, size_t cap) {
    char buf[256];
    __wasi_size_t n = 0;
    int e = __wasi_path_readlink(d, path, (uint8_t *)buf, cap, &n);
    printf("readlink(%s, %zu): %s", path, cap, ename(e));
    if (!e) printf(" <%.*s>", (int)n, buf);
    printf("\n");
}

int main(void) {
    int d = preopen_fd(NULL);
    MUST(put_file(d, "f", "data"));
    MUST(__wasi_path_create_directory(d, "dir"));
    T("symlink f <- l1", __wasi_path_symlink("f", d, "l1"));
    T("symlink ../f <- dir/l2", __wasi_path_symlink("../f", d, "dir/l2"));
    T("symlink missing <- l3 (dangling)", __wasi_path_symlink("missing", d, "l3"));
    T("symlink dir/ <- l4", __wasi_path_symlink("dir/", d, "l4"));
    T("symlink f <- l1 (exists)", __wasi_path_symlink("f", d, "l1"));
    T("symlink f <- f (over a file)", __wasi_path_symlink("f", d, "f"));
    T("symlink f <- dir (over a dir)", __wasi_path_symlink("f", d, "dir"));
    T("symlink f <- nope/l (no parent)", __wasi_path_symlink("f", d, "nope/l"));
    T("symlink f <- l5/ (trailing slash)", __wasi_path_symlink("f", d, "l5/"));
    T("symlink \"\" <- l6 (empty target)", __wasi_path_symlink("", d, "l6"));
    rl(d, "l1", 256);
    rl(d, "dir/l2", 256);
    rl(d, "l3", 256);
    rl(d, "l4", 256);
    rl(d, "l1", 0);
    rl(d, "dir/l2", 2);
    rl(d, "f", 256);
    rl(d, "dir", 256);
    rl(d, "missing", 256);
    char buf[64];
    MUST(get_file(d, "dir/l2", buf, sizeof buf));
    printf("read through dir/l2: <%s>\n", buf);
    printf("read through l3: %s\n", ename(get_file(d, "l3", buf, sizeof buf)));
    int fd;
    printf("open l1 nofollow: %s\n", ename(raw_open(d, "l1", 0, 0, 0, &fd)));
    return 0;
}
