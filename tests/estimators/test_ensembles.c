/* test_ensembles.c — GradientBoosting models built by hand as pickles of
 * allowed classes: correct ones predict what sklearn 1.2.1 computes,
 * hostile ones (estimators_ of the wrong shape or kind, bad loss, learning
 * rate, init_) fail with BRINE_E_FORMAT naming the field, init_ estimators
 * brine does not handle with BRINE_E_UNSUPPORTED; classifiers of sklearn
 * >= 1.4 follow the common loss module's arithmetic. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "brine.h"
#include "estimators/estimator.h"
#include "harness.h"
#include "tree_pickles.h"

/* Regression stump leaves: root, x[1] <= 0.5, x[1] > 0.5. */
static const double reg_values[3] = {0, 2, -4};
static const double reg_values_b[3] = {0, -1, 3};

typedef struct gbspec {
    int classifier;
    const char *loss;        /* default squared_error / log_loss */
    int lr_as_str;           /* learning_rate = "x" */
    int n_classes;           /* classifiers: default 2 */
    int64_t shape[2];        /* estimators_; default (2, K) */
    int list_not_array;      /* estimators_ as a list */
    const char *member_cls;  /* default DecisionTreeRegressor */
    const char *init;        /* "zero", "dummy" (default), "tree" */
    double constant;         /* DummyRegressor constant_ */
    int prior_len;           /* class_prior_ length override */
    const char *strategy;    /* DummyClassifier strategy; default prior */
    const char *version;
} gbspec;

static void key_str(bi_buf *b, const char *k, const char *v) {
    a_str(b, k);
    a_str(b, v);
    a_op(b, 's');
}

static void key_f8(bi_buf *b, const char *k, double v) {
    a_str(b, k);
    a_op(b, 'G');
    uint8_t p[8];
    put_f8(p, v, '>');
    a_raw(b, p, 8);
    a_op(b, 's');
}

static void a_init(bi_buf *b, const gbspec *g) {
    a_str(b, "init_");
    const char *init = g->init ? g->init : "dummy";
    if (!strcmp(init, "zero")) {
        a_str(b, "zero");
    } else if (!strcmp(init, "tree")) {
        tspec t = defaults((tspec){.cls = "DecisionTreeRegressor", .values = reg_values});
        a_estimator(b, &t);
    } else if (!strcmp(init, "tree_clf")) {
        tspec t = defaults((tspec){.cls = "DecisionTreeClassifier"});
        a_estimator(b, &t);
    } else {
        a_global(b, "sklearn.dummy", g->classifier ? "DummyClassifier" : "DummyRegressor");
        a_op(b, ')');
        a_op(b, 0x81);
        a_op(b, '}');
        if (g->classifier) {
            key_str(b, "strategy", g->strategy ? g->strategy : "prior");
            double prior[3] = {0.25, 0.75, 0};
            if (g->n_classes == 3) prior[0] = 0.2, prior[1] = 0.3, prior[2] = 0.5;
            int64_t n = g->prior_len ? g->prior_len : g->n_classes;
            a_str(b, "class_prior_");
            a_array(b, &n, 1, "f8", "<", prior, (size_t)n * 8);
            a_op(b, 's');
        } else {
            int64_t one[2] = {1, 1};
            a_str(b, "constant_");
            a_array(b, one, 2, "f8", "<", &g->constant, 8);
            a_op(b, 's');
        }
        a_op(b, 'b');
    }
    a_op(b, 's');
}

static void a_members(bi_buf *b, const gbspec *g, int64_t k) {
    int64_t shape[2] = {g->shape[0] ? g->shape[0] : 2, g->shape[1] ? g->shape[1] : k};
    int64_t n = shape[0] * shape[1];
    a_str(b, "estimators_");
    if (!g->list_not_array) {
        a_global(b, "numpy.core.multiarray", "_reconstruct");
        a_global(b, "numpy", "ndarray");
        int64_t zero = 0;
        a_shape(b, &zero, 1);
        a_bytes(b, "b", 1);
        a_op(b, 0x87);
        a_op(b, 'R');
        a_op(b, '(');
        a_int(b, 1);
        a_shape(b, shape, 2);
        a_dtype(b, "O8", "|");
        a_op(b, 0x89);
    }
    a_op(b, ']');
    a_op(b, '(');
    for (int64_t i = 0; i < n; i++) {
        const char *cls = g->member_cls ? g->member_cls : "DecisionTreeRegressor";
        const double *v = strstr(cls, "Classifier") ? stump_values : i % 2 ? reg_values_b : reg_values;
        tspec t = defaults((tspec){.cls = cls, .values = v});
        a_estimator(b, &t);
    }
    a_op(b, 'e');
    if (!g->list_not_array) {
        a_op(b, 't');
        a_op(b, 'b');
    }
    a_op(b, 's');
}

static brine_status load_gb(gbspec g, brine_model **m, brine_error *err) {
    if (!g.n_classes) g.n_classes = 2;
    int64_t k = g.classifier && g.n_classes > 2 ? g.n_classes : 1;
    bi_buf b = BI_BUF_INIT;
    a_op(&b, 0x80);
    a_op(&b, 2);
    a_global(&b, "sklearn.ensemble._gb", g.classifier ? "GradientBoostingClassifier" : "GradientBoostingRegressor");
    a_op(&b, ')');
    a_op(&b, 0x81);
    a_op(&b, '}');
    key_str(&b, "loss", g.loss ? g.loss : g.classifier ? "log_loss" : "squared_error");
    if (g.lr_as_str) key_str(&b, "learning_rate", "x");
    else key_f8(&b, "learning_rate", 0.5);
    a_key_int(&b, "n_features_in_", 2);
    if (g.classifier) {
        int64_t labels[3] = {10, 20, 30}, n = g.n_classes;
        a_str(&b, "classes_");
        a_array(&b, &n, 1, "i8", "<", labels, (size_t)n * 8);
        a_op(&b, 's');
        a_key_int(&b, "n_classes_", n);
    }
    a_init(&b, &g);
    a_members(&b, &g, k);
    if (g.version) key_str(&b, "_sklearn_version", g.version);
    a_op(&b, 'b');
    return load_model(&b, m, err);
}

static brine_prediction *predict(const brine_model *m, brine_method method, const double *x, size_t rows) {
    brine_prediction *p = NULL;
    brine_error err;
    brine_error_clear(&err);
    if (brine_model_predict(&p, m, method, x, rows, 2, &err)) fprintf(stderr, "  predict failed: %s\n", err.message);
    return p;
}

static void expect(brine_status want, gbspec g, const char *a) {
    brine_model *m = NULL;
    brine_error err;
    brine_status st = load_gb(g, &m, &err);
    CHECK_EQ_INT(st, want);
    if (st && !strstr(err.message, a)) {
        fprintf(stderr, "  message was: %s (wanted '%s')\n", err.message, a);
        CHECK(0);
    }
    brine_model_free(m);
}

/* ------------------------------------------------------------------ tests */

static const double X[4] = {0, 0, 0, 1}; /* row 0 goes left, row 1 right */

static void regressor_sums_stages(void) {
    brine_model *m = NULL;
    brine_error err;
    CHECK_EQ_INT(load_gb((gbspec){.constant = 10}, &m, &err), BRINE_OK);
    brine_prediction *p = predict(m, BRINE_METHOD_PREDICT, X, 2);
    CHECK(p && p->values);
    if (p && p->values) {
        CHECK(p->values[0] == 10 + 0.5 * 2 + 0.5 * -1);
        CHECK(p->values[1] == 10 + 0.5 * -4 + 0.5 * 3);
    }
    brine_prediction_free(p);
    p = predict(m, BRINE_METHOD_APPLY, X, 2);
    CHECK(p && p->indices && p->n_columns == 2 && p->indices[0] == 1 && p->indices[3] == 2);
    brine_prediction_free(p);
    CHECK(!brine_model_has_method(m, BRINE_METHOD_PREDICT_PROBA));
    CHECK(!brine_model_has_method(m, BRINE_METHOD_DECISION_FUNCTION));
    brine_model_free(m);
    CHECK_EQ_INT(load_gb((gbspec){.init = "zero"}, &m, &err), BRINE_OK);
    p = predict(m, BRINE_METHOD_PREDICT, X, 2);
    CHECK(p && p->values && p->values[0] == 0.5 * 2 + 0.5 * -1);
    brine_prediction_free(p);
    brine_model_free(m);
    /* init_ a fitted tree: its own prediction per row starts the sum */
    CHECK_EQ_INT(load_gb((gbspec){.init = "tree"}, &m, &err), BRINE_OK);
    p = m ? predict(m, BRINE_METHOD_PREDICT, X, 2) : NULL;
    CHECK(p && p->values && p->values[0] == 2 + 0.5 * 2 + 0.5 * -1 && p->values[1] == -4 + 0.5 * -4 + 0.5 * 3);
    brine_prediction_free(p);
    brine_model_free(m);
}

static void binary_classifier_like_sklearn(void) {
    brine_model *m = NULL;
    brine_error err;
    CHECK_EQ_INT(load_gb((gbspec){.classifier = 1}, &m, &err), BRINE_OK);
    double raw0 = log(0.75 / (1 - 0.75));
    raw0 += 0.5 * 2, raw0 += 0.5 * -1;
    brine_prediction *p = predict(m, BRINE_METHOD_DECISION_FUNCTION, X, 2);
    CHECK(p && p->values && p->n_columns == 1 && p->values[0] == raw0);
    brine_prediction_free(p);
    p = predict(m, BRINE_METHOD_PREDICT_PROBA, X, 2);
    double p1 = 1 / (1 + exp(-raw0));
    CHECK(p && p->values && p->n_columns == 2 && p->values[1] == p1 && p->values[0] == 1.0 - p1);
    brine_prediction_free(p);
    p = predict(m, BRINE_METHOD_PREDICT, X, 2);
    CHECK(p && p->indices && p->indices[0] == 1); /* raw0 > 0 */
    brine_prediction_free(p);
    brine_model_free(m);
    /* exponential: expit(2 raw), predict raw >= 0 */
    CHECK_EQ_INT(load_gb((gbspec){.classifier = 1, .loss = "exponential"}, &m, &err), BRINE_OK);
    double r = 0.5 * log(0.75 / 0.25) + 0.5 * -4 + 0.5 * 3;
    p = predict(m, BRINE_METHOD_PREDICT_PROBA, X, 2);
    CHECK(p && p->values && p->values[3] == 1 / (1 + exp(-2.0 * r)));
    brine_prediction_free(p);
    brine_model_free(m);
}

static void multiclass_softmax(void) {
    brine_model *m = NULL;
    brine_error err;
    CHECK_EQ_INT(load_gb((gbspec){.classifier = 1, .n_classes = 3}, &m, &err), BRINE_OK);
    brine_prediction *p = predict(m, BRINE_METHOD_PREDICT_PROBA, X, 2);
    CHECK(p && p->values && p->n_columns == 3);
    if (p && p->values) {
        /* stage trees alternate a, b, a / b, a, b along the (2, 3) array */
        double raw[3] = {log(0.2) + 0.5 * 2 + 0.5 * -1, log(0.3) + 0.5 * -1 + 0.5 * 2, log(0.5) + 0.5 * 2 + 0.5 * -1};
        double mx = fmax(raw[0], fmax(raw[1], raw[2]));
        double lse = log(exp(raw[0] - mx) + exp(raw[1] - mx) + exp(raw[2] - mx)) + mx;
        for (int i = 0; i < 3; i++) CHECK(p->values[i] == exp(raw[i] - lse));
    }
    brine_prediction_free(p);
    p = predict(m, BRINE_METHOD_PREDICT, X, 2);
    CHECK(p && p->indices && p->indices[0] == 2);
    brine_prediction_free(p);
    brine_model_free(m);
}

/* sklearn >= 1.4 (the common loss module): the init raw value through the
 * link of the clipped prior, softmax with a pairwise sum, predict from raw. */
static void classifiers_of_sklearn_1_4(void) {
    brine_model *m = NULL;
    brine_error err;
    CHECK_EQ_INT(load_gb((gbspec){.classifier = 1, .version = "1.4.2"}, &m, &err), BRINE_OK);
    double raw0 = log(0.75 / (1 - 0.75));
    raw0 += 0.5 * 2, raw0 += 0.5 * -1;
    brine_prediction *p = m ? predict(m, BRINE_METHOD_PREDICT_PROBA, X, 2) : NULL;
    double p1 = 1 / (1 + exp(-raw0));
    CHECK(p && p->values && p->values[1] == p1 && p->values[0] == 1.0 - p1);
    brine_prediction_free(p);
    brine_model_free(m);
    CHECK_EQ_INT(load_gb((gbspec){.classifier = 1, .n_classes = 3, .version = "1.5.0"}, &m, &err), BRINE_OK);
    p = m ? predict(m, BRINE_METHOD_PREDICT_PROBA, X, 2) : NULL;
    brine_prediction *d = m ? predict(m, BRINE_METHOD_DECISION_FUNCTION, X, 2) : NULL;
    brine_prediction *l = m ? predict(m, BRINE_METHOD_PREDICT, X, 2) : NULL;
    CHECK(p && d && l && p->values && d->values && l->indices);
    if (p && d && l) {
        double lp[3] = {log(0.2), log(0.3), log(0.5)};
        double gm = exp((lp[0] + lp[1] + lp[2]) / 3.0);
        double raw[3] = {log(0.2 / gm) + 0.5 * 2 + 0.5 * -1, log(0.3 / gm) + 0.5 * -1 + 0.5 * 2,
                         log(0.5 / gm) + 0.5 * 2 + 0.5 * -1};
        double mx = fmax(raw[0], fmax(raw[1], raw[2])), e[3];
        for (int i = 0; i < 3; i++) e[i] = exp(raw[i] - mx);
        double sum = e[0] + e[1] + e[2];
        for (int i = 0; i < 3; i++) {
            CHECK(d->values[i] == raw[i]);
            CHECK(p->values[i] == e[i] / sum);
        }
        CHECK(l->indices[0] == (raw[2] >= raw[0] && raw[2] >= raw[1] ? 2 : raw[1] > raw[0] ? 1 : 0));
    }
    brine_prediction_free(p);
    brine_prediction_free(d);
    brine_prediction_free(l);
    brine_model_free(m);
}

static void hostile_files_fail_cleanly(void) {
    expect(BRINE_E_FORMAT, (gbspec){.shape = {2, 3}}, "estimators_ is not of shape");
    expect(BRINE_E_FORMAT, (gbspec){.classifier = 1, .n_classes = 3, .shape = {2, 1}}, "estimators_ is not of shape");
    expect(BRINE_E_FORMAT, (gbspec){.list_not_array = 1}, "estimators_ is not an object array");
    expect(BRINE_E_FORMAT, (gbspec){.member_cls = "DecisionTreeClassifier"}, "estimators_[0, 0]");
    expect(BRINE_E_FORMAT, (gbspec){.lr_as_str = 1}, "learning_rate");
    expect(BRINE_E_FORMAT, (gbspec){.loss = "nonsense"}, "loss");
    expect(BRINE_E_FORMAT, (gbspec){.classifier = 1, .loss = "exponential", .n_classes = 3}, "exponential");
    expect(BRINE_E_FORMAT, (gbspec){.classifier = 1, .prior_len = 3}, "init_.class_prior_");
    expect(BRINE_E_FORMAT, (gbspec){.constant = NAN}, "init_.constant_");
    /* a classifier cannot start a regressor's sum */
    expect(BRINE_E_FORMAT, (gbspec){.init = "tree_clf"}, "init_ (DecisionTreeClassifier) is not a regressor");
    expect(BRINE_E_UNSUPPORTED, (gbspec){.classifier = 1, .strategy = "stratified"}, "strategy");
    expect(BRINE_OK, (gbspec){.classifier = 1, .version = "1.4.2"}, "");
    expect(BRINE_OK, (gbspec){.version = "1.6.1"}, "");
}

int main(void) {
    RUN(regressor_sums_stages);
    RUN(binary_classifier_like_sklearn);
    RUN(multiclass_softmax);
    RUN(classifiers_of_sklearn_1_4);
    RUN(hostile_files_fail_cleanly);
    TEST_MAIN_END();
}
