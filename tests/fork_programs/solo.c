/* A single-threaded test that never forks: one thread cannot race, and racegate runs it once. */
#include <stdio.h>

int main(void) {
    long sum = 0;
    for (int i = 1; i <= 100; i++) sum += i;
    printf("sum %ld\n", sum);
    return sum == 5050 ? 0 : 1;
}
