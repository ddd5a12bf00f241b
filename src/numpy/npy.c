/* npy.c — the .npy file format: legacy joblib models keep their arrays in
 * sibling .npy files; `brine predict` reads .npy inputs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/buf.h"
#include "io/error.h"
#include "numpy/numpy.h"
#include "pickle/literal.h"

static brine_status nfail(brine_error *err, int64_t off, const char *what) {
    return bi_fail(err, BRINE_E_FORMAT, off, "invalid .npy file: %s", what);
}

/* A V dtype holding a subarray of base with shape. */
static bv *subarray_dtype(bp_arena *a, bv *base, bv *shape, brine_error *err) {
    int64_t count = 1, dim;
    for (size_t k = 0; k < shape->u.seq.n; k++) {
        if (!bv_get_i64(shape->u.seq.items[k], &dim) || dim < 0 || __builtin_mul_overflow(count, dim, &count))
            return NULL;
    }
    uint64_t size;
    if (__builtin_mul_overflow((uint64_t)count, (uint64_t)base->u.dt->itemsize, &size)) return NULL;
    bv *d = bn_dtype_simple(a, 'V', (size_t)size, '|');
    if (!d) return NULL;
    bv *pair[2] = {base, shape};
    d->u.dt->state->u.seq.items[2] = bv_tuple_of(a, 2, pair);
    if (bn_dtype_setstate(a, d, d->u.dt->state, err, -1)) return NULL;
    return d;
}

/* descr: a type string, or a list of (name, descr[, shape]) laid out
 * back to back; fields named '' are padding. */
static bv *dtype_of_descr(bp_arena *a, const bv *descr, brine_error *err) {
    if (descr->kind == BRINE_STR) return bn_dtype_from_descr(a, (const char *)descr->u.s.p, descr->u.s.n);
    if (descr->kind != BRINE_LIST || descr->u.seq.n == 0 || descr->u.seq.n > 4096) return NULL;
    size_t n = descr->u.seq.n, offset = 0, nf = 0;
    const char **names = calloc(n, sizeof *names);
    bv **types = calloc(n, sizeof *types);
    size_t *offs = calloc(n, sizeof *offs);
    bv *result = NULL;
    if (!names || !types || !offs) goto done;
    for (size_t k = 0; k < n; k++) {
        const bv *f = descr->u.seq.items[k];
        if (f->kind != BRINE_TUPLE || f->u.seq.n < 2 || f->u.seq.n > 3 || f->u.seq.items[0]->kind != BRINE_STR ||
            f->u.seq.items[1]->kind != BRINE_STR)
            goto done; /* nested structured fields are not supported */
        const bv *fname = f->u.seq.items[0], *ftype = f->u.seq.items[1];
        bv *d = bn_dtype_from_descr(a, (const char *)ftype->u.s.p, ftype->u.s.n);
        if (d && f->u.seq.n == 3) {
            if (f->u.seq.items[2]->kind != BRINE_TUPLE) goto done;
            d = subarray_dtype(a, d, f->u.seq.items[2], err);
        }
        if (!d) goto done;
        if (fname->u.s.n) {
            names[nf] = bp_arena_strdup(a, fname->u.s.p, fname->u.s.n);
            types[nf] = d;
            offs[nf++] = offset;
        }
        if (__builtin_add_overflow(offset, d->u.dt->itemsize, &offset)) goto done;
    }
    result = bn_dtype_struct(a, nf, names, types, offs, offset);
done:
    free(names);
    free(types);
    free(offs);
    return result;
}

brine_status bn_npy_parse(bp_arena *a, const uint8_t *data, size_t size, bn_pickle_fn run_pickle, void *ctx,
                          bv **out, brine_error *err) {
    if (size < 10 || memcmp(data, "\x93NUMPY", 6) != 0) return nfail(err, 0, "missing \\x93NUMPY magic");
    int major = data[6];
    size_t hlen, hstart;
    if (major == 1) {
        hlen = (size_t)data[8] | ((size_t)data[9] << 8);
        hstart = 10;
    } else if (major == 2 || major == 3) {
        if (size < 12) return nfail(err, 8, "truncated header length");
        hlen = (size_t)data[8] | ((size_t)data[9] << 8) | ((size_t)data[10] << 16) | ((size_t)data[11] << 24);
        hstart = 12;
    } else {
        return bi_fail(err, BRINE_E_UNSUPPORTED, 6, ".npy format version %d is not supported", major);
    }
    if (hlen > size - hstart) return nfail(err, (int64_t)hstart, "header longer than the file");
    bv *hdr;
    brine_status st = bp_literal_parse(a, (const char *)data + hstart, hlen, 0, 64, &hdr, err);
    if (st) return st;
    bv *descr = bv_dict_get(hdr, "descr"), *fortran = bv_dict_get(hdr, "fortran_order"), *shape = bv_dict_get(hdr, "shape");
    if (!descr || !fortran || fortran->kind != BRINE_BOOL || !shape || shape->kind != BRINE_TUPLE || shape->u.seq.n > 64)
        return nfail(err, (int64_t)hstart, "header lacks descr, fortran_order or shape");
    int64_t dims[64];
    for (size_t k = 0; k < shape->u.seq.n; k++)
        if (!bv_get_i64(shape->u.seq.items[k], &dims[k])) return nfail(err, (int64_t)hstart, "shape is not ints");
    bv *dtype = dtype_of_descr(a, descr, err);
    if (!dtype) return bi_fail(err, BRINE_E_UNSUPPORTED, (int64_t)hstart, "unsupported .npy descr");
    size_t body = hstart + hlen;
    if (dtype->u.dt->hasobject) {
        bv *obj;
        if (!run_pickle) return bi_fail(err, BRINE_E_UNSUPPORTED, (int64_t)body, ".npy object arrays need the pickle loader");
        st = run_pickle(ctx, data, size, body, &obj);
        if (st) return st;
        if (obj->kind != BRINE_NDARRAY || !obj->u.arr->objects)
            return nfail(err, (int64_t)body, "object array payload is not an object ndarray");
        *out = obj;
        return BRINE_OK;
    }
    int64_t count;
    uint64_t nbytes;
    if (!bn_shape_count((int)shape->u.seq.n, dims, &count) ||
        __builtin_mul_overflow((uint64_t)count, (uint64_t)dtype->u.dt->itemsize, &nbytes) || nbytes > size - body)
        return nfail(err, (int64_t)body, "array data is shorter than its shape says");
    st = bn_array_new(a, out, dtype, (int)shape->u.seq.n, dims, fortran->u.i != 0, data + body, (size_t)nbytes, NULL,
                      err, (int64_t)body);
    if (st) return st;
    (*out)->u.arr->subclass = bv_global(a, "numpy", "ndarray", NULL);
    return BRINE_OK;
}

/* descr text of a plain dtype, as numpy writes it ("<f8", "|b1", "<U3"). */
static int descr_text(const bv_dtype *dt, char *buf, size_t size) {
    if (dt->nfields || dt->subarray_base || dt->hasobject) return 0;
    size_t n = dt->kind == 'U' ? dt->itemsize / 4 : dt->itemsize;
    snprintf(buf, size, "%c%c%zu", dt->byteorder, dt->kind, n);
    return 1;
}

brine_status bn_npy_write(const bv *arr, bi_buf *out, brine_error *err) {
    char descr[32], shape[64 * 24 + 8], header[2048];
    if (arr->kind != BRINE_NDARRAY || !descr_text(arr->u.arr->dtype->u.dt, descr, sizeof descr))
        return bi_fail(err, BRINE_E_UNSUPPORTED, -1, "only plain numeric and string arrays can be written as .npy");
    const bv_array *a = arr->u.arr;
    size_t o = 0;
    o += (size_t)snprintf(shape + o, sizeof shape - o, "(");
    for (int k = 0; k < a->ndim; k++)
        o += (size_t)snprintf(shape + o, sizeof shape - o, "%lld,%s", (long long)a->shape[k], k + 1 < a->ndim ? " " : "");
    snprintf(shape + o, sizeof shape - o, ")");
    int hl = snprintf(header, sizeof header, "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr,
                      a->fortran ? "True" : "False", shape);
    /* Pad with spaces so the data starts at a multiple of 64, newline last. */
    size_t total = 10 + (size_t)hl + 1, pad = (64 - total % 64) % 64;
    bi_buf_put(out, "\x93NUMPY\x01\x00", 8);
    bi_buf_u16le(out, (uint16_t)(hl + 1 + pad));
    bi_buf_put(out, header, (size_t)hl);
    bi_buf_fill(out, ' ', pad);
    bi_buf_byte(out, '\n');
    bi_buf_put(out, a->data, a->nbytes);
    return bi_buf_ok(out) ? BRINE_OK : bi_fail(err, BRINE_E_NOMEM, -1, "out of memory writing .npy");
}
