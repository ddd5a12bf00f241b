/* copy.c — deep copies of value subgraphs into a model's own arena.
 *
 * A model must not point into the brine_file it came from, yet saving it
 * needs the estimator parameters exactly as the file held them (a
 * RandomState object, a class_weight dict, a numpy int).  be_copy copies
 * such subgraphs.  One copier is used for all the copies of one model, so a
 * node shared between two parameters stays shared, and cycles are copied as
 * cycles.
 *
 * The copy runs in two passes over an explicit list, never recursing on the
 * input's depth: the first creates an empty node for everything reachable
 * that was not copied yet, the second fills in the links.  Copies are
 * read-only: dicts and sets get no hash index (lookups by string key scan,
 * as bv_dict_get does), which is all writing them back needs. */
#include <stdlib.h>
#include <string.h>

#include "estimators/estimator.h"
#include "io/error.h"

/* ------------------------------------------------------- pointer map */

static size_t map_slot(const be_copier *c, const bv *key) {
    size_t j = ((uintptr_t)key >> 4) * 0x9e3779b97f4a7c15ull & (c->cap - 1);
    while (c->keys[j] && c->keys[j] != key) j = (j + 1) & (c->cap - 1);
    return j;
}

static int map_grow(be_copier *c) {
    size_t cap = c->cap ? 2 * c->cap : 256;
    const bv **keys = calloc(cap, sizeof *keys);
    bv **vals = calloc(cap, sizeof *vals);
    if (!keys || !vals) {
        free(keys);
        free(vals);
        return 0;
    }
    be_copier grown = *c;
    grown.keys = keys;
    grown.vals = vals;
    grown.cap = cap;
    for (size_t i = 0; i < c->cap; i++) {
        if (!c->keys[i]) continue;
        size_t j = map_slot(&grown, c->keys[i]);
        keys[j] = c->keys[i];
        vals[j] = c->vals[i];
    }
    free(c->keys);
    free(c->vals);
    *c = grown;
    return 1;
}

static bv *map_get(const be_copier *c, const bv *key) {
    if (!key || !c->cap) return NULL;
    size_t j = map_slot(c, key);
    return c->keys[j] ? c->vals[j] : NULL;
}

static int map_put(be_copier *c, const bv *key, bv *val) {
    if ((c->len + 1) * 2 > c->cap && !map_grow(c)) return 0;
    size_t j = map_slot(c, key);
    c->keys[j] = key;
    c->vals[j] = val;
    c->len++;
    return 1;
}

void be_copier_init(be_copier *c, bp_arena *dst) {
    memset(c, 0, sizeof *c);
    c->dst = dst;
}

void be_copier_free(be_copier *c) {
    free(c->keys);
    free(c->vals);
    memset(c, 0, sizeof *c);
}

/* ------------------------------------------------------------ pass 1 */

/* Pointers a node holds to other nodes, in a fixed order. */
static size_t node_children(const bv *v, size_t i, const bv **out) {
    switch (v->kind) {
    case BRINE_TUPLE: case BRINE_LIST: case BRINE_SET: case BRINE_FROZENSET:
        if (i >= v->u.seq.n) return 0;
        *out = v->u.seq.items[i];
        return 1;
    case BRINE_DICT:
        if (i >= 2 * v->u.seq.n) return 0;
        *out = v->u.seq.items[i];
        return 1;
    case BRINE_OBJECT: {
        const bv *k[5] = {v->u.obj.callable, v->u.obj.args, v->u.obj.kwargs, v->u.obj.state, v->u.obj.items};
        if (i >= 5) return 0;
        *out = k[i];
        return 1;
    }
    case BRINE_NDARRAY: case BRINE_SCALAR: {
        if (!v->u.arr || i >= 3) return 0;
        const bv *k[3] = {v->u.arr->dtype, v->u.arr->subclass, v->u.arr->objects};
        *out = k[i];
        return 1;
    }
    case BRINE_DTYPE: {
        const bv_dtype *dt = v->u.dt;
        if (!dt) return 0;
        if (i < 2 * dt->nfields) {
            *out = i % 2 ? dt->fields[i / 2].title : dt->fields[i / 2].dtype;
            return 1;
        }
        i -= 2 * dt->nfields;
        const bv *k[3] = {dt->subarray_base, dt->args, dt->state};
        if (i >= 3) return 0;
        *out = k[i];
        return 1;
    }
    case BRINE_SLICE: {
        const bv *k[3] = {v->u.slice.start, v->u.slice.stop, v->u.slice.step};
        if (i >= 3) return 0;
        *out = k[i];
        return 1;
    }
    default:
        return 0;
    }
}

static int copy_bytes(bp_arena *a, const bv *src, bv *dst) {
    dst->u.s.p = (const uint8_t *)bp_arena_strdup(a, src->u.s.p, src->u.s.n);
    dst->u.s.n = src->u.s.n;
    return dst->u.s.p != NULL;
}

/* A node of the same kind with its own payload (strings, numbers); links
 * are filled in by pass 2. */
static bv *shell(bp_arena *a, const bv *src) {
    bv *v = bv_new(a, (brine_kind)src->kind);
    if (!v) return NULL;
    v->how = src->how;
    v->flags = src->flags & (BV_F_BIGINT | BV_F_PENDING | BV_F_READONLY);
    switch (src->kind) {
    case BRINE_BOOL: v->u.i = src->u.i; break;
    case BRINE_FLOAT: v->u.f = src->u.f; break;
    case BRINE_COMPLEX: v->u.c = src->u.c; break;
    case BRINE_INT:
        if (!(src->flags & BV_F_BIGINT)) v->u.i = src->u.i;
        else if (!copy_bytes(a, src, v)) return NULL; /* a big int keeps its bytes in u.s */
        break;
    case BRINE_STR: case BRINE_BYTES: case BRINE_BYTEARRAY:
        if (!copy_bytes(a, src, v)) return NULL;
        break;
    case BRINE_GLOBAL:
        v->u.g.module = bp_arena_strdup(a, src->u.g.module, strlen(src->u.g.module));
        v->u.g.name = bp_arena_strdup(a, src->u.g.name, strlen(src->u.g.name));
        v->u.g.entry = src->u.g.entry; /* static allowlist data */
        if (!v->u.g.module || !v->u.g.name) return NULL;
        break;
    default:
        break;
    }
    return v;
}

/* Creates shells for everything reachable from root not yet copied and
 * lists the new sources in *todo. */
static int discover(be_copier *c, const bv *root, const bv ***todo, size_t *ntodo) {
    size_t cap = 64, n = 0, tcap = 64;
    const bv **stack = malloc(cap * sizeof *stack);
    const bv **list = malloc(tcap * sizeof *list);
    int ok = stack && list;
    if (ok && !map_get(c, root)) stack[n++] = root;
    while (ok && n) {
        const bv *v = stack[--n];
        if (map_get(c, v)) continue;
        bv *s = shell(c->dst, v);
        ok = s && map_put(c, v, s);
        if (ok && *ntodo == tcap) {
            const bv **g = realloc(list, 2 * tcap * sizeof *g);
            ok = g != NULL;
            if (ok) list = g, tcap *= 2;
        }
        if (!ok) break;
        list[(*ntodo)++] = v;
        const bv *child;
        for (size_t i = 0; ok && node_children(v, i, &child); i++) {
            if (!child || map_get(c, child)) continue;
            if (n == cap) {
                const bv **g = realloc(stack, 2 * cap * sizeof *g);
                ok = g != NULL;
                if (ok) stack = g, cap *= 2;
            }
            if (ok) stack[n++] = child;
        }
    }
    free(stack);
    if (!ok) {
        free(list);
        list = NULL;
    }
    *todo = list;
    return ok;
}

/* ------------------------------------------------------------ pass 2 */

static int link_seq(be_copier *c, const bv *src, bv *dst) {
    size_t per = src->kind == BRINE_DICT ? 2 : 1, n = per * src->u.seq.n;
    dst->u.seq.n = dst->u.seq.cap = src->u.seq.n;
    if (!n) return 1;
    dst->u.seq.items = bp_arena_alloc(c->dst, n * sizeof *dst->u.seq.items);
    if (!dst->u.seq.items) return 0;
    for (size_t i = 0; i < n; i++) dst->u.seq.items[i] = map_get(c, src->u.seq.items[i]);
    return 1;
}

static int link_array(be_copier *c, const bv *src, bv *dst) {
    const bv_array *s = src->u.arr;
    if (!s) return 1;
    bv_array *d = bp_arena_alloc(c->dst, sizeof *d);
    int64_t *shape = bp_arena_alloc(c->dst, ((size_t)s->ndim + 1) * sizeof *shape);
    if (!d || !shape) return 0;
    *d = *s;
    if (s->ndim) memcpy(shape, s->shape, (size_t)s->ndim * sizeof *shape);
    d->shape = shape;
    d->dtype = map_get(c, s->dtype);
    d->subclass = map_get(c, s->subclass);
    d->objects = map_get(c, s->objects);
    if (s->data) {
        d->data = (const uint8_t *)bp_arena_strdup(c->dst, s->data, s->nbytes);
        if (!d->data) return 0;
    }
    dst->u.arr = d;
    return 1;
}

static int link_dtype(be_copier *c, const bv *src, bv *dst) {
    const bv_dtype *s = src->u.dt;
    if (!s) return 1;
    bv_dtype *d = bp_arena_alloc(c->dst, sizeof *d);
    if (!d) return 0;
    *d = *s;
    if (s->nfields) {
        d->fields = bp_arena_alloc(c->dst, s->nfields * sizeof *d->fields);
        if (!d->fields) return 0;
        for (size_t k = 0; k < s->nfields; k++) {
            d->fields[k] = s->fields[k];
            d->fields[k].name = bp_arena_strdup(c->dst, s->fields[k].name, s->fields[k].name_len);
            d->fields[k].dtype = map_get(c, s->fields[k].dtype);
            d->fields[k].title = map_get(c, s->fields[k].title);
            if (!d->fields[k].name) return 0;
        }
    }
    if (s->sub_ndim > 0) {
        d->sub_shape = bp_arena_alloc(c->dst, (size_t)s->sub_ndim * sizeof *d->sub_shape);
        if (!d->sub_shape) return 0;
        memcpy(d->sub_shape, s->sub_shape, (size_t)s->sub_ndim * sizeof *d->sub_shape);
    }
    d->subarray_base = map_get(c, s->subarray_base);
    d->args = map_get(c, s->args);
    d->state = map_get(c, s->state);
    dst->u.dt = d;
    return 1;
}

static int link_node(be_copier *c, const bv *src) {
    bv *dst = map_get(c, src);
    switch (src->kind) {
    case BRINE_TUPLE: case BRINE_LIST: case BRINE_SET: case BRINE_FROZENSET: case BRINE_DICT:
        return link_seq(c, src, dst);
    case BRINE_OBJECT:
        dst->u.obj.callable = map_get(c, src->u.obj.callable);
        dst->u.obj.args = map_get(c, src->u.obj.args);
        dst->u.obj.kwargs = map_get(c, src->u.obj.kwargs);
        dst->u.obj.state = map_get(c, src->u.obj.state);
        dst->u.obj.items = map_get(c, src->u.obj.items);
        return 1;
    case BRINE_NDARRAY: case BRINE_SCALAR:
        return link_array(c, src, dst);
    case BRINE_DTYPE:
        return link_dtype(c, src, dst);
    case BRINE_SLICE:
        dst->u.slice.start = map_get(c, src->u.slice.start);
        dst->u.slice.stop = map_get(c, src->u.slice.stop);
        dst->u.slice.step = map_get(c, src->u.slice.step);
        return 1;
    default:
        return 1;
    }
}

brine_status be_copy(be_copier *c, const bv *src, bv **out, brine_error *err) {
    *out = NULL;
    if (!src) return BRINE_OK;
    const bv **todo = NULL;
    size_t n = 0;
    int ok = discover(c, src, &todo, &n);
    for (size_t i = 0; ok && i < n; i++) ok = link_node(c, todo[i]);
    free(todo);
    if (!ok) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory copying the estimator's parameters");
    *out = map_get(c, src);
    return BRINE_OK;
}
