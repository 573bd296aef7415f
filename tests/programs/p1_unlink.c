/* path_unlink_file and its errors (directories, trailing slashes, symlinks are removed not followed). */
#include "common.h"

#define T(label, expr) printf("%-34s %s\n", label, ename(expr))

int main(void) {
    int d = preopen_fd(NULL);
    MUST(put_file(d, "f", "data"));
    MUST(__wasi_path_create_directory(d, "dir"));
    MUST(__wasi_path_symlink("f", d, "lf"));
    MUST(__wasi_path_symlink("dir", d, "ldir"));
    MUST(__wasi_path_symlink("missing", d, "ldangling"));
    T("unlink f/ (trailing slash)", __wasi_path_unlink_file(d, "f/"));
    T("unlink f", __wasi_path_unlink_file(d, "f"));
    T("unlink f again", __wasi_path_unlink_file(d, "f"));
    T("unlink dir", __wasi_path_unlink_file(d, "dir"));
    T("unlink dir/", __wasi_path_unlink_file(d, "dir/"));
    T("unlink lf (dangling now)", __wasi_path_unlink_file(d, "lf"));
    T("unlink ldir", __wasi_path_unlink_file(d, "ldir"));
    T("unlink ldangling", __wasi_path_unlink_file(d, "ldangling"));
    T("unlink .", __wasi_path_unlink_file(d, "."));
    T("unlink empty", __wasi_path_unlink_file(d, ""));
    T("unlink missing/x", __wasi_path_unlink_file(d, "missing/x"));
    return 0;
}
