/* search.c — meta-estimators that wrap fitted estimators, and the
 * feature selection that searches over pipelines tune:
 *
 *  - GridSearchCV and RandomizedSearchCV (sklearn.model_selection): every
 *    method is best_estimator_'s, loaded as a model of its own (refit=False
 *    leaves no best_estimator_: refused, sklearn cannot predict either).
 *  - OneVsRestClassifier (sklearn.multiclass): estimators_ (one binary
 *    estimator per class, or one for two classes) and label_binarizer_, as
 *    sklearn 1.2.1 combines them: predict takes, per row, the last
 *    estimator whose score reaches the running maximum (np.maximum, then
 *    argmaxima[maxima == pred] = i), the score being decision_function,
 *    else predict_proba[:, 1], else a regressor's predict; two classes:
 *    classes_[score > threshold] (0 with decision_function, 0.5 with
 *    probabilities).  predict_proba stacks the estimators' positive-class
 *    probabilities ([1 - p, p] for one estimator) and divides each row by
 *    its sum (added left to right, as numpy reduces the transposed stack);
 *    decision_function stacks their decision values (one estimator: its
 *    own).  Multilabel targets are refused.
 *  - OneVsOneClassifier (sklearn.multiclass): one binary estimator per
 *    class pair (i, j) in order, fitted on 0 (class i) / 1 (class j);
 *    decision_function is _ovr_decision_function(predict, score, n): a vote
 *    for i when the estimator predicts 0, for j when 1, plus the summed
 *    scores (subtracted for i, added for j) mapped by s / (3 (|s| + 1));
 *    two classes: its second column; predict: classes_[argmax] (first
 *    maximum), two classes classes_[value > threshold].  pairwise_indices_
 *    (precomputed kernels) is refused.
 *  - SelectKBest (sklearn.feature_selection): transform keeps the columns
 *    of the k best scores_ in their order, as sklearn 1.2.1's
 *    _get_support_mask: NaN scores count as the lowest float, a stable
 *    ascending argsort keeps its last k (among equal scores the later
 *    columns win); k='all' keeps every column.  SelectPercentile keeps
 *    the scores above np.percentile(scores, 100 - percentile) (numpy's
 *    'linear' interpolation, its _lerp) and tied ones in column order up
 *    to int(n * percentile / 100) columns.  VarianceThreshold keeps
 *    the columns whose variances_ exceed threshold, NaN and infinity let
 *    through (its allow_nan tag).
 * Rows reach the inner models as the caller gave them (float64, and text
 * cells for models that read text, through be_predict_input); a tree
 * inside converts them to float32 as sklearn does. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "estimators/estimator.h"
#include "io/error.h"


typedef struct ovr_model {
    size_t n;          /* estimators */
    brine_model **est; /* n: estimators_ in order (one model per distinct object) */
    int score;         /* BRINE_METHOD_* giving each estimator's score */
    double threshold;  /* two classes: the score above which the positive class wins */
} ovr_model;

static int is_none(const bv *v) { return !v || v->kind == BRINE_NONE; }

/* Models of the estimators_ list items: an object listed more than once
 * (a pickle memo reference) is loaded once, so a hostile list of one big
 * estimator repeated cannot multiply memory.  Open addressing on the node
 * address; the table is freed after loading. */
typedef struct member_table {
    const bv **keys;
    brine_model **vals;
    size_t cap;
} member_table;

static brine_status load_members(brine_model *m, const bv *list, brine_model **est, brine_error *err) {
    size_t n = list->u.seq.n, cap = 16;
    while (cap < 2 * n) cap *= 2;
    member_table t = {calloc(cap, sizeof *t.keys), calloc(cap, sizeof *t.vals), cap};
    brine_status st = t.keys && t.vals ? BRINE_OK : bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    for (size_t i = 0; i < n && !st; i++) {
        const bv *v = list->u.seq.items[i];
        size_t h = ((uintptr_t)v >> 4) * 0x9E3779B97F4A7C15ull & (cap - 1);
        while (t.keys[h] && t.keys[h] != v) h = (h + 1) & (cap - 1);
        if (t.keys[h]) {
            est[i] = t.vals[h];
            continue;
        }
        char field[48];
        snprintf(field, sizeof field, "estimators_[%zu]", i);
        st = be_load_part(m, v, field, &est[i], err);
        t.keys[h] = v;
        t.vals[h] = est[i];
    }
    free(t.keys);
    free(t.vals);
    return st;
}

/* A copy of m's class row whose classifier flag is the inner model's. */
static brine_status take_kind(brine_model *m, int classifier, brine_error *err) {
    be_class *cls = be_alloc(m, 1, sizeof *cls);
    if (!cls) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    *cls = *m->cls;
    cls->classifier = classifier;
    m->cls = cls;
    return BRINE_OK;
}

/* Runs method on sub with this call's rows (and text cells, for models
 * that read them), into a new prediction. */
static brine_status run_sub(const brine_model *sub, brine_method method, const be_input *in, brine_prediction **out,
                            brine_error *err) {
    return be_predict_input(out, sub, method, in, err);
}

/* ------------------------------------------------------ the searches */

static brine_status search_load(brine_model *m, const bv *state, brine_error *err) {
    const bv *best = bv_dict_get(state, "best_estimator_");
    if (is_none(best)) {
        const bv *refit = bv_dict_get(state, "refit");
        int64_t r = 1;
        if (refit && be_get_int(refit, &r) && r == 0)
            return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "was fitted with refit=False: it has no best_estimator_ "
                                  "to predict with (sklearn cannot predict either)");
        return be_fail(err, m, "best_estimator_ is missing");
    }
    if (!(m->subs = be_alloc(m, 1, sizeof *m->subs))) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    brine_model *b;
    brine_status st = be_load_part(m, best, "best_estimator_", &b, err);
    if (st) return st;
    if ((st = take_kind(m, b->cls->classifier, err))) return st;
    m->n_features_in = b->n_features_in;
    m->n_outputs = b->n_outputs;
    m->classes = b->classes;
    m->feature_names = b->feature_names;
    m->n_feature_names = b->n_feature_names;
    m->allow_nan = b->allow_nan;
    m->takes_text = brine_model_takes_text(b);
    m->text_out = b->text_out;
    m->n_estimators = b->n_estimators;
    m->impl = b;
    return be_keep_params(m, state, err);
}

/* inverse_transform (another input width) is not delegated. */
static size_t search_columns(const brine_model *m, brine_method method) {
    if (method == BRINE_METHOD_INVERSE_TRANSFORM) return BE_NO_METHOD;
    return be_output_columns((const brine_model *)m->impl, method);
}

static brine_status search_predict(const brine_model *m, brine_method method, const be_input *in,
                                   brine_prediction *out, brine_error *err) {
    const brine_model *b = m->impl;
    brine_prediction *p = NULL;
    brine_status st = run_sub(b, method, in, &p, err);
    if (st) return st;
    size_t cells = in->n_rows * out->n_columns;
    if (p->n_columns != out->n_columns || !p->indices != !out->indices || !p->labels != !out->labels) {
        st = be_fail_status(err, BRINE_E_ARGUMENT, m, "best_estimator_'s %s gives another table", brine_method_name(method));
    } else if (out->labels) {
        memcpy(out->labels, p->labels, cells * sizeof *out->labels);
    } else if (out->indices) {
        memcpy(out->indices, p->indices, cells * sizeof *out->indices);
    } else {
        memcpy(out->values, p->values, cells * sizeof *out->values);
    }
    brine_prediction_free(p);
    return st;
}

const be_family be_search_family = {"search", search_load, search_predict, NULL, search_columns, BE_FAM_FLOAT64};

/* ------------------------------------------------ OneVsRestClassifier */

static brine_status ovr_labels(brine_model *m, const bv *state, brine_error *err) {
    const bv *lb = bv_dict_get(state, "label_binarizer_");
    const bv *ls = lb && lb->kind == BRINE_OBJECT ? lb->u.obj.state : NULL;
    if (!ls || ls->kind != BRINE_DICT) return be_fail(err, m, "label_binarizer_ is not a fitted LabelBinarizer");
    const bv *yt = bv_dict_get(ls, "y_type_");
    if (!yt || yt->kind != BRINE_STR) return be_fail(err, m, "label_binarizer_.y_type_ is not a str");
    if (!bv_is_str(yt, "multiclass") && !bv_is_str(yt, "binary"))
        return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "label_binarizer_.y_type_ is '%.*s'; brine predicts "
                              "binary and multiclass targets, not multilabel ones", (int)(yt->u.s.n > 40 ? 40 : yt->u.s.n),
                              (const char *)yt->u.s.p);
    const bv *cv = bv_dict_get(state, "classes_");
    const char *field = "classes_";
    if (is_none(cv)) cv = bv_dict_get(ls, field = "label_binarizer_.classes_");
    if (is_none(cv)) return be_fail(err, m, "classes_ is missing");
    m->classes = be_alloc(m, 1, sizeof *m->classes);
    if (!m->classes) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    brine_status st = be_read_labels(m, cv, field, m->classes, err);
    if (st) return st;
    if (m->classes->n < 2) return be_fail(err, m, "%s has %zu labels; a classifier has at least 2", field, m->classes->n);
    return BRINE_OK;
}

static brine_status ovr_load(brine_model *m, const bv *state, brine_error *err) {
    m->n_outputs = 1;
    brine_status st = ovr_labels(m, state, err);
    if (st) return st;
    const bv *ev = bv_dict_get(state, "estimators_");
    if (!ev || (ev->kind != BRINE_LIST && ev->kind != BRINE_TUPLE))
        return be_fail(err, m, "estimators_ is not a list");
    size_t n = ev->u.seq.n, nc = m->classes->n;
    if (n != (nc == 2 ? 1 : nc))
        return be_fail(err, m, "estimators_ has %zu estimators for %zu classes (expected %zu)", n, nc, nc == 2 ? 1 : nc);
    ovr_model *o = be_alloc(m, 1, sizeof *o);
    if (!o || !(m->subs = be_alloc(m, n, sizeof *m->subs)) || !(o->est = be_alloc(m, n, sizeof *o->est)))
        return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    o->n = n;
    if ((st = be_read_n_features(m, state, &m->n_features_in, err))) return st;
    if ((st = load_members(m, ev, o->est, err))) return st;
    for (size_t i = 0; i < n; i++) {
        char field[48];
        snprintf(field, sizeof field, "estimators_[%zu]", i);
        brine_model *e = o->est[i];
        if ((st = be_check_width(m, e->n_features_in, field, err))) return st;
        if (e->n_outputs != 1) return be_fail(err, m, "%s has %zu outputs", field, e->n_outputs);
        /* _predict_binary: a regressor's predict, else decision_function,
         * else predict_proba[:, 1]; the first estimator decides for all */
        int score = !e->cls->classifier ? BRINE_METHOD_PREDICT
                    : be_output_columns(e, BRINE_METHOD_DECISION_FUNCTION) != BE_NO_METHOD ? BRINE_METHOD_DECISION_FUNCTION
                    : BRINE_METHOD_PREDICT_PROBA;
        if (i == 0) o->score = score;
        else if (score != o->score)
            return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "%s scores rows differently from estimators_[0]", field);
        size_t want = score == BRINE_METHOD_PREDICT_PROBA ? 2 : 1;
        if (be_output_columns(e, (brine_method)score) != want)
            return be_fail(err, m, "%s gives %zu columns of %s, not %zu", field, be_output_columns(e, (brine_method)score),
                           brine_method_name((brine_method)score), want);
        if (e->cls->classifier && (e->classes->n != 2))
            return be_fail(err, m, "%s has %zu classes, not 2", field, e->classes->n);
        m->takes_text |= brine_model_takes_text(e);
    }
    o->threshold = o->score == BRINE_METHOD_DECISION_FUNCTION ? 0.0 : 0.5;
    if (!m->feature_names) {
        m->feature_names = o->est[0]->feature_names;
        m->n_feature_names = o->est[0]->n_feature_names;
    }
    if ((st = be_read_feature_names(m, state, err))) return st;
    m->n_estimators = n;
    m->impl = o;
    return be_keep_params(m, state, err);
}

static int all_have(const brine_model *m, brine_method method, size_t cols) {
    const ovr_model *o = m->impl;
    for (size_t i = 0; i < o->n; i++)
        if (be_output_columns(o->est[i], method) != cols) return 0;
    return 1;
}

static size_t ovr_columns(const brine_model *m, brine_method method) {
    const ovr_model *o = m->impl;
    size_t nc = m->classes->n;
    switch (method) {
    case BRINE_METHOD_PREDICT:
        return 1;
    case BRINE_METHOD_PREDICT_PROBA:
        return all_have(m, BRINE_METHOD_PREDICT_PROBA, 2) ? nc : BE_NO_METHOD;
    case BRINE_METHOD_DECISION_FUNCTION:
        return all_have(m, BRINE_METHOD_DECISION_FUNCTION, 1) ? o->n : BE_NO_METHOD;
    default:
        return BE_NO_METHOD;
    }
}

/* Column col of each estimator's method into cols[i * n_rows + r]. */
static brine_status gather(const brine_model *m, brine_method method, size_t col, const be_input *in, double *cols,
                           brine_error *err) {
    const ovr_model *o = m->impl;
    for (size_t i = 0; i < o->n; i++) {
        brine_prediction *p = NULL;
        brine_status st = run_sub(o->est[i], method, in, &p, err);
        if (st) return st;
        if (!p->values && !p->indices) {
            brine_prediction_free(p);
            return be_fail_status(err, BRINE_E_ARGUMENT, m, "estimators_[%zu] gives no scores", i);
        }
        for (size_t r = 0; r < in->n_rows; r++) {
            size_t at = r * p->n_columns + col;
            cols[i * in->n_rows + r] = p->values ? p->values[at] : (double)p->indices[at];
        }
        brine_prediction_free(p);
    }
    return BRINE_OK;
}

static brine_status ovr_predict(const brine_model *m, brine_method method, const be_input *in, brine_prediction *out,
                                brine_error *err) {
    const ovr_model *o = m->impl;
    size_t n = in->n_rows, nc = m->classes->n;
    brine_method score = (brine_method)o->score;
    brine_method use = method == BRINE_METHOD_PREDICT ? score : method;
    size_t col = use == BRINE_METHOD_PREDICT_PROBA ? 1 : 0;
    double *cols = malloc((o->n * n + 1) * sizeof *cols);
    if (!cols) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory for %zu rows", n);
    brine_status st = gather(m, use, col, in, cols, err);
    for (size_t r = 0; r < n && !st; r++) {
        if (method == BRINE_METHOD_DECISION_FUNCTION) {
            for (size_t i = 0; i < o->n; i++) out->values[r * o->n + i] = cols[i * n + r];
        } else if (method == BRINE_METHOD_PREDICT_PROBA) {
            double *p = out->values + r * nc;
            if (o->n == 1) {
                p[1] = cols[r];
                p[0] = 1 - cols[r];
            } else {
                for (size_t i = 0; i < nc; i++) p[i] = cols[i * n + r];
            }
            double sum = p[0];
            for (size_t i = 1; i < nc; i++) sum += p[i];
            for (size_t i = 0; i < nc; i++) p[i] /= sum;
        } else if (o->n == 1) {
            out->indices[r] = cols[r] > o->threshold;
        } else {
            double mx = -INFINITY;
            int64_t arg = 0;
            for (size_t i = 0; i < o->n; i++) {
                double v = cols[i * n + r];
                mx = isnan(mx) || isnan(v) ? NAN : v > mx ? v : mx; /* np.maximum */
                if (mx == v) arg = (int64_t)i;
            }
            out->indices[r] = arg;
        }
    }
    free(cols);
    return st;
}

const be_family be_ovr_family = {"ovr", ovr_load, ovr_predict, NULL, ovr_columns, BE_FAM_FLOAT64};

/* ------------------------------------------------- OneVsOneClassifier */

typedef struct ovo_model {
    size_t n;          /* estimators: n_classes (n_classes - 1) / 2 */
    brine_model **est; /* n: estimators_ in order (one model per distinct object) */
    int score;         /* as OneVsRestClassifier's */
    double threshold;
} ovo_model;

static brine_status ovo_load(brine_model *m, const bv *state, brine_error *err) {
    m->n_outputs = 1;
    const bv *cv = bv_dict_get(state, "classes_");
    if (is_none(cv)) return be_fail(err, m, "classes_ is missing");
    m->classes = be_alloc(m, 1, sizeof *m->classes);
    if (!m->classes) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    brine_status st = be_read_labels(m, cv, "classes_", m->classes, err);
    if (st) return st;
    size_t nc = m->classes->n;
    if (nc < 2 || nc > 65536) return be_fail(err, m, "classes_ has %zu labels", nc);
    if (!is_none(bv_dict_get(state, "pairwise_indices_")))
        return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "pairwise_indices_ is set (a precomputed kernel), which brine "
                              "does not support");
    const bv *ev = bv_dict_get(state, "estimators_");
    if (!ev || (ev->kind != BRINE_LIST && ev->kind != BRINE_TUPLE)) return be_fail(err, m, "estimators_ is not a list");
    size_t n = ev->u.seq.n;
    if (n != nc * (nc - 1) / 2)
        return be_fail(err, m, "estimators_ has %zu estimators for %zu classes (expected %zu)", n, nc, nc * (nc - 1) / 2);
    ovo_model *o = be_alloc(m, 1, sizeof *o);
    if (!o || !(m->subs = be_alloc(m, n, sizeof *m->subs)) || !(o->est = be_alloc(m, n, sizeof *o->est)))
        return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    o->n = n;
    if ((st = be_read_n_features(m, state, &m->n_features_in, err))) return st;
    if ((st = load_members(m, ev, o->est, err))) return st;
    for (size_t i = 0; i < n; i++) {
        char field[48];
        snprintf(field, sizeof field, "estimators_[%zu]", i);
        brine_model *e = o->est[i];
        if ((st = be_check_width(m, e->n_features_in, field, err))) return st;
        if (!e->cls->classifier || e->n_outputs != 1 || e->classes->n != 2)
            return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "%s is not a binary classifier", field);
        for (size_t k = 0; k < 2; k++) {
            const brine_label *l = &e->classes->labels[k];
            if ((l->kind != BRINE_LABEL_INT && l->kind != BRINE_LABEL_BOOL) || l->i != (int64_t)k)
                return be_fail(err, m, "%s's classes_ are not [0, 1]", field);
        }
        int score = be_output_columns(e, BRINE_METHOD_DECISION_FUNCTION) != BE_NO_METHOD ? BRINE_METHOD_DECISION_FUNCTION
                    : BRINE_METHOD_PREDICT_PROBA;
        if (i == 0) o->score = score;
        else if (score != o->score)
            return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "%s scores rows differently from estimators_[0]", field);
        size_t want = score == BRINE_METHOD_PREDICT_PROBA ? 2 : 1;
        if (be_output_columns(e, (brine_method)score) != want)
            return be_fail(err, m, "%s gives %zu columns of %s, not %zu", field, be_output_columns(e, (brine_method)score),
                           brine_method_name((brine_method)score), want);
        m->takes_text |= brine_model_takes_text(e);
    }
    o->threshold = o->score == BRINE_METHOD_DECISION_FUNCTION ? 0.0 : 0.5;
    if (!m->feature_names) {
        m->feature_names = o->est[0]->feature_names;
        m->n_feature_names = o->est[0]->n_feature_names;
    }
    if ((st = be_read_feature_names(m, state, err))) return st;
    m->n_estimators = n;
    m->impl = o;
    return be_keep_params(m, state, err);
}

static size_t ovo_columns(const brine_model *m, brine_method method) {
    size_t nc = m->classes->n;
    if (method == BRINE_METHOD_PREDICT) return 1;
    if (method == BRINE_METHOD_DECISION_FUNCTION) return nc == 2 ? 1 : nc;
    return BE_NO_METHOD;
}

static brine_status ovo_predict(const brine_model *m, brine_method method, const be_input *in, brine_prediction *out,
                                brine_error *err) {
    const ovo_model *o = m->impl;
    size_t n = in->n_rows, nc = m->classes->n;
    double *pred = malloc((2 * o->n * n + 2 * nc + 1) * sizeof *pred);
    if (!pred) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory for %zu rows", n);
    double *conf = pred + o->n * n, *votes = conf + o->n * n, *sums = votes + nc;
    brine_status st = BRINE_OK;
    for (size_t e = 0; e < o->n && !st; e++) {
        brine_prediction *p = NULL;
        st = run_sub(o->est[e], BRINE_METHOD_PREDICT, in, &p, err);
        if (!st && !p->indices) st = be_fail_status(err, BRINE_E_ARGUMENT, m, "estimators_[%zu] gives no labels", e);
        for (size_t r = 0; !st && r < n; r++) pred[e * n + r] = (double)p->indices[r]; /* classes_ are [0, 1] */
        brine_prediction_free(p);
        p = NULL;
        if (!st) st = run_sub(o->est[e], (brine_method)o->score, in, &p, err);
        if (!st && !p->values) st = be_fail_status(err, BRINE_E_ARGUMENT, m, "estimators_[%zu] gives no scores", e);
        for (size_t r = 0; !st && r < n; r++) conf[e * n + r] = p->values[r * p->n_columns + p->n_columns - 1];
        brine_prediction_free(p);
    }
    for (size_t r = 0; r < n && !st; r++) {
        for (size_t i = 0; i < nc; i++) votes[i] = sums[i] = 0.0;
        size_t k = 0;
        for (size_t i = 0; i < nc; i++) {
            for (size_t j = i + 1; j < nc; j++, k++) {
                double c = conf[k * n + r];
                sums[i] -= c;
                sums[j] += c;
                if (pred[k * n + r] == 0) votes[i] += 1;
                else if (pred[k * n + r] == 1) votes[j] += 1;
            }
        }
        for (size_t i = 0; i < nc; i++) votes[i] = votes[i] + sums[i] / (3 * (fabs(sums[i]) + 1));
        if (method == BRINE_METHOD_DECISION_FUNCTION) {
            if (nc == 2) out->values[r] = votes[1];
            else memcpy(out->values + r * nc, votes, nc * sizeof *votes);
        } else {
            out->indices[r] = nc == 2 ? votes[1] > o->threshold : (int64_t)be_argmax(votes, nc);
        }
    }
    free(pred);
    return st;
}

const be_family be_ovo_family = {"ovo", ovo_load, ovo_predict, NULL, ovo_columns, BE_FAM_FLOAT64};

/* ------------------------------------------------------- SelectKBest */

typedef struct select_model {
    size_t n_in, n_out;
    size_t *cols; /* n_out kept columns, increasing */
    int any_value; /* VarianceThreshold: NaN and infinity pass (allow_nan) */
} select_model;

typedef struct score_ix {
    double score;
    size_t ix;
} score_ix;

/* ascending score, then ascending index: numpy's stable argsort order */
static int by_score(const void *a, const void *b) {
    const score_ix *x = a, *y = b;
    if (x->score != y->score) return x->score < y->score ? -1 : 1;
    return x->ix < y->ix ? -1 : x->ix > y->ix;
}

/* VarianceThreshold: the columns whose variances_ exceed threshold. */
static brine_status variance_load(brine_model *m, const bv *state, brine_error *err) {
    const bv *vv = bv_dict_get(state, "variances_");
    if (is_none(vv)) return be_fail(err, m, "is not fitted (variances_ is %s)", vv ? "None" : "missing");
    be_matrix va;
    brine_status st = be_read_matrix(m, vv, "variances_", 1, &va, err);
    if (st) return st;
    if (va.ndim != 1 || va.cols == 0) return be_fail(err, m, "variances_ is not a non-empty 1-D array");
    double threshold;
    if (!be_get_double(bv_dict_get(state, "threshold"), &threshold)) return be_fail(err, m, "threshold is not a number");
    select_model *s = be_alloc(m, 1, sizeof *s);
    if (!s || !(s->cols = be_alloc(m, va.cols, sizeof *s->cols))) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    s->n_in = va.cols;
    s->any_value = 1;
    m->allow_nan = 1; /* NaN input passes, as sklearn's allow_nan tag lets it */
    if ((st = be_read_n_features(m, state, &m->n_features_in, err))) return st;
    if ((st = be_check_width(m, (int64_t)s->n_in, "variances_", err))) return st;
    for (size_t j = 0; j < s->n_in; j++)
        if (va.v[j] > threshold) s->cols[s->n_out++] = j;
    m->n_outputs = 1;
    m->n_estimators = 1;
    m->impl = s;
    if ((st = be_read_feature_names(m, state, err))) return st;
    return be_keep_params(m, state, err);
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* np.percentile(v, q) of n values, numpy 1.24's 'linear' method:
 * virtual index (n - 1) * (q / 100), then _lerp of its neighbours. */
static double percentile_linear(double *sorted, size_t n, double q) {
    double quantile = q / 100, vi = (double)(n - 1) * quantile;
    double prev = floor(vi);
    size_t lo, hi;
    if (vi >= (double)(n - 1)) lo = hi = n - 1;
    else if (vi < 0) lo = hi = 0;
    else lo = (size_t)prev, hi = lo + 1;
    double t = vi - (vi >= (double)(n - 1) ? -1.0 : vi < 0 ? 0.0 : prev);
    double a = sorted[lo], b = sorted[hi], diff = b - a;
    double r = a + diff * t;
    if (t >= 0.5) r = b - diff * (1 - t);
    return r;
}

/* SelectPercentile: sklearn 1.2.1's mask — scores above the (100 -
 * percentile)th percentile, then tied scores in column order up to
 * int(n * percentile / 100) columns in all (a negative room drops ties
 * from the end, as Python's slice ties[:room] does). */
static brine_status percentile_mask(brine_model *m, const double *scores, size_t n, double pct, int pct_is_int,
                                    int64_t pct_int, char *keep, brine_error *err) {
    if (pct == 100) {
        memset(keep, 1, n);
        return BRINE_OK;
    }
    if (pct == 0) return BRINE_OK;
    double *sorted = malloc(n * sizeof *sorted);
    size_t *ties = malloc(n * sizeof *ties);
    if (!sorted || !ties) {
        free(sorted);
        free(ties);
        return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    }
    memcpy(sorted, scores, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, by_value);
    double threshold = percentile_linear(sorted, n, pct_is_int ? (double)(100 - pct_int) : 100 - pct);
    size_t above = 0, nt = 0;
    for (size_t j = 0; j < n; j++) {
        if (scores[j] > threshold) keep[j] = 1, above++;
        else if (scores[j] == threshold) ties[nt++] = j;
    }
    double mf = pct_is_int ? (double)((int64_t)n * pct_int) / 100 : (double)n * pct / 100;
    int64_t room = (int64_t)mf - (int64_t)above; /* int() truncates toward zero */
    size_t stop = room >= 0 ? ((size_t)room < nt ? (size_t)room : nt) : ((size_t)-room < nt ? nt - (size_t)-room : 0);
    for (size_t k = 0; k < stop; k++) keep[ties[k]] = 1;
    free(sorted);
    free(ties);
    (void)m;
    return BRINE_OK;
}

static brine_status select_load(brine_model *m, const bv *state, brine_error *err) {
    if (!strcmp(m->short_name, "VarianceThreshold")) return variance_load(m, state, err);
    int by_percentile = !strcmp(m->short_name, "SelectPercentile");
    const bv *sv = bv_dict_get(state, "scores_");
    if (is_none(sv)) return be_fail(err, m, "is not fitted (scores_ is %s)", sv ? "None" : "missing");
    be_matrix sc;
    brine_status st = be_read_matrix(m, sv, "scores_", 1, &sc, err);
    if (st) return st;
    if (sc.ndim != 1 || sc.cols == 0) return be_fail(err, m, "scores_ is not a non-empty 1-D array");
    select_model *s = be_alloc(m, 1, sizeof *s);
    if (!s) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    s->n_in = sc.cols;
    if ((st = be_read_n_features(m, state, &m->n_features_in, err))) return st;
    if ((st = be_check_width(m, (int64_t)s->n_in, "scores_", err))) return st;
    const bv *kv = bv_dict_get(state, by_percentile ? "percentile" : "k");
    int64_t k;
    if (by_percentile) {
        double pct;
        int64_t pi = 0;
        int is_int = be_get_int(kv, &pi) && kv->kind != BRINE_BOOL;
        if (!is_int && !be_get_double(kv, &pct)) return be_fail(err, m, "percentile is not a number");
        if (is_int) pct = (double)pi;
        if (!(pct >= 0 && pct <= 100)) return be_fail(err, m, "percentile is %g, not in [0, 100]", pct);
        char *keep = calloc(s->n_in, 1);
        double *clean = malloc(s->n_in * sizeof *clean);
        if (!keep || !clean || !(s->cols = be_alloc(m, s->n_in, sizeof *s->cols))) {
            free(keep);
            free(clean);
            return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
        }
        for (size_t j = 0; j < s->n_in; j++) clean[j] = isnan(sc.v[j]) ? -DBL_MAX : sc.v[j];
        st = percentile_mask(m, clean, s->n_in, pct, is_int, pi, keep, err);
        for (size_t j = 0; !st && j < s->n_in; j++)
            if (keep[j]) s->cols[s->n_out++] = j;
        free(keep);
        free(clean);
        if (st) return st;
        m->n_outputs = 1;
        m->n_estimators = 1;
        m->impl = s;
        if ((st = be_read_feature_names(m, state, err))) return st;
        return be_keep_params(m, state, err);
    }
    if (kv && bv_is_str(kv, "all")) {
        k = (int64_t)s->n_in;
    } else if (!be_get_int(kv, &k) || kv->kind == BRINE_BOOL) {
        return be_fail(err, m, "k is %s, not an int or 'all'", kv ? brine_kind_name((brine_kind)kv->kind) : "missing");
    } else if (k < 0 || (uint64_t)k > s->n_in) {
        return be_fail(err, m, "k is %lld but scores_ has %zu features", (long long)k, s->n_in);
    }
    s->n_out = (size_t)k;
    score_ix *order = malloc(s->n_in * sizeof *order);
    s->cols = be_alloc(m, s->n_out + 1, sizeof *s->cols);
    char *keep = calloc(s->n_in, 1);
    if (!order || !s->cols || !keep) {
        free(order);
        free(keep);
        return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    }
    for (size_t j = 0; j < s->n_in; j++) {
        order[j].score = isnan(sc.v[j]) ? -DBL_MAX : sc.v[j]; /* _clean_nans: finfo.min */
        order[j].ix = j;
    }
    qsort(order, s->n_in, sizeof *order, by_score);
    for (size_t j = s->n_in - s->n_out; j < s->n_in; j++) keep[order[j].ix] = 1;
    for (size_t j = 0, n = 0; j < s->n_in; j++)
        if (keep[j]) s->cols[n++] = j;
    free(order);
    free(keep);
    m->n_outputs = 1;
    m->n_estimators = 1;
    m->impl = s;
    if ((st = be_read_feature_names(m, state, err))) return st;
    return be_keep_params(m, state, err);
}

static size_t select_columns(const brine_model *m, brine_method method) {
    const select_model *s = m->impl;
    return method == BRINE_METHOD_TRANSFORM ? s->n_out : BE_NO_METHOD;
}

static brine_status select_predict(const brine_model *m, brine_method method, const be_input *in,
                                   brine_prediction *out, brine_error *err) {
    const select_model *s = m->impl;
    brine_status st = s->any_value ? BRINE_OK : be_check_rows(m, in->xd, in->n_rows * in->n_cols, in->n_cols, 0, err);
    if (st) return st;
    for (size_t r = 0; r < in->n_rows; r++)
        for (size_t j = 0; j < s->n_out; j++) out->values[r * s->n_out + j] = in->xd[r * in->n_cols + s->cols[j]];
    return BRINE_OK;
}

const be_family be_select_family = {"select", select_load, select_predict, NULL, select_columns, BE_FAM_FLOAT64};
