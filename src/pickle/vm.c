/* vm.c — the pickle machine.  One loop decodes each opcode's argument
 * through the shared table (opcodes.def) and dispatches to its handler.
 * Handlers never call into Python semantics: containers are built as value
 * nodes, globals resolve against the allowlist, REDUCE/NEWOBJ/BUILD go to
 * the entry's handlers or make opaque objects. */
#define _GNU_SOURCE
#include "pickle/vm.h"

#include <errno.h>
#include <gmp.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/error.h"
#include "pickle/opcodes.h"
#include "pickle/text.h"

const bp_global bp_trusted_entry = {"<trusted>", "<trusted>", BP_T_NEW | BP_T_CALL | BP_T_VALUE,
                                    NULL, NULL};
const bp_global bp_scan_entry = {"<scanned>", "<scanned>", BP_T_NEW | BP_T_CALL | BP_T_VALUE, NULL, NULL};

static int scanning(const bp_vm *vm) { return vm->on_finding != NULL; }

brine_status bp_vm_note(bp_vm *vm, int severity, const char *rule, const bv *global, const char *fmt, ...) {
    if (!scanning(vm)) return BRINE_OK;
    char msg[BRINE_ERROR_MESSAGE_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *m = global && global->kind == BRINE_GLOBAL ? global->u.g.module : NULL;
    const char *n = global && global->kind == BRINE_GLOBAL ? global->u.g.name : NULL;
    vm->on_finding(vm->user, severity, rule, m, n, vm->op_offset, vm->stream, msg);
    return BRINE_OK;
}

/* Scan mode: a handler refused something Python would do; keep going with
 * the fault reported as a finding. */
static void scan_absorb(bp_vm *vm, const char *rule, const bv *global) {
    bp_vm_note(vm, BP_SEV_UNKNOWN, rule, global, "%s", vm->err ? vm->err->message : "refused");
    brine_error_clear(vm->err);
}

/* Scan mode stand-in for a callable or class that is not a named global. */
static bv *computed_global(bp_vm *vm) { return bv_global(vm->arena, "<computed>", "<computed>", &bp_scan_entry); }

brine_status bp_vm_fail(bp_vm *vm, brine_status st, const char *fmt, ...) {
    brine_error *err = vm->err;
    if (!err) return st;
    if (err->status != BRINE_OK) return err->status;
    char msg[BRINE_ERROR_MESSAGE_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return bi_fail(err, st, vm->op_offset, "%s", msg);
}

static brine_status nomem(bp_vm *vm) {
    return bp_vm_fail(vm, BRINE_E_LIMIT, "graph memory limit reached (max_graph_bytes) or out of memory");
}

/* ------------------------------------------------------------- stacks */

static size_t fence(const bp_vm *vm) { return vm->nmarks ? vm->marks[vm->nmarks - 1] : 0; }

static brine_status check_depth(bp_vm *vm) {
    if ((uint64_t)vm->sp + vm->nmarks >= vm->limits.max_depth)
        return bp_vm_fail(vm, BRINE_E_LIMIT, "stack depth limit of %llu reached (max_depth)",
                          (unsigned long long)vm->limits.max_depth);
    return BRINE_OK;
}

static brine_status push(bp_vm *vm, bv *v) {
    if (!v) return nomem(vm);
    brine_status st = check_depth(vm);
    if (st) return st;
    if (vm->sp == vm->stack_cap) {
        size_t cap = vm->stack_cap ? vm->stack_cap * 2 : 64;
        bv **s = realloc(vm->stack, cap * sizeof *s);
        if (!s) return nomem(vm);
        vm->stack = s;
        vm->stack_cap = cap;
    }
    vm->stack[vm->sp++] = v;
    return BRINE_OK;
}

static brine_status underflow(bp_vm *vm) {
    if (vm->sp > 0 && vm->sp == fence(vm))
        return bp_vm_fail(vm, BRINE_E_FORMAT, "unexpected MARK: the operand lies below a mark");
    return bp_vm_fail(vm, BRINE_E_FORMAT, "unpickling stack underflow");
}

static brine_status pop(bp_vm *vm, bv **out) {
    if (vm->sp <= fence(vm)) return underflow(vm);
    *out = vm->stack[--vm->sp];
    return BRINE_OK;
}

static brine_status top(bp_vm *vm, bv **out) {
    if (vm->sp <= fence(vm)) return underflow(vm);
    *out = vm->stack[vm->sp - 1];
    return BRINE_OK;
}

/* Removes the innermost mark; the items above it are stack[*start..sp). */
static brine_status pop_mark(bp_vm *vm, size_t *start) {
    if (!vm->nmarks) return bp_vm_fail(vm, BRINE_E_FORMAT, "could not find MARK");
    *start = vm->marks[--vm->nmarks];
    return BRINE_OK;
}

/* --------------------------------------------------------------- memo */

static bp_memo_slot *memo_find(bp_vm *vm, uint32_t key) {
    if (!vm->memo_cap) return NULL;
    size_t mask = vm->memo_cap - 1, slot = (key * 2654435761u) & mask;
    while (vm->memo[slot].used) {
        if (vm->memo[slot].key == key) return &vm->memo[slot];
        slot = (slot + 1) & mask;
    }
    return NULL;
}

static int memo_grow(bp_vm *vm) {
    size_t cap = vm->memo_cap ? vm->memo_cap * 2 : 256;
    bp_memo_slot *m = calloc(cap, sizeof *m);
    if (!m) return 0;
    for (size_t k = 0; k < vm->memo_cap; k++) {
        if (!vm->memo[k].used) continue;
        size_t slot = (vm->memo[k].key * 2654435761u) & (cap - 1);
        while (m[slot].used) slot = (slot + 1) & (cap - 1);
        m[slot] = vm->memo[k];
    }
    free(vm->memo);
    vm->memo = m;
    vm->memo_cap = cap;
    return 1;
}

/* Sparse and capped (SECURITY F1): a huge index costs one slot. */
static brine_status memo_put(bp_vm *vm, uint64_t key, bv *v) {
    if (key > UINT32_MAX) return bp_vm_fail(vm, BRINE_E_FORMAT, "memo index %llu is too large", (unsigned long long)key);
    bp_memo_slot *s = memo_find(vm, (uint32_t)key);
    if (s) { /* last write wins, as in CPython */
        s->value = v;
        return BRINE_OK;
    }
    if (vm->memo_len >= vm->limits.max_memo_entries)
        return bp_vm_fail(vm, BRINE_E_LIMIT, "memo limit of %llu entries reached (max_memo_entries)",
                          (unsigned long long)vm->limits.max_memo_entries);
    if ((vm->memo_len + 1) * 2 > vm->memo_cap && !memo_grow(vm)) return nomem(vm);
    size_t mask = vm->memo_cap - 1, slot = ((uint32_t)key * 2654435761u) & mask;
    while (vm->memo[slot].used) slot = (slot + 1) & mask;
    vm->memo[slot].key = (uint32_t)key;
    vm->memo[slot].used = 1;
    vm->memo[slot].value = v;
    vm->memo_len++;
    return BRINE_OK;
}

static brine_status memo_get(bp_vm *vm, uint64_t key) {
    bp_memo_slot *s = key <= UINT32_MAX ? memo_find(vm, (uint32_t)key) : NULL;
    if (!s) return bp_vm_fail(vm, BRINE_E_FORMAT, "memo key %llu not found", (unsigned long long)key);
    return push(vm, s->value);
}

/* ------------------------------------------------------------- globals */

static brine_status push_global(bp_vm *vm, const char *module, const char *name) {
    if (vm->proto < 3) module = bp_compat_module(module);
    if (vm->on_global) vm->on_global(vm->user, module, name, vm->op_offset, vm->stream);
    const bp_global *entry = bp_global_find(vm->tables, vm->ntables, module, name);
    if (!entry && bp_trust_match(vm->trust, vm->n_trust, module, name) && !bp_global_is_dangerous(module, name))
        entry = &bp_trusted_entry;
    if (!entry && scanning(vm)) entry = &bp_scan_entry; /* on_global graded it */
    if (!entry) {
        const char *why = bp_global_is_dangerous(module, name)
                              ? "it can run code or touch the system when Python loads the file"
                              : "it is not on brine's allowlist (use --trust MODULE:QUALNAME for an inert object)";
        return bp_vm_fail(vm, BRINE_E_GLOBAL, "refused global %s.%s: %s", module, name, why);
    }
    return push(vm, bv_global(vm->arena, module, name, entry));
}

/* Globals are text; module and name must be valid UTF-8 without NUL. */
static brine_status global_from_bytes(bp_vm *vm, const uint8_t *m, size_t mn, const uint8_t *n,
                                      size_t nn) {
    if (!bp_utf8_valid(m, mn, 0) || !bp_utf8_valid(n, nn, 0) || memchr(m, 0, mn) || memchr(n, 0, nn))
        return bp_vm_fail(vm, BRINE_E_FORMAT, "global name is not valid UTF-8 text");
    char *module = bp_arena_strdup(vm->arena, m, mn), *name = bp_arena_strdup(vm->arena, n, nn);
    if (!module || !name) return nomem(vm);
    return push_global(vm, module, name);
}

/* ------------------------------------------------------------ handlers */

typedef brine_status (*op_fn)(bp_vm *vm, const bp_arg *a);
#define HANDLER(name) static brine_status op_##name(bp_vm *vm, const bp_arg *a)

HANDLER(MARK) {
    (void)a;
    brine_status st = check_depth(vm);
    if (st) return st;
    if (vm->nmarks == vm->marks_cap) {
        size_t cap = vm->marks_cap ? vm->marks_cap * 2 : 32;
        size_t *m = realloc(vm->marks, cap * sizeof *m);
        if (!m) return nomem(vm);
        vm->marks = m;
        vm->marks_cap = cap;
    }
    vm->marks[vm->nmarks++] = vm->sp;
    return BRINE_OK;
}

HANDLER(STOP) {
    (void)a;
    return pop(vm, &vm->result);
}

HANDLER(POP) {
    (void)a;
    if (vm->sp > fence(vm)) {
        vm->sp--;
        return BRINE_OK;
    }
    if (vm->nmarks) { /* POP of a bare mark drops the mark, as CPython */
        vm->nmarks--;
        return BRINE_OK;
    }
    return underflow(vm);
}

HANDLER(POP_MARK) {
    (void)a;
    size_t start = 0;
    brine_status st = pop_mark(vm, &start);
    if (!st) vm->sp = start;
    return st;
}

HANDLER(DUP) {
    (void)a;
    bv *v = NULL;
    brine_status st = top(vm, &v);
    return st ? st : push(vm, v);
}

HANDLER(FLOAT) {
    double f;
    if (!bp_parse_float_text(a->p, a->n, &f))
        return bp_vm_fail(vm, BRINE_E_FORMAT, "FLOAT argument is not a float literal");
    return push(vm, bv_float(vm->arena, f));
}

HANDLER(BINFLOAT) { return push(vm, bv_float(vm->arena, a->f)); }

/* Text integers (INT, LONG): arbitrary precision through GMP, with CPython's
 * 4300-digit limit so hostile digit strings stay linear. */
static brine_status push_text_int(bp_vm *vm, const uint8_t *p, size_t n, int base) {
    if (n > vm->limits.max_long_digits + 2)
        return bp_vm_fail(vm, BRINE_E_LIMIT, "integer literal of %zu digits exceeds the limit of %llu (max_long_digits)",
                          n, (unsigned long long)vm->limits.max_long_digits);
    char *s = bp_arena_strdup(vm->arena, p, n);
    if (!s) return nomem(vm);
    uint8_t *le = NULL;
    size_t len = 0;
    if (!bp_parse_int_text(s, base, &le, &len))
        return bp_vm_fail(vm, BRINE_E_FORMAT, "invalid integer literal '%.40s'", s);
    bv *v = bv_int_le(vm->arena, le, len);
    free(le);
    return push(vm, v);
}

HANDLER(INT) {
    if (a->n == 2 && a->p[0] == '0' && (a->p[1] == '0' || a->p[1] == '1'))
        return push(vm, bv_bool(vm->arena, a->p[1] == '1'));
    return push_text_int(vm, a->p, a->n, 0);
}

HANDLER(BININT) { return push(vm, bv_int(vm->arena, a->i)); }
HANDLER(BININT1) { return push(vm, bv_int(vm->arena, a->i)); }
HANDLER(BININT2) { return push(vm, bv_int(vm->arena, a->i)); }

HANDLER(LONG) {
    size_t n = a->n;
    if (n && a->p[n - 1] == 'L') n--;
    return push_text_int(vm, a->p, n, 10);
}

static brine_status push_long_bytes(bp_vm *vm, const bp_arg *a) {
    if (a->n > vm->limits.max_long_bytes)
        return bp_vm_fail(vm, BRINE_E_LIMIT, "integer of %zu bytes exceeds the limit of %llu (max_long_bytes)",
                          a->n, (unsigned long long)vm->limits.max_long_bytes);
    if (a->n == 0) return push(vm, bv_int(vm->arena, 0));
    return push(vm, bv_int_le(vm->arena, a->p, a->n));
}

HANDLER(LONG1) { return push_long_bytes(vm, a); }
HANDLER(LONG4) { return push_long_bytes(vm, a); }

/* Python 2 str: Python 3 decodes it as ASCII into str; brine keeps other
 * content as bytes (what encoding='bytes' gives) rather than failing. */
static brine_status push_py2_string(bp_vm *vm, const uint8_t *p, size_t n, int copy) {
    brine_kind kind = bp_is_ascii(p, n) ? BRINE_STR : BRINE_BYTES;
    return push(vm, bv_bytes_kind(vm->arena, kind, p, n, copy));
}

HANDLER(STRING) {
    if (a->n < 2 || a->p[0] != a->p[a->n - 1] || (a->p[0] != '\'' && a->p[0] != '"'))
        return bp_vm_fail(vm, BRINE_E_FORMAT, "the STRING opcode argument must be quoted");
    uint8_t *out = bp_arena_alloc(vm->arena, a->n);
    if (!out) return nomem(vm);
    size_t n;
    if (!bp_escape_decode(a->p + 1, a->n - 2, out, &n))
        return bp_vm_fail(vm, BRINE_E_FORMAT, "invalid escape in STRING argument");
    return push_py2_string(vm, out, n, 0);
}

HANDLER(BINSTRING) { return push_py2_string(vm, a->p, a->n, 0); }
HANDLER(SHORT_BINSTRING) { return push_py2_string(vm, a->p, a->n, 0); }
HANDLER(BINBYTES) { return push(vm, bv_bytes_kind(vm->arena, BRINE_BYTES, a->p, a->n, 0)); }
HANDLER(SHORT_BINBYTES) { return push(vm, bv_bytes_kind(vm->arena, BRINE_BYTES, a->p, a->n, 0)); }
HANDLER(BINBYTES8) { return push(vm, bv_bytes_kind(vm->arena, BRINE_BYTES, a->p, a->n, 0)); }
HANDLER(BYTEARRAY8) { return push(vm, bv_bytes_kind(vm->arena, BRINE_BYTEARRAY, a->p, a->n, 0)); }

HANDLER(NEXT_BUFFER) {
    (void)a;
    if (scanning(vm)) {
        bp_vm_note(vm, BP_SEV_UNKNOWN, "opcode.unsupported", NULL, "NEXT_BUFFER takes an out-of-band buffer from the consumer");
        return push(vm, bv_none(vm->arena));
    }
    return bp_vm_fail(vm, BRINE_E_UNSUPPORTED, "NEXT_BUFFER: out-of-band buffers are not supported (no pickle from sklearn or joblib uses them)");
}

HANDLER(READONLY_BUFFER) {
    (void)a;
    if (scanning(vm)) return bp_vm_note(vm, BP_SEV_UNKNOWN, "opcode.unsupported", NULL, "READONLY_BUFFER");
    return bp_vm_fail(vm, BRINE_E_UNSUPPORTED, "READONLY_BUFFER: out-of-band buffers are not supported");
}

HANDLER(NONE) { (void)a; return push(vm, bv_none(vm->arena)); }
HANDLER(NEWTRUE) { (void)a; return push(vm, bv_bool(vm->arena, 1)); }
HANDLER(NEWFALSE) { (void)a; return push(vm, bv_bool(vm->arena, 0)); }

HANDLER(UNICODE) {
    /* raw-unicode-escape: at most 4 UTF-8 bytes per input byte... and an
     * escape of 6 or 10 bytes yields at most 4. */
    if (a->n > SIZE_MAX / 4) return nomem(vm);
    uint8_t *out = bp_arena_alloc(vm->arena, a->n * 2 + 4);
    if (!out) return nomem(vm);
    size_t n;
    if (!bp_raw_unicode_escape_decode(a->p, a->n, out, &n))
        return bp_vm_fail(vm, BRINE_E_FORMAT, "invalid \\u escape in UNICODE argument");
    return push(vm, bv_bytes_kind(vm->arena, BRINE_STR, out, n, 0));
}

static brine_status push_utf8(bp_vm *vm, const bp_arg *a) {
    if (!bp_utf8_valid(a->p, a->n, 1))
        return bp_vm_fail(vm, BRINE_E_FORMAT, "string is not valid UTF-8 ('utf-8' codec can't decode it)");
    return push(vm, bv_bytes_kind(vm->arena, BRINE_STR, a->p, a->n, 0));
}

HANDLER(SHORT_BINUNICODE) { return push_utf8(vm, a); }
HANDLER(BINUNICODE) { return push_utf8(vm, a); }
HANDLER(BINUNICODE8) { return push_utf8(vm, a); }

HANDLER(EMPTY_LIST) { (void)a; return push(vm, bv_new(vm->arena, BRINE_LIST)); }
HANDLER(EMPTY_TUPLE) { (void)a; return push(vm, bv_new(vm->arena, BRINE_TUPLE)); }
HANDLER(EMPTY_DICT) { (void)a; return push(vm, bv_new(vm->arena, BRINE_DICT)); }
HANDLER(EMPTY_SET) { (void)a; return push(vm, bv_new(vm->arena, BRINE_SET)); }

/* Items stack[start..sp) into a fresh container of `kind`. */
static brine_status collect(bp_vm *vm, size_t start, brine_kind kind) {
    bv *c = bv_new(vm->arena, kind);
    if (!c) return nomem(vm);
    for (size_t k = start; k < vm->sp; k++) {
        brine_status st = bv_seq_push(vm->arena, c, vm->stack[k], vm->err, vm->op_offset);
        if (st) return st;
    }
    vm->sp = start;
    return push(vm, c);
}

/* APPEND/SETITEM/ADDITEMS targets must be fresh containers of the right
 * kind; on anything else Python would call a method (SECURITY B6, F10). */
static brine_status want_kind(bp_vm *vm, const bv *target, brine_kind kind, const char *op) {
    if (target->kind == kind) return BRINE_OK;
    if (scanning(vm)) /* on a global this edits live Python state (B6) */
        bp_vm_note(vm, target->kind == BRINE_GLOBAL ? BP_SEV_DANGEROUS : BP_SEV_UNKNOWN, "build.target", target,
                   "%s on a %s calls its methods", op, brine_kind_name((brine_kind)target->kind));
    return bp_vm_fail(vm, BRINE_E_UNSUPPORTED, "%s on a %s: brine only fills %s objects built by the stream",
                      op, brine_kind_name((brine_kind)target->kind), brine_kind_name(kind));
}

/* In scan mode a refused fill is skipped (its items dropped) and the walk
 * goes on; returns 1 when the caller may fill. */
static int fill_ok(bp_vm *vm, const bv *target, brine_kind kind, const char *op, brine_status *st) {
    *st = want_kind(vm, target, kind, op);
    if (!*st) return 1;
    if (scanning(vm)) {
        brine_error_clear(vm->err);
        *st = BRINE_OK;
    }
    return 0;
}

HANDLER(APPEND) {
    (void)a;
    bv *item = NULL, *list = NULL;
    brine_status st = pop(vm, &item);
    if (!st) st = top(vm, &list);
    if (!st && fill_ok(vm, list, BRINE_LIST, "APPEND", &st)) st = bv_seq_push(vm->arena, list, item, vm->err, vm->op_offset);
    return st;
}

/* The target of APPENDS/SETITEMS/ADDITEMS sits just below the mark. */
static brine_status target_below_mark(bp_vm *vm, size_t start, bv **out) {
    if (start == 0 || start <= (vm->nmarks ? vm->marks[vm->nmarks - 1] : 0))
        return bp_vm_fail(vm, BRINE_E_FORMAT, "unpickling stack underflow: no container below the MARK");
    *out = vm->stack[start - 1];
    return BRINE_OK;
}

HANDLER(APPENDS) {
    (void)a;
    size_t start = 0;
    bv *list = NULL;
    brine_status st = pop_mark(vm, &start);
    if (!st) st = target_below_mark(vm, start, &list);
    int fill = !st && fill_ok(vm, list, BRINE_LIST, "APPENDS", &st);
    for (size_t k = start; fill && !st && k < vm->sp; k++)
        st = bv_seq_push(vm->arena, list, vm->stack[k], vm->err, vm->op_offset);
    if (!st) vm->sp = start;
    return st;
}

HANDLER(LIST) {
    (void)a;
    size_t start = 0;
    brine_status st = pop_mark(vm, &start);
    return st ? st : collect(vm, start, BRINE_LIST);
}

HANDLER(TUPLE) {
    (void)a;
    size_t start = 0;
    brine_status st = pop_mark(vm, &start);
    return st ? st : collect(vm, start, BRINE_TUPLE);
}

static brine_status tuple_n(bp_vm *vm, size_t n) {
    if (vm->sp - fence(vm) < n) return underflow(vm);
    return collect(vm, vm->sp - n, BRINE_TUPLE);
}

HANDLER(TUPLE1) { (void)a; return tuple_n(vm, 1); }
HANDLER(TUPLE2) { (void)a; return tuple_n(vm, 2); }
HANDLER(TUPLE3) { (void)a; return tuple_n(vm, 3); }

static brine_status set_pairs(bp_vm *vm, bv *dict, size_t start, const char *op) {
    if ((vm->sp - start) % 2)
        return bp_vm_fail(vm, BRINE_E_FORMAT, "odd number of items for %s", op);
    for (size_t k = start; k < vm->sp; k += 2) {
        brine_status st = bv_dict_set(vm->arena, dict, vm->stack[k], vm->stack[k + 1], vm->err, vm->op_offset);
        if (st) return st;
    }
    vm->sp = start;
    return BRINE_OK;
}

HANDLER(DICT) {
    (void)a;
    size_t start = 0;
    brine_status st = pop_mark(vm, &start);
    if (st) return st;
    bv *d = bv_new(vm->arena, BRINE_DICT);
    if (!d) return nomem(vm);
    st = set_pairs(vm, d, start, "DICT");
    return st ? st : push(vm, d);
}

/* Objects of the dict subclasses brine knows to hold plain items
 * (sklearn's Bunch: dict.__setitem__, no code of its own) keep SETITEM(S)
 * in their own items dict; *dict becomes it. */
static int dict_subclass_items(bp_vm *vm, bv **dict, brine_status *st) {
    const bv *cls = (*dict)->kind == BRINE_OBJECT ? (*dict)->u.obj.callable : NULL;
    if (!cls || cls->kind != BRINE_GLOBAL || strcmp(cls->u.g.name, "Bunch") ||
        (strcmp(cls->u.g.module, "sklearn.utils") && strcmp(cls->u.g.module, "sklearn.utils._bunch")))
        return 0;
    if (!(*dict)->u.obj.items && !((*dict)->u.obj.items = bv_new(vm->arena, BRINE_DICT))) {
        *st = nomem(vm);
        return 0;
    }
    *dict = (*dict)->u.obj.items;
    return 1;
}

HANDLER(SETITEM) {
    (void)a;
    bv *key = NULL, *value = NULL, *dict = NULL;
    brine_status st = pop(vm, &value);
    if (!st) st = pop(vm, &key);
    if (!st) st = top(vm, &dict);
    if (!st) dict_subclass_items(vm, &dict, &st);
    if (!st && fill_ok(vm, dict, BRINE_DICT, "SETITEM", &st)) st = bv_dict_set(vm->arena, dict, key, value, vm->err, vm->op_offset);
    return st;
}

HANDLER(SETITEMS) {
    (void)a;
    size_t start = 0;
    bv *dict = NULL;
    brine_status st = pop_mark(vm, &start);
    if (!st) st = target_below_mark(vm, start, &dict);
    if (!st) dict_subclass_items(vm, &dict, &st);
    if (!st && !fill_ok(vm, dict, BRINE_DICT, "SETITEMS", &st)) {
        if (!st) vm->sp = start;
        return st;
    }
    if (!st) st = set_pairs(vm, dict, start, "SETITEMS");
    return st;
}

HANDLER(ADDITEMS) {
    (void)a;
    size_t start = 0;
    bv *set = NULL;
    brine_status st = pop_mark(vm, &start);
    if (!st) st = target_below_mark(vm, start, &set);
    int fill = !st && fill_ok(vm, set, BRINE_SET, "ADDITEMS", &st);
    for (size_t k = start; fill && !st && k < vm->sp; k++)
        st = bv_seq_push(vm->arena, set, vm->stack[k], vm->err, vm->op_offset);
    if (!st) vm->sp = start;
    return st;
}

HANDLER(FROZENSET) {
    (void)a;
    size_t start = 0;
    brine_status st = pop_mark(vm, &start);
    return st ? st : collect(vm, start, BRINE_FROZENSET);
}

/* Text PUT/GET indices are read with Python's int(): surrounding
 * whitespace (\r included), a sign, leading zeros and single '_' between
 * digits all pass (SECURITY C11). */
static brine_status text_index(bp_vm *vm, const bp_arg *a, const char *op, uint64_t *out) {
    size_t k = 0, n = a->n;
    while (k < n && (a->p[k] == ' ' || (a->p[k] >= '\t' && a->p[k] <= '\r'))) k++;
    while (n > k && (a->p[n - 1] == ' ' || (a->p[n - 1] >= '\t' && a->p[n - 1] <= '\r'))) n--;
    int neg = k < n && a->p[k] == '-';
    if (k < n && (a->p[k] == '-' || a->p[k] == '+')) k++;
    uint64_t v = 0;
    size_t digits = 0;
    for (; k < n; k++) {
        uint8_t c = a->p[k];
        if (c == '_' && digits && k + 1 < n && a->p[k + 1] >= '0' && a->p[k + 1] <= '9') continue;
        if (c < '0' || c > '9') return bp_vm_fail(vm, BRINE_E_FORMAT, "%s argument is not an integer", op);
        if (v > (UINT64_MAX - 9) / 10) return bp_vm_fail(vm, BRINE_E_FORMAT, "%s argument is too large", op);
        v = v * 10 + (uint64_t)(c - '0');
        digits++;
    }
    if (!digits) return bp_vm_fail(vm, BRINE_E_FORMAT, "%s argument is not an integer", op);
    if (neg && v) return bp_vm_fail(vm, BRINE_E_FORMAT, "negative %s argument", op);
    *out = v;
    return BRINE_OK;
}

HANDLER(GET) {
    uint64_t key;
    brine_status st = text_index(vm, a, "GET", &key);
    return st ? st : memo_get(vm, key);
}
HANDLER(BINGET) { return memo_get(vm, a->u); }
HANDLER(LONG_BINGET) { return memo_get(vm, a->u); }

static brine_status put(bp_vm *vm, uint64_t key) {
    bv *v = NULL;
    brine_status st = top(vm, &v);
    return st ? st : memo_put(vm, key, v);
}

HANDLER(PUT) {
    uint64_t key;
    brine_status st = text_index(vm, a, "PUT", &key);
    return st ? st : put(vm, key);
}
HANDLER(BINPUT) { return put(vm, a->u); }
HANDLER(LONG_BINPUT) { return put(vm, a->u); }
HANDLER(MEMOIZE) { (void)a; return put(vm, vm->memo_len); }

static brine_status extension(bp_vm *vm, const bp_arg *a) {
    if (scanning(vm)) { /* a host's copyreg registry decides what it is */
        bp_vm_note(vm, BP_SEV_UNKNOWN, "opcode.unsupported", NULL, "extension registry code %lld", (long long)a->i);
        return push(vm, bv_none(vm->arena));
    }
    return bp_vm_fail(vm, BRINE_E_UNSUPPORTED, "extension registry code %lld (EXT1/2/4) is not supported", (long long)a->i);
}
HANDLER(EXT1) { return extension(vm, a); }
HANDLER(EXT2) { return extension(vm, a); }
HANDLER(EXT4) { return extension(vm, a); }

HANDLER(GLOBAL) { return global_from_bytes(vm, a->p, a->n, a->p2, a->n2); }

HANDLER(STACK_GLOBAL) {
    (void)a;
    bv *name = NULL, *module = NULL;
    brine_status st = pop(vm, &name);
    if (!st) st = pop(vm, &module);
    if (st) return st;
    if (module->kind != BRINE_STR || name->kind != BRINE_STR) {
        if (scanning(vm)) { /* a name built at run time (SECURITY C5) */
            bp_vm_note(vm, BP_SEV_DANGEROUS, "global.computed", NULL, "STACK_GLOBAL on a %s and a %s: the name is computed",
                       brine_kind_name((brine_kind)module->kind), brine_kind_name((brine_kind)name->kind));
            return push(vm, computed_global(vm));
        }
        return bp_vm_fail(vm, BRINE_E_FORMAT, "STACK_GLOBAL requires str operands");
    }
    return global_from_bytes(vm, module->u.s.p, module->u.s.n, name->u.s.p, name->u.s.n);
}

brine_status bp_vm_need_tier(bp_vm *vm, const bv *g, unsigned tier, const char *op) {
    if (scanning(vm) && g->kind != BRINE_GLOBAL)
        return bp_vm_note(vm, BP_SEV_DANGEROUS, "call.computed", NULL, "%s on a %s: the callable was computed (SECURITY B1)",
                          op, brine_kind_name((brine_kind)g->kind));
    if (scanning(vm) && !(g->u.g.entry->tiers & tier))
        return bp_vm_note(vm, BP_SEV_UNKNOWN, "call.schema", g, "%s.%s may not be %s (%s)", g->u.g.module, g->u.g.name,
                          tier == BP_T_CALL ? "called" : "instantiated", op);
    if (g->kind != BRINE_GLOBAL)
        return bp_vm_fail(vm, BRINE_E_UNSUPPORTED, "%s on a %s: only allowlisted globals can be %s", op,
                          brine_kind_name((brine_kind)g->kind), tier == BP_T_CALL ? "called" : "instantiated");
    if (!(g->u.g.entry->tiers & tier))
        return bp_vm_fail(vm, BRINE_E_GLOBAL, "refused global %s.%s: it may not be %s (%s)", g->u.g.module,
                          g->u.g.name, tier == BP_T_CALL ? "called" : "instantiated", op);
    return BRINE_OK;
}

bv *bp_vm_new_object(bp_vm *vm, bv *cls, bv *args, int how) {
    bv *o = bv_new(vm->arena, BRINE_OBJECT);
    if (!o) return NULL;
    o->how = (uint8_t)how;
    o->u.obj.callable = cls;
    o->u.obj.args = args ? args : bv_new(vm->arena, BRINE_TUPLE);
    return o->u.obj.args ? o : NULL;
}

HANDLER(REDUCE) {
    (void)a;
    bv *args = NULL, *callable = NULL;
    brine_status st = pop(vm, &args);
    if (!st) st = pop(vm, &callable);
    if (!st) st = bp_vm_need_tier(vm, callable, BP_T_CALL, "REDUCE");
    if (st) return st;
    if (args->kind != BRINE_TUPLE)
        return bp_vm_fail(vm, BRINE_E_FORMAT, "REDUCE arguments must be a tuple, not %s", brine_kind_name((brine_kind)args->kind));
    if (callable->kind != BRINE_GLOBAL) callable = computed_global(vm); /* scan mode only */
    if (!callable) return nomem(vm);
    const bp_global *e = callable->u.g.entry;
    if (e == &bp_scan_entry && vm->scan_literal)
        for (size_t k = 0; k < args->u.seq.n; k++) {
            const bv *x = args->u.seq.items[k];
            if ((x->kind == BRINE_BYTES || x->kind == BRINE_BYTEARRAY) && x->u.s.n > 1 && x->u.s.p[0] == 0x80)
                vm->scan_literal(vm->user, x->u.s.p, x->u.s.n);
        }
    bv *out = NULL;
    int handled = e->reduce && (e->tiers & BP_T_CALL);
    if (handled) {
        st = e->reduce(vm, callable, args, &out);
        if (st && !scanning(vm)) return st;
        if (st) {
            scan_absorb(vm, "call.schema", callable);
            out = NULL;
        }
    }
    if (!out) {
        out = bp_vm_new_object(vm, callable, args, BV_HOW_REDUCE);
        /* an opaque stand-in for what a handler should have built */
        if (out && (e->reduce || e->build) && !(e->tiers & BP_T_NEW)) out->flags |= BV_F_INERT;
    }
    return push(vm, out);
}

/* Instantiation without arguments: what NEWOBJ(cls, ()) and the legacy
 * INST/OBJ forms come to for the classes brine admits. */
static brine_status instantiate(bp_vm *vm, bv *cls, bv *args, const char *op) {
    brine_status st = bp_vm_need_tier(vm, cls, BP_T_NEW, op);
    if (st) return st;
    if (cls->kind != BRINE_GLOBAL && !(cls = computed_global(vm))) return nomem(vm); /* scan mode only */
    /* Arguments only for entries that may also be called (namedtuples such
     * as sklearn's _ImputerTriplet are NEWOBJ(cls, fields)). */
    int bad_args = args && args->kind == BRINE_TUPLE && args->u.seq.n && !(cls->u.g.entry->tiers & BP_T_CALL);
    if (bad_args && scanning(vm))
        bp_vm_note(vm, BP_SEV_UNKNOWN, "call.schema", cls, "%s of %s.%s with arguments", op, cls->u.g.module, cls->u.g.name);
    else if (bad_args)
        return bp_vm_fail(vm, BRINE_E_UNSUPPORTED, "%s of %s.%s with arguments is not supported", op,
                          cls->u.g.module, cls->u.g.name);
    bv *o = bp_vm_new_object(vm, cls, args, BV_HOW_NEWOBJ);
    /* scan mode: a class instantiated outside its tier stays inert */
    if (o && !(cls->u.g.entry->tiers & BP_T_NEW)) o->flags |= BV_F_INERT;
    return push(vm, o);
}

HANDLER(NEWOBJ) {
    (void)a;
    bv *args = NULL, *cls = NULL;
    brine_status st = pop(vm, &args);
    if (!st) st = pop(vm, &cls);
    if (st) return st;
    if (args->kind != BRINE_TUPLE) return bp_vm_fail(vm, BRINE_E_FORMAT, "NEWOBJ expected an argument tuple");
    return instantiate(vm, cls, args, "NEWOBJ");
}

HANDLER(NEWOBJ_EX) {
    (void)a;
    bv *kwargs = NULL, *args = NULL, *cls = NULL;
    brine_status st = pop(vm, &kwargs);
    if (!st) st = pop(vm, &args);
    if (!st) st = pop(vm, &cls);
    if (st) return st;
    if (args->kind != BRINE_TUPLE || kwargs->kind != BRINE_DICT)
        return bp_vm_fail(vm, BRINE_E_FORMAT, "NEWOBJ_EX expected a tuple and a dict");
    if (kwargs->u.seq.n && scanning(vm))
        bp_vm_note(vm, BP_SEV_UNKNOWN, "call.schema", cls, "NEWOBJ_EX with keyword arguments");
    else if (kwargs->u.seq.n)
        return bp_vm_fail(vm, BRINE_E_UNSUPPORTED, "NEWOBJ_EX with keyword arguments is not supported");
    return instantiate(vm, cls, args, "NEWOBJ_EX");
}

HANDLER(INST) {
    size_t start = 0;
    brine_status st = pop_mark(vm, &start);
    if (st) return st;
    size_t nargs = vm->sp - start;
    vm->sp = start;
    st = global_from_bytes(vm, a->p, a->n, a->p2, a->n2);
    if (st) return st;
    bv *cls = vm->stack[--vm->sp];
    if (nargs && scanning(vm))
        bp_vm_note(vm, BP_SEV_UNKNOWN, "call.schema", cls, "INST of %s.%s calls it with %zu arguments", cls->u.g.module,
                   cls->u.g.name, nargs);
    else if (nargs)
        return bp_vm_fail(vm, BRINE_E_UNSUPPORTED, "INST of %s.%s with arguments is not supported", cls->u.g.module, cls->u.g.name);
    return instantiate(vm, cls, NULL, "INST");
}

HANDLER(OBJ) {
    (void)a;
    size_t start = 0;
    brine_status st = pop_mark(vm, &start);
    if (st) return st;
    if (vm->sp == start) return bp_vm_fail(vm, BRINE_E_FORMAT, "OBJ without a class after the MARK");
    bv *cls = vm->stack[start];
    size_t nargs = vm->sp - start - 1;
    vm->sp = start;
    if (nargs && scanning(vm))
        bp_vm_note(vm, BP_SEV_UNKNOWN, "call.schema", cls, "OBJ calls its class with %zu arguments", nargs);
    else if (nargs)
        return bp_vm_fail(vm, BRINE_E_UNSUPPORTED, "OBJ with arguments is not supported");
    return instantiate(vm, cls, NULL, "OBJ");
}

/* The entry whose handlers own a node made by REDUCE/NEWOBJ. */
static const bp_global *maker_of(const bv *obj) {
    switch (obj->kind) {
    case BRINE_OBJECT: return obj->u.obj.callable->u.g.entry;
    case BRINE_NDARRAY: case BRINE_SCALAR: return obj->u.arr->maker;
    case BRINE_DTYPE: return obj->u.dt->maker;
    default: return NULL;
    }
}

static brine_status generic_build(bp_vm *vm, bv *obj, bv *state) {
    bv *old = obj->u.obj.state;
    if (!old) {
        obj->u.obj.state = state;
        return BRINE_OK;
    }
    /* A second BUILD updates the instance dict, as __setstate__ would. */
    if (old->kind != BRINE_DICT || state->kind != BRINE_DICT)
        return bp_vm_fail(vm, BRINE_E_UNSUPPORTED, "second BUILD on an object with non-dict state");
    for (size_t k = 0; k < state->u.seq.n; k++) {
        brine_status st = bv_dict_set(vm->arena, old, state->u.seq.items[2 * k], state->u.seq.items[2 * k + 1],
                                      vm->err, vm->op_offset);
        if (st) return st;
    }
    return BRINE_OK;
}

/* A refused state is a finding in scan mode, an error otherwise; broken
 * input and I/O errors stay fatal in both. */
static brine_status build_outcome(bp_vm *vm, brine_status st) {
    if (st == BRINE_E_UNSUPPORTED && scanning(vm)) {
        scan_absorb(vm, "state.invalid", NULL);
        return BRINE_OK;
    }
    return st;
}

HANDLER(BUILD) {
    (void)a;
    bv *state = NULL, *obj = NULL;
    brine_status st = pop(vm, &state);
    if (!st) st = top(vm, &obj);
    if (st) return st;
    int inert = (obj->flags & BV_F_INERT) != 0;
    const bp_global *e = inert ? NULL : maker_of(obj);
    if (e && e->build) return build_outcome(vm, e->build(vm, obj, state));
    if (obj->kind == BRINE_OBJECT) return build_outcome(vm, generic_build(vm, obj, state));
    if (!e && scanning(vm)) /* BUILD on a class or module patches it (B6) */
        return bp_vm_note(vm, obj->kind == BRINE_GLOBAL ? BP_SEV_DANGEROUS : BP_SEV_UNKNOWN, "build.target", obj,
                          "BUILD on a %s sets attributes Python code will see", brine_kind_name((brine_kind)obj->kind));
    if (!e)
        return bp_vm_fail(vm, BRINE_E_UNSUPPORTED, "BUILD on a %s: only objects made by the stream take state",
                          brine_kind_name((brine_kind)obj->kind));
    if (scanning(vm)) return bp_vm_note(vm, BP_SEV_UNKNOWN, "state.invalid", NULL, "BUILD on a finished %s", brine_kind_name((brine_kind)obj->kind));
    return bp_vm_fail(vm, BRINE_E_FORMAT, "BUILD on a finished %s", brine_kind_name((brine_kind)obj->kind));
}

HANDLER(PROTO) {
    if (a->u > 5) return bp_vm_fail(vm, BRINE_E_UNSUPPORTED, "unsupported pickle protocol: %llu", (unsigned long long)a->u);
    /* A second PROTO changes the rules for what follows (SECURITY C7). */
    if (vm->first_proto >= 0 || vm->op_offset != vm->stream_start)
        bp_vm_note(vm, BP_SEV_UNKNOWN, "proto.misplaced", NULL, "PROTO %llu after the first opcode", (unsigned long long)a->u);
    vm->proto = (int)a->u;
    if (vm->first_proto < 0) vm->first_proto = (int)a->u;
    return BRINE_OK;
}

HANDLER(FRAME) {
    /* Frames only group opcodes; a linear reader just checks the length. */
    /* The pure-Python unpickler (so joblib.load) runs a stream whose FRAME
     * claims more than remains (E4); so does this linear reader, and the
     * scanner says so. */
    if (a->u > vm->size - vm->pos)
        return bp_vm_note(vm, BP_SEV_UNKNOWN, "frame.inconsistent", NULL, "FRAME of %llu bytes runs past the end of the input",
                          (unsigned long long)a->u);
    return BRINE_OK;
}

HANDLER(PERSID) {
    (void)a;
    if (scanning(vm)) {
        bp_vm_note(vm, BP_SEV_UNKNOWN, "opcode.unsupported", NULL, "PERSID calls the consumer's persistent_load");
        return push(vm, bv_none(vm->arena));
    }
    return bp_vm_fail(vm, BRINE_E_UNSUPPORTED, "persistent IDs (PERSID) are not supported");
}

HANDLER(BINPERSID) {
    (void)a;
    if (scanning(vm)) {
        bv *pid = NULL;
        brine_status st = pop(vm, &pid);
        if (st) return st;
        bp_vm_note(vm, BP_SEV_UNKNOWN, "opcode.unsupported", NULL, "BINPERSID calls the consumer's persistent_load");
        return push(vm, bv_none(vm->arena));
    }
    return bp_vm_fail(vm, BRINE_E_UNSUPPORTED, "persistent IDs (BINPERSID) are not supported");
}

/* ------------------------------------------------------------ the loop */

static op_fn handler_of(uint8_t byte) {
    switch (byte) {
#define OP(b, name, arg, proto, effect) case b: return op_##name;
#include "pickle/opcodes.def"
#undef OP
    default: return NULL;
    }
}

void bp_vm_init(bp_vm *vm) {
    vm->stream_start = (int64_t)vm->pos;
    vm->proto = 0;
    vm->first_proto = -1;
    vm->max_op_proto = 0;
    vm->stack = NULL;
    vm->sp = vm->stack_cap = 0;
    vm->marks = NULL;
    vm->nmarks = vm->marks_cap = 0;
    vm->memo = NULL;
    vm->memo_cap = vm->memo_len = 0;
    vm->result = NULL;
}

void bp_vm_release(bp_vm *vm) {
    free(vm->stack);
    free(vm->marks);
    free(vm->memo);
    vm->stack = NULL;
    vm->marks = NULL;
    vm->memo = NULL;
}

brine_status bp_vm_run(bp_vm *vm) {
    for (;;) {
        vm->op_offset = (int64_t)vm->pos;
        if (vm->pos >= vm->size)
            return bp_vm_fail(vm, BRINE_E_FORMAT, "truncated input: pickle data ended before STOP");
        uint8_t byte = vm->data[vm->pos];
        const bp_opinfo *op = bp_opinfo_of(byte);
        if (!op) return bp_vm_fail(vm, BRINE_E_FORMAT, "invalid opcode 0x%02x", byte);
        bp_arg arg;
        size_t next;
        brine_status st = bp_decode_arg(op, vm->data, vm->size, vm->pos + 1, vm->op_offset, &arg, &next, vm->err);
        if (st) return st;
        vm->pos = next;
        if (op->proto > vm->max_op_proto) vm->max_op_proto = op->proto;
        st = handler_of(byte)(vm, &arg);
        if (st) return st;
        if (byte == BP_OP_STOP) return BRINE_OK;
    }
}
