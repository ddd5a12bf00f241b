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
};

/* Writes root as joblib (wrappers + aligned raw data) or plain pickle into
 * out (uncompressed stream). */
brine_status bj_write_stream(bi_buf *out, const bv *root, const brine_save_options *opts, brine_error *err);

#endif
