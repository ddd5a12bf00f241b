/* test_save.c — brine_model_save: models read from hand-built pickles are
 * written in each verified layout and read back; the keys come in sklearn's
 * order, node records and values take the version's form, parameters
 * survive (cycles and sharing included), predictions do not change, and
 * every layout brine has not verified is refused with the list of those it
 * has. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "brine.h"
#include "estimators/estimator.h"
#include "harness.h"
#include "tree_pickles.h"

/* ---------------------------------------------------------------- helpers */

/* Saves m as version (NULL: default) and reopens the bytes. */
static brine_file *save_and_open(const brine_model *m, const char *version, brine_format format, brine_status *st,
                                 brine_error *err, void **mem) {
    brine_model_save_options o = BRINE_MODEL_SAVE_OPTIONS_INIT;
    o.sklearn_version = version;
    o.file.format = format;
    size_t n = 0;
    brine_file *f = NULL;
    brine_error_clear(err);
    *mem = NULL;
    *st = brine_model_save_memory(mem, &n, m, &o, err);
    if (*st) return NULL;
    *st = brine_file_open_memory(&f, *mem, n, NULL, err);
    return f;
}

static const brine_value *state_of(const brine_value *obj) { return brine_value_object_state(obj); }

/* The state's keys are exactly `want` (NULL-terminated), in order. */
static int keys_are(const brine_value *state, const char *const *want) {
    size_t n = 0;
    while (want[n]) n++;
    int ok = brine_value_len(state) == n;
    for (size_t i = 0; ok && i < n; i++) {
        size_t len;
        const char *k = brine_value_bytes(brine_value_dict_key(state, i), &len);
        ok = k && len == strlen(want[i]) && !memcmp(k, want[i], len);
        if (!ok) fprintf(stderr, "  key %zu is '%.*s', expected '%s'\n", i, k ? (int)len : 4, k ? k : "none", want[i]);
    }
    if (brine_value_len(state) != n) fprintf(stderr, "  %zu keys, expected %zu\n", brine_value_len(state), n);
    return ok;
}

static int str_is(const brine_value *v, const char *s) {
    size_t n;
    const char *p = v && brine_value_kind(v) == BRINE_STR ? brine_value_bytes(v, &n) : NULL;
    return p && n == strlen(s) && !memcmp(p, s, n);
}

static const brine_value *get(const brine_value *state, const char *key) { return brine_value_dict_get(state, key); }

static brine_prediction *run(const brine_model *m, brine_method method, const double *x, size_t rows) {
    brine_prediction *p = NULL;
    brine_error err;
    brine_error_clear(&err);
    if (brine_model_predict(&p, m, method, x, rows, brine_model_n_features_in(m), &err))
        fprintf(stderr, "  predict failed: %s\n", err.message);
    return p;
}

/* Both models give the same bits for every method either has. */
static int same_predictions(const brine_model *a, const brine_model *b) {
    static const double x[] = {0, 0, 0, 0.4, 0, 0.6, 1, 1, 0.5, 0.5, -3, 9};
    int ok = 1;
    for (int method = 0; method < 3 && ok; method++) {
        if (method == BRINE_METHOD_PREDICT_PROBA && !brine_model_is_classifier(a)) continue;
        brine_prediction *p = run(a, (brine_method)method, x, 6), *q = run(b, (brine_method)method, x, 6);
        ok = p && q && p->n_columns == q->n_columns;
        size_t cells = ok ? p->n_rows * p->n_columns : 0;
        if (ok && p->values) ok = q->values && !memcmp(p->values, q->values, cells * sizeof *p->values);
        if (ok && p->indices) ok = q->indices && !memcmp(p->indices, q->indices, cells * sizeof *p->indices);
        if (!ok) fprintf(stderr, "  %s differs\n", brine_method_name((brine_method)method));
        brine_prediction_free(p);
        brine_prediction_free(q);
    }
    return ok;
}

static void expect_unsupported(brine_status st, const brine_error *err, const char *a, const char *b) {
    CHECK_EQ_INT(st, BRINE_E_UNSUPPORTED);
    if (!strstr(err->message, a) || (b && !strstr(err->message, b))) {
        fprintf(stderr, "  message was: %s (wanted '%s'%s%s)\n", err->message, a, b ? " and " : "", b ? b : "");
        CHECK(0);
    }
}

/* A float64 array holds exactly want[0..n) (its bytes may be unaligned:
 * they point into the pickle stream). */
static int f8_is(const brine_value *v, const double *want, size_t n) {
    brine_array_info ai;
    if (brine_value_array(v, &ai) || ai.kind != 'f' || ai.itemsize != 8 || (size_t)ai.count != n) return 0;
    return !memcmp(ai.data, want, n * sizeof *want);
}

/* The root record's byte at offset off of tree_.nodes. */
static int record_info(const brine_value *tree_obj, size_t *itemsize, size_t *nfields) {
    const brine_value *nodes = get(state_of(tree_obj), "nodes");
    brine_array_info ai;
    if (!nodes || brine_value_array(nodes, &ai)) return 0;
    *itemsize = ai.itemsize;
    *nfields = brine_dtype_field_count(ai.dtype);
    return 1;
}

static const char *const tree_keys_12[] = {
    "criterion", "splitter", "max_depth", "min_samples_split", "min_samples_leaf", "min_weight_fraction_leaf",
    "max_features", "max_leaf_nodes", "random_state", "min_impurity_decrease", "class_weight", "ccp_alpha",
    "n_features_in_", "n_outputs_", "classes_", "n_classes_", "max_features_", "tree_", "_sklearn_version", NULL};
static const char *const tree_keys_14[] = {
    "criterion", "splitter", "max_depth", "min_samples_split", "min_samples_leaf", "min_weight_fraction_leaf",
    "max_features", "max_leaf_nodes", "random_state", "min_impurity_decrease", "class_weight", "ccp_alpha",
    "monotonic_cst", "n_features_in_", "n_outputs_", "classes_", "n_classes_", "max_features_", "tree_",
    "_sklearn_version", NULL};

/* ------------------------------------------------------------------ tests */

static void tree_round_trip_121(void) {
    brine_model *m = NULL, *back = NULL;
    brine_error err;
    void *mem;
    brine_status st = load_tree((tspec){.version = "1.2.1"}, &m, &err);
    CHECK_EQ_INT(st, BRINE_OK);
    brine_file *f = save_and_open(m, NULL, BRINE_FORMAT_PICKLE, &st, &err, &mem);
    CHECK_EQ_INT(st, BRINE_OK);
    if (f) {
        const brine_value *root = brine_file_root(f), *s = state_of(root);
        const char *name = NULL;
        CHECK_STR(brine_value_global(root, &name), "sklearn.tree._classes");
        CHECK_STR(name, "DecisionTreeClassifier");
        CHECK(keys_are(s, tree_keys_12));
        CHECK(str_is(get(s, "_sklearn_version"), "1.2.1"));
        CHECK(str_is(get(s, "criterion"), "gini")); /* a default: the pickle had no parameters */
        CHECK_EQ_INT(brine_value_kind(get(s, "n_classes_")), BRINE_SCALAR);
        size_t isz = 0, nf = 0;
        CHECK(record_info(get(s, "tree_"), &isz, &nf));
        CHECK_EQ_INT(isz, 56);
        CHECK_EQ_INT(nf, 7);
        CHECK(f8_is(get(state_of(get(s, "tree_")), "values"), stump_values, 6)); /* counts stay counts */
        int64_t mf = 0;
        CHECK(brine_value_int64(get(s, "max_features_"), &mf) == BRINE_OK && mf == 2);
        CHECK_EQ_INT(brine_model_from_file(&back, f, &err), BRINE_OK);
        CHECK(back && same_predictions(m, back));
    }
    brine_file_free(f);
    brine_free(mem);
    brine_model_free(back);
    brine_model_free(m);
}

static void versions_are_chosen_and_refused(void) {
    brine_model *m = NULL, *old = NULL, *etr = NULL;
    brine_error err;
    const char *v = NULL;
    load_tree((tspec){.version = "1.2.1"}, &m, &err);
    load_tree((tspec){.version = "0.24.1"}, &old, &err);
    load_tree((tspec){.cls = "ExtraTreeRegressor", .version = "1.8.0"}, &etr, &err);
    CHECK(m && old && etr);
    if (!m || !old || !etr) goto done;
    CHECK_EQ_INT(brine_model_save_version(m, NULL, &v, &err), BRINE_OK);
    CHECK_STR(v, "1.2.1"); /* its own version, verified */
    CHECK_EQ_INT(brine_model_save_version(old, NULL, &v, &err), BRINE_OK);
    CHECK_STR(v, "1.8.0"); /* the newest verified for DecisionTreeClassifier */
    CHECK_EQ_INT(brine_model_save_version(etr, NULL, &v, &err), BRINE_OK);
    CHECK_STR(v, "1.2.1"); /* ExtraTreeRegressor: only 1.2.1 is verified */
    brine_error_clear(&err);
    expect_unsupported(brine_model_save_version(m, "1.3.0", &v, &err), &err, "1.3.0", "verified: 1.2.1, 1.8.0");
    CHECK(v == NULL);
    brine_error_clear(&err);
    expect_unsupported(brine_model_save_version(etr, "1.8.0", &v, &err), &err, "1.8.0", "verified: 1.2.1");
    CHECK_EQ_INT(brine_model_verified_version_count(m), 2);
    CHECK_STR(brine_model_verified_version(m, 0), "1.2.1");
    CHECK_STR(brine_model_verified_version(m, 1), "1.8.0");
    CHECK(brine_model_verified_version(m, 2) == NULL);
    CHECK_EQ_INT(brine_model_verified_version_count(NULL), 0);
    void *mem = NULL;
    size_t n = 0;
    brine_model_save_options o = BRINE_MODEL_SAVE_OPTIONS_INIT;
    o.sklearn_version = "1.2.2";
    brine_error_clear(&err);
    expect_unsupported(brine_model_save_memory(&mem, &n, m, &o, &err), &err, "1.2.2", "1.2.1");
    CHECK(mem == NULL && n == 0);
    o.version = 99;
    brine_error_clear(&err);
    CHECK_EQ_INT(brine_model_save_memory(&mem, &n, m, &o, &err), BRINE_E_ARGUMENT);
    CHECK_EQ_INT(brine_model_save(m, NULL, NULL, &err), BRINE_E_ARGUMENT);
    CHECK_EQ_INT(brine_model_save(NULL, "x.pkl", NULL, &err), BRINE_E_ARGUMENT);
done:
    brine_model_free(m);
    brine_model_free(old);
    brine_model_free(etr);
}

/* Counts (<= 1.3) become fractions (>= 1.4) and back; the records grow a
 * missing_go_to_left that sends NaN to the child with more samples. */
static void counts_and_fractions_convert(void) {
    brine_model *m = NULL, *new_ = NULL, *again = NULL;
    brine_error err;
    void *mem1 = NULL, *mem2 = NULL;
    brine_status st;
    load_tree((tspec){.version = "1.2.1"}, &m, &err);
    brine_file *f = m ? save_and_open(m, "1.8.0", BRINE_FORMAT_PICKLE, &st, &err, &mem1) : NULL;
    CHECK(f != NULL);
    if (!f) goto done;
    const brine_value *s = state_of(brine_file_root(f)), *tree = get(s, "tree_");
    CHECK(keys_are(s, tree_keys_14));
    CHECK(str_is(get(s, "_sklearn_version"), "1.8.0"));
    size_t isz = 0, nf = 0;
    CHECK(record_info(tree, &isz, &nf) && isz == 64 && nf == 8);
    static const double fractions[6] = {3.0 / 8, 5.0 / 8, 0.75, 0.25, 0, 1};
    CHECK(f8_is(get(state_of(tree), "values"), fractions, 6));
    brine_array_info ai;
    CHECK_EQ_INT(brine_value_array(get(state_of(tree), "nodes"), &ai), BRINE_OK);
    const uint8_t *rec = ai.data;
    CHECK(rec[56] == 0); /* both children hold 4 samples: n_left > n_right is false */
    CHECK_EQ_INT(brine_model_from_file(&new_, f, &err), BRINE_OK);
    CHECK(new_ && brine_model_accepts_nan(new_));
    CHECK(new_ && same_predictions(m, new_));
    brine_file *g = new_ ? save_and_open(new_, "1.2.1", BRINE_FORMAT_JOBLIB, &st, &err, &mem2) : NULL;
    CHECK(g != NULL);
    if (g) {
        CHECK(f8_is(get(state_of(get(state_of(brine_file_root(g)), "tree_")), "values"), stump_values, 6));
        /* fractions times the node weight give the counts back */
        CHECK_EQ_INT(brine_model_from_file(&again, g, &err), BRINE_OK);
        CHECK(again && !brine_model_accepts_nan(again) && same_predictions(m, again));
    }
    brine_file_free(g);
done:
    brine_file_free(f);
    brine_free(mem1);
    brine_free(mem2);
    brine_model_free(m);
    brine_model_free(new_);
    brine_model_free(again);
}

static const char *const rfc_keys_12[] = {
    "estimator", "n_estimators", "estimator_params", "base_estimator", "bootstrap", "oob_score", "n_jobs",
    "random_state", "verbose", "warm_start", "class_weight", "max_samples", "criterion", "max_depth",
    "min_samples_split", "min_samples_leaf", "min_weight_fraction_leaf", "max_features", "max_leaf_nodes",
    "min_impurity_decrease", "ccp_alpha", "n_features_in_", "n_outputs_", "classes_", "n_classes_", "_estimator",
    "estimators_", "_sklearn_version", NULL};
static const char *const rfc_keys_18[] = {
    "estimator", "n_estimators", "estimator_params", "bootstrap", "oob_score", "n_jobs", "random_state", "verbose",
    "warm_start", "class_weight", "max_samples", "criterion", "max_depth", "min_samples_split", "min_samples_leaf",
    "min_weight_fraction_leaf", "max_features", "max_leaf_nodes", "min_impurity_decrease", "monotonic_cst",
    "ccp_alpha", "n_features_in_", "n_outputs_", "classes_", "n_classes_", "estimator_", "estimators_",
    "_sklearn_version", NULL};

static void forests_in_both_generations(void) {
    static const tnode deep[5] = {{1, 2, 0, 0.3, 10, 0}, {-1, -1, -2, -2, 3, 0}, {3, 4, 1, 0.7, 7, 0},
                                  {-1, -1, -2, -2, 5, 0}, {-1, -1, -2, -2, 2, 0}};
    static const double deep_values[10] = {4, 6, 3, 0, 1, 6, 1, 4, 0, 2};
    tspec trees[2] = {{.version = "1.2.1"}, {.version = "1.2.1", .nodes = deep, .n_nodes = 5, .values = deep_values}};
    brine_model *m = NULL, *back = NULL;
    brine_error err;
    void *mem1 = NULL, *mem2 = NULL;
    brine_status st = load_forest("RandomForestClassifier", trees, 2, &m, &err);
    CHECK_EQ_INT(st, BRINE_OK);
    brine_file *f = m ? save_and_open(m, "1.2.1", BRINE_FORMAT_PICKLE, &st, &err, &mem1) : NULL;
    CHECK(f != NULL);
    if (f) {
        const brine_value *s = state_of(brine_file_root(f));
        CHECK(keys_are(s, rfc_keys_12));
        CHECK(get(s, "estimator") == get(s, "_estimator")); /* one object, as sklearn has it */
        CHECK(str_is(get(s, "base_estimator"), "deprecated"));
        CHECK_EQ_INT(brine_value_kind(get(s, "n_classes_")), BRINE_INT);
        CHECK_EQ_INT(brine_value_len(get(s, "estimator_params")), 10);
        const brine_value *member = brine_value_item(get(s, "estimators_"), 1);
        CHECK(keys_are(state_of(member), tree_keys_12));
        static const double indices[2] = {0.0, 1.0};
        CHECK(f8_is(get(state_of(member), "classes_"), indices, 2)); /* members are fitted on label indices */
        CHECK_EQ_INT(brine_model_from_file(&back, f, &err), BRINE_OK);
        CHECK(back && same_predictions(m, back));
    }
    brine_file_free(f);
    f = m ? save_and_open(m, "1.8.0", BRINE_FORMAT_JOBLIB, &st, &err, &mem2) : NULL;
    CHECK(f != NULL);
    if (f) {
        const brine_value *s = state_of(brine_file_root(f));
        CHECK(keys_are(s, rfc_keys_18)); /* no _n_samples: a 1.2.1 file cannot tell it */
        CHECK(get(s, "estimator") == get(s, "estimator_"));
        CHECK_EQ_INT(brine_value_len(get(s, "estimator_params")), 11);
        CHECK(keys_are(state_of(brine_value_item(get(s, "estimators_"), 0)), tree_keys_14));
    }
    brine_file_free(f);
    brine_free(mem1);
    brine_free(mem2);
    brine_error_clear(&err);
    const char *v;
    expect_unsupported(m ? brine_model_save_version(m, "1.7.2", &v, &err) : BRINE_E_UNSUPPORTED, &err, "1.7.2",
                       "1.2.1, 1.8.0");
    brine_model_free(back);
    brine_model_free(m);
}

/* criterion 'mse' and max_features 'auto' in an old file; a parameter
 * holding a list that contains itself, shared with another parameter. */
static void params_pickle(bi_buf *b) {
    a_str(b, "criterion");
    a_str(b, "mse");
    a_op(b, 's');
    a_str(b, "max_features");
    a_str(b, "auto");
    a_op(b, 's');
    a_str(b, "class_weight");
    a_op(b, ']');          /* l = [] */
    a_op(b, 'q'), a_op(b, 200);
    a_op(b, 'h'), a_op(b, 200);
    a_op(b, 'a');          /* l.append(l) */
    a_op(b, 's');
    a_str(b, "random_state");
    a_op(b, 'h'), a_op(b, 200); /* the same list again */
    a_op(b, 's');
    a_str(b, "min_impurity_split"); /* removed from sklearn: dropped */
    a_op(b, 'N');
    a_op(b, 's');
}

static void params_survive_and_translate(void) {
    brine_model *m = NULL;
    brine_error err;
    void *mem1 = NULL, *mem2 = NULL;
    brine_status st = load_tree((tspec){.cls = "DecisionTreeRegressor", .version = "0.22.1", .extra = params_pickle,
                                        .n_classes = NULL},
                                &m, &err);
    CHECK_EQ_INT(st, BRINE_OK);
    brine_file *f = m ? save_and_open(m, "1.2.1", BRINE_FORMAT_PICKLE, &st, &err, &mem1) : NULL;
    CHECK(f != NULL);
    if (f) {
        const brine_value *s = state_of(brine_file_root(f)), *cw = get(s, "class_weight");
        CHECK(str_is(get(s, "criterion"), "squared_error"));
        CHECK(str_is(get(s, "max_features"), "auto")); /* still valid in 1.2.1 */
        CHECK(get(s, "min_impurity_split") == NULL);
        CHECK(cw && brine_value_kind(cw) == BRINE_LIST && brine_value_item(cw, 0) == cw);
        CHECK(get(s, "random_state") == cw);
        int64_t mf = 0;
        CHECK(brine_value_int64(get(s, "max_features_"), &mf) == BRINE_OK && mf == 2); /* derived: 'auto' of a regressor */
    }
    brine_file_free(f);
    f = m ? save_and_open(m, "1.6.1", BRINE_FORMAT_PICKLE, &st, &err, &mem2) : NULL;
    CHECK(f != NULL);
    if (f) {
        double d = 0;
        const brine_value *mf = get(state_of(brine_file_root(f)), "max_features");
        CHECK(brine_value_kind(mf) == BRINE_FLOAT && brine_value_double(mf, &d) == BRINE_OK && d == 1.0);
        CHECK(str_is(get(state_of(brine_file_root(f)), "_sklearn_version"), "1.6.1"));
    }
    brine_file_free(f);
    brine_free(mem1);
    brine_free(mem2);
    brine_model_free(m);
}

static void unverified_parts_are_refused(void) {
    brine_model *named = NULL, *bare = NULL, *multi = NULL, *back = NULL;
    brine_error err;
    void *mem = NULL;
    size_t n;
    tspec e = {.cls = "ExtraTreeClassifier", .version = "1.7.2", .feature_names = {"a", "b"}};
    load_tree(e, &named, &err);
    const char *v = NULL;
    /* 1.7.2 is verified for ExtraTreeClassifier, but not where it keeps
     * feature names: the default falls back to 1.2.1, a request is refused. */
    CHECK(named && brine_model_save_version(named, NULL, &v, &err) == BRINE_OK && !strcmp(v, "1.2.1"));
    brine_error_clear(&err);
    brine_model_save_options o = BRINE_MODEL_SAVE_OPTIONS_INIT;
    o.sklearn_version = "1.7.2";
    expect_unsupported(named ? brine_model_save_memory(&mem, &n, named, &o, &err) : BRINE_E_UNSUPPORTED, &err,
                       "feature_names_in_", "verified for it: 1.2.1");
    load_tree((tspec){.version = "1.2.1", .bare_records = 1}, &bare, &err);
    CHECK(bare != NULL); /* predicting needs only four fields ... */
    brine_error_clear(&err);
    expect_unsupported(bare ? brine_model_save_memory(&mem, &n, bare, NULL, &err) : BRINE_E_UNSUPPORTED, &err,
                       "tree_.nodes lack impurity", NULL); /* ... writing needs them all */
    static const int64_t nc[2] = {2, 3};
    static const double mv[18] = {3, 5, 0, 1, 2, 5, 3, 1, 0, 1, 2, 1, 0, 4, 0, 0, 0, 4};
    static const int64_t labels[5] = {0, 1, 7, 8, 9};
    load_tree((tspec){.version = "1.2.1", .n_outputs = 2, .n_classes = nc, .values = mv, .labels = labels}, &multi,
              &err);
    brine_status st;
    brine_file *f = multi ? save_and_open(multi, "1.8.0", BRINE_FORMAT_PICKLE, &st, &err, &mem) : NULL;
    CHECK(f != NULL);
    if (f) {
        const brine_value *s = state_of(brine_file_root(f));
        CHECK_EQ_INT(brine_value_kind(get(s, "classes_")), BRINE_LIST);
        CHECK_EQ_INT(brine_value_kind(get(s, "n_classes_")), BRINE_NDARRAY);
        CHECK_EQ_INT(brine_model_from_file(&back, f, &err), BRINE_OK);
        CHECK(back && same_predictions(multi, back));
    }
    brine_file_free(f);
    brine_free(mem);
    brine_model_free(named);
    brine_model_free(bare);
    brine_model_free(multi);
    brine_model_free(back);
}

/* Numeric order of "major.minor.patch" (so that 1.10 follows 1.9). */
static int version_cmp(const char *a, const char *b) {
    int x[3] = {0, 0, 0}, y[3] = {0, 0, 0};
    sscanf(a, "%d.%d.%d", &x[0], &x[1], &x[2]);
    sscanf(b, "%d.%d.%d", &y[0], &y[1], &y[2]);
    for (int k = 0; k < 3; k++)
        if (x[k] != y[k]) return x[k] < y[k] ? -1 : 1;
    return 0;
}

/* Every registered class that brine writes (trees, forests) has a 1.2.1 row;
 * rows of a class rise in version; forest rows carry their members' keys,
 * tree rows do not. */
static void layout_table_is_sane(void) {
    for (size_t i = 0; i < be_class_count(); i++) {
        const be_class *c = be_class_at(i);
        if (c->family != &be_tree_family && c->family != &be_forest_family) continue;
        CHECK(be_layout_find(c->name, "1.2.1") != NULL);
        CHECK(be_layout_newest(c->name) != NULL);
    }
    const be_layout *prev = NULL;
    for (size_t i = 0; i < be_layout_count(); i++) {
        const be_layout *l = be_layout_at(i);
        int forest = strstr(l->cls, "Forest") || strstr(l->cls, "Trees");
        CHECK(l->params && l->evidence && l->version);
        CHECK(forest == (l->tree_params != NULL) && forest == (l->member_params != NULL));
        CHECK(l->gen == (strcmp(l->version, "1.2.1") ? BE_GEN_14 : BE_GEN_12));
        if (prev) CHECK(version_cmp(prev->version, l->version) <= 0); /* the last row of a class is its newest */
        CHECK(be_layout_find(l->cls, l->version) == l); /* one row per class and version */
        prev = l;
    }
    CHECK(be_layout_at(be_layout_count()) == NULL);
    CHECK(be_layout_find("DecisionTreeClassifier", NULL) == NULL);
}

int main(void) {
    RUN(layout_table_is_sane);
    RUN(tree_round_trip_121);
    RUN(versions_are_chosen_and_refused);
    RUN(counts_and_fractions_convert);
    RUN(forests_in_both_generations);
    RUN(params_survive_and_translate);
    RUN(unverified_parts_are_refused);
    TEST_MAIN_END();
}
