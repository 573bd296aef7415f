/* path_filestat_get (follow / nofollow) and path_filestat_set_times (explicit, now, errors). */
#include "common.h"

static void st(int d, int flags, const char *path) {
    __wasi_filestat_t s;
    memset(&s, 0, sizeof s);
    int e = __wasi_path_filestat_get(d, flags, path, &s);
    printf("stat(%s%s): %s", path, flags ? ", follow" : "", ename(e));
    if (!e) printf(" type=%s size=%llu nlink=%llu", ftname(s.filetype), (unsigned long long)s.size,
                   (unsigned long long)s.nlink);
    printf("\n");
}

int main(void) {
    int d = preopen_fd(NULL);
    MUST(put_file(d, "f", "hello"));
    MUST(__wasi_path_create_directory(d, "dir"));
    MUST(__wasi_path_symlink("f", d, "lf"));
    MUST(__wasi_path_symlink("gone", d, "ldangling"));
    st(d, 0, "f");
    st(d, 0, "dir");
    st(d, 0, "lf");
    st(d, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "lf");
    st(d, 0, "ldangling");
    st(d, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "ldangling");
    st(d, 0, "missing");
    st(d, 0, "f/");
    st(d, 0, "dir/");
    st(d, 0, ".");
    __wasi_filestat_t s;
    int e = __wasi_path_filestat_set_times(d, 0, "f", 1000000000ULL, 2000000000ULL,
                                           __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM);
    MUST(__wasi_path_filestat_get(d, 0, "f", &s));
    printf("set_times(f, 1s, 2s): %s atim=%llu mtim=%llu\n", ename(e), (unsigned long long)s.atim,
           (unsigned long long)s.mtim);
    e = __wasi_path_filestat_set_times(d, 0, "f", 0, 3500000000ULL, __WASI_FSTFLAGS_MTIM);
    MUST(__wasi_path_filestat_get(d, 0, "f", &s));
    printf("set mtim only: %s atim=%llu mtim=%llu\n", ename(e), (unsigned long long)s.atim, (unsigned long long)s.mtim);
    e = __wasi_path_filestat_set_times(d, 0, "f", 0, 0, __WASI_FSTFLAGS_ATIM_NOW | __WASI_FSTFLAGS_MTIM_NOW);
    MUST(__wasi_path_filestat_get(d, 0, "f", &s));
    printf("set now: %s mtim_recent=%s\n", ename(e), s.mtim > 1577836800ULL * 1000000000ULL ? "yes" : "no");
    e = __wasi_path_filestat_set_times(d, 0, "f", 5, 0, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_ATIM_NOW);
    printf("ATIM and ATIM_NOW: %s\n", ename(e));
    e = __wasi_path_filestat_set_times(d, 0, "missing", 0, 0, __WASI_FSTFLAGS_MTIM_NOW);
    printf("set_times(missing): %s\n", ename(e));
    e = __wasi_path_filestat_set_times(d, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "lf", 7000000000ULL, 7000000000ULL,
                                       __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM);
    MUST(__wasi_path_filestat_get(d, 0, "f", &s));
    printf("set_times(lf, follow): %s target mtim=%llu\n", ename(e), (unsigned long long)s.mtim);
    return 0;
}
