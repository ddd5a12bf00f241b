/* numpy.c — reconstructors for NumPy objects.  Everything a file declares
 * (shapes, item sizes, field offsets, buffer lengths) is checked against
 * what is actually present before any use (SECURITY F3, F4). */
#include "numpy/numpy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/error.h"
#include "pickle/vm.h"

static brine_status oom(bp_vm *vm) { return bp_vm_fail(vm, BRINE_E_LIMIT, "graph memory limit reached"); }

static size_t nargs(const bv *t) { return t->u.seq.n; }
static bv *item(const bv *t, size_t i) { return t->u.seq.items[i]; }

int bn_shape_count(int ndim, const int64_t *shape, int64_t *count) {
    int64_t c = 1;
    for (int k = 0; k < ndim; k++) {
        if (shape[k] < 0 || __builtin_mul_overflow(c, shape[k], &c)) return 0;
    }
    *count = c;
    return 1;
}

/* ------------------------------------------------------------- dtypes */

static int kind_size_ok(char kind, size_t size) {
    switch (kind) {
    case 'b': return size == 1;
    case 'i': case 'u': return size == 1 || size == 2 || size == 4 || size == 8;
    case 'f': return size == 2 || size == 4 || size == 8 || size == 16;
    case 'c': return size == 8 || size == 16 || size == 32;
    case 'O': return size == 8;
    case 'M': case 'm': return size == 8;
    case 'S': case 'U': case 'V': return 1;
    default: return 0;
    }
}

/* "f8", "U2" (chars), "V56", "b1", "O8", "M8" -> kind and itemsize. */
static int parse_typestr(const uint8_t *p, size_t n, char *kind, size_t *itemsize) {
    if (n < 1) return 0;
    char k = (char)p[0];
    size_t num = 0;
    for (size_t j = 1; j < n; j++) {
        if (p[j] < '0' || p[j] > '9' || num > (SIZE_MAX - 9) / 10) return 0;
        num = num * 10 + (p[j] - '0');
    }
    if (n == 1) { /* "O", "S", "U", "V" with no size */
        if (k == 'O') num = 8;
        else if (k == 'b' || k == '?') num = 1;
        else if (k == 'S' || k == 'U' || k == 'V') num = 0;
        else return 0;
    }
    if (k == '?') k = 'b';
    if (k == 'U') {
        if (num > SIZE_MAX / 4) return 0;
        num *= 4;
    }
    if (!kind_size_ok(k, num)) return 0;
    *kind = k;
    *itemsize = num;
    return 1;
}

static char default_order(char kind, size_t itemsize) {
    if (kind == 'S' || kind == 'V' || kind == 'O' || kind == 'b' || itemsize == 1) return '|';
    return '<';
}

bv *bn_dtype_simple(bp_arena *a, char kind, size_t itemsize, char byteorder) {
    bv *d = bv_new(a, BRINE_DTYPE);
    bv_dtype *dt = bp_arena_alloc(a, sizeof *dt);
    if (!d || !dt) return NULL;
    d->u.dt = dt;
    dt->kind = kind;
    dt->itemsize = itemsize;
    dt->byteorder = byteorder ? byteorder : default_order(kind, itemsize);
    dt->hasobject = kind == 'O';
    char ts[32];
    snprintf(ts, sizeof ts, "%c%zu", kind, kind == 'U' ? itemsize / 4 : itemsize);
    bv *args3[3] = {bv_str(a, ts), bv_bool(a, 0), bv_bool(a, 1)};
    char bo[2] = {dt->byteorder, 0};
    int sized = kind == 'S' || kind == 'U' || kind == 'V';
    int flags = kind == 'O' ? 63 : kind == 'U' ? 8 : 0;
    bv *st[8] = {bv_int(a, 3), bv_str(a, bo), bv_none(a), bv_none(a), bv_none(a),
                 bv_int(a, sized ? (int64_t)itemsize : -1), bv_int(a, sized ? (kind == 'U' ? 4 : 1) : -1),
                 bv_int(a, flags)};
    for (int k = 0; k < 3; k++) if (!args3[k]) return NULL;
    for (int k = 0; k < 8; k++) if (!st[k]) return NULL;
    dt->args = bv_tuple_of(a, 3, args3);
    dt->state = bv_tuple_of(a, 8, st);
    return dt->args && dt->state ? d : NULL;
}

bv *bn_dtype_from_descr(bp_arena *a, const char *descr, size_t n) {
    if (n < 2) return NULL;
    char order = descr[0];
    if (order != '<' && order != '>' && order != '|' && order != '=') return NULL;
    char kind;
    size_t itemsize;
    if (!parse_typestr((const uint8_t *)descr + 1, n - 1, &kind, &itemsize)) return NULL;
    if (order == '=') order = '<';
    if (itemsize <= 1 || kind == 'S' || kind == 'V' || kind == 'O' || kind == 'b') order = '|';
    return bn_dtype_simple(a, kind, itemsize, order);
}

static brine_status dfail(brine_error *err, int64_t off, const char *what) {
    return bi_fail(err, BRINE_E_FORMAT, off, "invalid dtype state: %s", what);
}

static int get_int(const bv *v, int64_t *out) { return bv_get_i64(v, out); }

static brine_status parse_fields(bp_arena *a, bv_dtype *dt, bv *names, bv *fields, brine_error *err,
                                 int64_t off) {
    if (names->kind != BRINE_TUPLE || fields->kind != BRINE_DICT) return dfail(err, off, "names and fields must be a tuple and a dict");
    size_t n = names->u.seq.n;
    dt->fields = bp_arena_alloc(a, (n ? n : 1) * sizeof *dt->fields);
    if (!dt->fields) return bi_fail(err, BRINE_E_LIMIT, off, "graph memory limit reached");
    for (size_t k = 0; k < n; k++) {
        bv *name = item(names, k);
        if (name->kind != BRINE_STR) return dfail(err, off, "a field name is not a str");
        bv *spec = NULL;
        for (size_t j = 0; j < fields->u.seq.n; j++) {
            bv *key = fields->u.seq.items[2 * j];
            if (key->kind == BRINE_STR && key->u.s.n == name->u.s.n && memcmp(key->u.s.p, name->u.s.p, name->u.s.n) == 0)
                spec = fields->u.seq.items[2 * j + 1];
        }
        int64_t foff;
        if (!spec || spec->kind != BRINE_TUPLE || nargs(spec) < 2 || nargs(spec) > 3 ||
            item(spec, 0)->kind != BRINE_DTYPE || (item(spec, 0)->flags & BV_F_PENDING) || !get_int(item(spec, 1), &foff))
            return dfail(err, off, "a field lacks (dtype, offset)");
        bv_dtype *fd = item(spec, 0)->u.dt;
        if (foff < 0 || (uint64_t)foff > dt->itemsize || fd->itemsize > dt->itemsize - (size_t)foff)
            return dfail(err, off, "a field lies outside the item");
        const char *cname = bp_arena_strdup(a, name->u.s.p, name->u.s.n); /* NUL-terminated for the API */
        if (!cname) return bi_fail(err, BRINE_E_LIMIT, off, "graph memory limit reached");
        dt->fields[k] = (bv_field){cname, name->u.s.n, item(spec, 0), (size_t)foff,
                                   nargs(spec) == 3 ? item(spec, 2) : NULL};
        if (fd->hasobject) dt->hasobject = 1;
    }
    dt->nfields = n;
    return BRINE_OK;
}

static brine_status parse_subarray(bp_arena *a, bv_dtype *dt, bv *sub, brine_error *err, int64_t off) {
    if (sub->kind != BRINE_TUPLE || nargs(sub) != 2 || item(sub, 0)->kind != BRINE_DTYPE ||
        (item(sub, 0)->flags & BV_F_PENDING) || item(sub, 1)->kind != BRINE_TUPLE)
        return dfail(err, off, "subarray must be (dtype, shape)");
    bv *shape = item(sub, 1);
    dt->sub_ndim = (int)nargs(shape);
    dt->sub_shape = bp_arena_alloc(a, (nargs(shape) + 1) * sizeof *dt->sub_shape);
    if (!dt->sub_shape || nargs(shape) > 64) return dfail(err, off, "subarray shape too large");
    for (size_t k = 0; k < nargs(shape); k++)
        if (!get_int(item(shape, k), &dt->sub_shape[k])) return dfail(err, off, "subarray shape is not ints");
    int64_t count;
    bv_dtype *base = item(sub, 0)->u.dt;
    if (!bn_shape_count(dt->sub_ndim, dt->sub_shape, &count) ||
        (count && base->itemsize > dt->itemsize / (uint64_t)count))
        return dfail(err, off, "subarray larger than the item");
    dt->subarray_base = item(sub, 0);
    if (base->hasobject) dt->hasobject = 1;
    return BRINE_OK;
}

brine_status bn_dtype_setstate(bp_arena *a, bv *d, bv *state, brine_error *err, int64_t off) {
    bv_dtype *dt = d->u.dt;
    /* numpy.dtype(...) is usable at once; BUILD may then give it its state
     * once (built-in dtypes carry their prepared state already). */
    if (dt->state && dt->state != state) return dfail(err, off, "BUILD on a dtype that already has its state");
    if (state->kind != BRINE_TUPLE || (nargs(state) != 8 && nargs(state) != 9))
        return bi_fail(err, BRINE_E_UNSUPPORTED, off, "dtype state of %zu items is not supported (expected 8 or 9)",
                       state->kind == BRINE_TUPLE ? nargs(state) : 0);
    int64_t version, elsize;
    bv *order = item(state, 1);
    if (!get_int(item(state, 0), &version) || !get_int(item(state, 5), &elsize))
        return dfail(err, off, "version and elsize must be ints");
    if ((order->kind != BRINE_STR && order->kind != BRINE_BYTES) || order->u.s.n != 1)
        return dfail(err, off, "byte order must be one character");
    char bo = (char)order->u.s.p[0];
    if (bo == '=') bo = '<';
    if (bo != '<' && bo != '>' && bo != '|') return dfail(err, off, "unknown byte order");
    dt->byteorder = bo;
    if (dt->kind == 'S' || dt->kind == 'U' || dt->kind == 'V') {
        if (elsize < 0) return dfail(err, off, "flexible dtype without an item size");
        dt->itemsize = (size_t)elsize;
        if (dt->kind == 'U' && dt->itemsize % 4) return dfail(err, off, "U item size is not a multiple of 4");
    }
    brine_status st = BRINE_OK;
    if (item(state, 2)->kind != BRINE_NONE) st = parse_subarray(a, dt, item(state, 2), err, off);
    if (!st && item(state, 3)->kind != BRINE_NONE) {
        if (dt->kind != 'V') return dfail(err, off, "fields on a non-void dtype");
        st = parse_fields(a, dt, item(state, 3), item(state, 4), err, off);
    }
    if (st) return st;
    dt->state = state;
    return BRINE_OK;
}

static brine_status build_dtype(bp_vm *vm, bv *obj, bv *state) {
    if (obj->kind != BRINE_DTYPE) return bp_vm_fail(vm, BRINE_E_FORMAT, "BUILD of a dtype on a %s", brine_kind_name((brine_kind)obj->kind));
    return bn_dtype_setstate(vm->arena, obj, state, vm->err, vm->op_offset);
}

/* numpy.dtype(typestr, align, copy): pending until BUILD gives the state. */
static brine_status reduce_dtype(bp_vm *vm, bv *callable, bv *args, bv **out) {
    char kind;
    size_t itemsize;
    if (nargs(args) < 1 || nargs(args) > 3 || item(args, 0)->kind != BRINE_STR ||
        !parse_typestr(item(args, 0)->u.s.p, item(args, 0)->u.s.n, &kind, &itemsize))
        return bp_vm_fail(vm, BRINE_E_UNSUPPORTED, "numpy.dtype with arguments brine does not know (expected a type string such as 'f8')");
    bv *d = bv_new(vm->arena, BRINE_DTYPE);
    bv_dtype *dt = bp_arena_alloc(vm->arena, sizeof *dt);
    if (!d || !dt) return oom(vm);
    d->u.dt = dt;
    dt->kind = kind;
    dt->itemsize = itemsize;
    dt->byteorder = default_order(kind, itemsize);
    dt->hasobject = kind == 'O';
    dt->args = args;
    dt->maker = callable->u.g.entry;
    (void)callable;
    *out = d;
    return BRINE_OK;
}

bv *bn_dtype_struct(bp_arena *a, size_t nfields, const char *const *names, bv *const *dtypes,
                    const size_t *offsets, size_t itemsize) {
    bv *d = bn_dtype_simple(a, 'V', itemsize, '|');
    if (!d) return NULL;
    bv *tnames = bv_new(a, BRINE_TUPLE), *fields = bv_new(a, BRINE_DICT);
    if (!tnames || !fields) return NULL;
    for (size_t k = 0; k < nfields; k++) {
        bv *pair[2] = {dtypes[k], bv_int(a, (int64_t)offsets[k])};
        bv *name = bv_str(a, names[k]);
        if (!pair[1] || !name || bv_seq_push(a, tnames, name, NULL, -1) ||
            bv_dict_set(a, fields, name, bv_tuple_of(a, 2, pair), NULL, -1))
            return NULL;
    }
    bv_dtype *dt = d->u.dt;
    dt->state->u.seq.items[3] = tnames;
    dt->state->u.seq.items[4] = fields;
    dt->state->u.seq.items[6] = bv_int(a, 1);
    dt->state->u.seq.items[7] = bv_int(a, 16);
    brine_error err;
    brine_error_clear(&err);
    if (bn_dtype_setstate(a, d, dt->state, &err, -1)) return NULL;
    return d;
}

/* ------------------------------------------------------------- arrays */

brine_status bn_array_new(bp_arena *a, bv **out, bv *dtype, int ndim, const int64_t *shape, int fortran,
                          const uint8_t *data, size_t nbytes, bv *objects, brine_error *err, int64_t off) {
    bv_dtype *dt = dtype->u.dt;
    int64_t count;
    if (ndim < 0 || ndim > 64 || !bn_shape_count(ndim, shape, &count))
        return bi_fail(err, BRINE_E_FORMAT, off, "array shape is negative, too large or has more than 64 dimensions");
    bv *v = bv_new(a, BRINE_NDARRAY);
    bv_array *arr = bp_arena_alloc(a, sizeof *arr);
    int64_t *sh = bp_arena_alloc(a, (size_t)(ndim + 1) * sizeof *sh);
    if (!v || !arr || !sh) return bi_fail(err, BRINE_E_LIMIT, off, "graph memory limit reached");
    if (ndim) memcpy(sh, shape, (size_t)ndim * sizeof *sh);
    if (dt->hasobject) {
        if (!objects || objects->kind != BRINE_LIST || (int64_t)objects->u.seq.n != count)
            return bi_fail(err, BRINE_E_FORMAT, off, "object array of %lld items holds %zu", (long long)count,
                           objects && objects->kind == BRINE_LIST ? objects->u.seq.n : 0);
    } else {
        uint64_t need;
        if (__builtin_mul_overflow((uint64_t)count, (uint64_t)dt->itemsize, &need) || need != nbytes)
            return bi_fail(err, BRINE_E_FORMAT, off,
                           "array data is %zu bytes but shape and dtype need %llu", nbytes,
                           (unsigned long long)((uint64_t)count * dt->itemsize));
    }
    arr->dtype = dtype;
    arr->ndim = ndim;
    arr->shape = sh;
    arr->count = count;
    arr->fortran = fortran && ndim > 1;
    arr->data = dt->hasobject ? NULL : data;
    arr->nbytes = dt->hasobject ? 0 : nbytes;
    arr->objects = dt->hasobject ? objects : NULL;
    v->u.arr = arr;
    *out = v;
    return BRINE_OK;
}

static brine_status read_shape(bp_vm *vm, const bv *t, int64_t *shape, int *ndim) {
    if (t->kind != BRINE_TUPLE) {
        int64_t n; /* a bare int is a 1-d shape, as numpy accepts */
        if (!get_int(t, &n)) return bp_vm_fail(vm, BRINE_E_FORMAT, "array shape is not a tuple of ints");
        shape[0] = n;
        *ndim = 1;
        return BRINE_OK;
    }
    if (nargs(t) > 64) return bp_vm_fail(vm, BRINE_E_FORMAT, "array has more than 64 dimensions");
    for (size_t k = 0; k < nargs(t); k++)
        if (!get_int(item(t, k), &shape[k])) return bp_vm_fail(vm, BRINE_E_FORMAT, "array shape is not a tuple of ints");
    *ndim = (int)nargs(t);
    return BRINE_OK;
}

static int is_complete_dtype(const bv *d) { return d->kind == BRINE_DTYPE && !(d->flags & BV_F_PENDING); }

/* Raw array bytes: bytes, bytearray, or a str of code points < 256 (what
 * Python 2 pickles hold; numpy encodes it as latin-1). */
static brine_status raw_bytes(bp_vm *vm, bv *v, const uint8_t **p, size_t *n) {
    if (v->kind == BRINE_BYTES || v->kind == BRINE_BYTEARRAY) {
        *p = v->u.s.p;
        *n = v->u.s.n;
        return BRINE_OK;
    }
    if (v->kind != BRINE_STR) return bp_vm_fail(vm, BRINE_E_FORMAT, "array data is a %s, not bytes", brine_kind_name((brine_kind)v->kind));
    uint8_t *buf = bp_arena_alloc(vm->arena, v->u.s.n ? v->u.s.n : 1);
    if (!buf) return oom(vm);
    size_t o = 0;
    for (size_t k = 0; k < v->u.s.n; o++) {
        uint8_t c = v->u.s.p[k];
        if (c < 0x80) { buf[o] = c; k++; }
        else if ((c & 0xe0) == 0xc0 && k + 1 < v->u.s.n) { buf[o] = (uint8_t)(((c & 0x1f) << 6) | (v->u.s.p[k + 1] & 0x3f)); k += 2; }
        else return bp_vm_fail(vm, BRINE_E_FORMAT, "array data string has characters above U+00FF");
    }
    *p = buf;
    *n = o;
    return BRINE_OK;
}

int bn_is_array_class(const bv *g) {
    if (g->kind != BRINE_GLOBAL) return 0;
    const char *m = g->u.g.module, *n = g->u.g.name;
    if (!strcmp(m, "numpy")) return !strcmp(n, "ndarray") || !strcmp(n, "matrix") || !strcmp(n, "memmap");
    return !strcmp(m, "numpy.matrixlib.defmatrix") && !strcmp(n, "matrix");
}

/* numpy.core.multiarray._reconstruct(ndarray, (0,), b'b'): an empty
 * placeholder that BUILD fills. */
static brine_status reduce_reconstruct(bp_vm *vm, bv *callable, bv *args, bv **out) {
    if (nargs(args) != 3 || item(args, 0)->kind != BRINE_GLOBAL)
        return bp_vm_fail(vm, BRINE_E_FORMAT, "_reconstruct expects (ndarray, shape, typecode)");
    bv *sub = item(args, 0);
    if (!bn_is_array_class(sub))
        return bp_vm_fail(vm, BRINE_E_UNSUPPORTED, "_reconstruct of %s.%s: only numpy.ndarray and numpy.matrix are supported",
                          sub->u.g.module, sub->u.g.name);
    bv *v = bv_new(vm->arena, BRINE_NDARRAY);
    bv_array *arr = bp_arena_alloc(vm->arena, sizeof *arr);
    if (!v || !arr) return oom(vm);
    v->flags |= BV_F_PENDING;
    arr->subclass = sub;
    arr->maker = callable->u.g.entry;
    v->u.arr = arr;
    *out = v;
    return BRINE_OK;
}

/* ndarray.__setstate__((version, shape, dtype, is_fortran, data)). */
static brine_status build_array(bp_vm *vm, bv *obj, bv *state) {
    if (obj->kind != BRINE_NDARRAY || !(obj->flags & BV_F_PENDING))
        return bp_vm_fail(vm, BRINE_E_FORMAT, "BUILD on a finished ndarray");
    if (state->kind != BRINE_TUPLE || (nargs(state) != 5 && nargs(state) != 4))
        return bp_vm_fail(vm, BRINE_E_FORMAT, "ndarray state must be (version, shape, dtype, is_fortran, data)");
    size_t b = nargs(state) == 5 ? 1 : 0;
    int64_t shape[64];
    int ndim;
    brine_status st = read_shape(vm, item(state, b), shape, &ndim);
    if (st) return st;
    bv *dtype = item(state, b + 1), *fort = item(state, b + 2), *data = item(state, b + 3);
    if (!is_complete_dtype(dtype)) return bp_vm_fail(vm, BRINE_E_FORMAT, "ndarray state has no complete dtype");
    int64_t is_fortran;
    if (!get_int(fort, &is_fortran)) return bp_vm_fail(vm, BRINE_E_FORMAT, "ndarray is_fortran flag is not a bool");
    const uint8_t *p = NULL;
    size_t n = 0;
    bv *objects = NULL;
    if (dtype->u.dt->hasobject) {
        if (data->kind != BRINE_LIST) return bp_vm_fail(vm, BRINE_E_FORMAT, "object array data must be a list");
        objects = data;
    } else {
        st = raw_bytes(vm, data, &p, &n);
        if (st) return st;
    }
    bv *tmp;
    st = bn_array_new(vm->arena, &tmp, dtype, ndim, shape, is_fortran != 0, p, n, objects, vm->err, vm->op_offset);
    if (st) return st;
    tmp->u.arr->subclass = obj->u.arr->subclass;
    tmp->u.arr->maker = obj->u.arr->maker;
    obj->u.arr = tmp->u.arr; /* fill in place: memo references stay valid */
    obj->flags &= (uint8_t)~BV_F_PENDING;
    return BRINE_OK;
}

/* Copies a C-order array of `shape` into the order given by axes (numpy
 * 2.3's order 'K' form: the result is frombuffer(...).reshape(shape)
 * .transpose(axes)), producing C order of the transposed shape. */
static brine_status transpose_copy(bp_vm *vm, const uint8_t *src, size_t itemsize, int ndim, const int64_t *shape,
                                   const int64_t *axes, int64_t count, uint8_t **out) {
    uint8_t *dst = bp_arena_alloc(vm->arena, (size_t)count * itemsize + 1);
    if (!dst) return oom(vm);
    int64_t stride[64], idx[64] = {0}, tshape[64];
    int64_t s = (int64_t)itemsize;
    for (int k = ndim - 1; k >= 0; k--) { stride[k] = s; s *= shape[k]; }
    for (int k = 0; k < ndim; k++) tshape[k] = shape[axes[k]];
    for (int64_t n = 0; n < count; n++) {
        int64_t off = 0;
        for (int k = 0; k < ndim; k++) off += idx[k] * stride[axes[k]];
        memcpy(dst + (size_t)n * itemsize, src + off, itemsize);
        for (int k = ndim - 1; k >= 0; k--) {
            if (++idx[k] < tshape[k]) break;
            idx[k] = 0;
        }
    }
    *out = dst;
    return BRINE_OK;
}

/* numpy.core.numeric._frombuffer(buf, dtype, shape, order[, axes]). */
static brine_status reduce_frombuffer(bp_vm *vm, bv *callable, bv *args, bv **out) {
    if ((nargs(args) != 4 && nargs(args) != 5) || !is_complete_dtype(item(args, 1)) || item(args, 3)->kind != BRINE_STR)
        return bp_vm_fail(vm, BRINE_E_FORMAT, "_frombuffer expects (buffer, dtype, shape, order[, axes])");
    bv *dtype = item(args, 1), *order = item(args, 3);
    if (dtype->u.dt->hasobject) return bp_vm_fail(vm, BRINE_E_FORMAT, "_frombuffer with an object dtype");
    const uint8_t *p;
    size_t n;
    brine_status st = raw_bytes(vm, item(args, 0), &p, &n);
    int64_t shape[64];
    int ndim;
    if (!st) st = read_shape(vm, item(args, 2), shape, &ndim);
    if (st) return st;
    int fortran = bv_is_str(order, "F");
    if (!fortran && !bv_is_str(order, "C") && !bv_is_str(order, "K"))
        return bp_vm_fail(vm, BRINE_E_FORMAT, "_frombuffer order must be 'C', 'F' or 'K'");
    if (nargs(args) == 5 && item(args, 4)->kind != BRINE_NONE) {
        bv *ax = item(args, 4);
        int64_t axes[64], count;
        int seen[64] = {0};
        if (ax->kind != BRINE_TUPLE || (int)nargs(ax) != ndim)
            return bp_vm_fail(vm, BRINE_E_FORMAT, "_frombuffer axes do not match the shape");
        for (int k = 0; k < ndim; k++)
            if (!get_int(item(ax, (size_t)k), &axes[k]) || axes[k] < 0 || axes[k] >= ndim || seen[axes[k]]++)
                return bp_vm_fail(vm, BRINE_E_FORMAT, "_frombuffer axes are not a permutation");
        if (!bn_shape_count(ndim, shape, &count) || (uint64_t)count * dtype->u.dt->itemsize != n)
            return bp_vm_fail(vm, BRINE_E_FORMAT, "_frombuffer buffer of %zu bytes does not match its shape", n);
        uint8_t *copy = NULL;
        st = transpose_copy(vm, p, dtype->u.dt->itemsize, ndim, shape, axes, count, &copy);
        if (st) return st;
        int64_t tshape[64];
        for (int k = 0; k < ndim; k++) tshape[k] = shape[axes[k]];
        st = bn_array_new(vm->arena, out, dtype, ndim, tshape, 0, copy, n, NULL, vm->err, vm->op_offset);
    } else {
        st = bn_array_new(vm->arena, out, dtype, ndim, shape, fortran, p, n, NULL, vm->err, vm->op_offset);
    }
    if (st) return st;
    (*out)->u.arr->subclass = bv_global(vm->arena, "numpy", "ndarray", NULL);
    (void)callable;
    return (*out)->u.arr->subclass ? BRINE_OK : oom(vm);
}

/* numpy.core.multiarray.scalar(dtype, bytes): an item; with an object dtype
 * numpy returns the object itself. */
static brine_status reduce_scalar(bp_vm *vm, bv *callable, bv *args, bv **out) {
    if ((nargs(args) != 2 && nargs(args) != 1) || !is_complete_dtype(item(args, 0)))
        return bp_vm_fail(vm, BRINE_E_FORMAT, "scalar expects (dtype, bytes)");
    bv *dtype = item(args, 0);
    if (dtype->u.dt->hasobject) {
        if (nargs(args) != 2) return bp_vm_fail(vm, BRINE_E_FORMAT, "object scalar without its object");
        *out = item(args, 1);
        return BRINE_OK;
    }
    const uint8_t *p = (const uint8_t *)"";
    size_t n = 0;
    if (nargs(args) == 2) {
        brine_status st = raw_bytes(vm, item(args, 1), &p, &n);
        if (st) return st;
    }
    if (n != dtype->u.dt->itemsize)
        return bp_vm_fail(vm, BRINE_E_FORMAT, "numpy scalar of %zu bytes for a %zu-byte dtype", n, dtype->u.dt->itemsize);
    bv *v;
    brine_status st = bn_array_new(vm->arena, &v, dtype, 0, NULL, 0, p, n, NULL, vm->err, vm->op_offset);
    if (st) return st;
    v->kind = BRINE_SCALAR;
    (void)callable;
    *out = v;
    return BRINE_OK;
}

/* numpy.core._ufunc_reconstruct(module, name): a reference to a ufunc. */
static brine_status reduce_ufunc(bp_vm *vm, bv *callable, bv *args, bv **out) {
    if (nargs(args) != 2 || item(args, 0)->kind != BRINE_STR || item(args, 1)->kind != BRINE_STR)
        return bp_vm_fail(vm, BRINE_E_FORMAT, "_ufunc_reconstruct expects (module, name)");
    char *m = bp_arena_strdup(vm->arena, item(args, 0)->u.s.p, item(args, 0)->u.s.n);
    char *n = bp_arena_strdup(vm->arena, item(args, 1)->u.s.p, item(args, 1)->u.s.n);
    if (!m || !n) return oom(vm);
    const bp_global *e = bp_global_find(vm->tables, vm->ntables, m, n);
    if (!e || !(e->tiers & BP_T_VALUE) || strncmp(m, "numpy", 5))
        return bp_vm_fail(vm, BRINE_E_GLOBAL, "refused ufunc %s.%s: not on brine's allowlist", m, n);
    (void)callable;
    *out = bv_global(vm->arena, m, n, e);
    return *out ? BRINE_OK : oom(vm);
}

#define V BP_T_VALUE
#define C BP_T_CALL

/* Sorted by (module, name) in byte order: tests check it.  Values are numpy
 * types and pure functions stored as parameters; ufuncs pickle as globals of
 * _multiarray_umath.  RandomState, bit generators and masked arrays are
 * opaque objects whose state BUILD keeps. */
static const bp_global rows[] = {
    {"numpy", "abs", V, NULL, NULL},
    {"numpy", "absolute", V, NULL, NULL},
    {"numpy", "amax", V, NULL, NULL},
    {"numpy", "amin", V, NULL, NULL},
    {"numpy", "arcsinh", V, NULL, NULL},
    {"numpy", "around", V, NULL, NULL},
    {"numpy", "average", V, NULL, NULL},
    {"numpy", "bool_", V, NULL, NULL},
    {"numpy", "byte", V, NULL, NULL},
    {"numpy", "bytes_", V, NULL, NULL},
    {"numpy", "cbrt", V, NULL, NULL},
    {"numpy", "cdouble", V, NULL, NULL},
    {"numpy", "ceil", V, NULL, NULL},
    {"numpy", "clip", V, NULL, NULL},
    {"numpy", "clongdouble", V, NULL, NULL},
    {"numpy", "complex128", V, NULL, NULL},
    {"numpy", "complex64", V, NULL, NULL},
    {"numpy", "cos", V, NULL, NULL},
    {"numpy", "csingle", V, NULL, NULL},
    {"numpy", "datetime64", V, NULL, NULL},
    {"numpy", "double", V, NULL, NULL},
    {"numpy", "dtype", V | C, reduce_dtype, build_dtype},
    {"numpy", "exp", V, NULL, NULL},
    {"numpy", "exp2", V, NULL, NULL},
    {"numpy", "expm1", V, NULL, NULL},
    {"numpy", "float16", V, NULL, NULL},
    {"numpy", "float32", V, NULL, NULL},
    {"numpy", "float64", V, NULL, NULL},
    {"numpy", "float_", V, NULL, NULL},
    {"numpy", "floor", V, NULL, NULL},
    {"numpy", "half", V, NULL, NULL},
    {"numpy", "int16", V, NULL, NULL},
    {"numpy", "int32", V, NULL, NULL},
    {"numpy", "int64", V, NULL, NULL},
    {"numpy", "int8", V, NULL, NULL},
    {"numpy", "int_", V, NULL, NULL},
    {"numpy", "intc", V, NULL, NULL},
    {"numpy", "intp", V, NULL, NULL},
    {"numpy", "log", V, NULL, NULL},
    {"numpy", "log10", V, NULL, NULL},
    {"numpy", "log1p", V, NULL, NULL},
    {"numpy", "log2", V, NULL, NULL},
    {"numpy", "longdouble", V, NULL, NULL},
    {"numpy", "longlong", V, NULL, NULL},
    {"numpy", "matrix", V, NULL, NULL},
    {"numpy", "max", V, NULL, NULL},
    {"numpy", "mean", V, NULL, NULL},
    {"numpy", "median", V, NULL, NULL},
    {"numpy", "memmap", V, NULL, NULL},
    {"numpy", "min", V, NULL, NULL},
    {"numpy", "nanmax", V, NULL, NULL},
    {"numpy", "nanmean", V, NULL, NULL},
    {"numpy", "nanmedian", V, NULL, NULL},
    {"numpy", "nanmin", V, NULL, NULL},
    {"numpy", "nanpercentile", V, NULL, NULL},
    {"numpy", "nanstd", V, NULL, NULL},
    {"numpy", "nansum", V, NULL, NULL},
    {"numpy", "ndarray", V, NULL, NULL},
    {"numpy", "object_", V, NULL, NULL},
    {"numpy", "percentile", V, NULL, NULL},
    {"numpy", "prod", V, NULL, NULL},
    {"numpy", "quantile", V, NULL, NULL},
    {"numpy", "rint", V, NULL, NULL},
    {"numpy", "round", V, NULL, NULL},
    {"numpy", "short", V, NULL, NULL},
    {"numpy", "sign", V, NULL, NULL},
    {"numpy", "sin", V, NULL, NULL},
    {"numpy", "single", V, NULL, NULL},
    {"numpy", "sqrt", V, NULL, NULL},
    {"numpy", "square", V, NULL, NULL},
    {"numpy", "std", V, NULL, NULL},
    {"numpy", "str_", V, NULL, NULL},
    {"numpy", "sum", V, NULL, NULL},
    {"numpy", "tanh", V, NULL, NULL},
    {"numpy", "timedelta64", V, NULL, NULL},
    {"numpy", "ubyte", V, NULL, NULL},
    {"numpy", "uint16", V, NULL, NULL},
    {"numpy", "uint32", V, NULL, NULL},
    {"numpy", "uint64", V, NULL, NULL},
    {"numpy", "uint8", V, NULL, NULL},
    {"numpy", "uintc", V, NULL, NULL},
    {"numpy", "uintp", V, NULL, NULL},
    {"numpy", "ulonglong", V, NULL, NULL},
    {"numpy", "ushort", V, NULL, NULL},
    {"numpy", "var", V, NULL, NULL},
    {"numpy", "void", V, NULL, NULL},
    {"numpy._core", "_ufunc_reconstruct", C, reduce_ufunc, NULL},
    {"numpy._core._multiarray_umath", "absolute", V, NULL, NULL},
    {"numpy._core._multiarray_umath", "add", V, NULL, NULL},
    {"numpy._core._multiarray_umath", "arccos", V, NULL, NULL},
    {"numpy._core._multiarray_umath", "arccosh", V, NULL, NULL},
    {"numpy._core._multiarray_umath", "arcsin", V, NULL, NULL},
    {"numpy._core._multiarray_umath", "arcsinh", V, NULL, NULL},
    {"numpy._core._multiarray_umath", "arctan", V, NULL, NULL},
    {"numpy._core._multiarray_umath", "arctanh", V, NULL, NULL},
    {"numpy._core._multiarray_umath", "cbrt", V, NULL, NULL},
    {"numpy._core._multiarray_umath", "ceil", V, NULL, NULL},
    {"numpy._core._multiarray_umath", "cos", V, NULL, NULL},
    {"numpy._core._multiarray_umath", "cosh", V, NULL, NULL},
    {"numpy._core._multiarray_umath", "divide", V, NULL, NULL},
    {"numpy._core._multiarray_umath", "exp", V, NULL, NULL},
    {"numpy._core._multiarray_umath", "exp2", V, NULL, NULL},
    {"numpy._core._multiarray_umath", "expm1", V, NULL, NULL},
    {"numpy._core._multiarray_umath", "fabs", V, NULL, NULL},
    {"numpy._core._multiarray_umath", "floor", V, NULL, NULL},
    {"numpy._core._multiarray_umath", "isfinite", V, NULL, NULL},
    {"numpy._core._multiarray_umath", "isnan", V, NULL, NULL},
    {"numpy._core._multiarray_umath", "log", V, NULL, NULL},
    {"numpy._core._multiarray_umath", "log10", V, NULL, NULL},
    {"numpy._core._multiarray_umath", "log1p", V, NULL, NULL},
    {"numpy._core._multiarray_umath", "log2", V, NULL, NULL},
    {"numpy._core._multiarray_umath", "maximum", V, NULL, NULL},
    {"numpy._core._multiarray_umath", "minimum", V, NULL, NULL},
    {"numpy._core._multiarray_umath", "multiply", V, NULL, NULL},
    {"numpy._core._multiarray_umath", "negative", V, NULL, NULL},
    {"numpy._core._multiarray_umath", "power", V, NULL, NULL},
    {"numpy._core._multiarray_umath", "reciprocal", V, NULL, NULL},
    {"numpy._core._multiarray_umath", "rint", V, NULL, NULL},
    {"numpy._core._multiarray_umath", "sign", V, NULL, NULL},
    {"numpy._core._multiarray_umath", "sin", V, NULL, NULL},
    {"numpy._core._multiarray_umath", "sinh", V, NULL, NULL},
    {"numpy._core._multiarray_umath", "sqrt", V, NULL, NULL},
    {"numpy._core._multiarray_umath", "square", V, NULL, NULL},
    {"numpy._core._multiarray_umath", "subtract", V, NULL, NULL},
    {"numpy._core._multiarray_umath", "tan", V, NULL, NULL},
    {"numpy._core._multiarray_umath", "tanh", V, NULL, NULL},
    {"numpy._core._multiarray_umath", "true_divide", V, NULL, NULL},
    {"numpy._core.multiarray", "_reconstruct", C, reduce_reconstruct, build_array},
    {"numpy._core.multiarray", "scalar", C, reduce_scalar, NULL},
    {"numpy._core.numeric", "_frombuffer", C, reduce_frombuffer, NULL},
    {"numpy.core", "_ufunc_reconstruct", C, reduce_ufunc, NULL},
    {"numpy.core._multiarray_umath", "absolute", V, NULL, NULL},
    {"numpy.core._multiarray_umath", "add", V, NULL, NULL},
    {"numpy.core._multiarray_umath", "arccos", V, NULL, NULL},
    {"numpy.core._multiarray_umath", "arccosh", V, NULL, NULL},
    {"numpy.core._multiarray_umath", "arcsin", V, NULL, NULL},
    {"numpy.core._multiarray_umath", "arcsinh", V, NULL, NULL},
    {"numpy.core._multiarray_umath", "arctan", V, NULL, NULL},
    {"numpy.core._multiarray_umath", "arctanh", V, NULL, NULL},
    {"numpy.core._multiarray_umath", "cbrt", V, NULL, NULL},
    {"numpy.core._multiarray_umath", "ceil", V, NULL, NULL},
    {"numpy.core._multiarray_umath", "cos", V, NULL, NULL},
    {"numpy.core._multiarray_umath", "cosh", V, NULL, NULL},
    {"numpy.core._multiarray_umath", "divide", V, NULL, NULL},
    {"numpy.core._multiarray_umath", "exp", V, NULL, NULL},
    {"numpy.core._multiarray_umath", "exp2", V, NULL, NULL},
    {"numpy.core._multiarray_umath", "expm1", V, NULL, NULL},
    {"numpy.core._multiarray_umath", "fabs", V, NULL, NULL},
    {"numpy.core._multiarray_umath", "floor", V, NULL, NULL},
    {"numpy.core._multiarray_umath", "isfinite", V, NULL, NULL},
    {"numpy.core._multiarray_umath", "isnan", V, NULL, NULL},
    {"numpy.core._multiarray_umath", "log", V, NULL, NULL},
    {"numpy.core._multiarray_umath", "log10", V, NULL, NULL},
    {"numpy.core._multiarray_umath", "log1p", V, NULL, NULL},
    {"numpy.core._multiarray_umath", "log2", V, NULL, NULL},
    {"numpy.core._multiarray_umath", "maximum", V, NULL, NULL},
    {"numpy.core._multiarray_umath", "minimum", V, NULL, NULL},
    {"numpy.core._multiarray_umath", "multiply", V, NULL, NULL},
    {"numpy.core._multiarray_umath", "negative", V, NULL, NULL},
    {"numpy.core._multiarray_umath", "power", V, NULL, NULL},
    {"numpy.core._multiarray_umath", "reciprocal", V, NULL, NULL},
    {"numpy.core._multiarray_umath", "rint", V, NULL, NULL},
    {"numpy.core._multiarray_umath", "sign", V, NULL, NULL},
    {"numpy.core._multiarray_umath", "sin", V, NULL, NULL},
    {"numpy.core._multiarray_umath", "sinh", V, NULL, NULL},
    {"numpy.core._multiarray_umath", "sqrt", V, NULL, NULL},
    {"numpy.core._multiarray_umath", "square", V, NULL, NULL},
    {"numpy.core._multiarray_umath", "subtract", V, NULL, NULL},
    {"numpy.core._multiarray_umath", "tan", V, NULL, NULL},
    {"numpy.core._multiarray_umath", "tanh", V, NULL, NULL},
    {"numpy.core._multiarray_umath", "true_divide", V, NULL, NULL},
    {"numpy.core.multiarray", "_reconstruct", C, reduce_reconstruct, build_array},
    {"numpy.core.multiarray", "scalar", C, reduce_scalar, NULL},
    {"numpy.core.numeric", "_frombuffer", C, reduce_frombuffer, NULL},
    {"numpy.ma", "MaskedArray", V, NULL, NULL},
    {"numpy.ma.core", "MaskedArray", V, NULL, NULL},
    {"numpy.ma.core", "_mareconstruct", C, NULL, NULL},
    {"numpy.matrixlib.defmatrix", "matrix", V, NULL, NULL},
    {"numpy.random", "__RandomState_ctor", C, NULL, NULL},
    {"numpy.random._generator", "Generator", V, NULL, NULL},
    {"numpy.random._mt19937", "MT19937", V | C, NULL, NULL},
    {"numpy.random._pcg64", "PCG64", V | C, NULL, NULL},
    {"numpy.random._pcg64", "PCG64DXSM", V | C, NULL, NULL},
    {"numpy.random._philox", "Philox", V | C, NULL, NULL},
    {"numpy.random._pickle", "__bit_generator_ctor", V | C, NULL, NULL},
    {"numpy.random._pickle", "__generator_ctor", C, NULL, NULL},
    {"numpy.random._pickle", "__randomstate_ctor", C, NULL, NULL},
    {"numpy.random._sfc64", "SFC64", V | C, NULL, NULL},
    {"numpy.random.bit_generator", "SeedSequence", V, NULL, NULL},
    {"numpy.random.bit_generator", "__pyx_unpickle_SeedSequence", C, NULL, NULL},
    {"numpy.random.mtrand", "RandomState", V, NULL, NULL},
};

const bp_global_table bn_numpy_table = {rows, sizeof rows / sizeof rows[0]};
