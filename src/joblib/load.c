/* load.c — brine_file: detect the container, decompress under a cap, run
 * the pickle machine with joblib's wrapper semantics, keep what arrays point
 * into alive. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/compress.h"
#include "io/crypt.h"
#include "io/error.h"
#include "joblib/joblib.h"
#include "numpy/numpy.h"
#include "pickle/vm.h"

#define GiB (1024ull * 1024 * 1024)

brine_load_options bj_resolve_options(const brine_load_options *in) {
    brine_load_options o = BRINE_LOAD_OPTIONS_INIT;
    if (in) o = *in;
    /* Defaults accept every legitimate file (CONVENTIONS "Default limits"):
     * sizes allow multi-GB models, depth allows 200 000-deep nesting with
     * room to spare, the integer limits are CPython's own. */
    if (!o.max_input_bytes) o.max_input_bytes = 64 * GiB;
    if (!o.max_decompressed_bytes) o.max_decompressed_bytes = 64 * GiB;
    if (!o.max_graph_bytes) o.max_graph_bytes = 16 * GiB;
    if (!o.max_depth) o.max_depth = 10000000;
    if (!o.max_memo_entries) o.max_memo_entries = 100000000;
    if (!o.max_long_bytes) o.max_long_bytes = 1024 * 1024;
    if (!o.max_long_digits) o.max_long_digits = 4300;
    if (!o.max_nested_streams) o.max_nested_streams = 1000000;
    return o;
}

const bp_global_table *const *bj_tables(size_t *n) {
    static const bp_global_table *const tables[] = {&bp_builtins_table, &bn_numpy_table, &bj_joblib_table,
                                                     &bp_sklearn_table};
    *n = sizeof tables / sizeof tables[0];
    return tables;
}

/* ------------------------------------------------------------ globals */

/* A name's grade: on the allowlist, dangerous (SECURITY A, B), or
 * unknown; --trust lifts unknown names only. */
static brine_verdict grade_global(const brine_file *f, const char *module, const char *name) {
    size_t n;
    const bp_global_table *const *t = bj_tables(&n);
    if (bp_global_find(t, n, module, name)) return BRINE_VERDICT_ALLOWED;
    if (bp_global_is_dangerous(module, name)) return BRINE_VERDICT_DANGEROUS;
    return bp_trust_match(f->opts.trust, f->opts.n_trust, module, name) ? BRINE_VERDICT_ALLOWED : BRINE_VERDICT_UNKNOWN;
}

static void scan_grade(brine_file *f, const char *module, const char *name, int64_t offset, int stream) {
    brine_verdict g = grade_global(f, module, name);
    if (f->nglobals) f->scan->grades[f->nglobals - 1] = g;
    if (g == BRINE_VERDICT_ALLOWED) return;
    char msg[BRINE_ERROR_MESSAGE_SIZE];
    snprintf(msg, sizeof msg, "%s.%s %s", module, name,
             g == BRINE_VERDICT_DANGEROUS ? "can run code or touch the system when Python loads the file"
                                          : "is not on brine's allowlist");
    bj_scan_note(f, g, g == BRINE_VERDICT_DANGEROUS ? "global.dangerous" : "global.unknown", module, name, offset,
                 stream, msg);
}

static void record_global(void *user, const char *module, const char *name, int64_t offset, int stream) {
    brine_file *f = user;
    if (!strncmp(module, "numpy._core", 11)) f->numpy2 = 1;
    for (size_t k = 0; k < f->nglobals; k++)
        if (!strcmp(f->globals[k].module, module) && !strcmp(f->globals[k].name, name)) return;
    if (f->nglobals == f->globals_cap) {
        size_t cap = f->globals_cap ? f->globals_cap * 2 : 32;
        brine_global_ref *g = realloc(f->globals, cap * sizeof *g);
        if (!g) return; /* the list is informational; the load goes on */
        f->globals = g;
        if (f->scan) {
            brine_verdict *v = realloc(f->scan->grades, cap * sizeof *v);
            if (!v) return;
            f->scan->grades = v;
        }
        f->globals_cap = cap;
    }
    const char *m = bp_arena_strdup(&f->arena, module, strlen(module));
    const char *n = bp_arena_strdup(&f->arena, name, strlen(name));
    if (!m || !n) return;
    f->globals[f->nglobals++] = (brine_global_ref){m, n, offset, stream};
    if (f->scan) scan_grade(f, m, n, offset, stream);
}

static void vm_finding(void *user, int severity, const char *rule, const char *module, const char *name,
                       int64_t offset, int stream, const char *message) {
    bj_scan_note(user, severity, rule, module, name, offset, stream, message);
}

/* A pickle inside a literal (its findings count; a broken one is only
 * data): offsets are within the literal, the stream number says which. */
static void scan_literal(void *user, const uint8_t *p, size_t n) {
    brine_file *f = user;
    if (f->nested_depth > 0) return;
    brine_error e;
    brine_error_clear(&e);
    bv *out;
    bj_run_nested(f, p, n, 0, &e, &out, NULL);
}

/* ------------------------------------------------------- nested streams */

static void vm_setup(bp_vm *vm, brine_file *f, const uint8_t *data, size_t size, size_t pos, int stream,
                     brine_error *err) {
    memset(vm, 0, sizeof *vm);
    vm->arena = &f->arena;
    vm->data = data;
    vm->size = size;
    vm->pos = pos;
    vm->tables = bj_tables(&vm->ntables);
    vm->trust = f->opts.trust;
    vm->n_trust = f->opts.n_trust;
    vm->limits = (bp_limits){f->opts.max_depth, f->opts.max_memo_entries, f->opts.max_long_bytes,
                             f->opts.max_long_digits};
    vm->on_global = record_global;
    vm->on_finding = f->scan ? vm_finding : NULL;
    vm->scan_literal = f->scan ? scan_literal : NULL;
    vm->user = f;
    vm->stream = stream;
    vm->err = err;
    bp_vm_init(vm);
}

/* One complete pickle at data[pos..] (joblib object arrays, .npy object
 * arrays), under the same policy and limits, with its own memo. */
brine_status bj_run_nested(brine_file *f, const uint8_t *data, size_t size, size_t pos, brine_error *err,
                               bv **out, size_t *end) {
    if (f->nested_streams >= f->opts.max_nested_streams)
        return bi_fail(err, BRINE_E_LIMIT, (int64_t)pos, "more than %llu nested pickles (max_nested_streams)",
                       (unsigned long long)f->opts.max_nested_streams);
    if (f->nested_depth > 0)
        return bi_fail(err, BRINE_E_UNSUPPORTED, (int64_t)pos, "array wrapper inside a nested pickle");
    f->nested_streams++;
    f->nested_depth++;
    bp_vm vm;
    vm_setup(&vm, f, data, size, pos, (int)f->nested_streams, err);
    brine_status st = bp_vm_run(&vm);
    if (!st) {
        *out = vm.result;
        if (end) *end = vm.pos;
    } else {
        bi_error_where(err, "nested pickle %zu at offset %zu", f->nested_streams, pos);
    }
    bp_vm_release(&vm);
    f->nested_depth--;
    return st;
}

/* ------------------------------------------------------------ wrappers */

static brine_status wrapper_fail(bp_vm *vm, const char *what) {
    return bp_vm_fail(vm, BRINE_E_FORMAT, "invalid joblib array wrapper: %s", what);
}

/* Puts the array where the wrapper was on the stack, as joblib's unpickler
 * does.  The wrapper node itself stays what the memo holds: Python's memo
 * holds the wrapper too.  An object array from a nested pickle keeps its
 * identity, so references to it from inside (cycles) stay the same node. */
static void become(bp_vm *vm, bv *wrapper, bv *state, bv *arr) {
    wrapper->u.obj.state = state;
    vm->stack[vm->sp - 1] = arr;
}

static brine_status wrapper_shape(bp_vm *vm, const bv *shape, int64_t *dims, int *ndim) {
    if (!shape || shape->kind != BRINE_TUPLE || shape->u.seq.n > 64) return wrapper_fail(vm, "shape is not a tuple");
    for (size_t k = 0; k < shape->u.seq.n; k++)
        if (!bv_get_i64(shape->u.seq.items[k], &dims[k])) return wrapper_fail(vm, "shape is not ints");
    *ndim = (int)shape->u.seq.n;
    return BRINE_OK;
}

/* NumpyArrayWrapper: the array's bytes (or a nested pickle of an object
 * array) follow the BUILD opcode directly in the stream. */
static brine_status build_numpy_wrapper(bp_vm *vm, bv *obj, bv *state) {
    brine_file *f = vm->user;
    if (obj->kind != BRINE_OBJECT || obj->u.obj.state) return wrapper_fail(vm, "BUILD twice");
    if (state->kind != BRINE_DICT) return wrapper_fail(vm, "state is not a dict");
    bv *dtype = bv_dict_get(state, "dtype"), *order = bv_dict_get(state, "order");
    bv *subclass = bv_dict_get(state, "subclass"), *align = bv_dict_get(state, "numpy_array_alignment_bytes");
    if (!dtype || dtype->kind != BRINE_DTYPE || (dtype->flags & BV_F_PENDING)) return wrapper_fail(vm, "no dtype");
    if (!subclass || !bn_is_array_class(subclass)) return wrapper_fail(vm, "subclass is not a numpy array class");
    int64_t dims[64];
    int ndim;
    brine_status st = wrapper_shape(vm, bv_dict_get(state, "shape"), dims, &ndim);
    if (st) return st;
    f->saw_wrapper = 1;
    if (dtype->u.dt->hasobject) {
        bv *arr;
        size_t end;
        st = bj_run_nested(f, vm->data, vm->size, vm->pos, vm->err, &arr, &end);
        if (st) return st;
        if (arr->kind != BRINE_NDARRAY || !arr->u.arr->objects)
            return wrapper_fail(vm, "the nested pickle of an object array is not an object array");
        vm->pos = end;
        become(vm, obj, state, arr);
        return BRINE_OK;
    }
    if (align && align->kind != BRINE_NONE) {
        if (vm->pos >= vm->size) return bp_vm_fail(vm, BRINE_E_FORMAT, "truncated input: array padding missing");
        size_t pad = vm->data[vm->pos];
        if (pad > vm->size - vm->pos - 1) return bp_vm_fail(vm, BRINE_E_FORMAT, "truncated input: array padding runs past the end");
        vm->pos += 1 + pad;
    }
    int64_t count;
    uint64_t nbytes;
    if (!bn_shape_count(ndim, dims, &count) ||
        __builtin_mul_overflow((uint64_t)count, (uint64_t)dtype->u.dt->itemsize, &nbytes))
        return wrapper_fail(vm, "shape overflows");
    if (nbytes > vm->size - vm->pos)
        return bi_fail(vm->err, BRINE_E_FORMAT, (int64_t)vm->pos,
                       "truncated input: array data of %llu bytes runs past the end (%zu remain)",
                       (unsigned long long)nbytes, vm->size - vm->pos);
    bv *arr;
    st = bn_array_new(vm->arena, &arr, dtype, ndim, dims, bv_is_str(order, "F"), vm->data + vm->pos, (size_t)nbytes,
                      NULL, vm->err, (int64_t)vm->pos);
    if (st) return st;
    arr->u.arr->subclass = subclass;
    vm->pos += (size_t)nbytes;
    become(vm, obj, state, arr);
    return BRINE_OK;
}

/* A sibling file's name must be a plain name in the model's directory
 * (SECURITY D4): never a path. */
static int plain_name(const bv *name) {
    if (!name || name->kind != BRINE_STR || name->u.s.n == 0 || name->u.s.n > 255) return 0;
    const uint8_t *p = name->u.s.p;
    size_t n = name->u.s.n;
    if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) return 0;
    return !memchr(p, '/', n) && !memchr(p, '\\', n) && !memchr(p, 0, n);
}

/* How the file is opened: read, or mapped (use_mmap), with its pages
 * faulted in at once when a load will read every byte; the scanner maps
 * without, as it skips array bytes. */
static int input_mode(const brine_file *f) {
    if (!f->opts.use_mmap) return BI_READ;
    return f->scan ? BI_MAP : BI_MAP_POPULATE;
}

static brine_status open_sidecar(bp_vm *vm, const bv *name, bi_input **out) {
    brine_file *f = vm->user;
    if (!plain_name(name) && f->scan) { /* joblib would open any path (D4) */
        bp_vm_note(vm, BP_SEV_DANGEROUS, "sidecar.path", NULL, "legacy array wrapper names a path, not a file beside the model");
        *out = NULL;
        return BRINE_OK;
    }
    if (!plain_name(name))
        return bp_vm_fail(vm, BRINE_E_FORMAT, "refused legacy NDArrayWrapper file name '%.*s': not a plain file name in the model's directory",
                          name && name->kind == BRINE_STR ? (int)(name->u.s.n > 200 ? 200 : name->u.s.n) : 1,
                          name && name->kind == BRINE_STR ? (const char *)name->u.s.p : "?");
    if (!f->dir) return bp_vm_fail(vm, BRINE_E_UNSUPPORTED, "legacy multi-file models must be opened from a path");
    bi_input *grown = realloc(f->sidecars, (f->nsidecars + 1) * sizeof *grown);
    if (!grown) return bp_vm_fail(vm, BRINE_E_NOMEM, "out of memory");
    f->sidecars = grown;
    size_t dl = strlen(f->dir);
    char *path = malloc(dl + name->u.s.n + 2);
    if (!path) return bp_vm_fail(vm, BRINE_E_NOMEM, "out of memory");
    memcpy(path, f->dir, dl);
    path[dl] = '/';
    memcpy(path + dl + 1, name->u.s.p, name->u.s.n);
    path[dl + 1 + name->u.s.n] = '\0';
    brine_status st = bi_input_open(&f->sidecars[f->nsidecars], path, input_mode(f), f->opts.max_input_bytes, vm->err);
    free(path);
    if (st) return st;
    *out = &f->sidecars[f->nsidecars++];
    return BRINE_OK;
}

brine_status bj_npy_pickle(void *ctx, const uint8_t *data, size_t size, size_t pos, bv **out) {
    bj_npy_ctx *c = ctx;
    return bj_run_nested(c->f, data, size, pos, c->err, out, NULL);
}

/* NDArrayWrapper (joblib < 0.10): the array lives in a sibling .npy file. */
static brine_status build_ndarray_wrapper(bp_vm *vm, bv *obj, bv *state) {
    if (obj->kind != BRINE_OBJECT || state->kind != BRINE_DICT) return wrapper_fail(vm, "legacy wrapper state is not a dict");
    bv *name = bv_dict_get(state, "filename");
    bi_input *side;
    brine_status st = open_sidecar(vm, name, &side);
    if (st || !side) return st;
    bj_npy_ctx ctx = {vm->user, vm->err};
    bv *arr;
    st = bn_npy_parse(vm->arena, side->data, side->size, bj_npy_pickle, &ctx, &arr, vm->err);
    if (st) {
        bi_error_where(vm->err, "sidecar %.*s", (int)name->u.s.n, (const char *)name->u.s.p);
        return st;
    }
    ((brine_file *)vm->user)->saw_wrapper = 1;
    become(vm, obj, state, arr);
    return BRINE_OK;
}

/* ZNDArrayWrapper (joblib < 0.10, compressed): raw bytes in a sibling ZF
 * file, shape and dtype in the state. */
static brine_status build_zndarray_wrapper(bp_vm *vm, bv *obj, bv *state) {
    brine_file *f = vm->user;
    if (obj->kind != BRINE_OBJECT || state->kind != BRINE_DICT) return wrapper_fail(vm, "legacy wrapper state is not a dict");
    bv *ast = bv_dict_get(state, "state");
    if (!ast || ast->kind != BRINE_TUPLE || ast->u.seq.n < 3) return wrapper_fail(vm, "legacy wrapper without array state");
    size_t b = ast->u.seq.n == 4 ? 1 : 0;
    bv *dtype = ast->u.seq.items[b + 1];
    int64_t dims[64], fortran = 0;
    int ndim;
    brine_status st = wrapper_shape(vm, ast->u.seq.items[b], dims, &ndim);
    if (st) return st;
    if (dtype->kind != BRINE_DTYPE || (dtype->flags & BV_F_PENDING) || dtype->u.dt->hasobject)
        return wrapper_fail(vm, "legacy wrapper dtype");
    bv_get_i64(ast->u.seq.items[b + 2], &fortran);
    bi_input *side;
    st = open_sidecar(vm, bv_dict_get(state, "filename"), &side);
    if (st || !side) return st;
    bi_buf raw = BI_BUF_INIT;
    st = bi_decompress(BRINE_COMPRESSION_ZLIB, 1, side->data, side->size, f->opts.max_decompressed_bytes, &raw, vm->err);
    if (st) { bi_buf_free(&raw); return st; }
    /* The sidecar slot now owns the decompressed bytes instead. */
    bi_input_release(side);
    size_t len;
    uint8_t *data = bi_buf_take(&raw, &len);
    bi_input_adopt(side, data, len);
    bv *arr;
    st = bn_array_new(vm->arena, &arr, dtype, ndim, dims, fortran != 0, side->data, side->size, NULL, vm->err, vm->op_offset);
    if (st) return st;
    arr->u.arr->subclass = bv_global(vm->arena, "numpy", "ndarray", NULL);
    f->saw_wrapper = 1;
    become(vm, obj, state, arr);
    return BRINE_OK;
}

#define W(module, name, fn) {module, name, BP_T_NEW, NULL, fn}
static const bp_global joblib_rows[] = {
    W("joblib.numpy_pickle", "NDArrayWrapper", build_ndarray_wrapper),
    W("joblib.numpy_pickle", "NumpyArrayWrapper", build_numpy_wrapper),
    W("joblib.numpy_pickle", "ZNDArrayWrapper", build_zndarray_wrapper),
    W("joblib.numpy_pickle_compat", "NDArrayWrapper", build_ndarray_wrapper),
    W("joblib.numpy_pickle_compat", "ZNDArrayWrapper", build_zndarray_wrapper),
    W("sklearn.externals.joblib.numpy_pickle", "NDArrayWrapper", build_ndarray_wrapper),
    W("sklearn.externals.joblib.numpy_pickle", "NumpyArrayWrapper", build_numpy_wrapper),
    W("sklearn.externals.joblib.numpy_pickle", "ZNDArrayWrapper", build_zndarray_wrapper),
};
#undef W

const bp_global_table bj_joblib_table = {joblib_rows, sizeof joblib_rows / sizeof joblib_rows[0]};

/* ---------------------------------------------------------------- open */

static brine_status decompress_if_needed(brine_file *f, brine_error *err) {
    f->compression = bi_detect_compression(f->input.data, f->input.size, &f->legacy_zf);
    if (f->compression == BRINE_COMPRESSION_NONE) {
        f->stream = f->input.data;
        f->stream_size = f->input.size;
        f->mapped = f->input.mapped;
        return BRINE_OK;
    }
    brine_status st = bi_decompress(f->compression, f->legacy_zf, f->input.data, f->input.size,
                                    f->opts.max_decompressed_bytes, &f->decompressed, err);
    if (st) {
        bi_error_where(err, "%s container", f->legacy_zf ? "ZF" : brine_compression_name(f->compression));
        return st;
    }
    f->stream = f->decompressed.data ? f->decompressed.data : (const uint8_t *)"";
    f->stream_size = f->decompressed.len;
    return BRINE_OK;
}

/* Scan mode: what pickle.load leaves behind is still read by loaders that
 * call it repeatedly (SECURITY C9, C10). */
static void scan_after_stop(brine_file *f, const bp_vm *vm) {
    if (vm->sp || vm->nmarks) {
        char msg[128];
        snprintf(msg, sizeof msg, "%zu items and %zu marks left on the stack after STOP", vm->sp, vm->nmarks);
        bj_scan_note(f, BRINE_VERDICT_UNKNOWN, "stack.residue", NULL, NULL, vm->op_offset, vm->stream, msg);
    }
}

static brine_status run_stream(brine_file *f, size_t pos, int stream, brine_error *err, size_t *end) {
    bp_vm vm;
    vm_setup(&vm, f, f->stream, f->stream_size, pos, stream, err);
    brine_status st = bp_vm_run(&vm);
    if (!st && stream == 0) {
        f->root = vm.result;
        f->protocol = vm.first_proto >= 0 ? vm.first_proto : (vm.max_op_proto >= 1 ? 1 : 0);
    }
    if (!st && f->scan) scan_after_stop(f, &vm);
    if (st && f->compression != BRINE_COMPRESSION_NONE)
        bi_error_where(err, "decompressed %s stream", f->legacy_zf ? "ZF" : brine_compression_name(f->compression));
    *end = vm.pos;
    bp_vm_release(&vm);
    return st;
}

static brine_status run_outer(brine_file *f, brine_error *err) {
    size_t end;
    brine_status st = run_stream(f, 0, 0, err, &end);
    if (st) return st;
    f->stream_end = end;
    /* pickle.load stops at STOP, but loaders that call it again run what
     * follows (C10): further pickles are held to the same policy. */
    while (!st && end < f->stream_size) {
        const uint8_t *p = f->stream + end;
        if (p[0] != 0x80 || end + 1 >= f->stream_size || p[1] > 5) {
            if (f->scan)
                bj_scan_note(f, BRINE_VERDICT_UNKNOWN, "trailing.data", NULL, NULL, (int64_t)end, 0,
                             "bytes after the last STOP that are not a pickle");
            break;
        }
        f->nested_streams++;
        size_t start = end;
        st = run_stream(f, end, (int)f->nested_streams, err, &end);
        if (st && !f->scan && st != BRINE_E_GLOBAL) { /* broken leftovers: pickle.load never reads them */
            brine_error_clear(err);
            st = BRINE_OK;
            break;
        }
        if (st && f->scan) { /* pickle.load never reads it; a loader calling it again fails there */
            char msg[BRINE_ERROR_MESSAGE_SIZE];
            snprintf(msg, sizeof msg, "a further pickle after STOP is broken: %.400s", err ? err->message : "");
            bj_scan_note(f, BRINE_VERDICT_UNKNOWN, "trailing.data", NULL, NULL, (int64_t)start, (int)f->nested_streams, msg);
        }
    }
    return st;
}

brine_status bj_file_new(brine_file **out, const brine_load_options *opts) {
    brine_file *f = calloc(1, sizeof *f);
    if (!f) return BRINE_E_NOMEM;
    f->opts = bj_resolve_options(opts);
    bp_arena_init(&f->arena, f->opts.max_graph_bytes);
    *out = f;
    return BRINE_OK;
}

brine_status bj_finish_open(brine_file *f, brine_error *err) {
    if (f->input.size >= 4 && (!memcmp(f->input.data, "PK\x03\x04", 4) || !memcmp(f->input.data, "PK\x05\x06", 4)))
        return bi_fail(err, BRINE_E_UNSUPPORTED, 0, "zip archives (.npz, PyTorch files) are not supported");
    brine_status st = decompress_if_needed(f, err);
    if (!st) st = run_outer(f, err);
    if (!st) {
        int joblib = f->saw_wrapper || f->compression != BRINE_COMPRESSION_NONE;
        f->format = joblib ? BRINE_FORMAT_JOBLIB : BRINE_FORMAT_PICKLE;
    }
    return st;
}

brine_status bj_open_path(brine_file *f, const char *path, brine_error *err) {
    brine_status st = bi_input_open_keyed(&f->input, path, input_mode(f), f->opts.max_input_bytes,
                                          f->opts.key_file, err);
    if (st) return st;
    char dir[4096];
    bi_path_dirname(path, dir, sizeof dir);
    f->dir = strdup(dir);
    return f->dir ? BRINE_OK : bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
}

brine_status brine_file_open(brine_file **out, const char *path, const brine_load_options *opts, brine_error *err) {
    *out = NULL;
    if (!path) return bi_fail(err, BRINE_E_ARGUMENT, -1, "no path given");
    brine_file *f;
    if (bj_file_new(&f, opts)) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    brine_status st = bj_open_path(f, path, err);
    if (!st) st = bj_finish_open(f, err);
    if (st) {
        brine_file_free(f);
        return st;
    }
    *out = f;
    return BRINE_OK;
}

brine_status brine_file_open_memory(brine_file **out, const void *data, size_t size, const brine_load_options *opts,
                                    brine_error *err) {
    *out = NULL;
    if (!data && size) return bi_fail(err, BRINE_E_ARGUMENT, -1, "no data given");
    brine_file *f;
    if (bj_file_new(&f, opts)) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    if (size > f->opts.max_input_bytes) {
        brine_file_free(f);
        return bi_fail(err, BRINE_E_LIMIT, -1, "input of %zu bytes exceeds max_input_bytes", size);
    }
    brine_status st = bi_input_memory_keyed(&f->input, data ? data : "", size, f->opts.key_file, err);
    if (!st) st = bj_finish_open(f, err);
    if (st) {
        brine_file_free(f);
        return st;
    }
    *out = f;
    return BRINE_OK;
}

void brine_file_free(brine_file *f) {
    if (!f) return;
    bp_arena_free(&f->arena);
    bi_buf_free(&f->decompressed);
    for (size_t k = 0; k < f->nsidecars; k++) bi_input_release(&f->sidecars[k]);
    free(f->sidecars);
    bi_input_release(&f->input);
    free(f->globals);
    free(f->dir);
    free(f);
}

brine_format brine_file_format(const brine_file *f) { return f->format; }
brine_compression brine_file_compression(const brine_file *f) { return f->compression; }
int brine_file_protocol(const brine_file *f) { return f->protocol; }
int brine_file_is_mapped(const brine_file *f) { return f->mapped; }
const brine_value *brine_file_root(const brine_file *f) { return f->root; }
size_t brine_file_global_count(const brine_file *f) { return f->nglobals; }

const brine_global_ref *brine_file_global(const brine_file *f, size_t i) {
    return i < f->nglobals ? &f->globals[i] : NULL;
}
