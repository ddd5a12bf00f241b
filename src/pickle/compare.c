#include "pickle/compare.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct pair {
    const bv *a, *b;
} pair;

typedef struct pmap {
    pair *slots;
    size_t cap, len;
} pmap;

/* Maps a-nodes to the b-node they were matched with; 0 on allocation
 * failure, -1 when a was matched with another b, 1 otherwise. */
static int pmap_match(pmap *m, const bv *a, const bv *b, int *fresh) {
    if ((m->len + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 256;
        pair *s = calloc(cap, sizeof *s);
        if (!s) return 0;
        for (size_t k = 0; k < m->cap; k++) {
            if (!m->slots[k].a) continue;
            size_t j = ((uintptr_t)m->slots[k].a >> 4) & (cap - 1);
            while (s[j].a) j = (j + 1) & (cap - 1);
            s[j] = m->slots[k];
        }
        free(m->slots);
        m->slots = s;
        m->cap = cap;
    }
    size_t j = ((uintptr_t)a >> 4) & (m->cap - 1);
    while (m->slots[j].a) {
        if (m->slots[j].a == a) {
            *fresh = 0;
            return m->slots[j].b == b ? 1 : -1;
        }
        j = (j + 1) & (m->cap - 1);
    }
    m->slots[j] = (pair){a, b};
    m->len++;
    *fresh = 1;
    return 1;
}

static int same_bytes(const bv *a, const bv *b) {
    return a->u.s.n == b->u.s.n && (a->u.s.n == 0 || memcmp(a->u.s.p, b->u.s.p, a->u.s.n) == 0);
}

/* Compares the node itself and pushes its children pairs. */
static int shallow(const bv *a, const bv *b, pair *kids, size_t *nk, const char **why) {
    *nk = 0;
    if (a->kind != b->kind) { *why = "kinds differ"; return 0; }
    switch (a->kind) {
    case BRINE_NONE: return 1;
    case BRINE_BOOL: return a->u.i == b->u.i || (*why = "bools differ", 0);
    case BRINE_INT:
        if ((a->flags & BV_F_BIGINT) != (b->flags & BV_F_BIGINT)) { *why = "ints differ"; return 0; }
        if (a->flags & BV_F_BIGINT) return same_bytes(a, b) || (*why = "big ints differ", 0);
        return a->u.i == b->u.i || (*why = "ints differ", 0);
    case BRINE_FLOAT: return memcmp(&a->u.f, &b->u.f, sizeof a->u.f) == 0 || (*why = "floats differ", 0);
    case BRINE_COMPLEX: return memcmp(&a->u.c, &b->u.c, sizeof a->u.c) == 0 || (*why = "complex differ", 0);
    case BRINE_STR: case BRINE_BYTES: case BRINE_BYTEARRAY: return same_bytes(a, b) || (*why = "bytes differ", 0);
    case BRINE_GLOBAL:
        return (!strcmp(a->u.g.module, b->u.g.module) && !strcmp(a->u.g.name, b->u.g.name)) || (*why = "globals differ", 0);
    case BRINE_SLICE:
        kids[0] = (pair){a->u.slice.start, b->u.slice.start};
        kids[1] = (pair){a->u.slice.stop, b->u.slice.stop};
        kids[2] = (pair){a->u.slice.step, b->u.slice.step};
        *nk = 3;
        return 1;
    case BRINE_OBJECT:
        if (a->how != b->how || !a->u.obj.state != !b->u.obj.state) { *why = "objects differ"; return 0; }
        kids[(*nk)++] = (pair){a->u.obj.callable, b->u.obj.callable};
        kids[(*nk)++] = (pair){a->u.obj.args, b->u.obj.args};
        if (a->u.obj.state) kids[(*nk)++] = (pair){a->u.obj.state, b->u.obj.state};
        if (!a->u.obj.items != !b->u.obj.items) { *why = "object items differ"; return 0; }
        if (a->u.obj.items) kids[(*nk)++] = (pair){a->u.obj.items, b->u.obj.items};
        return 1;
    case BRINE_DTYPE: {
        const bv_dtype *x = a->u.dt, *y = b->u.dt;
        if (x->kind != y->kind || x->byteorder != y->byteorder || x->itemsize != y->itemsize || x->nfields != y->nfields) {
            *why = "dtypes differ";
            return 0;
        }
        for (size_t k = 0; k < x->nfields; k++) {
            if (x->fields[k].offset != y->fields[k].offset || strcmp(x->fields[k].name, y->fields[k].name)) {
                *why = "dtype fields differ";
                return 0;
            }
        }
        return 1;
    }
    case BRINE_NDARRAY: case BRINE_SCALAR: {
        const bv_array *x = a->u.arr, *y = b->u.arr;
        if (x->ndim != y->ndim || x->fortran != y->fortran || x->nbytes != y->nbytes ||
            (x->ndim && memcmp(x->shape, y->shape, (size_t)x->ndim * sizeof *x->shape)) ||
            (x->nbytes && memcmp(x->data, y->data, x->nbytes))) {
            *why = "arrays differ";
            return 0;
        }
        kids[(*nk)++] = (pair){x->dtype, y->dtype};
        if (x->objects || y->objects) {
            if (!x->objects || !y->objects) { *why = "object arrays differ"; return 0; }
            kids[(*nk)++] = (pair){x->objects, y->objects};
        }
        return 1;
    }
    default:
        if (a->u.seq.n != b->u.seq.n) { *why = "container lengths differ"; return 0; }
        return 1; /* items are pushed by the caller */
    }
}

int bp_graph_equal(const bv *a, const bv *b, char *why, size_t why_size) {
    pmap m = {0};
    size_t cap = 256, n = 0;
    pair *stack = malloc(cap * sizeof *stack);
    const char *reason = NULL;
    int ok = stack != NULL;
    if (ok) stack[n++] = (pair){a, b};
    while (ok && n) {
        pair p = stack[--n];
        if (!p.a || !p.b) {
            if (p.a != p.b) { ok = 0; reason = "one side is missing"; }
            continue;
        }
        int fresh;
        int r = pmap_match(&m, p.a, p.b, &fresh);
        if (r <= 0) { ok = 0; reason = r ? "sharing differs" : "out of memory"; break; }
        if (!fresh) continue;
        pair kids[4];
        size_t nk;
        if (!shallow(p.a, p.b, kids, &nk, &reason)) { ok = 0; break; }
        int seq = p.a->kind == BRINE_TUPLE || p.a->kind == BRINE_LIST || p.a->kind == BRINE_SET ||
                  p.a->kind == BRINE_FROZENSET || p.a->kind == BRINE_DICT;
        size_t count = seq ? p.a->u.seq.n * (p.a->kind == BRINE_DICT ? 2 : 1) : nk;
        if (n + count > cap) {
            while (n + count > cap) cap *= 2;
            pair *g = realloc(stack, cap * sizeof *stack);
            if (!g) { ok = 0; reason = "out of memory"; break; }
            stack = g;
        }
        for (size_t k = 0; k < count; k++)
            stack[n++] = seq ? (pair){p.a->u.seq.items[k], p.b->u.seq.items[k]} : kids[k];
    }
    free(stack);
    free(m.slots);
    if (!ok && why) snprintf(why, why_size, "%s", reason ? reason : "graphs differ");
    return ok;
}
