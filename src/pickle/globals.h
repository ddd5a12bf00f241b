/* globals.h — the allowlist: which (module, qualname) pairs a pickle may
 * name, and what each may be used for.  Default deny: a name in no table is
 * refused.  Layers above register their reconstructors as tables of their
 * own (numpy, joblib); the VM only sees the tables it is handed. */
#ifndef BRINE_PICKLE_GLOBALS_H
#define BRINE_PICKLE_GLOBALS_H

#include <stddef.h>

#include "pickle/value.h"

/* Tiers (SECURITY 3.2): every listed name may be referenced as a value. */
enum {
    BP_T_NEW = 1,   /* NEWOBJ / NEWOBJ_EX / INST / OBJ / copyreg._reconstructor */
    BP_T_CALL = 2,  /* callable of REDUCE */
    BP_T_VALUE = 4  /* referenced only */
};

typedef struct bp_vm bp_vm;

/* REDUCE handler: builds *out from the argument tuple. */
typedef brine_status (*bp_reduce_fn)(bp_vm *vm, bv *callable, bv *args, bv **out);
/* BUILD handler for nodes made through this entry (NEW or CALL). */
typedef brine_status (*bp_build_fn)(bp_vm *vm, bv *obj, bv *state);

struct bp_global {
    const char *module;
    const char *name;
    unsigned tiers;
    bp_reduce_fn reduce; /* NULL: an opaque BRINE_OBJECT (callable, args) */
    bp_build_fn build;   /* NULL: state kept on the object */
};

/* A table sorted by (module, name) in strcmp order. */
typedef struct bp_global_table {
    const bp_global *rows;
    size_t n;
} bp_global_table;

const bp_global *bp_global_find(const bp_global_table *const *tables, size_t ntables,
                                const char *module, const char *name);

/* Tables the pickle layer owns: builtins/copyreg/_codecs reconstructors,
 * and names of sklearn and scipy classes (data only). */
extern const bp_global_table bp_builtins_table;
extern const bp_global_table bp_sklearn_table;

/* 1 when module.name runs code, touches files, sockets or processes, or
 * resolves names at run time: never admitted, not even by --trust. */
int bp_global_is_dangerous(const char *module, const char *name);

/* 1 when "module:name" is among the n --trust entries. */
int bp_trust_match(const char *const *trust, size_t n, const char *module, const char *name);

/* Python 2 -> 3 module renaming (pickle's fix_imports), applied while the
 * protocol is below 3 exactly as CPython does.  Returns the new module name
 * or `module` itself. */
const char *bp_compat_module(const char *module);

/* Sorted-order check used by tests: 1 when every table row is in order. */
int bp_global_table_sorted(const bp_global_table *t);

#endif
