/* writer.h — value graph to pickle bytes, protocols 2-5.  Iterative: a task
 * stack replaces recursion, so any depth writes.  Nodes referenced more than
 * once are memoized and later written as GET, which keeps shared and
 * recursive references.  Protocol 4+ output is framed as CPython frames it. */
#ifndef BRINE_PICKLE_WRITER_H
#define BRINE_PICKLE_WRITER_H

#include "io/buf.h"
#include "pickle/value.h"

typedef struct bp_writer bp_writer;

/* Called for every NDARRAY node instead of the plain numpy encoding (joblib
 * uses it to write wrappers and raw data).  It may emit opcodes and push
 * further tasks; pushed tasks run in reverse order of pushing. */
typedef brine_status (*bp_array_hook)(bp_writer *w, const bv *array);
typedef brine_status (*bp_task_fn)(bp_writer *w, const bv *node);

typedef struct bp_write_options {
    int protocol;             /* 2..5 */
    bp_array_hook array_hook; /* NULL: numpy's classic _reconstruct form */
    void *user;
} bp_write_options;

/* Writes PROTO, the graph of root, STOP into out. */
brine_status bp_write(bi_buf *out, const bv *root, const bp_write_options *opts, brine_error *err);

/* ---- for array hooks ---- */
void *bp_writer_user(bp_writer *w);
int bp_writer_protocol(bp_writer *w);
bi_buf *bp_writer_buf(bp_writer *w);
brine_error *bp_writer_err(bp_writer *w);
void bp_w_op(bp_writer *w, uint8_t op);
void bp_w_int(bp_writer *w, int64_t v);
void bp_w_str(bp_writer *w, const char *s, size_t n);
void bp_w_bool(bp_writer *w, int b);
/* A global, memoized by name so each is spelled once per stream. */
void bp_w_global(bp_writer *w, const char *module, const char *name);
/* A tuple of ints (shapes). */
void bp_w_int_tuple(bp_writer *w, const int64_t *v, int n);
/* Ends the open frame (joblib writes array bytes between frames). */
void bp_w_end_frame(bp_writer *w);
/* Memoizes the object now on top of the unpickler's stack if node is
 * referenced more than once. */
void bp_w_memoize_node(bp_writer *w, const bv *node);
brine_status bp_w_push_value(bp_writer *w, const bv *node);
brine_status bp_w_push_task(bp_writer *w, bp_task_fn fn, const bv *node);

#endif
