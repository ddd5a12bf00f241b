/* writer.c — the pickle writer.  Encodings follow CPython's pickler (the
 * smallest integer opcode, batches of 1000 for APPENDS/SETITEMS/ADDITEMS,
 * 64 KiB frames, large payloads outside frames), so Python reads the output
 * as it reads its own. */
#include "pickle/writer.h"

#include <stdlib.h>
#include <string.h>

#include "io/error.h"
#include "pickle/opcodes.h"
#include "pickle/text.h"

enum { FRAME_TARGET = 64 * 1024, BATCH = 1000 };

typedef struct node_info {
    const bv *key;
    uint32_t refs;
    uint8_t busy; /* being written (guards constructor-argument cycles) */
    int64_t memo; /* -1: not memoized yet */
} node_info;

typedef struct name_slot {
    char *key;
    int64_t memo;
} name_slot;

enum task_kind { T_VALUE, T_TUPLE_END, T_BATCH, T_OP, T_CALL, T_MEMO, T_DONE };

typedef struct task {
    uint8_t kind;
    uint8_t op;
    uint8_t marked;
    const bv *node;
    size_t n;
    bp_task_fn fn;
} task;

struct bp_writer {
    bi_buf *out;
    int proto;
    bp_array_hook array_hook;
    void *user;
    brine_error *err;
    brine_status status;
    int frame_open;
    size_t frame_hdr;
    node_info *nodes;
    size_t nodes_cap, nodes_len;
    name_slot *names;
    size_t names_cap, names_len;
    int64_t memo_next;
    task *tasks;
    size_t ntasks, tasks_cap;
};

void *bp_writer_user(bp_writer *w) { return w->user; }
int bp_writer_protocol(bp_writer *w) { return w->proto; }
bi_buf *bp_writer_buf(bp_writer *w) { return w->out; }
brine_error *bp_writer_err(bp_writer *w) { return w->err; }

static void wfail(bp_writer *w, brine_status st, const char *msg) {
    if (w->status) return;
    w->status = st;
    bi_fail(w->err, st, -1, "%s", msg);
}

/* ------------------------------------------------------------ framing */

static void ensure_frame(bp_writer *w) {
    if (w->proto < 4 || w->frame_open) return;
    w->frame_hdr = w->out->len;
    bi_buf_fill(w->out, 0, 9);
    w->frame_open = 1;
}

void bp_w_end_frame(bp_writer *w) {
    if (!w->frame_open || !bi_buf_ok(w->out)) return;
    w->frame_open = 0;
    size_t body = w->out->len - w->frame_hdr - 9;
    uint8_t *hdr = w->out->data + w->frame_hdr;
    if (body < 4) { /* CPython writes chunks this small unframed */
        memmove(hdr, hdr + 9, body);
        w->out->len -= 9;
        return;
    }
    hdr[0] = BP_OP_FRAME;
    for (int k = 0; k < 8; k++) hdr[1 + k] = (uint8_t)((uint64_t)body >> (8 * k));
}

static void maybe_end_frame(bp_writer *w) {
    if (w->frame_open && w->out->len - w->frame_hdr - 9 >= FRAME_TARGET) bp_w_end_frame(w);
}

static void emit(bp_writer *w, const void *p, size_t n) {
    ensure_frame(w);
    bi_buf_put(w->out, p, n);
}

void bp_w_op(bp_writer *w, uint8_t op) { emit(w, &op, 1); }

static void emit_le(bp_writer *w, uint64_t v, int n) {
    uint8_t b[8];
    for (int k = 0; k < n; k++) b[k] = (uint8_t)(v >> (8 * k));
    emit(w, b, (size_t)n);
}

/* opcode + length + payload; large payloads go between frames. */
static void emit_counted(bp_writer *w, uint8_t op, int lw, const void *p, size_t n) {
    if (w->proto >= 4 && n >= FRAME_TARGET) {
        bp_w_end_frame(w);
        bi_buf_byte(w->out, op);
        for (int k = 0; k < lw; k++) bi_buf_byte(w->out, (uint8_t)((uint64_t)n >> (8 * k)));
        bi_buf_put(w->out, p, n);
        return;
    }
    bp_w_op(w, op);
    emit_le(w, n, lw);
    emit(w, p, n);
}

/* -------------------------------------------------------------- scalars */

static void emit_long_bytes(bp_writer *w, const uint8_t *le, size_t n) {
    if (n < 256) {
        bp_w_op(w, BP_OP_LONG1);
        uint8_t len = (uint8_t)n;
        emit(w, &len, 1);
        emit(w, le, n);
    } else {
        emit_counted(w, BP_OP_LONG4, 4, le, n);
    }
}

void bp_w_int(bp_writer *w, int64_t v) {
    if (v >= 0 && v <= 0xff) {
        bp_w_op(w, BP_OP_BININT1);
        emit_le(w, (uint64_t)v, 1);
    } else if (v >= 0 && v <= 0xffff) {
        bp_w_op(w, BP_OP_BININT2);
        emit_le(w, (uint64_t)v, 2);
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
        bp_w_op(w, BP_OP_BININT);
        emit_le(w, (uint64_t)v, 4);
    } else {
        uint8_t le[8];
        size_t n = 8;
        for (int k = 0; k < 8; k++) le[k] = (uint8_t)((uint64_t)v >> (8 * k));
        while (n > 1 && ((le[n - 1] == 0 && !(le[n - 2] & 0x80)) || (le[n - 1] == 0xff && (le[n - 2] & 0x80)))) n--;
        emit_long_bytes(w, le, n);
    }
}

void bp_w_bool(bp_writer *w, int b) { bp_w_op(w, b ? BP_OP_NEWTRUE : BP_OP_NEWFALSE); }

void bp_w_str(bp_writer *w, const char *s, size_t n) {
    if (w->proto >= 4 && n < 256) {
        bp_w_op(w, BP_OP_SHORT_BINUNICODE);
        uint8_t len = (uint8_t)n;
        emit(w, &len, 1);
        emit(w, s, n);
    } else if (n <= UINT32_MAX) {
        emit_counted(w, BP_OP_BINUNICODE, 4, s, n);
    } else {
        emit_counted(w, BP_OP_BINUNICODE8, 8, s, n);
    }
}

static void emit_float(bp_writer *w, double f) {
    uint64_t bits;
    memcpy(&bits, &f, sizeof bits);
    uint8_t be[9] = {BP_OP_BINFLOAT};
    for (int k = 0; k < 8; k++) be[1 + k] = (uint8_t)(bits >> (56 - 8 * k));
    emit(w, be, 9);
}

/* Bytes as protocol 2 must spell them: _codecs.encode(latin-1 text). */
static void emit_latin1_call(bp_writer *w, const uint8_t *p, size_t n, const char *module, const char *name,
                             int with_encoding) {
    bp_w_global(w, module, name);
    uint8_t *utf8 = malloc(n * 2 + 1);
    if (!utf8) { wfail(w, BRINE_E_NOMEM, "out of memory"); return; }
    size_t o = 0;
    for (size_t k = 0; k < n; k++) o += bp_utf8_put(utf8 + o, p[k]);
    bp_w_str(w, (const char *)utf8, o);
    free(utf8);
    if (with_encoding) {
        bp_w_str(w, "latin1", 6);
        bp_w_op(w, BP_OP_TUPLE2);
    } else {
        bp_w_op(w, BP_OP_TUPLE1);
    }
    bp_w_op(w, BP_OP_REDUCE);
}

static void emit_bytes(bp_writer *w, const uint8_t *p, size_t n) {
    if (w->proto >= 3) {
        if (n < 256) {
            bp_w_op(w, BP_OP_SHORT_BINBYTES);
            uint8_t len = (uint8_t)n;
            emit(w, &len, 1);
            emit(w, p, n);
        } else if (n <= UINT32_MAX) {
            emit_counted(w, BP_OP_BINBYTES, 4, p, n);
        } else {
            emit_counted(w, BP_OP_BINBYTES8, 8, p, n);
        }
    } else if (n == 0) {
        bp_w_global(w, "builtins", "bytes");
        bp_w_op(w, BP_OP_EMPTY_TUPLE);
        bp_w_op(w, BP_OP_REDUCE);
    } else {
        emit_latin1_call(w, p, n, "_codecs", "encode", 1);
    }
}

static void emit_bytearray(bp_writer *w, const uint8_t *p, size_t n) {
    if (w->proto >= 5) {
        emit_counted(w, BP_OP_BYTEARRAY8, 8, p, n);
        return;
    }
    bp_w_global(w, "builtins", "bytearray");
    if (w->proto >= 3) {
        emit_bytes(w, p, n);
        bp_w_op(w, BP_OP_TUPLE1);
        bp_w_op(w, BP_OP_REDUCE);
        return;
    }
    /* protocol 2: bytearray('latin-1 text', 'latin-1') */
    uint8_t *utf8 = malloc(n * 2 + 1);
    if (!utf8) { wfail(w, BRINE_E_NOMEM, "out of memory"); return; }
    size_t o = 0;
    for (size_t k = 0; k < n; k++) o += bp_utf8_put(utf8 + o, p[k]);
    bp_w_str(w, (const char *)utf8, o);
    free(utf8);
    bp_w_str(w, "latin-1", 7);
    bp_w_op(w, BP_OP_TUPLE2);
    bp_w_op(w, BP_OP_REDUCE);
}

void bp_w_int_tuple(bp_writer *w, const int64_t *v, int n) {
    if (n == 0) { bp_w_op(w, BP_OP_EMPTY_TUPLE); return; }
    if (n > 3) bp_w_op(w, BP_OP_MARK);
    for (int k = 0; k < n; k++) bp_w_int(w, v[k]);
    static const uint8_t small[] = {0, BP_OP_TUPLE1, BP_OP_TUPLE2, BP_OP_TUPLE3};
    bp_w_op(w, n <= 3 ? small[n] : BP_OP_TUPLE);
}

/* ----------------------------------------------------------------- memo */

static size_t ptr_hash(const void *p) {
    uintptr_t x = (uintptr_t)p;
    x ^= x >> 17;
    x *= 0xed5ad4bbu;
    x ^= x >> 11;
    return (size_t)x;
}

static node_info *info_find(bp_writer *w, const bv *v, int insert) {
    if (insert && (w->nodes_len + 1) * 2 > w->nodes_cap) {
        size_t cap = w->nodes_cap ? w->nodes_cap * 2 : 1024;
        node_info *n = calloc(cap, sizeof *n);
        if (!n) return NULL;
        for (size_t k = 0; k < w->nodes_cap; k++) {
            if (!w->nodes[k].key) continue;
            size_t s = ptr_hash(w->nodes[k].key) & (cap - 1);
            while (n[s].key) s = (s + 1) & (cap - 1);
            n[s] = w->nodes[k];
        }
        free(w->nodes);
        w->nodes = n;
        w->nodes_cap = cap;
    }
    if (!w->nodes_cap) return NULL;
    size_t mask = w->nodes_cap - 1, s = ptr_hash(v) & mask;
    while (w->nodes[s].key) {
        if (w->nodes[s].key == v) return &w->nodes[s];
        s = (s + 1) & mask;
    }
    if (!insert) return NULL;
    w->nodes[s].key = v;
    w->nodes[s].memo = -1;
    w->nodes_len++;
    return &w->nodes[s];
}

static void emit_put(bp_writer *w, int64_t idx) {
    if (w->proto >= 4) {
        bp_w_op(w, BP_OP_MEMOIZE);
    } else if (idx < 256) {
        bp_w_op(w, BP_OP_BINPUT);
        emit_le(w, (uint64_t)idx, 1);
    } else {
        bp_w_op(w, BP_OP_LONG_BINPUT);
        emit_le(w, (uint64_t)idx, 4);
    }
}

static void emit_get(bp_writer *w, int64_t idx) {
    if (idx < 256) {
        bp_w_op(w, BP_OP_BINGET);
        emit_le(w, (uint64_t)idx, 1);
    } else {
        bp_w_op(w, BP_OP_LONG_BINGET);
        emit_le(w, (uint64_t)idx, 4);
    }
}

/* Mutable containers and objects are always memoized, before their
 * children, as CPython does: every cycle passes through one of them, so a
 * cycle always meets a GET.  Immutable values only when shared. */
static int always_memoized(const bv *v) {
    switch (v->kind) {
    case BRINE_LIST: case BRINE_DICT: case BRINE_SET: case BRINE_OBJECT: case BRINE_NDARRAY: case BRINE_DTYPE:
        return 1;
    default:
        return 0;
    }
}

void bp_w_memoize_node(bp_writer *w, const bv *node) {
    node_info *ni = info_find(w, node, 0);
    if (!ni || ni->memo >= 0 || (ni->refs < 2 && !always_memoized(node))) return;
    ni->memo = w->memo_next++;
    emit_put(w, ni->memo);
}

static size_t str_hash(const char *s) {
    size_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

void bp_w_global(bp_writer *w, const char *module, const char *name) {
    size_t ml = strlen(module), nl = strlen(name);
    char *key = malloc(ml + nl + 2);
    if (!key) { wfail(w, BRINE_E_NOMEM, "out of memory"); return; }
    memcpy(key, module, ml);
    key[ml] = '\n';
    memcpy(key + ml + 1, name, nl + 1);
    if ((w->names_len + 1) * 2 > w->names_cap) {
        size_t cap = w->names_cap ? w->names_cap * 2 : 64;
        name_slot *n = calloc(cap, sizeof *n);
        if (!n) { free(key); wfail(w, BRINE_E_NOMEM, "out of memory"); return; }
        for (size_t k = 0; k < w->names_cap; k++) {
            if (!w->names[k].key) continue;
            size_t s = str_hash(w->names[k].key) & (cap - 1);
            while (n[s].key) s = (s + 1) & (cap - 1);
            n[s] = w->names[k];
        }
        free(w->names);
        w->names = n;
        w->names_cap = cap;
    }
    size_t mask = w->names_cap - 1, s = str_hash(key) & mask;
    while (w->names[s].key) {
        if (strcmp(w->names[s].key, key) == 0) {
            free(key);
            emit_get(w, w->names[s].memo);
            return;
        }
        s = (s + 1) & mask;
    }
    if (w->proto >= 4) {
        bp_w_str(w, module, ml);
        bp_w_str(w, name, nl);
        bp_w_op(w, BP_OP_STACK_GLOBAL);
    } else {
        bp_w_op(w, BP_OP_GLOBAL);
        key[ml] = '\n';
        emit(w, key, ml + nl + 1);
        bp_w_op(w, '\n');
    }
    w->names[s].key = key;
    w->names[s].memo = w->memo_next++;
    w->names_len++;
    emit_put(w, w->names[s].memo);
}

/* ---------------------------------------------------------------- tasks */

static brine_status push_task(bp_writer *w, task t) {
    if (w->ntasks == w->tasks_cap) {
        size_t cap = w->tasks_cap ? w->tasks_cap * 2 : 256;
        task *n = realloc(w->tasks, cap * sizeof *n);
        if (!n) {
            wfail(w, BRINE_E_NOMEM, "out of memory");
            return BRINE_E_NOMEM;
        }
        w->tasks = n;
        w->tasks_cap = cap;
    }
    w->tasks[w->ntasks++] = t;
    return BRINE_OK;
}

brine_status bp_w_push_value(bp_writer *w, const bv *node) {
    return push_task(w, (task){T_VALUE, 0, 0, node, 0, NULL});
}

brine_status bp_w_push_task(bp_writer *w, bp_task_fn fn, const bv *node) {
    return push_task(w, (task){T_CALL, 0, 0, node, 0, fn});
}

static void push_op(bp_writer *w, uint8_t op) { push_task(w, (task){T_OP, op, 0, NULL, 0, NULL}); }
static void push_memo(bp_writer *w, const bv *node) { push_task(w, (task){T_MEMO, 0, 0, node, 0, NULL}); }
static void push_done(bp_writer *w, const bv *node) { push_task(w, (task){T_DONE, 0, 0, node, 0, NULL}); }

/* Children in the order the writer visits them, for the reference count. */
static size_t children(const bv *v, const bv **out, size_t max, size_t from) {
    size_t n = 0;
#define CHILD(c) do { if ((c) && n < max) out[n++] = (c); } while (0)
    switch (v->kind) {
    case BRINE_TUPLE: case BRINE_LIST: case BRINE_SET: case BRINE_FROZENSET:
        for (size_t k = from; k < v->u.seq.n && n < max; k++) CHILD(v->u.seq.items[k]);
        break;
    case BRINE_DICT:
        for (size_t k = 2 * from; k < 2 * v->u.seq.n && n < max; k++) CHILD(v->u.seq.items[k]);
        break;
    case BRINE_OBJECT:
        if (from) break;
        CHILD(v->u.obj.callable); CHILD(v->u.obj.args); CHILD(v->u.obj.kwargs); CHILD(v->u.obj.state);
        CHILD(v->u.obj.items);
        break;
    case BRINE_NDARRAY: case BRINE_SCALAR:
        if (from) break;
        CHILD(v->u.arr->dtype); CHILD(v->u.arr->objects);
        break;
    case BRINE_DTYPE:
        if (from) break;
        CHILD(v->u.dt->args); CHILD(v->u.dt->state);
        break;
    case BRINE_SLICE:
        if (from) break;
        CHILD(v->u.slice.start); CHILD(v->u.slice.stop); CHILD(v->u.slice.step);
        break;
    default: break;
    }
#undef CHILD
    return n;
}

/* Counts references to every node reachable from root (iteratively). */
static brine_status count_refs(bp_writer *w, const bv *root) {
    size_t cap = 256, n = 0;
    struct { const bv *v; size_t from; } *stack = malloc(cap * sizeof *stack);
    if (!stack) return BRINE_E_NOMEM;
    node_info *ri = info_find(w, root, 1);
    if (!ri) { free(stack); return BRINE_E_NOMEM; }
    ri->refs = 1;
    stack[n].v = root;
    stack[n++].from = 0;
    brine_status st = BRINE_OK;
    while (n && !st) {
        const bv *v = stack[n - 1].v;
        size_t from = stack[n - 1].from;
        const bv *c[64];
        size_t got = children(v, c, 64, from);
        size_t per = (v->kind == BRINE_DICT) ? 2 : 1;
        if (got == 0 || v->kind == BRINE_OBJECT || v->kind == BRINE_NDARRAY || v->kind == BRINE_SCALAR ||
            v->kind == BRINE_DTYPE || v->kind == BRINE_SLICE)
            n--; /* fixed-arity kinds yield all children at once */
        else
            stack[n - 1].from = from + got / per;
        for (size_t k = 0; k < got; k++) {
            node_info *ci = info_find(w, c[k], 1);
            if (!ci) { st = BRINE_E_NOMEM; break; }
            if (ci->refs++ > 0) continue;
            if (n == cap) {
                void *g = realloc(stack, 2 * cap * sizeof *stack);
                if (!g) { st = BRINE_E_NOMEM; break; }
                stack = g;
                cap *= 2;
            }
            stack[n].v = c[k];
            stack[n++].from = 0;
        }
    }
    free(stack);
    return st;
}

/* Values whose encoding is a single self-contained opcode sequence. */
static int write_atom(bp_writer *w, const bv *v) {
    switch (v->kind) {
    case BRINE_NONE: bp_w_op(w, BP_OP_NONE); return 1;
    case BRINE_BOOL: bp_w_bool(w, (int)v->u.i); return 1;
    case BRINE_INT:
        if (v->flags & BV_F_BIGINT) emit_long_bytes(w, v->u.s.p, v->u.s.n);
        else bp_w_int(w, v->u.i);
        return 1;
    case BRINE_FLOAT: emit_float(w, v->u.f); return 1;
    case BRINE_STR: bp_w_str(w, (const char *)v->u.s.p, v->u.s.n); return 1;
    case BRINE_BYTES: emit_bytes(w, v->u.s.p, v->u.s.n); return 1;
    case BRINE_BYTEARRAY: emit_bytearray(w, v->u.s.p, v->u.s.n); return 1;
    case BRINE_GLOBAL: bp_w_global(w, v->u.g.module, v->u.g.name); return 1;
    case BRINE_COMPLEX:
        bp_w_global(w, "builtins", "complex");
        emit_float(w, v->u.c.re);
        emit_float(w, v->u.c.im);
        bp_w_op(w, BP_OP_TUPLE2);
        bp_w_op(w, BP_OP_REDUCE);
        return 1;
    default: return 0;
    }
}

static const uint8_t batch_op[][2] = {
    /* single item, several items */
    [BRINE_LIST] = {BP_OP_APPEND, BP_OP_APPENDS},
    [BRINE_DICT] = {BP_OP_SETITEM, BP_OP_SETITEMS},
    [BRINE_SET] = {BP_OP_ADDITEMS, BP_OP_ADDITEMS},
};

/* Items [from, from+1000) of a list, dict or set, then the rest. */
static void run_batch(bp_writer *w, const bv *c, size_t from) {
    size_t total = c->u.seq.n, end = from + BATCH < total ? from + BATCH : total;
    if (from >= total) return;
    int several = end - from > 1 || c->kind == BRINE_SET;
    if (end < total) push_task(w, (task){T_BATCH, 0, 0, c, end, NULL});
    push_op(w, batch_op[c->kind][several]);
    size_t per = c->kind == BRINE_DICT ? 2 : 1;
    for (size_t k = end * per; k > from * per; k--) bp_w_push_value(w, c->u.seq.items[k - 1]);
    if (several) bp_w_op(w, BP_OP_MARK);
}

static void write_tuple(bp_writer *w, const bv *t) {
    size_t n = t->u.seq.n;
    if (n == 0) { /* shared () keeps its identity in brine's graph too */
        bp_w_op(w, BP_OP_EMPTY_TUPLE);
        bp_w_memoize_node(w, t);
        return;
    }
    int marked = n > 3 || w->proto < 2;
    push_task(w, (task){T_TUPLE_END, 0, (uint8_t)marked, t, n, NULL});
    for (size_t k = n; k > 0; k--) bp_w_push_value(w, t->u.seq.items[k - 1]);
    if (marked) bp_w_op(w, BP_OP_MARK);
}

/* After a tuple's items: if writing them memoized the tuple (a cycle
 * through a list or dict), drop the items and fetch it, as CPython does. */
static void end_tuple(bp_writer *w, const task *t) {
    node_info *ni = info_find(w, t->node, 0);
    if (ni && ni->memo >= 0) {
        if (t->marked) bp_w_op(w, BP_OP_POP_MARK);
        else for (size_t k = 0; k < t->n; k++) bp_w_op(w, BP_OP_POP);
        emit_get(w, ni->memo);
        return;
    }
    static const uint8_t small[] = {0, BP_OP_TUPLE1, BP_OP_TUPLE2, BP_OP_TUPLE3};
    bp_w_op(w, t->marked ? BP_OP_TUPLE : small[t->n]);
    bp_w_memoize_node(w, t->node);
}

/* sets and frozensets below protocol 4: builtins.set([items]). */
static void write_set_reduce(bp_writer *w, const bv *s, int frozen) {
    bp_w_global(w, "builtins", frozen ? "frozenset" : "set");
    push_memo(w, s);
    push_op(w, BP_OP_REDUCE);
    push_op(w, BP_OP_TUPLE1);
    push_op(w, BP_OP_LIST);
    for (size_t k = s->u.seq.n; k > 0; k--) bp_w_push_value(w, s->u.seq.items[k - 1]);
    bp_w_op(w, BP_OP_MARK);
}

static void write_container(bp_writer *w, const bv *c) {
    switch (c->kind) {
    case BRINE_LIST: bp_w_op(w, BP_OP_EMPTY_LIST); break;
    case BRINE_DICT: bp_w_op(w, BP_OP_EMPTY_DICT); break;
    default: bp_w_op(w, BP_OP_EMPTY_SET); break;
    }
    bp_w_memoize_node(w, c);
    run_batch(w, c, 0);
}

static void write_frozenset(bp_writer *w, const bv *s) {
    push_memo(w, s);
    push_op(w, BP_OP_FROZENSET);
    for (size_t k = s->u.seq.n; k > 0; k--) bp_w_push_value(w, s->u.seq.items[k - 1]);
    bp_w_op(w, BP_OP_MARK);
}

/* callable, args, REDUCE|NEWOBJ, memo, [state, BUILD]. */
static void write_object(bp_writer *w, const bv *o) {
    node_info *ni = info_find(w, o, 0);
    if (ni && ni->busy) {
        wfail(w, BRINE_E_UNSUPPORTED, "an object is reachable from its own constructor arguments; it cannot be pickled");
        return;
    }
    if (ni) ni->busy = 1;
    if (o->u.obj.state) {
        push_op(w, BP_OP_BUILD);
        bp_w_push_value(w, o->u.obj.state);
    }
    /* A dict subclass's items go before its state, as pickle's save_reduce
     * writes dictitems. */
    if (o->u.obj.items) push_task(w, (task){T_BATCH, 0, 0, o->u.obj.items, 0, NULL});
    push_memo(w, o);
    push_done(w, o);
    if (o->how == BV_HOW_NEWOBJ) {
        push_op(w, BP_OP_NEWOBJ);
    } else {
        push_op(w, BP_OP_REDUCE);
    }
    bp_w_push_value(w, o->u.obj.args);
    bp_w_push_value(w, o->u.obj.callable);
}

static void write_dtype(bp_writer *w, const bv *d) {
    if (d->u.dt->state) { /* a dtype REDUCEd without BUILD has none */
        push_op(w, BP_OP_BUILD);
        bp_w_push_value(w, d->u.dt->state);
    }
    push_memo(w, d);
    push_op(w, BP_OP_REDUCE);
    bp_w_push_value(w, d->u.dt->args);
    bp_w_global(w, "numpy", "dtype");
}

/* Array data as bytes; protocol 2 needs _codecs.encode. */
static brine_status task_array_state_end(bp_writer *w, const bv *a) {
    const bv_array *arr = a->u.arr;
    bp_w_bool(w, arr->fortran);
    emit_bytes(w, arr->data, arr->nbytes);
    bp_w_op(w, BP_OP_TUPLE);
    bp_w_op(w, BP_OP_BUILD);
    return BRINE_OK;
}

/* numpy's classic form: _reconstruct(ndarray, (0,), b'b') + BUILD state. */
static void write_ndarray(bp_writer *w, const bv *a) {
    const bv_array *arr = a->u.arr;
    bp_w_global(w, "numpy.core.multiarray", "_reconstruct");
    bp_w_global(w, "numpy", arr->subclass && !strcmp(arr->subclass->u.g.name, "matrix") ? "matrix" : "ndarray");
    int64_t zero = 0;
    bp_w_int_tuple(w, &zero, 1);
    emit_bytes(w, (const uint8_t *)"b", 1);
    bp_w_op(w, BP_OP_TUPLE3);
    bp_w_op(w, BP_OP_REDUCE);
    bp_w_memoize_node(w, a);
    bp_w_op(w, BP_OP_MARK);
    bp_w_int(w, 1);
    bp_w_int_tuple(w, arr->shape, arr->ndim);
    if (arr->objects) {
        push_op(w, BP_OP_BUILD);
        push_op(w, BP_OP_TUPLE);
        bp_w_push_value(w, arr->objects);
        push_op(w, arr->fortran ? BP_OP_NEWTRUE : BP_OP_NEWFALSE);
    } else {
        bp_w_push_task(w, task_array_state_end, a);
    }
    bp_w_push_value(w, arr->dtype);
}

static void write_scalar(bp_writer *w, const bv *s) {
    bp_w_global(w, "numpy.core.multiarray", "scalar");
    push_memo(w, s);
    push_op(w, BP_OP_REDUCE);
    push_task(w, (task){T_CALL, 0, 0, s, 0, NULL});
    bp_w_push_value(w, s->u.arr->dtype);
}

static void write_slice(bp_writer *w, const bv *s) {
    bp_w_global(w, "builtins", "slice");
    push_memo(w, s);
    push_op(w, BP_OP_REDUCE);
    push_op(w, BP_OP_TUPLE3);
    bp_w_push_value(w, s->u.slice.step);
    bp_w_push_value(w, s->u.slice.stop);
    bp_w_push_value(w, s->u.slice.start);
}

static void write_value(bp_writer *w, const bv *v) {
    node_info *ni = info_find(w, v, 0);
    if (ni && ni->memo >= 0) {
        emit_get(w, ni->memo);
        return;
    }
    if (write_atom(w, v)) {
        if (v->kind != BRINE_GLOBAL) bp_w_memoize_node(w, v);
        return;
    }
    switch (v->kind) {
    case BRINE_TUPLE: write_tuple(w, v); break;
    case BRINE_LIST: case BRINE_DICT: write_container(w, v); break;
    case BRINE_SET:
        if (w->proto >= 4) write_container(w, v);
        else write_set_reduce(w, v, 0);
        break;
    case BRINE_FROZENSET:
        if (w->proto >= 4) write_frozenset(w, v);
        else write_set_reduce(w, v, 1);
        break;
    case BRINE_OBJECT: write_object(w, v); break;
    case BRINE_DTYPE: write_dtype(w, v); break;
    case BRINE_NDARRAY:
        if (v->flags & BV_F_PENDING) { wfail(w, BRINE_E_UNSUPPORTED, "an ndarray without state cannot be written"); break; }
        if (w->array_hook) { brine_status st = w->array_hook(w, v); if (st) wfail(w, st, "array hook failed"); }
        else write_ndarray(w, v);
        break;
    case BRINE_SCALAR: write_scalar(w, v); break;
    case BRINE_SLICE: write_slice(w, v); break;
    default: wfail(w, BRINE_E_UNSUPPORTED, "a value of this kind cannot be pickled"); break;
    }
}

static void run_task(bp_writer *w, const task *t) {
    switch (t->kind) {
    case T_VALUE: write_value(w, t->node); break;
    case T_TUPLE_END: end_tuple(w, t); break;
    case T_BATCH: run_batch(w, t->node, t->n); break;
    case T_OP: bp_w_op(w, t->op); break;
    case T_MEMO: bp_w_memoize_node(w, t->node); break;
    case T_DONE: {
        node_info *ni = info_find(w, t->node, 0);
        if (ni) ni->busy = 0;
        break;
    }
    case T_CALL:
        if (t->fn) {
            brine_status st = t->fn(w, t->node);
            if (st) wfail(w, st, "writer task failed");
        } else { /* scalar payload: (dtype, item bytes) */
            emit_bytes(w, t->node->u.arr->data, t->node->u.arr->nbytes);
            bp_w_op(w, BP_OP_TUPLE2);
        }
        break;
    }
}

brine_status bp_write(bi_buf *out, const bv *root, const bp_write_options *opts, brine_error *err) {
    bp_writer w;
    memset(&w, 0, sizeof w);
    w.out = out;
    w.proto = opts->protocol ? opts->protocol : 4;
    w.array_hook = opts->array_hook;
    w.user = opts->user;
    w.err = err;
    if (w.proto < 2 || w.proto > 5) return bi_fail(err, BRINE_E_ARGUMENT, -1, "pickle protocol %d is not supported for writing (2..5)", w.proto);
    if (count_refs(&w, root)) {
        wfail(&w, BRINE_E_NOMEM, "out of memory");
    } else {
        uint8_t hdr[2] = {BP_OP_PROTO, (uint8_t)w.proto};
        bi_buf_put(out, hdr, 2);
        bp_w_push_value(&w, root);
        while (w.ntasks && !w.status) {
            task t = w.tasks[--w.ntasks];
            run_task(&w, &t);
            maybe_end_frame(&w);
        }
        bp_w_op(&w, BP_OP_STOP);
        bp_w_end_frame(&w);
    }
    if (!w.status && !bi_buf_ok(out)) wfail(&w, BRINE_E_NOMEM, "out of memory");
    for (size_t k = 0; k < w.names_cap; k++) free(w.names[k].key);
    free(w.names);
    free(w.nodes);
    free(w.tasks);
    return w.status;
}
