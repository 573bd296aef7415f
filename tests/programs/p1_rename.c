/* path_rename: file, directory, over an existing file/dir, dir into itself, file over dir, etc. */
#include "common.h"

#define T(label, expr) printf("%-40s %s\n", label, ename(expr))

int main(void) {
    int d = preopen_fd(NULL);
    MUST(put_file(d, "a", "A"));
    MUST(put_file(d, "b", "B"));
    MUST(__wasi_path_create_directory(d, "d1"));
    MUST(__wasi_path_create_directory(d, "d2"));
    MUST(__wasi_path_create_directory(d, "full"));
    MUST(put_file(d, "full/x", "X"));
    T("rename a -> a2", __wasi_path_rename(d, "a", d, "a2"));
    T("rename a2 -> b (over file)", __wasi_path_rename(d, "a2", d, "b"));
    T("rename missing -> c", __wasi_path_rename(d, "missing", d, "c"));
    T("rename b -> d1/b (into dir)", __wasi_path_rename(d, "b", d, "d1/b"));
    T("rename d1 -> d3", __wasi_path_rename(d, "d1", d, "d3"));
    T("rename d3 -> d2 (over empty dir)", __wasi_path_rename(d, "d3", d, "d2"));
    T("rename d2 -> full (over non-empty)", __wasi_path_rename(d, "d2", d, "full"));
    T("rename d2 -> d2/sub (into itself)", __wasi_path_rename(d, "d2", d, "d2/sub"));
    T("rename d2/b -> full (file over dir)", __wasi_path_rename(d, "d2/b", d, "full"));
    T("rename full -> d2/b (dir over file)", __wasi_path_rename(d, "full", d, "d2/b"));
    T("rename d2/b -> c/ (trailing slash)", __wasi_path_rename(d, "d2/b", d, "c/"));
    T("rename d2/ -> d4/ (dir, slashes)", __wasi_path_rename(d, "d2/", d, "d4/"));
    T("rename d4/b -> d4/b (same)", __wasi_path_rename(d, "d4/b", d, "d4/b"));
    T("rename . -> x", __wasi_path_rename(d, ".", d, "x"));
    T("rename x -> nope/x", __wasi_path_rename(d, "full/x", d, "nope/x"));
    MUST(__wasi_path_symlink("full", d, "lfull"));
    T("rename lfull -> lfull2 (symlink itself)", __wasi_path_rename(d, "lfull", d, "lfull2"));
    return 0;
}
