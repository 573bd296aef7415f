/* path_link: hard links share contents and nlink; errors for existing targets, directories, symlinks. */
#include "common.h"

#define T(label, expr) printf("%-36s %s\n", label, ename(expr))

int main(void) {
    int d = preopen_fd(NULL);
    MUST(put_file(d, "f", "data"));
    MUST(__wasi_path_create_directory(d, "dir"));
    T("link f -> g", __wasi_path_link(d, 0, "f", d, "g"));
    __wasi_filestat_t a, b;
    MUST(__wasi_path_filestat_get(d, 0, "f", &a));
    MUST(__wasi_path_filestat_get(d, 0, "g", &b));
    printf("nlink=%llu same inode=%s\n", (unsigned long long)a.nlink, a.ino == b.ino ? "yes" : "no");
    MUST(put_file(d, "g", "changed"));
    char buf[64];
    MUST(get_file(d, "f", buf, sizeof buf));
    printf("f via g: <%s>\n", buf);
    T("link f -> g (exists)", __wasi_path_link(d, 0, "f", d, "g"));
    T("link missing -> h", __wasi_path_link(d, 0, "missing", d, "h"));
    T("link dir -> dir2", __wasi_path_link(d, 0, "dir", d, "dir2"));
    T("link f -> dir/f", __wasi_path_link(d, 0, "f", d, "dir/f"));
    T("link f -> nope/f", __wasi_path_link(d, 0, "f", d, "nope/f"));
    T("link f -> h/ (trailing slash)", __wasi_path_link(d, 0, "f", d, "h/"));
    MUST(__wasi_path_symlink("f", d, "lf"));
    T("link lf -> lf2 (no follow)", __wasi_path_link(d, 0, "lf", d, "lf2"));
    T("link lf -> lf3 (follow)", __wasi_path_link(d, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "lf", d, "lf3"));
    return 0;
}
