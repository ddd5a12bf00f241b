/* pipeline.c — sklearn.pipeline.Pipeline: `steps`, a list of (name,
 * estimator) tuples.  Every step is loaded as a model of its own (owned by
 * the pipeline's model, freed with it); 'passthrough' and None steps are
 * skipped.  Rows go through the intermediate steps' transform in float64
 * and then to the final step's method through brine_predict, so a final
 * tree or forest converts them to float32 as sklearn does.  The pipeline's
 * n_features_in_ and feature names are its first estimator's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "estimators/estimator.h"
#include "io/error.h"

enum { PIPE_MAX_DEPTH = 8 }; /* pipelines inside pipelines */

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
    brine_error sub;
    brine_error_clear(&sub);
    brine_status st = be_model_from_value(&p->steps[i], est, m->depth + 1, &sub);
    if (st)
        return bi_fail(err, st, -1, "%s: steps[%zu] ('%.*s'): %s", m->short_name, i, (int)name->u.s.n,
                       (const char *)name->u.s.p, sub.message);
    m->subs[m->n_subs++] = p->steps[i];
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
    if (m->depth >= PIPE_MAX_DEPTH) return be_fail(err, m, "nests more than %d pipelines", PIPE_MAX_DEPTH);
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
    if (method == BRINE_METHOD_APPLY) return BE_NO_METHOD;
    if (!last) return method == BRINE_METHOD_TRANSFORM ? p->width_out : BE_NO_METHOD;
    return be_output_columns(last, method);
}

static brine_status pipe_predict(const brine_model *m, brine_method method, const be_input *in,
                                 brine_prediction *out, brine_error *err) {
    const pipe_model *p = m->impl;
    brine_predict_options po = BRINE_PREDICT_OPTIONS_INIT;
    po.n_threads = in->n_threads;
    po.reference = in->reference;
    const double *cur = in->xd;
    size_t cols = in->n_cols;
    brine_prediction *held = NULL, *next = NULL;
    brine_status st = BRINE_OK;
    for (size_t i = 0; i < p->n && !st; i++) {
        const brine_model *s = p->steps[i];
        if (!s) continue;
        brine_method mm = i + 1 < p->n ? BRINE_METHOD_TRANSFORM : method;
        st = brine_predict(&next, s, mm, cur, BRINE_DTYPE_FLOAT64, in->n_rows, cols, &po, err);
        brine_prediction_free(held);
        held = next;
        next = NULL;
        if (!st && held->values) {
            cur = held->values;
            cols = held->n_columns;
        }
    }
    size_t cells = in->n_rows * out->n_columns;
    if (!st && out->indices) memcpy(out->indices, held->indices, cells * sizeof *out->indices);
    else if (!st) memcpy(out->values, cur, cells * sizeof *out->values);
    brine_prediction_free(held);
    return st;
}

const be_family be_pipeline_family = {"pipeline", pipe_load, pipe_predict, NULL, pipe_columns, BE_FAM_FLOAT64};
