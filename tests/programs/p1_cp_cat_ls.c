/* A tiny coreutils through libc: `cp SRC DST`, `cat FILE...`, `ls DIR`, `mkdir DIR`, `rm FILE`
 * (paths are guest paths such as /sandbox/x). Exit 1 with "tool: path: ERRNO" on failure. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "common.h"

static int fail(const char *tool, const char *path) {
    printf("%s: %s: %s\n", tool, path, ename(errno));
    return 1;
}

static int cmpstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv) {
    if (argc < 3) { printf("usage: cp|cat|ls|mkdir|rm ARGS\n"); return 2; }
    const char *tool = argv[1];
    if (!strcmp(tool, "cat")) {
        for (int i = 2; i < argc; i++) {
            FILE *f = fopen(argv[i], "rb");
            if (!f) return fail(tool, argv[i]);
            char b[4096];
            size_t n;
            while ((n = fread(b, 1, sizeof b, f)) > 0) fwrite(b, 1, n, stdout);
            fclose(f);
        }
        return 0;
    }
    if (!strcmp(tool, "cp")) {
        int in = open(argv[2], O_RDONLY);
        if (in < 0) return fail(tool, argv[2]);
        int out = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (out < 0) return fail(tool, argv[3]);
        char b[4096];
        ssize_t n;
        long total = 0;
        while ((n = read(in, b, sizeof b)) > 0) {
            if (write(out, b, n) != n) return fail(tool, argv[3]);
            total += n;
        }
        close(in);
        close(out);
        printf("copied %ld bytes\n", total);
        return 0;
    }
    if (!strcmp(tool, "ls")) {
        DIR *dir = opendir(argv[2]);
        if (!dir) return fail(tool, argv[2]);
        char *names[1024];
        int n = 0;
        struct dirent *de;
        while ((de = readdir(dir)) && n < 1024) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
            char *s = malloc(strlen(de->d_name) + 3);
            sprintf(s, "%s%s", de->d_name, de->d_type == DT_DIR ? "/" : de->d_type == DT_LNK ? "@" : "");
            names[n++] = s;
        }
        closedir(dir);
        qsort(names, n, sizeof names[0], cmpstr);
        for (int i = 0; i < n; i++) printf("%s\n", names[i]);
        return 0;
    }
    if (!strcmp(tool, "mkdir")) return mkdir(argv[2], 0755) ? fail(tool, argv[2]) : 0;
    if (!strcmp(tool, "rm")) return unlink(argv[2]) ? fail(tool, argv[2]) : 0;
    printf("unknown tool %s\n", tool);
    return 2;
}
