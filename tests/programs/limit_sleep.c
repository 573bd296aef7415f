/* Sleeps an hour (a poll_oneoff clock subscription): a timeout must cut the wait. */
#include <unistd.h>
#include "common.h"

int main(void) {
    printf("sleeping\n");
    sleep(3600);
    printf("woke up\n");
    return 0;
}
