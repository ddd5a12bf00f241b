/* joblib.h — the joblib container on top of the pickle machine: array
 * wrappers with raw bytes spliced into the stream, nested pickles for object
 * arrays, compressors, the legacy ZF container and multi-file layout.  This
 * layer implements brine_file (brine.h) and brine_save. */
#ifndef BRINE_JOBLIB_JOBLIB_H
#define BRINE_JOBLIB_JOBLIB_H

#include "io/buf.h"
#include "io/file.h"
#include "pickle/globals.h"
#include "pickle/value.h"

extern const bp_global_table bj_joblib_table;

/* The allowlist tables every load uses, in lookup order. */
const bp_global_table *const *bj_tables(size_t *n);

/* Resolved limits: every zero field of opts (or NULL) replaced by its
 * documented default. */
brine_load_options bj_resolve_options(const brine_load_options *opts);

/* Findings of a scan, kept beside the file they came from. */
typedef struct bj_scan {
    brine_finding *findings;
    size_t nfindings, cap;
    brine_verdict *grades;   /* parallel to brine_file.globals */
    brine_verdict verdict;
    int complete;
    brine_error reason;      /* why incomplete */
    const char *container;
} bj_scan;

struct brine_file {
    bp_arena arena;
    bi_input input;         /* the file as read or mapped */
    bi_buf decompressed;    /* the pickle stream of a compressed file */
    const uint8_t *stream;  /* the (decompressed) pickle stream */
    size_t stream_size;
    bi_input *sidecars;     /* legacy multi-file arrays, kept alive */
    size_t nsidecars;
    brine_format format;
    brine_compression compression;
    int legacy_zf;
    int protocol;
    int mapped;
    size_t stream_end;      /* offset just after the outer STOP */
    bv *root;
    brine_global_ref *globals;
    size_t nglobals, globals_cap;
    char *dir;              /* directory of the model file, for sidecars */
    brine_load_options opts;
    size_t nested_streams;
    int nested_depth;
    int saw_wrapper;
    int numpy2;             /* numpy._core module names were seen */
    bj_scan *scan;          /* non-NULL: scan mode (brine_scan) */
};

/* Opens f's input as brine_file_open does, in scan mode when f->scan is
 * set: shared by the loader and the scanner. */
brine_status bj_open_path(brine_file *f, const char *path, brine_error *err);
brine_status bj_file_new(brine_file **out, const brine_load_options *opts);
brine_status bj_finish_open(brine_file *f, brine_error *err);
/* Runs one complete pickle at data[pos..] under f's policy and limits
 * (object arrays of joblib and .npy files); *end (may be NULL) gets the
 * offset after its STOP. */
brine_status bj_run_nested(brine_file *f, const uint8_t *data, size_t size, size_t pos, brine_error *err, bv **out,
                           size_t *end);
/* The .npy object-array callback (bn_pickle_fn) for sidecars and for
 * top-level .npy files: runs the pickle with bj_run_nested. */
typedef struct bj_npy_ctx {
    brine_file *f;
    brine_error *err;
} bj_npy_ctx;
brine_status bj_npy_pickle(void *ctx, const uint8_t *data, size_t size, size_t pos, bv **out);
/* Records a finding (scan mode). */
void bj_scan_note(brine_file *f, int severity, const char *rule, const char *module, const char *name,
                  int64_t offset, int stream, const char *message);

/* Writes root as joblib (wrappers + aligned raw data) or plain pickle into
 * out (uncompressed stream). */
brine_status bj_write_stream(bi_buf *out, const bv *root, const brine_save_options *opts, brine_error *err);

#endif
