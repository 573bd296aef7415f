/* args_sizes_get / args_get / environ_sizes_get / environ_get: print exactly what the guest sees. */
#include "common.h"

int main(void) {
    __wasi_size_t argc = 0, argv_len = 0, envc = 0, env_len = 0;
    MUST(__wasi_args_sizes_get(&argc, &argv_len));
    MUST(__wasi_environ_sizes_get(&envc, &env_len));
    printf("argc=%u argv_buf_size=%u\n", argc, argv_len);
    char **argv = calloc(argc + 1, sizeof *argv);
    char *abuf = malloc(argv_len + 1);
    MUST(__wasi_args_get((uint8_t **)argv, (uint8_t *)abuf));
    size_t sum = 0;
    for (__wasi_size_t i = 0; i < argc; i++) {
        printf("arg[%u]=<%s>\n", i, argv[i]);
        sum += strlen(argv[i]) + 1;
    }
    printf("argv sizes consistent: %s\n", sum == argv_len ? "yes" : "no");
    printf("envc=%u environ_buf_size=%u\n", envc, env_len);
    char **env = calloc(envc + 1, sizeof *env);
    char *ebuf = malloc(env_len + 1);
    MUST(__wasi_environ_get((uint8_t **)env, (uint8_t *)ebuf));
    sum = 0;
    for (__wasi_size_t i = 0; i < envc; i++) {
        printf("env[%u]=<%s>\n", i, env[i]);
        sum += strlen(env[i]) + 1;
    }
    printf("environ sizes consistent: %s\n", sum == env_len ? "yes" : "no");
    /* libc's view must agree with the raw one */
    const char *v = getenv("VWASM_TEST");
    printf("getenv(VWASM_TEST)=%s\n", v ? v : "(unset)");
    return 0;
}
