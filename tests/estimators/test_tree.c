/* test_tree.c — trees and forests built by hand as pickles of allowed
 * classes: correct ones predict what sklearn would, hostile ones (bad child
 * links, cycles, a child pointing at the root, features out of range, wrong
 * shapes and dtypes) fail with BRINE_E_FORMAT naming the estimator and the
 * field, never a crash or a hang. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "brine.h"
#include "estimators/estimator.h"
#include "harness.h"
#include "tree_pickles.h"

/* ---------------------------------------------------------------- helpers */

static void expect_format(brine_status st, const brine_error *err, const char *a, const char *b) {
    CHECK_EQ_INT(st, BRINE_E_FORMAT);
    if (!strstr(err->message, a) || (b && !strstr(err->message, b))) {
        fprintf(stderr, "  message was: %s (wanted '%s'%s%s)\n", err->message, a, b ? " and " : "", b ? b : "");
        CHECK(0);
    }
}

static brine_prediction *predict(const brine_model *m, brine_method method, const double *x, size_t rows) {
    brine_prediction *p = NULL;
    brine_error err;
    brine_error_clear(&err);
    if (brine_model_predict(&p, m, method, x, rows, brine_model_n_features_in(m), &err))
        fprintf(stderr, "  predict failed: %s\n", err.message);
    return p;
}

/* ------------------------------------------------------------------ tests */

static void registry_is_sorted_and_complete(void) {
    for (size_t i = 1; i < be_class_count(); i++) {
        const be_class *a = be_class_at(i - 1), *b = be_class_at(i);
        int d = strcmp(a->module, b->module);
        CHECK(d < 0 || (d == 0 && strcmp(a->name, b->name) < 0));
    }
    const char *mods[] = {"sklearn.tree.tree", "sklearn.tree._classes"};
    const char *cls[] = {"DecisionTreeClassifier", "DecisionTreeRegressor", "ExtraTreeClassifier", "ExtraTreeRegressor"};
    for (int m = 0; m < 2; m++)
        for (int c = 0; c < 4; c++) CHECK(be_class_find(mods[m], cls[c]) && be_class_find(mods[m], cls[c])->family == &be_tree_family);
    CHECK(be_class_find("sklearn.ensemble.forest", "ExtraTreesRegressor") != NULL);
    CHECK(be_class_find("sklearn.ensemble._forest", "RandomForestClassifier")->classifier == 1);
    CHECK(be_class_find("sklearn.ensemble._forest", "RandomTreesEmbedding") == NULL);
    CHECK(be_class_find("os", "system") == NULL);
}

static void stump_predicts_like_sklearn(void) {
    brine_model *m;
    brine_error err;
    brine_status st = load_tree((tspec){.version = "1.2.1"}, &m, &err);
    CHECK_EQ_INT(st, BRINE_OK);
    if (st) {
        fprintf(stderr, "  %s\n", err.message);
        return;
    }
    CHECK_STR(brine_model_class(m), "sklearn.tree._classes.DecisionTreeClassifier");
    CHECK_STR(brine_model_sklearn_version(m), "1.2.1");
    CHECK_EQ_INT(brine_model_n_features_in(m), 2);
    CHECK_EQ_INT(brine_model_accepts_nan(m), 0);
    size_t n;
    const brine_label *cl = brine_model_classes(m, 0, &n);
    CHECK(n == 2 && cl[0].kind == BRINE_LABEL_INT && cl[0].i == 10 && cl[1].i == 20);
    /* 0.50000001 becomes 0.5 in float32 and goes left, as in sklearn. */
    const double x[8] = {0, 0.5, 0, 0.50000001, 0, 0.5000001, 9, -3};
    brine_prediction *p = predict(m, BRINE_METHOD_PREDICT, x, 4);
    CHECK(p && p->indices && p->n_columns == 1);
    if (p) CHECK(p->indices[0] == 0 && p->indices[1] == 0 && p->indices[2] == 1 && p->indices[3] == 0);
    brine_prediction_free(p);
    p = predict(m, BRINE_METHOD_PREDICT_PROBA, x, 4);
    CHECK(p && p->values && p->n_columns == 2);
    if (p) CHECK(p->values[0] == 0.75 && p->values[1] == 0.25 && p->values[4] == 0.0 && p->values[5] == 1.0);
    brine_prediction_free(p);
    p = predict(m, BRINE_METHOD_APPLY, x, 4);
    if (p) CHECK(p->indices[0] == 1 && p->indices[2] == 2 && p->indices[3] == 1);
    brine_prediction_free(p);
    brine_model_free(m);
}

static void bad_input_is_refused(void) {
    brine_model *m;
    brine_error err;
    if (load_tree((tspec){0}, &m, &err)) return;
    brine_prediction *p = (brine_prediction *)1;
    const double nan_row[2] = {NAN, 0}, inf_row[2] = {0, INFINITY}, big_row[2] = {1e39, 0}, ok[3] = {0, 0, 0};
    brine_error_clear(&err);
    CHECK_EQ_INT(brine_model_predict(&p, m, BRINE_METHOD_PREDICT, nan_row, 1, 2, &err), BRINE_E_ARGUMENT);
    CHECK(p == NULL && strstr(err.message, "X[0, 0] is NaN"));
    brine_error_clear(&err);
    CHECK_EQ_INT(brine_model_predict(&p, m, BRINE_METHOD_PREDICT, inf_row, 1, 2, &err), BRINE_E_ARGUMENT);
    brine_error_clear(&err);
    CHECK_EQ_INT(brine_model_predict(&p, m, BRINE_METHOD_PREDICT, big_row, 1, 2, &err), BRINE_E_ARGUMENT);
    CHECK(strstr(err.message, "float32") != NULL);
    brine_error_clear(&err);
    CHECK_EQ_INT(brine_model_predict(&p, m, BRINE_METHOD_PREDICT, ok, 1, 3, &err), BRINE_E_ARGUMENT);
    brine_error_clear(&err);
    CHECK_EQ_INT(brine_model_predict(&p, m, (brine_method)9, ok, 1, 2, &err), BRINE_E_ARGUMENT);
    brine_model_free(m);
}

static void hostile_links_are_format_errors(void) {
    const tnode out_of_range[3] = {{1, 7, 0, 0.5, 2, 0}, {-1, -1, -2, -2, 1, 0}, {-1, -1, -2, -2, 1, 0}};
    const tnode to_root[3] = {{1, 2, 0, 0.5, 2, 0}, {0, 2, 0, 0.5, 1, 0}, {-1, -1, -2, -2, 1, 0}};
    const tnode one_child[3] = {{1, -1, 0, 0.5, 2, 0}, {-1, -1, -2, -2, 1, 0}, {-1, -1, -2, -2, 1, 0}};
    const tnode two_parents[5] = {{1, 2, 0, 0.5, 2, 0}, {3, 2, 0, 0.5, 1, 0}, {-1, -1, -2, -2, 1, 0},
                                  {-1, -1, -2, -2, 1, 0}, {-1, -1, -2, -2, 1, 0}};
    const tnode same_twice[3] = {{1, 1, 0, 0.5, 2, 0}, {-1, -1, -2, -2, 1, 0}, {-1, -1, -2, -2, 1, 0}};
    /* 3 -> 4 -> 3: every node has one parent, yet 3..6 hang off no root. */
    const tnode cycle[7] = {{1, 2, 0, 0.5, 2, 0},  {-1, -1, -2, -2, 1, 0}, {-1, -1, -2, -2, 1, 0}, {4, 5, 0, 0.5, 1, 0},
                            {3, 6, 1, 0.5, 1, 0},  {-1, -1, -2, -2, 1, 0}, {-1, -1, -2, -2, 1, 0}};
    const tnode bad_feature[3] = {{1, 2, 2, 0.5, 2, 0}, {-1, -1, -2, -2, 1, 0}, {-1, -1, -2, -2, 1, 0}};
    static double v7[14], v5[10];
    struct { const tnode *nodes; int n; const double *values; const char *a, *b; } cases[] = {
        {out_of_range, 3, stump_values, "tree_.nodes[0] right_child is 7, outside 1..2", NULL},
        {to_root, 3, stump_values, "tree_.nodes[1] left_child is 0", NULL},
        {one_child, 3, stump_values, "tree_.nodes[0] has one child", NULL},
        {two_parents, 5, v5, "tree_.nodes[2] has two parents", NULL},
        {same_twice, 3, stump_values, "both children", NULL},
        {cycle, 7, v7, "4 of its 7 nodes are not reached from the root", NULL},
        {bad_feature, 3, stump_values, "tree_.nodes[0].feature is 2, outside 0..1", NULL},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        brine_model *m;
        brine_error err;
        brine_status st = load_tree((tspec){.nodes = cases[k].nodes, .n_nodes = cases[k].n, .values = cases[k].values}, &m, &err);
        expect_format(st, &err, "DecisionTreeClassifier: ", cases[k].a);
        CHECK(m == NULL);
        brine_model_free(m);
    }
}

static void hostile_arrays_are_format_errors(void) {
    brine_model *m;
    brine_error err;
    static const double nine[9];
    expect_format(load_tree((tspec){.values = nine, .values_shape = {3, 1, 3}}, &m, &err), &err,
                  "tree_.values has shape (3, 1, 3), expected (3, 1, 2)", NULL);
    expect_format(load_tree((tspec){.threshold_type = "i8"}, &m, &err), &err, "field threshold has an unexpected type",
                  NULL);
    expect_format(load_tree((tspec){.node_count = 4}, &m, &err), &err, "tree_.nodes is not a 1-D record array", NULL);
    expect_format(load_tree((tspec){.tree_none = 1}, &m, &err), &err, "is not fitted (tree_ is None)", NULL);
    /* the largest count of a leaf lies in a column beyond n_classes */
    const int64_t nc2[2] = {2, 3};
    static const double pad[18] = {1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0};
    const double bad_pad[18] = {1, 1, 0, 1, 1, 1, 0, 0, 5, 1, 0, 0, 0, 1, 0, 0, 1, 0};
    CHECK_EQ_INT(load_tree((tspec){.n_outputs = 2, .n_classes = nc2, .values = pad}, &m, &err), BRINE_OK);
    brine_model_free(m);
    expect_format(load_tree((tspec){.n_outputs = 2, .n_classes = nc2, .values = bad_pad}, &m, &err), &err,
                  "padding column 2", NULL);
}

static void other_layouts_load(void) {
    const double x[6] = {0, 0.25, 0, 0.75, 0, -1};
    int64_t want[3] = {1, 2, 1};
    const tspec layouts[] = {{.intp = 4}, {.order = '>'}, {.intp = 4, .order = '>'}, {.missing_field = 1}};
    for (size_t k = 0; k < sizeof layouts / sizeof *layouts; k++) {
        brine_model *m;
        brine_error err;
        brine_status st = load_tree(layouts[k], &m, &err);
        CHECK_EQ_INT(st, BRINE_OK);
        if (st) {
            fprintf(stderr, "  layout %zu: %s\n", k, err.message);
            continue;
        }
        brine_prediction *p = predict(m, BRINE_METHOD_APPLY, x, 3);
        if (p) CHECK(p->indices[0] == want[0] && p->indices[1] == want[1] && p->indices[2] == want[2]);
        brine_prediction_free(p);
        brine_model_free(m);
    }
}

static void nan_follows_missing_go_to_left(void) {
    /* node 0 sends NaN right (flag 0), node 2 sends it left (flag 1) */
    const tnode nodes[5] = {{1, 2, 0, 0.5, 8, 0}, {-1, -1, -2, -2, 4, 0}, {3, 4, 1, 1.5, 4, 1},
                            {-1, -1, -2, -2, 2, 0}, {-1, -1, -2, -2, 2, 0}};
    static const double v[10] = {4, 4, 4, 0, 0, 4, 0, 2, 0, 2};
    brine_model *m;
    brine_error err;
    brine_status st = load_tree((tspec){.nodes = nodes, .n_nodes = 5, .values = v, .missing_field = 1, .version = "1.3.2"},
                                &m, &err);
    CHECK_EQ_INT(st, BRINE_OK);
    if (st) return;
    CHECK_EQ_INT(brine_model_accepts_nan(m), 1);
    const double x[6] = {NAN, 0, NAN, NAN, 0, 7};
    brine_prediction *p = predict(m, BRINE_METHOD_APPLY, x, 3);
    if (p) CHECK(p->indices[0] == 3 && p->indices[1] == 3 && p->indices[2] == 1);
    brine_prediction_free(p);
    brine_model_free(m);
}

static void fractions_and_counts(void) {
    /* >= 1.4.1 stores fractions and predict_proba returns them as stored;
     * counts are divided by their numpy sum, a zero sum by 1. */
    /* leaf 1 sums to 1 - 2^-53: dividing by that sum would change 0.1 */
    double frac[6] = {0.3, 0.7, 0.1, nextafter(0.9, 0), 1.0 / 3, 2.0 / 3};
    static const double counts[6] = {3, 7, 0, 0, 1, 2};
    const double x[4] = {0, 0, 0, 1};
    const char *versions[3] = {"1.5.2", "1.4.0", NULL};
    for (int k = 0; k < 3; k++) {
        brine_model *m;
        brine_error err;
        if (load_tree((tspec){.values = frac, .version = versions[k]}, &m, &err)) continue;
        brine_prediction *p = predict(m, BRINE_METHOD_PREDICT_PROBA, x, 2);
        if (p) CHECK(p->values[0] == 0.1 && p->values[1] == frac[3] && p->values[2] == 1.0 / 3 && p->values[3] == 2.0 / 3);
        brine_prediction_free(p);
        brine_model_free(m);
    }
    brine_model *m;
    brine_error err;
    if (load_tree((tspec){.values = counts, .version = "1.3.2"}, &m, &err)) return;
    brine_prediction *p = predict(m, BRINE_METHOD_PREDICT_PROBA, x, 2);
    if (p) CHECK(p->values[0] == 0.0 && p->values[1] == 0.0 && p->values[2] == 1.0 / 3 && p->values[3] == 2.0 / 3);
    brine_prediction_free(p);
    brine_model_free(m);
}

static void regressor_and_multi_output(void) {
    static const double v[3] = {2.5, -1.25, 7.0};
    brine_model *m;
    brine_error err;
    brine_status st = load_tree((tspec){.cls = "DecisionTreeRegressor", .values = v}, &m, &err);
    CHECK_EQ_INT(st, BRINE_OK);
    if (st) {
        fprintf(stderr, "  %s\n", err.message);
        return;
    }
    const double x[4] = {0, 0, 0, 1};
    brine_prediction *p = predict(m, BRINE_METHOD_PREDICT, x, 2);
    if (p) CHECK(p->values && p->values[0] == -1.25 && p->values[1] == 7.0);
    brine_prediction_free(p);
    brine_error_clear(&err);
    CHECK_EQ_INT(brine_model_predict(&p, m, BRINE_METHOD_PREDICT_PROBA, x, 2, 2, &err), BRINE_E_ARGUMENT);
    brine_model_free(m);
    /* two outputs with 2 and 3 classes: labels 10,20 | 30,40,50 */
    const int64_t nc[2] = {2, 3}, labels[5] = {10, 20, 30, 40, 50};
    static const double mv[18] = {1, 1, 0, 1, 1, 1, 0, 2, 0, 0, 0, 3, 2, 0, 0, 0, 1, 0};
    if (load_tree((tspec){.n_outputs = 2, .n_classes = nc, .labels = labels, .values = mv}, &m, &err)) return;
    p = predict(m, BRINE_METHOD_PREDICT, x, 2);
    if (p) CHECK(p->n_columns == 2 && p->indices[0] == 1 && p->indices[1] == 2 && p->indices[2] == 0 && p->indices[3] == 1);
    brine_prediction_free(p);
    p = predict(m, BRINE_METHOD_PREDICT_PROBA, x, 1);
    if (p) CHECK(p->n_columns == 5 && p->values[0] == 0 && p->values[1] == 1 && p->values[4] == 1);
    brine_prediction_free(p);
    brine_model_free(m);
}

static void forests_average_and_check_members(void) {
    static const double v2[6] = {3, 5, 1, 3, 2, 2};
    tspec trees[3] = {{.cls = "DecisionTreeClassifier"}, {.cls = "DecisionTreeClassifier", .values = v2},
                      {.cls = "DecisionTreeClassifier"}};
    trees[1].nodes = stump;
    trees[1].n_nodes = 3;
    brine_model *m;
    brine_error err;
    brine_status st = load_forest("RandomForestClassifier", trees, 2, &m, &err);
    CHECK_EQ_INT(st, BRINE_OK);
    if (st) {
        fprintf(stderr, "  %s\n", err.message);
        return;
    }
    CHECK_EQ_INT(brine_model_n_estimators(m), 2);
    const double x[2] = {0, 0};
    brine_prediction *p = predict(m, BRINE_METHOD_PREDICT_PROBA, x, 1);
    if (p) CHECK(p->values[0] == (0.75 + 0.25) / 2 && p->values[1] == (0.25 + 0.75) / 2);
    brine_prediction_free(p);
    p = predict(m, BRINE_METHOD_PREDICT, x, 1);
    if (p) CHECK(p->indices[0] == 0); /* a tie: the first class wins */
    brine_prediction_free(p);
    brine_model_free(m);
    const int64_t three[1] = {3};
    static const double nine[9];
    tspec mixed[2] = {{0}, {.n_classes = three, .values = nine}};
    expect_format(load_forest("RandomForestClassifier", mixed, 2, &m, &err), &err, "RandomForestClassifier: ",
                  "estimators_[1]");
    tspec reg[1] = {{.cls = "DecisionTreeRegressor"}};
    expect_format(load_forest("RandomForestClassifier", reg, 1, &m, &err), &err, "estimators_[0] is a ",
                  "not a decision tree classifier");
    expect_format(load_forest("ExtraTreesClassifier", trees, 0, &m, &err), &err, "estimators_ is empty", NULL);
}

static void unsupported_roots(void) {
    bi_buf b = BI_BUF_INIT;
    a_op(&b, 0x80);
    a_op(&b, 2);
    a_global(&b, "sklearn.neighbors._kde", "KernelDensity"); /* allowed, but no family */
    a_op(&b, ')');
    a_op(&b, 0x81);
    brine_model *m;
    brine_error err;
    CHECK_EQ_INT(load_model(&b, &m, &err), BRINE_E_UNSUPPORTED);
    CHECK(strstr(err.message, "sklearn.neighbors._kde.KernelDensity") != NULL);
    a_op(&b, 0x80);
    a_op(&b, 2);
    a_op(&b, ']');
    CHECK_EQ_INT(load_model(&b, &m, &err), BRINE_E_UNSUPPORTED);
    CHECK(strstr(err.message, "list") != NULL);
}

static void feature_names_are_kept(void) {
    brine_model *m;
    brine_error err;
    brine_status st = load_tree((tspec){.feature_names = {"age", "height"}}, &m, &err);
    CHECK_EQ_INT(st, BRINE_OK);
    if (st) {
        fprintf(stderr, "  %s\n", err.message);
        return;
    }
    CHECK_EQ_INT(brine_model_n_feature_names(m), 2);
    CHECK_STR(brine_model_feature_name(m, 1), "height");
    CHECK(brine_model_feature_name(m, 2) == NULL);
    brine_model_free(m);
    expect_format(load_tree((tspec){.feature_names = {"age"}}, &m, &err), &err, "feature_names_in_ has 1 names", NULL);
}

static void pairwise_sum_matches_numpy(void) {
    /* numpy sums 8 lanes, then combines them pairwise; for 9 values the
     * ninth is added last.  These values make the orders differ. */
    double a[300];
    for (int i = 0; i < 300; i++) a[i] = (i % 3 == 0) ? 1e16 : (i % 3 == 1 ? 1.0 : -1e16);
    double lanes[8] = {0};
    for (int i = 0; i < 128; i++) lanes[i % 8] += a[i];
    double want128 = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
    CHECK(be_pairwise_sum(a, 128) == want128);
    double seq = 0;
    for (int i = 0; i < 5; i++) seq += a[i];
    CHECK(be_pairwise_sum(a, 5) == seq);
    double left = be_pairwise_sum(a, 144), right = be_pairwise_sum(a + 144, 156);
    CHECK(be_pairwise_sum(a, 300) == left + right); /* 300/2 = 150, rounded down to 144 */
    CHECK(be_pairwise_sum(a, 0) == 0.0);
}

/* A forest that lists one tree object twice (a memo reference) loads it
 * once and averages it twice. */
static void shared_trees_load_once(void) {
    tspec s = defaults((tspec){0});
    bi_buf b = BI_BUF_INIT;
    a_op(&b, 0x80);
    a_op(&b, 2);
    a_global(&b, "sklearn.ensemble._forest", "RandomForestClassifier");
    a_op(&b, ')');
    a_op(&b, 0x81);
    a_op(&b, '}');
    a_key_int(&b, "n_features_in_", 2);
    a_key_int(&b, "n_outputs_", 1);
    a_str(&b, "classes_");
    a_classes(&b, &s);
    a_op(&b, 's');
    a_key_int(&b, "n_classes_", 2);
    a_str(&b, "estimators_");
    a_op(&b, ']');
    a_op(&b, '(');
    a_estimator(&b, &s);
    a_op(&b, 'q');
    a_op(&b, 0);
    a_op(&b, 'h');
    a_op(&b, 0);
    a_op(&b, 'e');
    a_op(&b, 's');
    a_op(&b, 'b');
    brine_model *m;
    brine_error err;
    brine_status st = load_model(&b, &m, &err);
    CHECK_EQ_INT(st, BRINE_OK);
    if (st) {
        fprintf(stderr, "  %s\n", err.message);
        return;
    }
    const be_forest *f = m->impl;
    CHECK(f->n == 2 && f->trees[0] == f->trees[1]);
    const double x[2] = {0, 0};
    brine_prediction *p = predict(m, BRINE_METHOD_PREDICT_PROBA, x, 1);
    if (p) CHECK(p->values[0] == 0.75 && p->values[1] == 0.25);
    brine_prediction_free(p);
    brine_model_free(m);
}

/* Random byte flips in valid files: each load fails cleanly or gives a model
 * whose every method runs (the sanitizer build checks every access). */
static void corrupted_files_never_crash(void) {
    static const double v5[10] = {4, 4, 4, 0, 0, 4, 0, 2, 0, 2};
    const tnode nodes[5] = {{1, 2, 0, 0.5, 8, 0}, {-1, -1, -2, -2, 4, 0}, {3, 4, 1, 1.5, 4, 1},
                            {-1, -1, -2, -2, 2, 0}, {-1, -1, -2, -2, 2, 0}};
    tspec specs[2] = {defaults((tspec){.nodes = nodes, .n_nodes = 5, .values = v5, .missing_field = 1}),
                      defaults((tspec){.intp = 4, .order = '>'})};
    uint64_t rng = 88172645463325252ull;
    int loaded = 0, refused = 0;
    for (int round = 0; round < 4000; round++) {
        bi_buf b = BI_BUF_INIT;
        a_op(&b, 0x80);
        a_op(&b, 2);
        a_estimator(&b, &specs[round & 1]);
        a_op(&b, '.');
        int flips = 1 + (int)(rng % 3);
        for (int k = 0; k < flips; k++) {
            rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
            b.data[rng % b.len] ^= (uint8_t)(1u << ((rng >> 20) % 8));
        }
        brine_file *f = NULL;
        brine_model *m = NULL;
        brine_error err;
        brine_error_clear(&err);
        if (!brine_file_open_memory(&f, b.data, b.len, NULL, &err) && !brine_model_from_file(&m, f, &err)) {
            loaded++;
            size_t nf = brine_model_n_features_in(m);
            double *x = calloc(8 * nf + 1, sizeof *x);
            for (size_t i = 0; i < 8 * nf; i++) x[i] = (double)(i % 7) - 3.0;
            for (int meth = 0; meth < 3; meth++) {
                brine_prediction *p = NULL;
                brine_error e2;
                brine_error_clear(&e2);
                brine_model_predict(&p, m, (brine_method)meth, x, 8, nf, &e2);
                brine_prediction_free(p);
            }
            free(x);
        } else {
            refused++;
            CHECK(err.status != BRINE_OK && err.message[0]);
        }
        brine_model_free(m);
        brine_file_free(f);
        bi_buf_free(&b);
    }
    CHECK(loaded > 0 && refused > 0);
}

/* The thread rule: one model, several threads predicting at once, each
 * getting what a lone caller gets. */
typedef struct job {
    const brine_model *m;
    const double *x;
    size_t rows;
    const double *want;
    int ok;
} job;

static void *predict_many(void *arg) {
    job *j = arg;
    j->ok = 1;
    for (int round = 0; round < 40 && j->ok; round++) {
        brine_prediction *p = predict(j->m, BRINE_METHOD_PREDICT_PROBA, j->x, j->rows);
        j->ok = p && !memcmp(p->values, j->want, j->rows * 2 * sizeof(double));
        brine_prediction_free(p);
    }
    return NULL;
}

static void threads_share_a_model(void) {
    static const double v2[6] = {3, 5, 1, 3, 2, 2};
    tspec trees[2] = {{0}, {.values = v2}};
    brine_model *m;
    brine_error err;
    if (load_forest("ExtraTreesClassifier", trees, 2, &m, &err)) {
        CHECK(0);
        return;
    }
    enum { ROWS = 500, THREADS = 4 };
    static double x[ROWS * 2];
    for (int i = 0; i < ROWS * 2; i++) x[i] = (double)((i * 7919) % 101) / 100.0;
    brine_prediction *alone = predict(m, BRINE_METHOD_PREDICT_PROBA, x, ROWS);
    CHECK(alone != NULL);
    if (!alone) return;
    pthread_t tid[THREADS];
    job jobs[THREADS];
    for (int k = 0; k < THREADS; k++) {
        jobs[k] = (job){m, x, ROWS, alone->values, 0};
        pthread_create(&tid[k], NULL, predict_many, &jobs[k]);
    }
    for (int k = 0; k < THREADS; k++) {
        pthread_join(tid[k], NULL);
        CHECK(jobs[k].ok);
    }
    brine_prediction_free(alone);
    brine_model_free(m);
}

static void methods_parse(void) {
    brine_method m;
    CHECK(brine_method_parse(&m, "predict_proba", NULL) == BRINE_OK && m == BRINE_METHOD_PREDICT_PROBA);
    CHECK(brine_method_parse(&m, "apply", NULL) == BRINE_OK && m == BRINE_METHOD_APPLY);
    CHECK(brine_method_parse(&m, "transform", NULL) == BRINE_OK && m == BRINE_METHOD_TRANSFORM);
    CHECK(brine_method_parse(&m, "decision_function", NULL) == BRINE_OK && m == BRINE_METHOD_DECISION_FUNCTION);
    CHECK(brine_method_parse(&m, "fly", NULL) == BRINE_E_ARGUMENT);
    CHECK_STR(brine_method_name(BRINE_METHOD_PREDICT), "predict");
    CHECK_STR(brine_method_name(BRINE_METHOD_SCORE_SAMPLES), "score_samples");
    CHECK(brine_method_parse(&m, "inverse_transform", NULL) == BRINE_OK && m == BRINE_METHOD_INVERSE_TRANSFORM);
    CHECK_STR(brine_method_name(BRINE_METHOD_INVERSE_TRANSFORM), "inverse_transform");
    CHECK(brine_method_name((brine_method)8) == NULL);
}

int main(void) {
    RUN(registry_is_sorted_and_complete);
    RUN(stump_predicts_like_sklearn);
    RUN(bad_input_is_refused);
    RUN(hostile_links_are_format_errors);
    RUN(hostile_arrays_are_format_errors);
    RUN(other_layouts_load);
    RUN(nan_follows_missing_go_to_left);
    RUN(fractions_and_counts);
    RUN(regressor_and_multi_output);
    RUN(forests_average_and_check_members);
    RUN(unsupported_roots);
    RUN(feature_names_are_kept);
    RUN(pairwise_sum_matches_numpy);
    RUN(shared_trees_load_once);
    RUN(corrupted_files_never_crash);
    RUN(threads_share_a_model);
    RUN(methods_parse);
    TEST_MAIN_END();
}
