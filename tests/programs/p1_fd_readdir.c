/* fd_readdir over a small directory and a large one (argv[1] entries, default 2000), with small
 * buffers and cookies: prints the sorted names, each entry's d_type checked against
 * path_filestat_get, and that every name appears exactly once. */
#include "common.h"

struct ent { char name[64]; int type; };
static struct ent ents[5000];
static int nents;

static int cmp(const void *a, const void *b) { return strcmp(((const struct ent *)a)->name, ((const struct ent *)b)->name); }

static int list(int dirfd, size_t bufsize) {
    static uint8_t buf[65536];
    __wasi_dircookie_t cookie = __WASI_DIRCOOKIE_START;
    nents = 0;
    for (;;) {
        __wasi_size_t used = 0;
        int e = __wasi_fd_readdir(dirfd, buf, bufsize, cookie, &used);
        if (e) return e;
        size_t off = 0;
        int progressed = 0;
        while (off + sizeof(__wasi_dirent_t) <= used) {
            __wasi_dirent_t de;
            memcpy(&de, buf + off, sizeof de);
            if (off + sizeof de + de.d_namlen > used) break; /* truncated name: refetch from cookie */
            if (nents < 5000 && de.d_namlen < 64) {
                memcpy(ents[nents].name, buf + off + sizeof de, de.d_namlen);
                ents[nents].name[de.d_namlen] = 0;
                ents[nents].type = de.d_type;
                nents++;
            }
            cookie = de.d_next;
            off += sizeof de + de.d_namlen;
            progressed = 1;
        }
        if (used < bufsize) return 0;
        if (!progressed) return __WASI_ERRNO_NOBUFS;
    }
}

static void show(int parent, const char *dirname, int print_all, size_t bufsize) {
    int fd;
    MUST(raw_open(parent, dirname, 0, __WASI_OFLAGS_DIRECTORY, 0, &fd));
    int e = list(fd, bufsize);
    printf("readdir(%s, buf=%zu): %s entries=%d\n", dirname, bufsize, ename(e), nents);
    qsort(ents, nents, sizeof ents[0], cmp);
    int dups = 0, badtype = 0;
    for (int i = 0; i < nents; i++) {
        if (i && strcmp(ents[i].name, ents[i - 1].name) == 0) dups++;
        if (strcmp(ents[i].name, ".") && strcmp(ents[i].name, "..")) {
            __wasi_filestat_t st;
            if (__wasi_path_filestat_get(fd, 0, ents[i].name, &st) || st.filetype != ents[i].type) badtype++;
        }
        if (print_all) printf("  %s %s\n", ents[i].name, ftname(ents[i].type));
    }
    printf("  duplicates=%d wrong_d_type=%d\n", dups, badtype);
    MUST(__wasi_fd_close(fd));
}

int main(int argc, char **argv) {
    int big = argc > 1 ? atoi(argv[1]) : 2000;
    int d = preopen_fd(NULL);
    MUST(__wasi_path_create_directory(d, "small"));
    MUST(put_file(d, "small/file.txt", "x"));
    MUST(__wasi_path_create_directory(d, "small/sub"));
    MUST(__wasi_path_symlink("file.txt", d, "small/link"));
    MUST(__wasi_path_symlink("nowhere", d, "small/dangling"));
    MUST(__wasi_path_create_directory(d, "empty"));
    show(d, "small", 1, 4096);
    show(d, "small", 1, 40); /* one entry or less per call */
    show(d, "empty", 1, 4096);
    MUST(__wasi_path_create_directory(d, "big"));
    for (int i = 0; i < big; i++) {
        char name[64];
        snprintf(name, sizeof name, "big/entry-%05d-%s", i, i % 3 ? "file" : "dir");
        if (i % 3) MUST(put_file(d, name, ""));
        else MUST(__wasi_path_create_directory(d, name));
    }
    show(d, "big", 0, 4096);
    printf("  first=%s last=%s\n", nents ? ents[0].name : "-", nents ? ents[nents - 1].name : "-");
    show(d, "big", 0, 300);
    /* readdir on a file and on stdout */
    int fd;
    uint8_t b[256];
    __wasi_size_t used;
    MUST(raw_open(d, "small/file.txt", 0, 0, 0, &fd));
    printf("readdir(file): %s\n", ename(__wasi_fd_readdir(fd, b, sizeof b, 0, &used)));
    printf("readdir(stdout): %s\n", ename(__wasi_fd_readdir(1, b, sizeof b, 0, &used)));
    return 0;
}
