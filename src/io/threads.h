/* threads.h — the one way brine spreads work over threads.
 *
 * Every parallel loop (inflating in chunks, predicting over row blocks,
 * checking a forest's trees, loading many files, growing trees) hands an
 * array of jobs to bi_run_jobs, which runs one per thread. */
#ifndef BRINE_IO_THREADS_H
#define BRINE_IO_THREADS_H

#include <stddef.h>

/* Runs run(job k) for k in 0..n-1, job k at (char *)jobs + k * job_size
 * (job_size 0: every thread gets the same job, e.g. a shared queue), and
 * returns when all have ended (at once for n 0).  Job 0 runs on the calling thread, each
 * other on a thread of its own; a job whose thread cannot be started (no
 * memory or no thread to spare) runs on the calling thread afterwards, so
 * every job runs exactly once and nothing here fails. */
void bi_run_jobs(void *(*run)(void *), void *jobs, size_t job_size, size_t n);

#endif
