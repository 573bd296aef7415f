/* Helpers for the conformance guests (tests/programs/conf_*.c).
 *
 * Each conf_* program re-creates, in our own words, the call sequence of one preview1 test of the
 * WASI conformance suite (WebAssembly/wasi-testsuite) and checks the same outcomes. Every check
 * prints one line:
 *     ok <label>[: <ERRNO>]          the check passed (the errno actually returned, when one is checked)
 *     FAIL <label>: <what happened>  the check failed; the program then exits 1, as the suite's test would
 * and a passing program ends with the line "PASS".
 *
 * Where the suite accepts several errnos, the set is given with ANY(...); where it distinguishes
 * platforms, our checks use the Linux ("unix") answer, which also satisfies its permissive mode. */
#ifndef VWASM_CONF_COMMON_H
#define VWASM_CONF_COMMON_H

#include "common.h"

#define CONF_MAX_ACCEPT 6

static inline void conf_fail(const char *label, const char *fmt, const char *a) {
    printf("FAIL %s: ", label);
    printf(fmt, a);
    printf("\n");
    fflush(stdout);
    exit(1);
}

/* The call must succeed. */
#define OK(label, expr)                                                        \
    do {                                                                       \
        int _e = (int)(expr);                                                  \
        if (_e != 0) conf_fail((label), "expected SUCCESS, got %s", ename(_e)); \
        printf("ok %s\n", (label));                                            \
    } while (0)

/* The call must fail with one of the listed errnos (WASI numbers, e.g. __WASI_ERRNO_NOENT). */
#define ERR(label, expr, ...)                                                           \
    do {                                                                                \
        int _e = (int)(expr);                                                           \
        int _acc[CONF_MAX_ACCEPT] = {__VA_ARGS__};                                      \
        int _n = (int)(sizeof((int[]){__VA_ARGS__}) / sizeof(int)), _hit = 0;           \
        for (int _i = 0; _i < _n; _i++) _hit |= (_acc[_i] == _e);                       \
        if (_e == 0) conf_fail((label), "expected an error, got %s", "SUCCESS");       \
        if (!_hit) conf_fail((label), "unexpected errno %s", ename(_e));               \
        printf("ok %s: %s\n", (label), ename(_e));                                     \
    } while (0)

/* A condition on results. */
#define CHECK(label, cond)                                                      \
    do {                                                                        \
        if (!(cond)) conf_fail((label), "condition failed: %s", #cond);       \
        printf("ok %s\n", (label));                                             \
    } while (0)

static inline void conf_pass(void) {
    printf("PASS\n");
    fflush(stdout);
}

/* The fd of the directory preopen whose guest name is `name`, or -1. */
static inline int conf_preopen(const char *name) { return find_preopen(name); }

/* The suite's two ways to find its scratch directory:
 *  - with an argument: the preopen of that name, used as is;
 *  - without: the preopen named "/", re-opened as "." with the preopen's own rights (a new fd > 3). */
static inline int conf_scratch(int argc, char **argv) {
    if (argc > 1) {
        int fd = conf_preopen(argv[1]);
        if (fd < 0) conf_fail("scratch", "no preopen named %s", argv[1]);
        return fd;
    }
    int pre = conf_preopen("/");
    if (pre < 0) conf_fail("scratch", "no preopen named %s", "/");
    __wasi_fdstat_t st;
    OK("scratch fdstat", __wasi_fd_fdstat_get(pre, &st));
    __wasi_fd_t fd;
    OK("scratch reopen", __wasi_path_open(pre, 0, ".", __WASI_OFLAGS_DIRECTORY, st.fs_rights_base,
                                          st.fs_rights_inheriting, 0, &fd));
    return (int)fd;
}

#define R(x) ((__wasi_rights_t)__WASI_RIGHTS_##x)

/* The rights the suite's helper asks for when it makes and opens a scratch subdirectory. */
#define CONF_TMPDIR_BASE                                                                          \
    (R(FD_FILESTAT_GET) | R(FD_READDIR) | R(PATH_CREATE_FILE) | R(PATH_CREATE_DIRECTORY) |         \
     R(PATH_REMOVE_DIRECTORY) | R(PATH_OPEN) | R(PATH_UNLINK_FILE) | R(PATH_LINK_SOURCE) |         \
     R(PATH_LINK_TARGET) | R(PATH_READLINK) | R(PATH_RENAME_SOURCE) | R(PATH_RENAME_TARGET) |      \
     R(PATH_FILESTAT_GET) | R(PATH_FILESTAT_SET_SIZE) | R(PATH_FILESTAT_SET_TIMES) | R(PATH_SYMLINK))
#define CONF_TMPDIR_INHERITING                                                                     \
    (R(FD_READ) | R(FD_WRITE) | R(FD_READDIR) | R(FD_FILESTAT_GET) | R(FD_SEEK) |                  \
     R(PATH_LINK_SOURCE) | R(PATH_LINK_TARGET) | R(PATH_OPEN) | R(PATH_UNLINK_FILE) |               \
     R(PATH_FILESTAT_GET) | R(FD_FDSTAT_SET_FLAGS) | R(FD_SYNC) | R(FD_TELL) | R(FD_ADVISE) |       \
     R(FD_ALLOCATE) | R(FD_FILESTAT_SET_SIZE) | R(FD_FILESTAT_SET_TIMES))

/* mkdir `name` under base and open it with the helper's rights. */
static inline int conf_tmpdir(int base, const char *name) {
    OK("mkdir scratch subdir", __wasi_path_create_directory(base, name));
    __wasi_fd_t fd;
    OK("open scratch subdir", __wasi_path_open(base, 0, name, __WASI_OFLAGS_DIRECTORY, CONF_TMPDIR_BASE,
                                               CONF_TMPDIR_INHERITING, 0, &fd));
    return (int)fd;
}

/* Create an empty file with no rights asked, close it (the suite's create_file). */
static inline void conf_touch(int dir, const char *path) {
    __wasi_fd_t fd;
    OK("create file", __wasi_path_open(dir, 0, path, __WASI_OFLAGS_CREAT, 0, 0, 0, &fd));
    CHECK("created fd > 2", fd > 2);
    OK("close created file", __wasi_fd_close(fd));
}

/* path_open returning the fd through a pointer (the errno is the result). */
static inline int conf_open(int dir, int lookup, const char *path, int oflags, __wasi_rights_t base,
                            __wasi_rights_t inh, int fdflags, int *out) {
    __wasi_fd_t fd = (__wasi_fd_t)-1;
    int e = __wasi_path_open(dir, lookup, path, oflags, base, inh, fdflags, &fd);
    *out = e == 0 ? (int)fd : -1;
    return e;
}

static inline int conf_write(int fd, const void *buf, size_t len, size_t *n) {
    __wasi_ciovec_t iov = {buf, len};
    __wasi_size_t w = 0;
    int e = __wasi_fd_write(fd, &iov, 1, &w);
    *n = w;
    return e;
}

static inline int conf_read(int fd, void *buf, size_t len, size_t *n) {
    __wasi_iovec_t iov = {buf, len};
    __wasi_size_t r = 0;
    int e = __wasi_fd_read(fd, &iov, 1, &r);
    *n = r;
    return e;
}

#define E(x) __WASI_ERRNO_##x

#endif
