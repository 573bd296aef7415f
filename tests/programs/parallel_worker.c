/* One of several guests run at once in threads of one process: NAME ROUNDS.
 * Grows its memory (ROUNDS KiB blocks), mixes a checksum over them, writes it to /data/NAME.txt,
 * reads the file back and prints "NAME CHECKSUM", so a result shows whose inputs it was made from. */
#include "common.h"

int main(int argc, char **argv) {
    if (argc != 3) return 2;
    const char *name = argv[1];
    long rounds = atol(argv[2]);
    uint64_t sum = 0;
    for (long r = 0; r < rounds; r++) {
        uint8_t *block = malloc(1024);  /* never freed: memory grows as the rounds go */
        if (!block) return 3;
        for (int i = 0; i < 1024; i++) block[i] = (uint8_t)(r * 31 + i);
        for (int i = 0; i < 1024; i++) sum = sum * 1099511628211ULL + block[i];
    }
    char path[64], text[64], back[64] = {0};
    snprintf(path, sizeof path, "/data/%s.txt", name);
    snprintf(text, sizeof text, "%s %llu", name, (unsigned long long)sum);
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f)) return 4;
    f = fopen(path, "r");
    if (!f || !fgets(back, sizeof back, f) || fclose(f)) return 5;
    printf("%s\n", back);
    return 0;
}
