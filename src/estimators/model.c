/* model.c — the public brine_model API and what every family shares:
 * reading numbers and arrays out of the value graph whatever their width and
 * byte order, class tables, feature names, the _sklearn_version, and the
 * input checks sklearn makes before predicting. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "estimators/estimator.h"
#include "io/error.h"
#include "io/threads.h"
#include "pickle/text.h"

/* ------------------------------------------------------------- errors */

static brine_status vfail(brine_error *err, brine_status st, const brine_model *m, const char *fmt, va_list ap) {
    char msg[BRINE_ERROR_MESSAGE_SIZE];
    vsnprintf(msg, sizeof msg, fmt, ap);
    /* "DecisionTreeClassifier is not fitted", "DecisionTreeClassifier: tree_..." */
    const char *sep = strncmp(msg, "is ", 3) ? ": " : " ";
    return bi_fail(err, st, -1, "%s%s%s", m && m->short_name ? m->short_name : "model", sep, msg);
}

brine_status be_fail(brine_error *err, const brine_model *m, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    brine_status st = vfail(err, BRINE_E_FORMAT, m, fmt, ap);
    va_end(ap);
    return st;
}

brine_status be_fail_status(brine_error *err, brine_status st, const brine_model *m, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    st = vfail(err, st, m, fmt, ap);
    va_end(ap);
    return st;
}

void *be_alloc(brine_model *m, size_t n, size_t size) {
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) return NULL;
    return bp_arena_alloc(&m->arena, total ? total : 1);
}

static char *be_strdup(brine_model *m, const char *s, size_t n) { return bp_arena_strdup(&m->arena, s, n); }

/* ------------------------------------------------- numbers and arrays */

const bv_array *be_array(const bv *v) {
    if (!v || v->kind != BRINE_NDARRAY || (v->flags & BV_F_PENDING) || !v->u.arr) return NULL;
    const bv_array *a = v->u.arr;
    return a->dtype && a->dtype->kind == BRINE_DTYPE ? a : NULL;
}

int be_host_little(void) {
    const uint16_t one = 1;
    uint8_t b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* The n-byte unsigned integer at p, in the array's byte order. */
static uint64_t load_uint(const uint8_t *p, size_t n, char order) {
    int big = order == '>' || (order == '=' && !be_host_little());
    uint64_t v = 0;
    for (size_t k = 0; k < n; k++) v |= (uint64_t)p[big ? n - 1 - k : k] << (8 * k);
    return v;
}

/* Item bytes as an int64 (kinds i, u, b); 0 when it does not fit. */
int be_item_int(const bv_dtype *dt, const uint8_t *p, int64_t *out) {
    size_t n = dt->itemsize;
    if (n != 1 && n != 2 && n != 4 && n != 8) return 0;
    uint64_t u = load_uint(p, n, dt->byteorder);
    if (dt->kind == 'b' && n == 1) {
        *out = u != 0;
        return 1;
    }
    if (dt->kind == 'u') {
        if (u > INT64_MAX) return 0;
        *out = (int64_t)u;
        return 1;
    }
    if (dt->kind != 'i') return 0;
    if (n < 8 && (u >> (8 * n - 1)) & 1) u |= ~(uint64_t)0 << (8 * n); /* sign-extend */
    memcpy(out, &u, sizeof *out);
    return 1;
}

/* Item bytes as a double (kinds f with 4 or 8 bytes; integers when exact
 * is not required by the caller). */
int be_item_double(const bv_dtype *dt, const uint8_t *p, double *out) {
    if (dt->kind == 'f' && dt->itemsize == 8) {
        uint64_t u = load_uint(p, 8, dt->byteorder);
        memcpy(out, &u, sizeof *out);
        return 1;
    }
    if (dt->kind == 'f' && dt->itemsize == 4) {
        uint32_t u = (uint32_t)load_uint(p, 4, dt->byteorder);
        float f;
        memcpy(&f, &u, sizeof f);
        *out = f;
        return 1;
    }
    int64_t i;
    if (!be_item_int(dt, p, &i)) return 0;
    *out = (double)i;
    return 1;
}

int be_dtype_is(const bv *dt, char kind, size_t itemsize) {
    return dt && dt->kind == BRINE_DTYPE && !dt->u.dt->nfields && !dt->u.dt->subarray_base &&
           dt->u.dt->kind == kind && dt->u.dt->itemsize == itemsize;
}

int be_array_int(const bv_array *a, size_t i, int64_t *out) {
    const bv_dtype *dt = a->dtype->u.dt;
    if (dt->nfields || !a->data || (uint64_t)i >= (uint64_t)a->count) return 0;
    return be_item_int(dt, a->data + i * dt->itemsize, out);
}

int be_array_double(const bv_array *a, size_t i, double *out) {
    const bv_dtype *dt = a->dtype->u.dt;
    if (dt->nfields || !a->data || (uint64_t)i >= (uint64_t)a->count) return 0;
    return be_item_double(dt, a->data + i * dt->itemsize, out);
}

int be_get_int(const bv *v, int64_t *out) {
    if (!v) return 0;
    if (bv_get_i64(v, out)) return 1;
    if (v->kind != BRINE_SCALAR || !v->u.arr || !v->u.arr->data) return 0;
    const bv_dtype *dt = v->u.arr->dtype->u.dt;
    return (dt->kind == 'i' || dt->kind == 'u' || dt->kind == 'b') && v->u.arr->nbytes >= dt->itemsize &&
           be_item_int(dt, v->u.arr->data, out);
}

/* A list, tuple or 1-D integer array of ints into out[n]; 0 on mismatch. */
static int int_sequence(const bv *v, size_t n, int64_t *out) {
    const bv_array *a = be_array(v);
    if (a) {
        if (a->ndim != 1 || (uint64_t)a->count != n) return 0;
        for (size_t k = 0; k < n; k++)
            if (!be_array_int(a, k, &out[k])) return 0;
        return 1;
    }
    if (!v || (v->kind != BRINE_LIST && v->kind != BRINE_TUPLE) || v->u.seq.n != n) return 0;
    for (size_t k = 0; k < n; k++)
        if (!be_get_int(v->u.seq.items[k], &out[k])) return 0;
    return 1;
}

/* ------------------------------------------------------------ version */

/* "1.2.1", "0.24.2", "1.4.dev0", "1.4.0rc1": major, minor, patch and
 * whether a pre-release suffix (dev, a, b, rc) follows them. */
static void parse_version(brine_model *m, const char *s) {
    m->version[0] = m->version[1] = m->version[2] = -1;
    int parts[3] = {0, 0, 0}, k = 0;
    const char *p = s;
    while (k < 3 && *p >= '0' && *p <= '9') {
        long v = 0;
        while (*p >= '0' && *p <= '9' && v < 100000) v = v * 10 + (*p++ - '0');
        parts[k++] = (int)v;
        if (*p != '.') break;
        p++;
        if (!(*p >= '0' && *p <= '9')) break;
    }
    if (k < 2) return;
    memcpy(m->version, parts, sizeof parts);
    /* What follows the numbers: nothing or ".postN" for a release, "dev0",
     * "rc1", "a2" ... for a pre-release. */
    m->version_pre = *p && strncmp(p, "post", 4) != 0 && strncmp(p, ".post", 5) != 0 && *p != '+';
}

int be_version_at_least(const brine_model *m, int major, int minor, int patch) {
    if (m->version[0] < 0) return -1;
    const int want[3] = {major, minor, patch};
    for (int k = 0; k < 3; k++)
        if (m->version[k] != want[k]) return m->version[k] > want[k];
    return m->version_pre ? 0 : 1; /* 1.4.1rc1 comes before 1.4.1 */
}

/* ------------------------------------------------------ common fields */

static int is_none(const bv *v) { return !v || v->kind == BRINE_NONE; }

brine_status be_read_n_features(brine_model *m, const bv *state, int64_t *out, brine_error *err) {
    const char *key = "n_features_in_";
    const bv *v = bv_dict_get(state, key);
    if (is_none(v)) v = bv_dict_get(state, key = "n_features_");
    *out = -1;
    if (is_none(v)) return BRINE_OK;
    if (!be_get_int(v, out) || *out < 1 || *out > INT32_MAX)
        return be_fail(err, m, "%s is not a positive int", key);
    return BRINE_OK;
}

brine_status be_read_n_outputs(brine_model *m, const bv *state, size_t *out, brine_error *err) {
    const bv *v = bv_dict_get(state, "n_outputs_");
    int64_t n = 1;
    if (!is_none(v) && (!be_get_int(v, &n) || n < 1 || n > 1000000))
        return be_fail(err, m, "n_outputs_ is not a positive int");
    *out = (size_t)n;
    return BRINE_OK;
}

/* UTF-32 code points (numpy 'U' items) into arena UTF-8; trailing NULs are
 * padding, as numpy strips them. */
static char *utf32_text(brine_model *m, const uint8_t *p, size_t units, char order, size_t *len) {
    while (units && load_uint(p + 4 * (units - 1), 4, order) == 0) units--;
    char *s = be_alloc(m, units * 4 + 1, 1);
    if (!s) return NULL;
    size_t n = 0;
    for (size_t k = 0; k < units; k++) {
        uint32_t cp = (uint32_t)load_uint(p + 4 * k, 4, order);
        if (cp > 0x10ffff) return NULL;
        n += bp_utf8_put((uint8_t *)s + n, cp);
    }
    s[n] = '\0';
    *len = n;
    return s;
}

static brine_status str_label(brine_model *m, brine_label *l, const void *p, size_t n, brine_error *err) {
    l->kind = BRINE_LABEL_STR;
    l->s = be_strdup(m, p, n);
    l->len = n;
    return l->s ? BRINE_OK : bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
}

/* One element of an object array of labels. */
static brine_status object_label(brine_model *m, brine_label *l, const bv *v, const char *field, size_t i,
                                 brine_error *err) {
    switch (v->kind) {
    case BRINE_STR:
        return str_label(m, l, v->u.s.p, v->u.s.n, err);
    case BRINE_BOOL:
        l->kind = BRINE_LABEL_BOOL;
        l->i = v->u.i;
        return BRINE_OK;
    case BRINE_INT:
        if (v->flags & BV_F_BIGINT) break;
        l->kind = BRINE_LABEL_INT;
        l->i = v->u.i;
        return BRINE_OK;
    case BRINE_FLOAT:
        l->kind = BRINE_LABEL_FLOAT;
        l->f = v->u.f;
        return BRINE_OK;
    case BRINE_SCALAR: {
        const bv_dtype *dt = v->u.arr->dtype->u.dt;
        if (dt->kind == 'f' && be_item_double(dt, v->u.arr->data, &l->f)) {
            l->kind = BRINE_LABEL_FLOAT;
            return BRINE_OK;
        }
        if ((dt->kind == 'i' || dt->kind == 'u' || dt->kind == 'b') && be_item_int(dt, v->u.arr->data, &l->i)) {
            l->kind = dt->kind == 'b' ? BRINE_LABEL_BOOL : BRINE_LABEL_INT;
            return BRINE_OK;
        }
        break;
    }
    default:
        break;
    }
    return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "%s[%zu] is a %s; brine supports int, float, bool and str labels",
                          field, i, brine_kind_name((brine_kind)v->kind));
}

/* classes_ (or classes_[k]) as a label table. */
brine_status be_read_labels(brine_model *m, const bv *v, const char *field, be_classes *out, brine_error *err) {
    const bv_array *a = be_array(v);
    if (!a || a->ndim != 1) return be_fail(err, m, "%s is not a 1-D array", field);
    const bv_dtype *dt = a->dtype->u.dt;
    size_t n = (size_t)a->count;
    out->n = n;
    out->dtype_kind = dt->kind;
    out->dtype_itemsize = dt->itemsize;
    out->labels = be_alloc(m, n ? n : 1, sizeof *out->labels);
    if (!out->labels) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    if (dt->nfields || dt->subarray_base) return be_fail(err, m, "%s has a structured dtype", field);
    for (size_t i = 0; i < n; i++) {
        brine_label *l = &out->labels[i];
        const uint8_t *item = a->data ? a->data + i * dt->itemsize : NULL;
        brine_status st = BRINE_OK;
        if (dt->kind == 'O') {
            if (!a->objects || a->objects->u.seq.n != n) return be_fail(err, m, "%s has no elements", field);
            st = object_label(m, l, a->objects->u.seq.items[i], field, i, err);
        } else if (dt->kind == 'U') {
            l->kind = BRINE_LABEL_STR;
            l->s = utf32_text(m, item, dt->itemsize / 4, dt->byteorder, &l->len);
            if (!l->s) return be_fail(err, m, "%s[%zu] is not valid text", field, i);
        } else if (dt->kind == 'S') {
            size_t len = dt->itemsize;
            while (len && item[len - 1] == 0) len--;
            st = str_label(m, l, item, len, err);
        } else if (dt->kind == 'f' && be_item_double(dt, item, &l->f)) {
            l->kind = BRINE_LABEL_FLOAT;
        } else if ((dt->kind == 'i' || dt->kind == 'u' || dt->kind == 'b') && be_item_int(dt, item, &l->i)) {
            l->kind = dt->kind == 'b' ? BRINE_LABEL_BOOL : BRINE_LABEL_INT;
        } else {
            return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "%s has dtype kind '%c' (%zu bytes), which brine cannot read",
                                  field, dt->kind, dt->itemsize);
        }
        if (st) return st;
    }
    return BRINE_OK;
}

/* n_classes_: an int (single output) or a sequence of ints. */
static brine_status read_n_classes(brine_model *m, const bv *state, size_t *n_classes, brine_error *err) {
    const bv *v = bv_dict_get(state, "n_classes_");
    int64_t *tmp = be_alloc(m, m->n_outputs, sizeof *tmp);
    if (!tmp) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    int ok = m->n_outputs == 1 && be_get_int(v, &tmp[0]);
    if (!ok) ok = int_sequence(v, m->n_outputs, tmp);
    if (!ok) return be_fail(err, m, "n_classes_ is not %zu int(s)", m->n_outputs);
    for (size_t k = 0; k < m->n_outputs; k++) {
        if (tmp[k] < 1 || tmp[k] > INT32_MAX) return be_fail(err, m, "n_classes_[%zu] is %lld", k, (long long)tmp[k]);
        n_classes[k] = (size_t)tmp[k];
    }
    return BRINE_OK;
}

brine_status be_read_classes(brine_model *m, const bv *state, size_t **n_classes, brine_error *err) {
    const bv *v = bv_dict_get(state, "classes_");
    if (is_none(v)) return be_fail(err, m, "classes_ is missing");
    m->classes = be_alloc(m, m->n_outputs, sizeof *m->classes);
    *n_classes = be_alloc(m, m->n_outputs, sizeof **n_classes);
    if (!m->classes || !*n_classes) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    brine_status st = read_n_classes(m, state, *n_classes, err);
    if (st) return st;
    int listed = v->kind == BRINE_LIST || v->kind == BRINE_TUPLE;
    if (m->n_outputs > 1 && (!listed || v->u.seq.n != m->n_outputs))
        return be_fail(err, m, "classes_ is not a list of %zu arrays", m->n_outputs);
    if (m->n_outputs == 1 && listed && v->u.seq.n != 1) return be_fail(err, m, "classes_ is not one array");
    for (size_t k = 0; k < m->n_outputs; k++) {
        char field[32];
        snprintf(field, sizeof field, listed ? "classes_[%zu]" : "classes_", k);
        st = be_read_labels(m, listed ? v->u.seq.items[k] : v, field, &m->classes[k], err);
        if (st) return st;
        if (m->classes[k].n != (*n_classes)[k])
            return be_fail(err, m, "%s has %zu labels but n_classes_ says %zu", field, m->classes[k].n, (*n_classes)[k]);
    }
    return BRINE_OK;
}

brine_status be_read_feature_names(brine_model *m, const bv *state, brine_error *err) {
    const bv *v = bv_dict_get(state, "feature_names_in_");
    if (is_none(v)) return BRINE_OK;
    const bv_array *a = be_array(v);
    if (!a || a->ndim != 1 || a->dtype->u.dt->kind != 'O' || !a->objects || a->objects->u.seq.n != (size_t)a->count)
        return be_fail(err, m, "feature_names_in_ is not a 1-D object array");
    size_t n = (size_t)a->count;
    if (m->n_features_in >= 0 && (int64_t)n != m->n_features_in)
        return be_fail(err, m, "feature_names_in_ has %zu names but n_features_in_ is %lld", n, (long long)m->n_features_in);
    m->feature_names = be_alloc(m, n ? n : 1, sizeof *m->feature_names);
    if (!m->feature_names) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const bv *s = a->objects->u.seq.items[i];
        if (s->kind != BRINE_STR) return be_fail(err, m, "feature_names_in_[%zu] is not a str", i);
        m->feature_names[i] = be_strdup(m, (const char *)s->u.s.p, s->u.s.n);
        if (!m->feature_names[i]) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    }
    m->n_feature_names = n;
    return BRINE_OK;
}

/* --------------------------------------------------- kept for saving */

/* sklearn's naming: parameters are plain names; fitted attributes end in
 * '_', private helpers start with it.  A forest's template and its
 * estimator_params are rebuilt by the writer, not parameters. */
static int is_param_key(const bv *k) {
    if (!k || k->kind != BRINE_STR || !k->u.s.n) return 0;
    const char *p = (const char *)k->u.s.p;
    size_t n = k->u.s.n;
    if (p[0] == '_' || p[n - 1] == '_') return 0;
    return !bv_is_str(k, "estimator") && !bv_is_str(k, "base_estimator") && !bv_is_str(k, "estimator_params");
}

/* Appends name = copy of value; out->items has room. */
static brine_status add_copy(brine_model *m, be_copier *cp, be_params *out, const bv *key, const bv *value,
                             brine_error *err) {
    be_param *p = &out->items[out->n];
    bv *copy;
    brine_status st = be_copy(cp, value, &copy, err);
    if (st) return st;
    p->name = be_strdup(m, (const char *)key->u.s.p, key->u.s.n);
    p->value = copy;
    if (!p->name) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    out->n++;
    return BRINE_OK;
}

brine_status be_read_params(brine_model *m, be_copier *cp, const bv *state, be_params *out, brine_error *err) {
    size_t n = state->u.seq.n;
    out->n = 0;
    out->items = be_alloc(m, n ? n : 1, sizeof *out->items);
    if (!out->items) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const bv *k = state->u.seq.items[2 * i];
        if (!is_param_key(k)) continue;
        brine_status st = add_copy(m, cp, out, k, state->u.seq.items[2 * i + 1], err);
        if (st) return st;
    }
    return BRINE_OK;
}

brine_status be_read_extras(brine_model *m, be_copier *cp, const bv *state, const char *const *keys,
                            be_params *out, brine_error *err) {
    size_t n = 0;
    while (keys[n]) n++;
    out->n = 0;
    out->items = be_alloc(m, n ? n : 1, sizeof *out->items);
    if (!out->items) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    for (size_t i = 0; i < state->u.seq.n; i++) {
        const bv *k = state->u.seq.items[2 * i];
        int wanted = 0;
        for (size_t j = 0; j < n && !wanted; j++) wanted = bv_is_str(k, keys[j]);
        if (!wanted || out->n == n) continue;
        brine_status st = add_copy(m, cp, out, k, state->u.seq.items[2 * i + 1], err);
        if (st) return st;
    }
    return BRINE_OK;
}

const bv *be_param_get(const be_params *p, const char *name) {
    for (size_t i = 0; p && i < p->n; i++)
        if (!strcmp(p->items[i].name, name)) return p->items[i].value;
    return NULL;
}

int64_t be_read_max_features(const bv *state) {
    int64_t v;
    return be_get_int(bv_dict_get(state, "max_features_"), &v) && v >= 1 ? v : -1;
}

/* --------------------------------------------------------- the model */

/* sklearn's check_is_fitted: an estimator is fitted when it has an
 * attribute ending in "_" (not a dunder).  An unfitted one is inert:
 * sklearn refuses to use it, so it is no model (scan treats it so too). */
static int looks_fitted(const bv *state) {
    for (size_t i = 0; state && state->kind == BRINE_DICT && i < state->u.seq.n; i++) {
        const bv *k = state->u.seq.items[2 * i];
        if (k->kind != BRINE_STR || k->u.s.n < 2) continue;
        const char *t = (const char *)k->u.s.p;
        if (t[k->u.s.n - 1] == '_' && !(t[0] == '_' && t[1] == '_')) return 1;
    }
    return 0;
}

brine_status be_load_part(brine_model *m, const bv *v, const char *field, brine_model **out, brine_error *err) {
    brine_error sub;
    brine_error_clear(&sub);
    brine_status st = be_model_from_value(out, v, m->depth + 1, m->borrow, m->load_threads, &sub);
    if (st) return bi_fail(err, st, -1, "%s: %s: %s", m->short_name, field, sub.message);
    m->subs[m->n_subs++] = *out;
    return BRINE_OK;
}

int be_value_looks_fitted(const bv *root) {
    /* A loop, not recursion: pipelines may nest as deep as a file likes. */
    while (root && root->kind == BRINE_OBJECT) {
        const char *name = NULL;
        const char *module = brine_value_global(root, &name);
        const be_class *cls = be_class_find(module, name);
        const bv *state = root->u.obj.state;
        if (cls && cls->family == &be_compose_family && !strcmp(name, "FeatureUnion")) {
            /* a FeatureUnion by its first transformer that is an estimator */
            const bv *list = bv_dict_get(state, "transformer_list"), *first = NULL;
            for (size_t i = 0; list && list->kind == BRINE_LIST && i < list->u.seq.n && !first; i++) {
                const bv *t = list->u.seq.items[i];
                if ((t->kind == BRINE_TUPLE || t->kind == BRINE_LIST) && t->u.seq.n == 2 &&
                    t->u.seq.items[1]->kind == BRINE_OBJECT)
                    first = t->u.seq.items[1];
            }
            root = first;
            continue;
        }
        /* Old trees and forests set tree_ / estimators_ to None in __init__. */
        const char *key = cls && cls->family == &be_tree_family     ? "tree_"
                          : cls && cls->family == &be_forest_family ? "estimators_"
                                                                     : NULL;
        if (key) return !is_none(bv_dict_get(state, key));
        if (!cls || cls->family != &be_pipeline_family) return looks_fitted(state);
        /* Then its last step that is an estimator ('passthrough' and None are not). */
        const bv *steps = bv_dict_get(state, "steps"), *last = NULL;
        for (size_t i = steps && steps->kind == BRINE_LIST ? steps->u.seq.n : 0; i > 0 && !last; i--) {
            const bv *step = steps->u.seq.items[i - 1];
            if (step->kind != BRINE_TUPLE || step->u.seq.n != 2) return 0;
            if (step->u.seq.items[1]->kind == BRINE_OBJECT) last = step->u.seq.items[1];
        }
        root = last;
    }
    return 0;
}

/* Verbatim families: the estimator object copied for brine_model_save. */
static brine_status keep_original(brine_model *m, const bv *root, brine_error *err) {
    be_copier cp;
    be_copier_init(&cp, &m->arena);
    bv *copy = NULL;
    brine_status st = be_copy(&cp, root, &copy, err);
    be_copier_free(&cp);
    m->original = copy;
    return st;
}

brine_status be_model_from_value(brine_model **out, const bv *root, int depth, int borrow, int load_threads,
                                brine_error *err) {
    /* Meta-estimators load their parts through here: a file whose parts
     * contain themselves (a cycle) or nest without end stops at the bound. */
    if (depth > BE_MAX_NESTING)
        return bi_fail(err, BRINE_E_FORMAT, -1, "this part nests more than %d estimators deep (or contains itself)",
                       BE_MAX_NESTING);
    if (!root || root->kind != BRINE_OBJECT)
        return bi_fail(err, BRINE_E_UNSUPPORTED, -1, "the file holds a %s, not a fitted estimator",
                       root ? brine_kind_name((brine_kind)root->kind) : "nothing");
    const char *name = NULL;
    const char *module = brine_value_global(root, &name);
    const be_class *cls = be_class_find(module, name);
    const char *no_method = cls ? NULL : be_no_method_reason(module, name);
    if (no_method) /* sklearn itself has no predict or transform for it (cluster.c) */
        return bi_fail(err, BRINE_E_UNSUPPORTED, -1, "brine cannot predict with %s.%s: %s", module, name, no_method);
    if (!cls)
        return bi_fail(err, BRINE_E_UNSUPPORTED, -1,
                       "brine cannot predict with %s.%s (docs/SUPPORT.md lists the estimator classes brine reads)",
                       module ? module : "?", name ? name : "?");
    brine_model *m = calloc(1, sizeof *m);
    if (!m) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    bp_arena_init(&m->arena, 0);
    m->cls = cls;
    m->depth = depth;
    m->borrow = borrow;
    m->load_threads = load_threads > 1 ? load_threads : 1;
    m->version[0] = m->version[1] = m->version[2] = -1;
    m->max_features = -1;
    size_t ml = strlen(module), nl = strlen(name);
    m->class_path = be_alloc(m, ml + nl + 2, 1);
    brine_status st = BRINE_OK;
    if (!m->class_path) {
        st = bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
        goto done;
    }
    snprintf(m->class_path, ml + nl + 2, "%s.%s", module, name);
    m->short_name = m->class_path + ml + 1;
    const bv *state = root->u.obj.state;
    if (!state || state->kind != BRINE_DICT) {
        st = be_fail(err, m, "its state is %s, not a dict", state ? brine_kind_name((brine_kind)state->kind) : "missing");
        goto done;
    }
    const bv *ver = bv_dict_get(state, "_sklearn_version");
    if (ver && ver->kind == BRINE_STR) {
        m->sklearn_version = be_strdup(m, (const char *)ver->u.s.p, ver->u.s.n);
        if (!m->sklearn_version) {
            st = bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
            goto done;
        }
        parse_version(m, m->sklearn_version);
    }
    /* A Pipeline (and a FeatureUnion) keeps nothing fitted itself; its steps say. */
    int delegates = cls->family == &be_pipeline_family || (cls->family == &be_compose_family && !strcmp(name, "FeatureUnion"));
    st = delegates || looks_fitted(state) ? cls->family->load(m, state, err)
                             : be_fail(err, m, "is not fitted (its state has no fitted attribute)");
    if (!st && depth == 0 && be_model_verbatim(m)) st = keep_original(m, root, err);
done:
    if (st) {
        brine_model_free(m);
        m = NULL;
    }
    *out = m;
    return st;
}

brine_status brine_model_from_file(brine_model **out, const brine_file *file, brine_error *err) {
    if (!out) return bi_fail(err, BRINE_E_ARGUMENT, -1, "out is NULL");
    *out = NULL;
    if (!file) return bi_fail(err, BRINE_E_ARGUMENT, -1, "file is NULL");
    return be_model_from_value(out, brine_file_root(file), 0, 0, 1, err);
}

int be_model_borrows(const brine_model *m) {
    if (m->borrowed) return 1;
    for (size_t i = 0; i < m->n_subs; i++)
        if (be_model_borrows(m->subs[i])) return 1; /* as deep as BE_MAX_NESTING */
    return 0;
}

static int online_cpus(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 && n < 4096 ? (int)n : 1;
}

brine_status brine_model_load(brine_model **out, const char *path, const brine_load_options *opts,
                              brine_error *err) {
    if (!out) return bi_fail(err, BRINE_E_ARGUMENT, -1, "out is NULL");
    *out = NULL;
    int threads = opts ? opts->n_threads : 0;
    if (threads < 0 && threads != BRINE_THREADS_ALL)
        return bi_fail(err, BRINE_E_ARGUMENT, -1, "n_threads is %d (expected >= 0 or BRINE_THREADS_ALL)", threads);
    if (threads == BRINE_THREADS_ALL) threads = online_cpus();
    brine_file *f = NULL;
    brine_status st = brine_file_open(&f, path, opts, err);
    /* The model may read the file's arrays in place (it then keeps the
     * file): a forest's node records and values are most of its bytes. */
    if (!st) st = be_model_from_value(out, brine_file_root(f), 0, 1, threads, err);
    if (!st && be_model_borrows(*out)) (*out)->backing = f;
    else brine_file_free(f);
    if (!st && opts && opts->strict_version && !brine_model_version_verified(*out)) {
        const char *v[32];
        char list[256] = "";
        size_t n = be_model_versions(*out, v, 32), used = 0;
        for (size_t k = 0; k < n && k < 32 && used < sizeof list; k++)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", k ? ", " : "", v[k]);
        st = be_fail_status(err, BRINE_E_UNSUPPORTED, *out,
                            "the file was written by scikit-learn %s; brine has verified this estimator's layout "
                            "only at %s, and the strict version policy refuses others",
                            (*out)->sklearn_version ? (*out)->sklearn_version : "before 0.18 (no _sklearn_version)",
                            n ? list : "no version");
        brine_model_free(*out);
        *out = NULL;
    }
    return st;
}

int brine_model_version_verified(const brine_model *m) {
    if (!m || !m->sklearn_version) return 0;
    return be_model_verbatim(m) ? be_read_checked(m->short_name, m->sklearn_version)
                                : be_layout_find(m->short_name, m->sklearn_version) != NULL;
}

void brine_model_free(brine_model *m) {
    if (!m) return;
    for (size_t i = 0; i < m->n_subs; i++) brine_model_free(m->subs[i]);
    be_bulk_free(m);
    bp_arena_free(&m->arena);
    brine_file_free(m->backing);
    free(m);
}

const char *brine_model_class(const brine_model *m) { return m ? m->class_path : NULL; }
int brine_model_is_classifier(const brine_model *m) { return m ? m->cls->classifier : 0; }
size_t brine_model_n_features_in(const brine_model *m) { return m ? (size_t)m->n_features_in : 0; }
size_t brine_model_n_outputs(const brine_model *m) { return m ? m->n_outputs : 0; }
size_t brine_model_n_estimators(const brine_model *m) { return m ? m->n_estimators : 0; }
int brine_model_accepts_nan(const brine_model *m) { return m ? m->allow_nan : 0; }
int brine_model_reads_float32(const brine_model *m) { return m && !(m->cls->family->flags & BE_FAM_FLOAT64); }
const char *brine_model_sklearn_version(const brine_model *m) { return m ? m->sklearn_version : NULL; }
size_t brine_model_n_feature_names(const brine_model *m) { return m ? m->n_feature_names : 0; }

const char *brine_model_feature_name(const brine_model *m, size_t i) {
    return m && i < m->n_feature_names ? m->feature_names[i] : NULL;
}

const brine_label *brine_model_classes(const brine_model *m, size_t output, size_t *n) {
    if (n) *n = 0;
    if (!m || !m->classes || output >= m->n_outputs) return NULL;
    if (n) *n = m->classes[output].n;
    return m->classes[output].labels;
}

/* ------------------------------------------------------------ methods */

static const char *const method_names[] = {"predict",           "predict_proba", "apply",    "decision_function",
                                           "predict_log_proba", "score_samples", "transform", "inverse_transform"};

const char *brine_method_name(brine_method method) {
    return (unsigned)method < sizeof method_names / sizeof *method_names ? method_names[method] : NULL;
}

brine_status brine_method_parse(brine_method *out, const char *name, brine_error *err) {
    for (size_t k = 0; name && k < sizeof method_names / sizeof *method_names; k++) {
        if (!strcmp(name, method_names[k])) {
            *out = (brine_method)k;
            return BRINE_OK;
        }
    }
    return bi_fail(err, BRINE_E_ARGUMENT, -1,
                   "unknown method '%s' (expected predict, predict_proba, predict_log_proba, decision_function, "
                   "score_samples, transform, inverse_transform or apply)",
                   name ? name : "");
}

/* Columns of the output table (0 when the model lacks the method). */
size_t be_default_columns(const brine_model *m, brine_method method) {
    size_t cols = 0;
    switch (method) {
    case BRINE_METHOD_PREDICT:
        return m->n_outputs;
    case BRINE_METHOD_PREDICT_PROBA:
    case BRINE_METHOD_PREDICT_LOG_PROBA:
        if (!m->cls->classifier) return BE_NO_METHOD;
        for (size_t k = 0; m->classes && k < m->n_outputs; k++) cols += m->classes[k].n;
        return cols;
    case BRINE_METHOD_APPLY:
        return m->n_estimators;
    default:
        return BE_NO_METHOD;
    }
}

size_t be_output_columns(const brine_model *m, brine_method method) {
    return m->cls->family->columns ? m->cls->family->columns(m, method) : be_default_columns(m, method);
}

int be_method_gives_indices(const brine_model *m, brine_method method) {
    /* KMeans is no classifier but predicts labels: families that give
     * predict's labels as m->classes (cluster.c) get indices too. */
    return method == BRINE_METHOD_APPLY || (method == BRINE_METHOD_PREDICT && (m->cls->classifier || m->classes)) ||
           (method == BRINE_METHOD_TRANSFORM && m->int_out);
}

size_t be_input_width(const brine_model *m, brine_method method) {
    if (method == BRINE_METHOD_INVERSE_TRANSFORM && m->inverse_width) return m->inverse_width;
    return m->n_features_in > 0 ? (size_t)m->n_features_in : 0;
}

int brine_model_has_method(const brine_model *m, brine_method method) {
    return m && brine_method_name(method) && be_output_columns(m, method) != BE_NO_METHOD;
}

/* X to float32 as sklearn's check_array(dtype=float32) does, refusing what
 * it refuses: NaN unless the model routes it, and anything that is or
 * becomes infinite in float32. */
static brine_status convert_input(const brine_model *m, const double *X, size_t n_rows, size_t n_cols, float *x,
                                  brine_error *err) {
    for (size_t r = 0; r < n_rows; r++) {
        for (size_t c = 0; c < n_cols; c++) {
            double d = X[r * n_cols + c];
            float f = (float)d;
            if (isnan(d) && !m->allow_nan)
                return be_fail_status(err, BRINE_E_ARGUMENT, m,
                                      "X[%zu, %zu] is NaN; this model predates sklearn 1.3 and has no path for "
                                      "missing values",
                                      r, c);
            if (isinf(f))
                return be_fail_status(err, BRINE_E_ARGUMENT, m,
                                      "X[%zu, %zu] is %s; sklearn refuses infinity and values beyond float32's range",
                                      r, c, isinf(d) ? "infinite" : "too large for float32");
            x[r * n_cols + c] = f;
        }
    }
    return BRINE_OK;
}

/* The same checks on float32 input, which is used in place. */
static brine_status check_input32(const brine_model *m, const float *x, size_t n_rows, size_t n_cols,
                                  brine_error *err) {
    size_t cells = n_rows * n_cols;
    int bad = 0;
    for (size_t i = 0; i < cells; i++) bad |= isinf(x[i]) || (isnan(x[i]) && !m->allow_nan);
    if (!bad) return BRINE_OK;
    for (size_t i = 0;; i++) {
        if (!isinf(x[i]) && !(isnan(x[i]) && !m->allow_nan)) continue;
        if (isinf(x[i]))
            return be_fail_status(err, BRINE_E_ARGUMENT, m, "X[%zu, %zu] is infinite; sklearn refuses infinity",
                                  i / n_cols, i % n_cols);
        return be_fail_status(err, BRINE_E_ARGUMENT, m,
                              "X[%zu, %zu] is NaN; this model predates sklearn 1.3 and has no path for missing values",
                              i / n_cols, i % n_cols);
    }
}

static brine_status check_call(const brine_model *m, brine_method method, const void *X, size_t n_rows,
                               size_t n_cols, size_t *cols, brine_error *err) {
    if (!m) return bi_fail(err, BRINE_E_ARGUMENT, -1, "model is NULL");
    if (!brine_method_name(method)) return bi_fail(err, BRINE_E_ARGUMENT, -1, "unknown method %d", (int)method);
    if (method == BRINE_METHOD_PREDICT_PROBA && !m->cls->classifier)
        return be_fail_status(err, BRINE_E_ARGUMENT, m, "a regressor has no predict_proba");
    if (be_output_columns(m, method) == BE_NO_METHOD)
        return be_fail_status(err, BRINE_E_ARGUMENT, m, "the estimator has no %s", brine_method_name(method));
    if (n_cols != be_input_width(m, method))
        return be_fail_status(err, BRINE_E_ARGUMENT, m, "X has %zu features, but the model expects %zu", n_cols,
                              be_input_width(m, method));
    size_t cells;
    *cols = be_output_columns(m, method);
    if (__builtin_mul_overflow(n_rows, n_cols, &cells) || cells > SIZE_MAX / sizeof(double) ||
        n_rows > SIZE_MAX / sizeof(double) / (*cols ? *cols : 1))
        return bi_fail(err, BRINE_E_ARGUMENT, -1, "X of %zu rows is too large", n_rows);
    if (!X && cells) return bi_fail(err, BRINE_E_ARGUMENT, -1, "X is NULL");
    return BRINE_OK;
}

static brine_prediction *prediction_new(const brine_model *m, brine_method method, size_t n_rows, size_t cols) {
    brine_prediction *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->method = method;
    p->n_rows = n_rows;
    p->n_columns = cols;
    size_t cells = n_rows * cols;
    int as_index = be_method_gives_indices(m, method);
    if (be_method_gives_labels(m, method)) p->labels = calloc(cells + 1, sizeof *p->labels);
    else if (as_index) p->indices = calloc(cells + 1, sizeof *p->indices);
    else p->values = calloc(cells + 1, sizeof *p->values);
    if (!p->indices && !p->values && !p->labels) {
        free(p);
        return NULL;
    }
    return p;
}

static brine_status check_options(const brine_predict_options *o, brine_dtype dtype, brine_error *err) {
    if (o->version != BRINE_PREDICT_OPTIONS_VERSION)
        return bi_fail(err, BRINE_E_ARGUMENT, -1, "unknown brine_predict_options version %u", o->version);
    if (o->n_threads < 0 && o->n_threads != BRINE_THREADS_ALL)
        return bi_fail(err, BRINE_E_ARGUMENT, -1, "n_threads is %d (expected >= 0 or BRINE_THREADS_ALL)", o->n_threads);
    if (dtype != BRINE_DTYPE_FLOAT32 && dtype != BRINE_DTYPE_FLOAT64)
        return bi_fail(err, BRINE_E_ARGUMENT, -1, "unknown dtype %d", (int)dtype);
    return BRINE_OK;
}

brine_status brine_predict(brine_prediction **out, const brine_model *m, brine_method method, const void *rows,
                           brine_dtype dtype, size_t n_rows, size_t n_cols, const brine_predict_options *opts,
                           brine_error *err) {
    if (!out) return bi_fail(err, BRINE_E_ARGUMENT, -1, "out is NULL");
    *out = NULL;
    const brine_predict_options defaults = BRINE_PREDICT_OPTIONS_INIT;
    const brine_predict_options *o = opts ? opts : &defaults;
    size_t cols = 0;
    brine_status st = check_options(o, dtype, err);
    if (!st) st = check_call(m, method, rows, n_rows, n_cols, &cols, err);
    if (st) return st;
    float *x = NULL;
    double *xd = NULL;
    int wide = (m->cls->family->flags & BE_FAM_FLOAT64) != 0;
    brine_prediction *p = prediction_new(m, method, n_rows, cols);
    if (!wide && dtype == BRINE_DTYPE_FLOAT64) x = malloc((n_rows * n_cols + 1) * sizeof *x);
    if (wide && dtype == BRINE_DTYPE_FLOAT32) xd = malloc((n_rows * n_cols + 1) * sizeof *xd);
    if (!p || (!wide && dtype == BRINE_DTYPE_FLOAT64 && !x) || (wide && dtype == BRINE_DTYPE_FLOAT32 && !xd)) {
        st = bi_fail(err, BRINE_E_NOMEM, -1, "out of memory for %zu rows", n_rows);
        goto done;
    }
    if (wide) {
        for (size_t i = 0; xd && i < n_rows * n_cols; i++) xd[i] = ((const float *)rows)[i];
    } else if (dtype == BRINE_DTYPE_FLOAT64) {
        st = convert_input(m, rows, n_rows, n_cols, x, err);
    } else {
        st = check_input32(m, rows, n_rows, n_cols, err);
    }
    if (st) goto done;
    be_input in = {wide ? NULL : x ? x : rows,
                   wide ? (xd ? xd : rows) : NULL,
                   n_rows,
                   n_cols,
                   o->n_threads == BRINE_THREADS_ALL ? online_cpus() : o->n_threads,
                   o->reference,
                   NULL,
                   NULL};
    st = m->cls->family->predict(m, method, &in, p, err);
done:
    free(x);
    free(xd);
    if (st) {
        brine_prediction_free(p);
        p = NULL;
    }
    *out = p;
    return st;
}

brine_status brine_model_predict(brine_prediction **out, const brine_model *m, brine_method method, const double *X,
                                 size_t n_rows, size_t n_cols, brine_error *err) {
    return brine_predict(out, m, method, X, BRINE_DTYPE_FLOAT64, n_rows, n_cols, NULL, err);
}

/* ---------------------------------------------------------- many files */

typedef struct load_job {
    brine_model **models;
    brine_error *errors;
    brine_status *status;
    const char *const *paths;
    const brine_load_options *opts;
    size_t n, w, nt; /* worker w of nt takes files w, w + nt, ... */
} load_job;

static void *load_work(void *arg) {
    const load_job *j = arg;
    for (size_t i = j->w; i < j->n; i += j->nt) {
        brine_error e;
        brine_error_clear(&e);
        j->status[i] = brine_model_load(&j->models[i], j->paths[i], j->opts, &e);
        if (j->errors) j->errors[i] = e;
    }
    return NULL;
}

brine_status brine_model_load_many(brine_model **models_out, brine_error *errors_out, const char *const *paths,
                                   size_t n, const brine_load_options *opts, int n_threads) {
    if (n && (!models_out || !paths)) return BRINE_E_ARGUMENT;
    if (n_threads < 0 && n_threads != BRINE_THREADS_ALL) return BRINE_E_ARGUMENT;
    size_t nt = n_threads > 0 ? (size_t)n_threads : (size_t)online_cpus();
    if (nt > n) nt = n ? n : 1;
    brine_status *status = calloc(n + 1, sizeof *status);
    load_job *jobs = calloc(nt, sizeof *jobs);
    brine_status st = BRINE_OK;
    if (!status || !jobs) {
        for (size_t i = 0; i < n; i++) {
            models_out[i] = NULL;
            if (errors_out) bi_fail(&errors_out[i], BRINE_E_NOMEM, -1, "out of memory starting the loads");
        }
        st = n ? BRINE_E_NOMEM : BRINE_OK;
        goto done;
    }
    /* The files' loads share the threads; each runs on one. */
    brine_load_options one = BRINE_LOAD_OPTIONS_INIT;
    if (opts) one = *opts;
    if (nt > 1) one.n_threads = 1;
    for (size_t w = 0; w < nt; w++) jobs[w] = (load_job){models_out, errors_out, status, paths, &one, n, w, nt};
    bi_run_jobs(load_work, jobs, sizeof *jobs, nt);
    for (size_t i = 0; i < n && !st; i++) st = status[i];
done:
    free(status);
    free(jobs);
    return st;
}

void brine_prediction_free(brine_prediction *p) {
    if (!p) return;
    free(p->values);
    free(p->indices);
    free(p->labels);
    free(p);
}

/* ------------------------------------------------------- text cells */

int be_method_gives_labels(const brine_model *m, brine_method method) {
    if (method == BRINE_METHOD_INVERSE_TRANSFORM) return (m->cls->family->flags & BE_FAM_INVERSE_LABELS) != 0;
    return method == BRINE_METHOD_TRANSFORM && m->text_out;
}

int brine_model_takes_text(const brine_model *m) {
    return m && (m->takes_text || (m->cls->family->flags & BE_FAM_TEXT));
}

/* The cell without surrounding blanks: start and length. */
static const char *cell_trim(const char *s, size_t *n) {
    while (*s == ' ' || *s == '\t') s++;
    size_t k = strlen(s);
    while (k && (s[k - 1] == ' ' || s[k - 1] == '\t')) k--;
    *n = k;
    return s;
}

int be_cell_missing(const char *s) {
    if (!s) return 1;
    size_t n;
    s = cell_trim(s, &n);
    return n == 0 || (n == 3 && (!memcmp(s, "nan", 3) || !memcmp(s, "NaN", 3))) || (n == 2 && !memcmp(s, "NA", 2));
}

int be_cell_number(const char *s, double *out) {
    if (be_cell_missing(s)) {
        *out = NAN;
        return 1;
    }
    size_t n;
    s = cell_trim(s, &n);
    return bp_parse_float_text((const uint8_t *)s, n, out);
}

/* Shown text of a cell in a message: at most 40 bytes, one line. */
static void cell_show(char *buf, size_t size, const char *s) {
    size_t k = 0;
    for (; s[k] && k < 40 && k + 5 < size; k++) buf[k] = (unsigned char)s[k] < 0x20 ? '?' : s[k];
    buf[k] = '\0';
}

brine_status be_predict_input(brine_prediction **out, const brine_model *m, brine_method method, const be_input *in,
                              brine_error *err) {
    *out = NULL;
    brine_predict_options po = BRINE_PREDICT_OPTIONS_INIT;
    po.n_threads = in->n_threads;
    po.reference = in->reference;
    if (!in->text || !brine_model_takes_text(m)) {
        for (size_t i = 0; in->text && i < in->n_rows * in->n_cols; i++) {
            double v;
            if (be_cell_number(in->text[i], &v)) continue;
            char shown[48];
            cell_show(shown, sizeof shown, in->text[i]);
            return be_fail_status(err, BRINE_E_ARGUMENT, m, "X[%zu, %zu] is '%s', not a number; this estimator takes numbers only",
                                  i / in->n_cols, i % in->n_cols, shown);
        }
        return brine_predict(out, m, method, in->xd, BRINE_DTYPE_FLOAT64, in->n_rows, in->n_cols, &po, err);
    }
    size_t cols = 0;
    brine_status st = check_call(m, method, in->xd, in->n_rows, in->n_cols, &cols, err);
    if (st) return st;
    brine_prediction *p = prediction_new(m, method, in->n_rows, cols);
    if (!p) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory for %zu rows", in->n_rows);
    be_input sub = *in;
    sub.x = NULL;
    st = m->cls->family->predict(m, method, &sub, p, err);
    if (st) {
        brine_prediction_free(p);
        p = NULL;
    }
    *out = p;
    return st;
}

/* Which given column feeds each model feature: by name when both sides
 * have names, else in order.  col_of has n_features_in entries. */
static brine_status match_columns(const brine_model *m, const char *const *names, size_t nf, size_t n_cols,
                                  size_t *col_of, brine_error *err) {
    if (!names || !m->n_feature_names || m->n_feature_names != nf) {
        if (n_cols != nf)
            return be_fail_status(err, BRINE_E_ARGUMENT, m, "X has %zu features, but the model expects %zu", n_cols, nf);
        for (size_t j = 0; j < nf; j++) col_of[j] = j;
        return BRINE_OK;
    }
    for (size_t j = 0; j < nf; j++) col_of[j] = SIZE_MAX;
    for (size_t i = 0; i < n_cols; i++) {
        char shown[48];
        cell_show(shown, sizeof shown, names[i] ? names[i] : "");
        size_t j = 0;
        while (j < nf && (!names[i] || strcmp(m->feature_names[j], names[i]))) j++;
        if (j == nf)
            return be_fail_status(err, BRINE_E_ARGUMENT, m, "column %zu, '%s', is not a feature of the model", i, shown);
        if (col_of[j] != SIZE_MAX)
            return be_fail_status(err, BRINE_E_ARGUMENT, m, "columns %zu and %zu are both named '%s'", col_of[j], i, shown);
        col_of[j] = i;
    }
    for (size_t j = 0; j < nf; j++) {
        char shown[48];
        cell_show(shown, sizeof shown, m->feature_names[j]);
        if (col_of[j] == SIZE_MAX)
            return be_fail_status(err, BRINE_E_ARGUMENT, m, "no column is named '%s', a feature the model was fitted on",
                                  shown);
    }
    return BRINE_OK;
}

brine_status brine_model_predict_cells(brine_prediction **out, const brine_model *m, brine_method method,
                                       const char *const *cells, size_t n_rows, size_t n_cols,
                                       const char *const *col_names, brine_error *err) {
    if (!out) return bi_fail(err, BRINE_E_ARGUMENT, -1, "out is NULL");
    *out = NULL;
    if (!m) return bi_fail(err, BRINE_E_ARGUMENT, -1, "model is NULL");
    size_t cells_n;
    if (__builtin_mul_overflow(n_rows, n_cols, &cells_n) || cells_n > SIZE_MAX / 16)
        return bi_fail(err, BRINE_E_ARGUMENT, -1, "X of %zu rows is too large", n_rows);
    if (!cells && cells_n) return bi_fail(err, BRINE_E_ARGUMENT, -1, "cells is NULL");
    size_t nf = be_input_width(m, method);
    size_t *col_of = malloc((nf + 1) * sizeof *col_of);
    if (!col_of) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    int inverse = method == BRINE_METHOD_INVERSE_TRANSFORM; /* codes, not named features */
    brine_status st = match_columns(m, inverse ? NULL : col_names, nf, n_cols, col_of, err);
    size_t total = n_rows * nf;
    const char **text = NULL;
    double *xd = NULL;
    if (!st && (!(text = malloc((total + 1) * sizeof *text)) || !(xd = malloc((total + 1) * sizeof *xd))))
        st = bi_fail(err, BRINE_E_NOMEM, -1, "out of memory for %zu rows", n_rows);
    for (size_t r = 0; !st && r < n_rows; r++) {
        for (size_t j = 0; j < nf; j++) {
            const char *c = cells[r * n_cols + col_of[j]];
            size_t i = r * nf + j;
            text[i] = be_cell_missing(c) ? NULL : c;
            if (!be_cell_number(c, &xd[i])) xd[i] = NAN;
        }
    }
    if (!st) {
        int named = !inverse && m->n_feature_names == nf && nf;
        be_input in = {NULL, xd, n_rows, nf, 1, 0, text, named ? (const char *const *)m->feature_names : NULL};
        st = be_predict_input(out, m, method, &in, err);
    }
    free(col_of);
    free(text);
    free(xd);
    return st;
}
