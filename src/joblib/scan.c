/* scan.c — brine_scan: the loader in scan mode.  The same machine reads the
 * same bytes; refusals become findings, broken input ends the scan with a
 * reason, and every container brine reads is opened. */
#include <stdlib.h>
#include <string.h>

#include "io/compress.h"
#include "io/error.h"
#include "joblib/joblib.h"
#include "numpy/numpy.h"

const char *brine_verdict_name(brine_verdict v) {
    switch (v) {
    case BRINE_VERDICT_ALLOWED: return "allowed";
    case BRINE_VERDICT_UNKNOWN: return "unknown";
    case BRINE_VERDICT_DANGEROUS: return "dangerous";
    default: return "invalid";
    }
}

struct brine_scan_report {
    brine_file *file;
    bj_scan scan;
};

void bj_scan_note(brine_file *f, int severity, const char *rule, const char *module, const char *name,
                  int64_t offset, int stream, const char *message) {
    bj_scan *s = f->scan;
    if (!s) return;
    if ((brine_verdict)severity > s->verdict) s->verdict = (brine_verdict)severity;
    if (s->nfindings == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        brine_finding *g = realloc(s->findings, cap * sizeof *g);
        if (!g) return; /* the verdict above still holds */
        s->findings = g;
        s->cap = cap;
    }
    bp_arena *a = &f->arena;
    brine_finding *fd = &s->findings[s->nfindings];
    fd->severity = (brine_verdict)severity;
    fd->rule = rule; /* static strings */
    fd->module = module ? bp_arena_strdup(a, module, strlen(module)) : NULL;
    fd->name = name ? bp_arena_strdup(a, name, strlen(name)) : NULL;
    fd->offset = offset;
    fd->stream = stream;
    fd->message = bp_arena_strdup(a, message, strlen(message));
    if (fd->message) s->nfindings++;
}

static int starts_with(const brine_file *f, const char *magic, size_t n) {
    return f->input.size >= n && memcmp(f->input.data, magic, n) == 0;
}

static brine_status scan_body(brine_scan_report *r, brine_error *err) {
    brine_file *f = r->file;
    if (starts_with(f, "PK\x03\x04", 4) || starts_with(f, "PK\x05\x06", 4)) {
        r->scan.container = "zip";
        return bi_fail(err, BRINE_E_UNSUPPORTED, 0, "zip archives (.npz, PyTorch files) are not supported; nothing in it was read");
    }
    if (starts_with(f, "\x93NUMPY", 6)) {
        r->scan.container = "npy";
        bj_npy_ctx ctx = {f, err};
        bv *arr;
        return bn_npy_parse(&f->arena, f->input.data, f->input.size, bj_npy_pickle, &ctx, &arr, err);
    }
    brine_status st = bj_finish_open(f, err);
    int joblib = f->format == BRINE_FORMAT_JOBLIB || f->compression != BRINE_COMPRESSION_NONE || f->saw_wrapper;
    r->scan.container = joblib ? "joblib" : "pickle";
    return st;
}

static brine_status scan_new(brine_scan_report **out, const brine_load_options *opts) {
    brine_scan_report *r = calloc(1, sizeof *r);
    if (!r) return BRINE_E_NOMEM;
    if (bj_file_new(&r->file, opts)) {
        free(r);
        return BRINE_E_NOMEM;
    }
    r->file->scan = &r->scan;
    r->scan.complete = 1;
    r->scan.container = "pickle";
    brine_error_clear(&r->scan.reason);
    *out = r;
    return BRINE_OK;
}

static void finish(brine_scan_report *r, brine_status st, const brine_error *e) {
    if (!st) return;
    r->scan.complete = 0;
    r->scan.reason = *e;
    r->scan.reason.status = st;
}

brine_status brine_scan(brine_scan_report **out, const char *path, const brine_load_options *opts, brine_error *err) {
    *out = NULL;
    if (!path) return bi_fail(err, BRINE_E_ARGUMENT, -1, "no path given");
    brine_scan_report *r;
    if (scan_new(&r, opts)) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    brine_error e;
    brine_error_clear(&e);
    brine_status st = bj_open_path(r->file, path, &e);
    if (!st) st = scan_body(r, &e);
    finish(r, st, &e);
    *out = r;
    return BRINE_OK;
}

brine_status brine_scan_memory(brine_scan_report **out, const void *data, size_t size, const brine_load_options *opts,
                               brine_error *err) {
    *out = NULL;
    if (!data && size) return bi_fail(err, BRINE_E_ARGUMENT, -1, "no data given");
    brine_scan_report *r;
    if (scan_new(&r, opts)) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    bi_input_borrow(&r->file->input, data ? data : "", size);
    brine_error e;
    brine_error_clear(&e);
    finish(r, scan_body(r, &e), &e);
    *out = r;
    return BRINE_OK;
}

void brine_scan_report_free(brine_scan_report *r) {
    if (!r) return;
    r->file->scan = NULL;
    brine_file_free(r->file);
    free(r->scan.findings);
    free(r->scan.grades);
    free(r);
}

brine_verdict brine_scan_verdict(const brine_scan_report *r) { return r->scan.verdict; }
int brine_scan_complete(const brine_scan_report *r) { return r->scan.complete; }
const brine_error *brine_scan_incomplete_reason(const brine_scan_report *r) {
    return r->scan.complete ? NULL : &r->scan.reason;
}
const char *brine_scan_container(const brine_scan_report *r) { return r->scan.container; }
brine_compression brine_scan_compression(const brine_scan_report *r) { return r->file->compression; }
int brine_scan_stream_count(const brine_scan_report *r) { return 1 + (int)r->file->nested_streams; }
size_t brine_scan_finding_count(const brine_scan_report *r) { return r->scan.nfindings; }
const brine_finding *brine_scan_finding(const brine_scan_report *r, size_t i) {
    return i < r->scan.nfindings ? &r->scan.findings[i] : NULL;
}
size_t brine_scan_global_count(const brine_scan_report *r) { return r->file->nglobals; }
const brine_global_ref *brine_scan_global(const brine_scan_report *r, size_t i, brine_verdict *grade) {
    if (i >= r->file->nglobals) return NULL;
    if (grade) *grade = r->scan.grades ? r->scan.grades[i] : BRINE_VERDICT_ALLOWED;
    return &r->file->globals[i];
}
const brine_file *brine_scan_file(const brine_scan_report *r) { return r->file->root ? r->file : NULL; }
