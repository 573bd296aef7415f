/* Exports for `vwasm run --invoke` (as `wasmtime run --invoke`): each parameter type, a function with
 * two results' worth of work, one that traps and one that exits. main() prints one line. */
#include <stdint.h>
#include "common.h"

__attribute__((export_name("add"))) int32_t add(int32_t a, int32_t b) { return a + b; }
__attribute__((export_name("scale"))) double scale(double x, int64_t k) { return x * (double)k; }
__attribute__((export_name("half"))) float half(float x) { return x / 2.0f; }
__attribute__((export_name("wide"))) int64_t wide(int64_t x) { return x * 3; }
__attribute__((export_name("nothing"))) void nothing(void) {}
__attribute__((export_name("crash"))) void crash(void) { __builtin_trap(); }
__attribute__((export_name("leave"))) void leave(int32_t code) { __wasi_proc_exit((uint32_t)code); }
__attribute__((export_name("hello"))) void hello(void) {
    static const char text[] = "hello from an export\n";
    __wasi_ciovec_t iov = {(const uint8_t *)text, sizeof text - 1};
    __wasi_size_t n;
    __wasi_fd_write(1, &iov, 1, &n);
}

int main(void) {
    printf("main ran\n");
    return 0;
}
