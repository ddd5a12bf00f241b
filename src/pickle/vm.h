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

/* Severities of scan findings (same order as brine_verdict). */
enum { BP_SEV_ALLOWED = 0, BP_SEV_UNKNOWN = 1, BP_SEV_DANGEROUS = 2 };

/* Scan mode: something a Python unpickler would do that brine's loader
 * refuses, reported instead of stopping (rule ids: SECURITY 3.4). */
typedef void (*bp_finding_cb)(void *user, int severity, const char *rule, const char *module,
                              const char *name, int64_t offset, int stream, const char *message);

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
    /* Scan mode (non-NULL): refusals become findings and the walk goes on
     * with inert placeholders; only broken input stops a stream. */
    bp_finding_cb on_finding;
    /* Scan mode: reads literal bytes handed to an unknown or dangerous
     * callable as a nested pickle (pickle.loads(b'...'): SECURITY B5). */
    void (*scan_literal)(void *user, const uint8_t *p, size_t n);
    void *user;          /* for handlers of upper layers (joblib context) */
    int stream;          /* 0 outer, n-th nested stream */
    brine_error *err;

    /* state */
    int proto;           /* current protocol (PROTO may repeat) */
    int first_proto;     /* protocol of the first PROTO, -1 if none */
    int max_op_proto;    /* highest protocol of any opcode seen */
    int64_t op_offset;   /* offset of the opcode being executed */
    int64_t stream_start; /* offset of the stream's first opcode */
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
/* What scan mode resolves unknown and dangerous names to: inert, every use
 * admitted (the finding was reported when the name was read). */
extern const bp_global bp_scan_entry;

/* Scan mode: reports a finding at the current opcode; returns BRINE_OK so
 * callers can `return bp_vm_note(...)`.  No-op outside scan mode. */
brine_status bp_vm_note(bp_vm *vm, int severity, const char *rule, const bv *global, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

#endif
