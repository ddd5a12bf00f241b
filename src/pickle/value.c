#include "pickle/value.h"

#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "io/error.h"
#include "io/mem.h"

/* ---------------------------------------------------------------- arena */

struct bp_arena_block {
    bp_arena_block *next;
    size_t size, used;
    int mapped; /* from bi_populated_map: zeroed, and unmapped rather than freed */
    _Alignas(16) unsigned char data[];
};

enum { ARENA_CHUNK = 64 * 1024 };

void bp_arena_init(bp_arena *a, uint64_t limit) {
    memset(a, 0, sizeof *a);
    a->limit = limit ? limit : UINT64_MAX;
    /* A per-arena key makes colliding keys unpredictable (SECURITY F12). */
    if (sodium_init() >= 0) randombytes_buf(a->hash_key, sizeof a->hash_key);
}

void bp_arena_free(bp_arena *a) {
    bp_arena_block *b = a->head;
    while (b) {
        bp_arena_block *next = b->next;
        if (b->mapped) bi_unmap(b, sizeof *b + b->size);
        else free(b);
        b = next;
    }
    a->head = NULL;
    a->used = 0;
}


void *bp_arena_alloc(bp_arena *a, size_t size) {
#ifdef BI_SANITIZED
    /* Sanitizer builds: one malloc per allocation so ASan sees every
     * overflow between arena objects. */
    if (size > a->limit || a->used > a->limit - size || size > SIZE_MAX - sizeof(bp_arena_block)) return NULL;
    bp_arena_block *eb = malloc(sizeof *eb + (size ? size : 1));
    if (!eb) return NULL;
    eb->size = eb->used = size;
    eb->mapped = 0;
    eb->next = a->head;
    a->head = eb;
    a->used += size;
    memset(eb->data, 0, size ? size : 1);
    return eb->data;
#endif
    size = (size + 15) & ~(size_t)15;
    if (size == 0) size = 16;
    if (size > a->limit || a->used > a->limit - size) return NULL;
    bp_arena_block *b = a->head;
    if (!b || b->size - b->used < size) {
        /* Big requests get a block of their own so small ones keep packing. */
        size_t bsize = size > ARENA_CHUNK / 4 ? size : ARENA_CHUNK;
        /* An arena that outgrows its first block takes its next chunks (and
         * big blocks of their own) with their pages faulted in at once:
         * filling them page fault by page fault was a third of a small
         * forest's cold start on a virtual machine. */
        int map = bsize >= ARENA_CHUNK && (b || bsize > ARENA_CHUNK) && bsize <= SIZE_MAX - sizeof(bp_arena_block);
        bp_arena_block *nb = map ? bi_populated_map(sizeof *nb + bsize) : NULL;
        int mapped = nb != NULL;
        if (!nb) nb = malloc(sizeof *nb + bsize);
        if (!nb) return NULL;
        nb->size = bsize;
        nb->used = 0;
        nb->mapped = mapped;
        if (b && size > ARENA_CHUNK / 4) {
            /* Keep the current small-allocation block at the head. */
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            a->head = nb;
        }
        b = nb;
    }
    void *p = b->data + b->used;
    b->used += size;
    a->used += size;
    if (!b->mapped) memset(p, 0, size); /* a mapped block's bytes are still zero: blocks are never reused */
    return p;
}

char *bp_arena_strdup(bp_arena *a, const void *p, size_t n) {
    if (n == SIZE_MAX) return NULL;
    char *s = bp_arena_alloc(a, n + 1);
    if (!s) return NULL;
    if (n) memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* -------------------------------------------------------- constructors */

bv *bv_new(bp_arena *a, brine_kind kind) {
    bv *v = bp_arena_alloc(a, sizeof *v);
    if (!v) return NULL;
    v->kind = (uint8_t)kind;
    v->id = a->next_id++;
    return v;
}

bv *bv_none(bp_arena *a) { return bv_new(a, BRINE_NONE); }

bv *bv_bool(bp_arena *a, int b) {
    bv *v = bv_new(a, BRINE_BOOL);
    if (v) v->u.i = b ? 1 : 0;
    return v;
}

bv *bv_int(bp_arena *a, int64_t i) {
    bv *v = bv_new(a, BRINE_INT);
    if (v) v->u.i = i;
    return v;
}

bv *bv_int_le(bp_arena *a, const uint8_t *p, size_t n) {
    /* Drop redundant sign-extension bytes, then see whether int64 holds it. */
    while (n > 1 && ((p[n - 1] == 0x00 && !(p[n - 2] & 0x80)) ||
                     (p[n - 1] == 0xff && (p[n - 2] & 0x80))))
        n--;
    if (n <= 8) {
        uint64_t u = 0;
        for (size_t k = 0; k < n; k++) u |= (uint64_t)p[k] << (8 * k);
        if (n > 0 && n < 8 && (p[n - 1] & 0x80)) u |= ~(uint64_t)0 << (8 * n);
        return bv_int(a, (int64_t)u);
    }
    bv *v = bv_new(a, BRINE_INT);
    if (!v) return NULL;
    uint8_t *copy = bp_arena_alloc(a, n);
    if (!copy) return NULL;
    memcpy(copy, p, n);
    v->flags |= BV_F_BIGINT;
    v->u.s.p = copy;
    v->u.s.n = n;
    return v;
}

bv *bv_float(bp_arena *a, double f) {
    bv *v = bv_new(a, BRINE_FLOAT);
    if (v) v->u.f = f;
    return v;
}

bv *bv_bytes_kind(bp_arena *a, brine_kind kind, const void *p, size_t n, int copy) {
    bv *v = bv_new(a, kind);
    if (!v) return NULL;
    if (copy) {
        char *c = bp_arena_strdup(a, p, n);
        if (!c) return NULL;
        v->u.s.p = (const uint8_t *)c;
    } else {
        v->u.s.p = n ? p : (const uint8_t *)"";
    }
    v->u.s.n = n;
    return v;
}

bv *bv_str(bp_arena *a, const char *s) { return bv_bytes_kind(a, BRINE_STR, s, strlen(s), 1); }

bv *bv_global(bp_arena *a, const char *module, const char *name, const bp_global *entry) {
    bv *v = bv_new(a, BRINE_GLOBAL);
    if (!v) return NULL;
    v->u.g.module = bp_arena_strdup(a, module, strlen(module));
    v->u.g.name = bp_arena_strdup(a, name, strlen(name));
    v->u.g.entry = entry;
    return (v->u.g.module && v->u.g.name) ? v : NULL;
}

/* ------------------------------------------------------------- hashing */

static uint64_t hash_bytes(const bp_arena *a, unsigned tag, const void *p, size_t n) {
    unsigned char out[crypto_shorthash_BYTES];
    /* The tag keeps str, bytes and globals with equal bytes apart. */
    uint64_t h;
    crypto_shorthash(out, p, n, a->hash_key);
    memcpy(&h, out, sizeof h);
    return h ^ ((uint64_t)tag * 0x9e3779b97f4a7c15ull);
}

/* Numbers that compare equal in Python must hash equal: integral floats
 * hash as the integer, True as 1. */
static int number_as_i64(const bv *v, int64_t *out) {
    if (v->kind == BRINE_BOOL || (v->kind == BRINE_INT && !(v->flags & BV_F_BIGINT))) {
        *out = v->u.i;
        return 1;
    }
    if (v->kind == BRINE_FLOAT) {
        double f = v->u.f;
        if (f == floor(f) && f >= -9223372036854775808.0 && f < 9223372036854775808.0) {
            *out = (int64_t)f;
            return 1;
        }
    }
    return 0;
}

int bv_is_hashable(const bv *v) {
    switch (v->kind) {
    case BRINE_LIST: case BRINE_DICT: case BRINE_SET: case BRINE_BYTEARRAY:
    case BRINE_NDARRAY: case BRINE_SLICE:
        return 0;
    default:
        return 1;
    }
}

static uint64_t leaf_hash(const bp_arena *a, const bv *v) {
    int64_t i;
    if (number_as_i64(v, &i)) return hash_bytes(a, 1, &i, sizeof i);
    switch (v->kind) {
    case BRINE_NONE: return hash_bytes(a, 2, "", 0);
    case BRINE_FLOAT: return hash_bytes(a, 3, &v->u.f, sizeof v->u.f);
    case BRINE_INT: return hash_bytes(a, 4, v->u.s.p, v->u.s.n);
    case BRINE_STR: return hash_bytes(a, 5, v->u.s.p, v->u.s.n);
    case BRINE_BYTES: return hash_bytes(a, 6, v->u.s.p, v->u.s.n);
    case BRINE_COMPLEX:
        if (v->u.c.im == 0.0) {
            bv tmp = *v;
            tmp.kind = BRINE_FLOAT;
            tmp.u.f = v->u.c.re;
            return leaf_hash(a, &tmp);
        }
        return hash_bytes(a, 7, &v->u.c, sizeof v->u.c);
    case BRINE_GLOBAL: {
        uint64_t h1 = hash_bytes(a, 8, v->u.g.module, strlen(v->u.g.module));
        return h1 ^ hash_bytes(a, 9, v->u.g.name, strlen(v->u.g.name));
    }
    default: /* objects, scalars, dtypes: identity, as object.__hash__ */
        return hash_bytes(a, 10, &v, sizeof v);
    }
}

/* Hash of a key; tuples and frozensets combine their items' hashes, which
 * are computed bottom-up with an explicit stack and cached in the nodes
 * (immutable kinds only), so key nesting never uses the C stack. */
static int key_hash(const bp_arena *a, bv *key, uint64_t *out) {
    if (key->kind != BRINE_TUPLE && key->kind != BRINE_FROZENSET) {
        *out = leaf_hash(a, key);
        return 1;
    }
    if (key->flags & BV_F_HASHED) { *out = key->cached_hash; return 1; }
    size_t cap = 16, n = 0;
    bv **stack = malloc(cap * sizeof *stack);
    if (!stack) return 0;
    stack[n++] = key;
    while (n) {
        bv *t = stack[n - 1];
        int ready = 1;
        for (size_t k = 0; k < t->u.seq.n; k++) {
            bv *c = t->u.seq.items[k];
            if ((c->kind == BRINE_TUPLE || c->kind == BRINE_FROZENSET) && !(c->flags & BV_F_HASHED)) {
                if (n == cap) {
                    bv **grown = realloc(stack, 2 * cap * sizeof *stack);
                    if (!grown) { free(stack); return 0; }
                    stack = grown;
                    cap *= 2;
                }
                stack[n++] = c;
                ready = 0;
                break;
            }
        }
        if (!ready) continue;
        uint64_t h = t->kind == BRINE_TUPLE ? 0x345678u : 0x1f2e3d4cu;
        for (size_t k = 0; k < t->u.seq.n; k++) {
            bv *c = t->u.seq.items[k];
            uint64_t ch = (c->flags & BV_F_HASHED) ? c->cached_hash : leaf_hash(a, c);
            if (t->kind == BRINE_TUPLE) h = (h ^ ch) * 1000003u + k;
            else h += ch * 0x9e3779b97f4a7c15ull; /* order-free */
        }
        t->cached_hash = h;
        t->flags |= BV_F_HASHED;
        n--;
    }
    free(stack);
    *out = key->cached_hash;
    return 1;
}

static int set_contains(const bp_arena *a, const bv *set, const bv *item, int depth);

static int key_equal_depth(const bp_arena *a, const bv *x, const bv *y, int depth) {
    if (x == y) return 1;
    int64_t i, j;
    if (number_as_i64(x, &i) && number_as_i64(y, &j)) return i == j;
    if (x->kind == BRINE_FLOAT && y->kind == BRINE_FLOAT) return x->u.f == y->u.f;
    if (x->kind != y->kind) return 0;
    switch (x->kind) {
    case BRINE_NONE: return 1;
    case BRINE_INT: /* both big: canonical encodings compare bytewise */
    case BRINE_STR:
    case BRINE_BYTES:
        return x->u.s.n == y->u.s.n && memcmp(x->u.s.p, y->u.s.p, x->u.s.n) == 0;
    case BRINE_COMPLEX: return x->u.c.re == y->u.c.re && x->u.c.im == y->u.c.im;
    case BRINE_GLOBAL:
        return strcmp(x->u.g.module, y->u.g.module) == 0 && strcmp(x->u.g.name, y->u.g.name) == 0;
    case BRINE_TUPLE:
        if (x->u.seq.n != y->u.seq.n || depth > 64) return 0;
        for (size_t k = 0; k < x->u.seq.n; k++)
            if (!key_equal_depth(a, x->u.seq.items[k], y->u.seq.items[k], depth + 1)) return 0;
        return 1;
    case BRINE_FROZENSET:
        if (x->u.seq.n != y->u.seq.n || depth > 64) return 0;
        for (size_t k = 0; k < x->u.seq.n; k++)
            if (!set_contains(a, y, x->u.seq.items[k], depth + 1)) return 0;
        return 1;
    default:
        return 0;
    }
}

int bv_key_equal(const bp_arena *a, const bv *x, const bv *y) { return key_equal_depth(a, x, y, 0); }

/* ---------------------------------------------------- dicts and sets */

/* Index slots hold position+1 (0 = empty); positions count keys. */
static size_t key_count(const bv *c) { return c->u.seq.n; }
static bv *key_at(const bv *c, size_t pos) {
    return c->kind == BRINE_DICT ? c->u.seq.items[2 * pos] : c->u.seq.items[pos];
}

static int index_rebuild(bp_arena *a, bv *c) {
    size_t cap = 64;
    while (cap < key_count(c) * 2 + 2) cap *= 2;
    uint32_t *idx = bp_arena_alloc(a, cap * sizeof *idx);
    if (!idx) return 0;
    for (size_t pos = 0; pos < key_count(c); pos++) {
        bv *k = key_at(c, pos);
        size_t slot = (size_t)k->cached_hash & (cap - 1);
        while (idx[slot]) slot = (slot + 1) & (cap - 1);
        idx[slot] = (uint32_t)(pos + 1);
    }
    c->u.seq.index = idx;
    c->u.seq.index_cap = cap;
    return 1;
}

/* Position of an equal key, or -1.  Keys in containers always carry their
 * hash (set when inserted). */
static long find_key(const bp_arena *a, const bv *c, const bv *key, uint64_t h, int depth) {
    if (!c->u.seq.index) {
        for (size_t pos = 0; pos < key_count(c); pos++) {
            const bv *k = key_at(c, pos);
            if (k->cached_hash == h && key_equal_depth(a, k, key, depth)) return (long)pos;
        }
        return -1;
    }
    size_t mask = c->u.seq.index_cap - 1;
    for (size_t slot = (size_t)h & mask; c->u.seq.index[slot]; slot = (slot + 1) & mask) {
        size_t pos = c->u.seq.index[slot] - 1;
        const bv *k = key_at(c, pos);
        if (k->cached_hash == h && key_equal_depth(a, k, key, depth)) return (long)pos;
    }
    return -1;
}

static int set_contains(const bp_arena *a, const bv *set, const bv *item, int depth) {
    uint64_t h;
    if (!key_hash(a, (bv *)item, &h)) return 0;
    return find_key(a, set, item, h, depth) >= 0;
}

/* Non-tuple keys cache their hash too, so lookups never rehash. */
static brine_status prepare_key(const bp_arena *a, bv *key, uint64_t *h, brine_error *err,
                                int64_t offset) {
    if (!bv_is_hashable(key))
        return bi_fail(err, BRINE_E_FORMAT, offset, "unhashable type '%s' used as a dict key or set element",
                       brine_kind_name((brine_kind)key->kind));
    if (key->kind == BRINE_TUPLE || key->kind == BRINE_FROZENSET) {
        for (size_t k = 0; k < key->u.seq.n; k++) {
            /* Python hashes a tuple by hashing its items: a list inside fails. */
            const bv *c = key->u.seq.items[k];
            if (!bv_is_hashable(c))
                return bi_fail(err, BRINE_E_FORMAT, offset, "unhashable type '%s' inside a key",
                               brine_kind_name((brine_kind)c->kind));
        }
        if (!key_hash(a, key, h)) return bi_fail(err, BRINE_E_NOMEM, offset, "out of memory hashing a key");
        return BRINE_OK;
    }
    *h = leaf_hash(a, key);
    key->cached_hash = *h;
    key->flags |= BV_F_HASHED;
    return BRINE_OK;
}

static int grow_items(bp_arena *a, bv *c, size_t need) {
    if (need <= c->u.seq.cap) return 1;
    size_t cap = c->u.seq.cap ? c->u.seq.cap * 2 : 4;
    while (cap < need) cap *= 2;
    size_t per = c->kind == BRINE_DICT ? 2 : 1; /* a dict holds key and value */
    if (cap > SIZE_MAX / (per * sizeof(bv *))) return 0;
    bv **items = bp_arena_alloc(a, per * cap * sizeof *items);
    if (!items) return 0;
    if (c->u.seq.n) memcpy(items, c->u.seq.items, per * c->u.seq.n * sizeof *items);
    c->u.seq.items = items;
    c->u.seq.cap = cap;
    return 1;
}

static brine_status note_new_key(bp_arena *a, bv *c, brine_error *err, int64_t offset) {
    size_t n = key_count(c);
    if (n < 8) return BRINE_OK;
    if (!c->u.seq.index || n * 2 >= c->u.seq.index_cap) {
        if (!index_rebuild(a, c)) return bi_fail(err, BRINE_E_LIMIT, offset, "graph memory limit reached");
        return BRINE_OK;
    }
    bv *k = key_at(c, n - 1);
    size_t mask = c->u.seq.index_cap - 1, slot = (size_t)k->cached_hash & mask;
    while (c->u.seq.index[slot]) slot = (slot + 1) & mask;
    c->u.seq.index[slot] = (uint32_t)n;
    return BRINE_OK;
}

brine_status bv_seq_push(bp_arena *a, bv *seq, bv *item, brine_error *err, int64_t offset) {
    int is_set = seq->kind == BRINE_SET || seq->kind == BRINE_FROZENSET;
    if (is_set) {
        uint64_t h;
        brine_status st = prepare_key(a, item, &h, err, offset);
        if (st) return st;
        if (find_key(a, seq, item, h, 0) >= 0) return BRINE_OK;
    }
    if (seq->u.seq.n >= UINT32_MAX - 1)
        return bi_fail(err, BRINE_E_LIMIT, offset, "container has more than 2^32 items");
    if (!grow_items(a, seq, seq->u.seq.n + 1))
        return bi_fail(err, BRINE_E_LIMIT, offset, "graph memory limit reached");
    seq->u.seq.items[seq->u.seq.n++] = item;
    return is_set ? note_new_key(a, seq, err, offset) : BRINE_OK;
}

brine_status bv_dict_set(bp_arena *a, bv *dict, bv *key, bv *value, brine_error *err,
                         int64_t offset) {
    uint64_t h;
    brine_status st = prepare_key(a, key, &h, err, offset);
    if (st) return st;
    long pos = find_key(a, dict, key, h, 0);
    if (pos >= 0) {
        dict->u.seq.items[2 * pos + 1] = value;
        return BRINE_OK;
    }
    if (dict->u.seq.n >= UINT32_MAX - 1)
        return bi_fail(err, BRINE_E_LIMIT, offset, "dict has more than 2^32 items");
    if (!grow_items(a, dict, dict->u.seq.n + 1))
        return bi_fail(err, BRINE_E_LIMIT, offset, "graph memory limit reached");
    dict->u.seq.items[2 * dict->u.seq.n] = key;
    dict->u.seq.items[2 * dict->u.seq.n + 1] = value;
    dict->u.seq.n++;
    return note_new_key(a, dict, err, offset);
}

brine_status bv_dict_set_str(bp_arena *a, bv *dict, const char *key, bv *value) {
    if (!value) return BRINE_E_NOMEM;
    bv *k = bv_str(a, key);
    if (!k) return BRINE_E_NOMEM;
    return bv_dict_set(a, dict, k, value, NULL, -1);
}

bv *bv_dict_get(const bv *dict, const char *key) {
    if (!dict || dict->kind != BRINE_DICT) return NULL;
    size_t n = strlen(key);
    for (size_t pos = 0; pos < dict->u.seq.n; pos++) {
        const bv *k = dict->u.seq.items[2 * pos];
        if (k->kind == BRINE_STR && k->u.s.n == n && memcmp(k->u.s.p, key, n) == 0)
            return dict->u.seq.items[2 * pos + 1];
    }
    return NULL;
}

bv *bv_tuple_of(bp_arena *a, size_t n, bv *const *items) {
    bv *t = bv_new(a, BRINE_TUPLE);
    if (!t) return NULL;
    if (n) {
        t->u.seq.items = bp_arena_alloc(a, n * sizeof *items);
        if (!t->u.seq.items) return NULL;
        memcpy(t->u.seq.items, items, n * sizeof *items);
    }
    t->u.seq.n = t->u.seq.cap = n;
    return t;
}

int bv_is_str(const bv *v, const char *s) {
    size_t n = strlen(s);
    return v && v->kind == BRINE_STR && v->u.s.n == n && memcmp(v->u.s.p, s, n) == 0;
}

int bv_get_i64(const bv *v, int64_t *out) {
    if (!v || (v->kind != BRINE_INT && v->kind != BRINE_BOOL) || (v->flags & BV_F_BIGINT)) return 0;
    *out = v->u.i;
    return 1;
}
