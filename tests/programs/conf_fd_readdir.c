/* Conformance: fd_readdir. In a fresh directory: "." (with the directory's inode) and "..", at EOF;
 * after creating "file": three entries, the file's d_type and d_ino right, and resuming from the
 * second entry's cookie yields exactly the third; with 1000 files, paging by cookie through a
 * 256-byte buffer counts 1002 entries. */
#include "conf_common.h"

#define BUF 256
typedef struct { __wasi_dirent_t d; char name[64]; } ent_t;

/* One fd_readdir into a 256-byte buffer; the complete entries go to out; returns their count. */
static int readdir_once(int fd, __wasi_dircookie_t cookie, ent_t *out, int max, int *eof) {
    uint8_t buf[BUF];
    __wasi_size_t used = 0;
    OK("fd_readdir", __wasi_fd_readdir(fd, buf, BUF, cookie, &used));
    CHECK("bufused <= len", used <= BUF);
    int n = 0;
    size_t pos = 0;
    while (pos + sizeof(__wasi_dirent_t) <= used && n < max) {
        __wasi_dirent_t d;
        memcpy(&d, buf + pos, sizeof d);
        if (pos + sizeof d + d.d_namlen > used) break;
        out[n].d = d;
        size_t k = d.d_namlen < 63 ? d.d_namlen : 63;
        memcpy(out[n].name, buf + pos + sizeof d, k);
        out[n].name[k] = 0;
        n++;
        pos += sizeof d + d.d_namlen;
    }
    *eof = used < BUF;
    return n;
}

static int find(ent_t *e, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (strcmp(e[i].name, name) == 0) return i;
    return -1;
}

int main(int argc, char **argv) {
    int base = conf_scratch(argc, argv);
    const char *dname = "fd_readdir_dir.cleanup";
    int dir = conf_tmpdir(base, dname);
    static ent_t e[64];
    int eof;
    __wasi_filestat_t st;
    OK("dir filestat", __wasi_fd_filestat_get(dir, &st));
    int n = readdir_once(dir, 0, e, 64, &eof);
    CHECK("empty: eof", eof);
    CHECK("empty: two entries", n == 2);
    int dot = find(e, n, "."), dotdot = find(e, n, "..");
    CHECK("has .", dot >= 0);
    CHECK("has ..", dotdot >= 0);
    CHECK(". is a directory", e[dot].d.d_type == __WASI_FILETYPE_DIRECTORY);
    CHECK(". inode is the directory's", e[dot].d.d_ino == st.ino);
    CHECK(". namlen 1", e[dot].d.d_namlen == 1);
    CHECK(".. is a directory", e[dotdot].d.d_type == __WASI_FILETYPE_DIRECTORY);

    int fd;
    OK("create file", conf_open(dir, 0, "file", __WASI_OFLAGS_CREAT,
                                R(FD_READ) | R(FD_WRITE) | R(FD_READDIR) | R(FD_FILESTAT_GET), 0, 0, &fd));
    CHECK("fd > 2", fd > 2);
    __wasi_filestat_t fst;
    OK("file filestat", __wasi_fd_filestat_get(fd, &fst));
    OK("close file", __wasi_fd_close(fd));
    n = readdir_once(dir, 0, e, 64, &eof);
    CHECK("three: eof", eof);
    CHECK("three entries", n == 3);
    __wasi_dircookie_t cookie = e[1].d.d_next;
    char last[64];
    strcpy(last, e[2].name);
    int fi = find(e, n, "file");
    CHECK("has file", fi >= 0);
    CHECK("file is regular", e[fi].d.d_type == __WASI_FILETYPE_REGULAR_FILE);
    CHECK("file inode", e[fi].d.d_ino == fst.ino);
    n = readdir_once(dir, cookie, e, 64, &eof);
    CHECK("resume: eof", eof);
    CHECK("resume: one entry", n == 1);
    CHECK("resume: the last entry", strcmp(e[0].name, last) == 0);
    OK("unlink file", __wasi_path_unlink_file(dir, "file"));

    char name[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(name, sizeof name, "file.%d", i);
        int e2 = conf_open(dir, 0, name, __WASI_OFLAGS_CREAT,
                           R(FD_READ) | R(FD_WRITE) | R(FD_READDIR) | R(FD_FILESTAT_GET), 0, 0, &fd);
        if (e2) conf_fail("create many", "errno %s", ename(e2));
        if (__wasi_fd_close(fd)) conf_fail("close many", "%s", "failed");
    }
    int total = 0;
    cookie = 0;
    for (int rounds = 0; rounds < 10000; rounds++) {
        n = readdir_once(dir, cookie, e, 64, &eof);
        total += n;
        if (eof) break;
        CHECK("page not empty", n > 0);
        cookie = e[n - 1].d.d_next;
    }
    printf("total entries %d\n", total);
    CHECK("1002 entries", total == 1002);
    for (int i = 0; i < 1000; i++) {
        snprintf(name, sizeof name, "file.%d", i);
        if (__wasi_path_unlink_file(dir, name)) conf_fail("unlink many", "%s", name);
    }
    OK("rmdir", __wasi_path_remove_directory(base, dname));
    conf_pass();
    return 0;
}
