/* bench.c — brine's side of the benchmarks (bench.py runs Python's side and
 * compares).  Each subcommand prints one JSON object: medians in seconds,
 * and where it predicts, the output written to a file so bench.py can check
 * it against sklearn's bit for bit.
 *
 *   bench load MODEL read|mmap THREADS REPEATS   (THREADS > 1: also checks that
 *       the model loaded on that many threads answers as one loaded on one)
 *   bench proba MODEL ROWS.npy THREADS REPEATS OUT.f64
 *   bench single MODEL ROWS.npy REPEATS OUT.i64
 *   bench save MODEL OUT COMPRESS REPEATS      (COMPRESS: 0 none, else zlib level)
 *   bench many REPEATS MODEL...
 *   bench spawn OUT REPEATS PROG ARG...  runs PROG REPEATS times (fork, exec,
 *       wait), its last stdout into OUT; prints the median wall time and the
 *       largest peak RSS of the runs in KiB.  bench.py starts every process
 *       through this small one, so a child's peak RSS is its own, not the
 *       Python launcher's (exec keeps the old address space's high-water mark).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "brine.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void die(const char *what, const brine_error *e) {
    fprintf(stderr, "bench: %s: %s\n", what, e ? e->message : "failed");
    exit(2);
}

/* A C-ordered little-endian float32 .npy of two dimensions (bench's own). */
static float *read_rows(const char *path, size_t *rows, size_t *cols) {
    FILE *f = fopen(path, "rb");
    if (!f) die(path, NULL);
    unsigned char head[10];
    if (fread(head, 1, 10, f) != 10 || memcmp(head, "\x93NUMPY", 6)) die(path, NULL);
    size_t hl = (size_t)head[8] | (size_t)head[9] << 8;
    char *h = calloc(hl + 1, 1);
    if (!h || fread(h, 1, hl, f) != hl || !strstr(h, "'<f4'") || strstr(h, "True")) die(path, NULL);
    const char *s = strstr(h, "'shape': (");
    if (!s || sscanf(s, "'shape': (%zu, %zu)", rows, cols) != 2) die(path, NULL);
    float *x = malloc(*rows * *cols * sizeof *x);
    if (!x || fread(x, sizeof *x, *rows * *cols, f) != *rows * *cols) die(path, NULL);
    free(h);
    fclose(f);
    return x;
}

static brine_model *load_threads(const char *path, int mmap, int threads) {
    brine_load_options o = BRINE_LOAD_OPTIONS_INIT;
    o.use_mmap = mmap;
    o.n_threads = threads;
    brine_model *m;
    brine_error e;
    if (brine_model_load(&m, path, &o, &e)) die(path, &e);
    return m;
}

static brine_model *load(const char *path, int mmap) { return load_threads(path, mmap, 1); }

static void write_out(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f)) die(path, NULL);
}

static brine_prediction *predict(const brine_model *m, brine_method method, const float *x, size_t rows,
                                 size_t cols, int threads, int reference) {
    brine_predict_options o = BRINE_PREDICT_OPTIONS_INIT;
    o.n_threads = threads;
    o.reference = reference;
    brine_prediction *p;
    brine_error e;
    if (brine_predict(&p, m, method, x, BRINE_DTYPE_FLOAT32, rows, cols, &o, &e)) die("predict", &e);
    return p;
}

/* A few thousand pseudo-random rows of values in [-4, 4), spread across
 * each feature's range of thresholds. */
static float *check_rows(size_t rows, size_t cols) {
    float *x = malloc(rows * cols * sizeof *x);
    if (!x) die("rows", NULL);
    unsigned long long s = 88172645463325252ull;
    for (size_t i = 0; i < rows * cols; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        x[i] = (float)((double)(s >> 11) / 9007199254740992.0 * 8 - 4);
    }
    return x;
}

/* Whether the model loaded from path on `threads` threads gives the same
 * predict_proba bytes and apply indices as the one loaded on one thread;
 * one model in memory at a time, so the peak stays that of one load. */
static int same_as_one_thread(const char *path, int mmap, int threads) {
    const brine_method methods[] = {BRINE_METHOD_PREDICT_PROBA, BRINE_METHOD_APPLY};
    brine_prediction *want[2];
    int same = 1;
    for (int pass = 0; pass < 2; pass++) {
        brine_model *m = load_threads(path, mmap, pass ? threads : 1);
        size_t cols = brine_model_n_features_in(m), rows = 4096;
        float *x = check_rows(rows, cols);
        for (int k = 0; k < 2; k++) {
            brine_prediction *p = predict(m, methods[k], x, rows, cols, 1, 0);
            if (!pass) {
                want[k] = p;
                continue;
            }
            const brine_prediction *q = want[k];
            size_t cells = p->n_rows * p->n_columns;
            same = same && p->n_rows == q->n_rows && p->n_columns == q->n_columns &&
                   (p->values ? !memcmp(p->values, q->values, cells * sizeof *p->values)
                              : !memcmp(p->indices, q->indices, cells * sizeof *p->indices));
            brine_prediction_free(p);
            brine_prediction_free(want[k]);
        }
        free(x);
        brine_model_free(m);
    }
    return same;
}

static int cmd_load(int argc, char **argv) {
    if (argc != 6 || (strcmp(argv[3], "read") && strcmp(argv[3], "mmap"))) return 64;
    int mmap = !strcmp(argv[3], "mmap"), threads = atoi(argv[4]), reps = atoi(argv[5]);
    double t[64];
    if (reps < 1 || reps > 64 || threads < 1) return 64;
    for (int i = 0; i < reps; i++) {
        double t0 = now();
        brine_model *m = load_threads(argv[2], mmap, threads);
        t[i] = now() - t0;
        brine_model_free(m);
    }
    int same = threads == 1 || same_as_one_thread(argv[2], mmap, threads);
    printf("{\"median\": %.9f, \"same_as_one_thread\": %s}\n", median(t, reps), same ? "true" : "false");
    return 0;
}

/* Batch predict_proba; checks the fast path against the reference path and
 * the thread count against one thread, byte for byte. */
static int cmd_proba(int argc, char **argv) {
    if (argc != 7) return 64;
    size_t rows, cols;
    brine_model *m = load(argv[2], 0);
    float *x = read_rows(argv[3], &rows, &cols);
    int threads = atoi(argv[4]), reps = atoi(argv[5]);
    double t[64], tr;
    if (reps < 1 || reps > 64) return 64;
    brine_prediction *p = NULL;
    for (int i = 0; i < reps; i++) {
        brine_prediction_free(p);
        double t0 = now();
        p = predict(m, BRINE_METHOD_PREDICT_PROBA, x, rows, cols, threads, 0);
        t[i] = now() - t0;
    }
    double t0 = now();
    brine_prediction *ref = predict(m, BRINE_METHOD_PREDICT_PROBA, x, rows, cols, 1, 1);
    tr = now() - t0;
    brine_prediction *one = predict(m, BRINE_METHOD_PREDICT_PROBA, x, rows, cols, 1, 0);
    size_t bytes = rows * p->n_columns * sizeof(double);
    int same = !memcmp(p->values, ref->values, bytes) && !memcmp(p->values, one->values, bytes);
    write_out(argv[6], p->values, bytes);
    printf("{\"median\": %.9f, \"reference\": %.9f, \"same_as_reference\": %s}\n", median(t, reps), tr,
           same ? "true" : "false");
    brine_prediction_free(p);
    brine_prediction_free(ref);
    brine_prediction_free(one);
    brine_model_free(m);
    free(x);
    return 0;
}

/* One row at a time through the C API, the way a service answers. */
static int cmd_single(int argc, char **argv) {
    if (argc != 6) return 64;
    size_t rows, cols;
    brine_model *m = load(argv[2], 0);
    float *x = read_rows(argv[3], &rows, &cols);
    int reps = atoi(argv[4]);
    if (reps < 1) return 64;
    double *t = malloc((size_t)reps * sizeof *t);
    int64_t *labels = malloc((size_t)reps * sizeof *labels);
    if (!t || !labels) return 2;
    for (int i = 0; i < reps; i++) {
        const float *row = x + ((size_t)i % rows) * cols;
        double t0 = now();
        brine_prediction *p = predict(m, BRINE_METHOD_PREDICT, row, 1, cols, 1, 0);
        t[i] = now() - t0;
        labels[i] = p->indices[0];
        brine_prediction_free(p);
    }
    write_out(argv[5], labels, (size_t)reps * sizeof *labels);
    printf("{\"median\": %.9f}\n", median(t, reps));
    free(t);
    free(labels);
    brine_model_free(m);
    free(x);
    return 0;
}

static int cmd_save(int argc, char **argv) {
    if (argc != 6) return 64;
    brine_model *m = load(argv[2], 0);
    int level = atoi(argv[4]), reps = atoi(argv[5]);
    double t[64];
    if (reps < 1 || reps > 64) return 64;
    brine_model_save_options o = BRINE_MODEL_SAVE_OPTIONS_INIT;
    o.file.format = BRINE_FORMAT_JOBLIB;
    o.file.compression = level ? BRINE_COMPRESSION_ZLIB : BRINE_COMPRESSION_NONE;
    o.file.level = level;
    for (int i = 0; i < reps; i++) {
        brine_error e;
        double t0 = now();
        if (brine_model_save(m, argv[3], &o, &e)) die("save", &e);
        t[i] = now() - t0;
    }
    printf("{\"median\": %.9f}\n", median(t, reps));
    brine_model_free(m);
    return 0;
}

static int cmd_many(int argc, char **argv) {
    if (argc < 4) return 64;
    int reps = atoi(argv[2]);
    size_t n = (size_t)(argc - 3);
    double t[64];
    if (reps < 1 || reps > 64) return 64;
    brine_model **ms = calloc(n, sizeof *ms);
    brine_error *es = calloc(n, sizeof *es);
    if (!ms || !es) return 2;
    for (int i = 0; i < reps; i++) {
        double t0 = now();
        brine_status st = brine_model_load_many(ms, es, (const char *const *)argv + 3, n, NULL, 0);
        t[i] = now() - t0;
        if (st) die("load_many", &es[0]);
        for (size_t k = 0; k < n; k++) brine_model_free(ms[k]);
    }
    printf("{\"median\": %.9f}\n", median(t, reps));
    free(ms);
    free(es);
    return 0;
}

static int cmd_spawn(int argc, char **argv) {
    if (argc < 5) return 64;
    int reps = atoi(argv[3]);
    double t[64];
    if (reps < 1 || reps > 64) return 64;
    fflush(stdout);
    for (int i = 0; i < reps; i++) {
        int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) die(argv[2], NULL);
        double t0 = now();
        pid_t pid = fork();
        if (pid == 0) {
            dup2(fd, 1);
            execvp(argv[4], argv + 4);
            _exit(127);
        }
        int status = 0;
        if (pid < 0 || waitpid(pid, &status, 0) != pid) die("spawn", NULL);
        t[i] = now() - t0;
        close(fd);
        if (!WIFEXITED(status) || WEXITSTATUS(status)) {
            fprintf(stderr, "bench: %s failed (status %d)\n", argv[4], status);
            return 2;
        }
    }
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    printf("{\"median\": %.9f, \"peak_kib\": %ld}\n", median(t, reps), ru.ru_maxrss);
    return 0;
}

int main(int argc, char **argv) {
    int rc = 64;
    if (argc > 2 && !strcmp(argv[1], "load")) rc = cmd_load(argc, argv);
    else if (argc > 2 && !strcmp(argv[1], "proba")) rc = cmd_proba(argc, argv);
    else if (argc > 2 && !strcmp(argv[1], "single")) rc = cmd_single(argc, argv);
    else if (argc > 2 && !strcmp(argv[1], "save")) rc = cmd_save(argc, argv);
    else if (argc > 2 && !strcmp(argv[1], "many")) rc = cmd_many(argc, argv);
    else if (argc > 2 && !strcmp(argv[1], "spawn")) rc = cmd_spawn(argc, argv);
    if (rc == 64) fputs("usage: bench load|proba|single|save|many|spawn ... (see bench.c)\n", stderr);
    return rc;
}
