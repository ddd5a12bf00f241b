/* globals.c — allowlist lookup, the builtins/copyreg/_codecs reconstructors,
 * the sklearn and scipy name tables, the dangerous-name list and Python 2
 * module renaming. */
#include "pickle/globals.h"

#include <stdlib.h>
#include <string.h>

#include "pickle/text.h"
#include "pickle/vm.h"

static int row_cmp(const char *module, const char *name, const bp_global *row) {
    int c = strcmp(module, row->module);
    return c ? c : strcmp(name, row->name);
}

const bp_global *bp_global_find(const bp_global_table *const *tables, size_t ntables,
                                const char *module, const char *name) {
    for (size_t t = 0; t < ntables; t++) {
        size_t lo = 0, hi = tables[t]->n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            int c = row_cmp(module, name, &tables[t]->rows[mid]);
            if (c == 0) return &tables[t]->rows[mid];
            if (c < 0) hi = mid;
            else lo = mid + 1;
        }
    }
    return NULL;
}

int bp_global_table_sorted(const bp_global_table *t) {
    for (size_t k = 1; k < t->n; k++)
        if (row_cmp(t->rows[k].module, t->rows[k].name, &t->rows[k - 1]) <= 0) return 0;
    return 1;
}

/* ------------------------------------------------- builtin reconstructors */

static size_t nargs(const bv *args) { return args->u.seq.n; }
static bv *arg(const bv *args, size_t i) { return args->u.seq.items[i]; }

static brine_status bad_args(bp_vm *vm, const bv *callable, const char *expected) {
    return bp_vm_fail(vm, BRINE_E_FORMAT, "%s.%s called with arguments brine does not accept (expected %s)",
                      callable->u.g.module, callable->u.g.name, expected);
}

static brine_status oom(bp_vm *vm) { return bp_vm_fail(vm, BRINE_E_LIMIT, "graph memory limit reached"); }

/* copyreg._reconstructor(cls, object, None): how protocols 0 and 1 spell
 * cls.__new__(cls); it becomes the same object NEWOBJ would make. */
static brine_status reduce_reconstructor(bp_vm *vm, bv *callable, bv *args, bv **out) {
    if (nargs(args) != 3) return bad_args(vm, callable, "(cls, object, None)");
    bv *cls = arg(args, 0), *base = arg(args, 1), *state = arg(args, 2);
    if (base->kind != BRINE_GLOBAL || strcmp(base->u.g.module, "builtins") || strcmp(base->u.g.name, "object") ||
        state->kind != BRINE_NONE)
        return bad_args(vm, callable, "(cls, object, None)");
    brine_status st = bp_vm_need_tier(vm, cls, BP_T_NEW, "copyreg._reconstructor");
    if (st) return st;
    *out = bp_vm_new_object(vm, cls, NULL, BV_HOW_NEWOBJ);
    return *out ? BRINE_OK : oom(vm);
}

/* Code points 0..255 of a str, one byte each: Python 3's way of writing
 * bytes under protocol <= 2 (_codecs.encode(s, 'latin1')). */
static brine_status latin1_bytes(bp_vm *vm, const bv *s, brine_kind kind, bv **out) {
    uint8_t *buf = bp_arena_alloc(vm->arena, s->u.s.n ? s->u.s.n : 1);
    if (!buf) return oom(vm);
    size_t o = 0;
    for (size_t k = 0; k < s->u.s.n;) {
        uint32_t cp;
        k += bp_utf8_get(s->u.s.p + k, s->u.s.n - k, &cp);
        if (cp > 0xff)
            return bp_vm_fail(vm, BRINE_E_FORMAT, "'latin-1' codec can't encode character U+%04X", (unsigned)cp);
        buf[o++] = (uint8_t)cp;
    }
    *out = bv_bytes_kind(vm->arena, kind, buf, o, 0);
    return *out ? BRINE_OK : oom(vm);
}

static int is_latin1_name(const bv *v) {
    return bv_is_str(v, "latin1") || bv_is_str(v, "latin-1") || bv_is_str(v, "iso-8859-1") ||
           bv_is_str(v, "iso8859-1");
}

static brine_status reduce_codecs_encode(bp_vm *vm, bv *callable, bv *args, bv **out) {
    if (nargs(args) != 2 || arg(args, 0)->kind != BRINE_STR || !is_latin1_name(arg(args, 1)))
        return bad_args(vm, callable, "(str, 'latin1')");
    return latin1_bytes(vm, arg(args, 0), BRINE_BYTES, out);
}

/* bytes() / bytes(b) and bytearray() / bytearray(b) / bytearray(s, 'latin-1'). */
static brine_status byte_string(bp_vm *vm, bv *callable, bv *args, brine_kind kind, bv **out) {
    if (nargs(args) == 0) {
        *out = bv_bytes_kind(vm->arena, kind, "", 0, 0);
        return *out ? BRINE_OK : oom(vm);
    }
    bv *a0 = arg(args, 0);
    if (nargs(args) == 1 && (a0->kind == BRINE_BYTES || a0->kind == BRINE_BYTEARRAY)) {
        *out = bv_bytes_kind(vm->arena, kind, a0->u.s.p, a0->u.s.n, 0);
        return *out ? BRINE_OK : oom(vm);
    }
    if (nargs(args) == 2 && a0->kind == BRINE_STR && is_latin1_name(arg(args, 1)))
        return latin1_bytes(vm, a0, kind, out);
    return bad_args(vm, callable, "(), (bytes) or (str, 'latin-1')");
}

static brine_status reduce_bytes(bp_vm *vm, bv *callable, bv *args, bv **out) {
    return byte_string(vm, callable, args, BRINE_BYTES, out);
}

static brine_status reduce_bytearray(bp_vm *vm, bv *callable, bv *args, bv **out) {
    return byte_string(vm, callable, args, BRINE_BYTEARRAY, out);
}

/* set(list) / frozenset(list): how protocols < 4 write sets. */
static brine_status set_of(bp_vm *vm, bv *callable, bv *args, brine_kind kind, bv **out) {
    if (nargs(args) > 1) return bad_args(vm, callable, "() or (list,)");
    bv *s = bv_new(vm->arena, kind);
    if (!s) return oom(vm);
    if (nargs(args) == 1) {
        bv *items = arg(args, 0);
        if (items->kind != BRINE_LIST && items->kind != BRINE_TUPLE && items->kind != BRINE_SET &&
            items->kind != BRINE_FROZENSET)
            return bad_args(vm, callable, "(list,)");
        for (size_t k = 0; k < items->u.seq.n; k++) {
            brine_status st = bv_seq_push(vm->arena, s, items->u.seq.items[k], vm->err, vm->op_offset);
            if (st) return st;
        }
    }
    *out = s;
    return BRINE_OK;
}

static brine_status reduce_set(bp_vm *vm, bv *callable, bv *args, bv **out) {
    return set_of(vm, callable, args, BRINE_SET, out);
}

static brine_status reduce_frozenset(bp_vm *vm, bv *callable, bv *args, bv **out) {
    return set_of(vm, callable, args, BRINE_FROZENSET, out);
}

static brine_status reduce_slice(bp_vm *vm, bv *callable, bv *args, bv **out) {
    size_t n = nargs(args);
    /* Python's slice holds any objects; they stay inert here. */
    if (n < 1 || n > 3) return bad_args(vm, callable, "(start, stop[, step])");
    bv *s = bv_new(vm->arena, BRINE_SLICE), *none = bv_none(vm->arena);
    if (!s || !none) return oom(vm);
    s->u.slice.start = n == 1 ? none : arg(args, 0);
    s->u.slice.stop = n == 1 ? arg(args, 0) : arg(args, 1);
    s->u.slice.step = n == 3 ? arg(args, 2) : none;
    *out = s;
    return BRINE_OK;
}

static int number(const bv *v, double *out) {
    if (v->kind == BRINE_FLOAT) { *out = v->u.f; return 1; }
    if ((v->kind == BRINE_INT || v->kind == BRINE_BOOL) && !(v->flags & BV_F_BIGINT)) {
        *out = (double)v->u.i;
        return 1;
    }
    return 0;
}

static brine_status reduce_complex(bp_vm *vm, bv *callable, bv *args, bv **out) {
    double re = 0, im = 0;
    size_t n = nargs(args);
    if (n > 2 || (n >= 1 && !number(arg(args, 0), &re)) || (n == 2 && !number(arg(args, 1), &im)))
        return bad_args(vm, callable, "(real, imag)");
    bv *c = bv_new(vm->arena, BRINE_COMPLEX);
    if (!c) return oom(vm);
    c->u.c.re = re;
    c->u.c.im = im;
    *out = c;
    return BRINE_OK;
}

#define NEW BP_T_NEW
#define CALL BP_T_CALL
#define VALUE BP_T_VALUE

/* Sorted by (module, name); tests check the order. */
static const bp_global builtins_rows[] = {
    {"_codecs", "encode", CALL, reduce_codecs_encode, NULL},
    {"builtins", "bool", VALUE, NULL, NULL},
    {"builtins", "bytearray", CALL, reduce_bytearray, NULL},
    {"builtins", "bytes", CALL, reduce_bytes, NULL},
    {"builtins", "complex", CALL, reduce_complex, NULL},
    {"builtins", "dict", VALUE, NULL, NULL},
    {"builtins", "float", VALUE, NULL, NULL},
    {"builtins", "frozenset", CALL, reduce_frozenset, NULL},
    {"builtins", "int", VALUE, NULL, NULL},
    {"builtins", "list", VALUE, NULL, NULL},
    {"builtins", "object", VALUE, NULL, NULL},
    {"builtins", "set", CALL, reduce_set, NULL},
    {"builtins", "slice", CALL, reduce_slice, NULL},
    {"builtins", "str", VALUE, NULL, NULL},
    {"builtins", "tuple", VALUE, NULL, NULL},
    {"copyreg", "_reconstructor", CALL, reduce_reconstructor, NULL},
    /* scipy.sparse matrices are plain instances (dict state); the estimator
     * layer gives them meaning.  Both the private (scipy >= 1.8) and the
     * older public module names. */
    {"scipy.interpolate._bsplines", "BSpline", NEW, NULL, NULL},
    {"scipy.sparse._coo", "coo_matrix", NEW, NULL, NULL},
    {"scipy.sparse._csc", "csc_matrix", NEW, NULL, NULL},
    {"scipy.sparse._csr", "csr_matrix", NEW, NULL, NULL},
    {"scipy.sparse.coo", "coo_matrix", NEW, NULL, NULL},
    {"scipy.sparse.csc", "csc_matrix", NEW, NULL, NULL},
    {"scipy.sparse.csr", "csr_matrix", NEW, NULL, NULL},
};

const bp_global_table bp_builtins_table = {builtins_rows, sizeof builtins_rows / sizeof builtins_rows[0]};

/* sklearn names, generated by tools/gen_allowlist.py from real pickles of
 * every estimator and from shared/wild; opaque until the estimator layer
 * gives them meaning. */
static const bp_global sklearn_rows[] = {
#define BP_ALLOW(tiers, module, name) {module, name, tiers, NULL, NULL},
#include "pickle/allowlist_sklearn.inc"
#undef BP_ALLOW
};

const bp_global_table bp_sklearn_table = {sklearn_rows, sizeof sklearn_rows / sizeof sklearn_rows[0]};

/* ------------------------------------------------------- dangerous names */

/* Modules whose every name runs code, touches the system or resolves names
 * (SECURITY A1-A6, B1-B5, B8); matched as the module or a parent package. */
static const char *const dangerous_modules[] = {
    "_io", "_operator", "_pickle", "_posixsubprocess", "_thread", "asyncio", "bdb", "cProfile",
    "cloudpickle", "code", "codeop", "commands", "ctypes", "dill", "distutils", "doctest",
    "ensurepip", "ftplib", "functools", "http", "imaplib", "importlib", "io", "joblib.memory",
    "joblib.parallel", "logging", "marshal", "multiprocessing", "nt", "numpy.f2py", "numpy.testing",
    "operator", "os", "pathlib", "pdb", "pickle", "pkgutil", "posix", "profile", "pty", "pydoc",
    "runpy", "sched", "shelve", "shutil", "signal", "smtplib", "socket", "ssl", "subprocess", "sys",
    "tempfile", "telnetlib", "threading", "timeit", "torch", "trace", "types", "urllib", "uuid",
    "venv", "webbrowser", "xmlrpc", "zipimport",
};

static const char *const dangerous_builtins[] = {
    "__import__", "apply", "breakpoint", "compile", "delattr", "eval", "exec", "execfile",
    "exit", "getattr", "globals", "help", "input", "locals", "open", "quit", "setattr", "vars",
};

static int module_under(const char *module, const char *root) {
    size_t n = strlen(root);
    return strncmp(module, root, n) == 0 && (module[n] == '\0' || module[n] == '.');
}

int bp_global_is_dangerous(const char *module, const char *name) {
    for (size_t k = 0; k < sizeof dangerous_modules / sizeof *dangerous_modules; k++)
        if (module_under(module, dangerous_modules[k])) return 1;
    if (strcmp(module, "builtins") == 0 || strcmp(module, "__builtin__") == 0)
        for (size_t k = 0; k < sizeof dangerous_builtins / sizeof *dangerous_builtins; k++)
            if (strcmp(name, dangerous_builtins[k]) == 0) return 1;
    /* A dotted qualname walks attributes (C6): reaching os.system through
     * any module; off-list dotted names are graded dangerous. */
    if (strchr(name, '.')) return 1;
    /* Loaders of nested pickles under any module name (SECURITY B5). */
    if (strcmp(name, "load") == 0 || strcmp(name, "loads") == 0 || strcmp(name, "read_pickle") == 0)
        return 1;
    return 0;
}

int bp_trust_match(const char *const *trust, size_t n, const char *module, const char *name) {
    size_t ml = strlen(module);
    for (size_t k = 0; k < n; k++)
        if (!strncmp(trust[k], module, ml) && trust[k][ml] == ':' && !strcmp(trust[k] + ml + 1, name)) return 1;
    return 0;
}

/* ----------------------------------------------------- Python 2 renaming */

/* The module part of CPython's _compat_pickle.IMPORT_MAPPING that matters
 * for resolving and grading names; sorted by the Python 2 name. */
static const char *const compat_modules[][2] = {
    {"BaseHTTPServer", "http.server"}, {"CGIHTTPServer", "http.server"},
    {"ConfigParser", "configparser"},  {"Cookie", "http.cookies"},
    {"Queue", "queue"},                {"SimpleHTTPServer", "http.server"},
    {"SocketServer", "socketserver"},  {"StringIO", "io"},
    {"Tkinter", "tkinter"},            {"UserDict", "collections"},
    {"UserList", "collections"},       {"UserString", "collections"},
    {"__builtin__", "builtins"},       {"_abcoll", "collections.abc"},
    {"anydbm", "dbm"},                 {"cPickle", "pickle"},
    {"cStringIO", "io"},               {"commands", "subprocess"},
    {"cookielib", "http.cookiejar"},   {"copy_reg", "copyreg"},
    {"dbhash", "dbm.bsd"},             {"dumbdbm", "dbm.dumb"},
    {"exceptions", "builtins"},        {"gdbm", "dbm.gnu"},
    {"htmlentitydefs", "html.entities"}, {"httplib", "http.client"},
    {"itertools", "itertools"},        {"markupbase", "_markupbase"},
    {"repr", "reprlib"},               {"robotparser", "urllib.robotparser"},
    {"thread", "_thread"},             {"urllib2", "urllib.request"},
    {"urlparse", "urllib.parse"},      {"whichdb", "dbm"},
    {"xmlrpclib", "xmlrpc.client"},
};

const char *bp_compat_module(const char *module) {
    size_t lo = 0, hi = sizeof compat_modules / sizeof *compat_modules;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(module, compat_modules[mid][0]);
        if (c == 0) return compat_modules[mid][1];
        if (c < 0) hi = mid;
        else lo = mid + 1;
    }
    return module;
}
