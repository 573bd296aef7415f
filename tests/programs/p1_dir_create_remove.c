/* path_create_directory / path_remove_directory and their errors. */
#include "common.h"

#define T(label, expr) printf("%-34s %s\n", label, ename(expr))

int main(void) {
    int d = preopen_fd(NULL);
    T("mkdir a", __wasi_path_create_directory(d, "a"));
    T("mkdir a again", __wasi_path_create_directory(d, "a"));
    T("mkdir a/b", __wasi_path_create_directory(d, "a/b"));
    T("mkdir x/y (missing parent)", __wasi_path_create_directory(d, "x/y"));
    T("mkdir c/ (trailing slash)", __wasi_path_create_directory(d, "c/"));
    MUST(put_file(d, "f", "data"));
    T("mkdir over a file", __wasi_path_create_directory(d, "f"));
    T("mkdir under a file", __wasi_path_create_directory(d, "f/sub"));
    T("mkdir empty path", __wasi_path_create_directory(d, ""));
    T("mkdir .", __wasi_path_create_directory(d, "."));
    T("rmdir a (not empty)", __wasi_path_remove_directory(d, "a"));
    T("rmdir a/b", __wasi_path_remove_directory(d, "a/b"));
    T("rmdir a/b again", __wasi_path_remove_directory(d, "a/b"));
    T("rmdir a/", __wasi_path_remove_directory(d, "a/"));
    T("rmdir f (a file)", __wasi_path_remove_directory(d, "f"));
    T("rmdir .", __wasi_path_remove_directory(d, "."));
    MUST(__wasi_path_symlink("c", d, "lc"));
    T("rmdir symlink to dir", __wasi_path_remove_directory(d, "lc"));
    T("rmdir c", __wasi_path_remove_directory(d, "c"));
    T("mkdir on stdout fd", __wasi_path_create_directory(1, "z"));
    return 0;
}
