/* random_get fills buffers (small and large); two calls differ; zero length is fine. */
#include "common.h"

static int nonzero_fraction_ok(const uint8_t *b, size_t n) {
    size_t zeros = 0;
    for (size_t i = 0; i < n; i++) zeros += b[i] == 0;
    return zeros < n / 16 + 4; /* ~n/256 expected */
}

int main(void) {
    static uint8_t a[65536], b[65536];
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    printf("random_get(64K): %s\n", ename(__wasi_random_get(a, sizeof a)));
    printf("random_get(64K) again: %s\n", ename(__wasi_random_get(b, sizeof b)));
    printf("buffer filled: %s\n", nonzero_fraction_ok(a, sizeof a) ? "yes" : "no");
    printf("two calls differ: %s\n", memcmp(a, b, sizeof a) ? "yes" : "no");
    uint8_t small[16] = {0};
    uint8_t guard[4] = {0xAA, 0xAA, 0xAA, 0xAA};
    printf("random_get(0): %s\n", ename(__wasi_random_get(small, 0)));
    struct { uint8_t buf[5]; uint8_t after[3]; } s;
    memset(&s, 0xAA, sizeof s);
    printf("random_get(5): %s\n", ename(__wasi_random_get(s.buf, 5)));
    printf("bytes past the buffer untouched: %s\n", memcmp(s.after, guard, 3) == 0 ? "yes" : "no");
    /* libc */
    uint32_t x = 0, y = 0;
    arc4random_buf(&x, sizeof x);
    arc4random_buf(&y, sizeof y);
    printf("arc4random_buf works: yes\n");
    (void)x; (void)y;
    return 0;
}
