/* cv.c — brine_cross_val_score: sklearn's cross_val_score with its
 * default splitters (StratifiedKFold for single-output classifiers, KFold
 * otherwise, neither shuffled) and default scores (accuracy, R^2).  Fold
 * assignment follows sklearn 1.2's StratifiedKFold._make_test_folds: classes
 * numbered by first appearance, per-fold class allocation from a round
 * robin over the sorted class numbers, each class's rows given to folds in
 * blocks, in row order. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "estimators/estimator.h"
#include "io/error.h"
#include "train/train.h"

static int same_label(const brine_label *a, const brine_label *b) {
    if (a->kind == BRINE_LABEL_STR || b->kind == BRINE_LABEL_STR)
        return a->kind == b->kind && a->len == b->len && !memcmp(a->s, b->s, a->len);
    double x = a->kind == BRINE_LABEL_FLOAT ? a->f : (double)a->i, y = b->kind == BRINE_LABEL_FLOAT ? b->f : (double)b->i;
    return x == y;
}

/* Fold of each row: KFold (contiguous, the first n % k folds one longer). */
static void kfold(size_t n, size_t k, size_t *fold) {
    size_t at = 0;
    for (size_t f = 0; f < k; f++) {
        size_t size = n / k + (f < n % k);
        for (size_t i = 0; i < size; i++) fold[at++] = f;
    }
}

static brine_status stratified(const brine_train_data *d, size_t k, size_t *fold, brine_error *err) {
    size_t n = d->n_rows, nc = 0;
    size_t *cls = malloc(n * sizeof *cls), *count = calloc(n, sizeof *count);
    const brine_label **first = malloc(n * sizeof *first);
    brine_status st = BRINE_OK;
    if (!cls || !count || !first) {
        st = bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) { /* classes by first appearance */
        const brine_label *l = &d->y[i * d->n_outputs];
        size_t c = 0;
        while (c < nc && !same_label(first[c], l)) c++;
        if (c == nc) first[nc++] = l;
        cls[i] = c;
        count[c]++;
    }
    size_t biggest = 0;
    for (size_t c = 0; c < nc; c++)
        if (count[c] > biggest) biggest = count[c];
    if (k > biggest) {
        st = bi_fail(err, BRINE_E_ARGUMENT, -1, "--cv %zu cannot be greater than the number of members in each class",
                     k);
        goto done;
    }
    /* allocation[f][c] = bincount(sorted(cls)[f::k])[c]; then class c's
     * rows go to fold 0 first, allocation[0][c] of them, then fold 1... */
    size_t *alloc = calloc(k * nc, sizeof *alloc);
    if (!alloc) {
        st = bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
        goto done;
    }
    size_t pos = 0;
    for (size_t c = 0; c < nc; c++)
        for (size_t j = 0; j < count[c]; j++, pos++) alloc[(pos % k) * nc + c]++;
    for (size_t c = 0; c < nc; c++) {
        size_t f = 0, used = 0;
        for (size_t i = 0; i < n; i++) {
            if (cls[i] != c) continue;
            while (f < k && used == alloc[f * nc + c]) f++, used = 0;
            fold[i] = f;
            used++;
        }
    }
    free(alloc);
done:
    free(cls);
    free(count);
    free(first);
    return st;
}

/* numpy's mean of a contiguous array (pairwise sum over n). */
static double mean_of(const double *v, size_t n) { return be_pairwise_sum(v, n) / (double)n; }

/* r2_score of output k over the test rows. */
static double r2(const double *yt, const double *yp, size_t n, size_t no, size_t k, double *tmp) {
    for (size_t i = 0; i < n; i++) tmp[i] = yt[i * no + k];
    double avg = mean_of(tmp, n);
    for (size_t i = 0; i < n; i++) {
        double e = yt[i * no + k] - yp[i * no + k];
        tmp[i] = e * e;
    }
    double num = be_pairwise_sum(tmp, n);
    for (size_t i = 0; i < n; i++) {
        double e = yt[i * no + k] - avg;
        tmp[i] = e * e;
    }
    double den = be_pairwise_sum(tmp, n);
    if (den == 0.0) return num == 0.0 ? 1.0 : 0.0;
    return 1.0 - num / den;
}

typedef struct fold_data {
    double *x, *w;
    brine_label *y;
    double *xt;
    const brine_label **yl;
} fold_data;

static double label_value(const brine_label *l) { return l->kind == BRINE_LABEL_FLOAT ? l->f : (double)l->i; }

/* The score of one fold's model on its test rows. */
static brine_status score_fold(const brine_model *m, const brine_train_data *d, const size_t *fold, size_t f,
                               fold_data *b, size_t n_test, double *score, brine_error *err) {
    size_t p = d->n_features, no = d->n_outputs, t = 0;
    for (size_t i = 0; i < d->n_rows; i++) {
        if (fold[i] != f) continue;
        memcpy(b->xt + t * p, d->x + i * p, p * sizeof *b->xt);
        for (size_t k = 0; k < no; k++) b->yl[t * no + k] = &d->y[i * no + k];
        t++;
    }
    brine_prediction *pr = NULL;
    brine_status st = brine_model_predict(&pr, m, BRINE_METHOD_PREDICT, b->xt, n_test, p, err);
    if (st) return st;
    if (brine_model_is_classifier(m)) {
        size_t right = 0;
        for (size_t r = 0; r < n_test; r++) {
            int all = 1;
            for (size_t k = 0; k < no; k++) {
                size_t nl;
                const brine_label *labels = brine_model_classes(m, k, &nl);
                int64_t idx = pr->indices[r * no + k];
                all &= idx >= 0 && (size_t)idx < nl && same_label(&labels[idx], b->yl[r * no + k]);
            }
            right += all;
        }
        *score = (double)right / (double)n_test;
    } else {
        double *tmp = malloc((n_test ? n_test : 1) * sizeof *tmp);
        double *yt = malloc((n_test ? n_test * no : 1) * sizeof *yt);
        if (!tmp || !yt) st = bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
        for (size_t i = 0; !st && i < n_test * no; i++) yt[i] = label_value(b->yl[i]);
        double *each = st ? NULL : malloc(no * sizeof *each);
        if (!st && !each) st = bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
        for (size_t k = 0; !st && k < no; k++) each[k] = r2(yt, pr->values, n_test, no, k, tmp);
        if (!st) *score = no == 1 ? each[0] : mean_of(each, no);
        free(each);
        free(tmp);
        free(yt);
    }
    brine_prediction_free(pr);
    return st;
}

static brine_status check_outputs(const bt_estimator *e, const brine_train_data *d, brine_error *err) {
    if (!e->classifier || d->n_outputs == 1) return BRINE_OK;
    for (size_t i = 0; i < d->n_rows * d->n_outputs; i++) {
        const brine_label *l = &d->y[i];
        if (l->kind != BRINE_LABEL_INT && l->kind != BRINE_LABEL_BOOL) goto refuse;
        if (l->i != 0 && l->i != 1) goto refuse;
    }
    return BRINE_OK;
refuse:
    return bi_fail(err, BRINE_E_ARGUMENT, -1,
                   "cross-validation of several outputs needs 0/1 labels (sklearn's accuracy does not take "
                   "multiclass-multioutput targets)");
}

brine_status brine_cross_val_score(double *scores, size_t k, const char *estimator, const brine_train_data *data,
                                   const char *const *params, size_t n_params, const brine_train_options *opts,
                                   brine_error *err) {
    const bt_estimator *e = bt_estimator_find(estimator);
    if (!scores || !data || !data->x || !data->y || !data->n_rows)
        return bi_fail(err, BRINE_E_ARGUMENT, -1, "no scores array or no training data");
    if (!e) return bi_fail(err, BRINE_E_ARGUMENT, -1, "brine cannot train '%s'", estimator ? estimator : "");
    if (k < 2 || k > data->n_rows)
        return bi_fail(err, BRINE_E_ARGUMENT, -1, "cross-validation needs 2 <= folds <= rows (%zu), not %zu",
                       data->n_rows, k);
    brine_status st = check_outputs(e, data, err);
    if (st) return st;
    size_t n = data->n_rows, p = data->n_features, no = data->n_outputs;
    size_t *fold = malloc(n * sizeof *fold);
    fold_data b = {malloc(n * p * sizeof *b.x), data->sample_weight ? malloc(n * sizeof *b.w) : NULL,
                   malloc(n * no * sizeof *b.y), malloc(n * p * sizeof *b.xt), malloc(n * no * sizeof *b.yl)};
    if (!fold || !b.x || (data->sample_weight && !b.w) || !b.y || !b.xt || !b.yl) {
        st = bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
        goto done;
    }
    if (e->classifier && no == 1) st = stratified(data, k, fold, err);
    else kfold(n, k, fold);
    for (size_t f = 0; !st && f < k; f++) {
        size_t m_rows = 0, n_test = 0;
        for (size_t i = 0; i < n; i++) {
            if (fold[i] == f) {
                n_test++;
                continue;
            }
            memcpy(b.x + m_rows * p, data->x + i * p, p * sizeof *b.x);
            memcpy(b.y + m_rows * no, data->y + i * no, no * sizeof *b.y);
            if (b.w) b.w[m_rows] = data->sample_weight[i];
            m_rows++;
        }
        brine_train_data td = {b.x, m_rows, p, b.y, no, b.w, data->feature_names};
        brine_model *m = NULL;
        st = brine_train(&m, estimator, &td, params, n_params, opts, err);
        if (!st) st = score_fold(m, data, fold, f, &b, n_test, &scores[f], err);
        brine_model_free(m);
    }
done:
    free(fold);
    free(b.x);
    free(b.w);
    free(b.y);
    free(b.xt);
    free(b.yl);
    return st;
}
