/* pipeline.c — sklearn.pipeline.Pipeline: `steps`, a list of (name,
 * estimator) tuples.  Every step is loaded as a model of its own (owned by
 * the pipeline's model, freed with it); 'passthrough' and None steps are
 * skipped.  Rows go through the intermediate steps' transform in float64
 * and then to the final step's method through brine_predict, so a final
 * tree or forest converts them to float32 as sklearn does.  The pipeline's
 * n_features_in_ and feature names are its first estimator's.  Text cells
 * go to the first step (be_predict_input); a step whose transform gives
 * labels (an imputer of str columns) hands them on as text cells. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "estimators/estimator.h"
#include "io/error.h"
#include "pickle/text.h"


typedef struct pipe_model {
    brine_model **steps; /* NULL for passthrough */
    size_t n;
    size_t width_out;    /* columns after the last transforming step */
} pipe_model;

static int is_passthrough(const bv *v) { return !v || v->kind == BRINE_NONE || bv_is_str(v, "passthrough"); }

static brine_status load_step(brine_model *m, pipe_model *p, size_t i, const bv *item, size_t *width,
                              brine_error *err) {
    if (!item || item->kind != BRINE_TUPLE || item->u.seq.n < 2 || item->u.seq.items[0]->kind != BRINE_STR)
        return be_fail(err, m, "steps[%zu] is not a (name, estimator) tuple", i);
    const bv *est = item->u.seq.items[1];
    if (is_passthrough(est)) return BRINE_OK;
    const bv *name = item->u.seq.items[0];
    char field[96];
    snprintf(field, sizeof field, "steps[%zu] ('%.*s')", i, (int)(name->u.s.n < 64 ? name->u.s.n : 64),
             (const char *)name->u.s.p);
    brine_status st = be_load_part(m, est, field, &p->steps[i], err);
    if (st) return st;
    brine_model *s = p->steps[i];
    if (*width && (size_t)s->n_features_in != *width)
        return be_fail(err, m, "steps[%zu] ('%.*s') takes %lld features but the step before gives %zu", i,
                       (int)name->u.s.n, (const char *)name->u.s.p, (long long)s->n_features_in, *width);
    if (!*width) {
        m->n_features_in = s->n_features_in;
        m->feature_names = s->feature_names;
        m->n_feature_names = s->n_feature_names;
    }
    size_t cols = be_output_columns(s, BRINE_METHOD_TRANSFORM);
    if (i + 1 < p->n && cols == BE_NO_METHOD)
        return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "steps[%zu] ('%.*s', a %s) has no transform", i,
                              (int)name->u.s.n, (const char *)name->u.s.p, s->short_name);
    *width = cols == BE_NO_METHOD ? 0 : cols;
    return BRINE_OK;
}

static brine_status pipe_load(brine_model *m, const bv *state, brine_error *err) {
    const bv *steps = bv_dict_get(state, "steps");
    if (!steps || (steps->kind != BRINE_LIST && steps->kind != BRINE_TUPLE) || !steps->u.seq.n)
        return be_fail(err, m, "steps is not a non-empty list");
    pipe_model *p = be_alloc(m, 1, sizeof *p);
    size_t n = steps->u.seq.n;
    if (!p || !(p->steps = be_alloc(m, n, sizeof *p->steps)) || !(m->subs = be_alloc(m, n, sizeof *m->subs)))
        return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    p->n = n;
    m->n_features_in = -1;
    size_t width = 0;
    for (size_t i = 0; i < n; i++) {
        size_t before = width;
        brine_status st = load_step(m, p, i, steps->u.seq.items[i], &width, err);
        if (st) return st;
        if (!p->steps[i]) width = before;
    }
    if (m->n_features_in < 1) return be_fail(err, m, "has no estimator among its steps");
    p->width_out = width;
    const brine_model *first = NULL, *final = NULL;
    for (size_t i = 0; i < n; i++) {
        if (p->steps[i] && !first) first = p->steps[i];
        if (p->steps[i]) final = p->steps[i];
    }
    m->takes_text = brine_model_takes_text(first);
    m->allow_nan = first->allow_nan; /* NaN goes as far as the first step lets it (an imputer) */
    m->allow_nan = first->allow_nan; /* NaN goes as far as the first step lets it (an imputer) */
    m->text_out = final->text_out && be_output_columns(final, BRINE_METHOD_TRANSFORM) != BE_NO_METHOD;
    const brine_model *last = p->steps[n - 1];
    be_class *cls = be_alloc(m, 1, sizeof *cls);
    if (!cls) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    *cls = *m->cls;
    cls->classifier = last ? last->cls->classifier : 0;
    m->cls = cls;
    m->classes = last ? last->classes : NULL;
    m->n_outputs = last ? last->n_outputs : 1;
    m->n_estimators = 1;
    m->impl = p;
    return be_keep_params(m, state, err);
}

static size_t pipe_columns(const brine_model *m, brine_method method) {
    const pipe_model *p = m->impl;
    const brine_model *last = p->steps[p->n - 1];
    if (method == BRINE_METHOD_APPLY || method == BRINE_METHOD_INVERSE_TRANSFORM) return BE_NO_METHOD;
    if (!last) return method == BRINE_METHOD_TRANSFORM ? p->width_out : BE_NO_METHOD;
    return be_output_columns(last, method);
}

/* What a step's labels give the next step: text cells (numbers in
 * repr, None and NaN missing) and those cells as numbers.  *text, *xd
 * and *buf are the caller's to free. */
static brine_status labels_input(const brine_prediction *p, const char ***text, double **xd, char **buf,
                                 brine_error *err) {
    size_t cells = p->n_rows * p->n_columns;
    *text = malloc((cells + 1) * sizeof **text);
    *xd = malloc((cells + 1) * sizeof **xd);
    *buf = malloc(cells * 32 + 1);
    if (!*text || !*xd || !*buf) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory for %zu rows", p->n_rows);
    for (size_t i = 0; i < cells; i++) {
        const brine_label *l = &p->labels[i];
        char *b = *buf + 32 * i;
        double v = NAN;
        switch (l->kind) {
        case BRINE_LABEL_STR: (*text)[i] = l->s; break;
        case BRINE_LABEL_NONE: (*text)[i] = NULL; break;
        case BRINE_LABEL_FLOAT: v = l->f; break;
        default: v = (double)l->i; break;
        }
        if (l->kind == BRINE_LABEL_FLOAT || l->kind == BRINE_LABEL_INT || l->kind == BRINE_LABEL_BOOL) {
            bp_float_repr(v, b, 32);
            (*text)[i] = isnan(v) ? NULL : b;
        }
        if (l->kind == BRINE_LABEL_STR && !be_cell_number(l->s, &v)) v = NAN;
        (*xd)[i] = v;
    }
    return BRINE_OK;
}

/* Steps *i, ... when step *i's transform gives CSR rows (a text
 * vectorizer): the rows stay sparse through the steps that take them (a
 * TfidfTransformer, a linear model: be_predict_csr) and are densified only
 * for a step that takes dense rows, or when no step follows.  *out is the
 * result of the last step run, whose index goes to *i. */
static brine_status pipe_sparse(const pipe_model *p, size_t *i, brine_method method, const be_input *in,
                                brine_prediction **out, brine_error *err) {
    be_csr x;
    brine_status st = be_transform_csr(p->steps[*i], in, &x, err);
    size_t j = *i + 1;
    while (!st && j < p->n && (!p->steps[j] || (j + 1 < p->n && be_takes_csr(p->steps[j])))) {
        if (p->steps[j]) st = be_csr_transform(p->steps[j], &x, err);
        j++;
    }
    if (!st && j < p->n) {
        st = be_predict_csr(out, p->steps[j], j + 1 < p->n ? BRINE_METHOD_TRANSFORM : method, &x, in->n_threads, err);
        *i = j;
    } else if (!st) {
        size_t cells;
        brine_prediction *d = __builtin_mul_overflow(x.rows, x.cols, &cells) ? NULL : calloc(1, sizeof *d);
        if (d) d->values = calloc(cells + 1, sizeof *d->values);
        if (!d || !d->values) {
            free(d);
            st = bi_fail(err, BRINE_E_NOMEM, -1, "out of memory for %zu rows", x.rows);
        } else {
            d->method = BRINE_METHOD_TRANSFORM;
            d->n_rows = x.rows;
            d->n_columns = x.cols;
            be_csr_dense(&x, d->values);
            *out = d;
            *i = p->n - 1;
        }
    }
    be_csr_free(&x);
    return st;
}

static brine_status pipe_predict(const brine_model *m, brine_method method, const be_input *in,
                                 brine_prediction *out, brine_error *err) {
    const pipe_model *p = m->impl;
    be_input cur = *in;
    cur.x = NULL;
    brine_prediction *held = NULL, *next = NULL;
    /* Text handed on between steps lives to the end: a later step's labels
     * may point into an earlier hand-off. */
    void **keep = calloc(3 * p->n + 1, sizeof *keep);
    size_t *keep_size = calloc(3 * p->n + 1, sizeof *keep_size);
    size_t n_keep = 0;
    const char **text = NULL;
    double *xd = NULL;
    char *buf = NULL;
    brine_status st = keep && keep_size ? BRINE_OK : bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    for (size_t i = 0; i < p->n && !st; i++) {
        const brine_model *s = p->steps[i];
        if (!s) continue;
        brine_method mm = i + 1 < p->n ? BRINE_METHOD_TRANSFORM : method;
        if (be_gives_csr(s) && i + 1 < p->n) st = pipe_sparse(p, &i, method, &cur, &next, err); /* sets i */
        else st = be_predict_input(&next, s, mm, &cur, err);
        if (st) break;
        brine_prediction_free(held);
        held = next;
        next = NULL;
        text = NULL, xd = NULL, buf = NULL;
        cur.n_cols = held->n_columns;
        cur.col_names = NULL;
        cur.text = NULL;
        if (held->values) {
            cur.xd = held->values;
        } else if (held->labels && i + 1 < p->n) {
            st = labels_input(held, &text, &xd, &buf, err);
            keep_size[n_keep + 2] = 32 * held->n_rows * held->n_columns + 1;
            keep[n_keep++] = (void *)text, keep[n_keep++] = xd, keep[n_keep++] = buf;
            cur.xd = xd;
            cur.text = text;
        }
    }
    size_t cells = in->n_rows * out->n_columns;
    if (!st && !held) {
        memcpy(out->values, in->xd, cells * sizeof *out->values); /* only passthrough steps */
    } else if (!st) {
        if (out->indices && held->indices) memcpy(out->indices, held->indices, cells * sizeof *out->indices);
        else if (out->labels && held->labels) memcpy(out->labels, held->labels, cells * sizeof *out->labels);
        else if (out->values && held->values) memcpy(out->values, held->values, cells * sizeof *out->values);
        else st = be_fail_status(err, BRINE_E_UNSUPPORTED, m, "its last step gives %s where numbers were expected",
                                 held->labels ? "text" : "indices");
        /* labels that point into a hand-off buffer (numbers written as text) become numbers again */
        for (size_t i = 0; !st && out->labels && i < cells; i++) {
            brine_label *l = &out->labels[i];
            for (size_t k = 2; l->kind == BRINE_LABEL_STR && k < n_keep; k += 3) {
                const char *b = keep[k];
                if (b && l->s >= b && l->s < b + keep_size[k]) {
                    double v = NAN;
                    be_cell_number(l->s, &v);
                    *l = (brine_label){BRINE_LABEL_FLOAT, 0, v, NULL, 0};
                }
            }
        }
    }
    brine_prediction_free(held);
    for (size_t k = 0; k < n_keep; k++) free(keep[k]);
    free(keep);
    free(keep_size);
    return st;
}

const be_family be_pipeline_family = {"pipeline", pipe_load, pipe_predict, NULL, pipe_columns, BE_FAM_FLOAT64};
