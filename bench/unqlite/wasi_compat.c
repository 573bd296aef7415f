/* Definitions wasi-libc declares but does not have: no advisory locks (one process owns every file),
 * no user or group database. */
#include <stddef.h>

struct passwd;
struct group;

int flock(int fd, int op) { (void)fd; (void)op; return 0; }
struct passwd *getpwnam(const char *name) { (void)name; return NULL; }
struct passwd *getpwuid(unsigned uid) { (void)uid; return NULL; }
struct group *getgrnam(const char *name) { (void)name; return NULL; }
