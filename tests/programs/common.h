/* Shared helpers for the guest test programs (WASI preview1, built with wasi-libc).
 * Everything printed is deterministic so that a differential run can compare outputs. */
#ifndef VWASM_TEST_COMMON_H
#define VWASM_TEST_COMMON_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

/* Line-buffer stdout so that output printed before a trap is not lost. */
__attribute__((constructor)) static void vwasm_test_line_buffer(void) { setvbuf(stdout, NULL, _IOLBF, 0); }

/* WASI errno names; wasi-libc's errno values are the WASI errno numbers, so this serves both. */
static const char *const ERRNO_NAMES[] = {
    "SUCCESS", "E2BIG", "EACCES", "EADDRINUSE", "EADDRNOTAVAIL", "EAFNOSUPPORT", "EAGAIN",
    "EALREADY", "EBADF", "EBADMSG", "EBUSY", "ECANCELED", "ECHILD", "ECONNABORTED",
    "ECONNREFUSED", "ECONNRESET", "EDEADLK", "EDESTADDRREQ", "EDOM", "EDQUOT", "EEXIST",
    "EFAULT", "EFBIG", "EHOSTUNREACH", "EIDRM", "EILSEQ", "EINPROGRESS", "EINTR", "EINVAL",
    "EIO", "EISCONN", "EISDIR", "ELOOP", "EMFILE", "EMLINK", "EMSGSIZE", "EMULTIHOP",
    "ENAMETOOLONG", "ENETDOWN", "ENETRESET", "ENETUNREACH", "ENFILE", "ENOBUFS", "ENODEV",
    "ENOENT", "ENOEXEC", "ENOLCK", "ENOLINK", "ENOMEM", "ENOMSG", "ENOPROTOOPT", "ENOSPC",
    "ENOSYS", "ENOTCONN", "ENOTDIR", "ENOTEMPTY", "ENOTRECOVERABLE", "ENOTSOCK", "ENOTSUP",
    "ENOTTY", "ENXIO", "EOVERFLOW", "EOWNERDEAD", "EPERM", "EPIPE", "EPROTO",
    "EPROTONOSUPPORT", "EPROTOTYPE", "ERANGE", "EROFS", "ESPIPE", "ESRCH", "ESTALE",
    "ETIMEDOUT", "ETXTBSY", "EXDEV", "ENOTCAPABLE",
};

static inline const char *ename(int e) {
    static char buf[24];
    if (e >= 0 && e < (int)(sizeof ERRNO_NAMES / sizeof ERRNO_NAMES[0])) return ERRNO_NAMES[e];
    snprintf(buf, sizeof buf, "E#%d", e);
    return buf;
}

static inline const char *ftname(int t) {
    static const char *const names[] = {"UNKNOWN", "BLOCK_DEVICE", "CHARACTER_DEVICE", "DIRECTORY",
                                        "REGULAR_FILE", "SOCKET_DGRAM", "SOCKET_STREAM", "SYMBOLIC_LINK"};
    return (t >= 0 && t < 8) ? names[t] : "FILETYPE?";
}

/* Print "<label>: <ERRNO>" for a raw WASI call result and return it. */
#define REPORT(label, expr)                                         \
    ({                                                              \
        int _e = (int)(expr);                                       \
        printf("%s: %s\n", (label), ename(_e));                     \
        _e;                                                         \
    })

/* Abort the program (exit 2) when a setup step that must succeed fails. */
#define MUST(expr)                                                                   \
    do {                                                                             \
        int _e = (int)(expr);                                                        \
        if (_e != 0) {                                                               \
            printf("FATAL %s:%d: %s -> %s\n", __FILE__, __LINE__, #expr, ename(_e)); \
            fflush(stdout);                                                          \
            exit(2);                                                                 \
        }                                                                            \
    } while (0)

/* Every right; the host narrows it to what the object supports. */
#define RIGHTS_ALL ((__wasi_rights_t)0x1fffffffULL)

/* The descriptor of the preopen whose guest name is `name` (the first preopen if name is NULL), or -1. */
static inline int find_preopen(const char *name) {
    for (int fd = 3; fd < 64; fd++) {
        __wasi_prestat_t ps;
        if (__wasi_fd_prestat_get(fd, &ps) != 0) break;
        if (ps.tag != __WASI_PREOPENTYPE_DIR) continue;
        char buf[256];
        size_t n = ps.u.dir.pr_name_len;
        if (n >= sizeof buf) continue;
        if (__wasi_fd_prestat_dir_name(fd, (uint8_t *)buf, n) != 0) continue;
        buf[n] = 0;
        if (!name || strcmp(buf, name) == 0) return fd;
    }
    return -1;
}

/* As find_preopen, but a missing preopen ends the program (exit 2). */
static inline int preopen_fd(const char *name) {
    int fd = find_preopen(name);
    if (fd >= 0) return fd;
    printf("FATAL: no preopen named %s\n", name ? name : "(any)");
    fflush(stdout);
    exit(2);
}

/* Raw path_open relative to dirfd. */
static inline int raw_open(int dirfd, const char *path, int lookup, int oflags, int fdflags, int *out) {
    __wasi_fd_t fd = (__wasi_fd_t)-1;
    __wasi_rights_t base = RIGHTS_ALL;
    /* asking for write rights on a directory is EISDIR: drop them when a directory is wanted */
    if (oflags & __WASI_OFLAGS_DIRECTORY)
        base &= ~(__wasi_rights_t)(__WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_ALLOCATE | __WASI_RIGHTS_FD_FILESTAT_SET_SIZE);
    int e = __wasi_path_open(dirfd, lookup, path, oflags, base, RIGHTS_ALL, fdflags, &fd);
    *out = e == 0 ? (int)fd : -1;
    return e;
}

static inline int raw_write_all(int fd, const void *buf, size_t len) {
    const uint8_t *p = buf;
    while (len) {
        __wasi_ciovec_t iov = {p, len};
        __wasi_size_t n = 0;
        int e = __wasi_fd_write(fd, &iov, 1, &n);
        if (e) return e;
        if (n == 0) return __WASI_ERRNO_IO;
        p += n;
        len -= n;
    }
    return 0;
}

static inline int raw_read(int fd, void *buf, size_t len, size_t *got) {
    __wasi_iovec_t iov = {buf, len};
    __wasi_size_t n = 0;
    int e = __wasi_fd_read(fd, &iov, 1, &n);
    *got = n;
    return e;
}

/* Create (or truncate) `path` under dirfd with the given contents. */
static inline int put_file(int dirfd, const char *path, const char *contents) {
    int fd;
    int e = raw_open(dirfd, path, 0, __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC, 0, &fd);
    if (e) return e;
    e = raw_write_all(fd, contents, strlen(contents));
    int e2 = __wasi_fd_close(fd);
    return e ? e : e2;
}

/* Read the whole file at `path` under dirfd into buf (NUL terminated); follows symlinks, asks only
 * for read rights. */
static inline int get_file(int dirfd, const char *path, char *buf, size_t cap) {
    __wasi_fd_t fd;
    int e = __wasi_path_open(dirfd, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, path, 0,
                             __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_SEEK | __WASI_RIGHTS_FD_TELL, 0, 0, &fd);
    if (e) return e;
    size_t total = 0, n = 0;
    while (total + 1 < cap) {
        e = raw_read(fd, buf + total, cap - 1 - total, &n);
        if (e || n == 0) break;
        total += n;
    }
    buf[total] = 0;
    int e2 = __wasi_fd_close(fd);
    return e ? e : e2;
}

#endif
