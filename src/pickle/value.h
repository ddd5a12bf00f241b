/* value.h — the value graph: arena-owned nodes for everything a pickle can
 * build.  One arena owns every node of a load (or of a graph brine builds to
 * save), so shared references and cycles need no reference counting and a
 * whole graph is freed at once.  Nothing here recurses on input depth. */
#ifndef BRINE_PICKLE_VALUE_H
#define BRINE_PICKLE_VALUE_H

#include <stddef.h>
#include <stdint.h>

#include "brine.h"

typedef struct brine_value bv;
typedef struct bp_global bp_global; /* allowlist entry, globals.h */

/* ------------------------------------------------------------- the arena */

typedef struct bp_arena_block bp_arena_block;
typedef struct bp_arena {
    bp_arena_block *head;
    uint64_t used;  /* bytes handed out, counted against limit */
    uint64_t limit; /* max_graph_bytes */
    uint32_t next_id;
    unsigned char hash_key[16]; /* per-arena SipHash key (hash flooding) */
} bp_arena;

void bp_arena_init(bp_arena *a, uint64_t limit);
void bp_arena_free(bp_arena *a);
/* Zeroed, 16-byte aligned memory, or NULL when the limit or malloc fails. */
void *bp_arena_alloc(bp_arena *a, size_t size);
/* Copies n bytes (plus a NUL) into the arena. */
char *bp_arena_strdup(bp_arena *a, const void *p, size_t n);

/* --------------------------------------------------------------- nodes */

enum {
    BV_HOW_NEWOBJ = 1, /* cls.__new__(cls, *args), or copyreg._reconstructor */
    BV_HOW_REDUCE = 2  /* callable(*args) */
};

enum {
    BV_F_BIGINT = 1,   /* INT stored as little-endian two's complement in s */
    BV_F_PENDING = 2,  /* ndarray/dtype placeholder still waiting for BUILD */
    BV_F_HASHED = 4,   /* cached_hash is valid */
    BV_F_READONLY = 8, /* buffer from READONLY_BUFFER (informational) */
    BV_F_INERT = 16    /* scan-mode stand-in: its maker's handlers never see it */
};

typedef struct bv_field {
    const char *name;
    size_t name_len;
    bv *dtype;
    size_t offset;
    bv *title; /* NULL when absent */
} bv_field;

typedef struct bv_dtype {
    char kind;      /* b i u f c U S V O M m */
    char byteorder; /* < > | */
    size_t itemsize;
    int hasobject;
    size_t nfields;
    bv_field *fields;
    bv *subarray_base; /* V dtypes with a subarray */
    int sub_ndim;
    int64_t *sub_shape;
    /* As pickled: REDUCE arguments and BUILD state, written back verbatim. */
    bv *args, *state;
    const bp_global *maker; /* entry whose BUILD handler completes it */
} bv_dtype;

typedef struct bv_array {
    bv *dtype;    /* a BRINE_DTYPE node */
    bv *subclass; /* global numpy.ndarray (or a subclass) */
    int ndim;
    int64_t *shape;
    int64_t count;
    int fortran;
    const uint8_t *data; /* count*itemsize bytes; not owned (input or arena) */
    size_t nbytes;
    bv *objects;         /* object dtype: LIST of count elements */
    const bp_global *maker; /* entry whose BUILD handler completes it */
} bv_array;

struct brine_value {
    uint8_t kind;  /* brine_kind */
    uint8_t how;   /* BV_HOW_* for objects */
    uint8_t flags; /* BV_F_* */
    uint32_t id;   /* creation order, unique per arena */
    uint64_t cached_hash;
    union {
        int64_t i; /* BOOL, small INT */
        double f;
        struct { double re, im; } c;
        struct { const uint8_t *p; size_t n; } s; /* STR BYTES BYTEARRAY big INT */
        struct {
            bv **items;     /* DICT: 2*n entries, key then value */
            size_t n, cap;  /* n = items (pairs for DICT) */
            uint32_t *index; /* hash index of positions+1 (DICT, SET, FROZENSET) */
            size_t index_cap;
        } seq;
        struct { const char *module, *name; const bp_global *entry; } g;
        /* items: a dict subclass's own items (SETITEMS on it, written
         * back before BUILD), a DICT or NULL. */
        struct { bv *callable, *args, *kwargs, *state, *items; } obj;
        bv_array *arr; /* NDARRAY, SCALAR (ndim 0, data = item) */
        bv_dtype *dt;  /* DTYPE */
        struct { bv *start, *stop, *step; } slice;
    } u;
};

/* Constructors: NULL on allocation failure (limit or memory). */
bv *bv_new(bp_arena *a, brine_kind kind);
bv *bv_none(bp_arena *a);
bv *bv_bool(bp_arena *a, int b);
bv *bv_int(bp_arena *a, int64_t i);
/* From little-endian two's complement bytes (copied); normalised to a
 * small int when it fits int64. */
bv *bv_int_le(bp_arena *a, const uint8_t *p, size_t n);
bv *bv_float(bp_arena *a, double f);
/* STR, BYTES, BYTEARRAY over bytes: `copy` = 0 borrows p (it must outlive
 * the arena, e.g. input bytes), 1 copies into the arena. */
bv *bv_bytes_kind(bp_arena *a, brine_kind kind, const void *p, size_t n, int copy);
bv *bv_str(bp_arena *a, const char *s); /* copies a NUL-terminated string */
bv *bv_global(bp_arena *a, const char *module, const char *name, const bp_global *entry);
bv *bv_tuple_of(bp_arena *a, size_t n, bv *const *items);

/* Appends to a TUPLE (while building), LIST, SET or FROZENSET (set kinds
 * skip items already present, as Python's set.add). */
brine_status bv_seq_push(bp_arena *a, bv *seq, bv *item, brine_error *err, int64_t offset);
/* dict[key] = value, Python semantics: an equal key keeps its position and
 * takes the new value.  Unhashable keys fail with BRINE_E_FORMAT. */
brine_status bv_dict_set(bp_arena *a, bv *dict, bv *key, bv *value, brine_error *err,
                         int64_t offset);
/* Convenience for building: dict[str] = value. */
brine_status bv_dict_set_str(bp_arena *a, bv *dict, const char *key, bv *value);
/* Lookup of a str key; NULL when absent. */
bv *bv_dict_get(const bv *dict, const char *key);

/* 1 when the node can be a dict key or set element (Python's hashability,
 * approximated: containers with mutable members are not). */
int bv_is_hashable(const bv *v);

/* Equality used for keys: Python == for numbers (1 == 1.0 == True), bytes
 * for str/bytes, element-wise for tuples, identity otherwise. */
int bv_key_equal(const bp_arena *a, const bv *x, const bv *y);

/* Small helpers for readers of the graph. */
int bv_is_str(const bv *v, const char *s);
int bv_get_i64(const bv *v, int64_t *out);

#endif
