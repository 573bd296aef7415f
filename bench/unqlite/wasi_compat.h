/* What UnQLite's Unix layer uses and WASI lacks: one process owns every file (no advisory locks
 * between processes), no users, groups, umask or chroot. Included before unqlite.c (-include). */
#include <fcntl.h>
#include <errno.h>
#include <sys/types.h>

#define F_RDLCK 0
#define F_WRLCK 1
#define F_UNLCK 2
#define F_GETLK 1005
#define F_SETLK 1006
#define F_SETLKW 1007  /* struct flock is declared by wasi-libc's fcntl.h, the commands are not */

static inline int wasi_compat_fcntl(int fd, int cmd, ...) {
  __builtin_va_list ap;
  __builtin_va_start(ap, cmd);
  void *arg = __builtin_va_arg(ap, void *);
  __builtin_va_end(ap);
  if (cmd == F_GETLK) { ((struct flock *)arg)->l_type = F_UNLCK; return 0; }
  if (cmd == F_SETLK || cmd == F_SETLKW) return 0;
  return fcntl(fd, cmd, (int)(long)arg);
}
#define fcntl wasi_compat_fcntl

static inline int chown(const char *p, int u, int g) { (void)p; (void)u; (void)g; errno = ENOSYS; return -1; }
static inline int getuid(void) { return 0; }
static inline int getgid(void) { return 0; }
static inline int umask(int m) { (void)m; return 022; }
static inline int chroot(const char *p) { (void)p; errno = ENOSYS; return -1; }
