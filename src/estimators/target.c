/* target.c — sklearn.compose.TransformedTargetRegressor: a regressor fitted
 * on a transformed target, whose predictions are transformed back.
 *
 * sklearn 1.2's predict: pred = regressor_.predict(X), as a column when it
 * is 1-D; then transformer_.inverse_transform(pred); squeezed back to 1-D
 * when the target was (_training_dim 1).  transformer_ is the fitted
 * transformer the user gave, or the FunctionTransformer sklearn built from
 * func / inverse_func.  brine runs a FunctionTransformer's inverse_func
 * when it is None (identity) or one of numpy's elementwise functions listed
 * below, written as the global the file names (numpy.exp, ...): the file
 * only names it, brine computes it with libm (numpy's own loops may differ
 * in the last bit; CONVENTIONS' 4 ulp).  Any other transformer must have an
 * inverse_transform giving numbers in brine (be_output_columns), else the
 * model is refused naming it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "estimators/estimator.h"
#include "io/error.h"

typedef double (*unary_fn)(double);

static double square(double x) { return x * x; }
static double negative(double x) { return -x; }
static double reciprocal(double x) { return 1.0 / x; }

/* numpy ufuncs an inverse_func may name, and their libm counterparts. */
static const struct {
    const char *name;
    unary_fn fn;
} ufuncs[] = {
    {"exp", exp},   {"expm1", expm1}, {"exp2", exp2},         {"log", log},       {"log1p", log1p},
    {"log2", log2}, {"log10", log10}, {"sqrt", sqrt},         {"cbrt", cbrt},     {"square", square},
    {"negative", negative},           {"reciprocal", reciprocal}, {"absolute", fabs}, {"fabs", fabs},
};

typedef struct target_model {
    brine_model *regressor;
    brine_model *transformer; /* NULL: inverse is fn (or identity) */
    unary_fn fn;              /* NULL: identity */
    int squeeze;              /* _training_dim == 1 */
    size_t width_out;         /* columns of predict */
} target_model;

static int is_none(const bv *v) { return !v || v->kind == BRINE_NONE; }

/* The module paths numpy has kept its ufuncs under. */
static int numpy_module(const char *m) {
    return !strcmp(m, "numpy") || !strcmp(m, "numpy.core._multiarray_umath") ||
           !strcmp(m, "numpy._core._multiarray_umath") || !strcmp(m, "numpy.core.umath") ||
           !strcmp(m, "numpy._core.umath");
}

static brine_status read_function(brine_model *m, const bv *f, unary_fn *out, brine_error *err) {
    *out = NULL;
    if (is_none(f)) return BRINE_OK;
    const char *name = NULL;
    const char *module = f->kind == BRINE_GLOBAL ? brine_value_global(f, &name) : NULL;
    for (size_t i = 0; module && numpy_module(module) && i < sizeof ufuncs / sizeof *ufuncs; i++) {
        if (!strcmp(name, ufuncs[i].name)) {
            *out = ufuncs[i].fn;
            return BRINE_OK;
        }
    }
    return be_fail_status(err, BRINE_E_UNSUPPORTED, m,
                          "transformer_.inverse_func is %s%s%s; brine runs None and numpy's exp, expm1, exp2, log, "
                          "log1p, log2, log10, sqrt, cbrt, square, negative, reciprocal, absolute",
                          module ? module : brine_kind_name((brine_kind)f->kind), module ? "." : "", module ? name : "");
}

/* transformer_: a FunctionTransformer brine can invert, or any model with
 * a numeric inverse_transform. */
static brine_status read_transformer(brine_model *m, target_model *t, const bv *tr, brine_error *err) {
    const char *name = NULL;
    const char *module = tr && tr->kind == BRINE_OBJECT ? brine_value_global(tr, &name) : NULL;
    if (!module) return be_fail(err, m, "transformer_ is not a fitted transformer");
    if (!strcmp(name, "FunctionTransformer")) {
        const bv *state = tr->u.obj.state;
        if (!state || state->kind != BRINE_DICT) return be_fail(err, m, "transformer_ has no state");
        const bv *kw = bv_dict_get(state, "inv_kw_args");
        if (!is_none(kw) && !(kw->kind == BRINE_DICT && kw->u.seq.n == 0))
            return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "transformer_.inv_kw_args is not supported");
        return read_function(m, bv_dict_get(state, "inverse_func"), &t->fn, err);
    }
    brine_status st = be_load_part(m, tr, "transformer_", &t->transformer, err);
    if (st) return st;
    if (be_output_columns(t->transformer, BRINE_METHOD_INVERSE_TRANSFORM) == BE_NO_METHOD ||
        be_method_gives_labels(t->transformer, BRINE_METHOD_INVERSE_TRANSFORM))
        return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "transformer_ (a %s) has no inverse_transform brine runs",
                              t->transformer->short_name);
    return BRINE_OK;
}

static brine_status target_load(brine_model *m, const bv *state, brine_error *err) {
    target_model *t = be_alloc(m, 1, sizeof *t);
    if (!t || !(m->subs = be_alloc(m, 2, sizeof *m->subs))) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    m->impl = t;
    const bv *reg = bv_dict_get(state, "regressor_");
    if (is_none(reg)) return be_fail(err, m, "regressor_ is missing");
    brine_status st = be_load_part(m, reg, "regressor_", &t->regressor, err);
    if (!st) st = read_transformer(m, t, bv_dict_get(state, "transformer_"), err);
    if (st) return st;
    const brine_model *r = t->regressor;
    if (r->cls->classifier || be_output_columns(r, BRINE_METHOD_PREDICT) == BE_NO_METHOD)
        return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "regressor_ (a %s) is not a regressor", r->short_name);
    int64_t dim = 1;
    const bv *td = bv_dict_get(state, "_training_dim");
    if (td && !be_get_int(td, &dim)) return be_fail(err, m, "_training_dim is not an integer");
    t->squeeze = dim == 1;
    size_t cols = be_output_columns(r, BRINE_METHOD_PREDICT);
    if (t->transformer) {
        if (t->transformer->n_features_in != (int64_t)cols)
            return be_fail(err, m, "transformer_ takes %lld columns but regressor_ predicts %zu",
                           (long long)t->transformer->n_features_in, cols);
        cols = be_output_columns(t->transformer, BRINE_METHOD_INVERSE_TRANSFORM);
    }
    if (t->squeeze && cols != 1) return be_fail(err, m, "a 1-D target gives %zu columns", cols);
    t->width_out = cols;
    m->n_outputs = cols;
    m->takes_text = brine_model_takes_text(r); /* a pipeline with a column transformer, say */
    m->n_features_in = r->n_features_in;
    m->feature_names = r->feature_names;
    m->n_feature_names = r->n_feature_names;
    return be_keep_params(m, state, err);
}

static size_t target_columns(const brine_model *m, brine_method method) {
    const target_model *t = m->impl;
    return method == BRINE_METHOD_PREDICT ? t->width_out : BE_NO_METHOD;
}

static brine_status target_predict(const brine_model *m, brine_method method, const be_input *in,
                                   brine_prediction *out, brine_error *err) {
    (void)method;
    const target_model *t = m->impl;
    brine_prediction *pred = NULL, *back = NULL;
    brine_status st = be_predict_input(&pred, t->regressor, BRINE_METHOD_PREDICT, in, err);
    if (st) return st;
    size_t cells = pred->n_rows * pred->n_columns;
    if (t->transformer) {
        be_input sub = {.xd = pred->values, .n_rows = pred->n_rows, .n_cols = pred->n_columns,
                        .n_threads = in->n_threads, .reference = in->reference};
        st = be_predict_input(&back, t->transformer, BRINE_METHOD_INVERSE_TRANSFORM, &sub, err);
        if (!st) memcpy(out->values, back->values, back->n_rows * back->n_columns * sizeof *out->values);
    } else {
        for (size_t i = 0; i < cells; i++) out->values[i] = t->fn ? t->fn(pred->values[i]) : pred->values[i];
    }
    brine_prediction_free(pred);
    brine_prediction_free(back);
    return st;
}

const be_family be_target_family = {"transformed_target", target_load, target_predict, NULL, target_columns,
                                    BE_FAM_FLOAT64};
