/* boosting.c — GradientBoostingClassifier and GradientBoostingRegressor:
 * an object array estimators_ of shape (n_stages, K) of fitted
 * DecisionTreeRegressor, an initial estimator init_ and a learning rate.
 *
 * As sklearn 1.2.1 computes it (_gb.py _raw_predict): the raw prediction
 * starts from init_ ('zero': 0; DummyRegressor: constant_; DummyClassifier:
 * from its predict_proba through the loss's get_init_raw_predictions, the
 * probabilities clipped to [eps, 1 - eps] with float32's eps), then every
 * stage in order adds `learning_rate * leaf value` to each of its K
 * columns (predict_stages, X in float32 as the trees see it).  Classifier
 * outputs follow _gb_losses.py: binomial deviance expit (proba[:, 0] = 1 -
 * proba[:, 1]), multinomial np.exp(raw - logsumexp(raw)) with nan_to_num,
 * exponential expit(2 raw); predict is argmax of the probabilities (the
 * exponential loss: raw >= 0); predict_log_proba np.log(predict_proba).
 *
 * sklearn 1.4 moved the classifiers to the common loss module (PR #26278;
 * 1.3 still has _gb_losses): `_loss` is then a sklearn._loss.loss object and
 * _gb.py computes (GB_NEW): the init raw value through the loss's link of
 * the clipped DummyClassifier probabilities — LogitLink scipy.special.logit
 * log(p / (1 - p)), HalfLogitLink (exponential) 0.5 * logit(p),
 * MultinomialLogit log(p / gmean(p)) with gmean exp(mean(log p)), the mean a
 * pairwise sum over the classes divided by K; predict_proba
 * HalfBinomialLoss [1 - expit(raw), expit(raw)], ExponentialLoss the same
 * of 2 raw, HalfMultinomialLoss softmax (row max subtracted, exp, pairwise
 * sum of the C-ordered row, divide); predict from raw: raw >= 0 (binary) or
 * argmax(raw); predict_log_proba np.log(predict_proba).  Which arithmetic a
 * file gets is decided by its loss object (sklearn._loss.loss or
 * sklearn.ensemble._gb_losses), else by its version (>= 1.4 new).
 * Regressors' arithmetic is the same in every version.  init_ may be
 * 'zero', a DummyRegressor / DummyClassifier (strategies prior, uniform,
 * most_frequent), or any other estimator brine loads (a nested model fed
 * the float32 rows: its predict, or predict_proba through the same clip
 * and link, gives each row's initial value).  Writing back is the generic
 * verbatim save (be_family.save NULL). */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "estimators/estimator.h"
#include "io/error.h"

/* The most classes brine accepts (rows are worked on the stack). */
#define GB_MAX_CLASSES 1024

enum { GB_IDENTITY, GB_BINOMIAL, GB_MULTINOMIAL, GB_EXPONENTIAL };

typedef struct gb_model {
    size_t n_stages, k;  /* estimators_.shape */
    be_tree **trees;     /* n_stages * k, row-major as estimators_[i, j] */
    double lr;           /* learning_rate */
    int loss;            /* GB_* */
    double *init;        /* k initial raw values (constant over rows) */
    size_t n_classes;    /* classifiers */
    int new_loss;        /* classifiers: sklearn >= 1.4's common loss module (GB_NEW arithmetic) */
    brine_model *init_model; /* init_ an estimator of its own (owned through m->subs), else NULL */
} gb_model;

/* ------------------------------------------------------------- helpers */

static int is_none(const bv *v) { return !v || v->kind == BRINE_NONE; }

static int str_is(const bv *v, const char *s) {
    return v && v->kind == BRINE_STR && v->u.s.n == strlen(s) && !memcmp(v->u.s.p, s, v->u.s.n);
}

static int gb_double(const bv *v, double *out) {
    if (!v) return 0;
    if (v->kind == BRINE_FLOAT) {
        *out = v->u.f;
        return 1;
    }
    int64_t i;
    if (be_get_int(v, &i)) {
        *out = (double)i;
        return 1;
    }
    if (v->kind != BRINE_SCALAR || !v->u.arr || !v->u.arr->data || !v->u.arr->dtype) return 0;
    const bv_dtype *dt = v->u.arr->dtype->u.dt;
    if (dt->nfields || v->u.arr->nbytes < dt->itemsize) return 0;
    return be_item_double(dt, v->u.arr->data, out);
}

/* A float64 array of exactly n elements into out (arena). */
static brine_status f8_vector(brine_model *m, const bv *v, const char *field, size_t n, double **out,
                              brine_error *err) {
    const bv_array *a = be_array(v);
    if (!a || !be_dtype_is(a->dtype, 'f', 8))
        return be_fail(err, m, "%s is not a float64 array", field);
    if ((uint64_t)a->count != n) return be_fail(err, m, "%s has %lld values, not %zu", field, (long long)a->count, n);
    double *d = be_alloc(m, n, sizeof *d);
    if (!d) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    for (size_t i = 0; i < n; i++)
        if (!be_array_double(a, i, &d[i]) || !isfinite(d[i])) return be_fail(err, m, "%s[%zu] is not finite", field, i);
    *out = d;
    return BRINE_OK;
}

/* ------------------------------------------------------------- loading */

/* The loss parameter (every spelling sklearn accepted) and K. */
static brine_status read_loss(brine_model *m, const bv *state, gb_model *g, brine_error *err) {
    const bv *loss = bv_dict_get(state, "loss");
    if (!m->cls->classifier) {
        static const char *const known[] = {"squared_error", "ls", "absolute_error", "lad", "huber", "quantile", NULL};
        for (size_t i = 0; known[i]; i++)
            if (str_is(loss, known[i])) {
                g->loss = GB_IDENTITY;
                g->k = 1;
                return BRINE_OK;
            }
        return be_fail(err, m, "loss is not one of squared_error, absolute_error, huber, quantile (or ls, lad)");
    }
    if (str_is(loss, "log_loss") || str_is(loss, "deviance")) {
        g->loss = g->n_classes == 2 ? GB_BINOMIAL : GB_MULTINOMIAL;
        g->k = g->n_classes == 2 ? 1 : g->n_classes;
        return BRINE_OK;
    }
    if (str_is(loss, "exponential")) {
        if (g->n_classes != 2) return be_fail(err, m, "loss is exponential with %zu classes, not 2", g->n_classes);
        g->loss = GB_EXPONENTIAL;
        g->k = 1;
        return BRINE_OK;
    }
    return be_fail(err, m, "loss is not one of log_loss, deviance, exponential");
}

/* DummyClassifier's predict_proba row (one output). */
static brine_status dummy_proba(brine_model *m, const bv *st, size_t n, double *p, brine_error *err) {
    const bv *strategy = bv_dict_get(st, "_strategy");
    if (!strategy) strategy = bv_dict_get(st, "strategy");
    int64_t no = 1;
    const bv *nov = bv_dict_get(st, "n_outputs_");
    if (nov && !is_none(nov) && (!be_get_int(nov, &no) || no != 1))
        return be_fail(err, m, "init_.n_outputs_ is not 1");
    double *prior = NULL;
    brine_status s = f8_vector(m, bv_dict_get(st, "class_prior_"), "init_.class_prior_", n, &prior, err);
    if (s) return s;
    if (str_is(strategy, "prior")) {
        memcpy(p, prior, n * sizeof *p);
    } else if (str_is(strategy, "uniform")) {
        for (size_t i = 0; i < n; i++) p[i] = 1.0 / (double)n;
    } else if (str_is(strategy, "most_frequent")) {
        size_t top = be_argmax(prior, n);
        for (size_t i = 0; i < n; i++) p[i] = i == top ? 1.0 : 0.0;
    } else {
        return bi_fail(err, BRINE_E_UNSUPPORTED, -1,
                       "%s: init_ is a DummyClassifier whose strategy brine does not support (prior, uniform and "
                       "most_frequent are)",
                       m->short_name);
    }
    return BRINE_OK;
}

/* scipy.special.logit as scipy < 1.15 computes it. */
static double logit(double p) { return log(p / (1 - p)); }

/* _gb.py _init_raw_predictions of sklearn >= 1.4: loss.link.link of the
 * clipped probabilities. */
static void init_from_proba_new(const gb_model *g, double *p, double *init) {
    const double eps = (double)FLT_EPSILON, hi = (double)(1.0f - FLT_EPSILON);
    for (size_t i = 0; i < g->n_classes; i++) p[i] = p[i] < eps ? eps : p[i] > hi ? hi : p[i];
    if (g->loss == GB_MULTINOMIAL) {
        double lg[GB_MAX_CLASSES];
        for (size_t i = 0; i < g->k; i++) lg[i] = log(p[i]);
        double gm = exp(be_pairwise_sum(lg, g->k) / (double)g->k);
        for (size_t i = 0; i < g->k; i++) init[i] = log(p[i] / gm);
    } else if (g->loss == GB_EXPONENTIAL) {
        double r = logit(p[1]);
        r *= 0.5;
        init[0] = r;
    } else {
        init[0] = logit(p[1]);
    }
}

/* _gb_losses.py get_init_raw_predictions of sklearn 1.2.1 for a row of
 * probabilities p (n_classes entries). */
static void init_from_proba(const gb_model *g, double *p, double *init) {
    if (g->new_loss) {
        init_from_proba_new(g, p, init);
        return;
    }
    const double eps = (double)FLT_EPSILON, hi = (double)(1.0f - FLT_EPSILON);
    for (size_t i = 0; i < g->n_classes; i++) p[i] = p[i] < eps ? eps : p[i] > hi ? hi : p[i];
    if (g->loss == GB_MULTINOMIAL) {
        for (size_t i = 0; i < g->k; i++) init[i] = log(p[i]);
    } else {
        double r = log(p[1] / (1 - p[1]));
        init[0] = g->loss == GB_EXPONENTIAL ? 0.5 * r : r;
    }
}

/* init_ an estimator of its own (not a Dummy*): loaded as a nested model;
 * at predict it sees the float32 rows the trees see, as _raw_predict_init
 * passes them, and its predict (regressors) or predict_proba (classifiers,
 * fitted on the encoded labels 0..K-1) gives each row's initial value. */
static brine_status read_init_model(brine_model *m, const bv *init, gb_model *g, brine_error *err) {
    brine_model *sub = NULL;
    m->subs = be_alloc(m, 1, sizeof *m->subs);
    if (!m->subs) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    brine_status s = be_load_part(m, init, "init_", &sub, err);
    if (s) return s;
    int clf = m->cls->classifier;
    if (clf && (!sub->cls->classifier || be_output_columns(sub, BRINE_METHOD_PREDICT_PROBA) != g->n_classes))
        return be_fail(err, m, "init_ (%s) has no predict_proba of %zu classes", sub->short_name, g->n_classes);
    if (!clf && (sub->cls->classifier || be_output_columns(sub, BRINE_METHOD_PREDICT) != 1))
        return be_fail(err, m, "init_ (%s) is not a regressor of one output", sub->short_name);
    if (sub->n_features_in >= 0 && m->n_features_in >= 0 && sub->n_features_in != m->n_features_in)
        return be_fail(err, m, "init_ (%s) takes %lld features, the model %lld", sub->short_name,
                       (long long)sub->n_features_in, (long long)m->n_features_in);
    g->init_model = sub;
    return BRINE_OK;
}

static brine_status read_init(brine_model *m, const bv *state, gb_model *g, brine_error *err) {
    g->init = be_alloc(m, g->k, sizeof *g->init);
    if (!g->init) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    const bv *init = bv_dict_get(state, "init_");
    if (str_is(init, "zero")) return BRINE_OK;
    const char *name = NULL;
    const char *module = init && init->kind == BRINE_OBJECT ? brine_value_global(init, &name) : NULL;
    const bv *st = module ? init->u.obj.state : NULL;
    int want_clf = m->cls->classifier;
    const char *want = want_clf ? "DummyClassifier" : "DummyRegressor";
    if (module && (strcmp(module, "sklearn.dummy") || strcmp(name, want))) return read_init_model(m, init, g, err);
    if (!module || !st || st->kind != BRINE_DICT) {
        if (!init) return be_fail(err, m, "init_ is missing (not fitted)");
        return bi_fail(err, BRINE_E_UNSUPPORTED, -1, "%s: init_ is %s; brine supports 'zero' and a fitted estimator",
                       m->short_name, brine_kind_name((brine_kind)init->kind));
    }
    if (!want_clf) {
        const bv_array *a = be_array(bv_dict_get(st, "constant_"));
        double c;
        if (!a || a->count != 1 || !be_array_double(a, 0, &c) || !isfinite(c))
            return be_fail(err, m, "init_.constant_ is not one finite number");
        if (a->dtype->u.dt->kind == 'f' && a->dtype->u.dt->itemsize == 4) c = (double)(float)c;
        g->init[0] = c;
        return BRINE_OK;
    }
    double p[GB_MAX_CLASSES];
    brine_status s = dummy_proba(m, st, g->n_classes, p, err);
    if (!s) init_from_proba(g, p, g->init);
    return s;
}

/* estimators_[i, j]: a fitted DecisionTreeRegressor with one output. */
static brine_status load_stage_tree(brine_model *m, const bv *est, size_t i, size_t j, be_tree **out,
                                    brine_error *err) {
    const char *name = NULL;
    const char *module = est && est->kind == BRINE_OBJECT ? brine_value_global(est, &name) : NULL;
    const be_class *c = be_class_find(module, name);
    if (!c || c->family != &be_tree_family || c->classifier)
        return be_fail(err, m, "estimators_[%zu, %zu] is %s%s%s, not a decision tree regressor", i, j,
                       module ? module : est ? brine_kind_name((brine_kind)est->kind) : "missing", module ? "." : "",
                       module ? name : "");
    const bv *state = est->u.obj.state;
    if (!state || state->kind != BRINE_DICT) return be_fail(err, m, "estimators_[%zu, %zu] has no state dict", i, j);
    char field[64];
    snprintf(field, sizeof field, "estimators_[%zu, %zu].tree_", i, j);
    be_tree_spec spec = {0, 1, NULL, m->n_features_in, 0, field};
    brine_status s = be_tree_load(m, bv_dict_get(state, "tree_"), &spec, out, err);
    if (!s) m->n_features_in = (*out)->n_features;
    return s;
}

static brine_status read_stages(brine_model *m, const bv *state, gb_model *g, brine_error *err) {
    const bv *v = bv_dict_get(state, "estimators_");
    if (is_none(v)) return be_fail(err, m, "is not fitted (estimators_ is %s)", v ? "None" : "missing");
    const bv_array *a = be_array(v);
    if (!a || a->dtype->u.dt->kind != 'O' || !a->objects || a->objects->kind != BRINE_LIST)
        return be_fail(err, m, "estimators_ is not an object array");
    if (a->ndim != 2 || a->shape[0] <= 0 || (uint64_t)a->shape[1] != g->k || a->objects->u.seq.n != (size_t)a->count)
        return be_fail(err, m, "estimators_ is not of shape (n_stages, %zu)", g->k);
    g->n_stages = (size_t)a->shape[0];
    g->trees = be_alloc(m, g->n_stages * g->k, sizeof *g->trees);
    if (!g->trees) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory for %zu trees", g->n_stages * g->k);
    for (size_t i = 0; i < g->n_stages; i++)
        for (size_t j = 0; j < g->k; j++) {
            /* C order, or Fortran order when the array says so. */
            size_t at = a->fortran ? j * g->n_stages + i : i * g->k + j;
            brine_status s = load_stage_tree(m, a->objects->u.seq.items[at], i, j, &g->trees[i * g->k + j], err);
            if (s) return s;
        }
    return BRINE_OK;
}

/* Which loss module the classifier's `_loss` (or older `loss_`) object
 * comes from: sklearn._loss.loss (sklearn >= 1.4) or _gb_losses; a file
 * without one goes by its version.  The new loss object must match loss. */
static brine_status read_loss_object(brine_model *m, const bv *state, gb_model *g, brine_error *err) {
    const bv *o = bv_dict_get(state, "_loss");
    if (!o || o->kind != BRINE_OBJECT) o = bv_dict_get(state, "loss_");
    const char *name = NULL;
    const char *module = o && o->kind == BRINE_OBJECT ? brine_value_global(o, &name) : NULL;
    if (!module) {
        g->new_loss = be_version_at_least(m, 1, 4, 0) == 1;
        return BRINE_OK;
    }
    g->new_loss = !strcmp(module, "sklearn._loss.loss");
    if (!g->new_loss) return BRINE_OK;
    const char *want = g->loss == GB_BINOMIAL      ? "HalfBinomialLoss"
                       : g->loss == GB_MULTINOMIAL ? "HalfMultinomialLoss"
                                                   : "ExponentialLoss";
    if (strcmp(name, want)) return be_fail(err, m, "_loss is %s.%s, not the %s its loss and classes need", module, name, want);
    return BRINE_OK;
}

static brine_status gb_load(brine_model *m, const bv *state, brine_error *err) {
    gb_model *g = be_alloc(m, 1, sizeof *g);
    if (!g) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    m->n_outputs = 1;
    brine_status s = be_read_n_features(m, state, &m->n_features_in, err);
    if (!s && m->cls->classifier) {
        size_t *nc = NULL;
        s = be_read_classes(m, state, &nc, err);
        if (!s && nc[0] < 2) s = be_fail(err, m, "classes_ has %zu classes, fewer than 2", nc[0]);
        if (!s && nc[0] > GB_MAX_CLASSES)
            s = bi_fail(err, BRINE_E_UNSUPPORTED, -1, "%s: %zu classes; brine supports at most %d", m->short_name,
                        nc[0], GB_MAX_CLASSES);
        if (!s) g->n_classes = nc[0];
    }
    if (!s) s = read_loss(m, state, g, err);
    if (!s && m->cls->classifier) s = read_loss_object(m, state, g, err);
    if (!s && (!gb_double(bv_dict_get(state, "learning_rate"), &g->lr) || !isfinite(g->lr)))
        s = be_fail(err, m, "learning_rate is not a finite number");
    if (!s) s = read_init(m, state, g, err);
    if (!s) s = read_stages(m, state, g, err);
    if (s) return s;
    m->n_estimators = g->n_stages;
    m->impl = g;
    return be_read_feature_names(m, state, err);
}

/* ---------------------------------------------------------- predicting */

static size_t gb_columns(const brine_model *m, brine_method method) {
    const gb_model *g = m->impl;
    int clf = m->cls->classifier;
    switch (method) {
    case BRINE_METHOD_PREDICT:
        return 1;
    case BRINE_METHOD_PREDICT_PROBA:
    case BRINE_METHOD_PREDICT_LOG_PROBA:
        return clf ? g->n_classes : BE_NO_METHOD;
    case BRINE_METHOD_DECISION_FUNCTION:
        return clf ? g->k : BE_NO_METHOD;
    case BRINE_METHOD_APPLY:
        return g->n_stages * g->k;
    default:
        return BE_NO_METHOD;
    }
}

static double expit(double x) { return 1 / (1 + exp(-x)); }

/* scipy.special.logsumexp of one row, as scipy 1.10 computes it. */
static double logsumexp(const double *a, size_t n, double *tmp) {
    double mx = a[0];
    for (size_t i = 1; i < n; i++)
        if (a[i] > mx || isnan(a[i])) mx = isnan(mx) ? mx : a[i];
    if (!isfinite(mx)) mx = 0;
    for (size_t i = 0; i < n; i++) tmp[i] = exp(a[i] - mx);
    return log(be_pairwise_sum(tmp, n)) + mx;
}

static double nan_to_num(double x) {
    if (isnan(x)) return 0;
    if (isinf(x)) return x > 0 ? DBL_MAX : -DBL_MAX;
    return x;
}

/* The class probabilities of one raw row (n_classes into p). */
static void raw_to_proba(const gb_model *g, const double *raw, double *p, double *tmp) {
    if (g->new_loss && g->loss == GB_MULTINOMIAL) {
        /* sklearn.utils.extmath.softmax of a C-ordered row */
        double mx = raw[0];
        for (size_t i = 1; i < g->k; i++)
            if (raw[i] > mx || isnan(raw[i])) mx = isnan(mx) ? mx : raw[i];
        for (size_t i = 0; i < g->k; i++) tmp[i] = exp(raw[i] - mx);
        double sum = be_pairwise_sum(tmp, g->k);
        for (size_t i = 0; i < g->k; i++) p[i] = tmp[i] / sum;
        return;
    }
    if (g->loss == GB_MULTINOMIAL) {
        double lse = logsumexp(raw, g->k, tmp);
        for (size_t i = 0; i < g->k; i++) p[i] = nan_to_num(exp(raw[i] - lse));
        return;
    }
    p[1] = expit(g->loss == GB_EXPONENTIAL ? 2.0 * raw[0] : raw[0]);
    p[0] = 1.0 - p[1];
}

static brine_status gb_predict(const brine_model *m, brine_method method, const be_input *in, brine_prediction *out,
                               brine_error *err) {
    const gb_model *g = m->impl;
    size_t k = g->k, nc = g->n_classes;
    double r[GB_MAX_CLASSES], p[GB_MAX_CLASSES], tmp[GB_MAX_CLASSES];
    brine_prediction *ip = NULL; /* init_'s own predictions, when it is an estimator */
    if (g->init_model && method != BRINE_METHOD_APPLY) {
        brine_predict_options po = BRINE_PREDICT_OPTIONS_INIT;
        po.n_threads = in->n_threads;
        brine_error se;
        brine_error_clear(&se);
        brine_status st = brine_predict(&ip, g->init_model,
                                        m->cls->classifier ? BRINE_METHOD_PREDICT_PROBA : BRINE_METHOD_PREDICT, in->x,
                                        BRINE_DTYPE_FLOAT32, in->n_rows, in->n_cols, &po, &se);
        if (st) return bi_fail(err, st, -1, "%s: init_: %s", m->short_name, se.message);
    }
    for (size_t row = 0; row < in->n_rows; row++) {
        const float *x = in->x + row * in->n_cols;
        if (method == BRINE_METHOD_APPLY) {
            int64_t *o = out->indices + row * g->n_stages * k;
            for (size_t t = 0; t < g->n_stages * k; t++) o[t] = (int64_t)be_tree_apply(g->trees[t], x);
            continue;
        }
        if (ip && m->cls->classifier) {
            memcpy(p, ip->values + row * nc, nc * sizeof *p);
            init_from_proba(g, p, r);
        } else if (ip) {
            r[0] = ip->values[row];
        } else {
            memcpy(r, g->init, k * sizeof *r);
        }
        for (size_t s = 0; s < g->n_stages; s++)
            for (size_t j = 0; j < k; j++) {
                const be_tree *t = g->trees[s * k + j];
                r[j] += g->lr * t->value[be_tree_apply(t, x) * t->n_outputs * t->max_classes];
            }
        if (method == BRINE_METHOD_DECISION_FUNCTION || (method == BRINE_METHOD_PREDICT && !m->cls->classifier)) {
            memcpy(out->values + row * k, r, k * sizeof *r);
            continue;
        }
        if (method == BRINE_METHOD_PREDICT && (g->loss == GB_EXPONENTIAL || g->new_loss)) {
            /* sklearn >= 1.4: from raw (the exponential loss always was) */
            out->indices[row] = k == 1 ? r[0] >= 0 : (int64_t)be_argmax(r, k);
            continue;
        }
        raw_to_proba(g, r, p, tmp);
        if (method == BRINE_METHOD_PREDICT) out->indices[row] = (int64_t)be_argmax(p, nc);
        else
            for (size_t i = 0; i < nc; i++)
                out->values[row * nc + i] = method == BRINE_METHOD_PREDICT_LOG_PROBA ? log(p[i]) : p[i];
    }
    brine_prediction_free(ip);
    return BRINE_OK;
}

/* Written back verbatim (the generic save): no writer of its own. */
const be_family be_gb_family = {"gradient_boosting", gb_load, gb_predict, NULL, gb_columns, 0};
