/* test_fast.c — the inference engine (fast.c) against the straightforward
 * path: float32 thresholds rounded toward -inf decide exactly as float64
 * ones; random trees and forests give bit-identical answers on rows made
 * of thresholds and their float neighbours, for every method, dtype and
 * thread count; NaN rows of sklearn >= 1.3 trees; brine_model_load_many
 * over valid and broken files. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "brine.h"
#include "estimators/estimator.h"
#include "harness.h"
#include "tree_pickles.h"

/* ------------------------------------------------------------- helpers */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void) { /* splitmix64: fixed seed, same cases every run */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double unit(void) { return (double)(rnd() >> 11) / 9007199254740992.0; }

/* A threshold of the kinds files hold: a float, a midpoint that is no
 * float, a value beyond float's range, or a tiny one. */
static double random_threshold(void) {
    switch (rnd() % 8) {
    case 0: return (double)(float)(unit() * 6 - 3);
    case 1: return (unit() * 6 - 3);
    case 2: return ((double)(float)(unit() * 2 - 1) + (double)nextafterf((float)(unit() * 2 - 1), INFINITY)) / 2;
    case 3: return rnd() % 2 ? 1e39 : -1e39;
    case 4: return (double)FLT_MAX + (rnd() % 2 ? 1e22 : -1e22);
    case 5: return (unit() - 0.5) * 1e-40; /* float subnormals */
    default: return round((unit() * 6 - 3) * 4) / 4;
    }
}

#define MAX_NODES 201

typedef struct rtree {
    tnode nodes[MAX_NODES];
    double values[MAX_NODES * 3];
    int n;
} rtree;

/* A random tree: leaves split at random until n nodes. */
static void random_tree(rtree *t, int n_nodes, int n_features, int classes, int missing) {
    t->n = 1;
    t->nodes[0] = (tnode){-1, -1, -2, -2.0, 10, 0};
    while (t->n + 2 <= n_nodes) {
        int leaf;
        do leaf = (int)(rnd() % (uint64_t)t->n);
        while (t->nodes[leaf].left != -1);
        tnode *p = &t->nodes[leaf];
        p->left = t->n;
        p->right = t->n + 1;
        p->feature = (int64_t)(rnd() % (uint64_t)n_features);
        p->threshold = random_threshold();
        p->missing = missing ? (uint8_t)(rnd() % 2) : 0;
        t->nodes[t->n] = t->nodes[t->n + 1] = (tnode){-1, -1, -2, -2.0, 5, 0};
        t->n += 2;
    }
    for (int i = 0; i < t->n * classes; i++) t->values[i] = (double)(rnd() % 7);
    if (classes == 1)
        for (int i = 0; i < t->n; i++) t->values[i] = unit() * 100 - 50;
}

/* Rows whose values sit on thresholds and on their float neighbours. */
static float *random_rows(const rtree *trees, int nt, size_t rows, int nf) {
    float *x = malloc(rows * (size_t)nf * sizeof *x);
    for (size_t i = 0; i < rows * (size_t)nf; i++) {
        const rtree *t = &trees[rnd() % (uint64_t)nt];
        double th = t->nodes[rnd() % (uint64_t)t->n].threshold;
        float f = fabs(th) > FLT_MAX ? (float)(unit() * 6 - 3) : (float)th;
        switch (rnd() % 5) {
        case 0: x[i] = f; break;
        case 1: x[i] = nextafterf(f, INFINITY); break;
        case 2: x[i] = nextafterf(f, -INFINITY); break;
        case 3: x[i] = be_fast_threshold(th) == be_fast_threshold(th) && isfinite(be_fast_threshold(th)) ? be_fast_threshold(th) : f; break;
        default: x[i] = (float)(unit() * 6 - 3);
        }
        if (isinf(x[i])) x[i] = rnd() % 2 ? FLT_MAX : -FLT_MAX; /* sklearn refuses infinity */
    }
    return x;
}

static brine_prediction *run(const brine_model *m, brine_method method, const void *x, brine_dtype dt, size_t rows,
                             int threads, int reference) {
    brine_predict_options o = BRINE_PREDICT_OPTIONS_INIT;
    o.n_threads = threads;
    o.reference = reference;
    brine_prediction *p = NULL;
    brine_error err;
    brine_error_clear(&err);
    if (brine_predict(&p, m, method, x, dt, rows, brine_model_n_features_in(m), &o, &err))
        fprintf(stderr, "  predict failed: %s\n", err.message);
    return p;
}

static int same(const brine_prediction *a, const brine_prediction *b) {
    if (!a || !b || a->n_rows != b->n_rows || a->n_columns != b->n_columns) return 0;
    size_t cells = a->n_rows * a->n_columns;
    if (a->values) return b->values && !memcmp(a->values, b->values, cells * sizeof *a->values);
    return b->indices && !memcmp(a->indices, b->indices, cells * sizeof *a->indices);
}

/* Every method, both dtypes, threads 1..4 against the reference path. */
static void check_model(const brine_model *m, const float *x, size_t rows) {
    size_t nf = brine_model_n_features_in(m);
    double *x64 = malloc(rows * nf * sizeof *x64);
    for (size_t i = 0; i < rows * nf; i++) x64[i] = x[i];
    for (int method = 0; method < 3; method++) {
        if (method == BRINE_METHOD_PREDICT_PROBA && !brine_model_is_classifier(m)) continue;
        brine_prediction *ref = run(m, (brine_method)method, x, BRINE_DTYPE_FLOAT32, rows, 1, 1);
        CHECK(ref != NULL);
        for (int threads = 1; threads <= 4; threads++) {
            brine_prediction *p32 = run(m, (brine_method)method, x, BRINE_DTYPE_FLOAT32, rows, threads, 0);
            brine_prediction *p64 = run(m, (brine_method)method, x64, BRINE_DTYPE_FLOAT64, rows, threads, 0);
            if (!same(ref, p32) || !same(ref, p64))
                fprintf(stderr, "  method %d, %d threads: differs from the reference path\n", method, threads);
            CHECK(same(ref, p32));
            CHECK(same(ref, p64));
            brine_prediction_free(p32);
            brine_prediction_free(p64);
        }
        /* A few rows take the tree-parallel path. */
        for (size_t few = 1; few < 8; few += 3) {
            brine_prediction *a = run(m, (brine_method)method, x + 5 * nf, BRINE_DTYPE_FLOAT32, few, 1, 0);
            brine_prediction *b = run(m, (brine_method)method, x + 5 * nf, BRINE_DTYPE_FLOAT32, few, 1, 1);
            CHECK(same(a, b));
            brine_prediction_free(a);
            brine_prediction_free(b);
        }
        /* The old entry point is the same engine. */
        brine_prediction *old = NULL;
        brine_error err;
        CHECK_EQ_INT(brine_model_predict(&old, m, (brine_method)method, x64, rows, nf, &err), BRINE_OK);
        CHECK(same(ref, old));
        brine_prediction_free(old);
        brine_prediction_free(ref);
    }
    free(x64);
}

/* ------------------------------------------------------------------ tests */

static void threshold_rounds_toward_minus_infinity(void) {
    double ts[4000];
    size_t n = 0;
    const double special[] = {0.0, -0.0, 1.0, -2.0, 0.1, -0.1, 1e-45, -1e-45, 1.4e-45, FLT_MIN, FLT_MAX, -FLT_MAX,
                              (double)FLT_MAX * (1 + 1e-9), -(double)FLT_MAX * (1 + 1e-9), 3.5e38, 1e300, -1e300,
                              INFINITY, -INFINITY, 16777217.0, -16777217.0, -1e-50, 1e-50, -0x1p-150, -0x1p-149, -0x1.8p-149};
    for (size_t k = 0; k < sizeof special / sizeof *special; k++) ts[n++] = special[k];
    while (n < sizeof ts / sizeof *ts) ts[n++] = random_threshold();
    for (size_t k = 0; k < n; k++) {
        double t = ts[k];
        float t32 = be_fast_threshold(t);
        CHECK((double)t32 <= t);
        /* the same bits as the definition: nearest, then one float down if above */
        float want = (float)t;
        if ((double)want > t) want = nextafterf(want, -INFINITY);
        CHECK(!memcmp(&want, &t32, sizeof want) || (isnan(want) && isnan(t32)));
        if (isfinite(t32) || t32 < 0) CHECK(!((double)nextafterf(t32, INFINITY) <= t) || t32 == FLT_MAX || t == INFINITY);
        const float near[] = {t32, nextafterf(t32, INFINITY), nextafterf(t32, -INFINITY), (float)t,
                              nextafterf((float)t, INFINITY), nextafterf((float)t, -INFINITY), 0.0f, -0.0f,
                              FLT_MAX, -FLT_MAX, INFINITY, -INFINITY};
        for (size_t q = 0; q < sizeof near / sizeof *near; q++) {
            float x = near[q];
            if (((double)x <= t) != (x <= t32)) fprintf(stderr, "  x=%a t=%a t32=%a\n", (double)x, t, (double)t32);
            CHECK(((double)x <= t) == (x <= t32));
        }
    }
    CHECK(isnan(be_fast_threshold(NAN)));
    CHECK(be_fast_threshold(1e39) == FLT_MAX);
    CHECK(be_fast_threshold(-1e39) == -INFINITY);
}

static void forest_classifier_matches_reference(void) {
    static rtree trees[7];
    tspec specs[7];
    static const int64_t three[1] = {3};
    for (int k = 0; k < 7; k++) {
        random_tree(&trees[k], 3 + 2 * (int)(rnd() % 100), 6, 3, 0);
        specs[k] = (tspec){.nodes = trees[k].nodes, .n_nodes = trees[k].n, .values = trees[k].values, .n_features = 6,
                           .n_classes = three, .version = "1.2.1"};
    }
    brine_model *m;
    brine_error err;
    CHECK_EQ_INT(load_forest("RandomForestClassifier", specs, 7, &m, &err), BRINE_OK);
    if (!m) return;
    size_t rows = 3001; /* not a multiple of the lanes or of a share */
    float *x = random_rows(trees, 7, rows, 6);
    check_model(m, x, rows);
    free(x);
    brine_model_free(m);
}

static void forest_regressor_and_single_trees_match_reference(void) {
    static rtree trees[5];
    tspec specs[5];
    for (int k = 0; k < 5; k++) {
        random_tree(&trees[k], 1 + 2 * (int)(rnd() % 80), 5, 1, 0);
        specs[k] = (tspec){.cls = "DecisionTreeRegressor", .nodes = trees[k].nodes, .n_nodes = trees[k].n,
                           .values = trees[k].values, .n_features = 5, .version = "1.2.1"};
    }
    brine_model *m;
    brine_error err;
    CHECK_EQ_INT(load_forest("ExtraTreesRegressor", specs, 5, &m, &err), BRINE_OK);
    float *x = random_rows(trees, 5, 1500, 5);
    if (m) check_model(m, x, 1500);
    brine_model_free(m);
    CHECK_EQ_INT(load_tree(specs[1], &m, &err), BRINE_OK);
    if (m) check_model(m, x, 1500);
    brine_model_free(m);
    static const int64_t three[1] = {3};
    static rtree c;
    random_tree(&c, 151, 5, 3, 0);
    CHECK_EQ_INT(load_tree((tspec){.nodes = c.nodes, .n_nodes = c.n, .values = c.values, .n_features = 5,
                                   .n_classes = three, .version = "1.2.1"},
                           &m, &err),
                 BRINE_OK);
    if (m) check_model(m, x, 1500);
    brine_model_free(m);
    free(x);
}

/* sklearn >= 1.3 trees route NaN by their recorded side: rows with NaN
 * take the exact path, the others the compact one, same answers. */
static void nan_rows_take_the_recorded_side(void) {
    static rtree trees[3];
    tspec specs[3];
    for (int k = 0; k < 3; k++) {
        random_tree(&trees[k], 61, 4, 2, 1);
        specs[k] = (tspec){.nodes = trees[k].nodes, .n_nodes = trees[k].n, .values = trees[k].values, .n_features = 4,
                           .missing_field = 1, .version = "1.3.0"};
    }
    brine_model *m;
    brine_error err;
    CHECK_EQ_INT(load_forest("RandomForestClassifier", specs, 3, &m, &err), BRINE_OK);
    if (!m) return;
    CHECK(brine_model_accepts_nan(m));
    size_t rows = 40000; /* several blocks: some with NaN, some without */
    float *x = random_rows(trees, 3, rows, 4);
    for (size_t r = 0; r < 2000; r++) x[r * 4 + r % 4] = NAN;
    x[(rows - 1) * 4] = NAN;
    check_model(m, x, rows);
    /* Each NaN row's leaves follow missing_go_to_left, node by node. */
    brine_prediction *p = run(m, BRINE_METHOD_APPLY, x, BRINE_DTYPE_FLOAT32, rows, 2, 0);
    const be_forest *f = m->impl;
    for (size_t r = 0; p && r < 50; r++)
        for (size_t j = 0; j < 3; j++) CHECK_EQ_INT(p->indices[r * 3 + j], be_tree_apply(f->trees[j], x + r * 4));
    brine_prediction_free(p);
    free(x);
    brine_model_free(m);
}

static void predict_refuses_bad_calls(void) {
    brine_model *m;
    brine_error err;
    CHECK_EQ_INT(load_tree((tspec){.version = "1.2.1"}, &m, &err), BRINE_OK);
    if (!m) return;
    float x[4] = {0, 1, 2, INFINITY};
    brine_prediction *p = (brine_prediction *)&err;
    brine_predict_options o = BRINE_PREDICT_OPTIONS_INIT;
    CHECK_EQ_INT(brine_predict(&p, m, BRINE_METHOD_PREDICT, x, BRINE_DTYPE_FLOAT32, 2, 2, NULL, &err), BRINE_E_ARGUMENT);
    CHECK(p == NULL);
    CHECK(strstr(err.message, "X[1, 1] is infinite") != NULL);
    x[3] = NAN;
    brine_error_clear(&err);
    CHECK_EQ_INT(brine_predict(&p, m, BRINE_METHOD_PREDICT, x, BRINE_DTYPE_FLOAT32, 2, 2, NULL, &err), BRINE_E_ARGUMENT);
    if (!strstr(err.message, "X[1, 1] is NaN")) fprintf(stderr, "  message was: %s\n", err.message);
    CHECK(strstr(err.message, "X[1, 1] is NaN") != NULL);
    CHECK_EQ_INT(brine_predict(&p, m, BRINE_METHOD_PREDICT, x, (brine_dtype)7, 1, 2, NULL, &err), BRINE_E_ARGUMENT);
    o.n_threads = -5;
    CHECK_EQ_INT(brine_predict(&p, m, BRINE_METHOD_PREDICT, x, BRINE_DTYPE_FLOAT32, 1, 2, &o, &err), BRINE_E_ARGUMENT);
    o.n_threads = BRINE_THREADS_ALL;
    CHECK_EQ_INT(brine_predict(&p, m, BRINE_METHOD_PREDICT, x, BRINE_DTYPE_FLOAT32, 1, 2, &o, &err), BRINE_OK);
    brine_prediction_free(p);
    o.version = 99;
    CHECK_EQ_INT(brine_predict(&p, m, BRINE_METHOD_PREDICT, x, BRINE_DTYPE_FLOAT32, 1, 2, &o, &err), BRINE_E_ARGUMENT);
    CHECK_EQ_INT(brine_predict(&p, m, BRINE_METHOD_PREDICT, x, BRINE_DTYPE_FLOAT32, 1, 3, NULL, &err), BRINE_E_ARGUMENT);
    brine_model_free(m);
}

/* One model pickle as bytes (the estimator, STOP). */
static void write_model(const char *path, tspec s) {
    s = defaults(s);
    bi_buf b = BI_BUF_INIT;
    a_op(&b, 0x80);
    a_op(&b, 2);
    a_estimator(&b, &s);
    a_op(&b, '.');
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(b.data, 1, b.len, f) == b.len);
    if (f) fclose(f);
    bi_buf_free(&b);
}

static void load_many_reports_each_file(void) {
    char dir[] = "/tmp/brine-fast-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    enum { N = 23 };
    char names[N][64];
    const char *paths[N];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "%s/m%02d.pkl", dir, i);
        paths[i] = names[i];
        if (i == 5 || i == 17) {
            FILE *f = fopen(names[i], "wb");
            if (f) fputs("not a pickle", f), fclose(f);
        } else if (i != 11) { /* 11 is missing */
            write_model(names[i], (tspec){.version = "1.2.1", .n_features = 2 + i % 3});
        }
    }
    brine_model *ms[N];
    brine_error es[N];
    for (int threads = 0; threads <= 4; threads++) {
        brine_status st = brine_model_load_many(ms, es, paths, N, NULL, threads);
        CHECK_EQ_INT(st, es[5].status);
        CHECK(st != BRINE_OK);
        for (int i = 0; i < N; i++) {
            int bad = i == 5 || i == 17 || i == 11;
            CHECK(bad ? ms[i] == NULL && es[i].status != BRINE_OK : ms[i] != NULL);
            if (!bad && ms[i]) CHECK_EQ_INT(brine_model_n_features_in(ms[i]), 2 + i % 3);
            brine_model_free(ms[i]);
        }
        CHECK_EQ_INT(es[11].status, BRINE_E_IO);
    }
    const char *good[2] = {paths[0], paths[1]};
    CHECK_EQ_INT(brine_model_load_many(ms, NULL, good, 2, NULL, BRINE_THREADS_ALL), BRINE_OK);
    brine_model_free(ms[0]);
    brine_model_free(ms[1]);
    CHECK_EQ_INT(brine_model_load_many(NULL, NULL, good, 2, NULL, 0), BRINE_E_ARGUMENT);
    CHECK_EQ_INT(brine_model_load_many(NULL, NULL, NULL, 0, NULL, 0), BRINE_OK);
    for (int i = 0; i < N; i++) unlink(names[i]);
    rmdir(dir);
}

/* A forest file of n trees (STOP included). */
static void write_forest(const char *path, const tspec *specs, int n) {
    bi_buf b = BI_BUF_INIT;
    a_forest(&b, "RandomForestClassifier", specs, n);
    a_op(&b, '.');
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(b.data, 1, b.len, f) == b.len);
    if (f) fclose(f);
    bi_buf_free(&b);
}

static brine_status load_on(const char *path, int threads, int mmap, brine_model **m, brine_error *err) {
    brine_load_options o = BRINE_LOAD_OPTIONS_INIT;
    o.n_threads = threads;
    o.use_mmap = mmap;
    brine_error_clear(err);
    return brine_model_load(m, path, &o, err);
}

/* brine_load_options.n_threads: a forest large enough to be checked on
 * several threads loads into the same model, and a broken one fails with
 * the message of its first broken tree, whatever the thread count. */
static void forest_loads_alike_on_threads(void) {
    enum { N = 180 }; /* ~36 000 nodes: above the threads' threshold */
    static rtree trees[N];
    static tspec specs[N];
    static const int64_t three[1] = {3};
    for (int k = 0; k < N; k++) {
        random_tree(&trees[k], MAX_NODES, 6, 3, 0);
        specs[k] = (tspec){.nodes = trees[k].nodes, .n_nodes = trees[k].n, .values = trees[k].values, .n_features = 6,
                           .n_classes = three, .version = "1.2.1"};
    }
    char path[] = "/tmp/brine-forest-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd >= 0) close(fd);
    write_forest(path, specs, N);
    brine_model *one = NULL, *m = NULL;
    brine_error err;
    CHECK_EQ_INT(load_on(path, 1, 0, &one, &err), BRINE_OK);
    size_t rows = 1000;
    float *x = random_rows(trees, N, rows, 6);
    const int counts[] = {2, 3, 7, BRINE_THREADS_ALL};
    for (size_t c = 0; one && c < sizeof counts / sizeof *counts; c++) {
        for (int mmap = 0; mmap < 2; mmap++) {
            CHECK_EQ_INT(load_on(path, counts[c], mmap, &m, &err), BRINE_OK);
            if (!m) continue;
            const brine_method methods[] = {BRINE_METHOD_PREDICT_PROBA, BRINE_METHOD_PREDICT, BRINE_METHOD_APPLY};
            for (int k = 0; k < 3; k++) {
                brine_prediction *p = run(one, methods[k], x, BRINE_DTYPE_FLOAT32, rows, 1, 0);
                brine_prediction *q = run(m, methods[k], x, BRINE_DTYPE_FLOAT32, rows, 1, 0);
                CHECK(same(p, q));
                brine_prediction_free(p);
                brine_prediction_free(q);
            }
            brine_model_free(m);
        }
    }
    brine_model_free(one);
    /* Broken trees 40 (two parents), 41 (a child out of range) and 170
     * (one child): the first is reported, by any count. */
    static rtree bad[3];
    const int at[3] = {40, 41, 170};
    for (int b = 0; b < 3; b++) {
        bad[b] = trees[at[b]];
        specs[at[b]].nodes = bad[b].nodes;
    }
    int second = 0; /* an inner node whose left child becomes the root's */
    for (int i = 1; i < bad[0].n && !second; i++)
        if (bad[0].nodes[i].left > 1) {
            bad[0].nodes[i].left = bad[0].nodes[0].left;
            second = i;
        }
    char want[128];
    snprintf(want, sizeof want, "estimators_[40].tree_.nodes[%d] has two parents (nodes[0] and nodes[%d])",
             (int)bad[0].nodes[0].left, second);
    bad[1].nodes[0].left = 5000;
    bad[2].nodes[0].right = -1;
    write_forest(path, specs, N);
    char first[BRINE_ERROR_MESSAGE_SIZE] = "";
    for (int threads = 1; threads <= 8; threads++) {
        CHECK_EQ_INT(load_on(path, threads, threads % 2, &m, &err), BRINE_E_FORMAT);
        CHECK(m == NULL);
        if (threads == 1) {
            snprintf(first, sizeof first, "%s", err.message);
            if (!strstr(first, want)) fprintf(stderr, "  %s\n  does not say: %s\n", first, want);
            CHECK(strstr(first, want) != NULL);
        }
        if (strcmp(first, err.message)) fprintf(stderr, "  %d threads: %s\n  one thread: %s\n", threads, err.message, first);
        CHECK(!strcmp(first, err.message));
    }
    CHECK_EQ_INT(load_on(path, -2, 0, &m, &err), BRINE_E_ARGUMENT);
    free(x);
    unlink(path);
}

int main(void) {
    RUN(threshold_rounds_toward_minus_infinity);
    RUN(forest_classifier_matches_reference);
    RUN(forest_regressor_and_single_trees_match_reference);
    RUN(nan_rows_take_the_recorded_side);
    RUN(predict_refuses_bad_calls);
    RUN(load_many_reports_each_file);
    RUN(forest_loads_alike_on_threads);
    TEST_MAIN_END();
}
