/* vwasm demo guest: prints its arguments and environment, writes a file inside its preopened
 * directory (argv[1], e.g. /sandbox), then tries three ways out and shows each was refused. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

static const char *errname(int e) {
    switch (e) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case ENOTCAPABLE: return "ENOTCAPABLE";
    case ELOOP: return "ELOOP";
    case ENOTDIR: return "ENOTDIR";
    default: return "other";
    }
}

static int try_read(const char *label, const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd >= 0) {
        char buf[64] = {0};
        ssize_t n = read(fd, buf, sizeof buf - 1);
        printf("  %-28s %s: NOT REFUSED (read %zd bytes)\n", label, path, n);
        close(fd);
        return 1;
    }
    printf("  %-28s %s: refused (%s: %s)\n", label, path, errname(errno), strerror(errno));
    return 0;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "/sandbox";
    printf("args:");
    for (int i = 0; i < argc; i++) printf(" [%s]", argv[i]);
    printf("\nenvironment:\n");
    for (char **e = environ; *e; e++) printf("  %s\n", *e);

    char path[512];
    snprintf(path, sizeof path, "%s/hello.txt", dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        printf("writing %s failed: %s\n", path, strerror(errno));
        return 1;
    }
    fprintf(f, "hello from inside the sandbox\n");
    fclose(f);
    printf("wrote %s\n", path);

    char link[512];
    snprintf(link, sizeof link, "%s/escape-link", dir);
    int sl = symlink("../outside.txt", link);
    printf("created symlink %s -> ../outside.txt: %s\n", link, sl == 0 ? "yes" : strerror(errno));

    printf("escape attempts:\n");
    int leaks = 0;
    leaks += try_read("absolute path", "/etc/passwd");
    snprintf(path, sizeof path, "%s/../outside.txt", dir);
    leaks += try_read("dot-dot", path);
    leaks += try_read("symlink leading outside", link);
    printf(leaks ? "SANDBOX ESCAPED\n" : "all escape attempts refused\n");
    return leaks ? 3 : 0;
}
