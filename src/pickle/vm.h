/* vm.h — the pickle machine: one loop over the opcode table, an explicit
 * value stack and mark stack, a sparse memo.  Nothing is ever called: a
 * global resolves to an allowlist entry whose handler builds inert values.
 * Nesting depth never touches the C stack. */
#ifndef BRINE_PICKLE_VM_H
#define BRINE_PICKLE_VM_H

#include <stddef.h>
#include <stdint.h>

#include "io/error.h"
#include "pickle/globals.h"
#include "pickle/value.h"

typedef struct bp_limits {
    uint64_t max_depth;
    uint64_t max_memo_entries;
    uint64_t max_long_bytes;
    uint64_t max_long_digits;
} bp_limits;

/* Called once per global the stream names, before it is resolved. */
typedef void (*bp_global_cb)(void *user, const char *module, const char *name, int64_t offset,
                             int stream);

typedef struct bp_memo_slot {
    uint32_t key;
    uint32_t used;
    bv *value;
} bp_memo_slot;

struct bp_vm {
    /* set by the caller */
    bp_arena *arena;
    const uint8_t *data; /* the whole stream buffer; offsets are into it */
    size_t size;
    size_t pos;          /* where to start; after run: just past STOP */
    const bp_global_table *const *tables;
    size_t ntables;
    const char *const *trust; /* "module:qualname" entries */
    size_t n_trust;
    bp_limits limits;
    bp_global_cb on_global;
    void *user;          /* for handlers of upper layers (joblib context) */
    int stream;          /* 0 outer, n-th nested stream */
    brine_error *err;

    /* state */
    int proto;           /* current protocol (PROTO may repeat) */
    int first_proto;     /* protocol of the first PROTO, -1 if none */
    int max_op_proto;    /* highest protocol of any opcode seen */
    int64_t op_offset;   /* offset of the opcode being executed */
    bv **stack;
    size_t sp, stack_cap;
    size_t *marks;
    size_t nmarks, marks_cap;
    bp_memo_slot *memo;
    size_t memo_cap, memo_len;
    bv *result;
};

/* Prepares vm's state; the caller has set the fields above "state". */
void bp_vm_init(bp_vm *vm);
/* Runs from vm->pos to the STOP opcode.  On success vm->result is the
 * returned object and vm->pos the offset just after STOP. */
brine_status bp_vm_run(bp_vm *vm);
void bp_vm_release(bp_vm *vm);

/* Fails with an error at the current opcode (for handlers). */
brine_status bp_vm_fail(bp_vm *vm, brine_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* A fresh BRINE_OBJECT made by cls (how: BV_HOW_*); args NULL means (). */
bv *bp_vm_new_object(bp_vm *vm, bv *cls, bv *args, int how);
/* Fails unless g is a global whose entry has the tier (BP_T_NEW/CALL). */
brine_status bp_vm_need_tier(bp_vm *vm, const bv *g, unsigned tier, const char *op);

/* The trusted-unknown entry handed out for --trust names. */
extern const bp_global bp_trusted_entry;

#endif
