/* mlp.c — MLPClassifier and MLPRegressor (sklearn.neural_network), every
 * layout since 0.18 (module multilayer_perceptron, then
 * _multilayer_perceptron).
 *
 * The forward pass is sklearn 1.2.1's _forward_pass_fast: for each of the
 * n_layers_ - 1 weight matrices, activation = activation @ coefs_[i], then
 * += intercepts_[i], then the hidden activation (identity, logistic =
 * scipy's expit 1 / (1 + exp(-x)), tanh, relu = max(x, 0)) on every layer
 * but the last, which gets out_activation_ (identity, logistic, softmax:
 * exp(x - max(x)) / sum, the sum numpy's pairwise one).  All in float64;
 * sklearn's matrix products go through BLAS and brine sums each dot product
 * left to right, which agrees within 1e-9 relative (CONVENTIONS).
 *
 * Classifiers turn the output into labels with their _label_binarizer
 * (LabelBinarizer.inverse_transform, threshold (pos_label + neg_label) / 2):
 *   binary (one output unit)     classes_[out > threshold]; predict_proba
 *                                [1 - p, p]
 *   multiclass                   classes_[argmax] (the first maximum);
 *                                predict_proba the softmax output
 *   multilabel-indicator         one output per class, 0 or 1 (out >
 *                                threshold, sklearn's int array);
 *                                predict_proba the n_classes logistic units
 * predict_log_proba is log(predict_proba).  Regressors predict the output
 * units.  NaN and infinite input are refused, as sklearn's check_array
 * does.  The family writes no files itself: .save is NULL (the generic
 * writer). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "estimators/estimator.h"
#include "io/error.h"

enum { ACT_IDENTITY, ACT_LOGISTIC, ACT_TANH, ACT_RELU, ACT_SOFTMAX };
enum { Y_REGRESS, Y_BINARY, Y_MULTICLASS, Y_MULTILABEL };

/* coefs_ arrays at most; an array listed twice is read once, so memory
 * stays bounded by the file's own arrays. */
enum { MLP_MAX_LAYERS = 4096 };

typedef struct mlp_layer {
    size_t in, out; /* fan-in, fan-out */
    double *w;      /* in * out, row-major as coefs_[i] (fan-in rows) */
    double *b;      /* out */
} mlp_layer;

typedef struct mlp_model {
    mlp_layer *layers;
    size_t n_layers;  /* weight matrices: n_layers_ - 1 */
    size_t max_width; /* widest layer (input included) */
    size_t units;     /* output units */
    int hidden, out_act;
    int ytype;        /* Y_* */
    double threshold; /* binary / multilabel */
} mlp_model;

static int is_none(const bv *v) { return !v || v->kind == BRINE_NONE; }

static const char *const act_names[] = {"identity", "logistic", "tanh", "relu", "softmax"};

static brine_status read_activation(brine_model *m, const bv *state, const char *key, int allow_softmax, int *out,
                                    brine_error *err) {
    const bv *v = bv_dict_get(state, key);
    if (!v) return be_fail(err, m, "%s is missing", key);
    if (v->kind != BRINE_STR) return be_fail(err, m, "%s is a %s, not a str", key, brine_kind_name((brine_kind)v->kind));
    for (int k = 0; k <= (allow_softmax ? ACT_SOFTMAX : ACT_RELU); k++) {
        if (bv_is_str(v, act_names[k])) {
            *out = k;
            return BRINE_OK;
        }
    }
    return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "%s '%.*s' is not an activation brine knows", key,
                          (int)(v->u.s.n > 40 ? 40 : v->u.s.n), (const char *)v->u.s.p);
}

/* items[i] of list as a matrix, read into cache[i]; an array already read
 * at an earlier index of the same list is not copied again. */
static brine_status read_once(brine_model *m, const bv *list, size_t i, const char *field, int ndim, be_matrix *cache,
                              brine_error *err) {
    const bv *v = list->u.seq.items[i];
    for (size_t k = 0; k < i; k++) {
        if (list->u.seq.items[k] == v) {
            cache[i] = cache[k];
            return BRINE_OK;
        }
    }
    return be_read_matrix(m, v, field, ndim, &cache[i], err);
}

static brine_status read_layers(brine_model *m, const bv *state, mlp_model *mm, brine_error *err) {
    const bv *cv = bv_dict_get(state, "coefs_");
    const bv *iv = bv_dict_get(state, "intercepts_");
    if (is_none(cv)) return be_fail(err, m, "is not fitted (coefs_ is %s)", cv ? "None" : "missing");
    if (cv->kind != BRINE_LIST && cv->kind != BRINE_TUPLE)
        return be_fail(err, m, "coefs_ is a %s, not a list", brine_kind_name((brine_kind)cv->kind));
    size_t n = cv->u.seq.n;
    if (n == 0 || n > MLP_MAX_LAYERS) return be_fail(err, m, "coefs_ has %zu arrays", n);
    if (!iv || (iv->kind != BRINE_LIST && iv->kind != BRINE_TUPLE))
        return be_fail(err, m, "intercepts_ is %s, not a list", iv ? brine_kind_name((brine_kind)iv->kind) : "missing");
    if (iv->u.seq.n != n) return be_fail(err, m, "intercepts_ has %zu arrays but coefs_ has %zu", iv->u.seq.n, n);
    const bv *nl = bv_dict_get(state, "n_layers_");
    int64_t layers;
    if (nl && !is_none(nl)) {
        if (!be_get_int(nl, &layers)) return be_fail(err, m, "n_layers_ is a %s, not an int", brine_kind_name((brine_kind)nl->kind));
        if (layers != (int64_t)n + 1)
            return be_fail(err, m, "n_layers_ is %lld but coefs_ has %zu arrays (n_layers_ - 1 expected)", (long long)layers, n);
    }
    mm->layers = be_alloc(m, n, sizeof *mm->layers);
    be_matrix *ws = be_alloc(m, n, sizeof *ws), *bs = be_alloc(m, n, sizeof *bs);
    if (!mm->layers || !ws || !bs) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    mm->n_layers = n;
    for (size_t i = 0; i < n; i++) {
        char field[48];
        snprintf(field, sizeof field, "coefs_[%zu]", i);
        brine_status st = read_once(m, cv, i, field, 2, ws, err);
        if (st) return st;
        const be_matrix w = ws[i];
        if (w.ndim != 2 || !w.rows || !w.cols) return be_fail(err, m, "%s is not a non-empty 2-D array", field);
        if (i && w.rows != mm->layers[i - 1].out)
            return be_fail(err, m, "%s has %zu rows but coefs_[%zu] has %zu columns", field, w.rows, i - 1,
                           mm->layers[i - 1].out);
        snprintf(field, sizeof field, "intercepts_[%zu]", i);
        if ((st = read_once(m, iv, i, field, 1, bs, err))) return st;
        const be_matrix b = bs[i];
        if (b.ndim != 1 || b.cols != w.cols)
            return be_fail(err, m, "%s has %zu values but coefs_[%zu] has %zu columns", field, b.rows * b.cols, i, w.cols);
        mlp_layer *L = &mm->layers[i];
        L->in = w.rows;
        L->out = w.cols;
        L->w = w.v;
        L->b = b.v;
        if (L->in > mm->max_width) mm->max_width = L->in;
        if (L->out > mm->max_width) mm->max_width = L->out;
    }
    mm->units = mm->layers[n - 1].out;
    return be_check_width(m, (int64_t)mm->layers[0].in, "coefs_[0]", err);
}

/* The classifier's LabelBinarizer: its y_type_, classes_ and threshold. */
static brine_status read_binarizer(brine_model *m, const bv *state, mlp_model *mm, brine_error *err) {
    const bv *lb = bv_dict_get(state, "_label_binarizer");
    const bv *ls = lb && lb->kind == BRINE_OBJECT ? lb->u.obj.state : NULL;
    if (!ls || ls->kind != BRINE_DICT) return be_fail(err, m, "_label_binarizer is not a fitted LabelBinarizer");
    const bv *yt = bv_dict_get(ls, "y_type_");
    if (bv_is_str(yt, "binary")) mm->ytype = Y_BINARY;
    else if (bv_is_str(yt, "multiclass")) mm->ytype = Y_MULTICLASS;
    else if (bv_is_str(yt, "multilabel-indicator")) mm->ytype = Y_MULTILABEL;
    else if (yt && yt->kind == BRINE_STR)
        return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "_label_binarizer.y_type_ '%.*s' is not a target type brine knows",
                              (int)(yt->u.s.n > 40 ? 40 : yt->u.s.n), (const char *)yt->u.s.p);
    else return be_fail(err, m, "_label_binarizer.y_type_ is not a str");
    const bv *si = bv_dict_get(ls, "sparse_input_");
    int64_t sparse = 0;
    if (si && be_get_int(si, &sparse) && sparse)
        return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "was fitted on a sparse target (its predictions are sparse matrices)");
    double pos = 1.0, neg = 0.0;
    const bv *pv = bv_dict_get(ls, "pos_label"), *nv = bv_dict_get(ls, "neg_label");
    if ((pv && !be_get_double(pv, &pos)) || (nv && !be_get_double(nv, &neg)))
        return be_fail(err, m, "_label_binarizer's pos_label / neg_label are not numbers");
    mm->threshold = (pos + neg) / 2.0;
    const bv *cv = bv_dict_get(ls, "classes_");
    const char *field = "_label_binarizer.classes_";
    if (is_none(cv)) {
        cv = bv_dict_get(state, "classes_");
        field = "classes_";
    }
    if (is_none(cv)) return be_fail(err, m, "classes_ is missing");
    be_classes c;
    brine_status st = be_read_labels(m, cv, field, &c, err);
    if (st) return st;
    size_t want = mm->ytype == Y_BINARY ? 1 : c.n;
    if (mm->ytype == Y_BINARY && c.n != 2)
        return be_fail(err, m, "%s has %zu labels but a binary target has 2", field, c.n);
    if (c.n < 2) return be_fail(err, m, "%s has %zu labels; a classifier has at least 2", field, c.n);
    if (mm->units != want)
        return be_fail(err, m, "coefs_[%zu] has %zu output units but %zu %s classes need %zu", mm->n_layers - 1, mm->units,
                       c.n, mm->ytype == Y_MULTILABEL ? "multilabel" : mm->ytype == Y_BINARY ? "binary" : "multiclass",
                       want);
    if (mm->ytype != Y_MULTILABEL) {
        m->n_outputs = 1;
        m->classes = be_alloc(m, 1, sizeof *m->classes);
        if (!m->classes) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
        m->classes[0] = c;
        return BRINE_OK;
    }
    /* multilabel: one 0/1 output per class, as sklearn's int array */
    m->n_outputs = c.n;
    m->classes = be_alloc(m, c.n, sizeof *m->classes);
    brine_label *bits = be_alloc(m, 2, sizeof *bits);
    if (!m->classes || !bits) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    bits[0].kind = bits[1].kind = BRINE_LABEL_INT;
    bits[0].i = 0;
    bits[1].i = 1;
    for (size_t k = 0; k < c.n; k++) m->classes[k] = (be_classes){bits, 2, 'i', 8};
    return BRINE_OK;
}

static brine_status mlp_load(brine_model *m, const bv *state, brine_error *err) {
    mlp_model *mm = be_alloc(m, 1, sizeof *mm);
    if (!mm) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    brine_status st = be_read_n_features(m, state, &m->n_features_in, err);
    if (!st) st = read_layers(m, state, mm, err);
    if (!st) st = read_activation(m, state, "activation", 0, &mm->hidden, err);
    if (!st) st = read_activation(m, state, "out_activation_", 1, &mm->out_act, err);
    if (st) return st;
    const bv *no = bv_dict_get(state, "n_outputs_");
    int64_t n_out;
    if (no && !is_none(no) && !be_get_int(no, &n_out))
        return be_fail(err, m, "n_outputs_ is a %s, not an int", brine_kind_name((brine_kind)no->kind));
    if (no && !is_none(no) && n_out != (int64_t)mm->units)
        return be_fail(err, m, "n_outputs_ is %lld but coefs_[%zu] has %zu output units", (long long)n_out,
                       mm->n_layers - 1, mm->units);
    if (m->cls->classifier) {
        if ((st = read_binarizer(m, state, mm, err))) return st;
    } else {
        mm->ytype = Y_REGRESS;
        m->n_outputs = mm->units;
    }
    m->n_estimators = 1;
    m->impl = mm;
    if ((st = be_read_feature_names(m, state, err))) return st;
    return be_keep_params(m, state, err);
}

static size_t mlp_columns(const brine_model *m, brine_method method) {
    const mlp_model *mm = m->impl;
    switch (method) {
    case BRINE_METHOD_PREDICT:
        return m->n_outputs;
    case BRINE_METHOD_PREDICT_PROBA:
    case BRINE_METHOD_PREDICT_LOG_PROBA:
        if (mm->ytype == Y_REGRESS) return BE_NO_METHOD;
        return mm->ytype == Y_BINARY ? 2 : mm->units;
    default:
        return BE_NO_METHOD;
    }
}

static void activate(int act, double *v, size_t n) {
    switch (act) {
    case ACT_LOGISTIC:
        for (size_t j = 0; j < n; j++) v[j] = 1.0 / (1.0 + exp(-v[j]));
        break;
    case ACT_TANH:
        for (size_t j = 0; j < n; j++) v[j] = tanh(v[j]);
        break;
    case ACT_RELU:
        for (size_t j = 0; j < n; j++) v[j] = v[j] >= 0.0 || isnan(v[j]) ? v[j] : 0.0;
        break;
    case ACT_SOFTMAX: {
        double mx = v[0];
        for (size_t j = 1; j < n; j++) mx = v[j] > mx || isnan(v[j]) ? v[j] : mx;
        for (size_t j = 0; j < n; j++) v[j] = exp(v[j] - mx);
        double sum = be_pairwise_sum(v, n);
        for (size_t j = 0; j < n; j++) v[j] /= sum;
        break;
    }
    default:
        break;
    }
}

/* The output units of one row: a and b are scratch of max_width; returns
 * the one holding the result. */
static double *forward(const mlp_model *mm, const double *x, double *a, double *b) {
    const double *cur = x;
    double *next = a;
    for (size_t i = 0; i < mm->n_layers; i++) {
        const mlp_layer *L = &mm->layers[i];
        for (size_t j = 0; j < L->out; j++) {
            double s = 0.0;
            for (size_t k = 0; k < L->in; k++) s += cur[k] * L->w[k * L->out + j];
            next[j] = s + L->b[j];
        }
        activate(i + 1 < mm->n_layers ? mm->hidden : mm->out_act, next, L->out);
        cur = next;
        next = next == a ? b : a;
    }
    return (double *)cur;
}

static brine_status mlp_predict(const brine_model *m, brine_method method, const be_input *in, brine_prediction *out,
                                brine_error *err) {
    const mlp_model *mm = m->impl;
    brine_status st = be_check_rows(m, in->xd, in->n_rows * in->n_cols, in->n_cols, 0, err);
    if (st) return st;
    double *a = malloc((2 * mm->max_width + 2) * sizeof *a);
    if (!a) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    double *b = a + mm->max_width + 1;
    size_t cols = out->n_columns;
    for (size_t r = 0; r < in->n_rows; r++) {
        const double *y = forward(mm, in->xd + r * in->n_cols, a, b);
        if (method == BRINE_METHOD_PREDICT) {
            if (mm->ytype == Y_REGRESS) {
                memcpy(out->values + r * cols, y, cols * sizeof *y);
            } else if (mm->ytype == Y_MULTICLASS) {
                out->indices[r] = (int64_t)be_argmax(y, mm->units);
            } else {
                for (size_t j = 0; j < cols; j++) out->indices[r * cols + j] = y[j] > mm->threshold;
            }
            continue;
        }
        double *p = out->values + r * cols;
        if (mm->ytype == Y_BINARY) {
            p[0] = 1.0 - y[0];
            p[1] = y[0];
        } else {
            memcpy(p, y, cols * sizeof *y);
        }
        if (method == BRINE_METHOD_PREDICT_LOG_PROBA)
            for (size_t j = 0; j < cols; j++) p[j] = log(p[j]);
    }
    free(a);
    return BRINE_OK;
}

const be_family be_mlp_family = {"mlp", mlp_load, mlp_predict, NULL, mlp_columns, BE_FAM_FLOAT64};
