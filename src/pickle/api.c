/* api.c — the public read-only view of value nodes (brine.h "values"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pickle/text.h"
#include "pickle/value.h"

const char *brine_version(void) { return BRINE_VERSION_STRING; }
int brine_version_number(void) { return BRINE_VERSION_NUMBER; }

static const char *const kind_names[] = {
    "None", "bool", "int", "float", "complex", "str", "bytes", "bytearray", "tuple", "list",
    "dict", "set", "frozenset", "global", "object", "ndarray", "numpy scalar", "dtype", "slice",
};

const char *brine_kind_name(brine_kind kind) {
    return (unsigned)kind < sizeof kind_names / sizeof *kind_names ? kind_names[kind] : "unknown";
}

brine_kind brine_value_kind(const brine_value *v) { return (brine_kind)v->kind; }

brine_status brine_value_bool(const brine_value *v, int *out) {
    if (!v || v->kind != BRINE_BOOL) return BRINE_E_TYPE;
    *out = (int)v->u.i;
    return BRINE_OK;
}

brine_status brine_value_int64(const brine_value *v, int64_t *out) {
    return v && bv_get_i64(v, out) ? BRINE_OK : BRINE_E_TYPE;
}

brine_status brine_value_double(const brine_value *v, double *out) {
    if (!v) return BRINE_E_TYPE;
    if (v->kind == BRINE_FLOAT) {
        *out = v->u.f;
        return BRINE_OK;
    }
    int64_t i;
    if (bv_get_i64(v, &i) && (int64_t)(double)i == i && i != INT64_MAX) {
        *out = (double)i;
        return BRINE_OK;
    }
    return BRINE_E_TYPE;
}

brine_status brine_value_int_text(const brine_value *v, char *buf, size_t size, size_t *needed) {
    if (!v || (v->kind != BRINE_INT && v->kind != BRINE_BOOL)) return BRINE_E_TYPE;
    char small[24];
    char *text = small;
    if (v->flags & BV_F_BIGINT) {
        text = bp_int_le_to_text(v->u.s.p, v->u.s.n);
        if (!text) return BRINE_E_NOMEM;
    } else {
        snprintf(small, sizeof small, "%lld", (long long)v->u.i);
    }
    size_t n = strlen(text) + 1;
    if (needed) *needed = n;
    brine_status st = BRINE_OK;
    if (n > size) st = BRINE_E_ARGUMENT;
    else memcpy(buf, text, n);
    if (text != small) free(text);
    return st;
}

const char *brine_value_bytes(const brine_value *v, size_t *len) {
    if (!v || (v->kind != BRINE_STR && v->kind != BRINE_BYTES && v->kind != BRINE_BYTEARRAY)) return NULL;
    if (len) *len = v->u.s.n;
    return (const char *)v->u.s.p;
}

brine_status brine_value_complex(const brine_value *v, double *re, double *im) {
    if (!v || v->kind != BRINE_COMPLEX) return BRINE_E_TYPE;
    *re = v->u.c.re;
    *im = v->u.c.im;
    return BRINE_OK;
}

static int is_seq(const brine_value *v) {
    return v && (v->kind == BRINE_TUPLE || v->kind == BRINE_LIST || v->kind == BRINE_SET ||
                 v->kind == BRINE_FROZENSET || v->kind == BRINE_DICT);
}

size_t brine_value_len(const brine_value *v) { return is_seq(v) ? v->u.seq.n : 0; }

const brine_value *brine_value_item(const brine_value *v, size_t i) {
    if (!is_seq(v) || v->kind == BRINE_DICT || i >= v->u.seq.n) return NULL;
    return v->u.seq.items[i];
}

const brine_value *brine_value_dict_key(const brine_value *v, size_t i) {
    if (!v || v->kind != BRINE_DICT || i >= v->u.seq.n) return NULL;
    return v->u.seq.items[2 * i];
}

const brine_value *brine_value_dict_value(const brine_value *v, size_t i) {
    if (!v || v->kind != BRINE_DICT || i >= v->u.seq.n) return NULL;
    return v->u.seq.items[2 * i + 1];
}

const brine_value *brine_value_dict_get(const brine_value *v, const char *key) { return bv_dict_get(v, key); }

const char *brine_value_global(const brine_value *v, const char **name) {
    if (!v) return NULL;
    if (v->kind == BRINE_OBJECT) v = v->u.obj.callable;
    if (!v || v->kind != BRINE_GLOBAL) return NULL;
    if (name) *name = v->u.g.name;
    return v->u.g.module;
}

const brine_value *brine_value_object_args(const brine_value *v) {
    return v && v->kind == BRINE_OBJECT ? v->u.obj.args : NULL;
}

const brine_value *brine_value_object_state(const brine_value *v) {
    return v && v->kind == BRINE_OBJECT ? v->u.obj.state : NULL;
}

static void dtype_info(const bv_dtype *dt, brine_array_info *out) {
    out->kind = dt->kind;
    out->byteorder = dt->byteorder;
    out->itemsize = dt->itemsize;
    out->structured = dt->nfields > 0;
}

brine_status brine_value_array(const brine_value *v, brine_array_info *out) {
    if (!v) return BRINE_E_TYPE;
    memset(out, 0, sizeof *out);
    if (v->kind == BRINE_DTYPE) {
        dtype_info(v->u.dt, out);
        out->dtype = v;
        return BRINE_OK;
    }
    if ((v->kind != BRINE_NDARRAY && v->kind != BRINE_SCALAR) || (v->flags & BV_F_PENDING)) return BRINE_E_TYPE;
    const bv_array *a = v->u.arr;
    dtype_info(a->dtype->u.dt, out);
    out->ndim = a->ndim;
    out->shape = a->shape;
    out->count = a->count;
    out->fortran = a->fortran;
    out->data = a->data;
    out->nbytes = a->nbytes;
    out->dtype = a->dtype;
    out->objects = a->objects;
    return BRINE_OK;
}

static const bv_dtype *dtype_of(const brine_value *d) {
    if (!d) return NULL;
    if (d->kind == BRINE_NDARRAY || d->kind == BRINE_SCALAR) d = d->u.arr->dtype;
    return d && d->kind == BRINE_DTYPE ? d->u.dt : NULL;
}

size_t brine_dtype_field_count(const brine_value *d) {
    const bv_dtype *dt = dtype_of(d);
    return dt ? dt->nfields : 0;
}

brine_status brine_dtype_field(const brine_value *d, size_t i, const char **name, const brine_value **field_dtype,
                               size_t *offset) {
    const bv_dtype *dt = dtype_of(d);
    if (!dt || i >= dt->nfields) return BRINE_E_ARGUMENT;
    if (name) *name = dt->fields[i].name;
    if (field_dtype) *field_dtype = dt->fields[i].dtype;
    if (offset) *offset = dt->fields[i].offset;
    return BRINE_OK;
}
