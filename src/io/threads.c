/* threads.c — one fan-out over threads (see threads.h). */
#include "threads.h"

#include <pthread.h>
#include <stdlib.h>

void bi_run_jobs(void *(*run)(void *), void *jobs, size_t job_size, size_t n) {
    if (n == 0) return;
    char *at = jobs;
    pthread_t *tids = n > 1 ? calloc(n, sizeof *tids) : NULL;
    char *started = n > 1 ? calloc(n, 1) : NULL;
    for (size_t k = 1; tids && started && k < n; k++)
        started[k] = pthread_create(&tids[k], NULL, run, at + k * job_size) == 0;
    run(at);
    for (size_t k = 1; k < n; k++) {
        if (tids && started && started[k]) pthread_join(tids[k], NULL);
        else run(at + k * job_size);
    }
    free(tids);
    free(started);
}
