/* test_train.c — the training layer against the test vectors of
 * ../shared/TREES.md: numpy's RandomState streams (§1.5), sklearn's
 * xorshift generator (§1.6), the introsort's tie order (§6.2), the
 * libstdc++-heap best-first builder and the end-to-end trees of §12; then
 * the public brine_train: thread counts change nothing, refusals name what
 * they refuse. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "brine.h"
#include "estimators/estimator.h"
#include "harness.h"
#include "train/train.h"

/* ------------------------------------------------------------ RNG (§1) */

static void test_mt_raw(void) {
    static const uint32_t s0[] = {2357136044u, 2546248239u, 3071714933u, 3626093760u, 2588848963u};
    static const uint32_t s42[] = {1608637542u, 3421126067u, 4083286876u, 787846414u, 3143890026u};
    static const uint32_t s5489[] = {3499211612u, 581869302u, 3890346734u};
    bt_mt mt;
    bt_mt_seed(&mt, 0);
    CHECK_EQ_INT(mt.key[2], 1812433255u);
    CHECK_EQ_INT(mt.key[3], 1900727105u);
    CHECK_EQ_INT(mt.key[623], 1796872496u);
    for (int i = 0; i < 5; i++) CHECK_EQ_INT(bt_mt_next32(&mt), s0[i]);
    bt_mt_seed(&mt, 42);
    for (int i = 0; i < 5; i++) CHECK_EQ_INT(bt_mt_next32(&mt), s42[i]);
    bt_mt_seed(&mt, 5489);
    for (int i = 0; i < 3; i++) CHECK_EQ_INT(bt_mt_next32(&mt), s5489[i]);
}

static void test_mt_randint(void) {
    static const int64_t r42[] = {1608637542, 1273642419, 1935803228, 787846414, 996406378};
    static const int64_t r0[] = {47, 117, 67, 103, 9, 21, 36, 87, 70, 88};
    static const int64_t big[] = {163196666091LL, 605300724808LL, 1095766950793LL};
    bt_mt mt;
    bt_mt_seed(&mt, 42);
    for (int i = 0; i < 5; i++) CHECK_EQ_INT(bt_mt_randint(&mt, 0, 2147483647), r42[i]);
    bt_mt_seed(&mt, 0);
    for (int i = 0; i < 10; i++) CHECK_EQ_INT(bt_mt_randint(&mt, 0, 150), r0[i]);
    bt_mt_seed(&mt, 0);
    CHECK_EQ_INT(bt_mt_randint(&mt, 0, 2147483647), 209652396);
    bt_mt_seed(&mt, 1);
    for (int i = 0; i < 3; i++) CHECK_EQ_INT(bt_mt_randint(&mt, 0, 1LL << 40), big[i]);
    bt_mt_seed(&mt, 7);
    CHECK_EQ_INT(bt_mt_randint(&mt, 5, 6), 5); /* an empty range consumes nothing */
    CHECK_EQ_INT(bt_mt_next32(&mt), (bt_mt_seed(&mt, 7), bt_mt_next32(&mt)));
}

static void test_mt_random_sample(void) {
    bt_mt mt;
    bt_mt_seed(&mt, 0);
    CHECK(bt_mt_random_sample(&mt) == 0.5488135039273248);
    CHECK(bt_mt_random_sample(&mt) == 0.7151893663724195);
    CHECK(bt_mt_random_sample(&mt) == 0.6027633760716439);
    bt_mt_seed(&mt, 42);
    CHECK(bt_mt_random_sample(&mt) == 0.3745401188473625);
    CHECK(bt_mt_random_sample(&mt) == 0.9507143064099162);
    CHECK(bt_mt_random_sample(&mt) == 0.7319939418114051);
}

static void test_rand_r(void) {
    static const uint32_t from1[] = {270369, 67634689, 499951813, 307599695, 251205585};
    static const uint32_t from2087557356[] = {562009556, 728431350, 1924947308, 1529191780, 2041318688, 2030458276};
    uint32_t s = 1;
    for (int i = 0; i < 5; i++) CHECK_EQ_INT(bt_rand_r(&s), from1[i]);
    CHECK_EQ_INT(s, 2398689233u);
    s = 0;
    CHECK_EQ_INT(bt_rand_r(&s), 270369);
    s = 2087557356u;
    for (int i = 0; i < 6; i++) CHECK_EQ_INT(bt_rand_r(&s), from2087557356[i]);
    static const size_t ints[] = {2, 7, 6, 2, 3, 2, 0, 2};
    s = 12345;
    for (int i = 0; i < 8; i++) CHECK_EQ_INT(bt_rand_int(0, 10, &s), ints[i]);
    s = 12345; /* the uniforms are from a fresh state too */
    CHECK(bt_rand_uniform(0, 1, &s) == 0.5538774107368092);
    CHECK(bt_rand_uniform(0, 1, &s) == 0.7903453930236145);
    CHECK(bt_rand_uniform(0, 1, &s) == 0.31154055907928413);
    /* Tree seeds: RandomState(seed).randint(0, 2^31 - 1) */
    bt_mt mt;
    bt_mt_seed(&mt, 209652396);
    CHECK_EQ_INT(bt_mt_randint(&mt, 0, BT_RAND_R_MAX), 2087557356);
    bt_mt_seed(&mt, 398764591);
    CHECK_EQ_INT(bt_mt_randint(&mt, 0, BT_RAND_R_MAX), 132990059);
}

/* ----------------------------------------------------------- sort (§6.2) */

static void test_sort_ties(void) {
    float v1[] = {3, 1, 2, 1, 3, 0, 2, 1, 5, 1, 1, 0};
    int32_t s1[12], want1[] = {11, 5, 3, 10, 1, 7, 9, 2, 6, 0, 4, 8};
    for (int i = 0; i < 12; i++) s1[i] = i;
    bt_sort(v1, s1, 12);
    for (int i = 0; i < 12; i++) CHECK_EQ_INT(s1[i], want1[i]);
    float v2[] = {2, 2, 2, 2, 2, 1, 1, 1, 1};
    int32_t s2[9], want2[] = {5, 6, 7, 8, 4, 0, 1, 2, 3};
    for (int i = 0; i < 9; i++) s2[i] = i;
    bt_sort(v2, s2, 9);
    for (int i = 0; i < 9; i++) CHECK_EQ_INT(s2[i], want2[i]);
    /* Large inputs reach the heapsort fallback and stay sorted. */
    enum { N = 5000 };
    static float v[N];
    static int32_t s[N];
    for (int i = 0; i < N; i++) v[i] = (float)((i * 7919) % 13), s[i] = i;
    bt_sort(v, s, N);
    int sorted = 1;
    for (int i = 1; i < N; i++) sorted &= v[i - 1] <= v[i] && v[i] == (float)((s[i] * 7919) % 13);
    CHECK(sorted);
}

/* --------------------------------------------------- end to end (§12) */

/* Data A: X = RandomState(0).rand(12, 3), y = RandomState(1).rand(12). */
static void data_a(double *x, brine_label *y) {
    bt_mt mt;
    bt_mt_seed(&mt, 0);
    for (int i = 0; i < 36; i++) x[i] = bt_mt_random_sample(&mt);
    bt_mt_seed(&mt, 1);
    for (int i = 0; i < 12; i++) y[i] = (brine_label){BRINE_LABEL_FLOAT, 0, bt_mt_random_sample(&mt), NULL, 0};
}

static brine_model *train(const char *est, const brine_train_data *d, const char *const *params, size_t n) {
    brine_model *m = NULL;
    brine_error err;
    brine_error_clear(&err);
    brine_train_options o = BRINE_TRAIN_OPTIONS_INIT;
    o.sklearn_version = "1.2.1";
    if (brine_train(&m, est, d, params, n, &o, &err)) fprintf(stderr, "  brine_train: %s\n", err.message);
    return m;
}

static const be_tree *tree_of(const brine_model *m, size_t i) {
    if (m->cls->family == &be_forest_family) return ((const be_forest *)m->impl)->trees[i];
    return m->impl;
}

/* The same children, features and thresholds, node by node. */
static int same_splits(const be_tree *a, const be_tree *b) {
    for (size_t i = 0; i < a->node_count; i++) {
        int32_t al = -1, ar = -1, bl = -1, br = -1;
        int ak = be_tree_kids(a, i, &al, &ar), bk = be_tree_kids(b, i, &bl, &br);
        double at = be_tree_threshold(a, i), bt = be_tree_threshold(b, i);
        if (ak != bk || al != bl || ar != br || be_tree_feature(a, i) != be_tree_feature(b, i) || memcmp(&at, &bt, 8))
            return 0;
    }
    return 1;
}

static void expect_tree(const be_tree *t, size_t n, const int *feature, const double *threshold, const int *left,
                        const int64_t *samples) {
    CHECK_EQ_INT(t->node_count, n);
    if (t->node_count != n) return;
    for (size_t i = 0; i < n; i++) {
        int32_t l = -1, r = -1;
        be_tree_kids(t, i, &l, &r);
        if (feature) CHECK_EQ_INT(be_tree_feature(t, i), feature[i]);
        if (threshold) CHECK(be_tree_threshold(t, i) == threshold[i]);
        if (left) CHECK_EQ_INT(l, left[i]);
        if (samples) CHECK_EQ_INT(be_tree_samples(t, i), samples[i]);
    }
}

static void test_regressor_data_a(void) {
    double x[36];
    brine_label y[12];
    data_a(x, y);
    brine_train_data d = {x, 12, 3, y, 1, NULL, NULL};
    const char *p[] = {"random_state=0", "max_features=2", "max_depth=3"};
    brine_model *m = train("DecisionTreeRegressor", &d, p, 3);
    CHECK(m != NULL);
    if (!m) return;
    static const int feature[] = {1, 2, 1, -2, -2, -2, 0, -2, 1, -2, -2};
    static const double thr[] = {0.8308686017990112, 0.8065745234489441, 0.4425670802593231, -2, -2, -2,
                                 0.5028158724308014, -2, 0.8978044092655182, -2, -2};
    static const int left[] = {1, 2, 3, -1, -1, -1, 7, -1, 9, -1, -1};
    static const int64_t n[] = {12, 9, 8, 2, 6, 1, 3, 1, 2, 1, 1};
    static const double value[] = {0.3542255910528856, 0.43528629062472207, 0.47815475260671264,
                                   0.7027719969194588, 0.4032823378357972, 0.0923385947687978,
                                   0.11104349233737627, 0.00011437481734488664, 0.16650805109739197,
                                   0.1862602113776709, 0.14675589081711304};
    static const double imp[] = {0.046303082466920886, 0.03331651752424408, 0.02094173692046225,
                                 0.0003080901341793729, 0.005396105208044538, -1.734723475976807e-17,
                                 0.006412733114044953, 0.0, 0.0003901478357378266, 0.0, -3.469446951953614e-18};
    const be_tree *t = tree_of(m, 0);
    expect_tree(t, 11, feature, thr, left, n);
    for (size_t i = 0; i < 11 && t->node_count == 11; i++) {
        CHECK(t->value[i] == value[i]);
        CHECK(be_tree_impurity(t, i) == imp[i]);
    }
    brine_model_free(m);
}

static void test_extra_tree_data_a(void) {
    double x[36];
    brine_label y[12];
    data_a(x, y);
    brine_train_data d = {x, 12, 3, y, 1, NULL, NULL};
    const char *p[] = {"random_state=0", "max_depth=2"};
    brine_model *m = train("ExtraTreeRegressor", &d, p, 2);
    CHECK(m != NULL);
    if (!m) return;
    static const int feature[] = {0, 1, -2, -2, 0, -2, -2};
    static const double thr[] = {0.34062545909775926, 0.13059792417670976, -2, -2, 0.44722789053089684, -2, -2};
    static const int64_t n[] = {12, 3, 1, 2, 9, 2, 7};
    expect_tree(tree_of(m, 0), 7, feature, thr, NULL, n);
    brine_model_free(m);
}

static void test_forest_data_a(void) {
    double x[36];
    brine_label y[12];
    data_a(x, y);
    brine_train_data d = {x, 12, 3, y, 1, NULL, NULL};
    const char *p[] = {"n_estimators=2", "random_state=0", "max_depth=2"};
    brine_model *m = train("RandomForestRegressor", &d, p, 3);
    CHECK(m != NULL);
    if (!m) return;
    static const int f0[] = {2, 0, -2, -2, 1, -2, -2}, f1[] = {2, 1, -2, -2, -2};
    static const double t0[] = {0.8720959722995758, 0.871913731098175, -2, -2, 0.8808925747871399, -2, -2};
    static const double t1[] = {0.8065745234489441, 0.4425670802593231, -2, -2, -2};
    static const int64_t n0[] = {6, 4, 3, 1, 2, 1, 1}, n1[] = {9, 8, 2, 6, 1};
    static const double w0[] = {12, 9, 6, 3, 3, 1, 2}, w1[] = {12, 11, 3, 8, 1};
    expect_tree(tree_of(m, 0), 7, f0, t0, NULL, n0);
    expect_tree(tree_of(m, 1), 5, f1, t1, NULL, n1);
    for (int i = 0; i < 7 && tree_of(m, 0)->node_count == 7; i++) CHECK(be_tree_wsamples(tree_of(m, 0), (size_t)i) == w0[i]);
    for (int i = 0; i < 5 && tree_of(m, 1)->node_count == 5; i++) CHECK(be_tree_wsamples(tree_of(m, 1), (size_t)i) == w1[i]);
    CHECK(tree_of(m, 0)->value[0] == 0.3277308143147796);
    CHECK(be_tree_impurity(tree_of(m, 0), 0) == 0.03218521476036358);
    brine_prediction *pr = NULL;
    brine_error err;
    brine_error_clear(&err);
    CHECK_EQ_INT(brine_model_predict(&pr, m, BRINE_METHOD_PREDICT, x, 3, 3, &err), BRINE_OK);
    if (pr) {
        CHECK(pr->values[0] == 0.36255118921052554);
        CHECK(pr->values[1] == 0.5317972986097562);
        CHECK(pr->values[2] == 0.04622648479307134);
    }
    brine_prediction_free(pr);
    brine_model_free(m);
}

static void test_best_first_data_a(void) {
    double x[36];
    brine_label y[12];
    data_a(x, y);
    for (int i = 0; i < 12; i++) y[i] = (brine_label){BRINE_LABEL_BOOL, y[i].f > 0.4, 0, NULL, 0};
    brine_train_data d = {x, 12, 3, y, 1, NULL, NULL};
    const char *p[] = {"random_state=0", "max_leaf_nodes=4"};
    brine_model *m = train("DecisionTreeClassifier", &d, p, 2);
    CHECK(m != NULL);
    if (!m) return;
    static const int feature[] = {1, 2, -2, 0, -2, -2, -2};
    static const double thr[] = {0.7829793691635132, 0.7132116556167603, -2, 0.19141501560807228, -2, -2, -2};
    static const int left[] = {1, 3, -1, 5, -1, -1, -1};
    static const double counts[][2] = {{7, 5}, {3, 5}, {4, 0}, {1, 5}, {2, 0}, {1, 0}, {0, 5}};
    const be_tree *t = tree_of(m, 0);
    expect_tree(t, 7, feature, thr, left, NULL);
    for (int i = 0; i < 7 && t->node_count == 7; i++) {
        CHECK(t->value[2 * i] == counts[i][0]);
        CHECK(t->value[2 * i + 1] == counts[i][1]);
    }
    CHECK_EQ_INT(m->classes[0].dtype_kind, 'b');
    brine_model_free(m);
}

static void test_tiny(void) {
    double x[] = {0, 1, 2, 3};
    brine_label y[4];
    for (int i = 0; i < 4; i++) y[i] = (brine_label){BRINE_LABEL_INT, i >= 2, 0, NULL, 0};
    brine_train_data d = {x, 4, 1, y, 1, NULL, NULL};
    brine_model *m = train("dt", &d, NULL, 0);
    CHECK(m != NULL);
    if (!m) return;
    const be_tree *t = tree_of(m, 0);
    CHECK_EQ_INT(t->node_count, 3);
    CHECK(be_tree_threshold(t, 0) == 1.5);
    CHECK(be_tree_impurity(t, 0) == 0.5 && be_tree_impurity(t, 1) == 0 && be_tree_impurity(t, 2) == 0);
    CHECK(t->value[0] == 2 && t->value[1] == 2 && t->value[2] == 2 && t->value[3] == 0);
    brine_model_free(m);
}

/* ----------------------------------------------------- the public API */

static void synthetic(double *x, brine_label *y, size_t n, size_t p) {
    bt_mt mt;
    bt_mt_seed(&mt, 99);
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (size_t f = 0; f < p; f++) s += (x[i * p + f] = floor(bt_mt_random_sample(&mt) * 8) / 2);
        y[i] = (brine_label){BRINE_LABEL_INT, (int64_t)s % 3, 0, NULL, 0};
    }
}

static void test_threads_identical(void) {
    enum { N = 400, P = 5 };
    static double x[N * P];
    static brine_label y[N];
    synthetic(x, y, N, P);
    brine_train_data d = {x, N, P, y, 1, NULL, NULL};
    const char *one[] = {"n_estimators=12", "random_state=5", "n_jobs=1"};
    const char *four[] = {"n_estimators=12", "random_state=5", "n_jobs=4"};
    const char *all[] = {"n_estimators=12", "random_state=5", "n_jobs=-1"};
    brine_model *a = train("et", &d, one, 3), *b = train("et", &d, four, 3), *c = train("et", &d, all, 3);
    CHECK(a && b && c);
    if (!a || !b || !c) goto done;
    for (size_t k = 0; k < 12; k++) {
        const be_tree *ta = tree_of(a, k), *tb = tree_of(b, k), *tc = tree_of(c, k);
        CHECK_EQ_INT(ta->node_count, tb->node_count);
        CHECK_EQ_INT(ta->node_count, tc->node_count);
        if (ta->node_count != tb->node_count || ta->node_count != tc->node_count) continue;
        size_t nv = ta->node_count * ta->max_classes;
        CHECK(same_splits(ta, tb));
        CHECK(same_splits(ta, tc));
        CHECK(!memcmp(ta->value, tb->value, nv * sizeof *ta->value));
        for (size_t i = 0; i < ta->node_count; i++) CHECK(be_tree_impurity(ta, i) == be_tree_impurity(tc, i));
    }
done:
    brine_model_free(a);
    brine_model_free(b);
    brine_model_free(c);
}

static void expect_refusal(const char *est, const brine_train_data *d, const char *param, brine_status want,
                           const char *word) {
    brine_model *m = NULL;
    brine_error err;
    brine_error_clear(&err);
    const char *p[] = {param};
    brine_status st = brine_train(&m, est, d, p, param ? 1 : 0, NULL, &err);
    CHECK_EQ_INT(st, want);
    CHECK(m == NULL);
    if (!strstr(err.message, word)) {
        fprintf(stderr, "  %s %s: message '%s' lacks '%s'\n", est, param ? param : "", err.message, word);
        CHECK(0);
    }
    brine_model_free(m);
}

static void test_refusals(void) {
    enum { N = 40, P = 3 };
    static double x[N * P];
    static brine_label y[N];
    synthetic(x, y, N, P);
    brine_train_data d = {x, N, P, y, 1, NULL, NULL};
    expect_refusal("svc", &d, NULL, BRINE_E_ARGUMENT, "cannot train");
    expect_refusal("rf", &d, "n_trees=5", BRINE_E_ARGUMENT, "no parameter 'n_trees'");
    expect_refusal("rf", &d, "max_depth=3.0", BRINE_E_ARGUMENT, "max_depth");
    expect_refusal("rf", &d, "max_depth=0", BRINE_E_ARGUMENT, "max_depth");
    expect_refusal("dt", &d, "max_features=7", BRINE_E_ARGUMENT, "max_features");
    expect_refusal("dt", &d, "criterion=squared_error", BRINE_E_ARGUMENT, "criterion");
    expect_refusal("dt", &d, "ccp_alpha=0.5", BRINE_E_UNSUPPORTED, "ccp_alpha");
    expect_refusal("rf", &d, "oob_score=True", BRINE_E_UNSUPPORTED, "oob_score");
    expect_refusal("dt", &d, "class_weight=balanced_subsample", BRINE_E_ARGUMENT, "class_weight");
    expect_refusal("dt", &d, "class_weight={7: 2.0}", BRINE_E_ARGUMENT, "class_weight");
    expect_refusal("et", &d, "max_samples=10", BRINE_E_ARGUMENT, "bootstrap");
    expect_refusal("rf", &d, "max_samples=100", BRINE_E_ARGUMENT, "max_samples");
    expect_refusal("dt", &d, "random_state=-1", BRINE_E_ARGUMENT, "random_state");
    expect_refusal("dt", &d, "max_depth", BRINE_E_ARGUMENT, "name=value");
    x[4] = NAN;
    expect_refusal("dt", &d, NULL, BRINE_E_ARGUMENT, "row 1, column 1");
    x[4] = 1e39;
    expect_refusal("dt", &d, NULL, BRINE_E_ARGUMENT, "float32");
    x[4] = 1;
    y[3] = (brine_label){BRINE_LABEL_FLOAT, 0, 0.5, NULL, 0};
    expect_refusal("dt", &d, NULL, BRINE_E_ARGUMENT, "continuous");
    y[3] = (brine_label){BRINE_LABEL_FLOAT, 0, -1.0, NULL, 0};
    expect_refusal("dtr", &d, "criterion=poisson", BRINE_E_ARGUMENT, "negative");
    brine_train_options o = BRINE_TRAIN_OPTIONS_INIT;
    o.sklearn_version = "0.24.2";
    brine_model *m = NULL;
    brine_error err;
    brine_error_clear(&err);
    CHECK_EQ_INT(brine_train(&m, "dt", &d, NULL, 0, &o, &err), BRINE_E_UNSUPPORTED);
    CHECK(strstr(err.message, "1.2.1") != NULL);
}

int main(void) {
    RUN(test_mt_raw);
    RUN(test_mt_randint);
    RUN(test_mt_random_sample);
    RUN(test_rand_r);
    RUN(test_sort_ties);
    RUN(test_regressor_data_a);
    RUN(test_extra_tree_data_a);
    RUN(test_forest_data_a);
    RUN(test_best_first_data_a);
    RUN(test_tiny);
    RUN(test_threads_identical);
    RUN(test_refusals);
    TEST_MAIN_END();
}
