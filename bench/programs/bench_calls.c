/* Host-call benchmark guest: times N iterations of one WASI operation with the monotonic clock
 * and prints "ns_per_op <value>". The same binary runs under vwasm and wasmtime's built-in WASI. */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <wasi/api.h>

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: bench_calls MODE N DIR\n"); return 2; }
  const char *mode = argv[1];
  long n = atol(argv[2]);
  const char *dir = argv[3];
  char path[512];
  static char buf[4096];
  memset(buf, 'x', sizeof buf);
  long long t0 = 0, t1 = 0;
  if (!strcmp(mode, "write16") || !strcmp(mode, "write4k")) {
    snprintf(path, sizeof path, "%s/out.bin", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) { perror("open"); return 1; }
    size_t len = !strcmp(mode, "write16") ? 16 : 4096;
    __wasi_ciovec_t iov = {(const uint8_t *)buf, len};
    t0 = now_ns();
    for (long i = 0; i < n; i++) { __wasi_size_t w; if (__wasi_fd_write(fd, &iov, 1, &w)) return 1; }
    t1 = now_ns();
    close(fd);
  } else if (!strcmp(mode, "stdout16")) {
    __wasi_ciovec_t iov = {(const uint8_t *)buf, 16};
    t0 = now_ns();
    for (long i = 0; i < n; i++) { __wasi_size_t w; if (__wasi_fd_write(1, &iov, 1, &w)) return 1; }
    t1 = now_ns();
  } else if (!strcmp(mode, "clock")) {
    __wasi_timestamp_t t;
    t0 = now_ns();
    for (long i = 0; i < n; i++) if (__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t)) return 1;
    t1 = now_ns();
  } else if (!strcmp(mode, "read4k")) {
    snprintf(path, sizeof path, "%s/in.bin", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    write(fd, buf, sizeof buf);
    close(fd);
    fd = open(path, O_RDONLY);
    __wasi_iovec_t iov = {(uint8_t *)buf, sizeof buf};
    t0 = now_ns();
    for (long i = 0; i < n; i++) { __wasi_size_t r; if (__wasi_fd_pread(fd, &iov, 1, 0, &r) || r != sizeof buf) return 1; }
    t1 = now_ns();
    close(fd);
  } else if (!strcmp(mode, "stat")) {
    snprintf(path, sizeof path, "%s/a/b/c", dir);
    char p2[512];
    snprintf(p2, sizeof p2, "%s/a", dir); mkdir(p2, 0755);
    snprintf(p2, sizeof p2, "%s/a/b", dir); mkdir(p2, 0755);
    close(open(path, O_WRONLY | O_CREAT, 0644));
    struct stat st;
    t0 = now_ns();
    for (long i = 0; i < n; i++) if (stat(path, &st)) { perror("stat"); return 1; }
    t1 = now_ns();
  } else if (!strcmp(mode, "seek") || !strcmp(mode, "tell")) {
    /* An offset moved (to i mod 4096 from the start) or asked for, on a 4 KiB file. */
    snprintf(path, sizeof path, "%s/seek.bin", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, buf, sizeof buf) != sizeof buf) { perror("seek file"); return 1; }
    __wasi_filesize_t at;
    int tell = !strcmp(mode, "tell");
    t0 = now_ns();
    for (long i = 0; i < n; i++)
      if (tell ? __wasi_fd_tell(fd, &at) : __wasi_fd_seek(fd, i & 4095, __WASI_WHENCE_SET, &at)) return 1;
    t1 = now_ns();
    close(fd);
  } else if (!strcmp(mode, "sleep0")) {
    struct timespec zero = {0, 0};
    t0 = now_ns();
    for (long i = 0; i < n; i++) if (nanosleep(&zero, NULL)) return 1;
    t1 = now_ns();
  } else if (!strcmp(mode, "poll0")) {
    /* Is there input? POSIX poll() of stdin with a zero timeout: a stream and a clock subscription. */
    struct pollfd in = {0, POLLIN, 0};
    t0 = now_ns();
    for (long i = 0; i < n; i++) if (poll(&in, 1, 0) < 0) return 1;
    t1 = now_ns();
  } else if (!strcmp(mode, "missing") || !strcmp(mode, "opendeep")) {
    /* What an interpreter's imports do: stat a name that is not there, two directories down; or
     * open + close a file three directories down. */
    char p2[512];
    snprintf(p2, sizeof p2, "%s/p", dir); mkdir(p2, 0755);
    snprintf(p2, sizeof p2, "%s/p/q", dir); mkdir(p2, 0755);
    snprintf(p2, sizeof p2, "%s/p/q/r", dir); mkdir(p2, 0755);
    int missing = !strcmp(mode, "missing");
    snprintf(path, sizeof path, missing ? "%s/p/q/nope.py" : "%s/p/q/r/f", dir);
    if (!missing) close(open(path, O_WRONLY | O_CREAT, 0644));
    struct stat st;
    t0 = now_ns();
    for (long i = 0; i < n; i++) {
      if (missing) { if (!stat(path, &st)) return 1; }
      else { int fd = open(path, O_RDONLY); if (fd < 0) return 1; close(fd); }
    }
    t1 = now_ns();
  } else if (!strcmp(mode, "random")) {
    t0 = now_ns();
    for (long i = 0; i < n; i++) if (__wasi_random_get((uint8_t *)buf, 16)) return 1;
    t1 = now_ns();
  } else if (!strcmp(mode, "openclose")) {
    snprintf(path, sizeof path, "%s/oc.txt", dir);
    close(open(path, O_WRONLY | O_CREAT, 0644));
    t0 = now_ns();
    for (long i = 0; i < n; i++) { int fd = open(path, O_RDONLY); if (fd < 0) return 1; close(fd); }
    t1 = now_ns();
  } else if (!strcmp(mode, "readdir")) {
    snprintf(path, sizeof path, "%s/many", dir);
    mkdir(path, 0755);
    for (int i = 0; i < 5000; i++) {
      char f[600]; snprintf(f, sizeof f, "%s/f%05d", path, i);
      close(open(f, O_WRONLY | O_CREAT, 0644));
    }
    long count = 0;
    t0 = now_ns();
    for (long i = 0; i < n; i++) {
      DIR *d = opendir(path);
      while (readdir(d)) count++;
      closedir(d);
    }
    t1 = now_ns();
    if (count != n * 5002) { fprintf(stderr, "readdir saw %ld entries\n", count); return 1; }
  } else if (!strcmp(mode, "read64k")) {
    /* Sequential 64 KiB reads of an 8 MiB file, starting over at its end. */
    static char big[65536];
    snprintf(path, sizeof path, "%s/big.bin", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    for (int i = 0; i < 128; i++) if (write(fd, big, sizeof big) != sizeof big) { perror("write"); return 1; }
    close(fd);
    fd = open(path, O_RDONLY);
    __wasi_iovec_t iov = {(uint8_t *)big, sizeof big};
    t0 = now_ns();
    for (long i = 0; i < n; i++) {
      __wasi_size_t r;
      if (__wasi_fd_read(fd, &iov, 1, &r)) return 1;
      if (r == 0) { lseek(fd, 0, SEEK_SET); i--; }
    }
    t1 = now_ns();
    close(fd);
  } else if (!strcmp(mode, "files")) {
    /* N files created, then each stat'ed, then each unlinked: time per file. */
    struct stat st;
    t0 = now_ns();
    for (long i = 0; i < n; i++) {
      snprintf(path, sizeof path, "%s/f%ld", dir, i);
      int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
      if (fd < 0 || close(fd)) { perror("create"); return 1; }
    }
    for (long i = 0; i < n; i++) {
      snprintf(path, sizeof path, "%s/f%ld", dir, i);
      if (stat(path, &st)) { perror("stat"); return 1; }
    }
    for (long i = 0; i < n; i++) {
      snprintf(path, sizeof path, "%s/f%ld", dir, i);
      if (unlink(path)) { perror("unlink"); return 1; }
    }
    t1 = now_ns();
  } else if (!strcmp(mode, "compute")) {
    /* No host calls: N rounds of integer mixing. */
    unsigned long long x = 88172645463325252ULL, acc = 0;
    t0 = now_ns();
    for (long i = 0; i < n; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; acc += x % 1000003; }
    t1 = now_ns();
    if (acc == 42) puts("");  /* keeps the loop */
  } else {
    fprintf(stderr, "unknown mode %s\n", mode);
    return 2;
  }
  printf("ns_per_op %.1f\n", (double)(t1 - t0) / (double)n);
  return 0;
}
