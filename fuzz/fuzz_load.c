/* fuzz_load.c — parse -> write -> parse.
 *
 * The input is opened as a pickle or joblib file with tightened limits (so
 * bombs end quickly as BRINE_E_LIMIT rather than as libFuzzer OOMs).  When it
 * loads, its root is written back as plain pickle and as uncompressed joblib
 * at protocols 2 and 5, each output is reopened and must be the same graph,
 * sharing and cycles included: the writer has to round-trip whatever the
 * reader accepts.
 *
 * The input is never consumed for options: every corpus file stays a plain
 * pickle/joblib file that `brine` itself can open.  Which of the four
 * writer passes run is picked from a hash of the input instead. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "brine.h"
#include "fuzz_util.h"
#include "pickle/compare.h"

#define TARGET "fuzz_load"
#define MiB ((uint64_t)1 << 20)

static brine_load_options fuzz_load_options(void) {
    brine_load_options o = BRINE_LOAD_OPTIONS_INIT;
    o.max_graph_bytes = 256 * MiB;
    o.max_decompressed_bytes = 64 * MiB;
    o.max_depth = 100000;
    return o;
}

typedef struct pass {
    brine_format format;
    int protocol;
} pass;

static const pass passes[4] = {
    {BRINE_FORMAT_PICKLE, 2}, {BRINE_FORMAT_PICKLE, 5}, {BRINE_FORMAT_JOBLIB, 2}, {BRINE_FORMAT_JOBLIB, 5}};

/* FNV-1a: cheap, and stable across runs so a crash replays identically. */
static uint32_t input_hash(const uint8_t *data, size_t size) {
    uint32_t h = 2166136261u;
    for (size_t k = 0; k < size; k++) h = (h ^ data[k]) * 16777619u;
    return h;
}

/* Low four bits pick passes; 0 means all four, so every pass gets inputs
 * that run it alone and inputs that run it beside the others. */
static unsigned pass_mask(const uint8_t *data, size_t size) {
    unsigned m = input_hash(data, size) & 15u;
    return m ? m : 15u;
}

/* Saving may legitimately refuse a graph the reader built (an ndarray that
 * never got its BUILD, an object inside its own constructor arguments:
 * CPython's pickler cannot write those either) and may run out of memory
 * under -malloc_limit_mb.  Anything else is a writer bug. */
static int save_refusal_ok(brine_status st) { return st == BRINE_E_UNSUPPORTED || st == BRINE_E_NOMEM; }

static void round_trip(const brine_value *root, const pass *p, const brine_load_options *lo) {
    brine_save_options so = BRINE_SAVE_OPTIONS_INIT;
    so.format = p->format;
    so.protocol = p->protocol;
    void *out = NULL;
    size_t out_size = 0;
    brine_error err;
    brine_error_clear(&err);
    brine_status st = brine_save_memory(&out, &out_size, root, &so, &err);
    fz_check_error(TARGET, st, &err, -1);
    if (st) {
        if (!save_refusal_ok(st)) fz_die(TARGET, "save failed", &err);
        return;
    }
    brine_file *again = NULL;
    brine_error_clear(&err);
    st = brine_file_open_memory(&again, out, out_size, lo, &err);
    if (st == BRINE_E_NOMEM) { /* the malloc limit, not a bug */
        brine_free(out);
        return;
    }
    if (st) {
        fprintf(stderr, "%s: reopening the %s protocol %d output (%zu bytes) failed\n", TARGET,
                p->format == BRINE_FORMAT_JOBLIB ? "joblib" : "pickle", p->protocol, out_size);
        fz_die(TARGET, "writer output does not load", &err);
    }
    char why[256];
    if (!bp_graph_equal(root, brine_file_root(again), why, sizeof why)) {
        fprintf(stderr, "%s: %s protocol %d: %s\n", TARGET, p->format == BRINE_FORMAT_JOBLIB ? "joblib" : "pickle",
                p->protocol, why);
        fz_die(TARGET, "reloaded graph differs from the original", NULL);
    }
    brine_file_free(again);
    brine_free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    brine_load_options lo = fuzz_load_options();
    brine_file *f = NULL;
    brine_error err;
    brine_error_clear(&err);
    brine_status st = brine_file_open_memory(&f, data, size, &lo, &err);
    fz_check_error(TARGET, st, &err, -1);
    if (st) {
        if (f) fz_die(TARGET, "failed open left *out set", NULL);
        return 0;
    }
    const brine_value *root = brine_file_root(f);
    if (!root) fz_die(TARGET, "a loaded file has no root", NULL);
    unsigned mask = pass_mask(data, size);
    for (int k = 0; k < 4; k++)
        if (mask & (1u << k)) round_trip(root, &passes[k], &lo);
    brine_file_free(f);
    return 0;
}
