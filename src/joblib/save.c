/* save.c — brine_save: the value graph as a plain pickle or in joblib's
 * layout (NumpyArrayWrapper, 16-byte aligned raw data, nested pickles for
 * object arrays), optionally compressed, written atomically. */
#include <stdlib.h>
#include <string.h>

#include "io/compress.h"
#include "io/error.h"
#include "io/file.h"
#include "io/mem.h"
#include "joblib/joblib.h"
#include "pickle/opcodes.h"
#include "pickle/writer.h"

enum { ALIGNMENT = 16 };

/* An uncompressed joblib file written to a path: big arrays are not copied
 * into the stream buffer but written from where they lie, between the
 * buffer's pieces (a forest's node records are most of its bytes). */
enum { PIECE_MIN = 64 * 1024 };

typedef struct piece {
    size_t at;           /* buffer offset the bytes follow */
    const uint8_t *data; /* alive until the file is written (the saved graph's arrays) */
    size_t n;
} piece;

typedef struct pieces {
    piece *items;
    size_t n, cap;
    size_t bytes; /* sum of n: the stream offset is the buffer's length plus this */
} pieces;

/* Hands the stream's bytes to put in order, the buffer's parts and the
 * pieces between them; stops at put's first failure. */
static brine_status each_part(const bi_buf *out, const pieces *pc,
                              brine_status (*put)(void *ctx, const uint8_t *p, size_t n), void *ctx) {
    brine_status st = BRINE_OK;
    size_t done = 0;
    for (size_t i = 0; !st && i <= pc->n; i++) {
        size_t upto = i < pc->n ? pc->items[i].at : out->len;
        if (upto > done) st = put(ctx, out->data + done, upto - done);
        done = upto;
        if (!st && i < pc->n) st = put(ctx, pc->items[i].data, pc->items[i].n);
    }
    return st;
}

static int pieces_add(pieces *p, size_t at, const uint8_t *data, size_t n) {
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 64;
        piece *items = realloc(p->items, cap * sizeof *items);
        if (!items) return 0;
        p->items = items;
        p->cap = cap;
    }
    p->items[p->n++] = (piece){at, data, n};
    p->bytes += n;
    return 1;
}

/* After the dtype: the rest of the wrapper dict, BUILD, then the payload
 * between frames, as joblib's NumpyPickler writes it. */
static brine_status finish_wrapper(bp_writer *w, const bv *arr) {
    const bv_array *a = arr->u.arr;
    int hasobject = a->dtype->u.dt->hasobject;
    bp_w_str(w, "allow_mmap", 10);
    bp_w_bool(w, !hasobject);
    bp_w_str(w, "numpy_array_alignment_bytes", 27);
    bp_w_int(w, ALIGNMENT);
    bp_w_op(w, BP_OP_SETITEMS);
    bp_w_op(w, BP_OP_BUILD);
    bp_w_end_frame(w);
    bi_buf *out = bp_writer_buf(w);
    if (hasobject) {
        /* A complete pickle of its own: joblib reads it with pickle.load. */
        bp_write_options nested = {bp_writer_protocol(w), NULL, NULL};
        brine_status st = bp_write(out, arr, &nested, bp_writer_err(w));
        if (st) return st;
    } else {
        pieces *pc = bp_writer_user(w);
        size_t pad = ALIGNMENT - ((out->len + (pc ? pc->bytes : 0) + 1) % ALIGNMENT);
        bi_buf_byte(out, (uint8_t)pad);
        bi_buf_fill(out, 0xff, pad);
        if (pc && a->nbytes >= PIECE_MIN) {
            if (!pieces_add(pc, out->len, a->data, a->nbytes))
                return bi_fail(bp_writer_err(w), BRINE_E_NOMEM, -1, "out of memory");
        } else {
            bi_buf_put(out, a->data, a->nbytes);
        }
    }
    bp_w_memoize_node(w, arr);
    return BRINE_OK;
}

static brine_status joblib_array(bp_writer *w, const bv *arr) {
    const bv_array *a = arr->u.arr;
    bp_w_global(w, "joblib.numpy_pickle", "NumpyArrayWrapper");
    bp_w_op(w, BP_OP_EMPTY_TUPLE);
    bp_w_op(w, BP_OP_NEWOBJ);
    bp_w_op(w, BP_OP_EMPTY_DICT);
    bp_w_op(w, BP_OP_MARK);
    bp_w_str(w, "subclass", 8);
    int matrix = a->subclass && !strcmp(a->subclass->u.g.name, "matrix");
    bp_w_global(w, "numpy", matrix ? "matrix" : "ndarray");
    bp_w_str(w, "shape", 5);
    bp_w_int_tuple(w, a->shape, a->ndim);
    bp_w_str(w, "order", 5);
    bp_w_str(w, a->fortran ? "F" : "C", 1);
    bp_w_str(w, "dtype", 5);
    brine_status st = bp_w_push_task(w, finish_wrapper, arr);
    return st ? st : bp_w_push_value(w, a->dtype);
}

static brine_status write_stream(bi_buf *out, pieces *pc, const bv *root, const brine_save_options *opts,
                                 brine_error *err) {
    bp_write_options wo = {opts->protocol ? opts->protocol : 4, NULL, pc};
    if (opts->format == BRINE_FORMAT_JOBLIB || opts->compression != BRINE_COMPRESSION_NONE) wo.array_hook = joblib_array;
    return bp_write(out, root, &wo, err);
}

brine_status bj_write_stream(bi_buf *out, const bv *root, const brine_save_options *opts, brine_error *err) {
    return write_stream(out, NULL, root, opts, err);
}

typedef struct file_sink {
    bi_atomic a;
    brine_error *err;
} file_sink;

static brine_status put_file(void *ctx, const uint8_t *p, size_t n) {
    file_sink *f = ctx;
    return bi_atomic_write(&f->a, p, n, f->err);
}

static brine_status put_block(void *ctx, const uint8_t *p, size_t n) {
    uint8_t **at = ctx;
    memcpy(*at, p, n);
    *at += n;
    return BRINE_OK;
}

/* The buffer with the pieces in their places, written atomically. */
static brine_status write_pieces(const char *path, const bi_buf *out, const pieces *pc, brine_error *err) {
    file_sink f = {.err = err};
    brine_status st = bi_atomic_open(&f.a, path, -1, err);
    if (st) return st;
    st = each_part(out, pc, put_file, &f);
    if (st) {
        bi_atomic_abort(&f.a);
        return st;
    }
    return bi_atomic_commit(&f.a, err);
}

static brine_status check_options(const brine_save_options *o, brine_error *err) {
    if (o->version != BRINE_SAVE_OPTIONS_VERSION) return bi_fail(err, BRINE_E_ARGUMENT, -1, "unknown brine_save_options version %u", o->version);
    if (o->protocol && (o->protocol < 2 || o->protocol > 5))
        return bi_fail(err, BRINE_E_ARGUMENT, -1, "pickle protocol %d is not supported for writing (2..5)", o->protocol);
    if ((unsigned)o->compression >= BRINE_COMPRESSION_COUNT_) return bi_fail(err, BRINE_E_ARGUMENT, -1, "unknown compression");
    if (o->format != BRINE_FORMAT_PICKLE && o->format != BRINE_FORMAT_JOBLIB) return bi_fail(err, BRINE_E_ARGUMENT, -1, "unknown format");
    return BRINE_OK;
}

static brine_status save_to_buf(bi_buf *out, const bv *root, const brine_save_options *in, brine_error *err) {
    brine_save_options defaults = BRINE_SAVE_OPTIONS_INIT;
    const brine_save_options *o = in ? in : &defaults;
    if (!root) return bi_fail(err, BRINE_E_ARGUMENT, -1, "no value to save");
    brine_status st = check_options(o, err);
    if (st) return st;
    if (o->compression == BRINE_COMPRESSION_NONE) return bj_write_stream(out, root, o, err);
    /* The stream is written in pieces, then put together once in a block
     * of its final size (huge pages when large) for the compressor: no
     * buffer doubling and copying as it grows. */
    bi_buf stream = BI_BUF_INIT;
    pieces pc = {NULL, 0, 0, 0};
    st = write_stream(&stream, &pc, root, o, err);
    size_t size = stream.len + pc.bytes;
    uint8_t *whole = NULL;
    int huge = 0;
    if (!st) {
        whole = bi_huge_map(size);
        huge = whole != NULL;
        if (!whole) whole = malloc(size ? size : 1);
        if (!whole) st = bi_fail(err, BRINE_E_NOMEM, -1, "out of memory for a %zu-byte stream", size);
    }
    if (!st) {
        uint8_t *at = whole;
        each_part(&stream, &pc, put_block, &at);
        int level = o->level <= 0 ? -1 : o->level;
        st = bi_compress(o->compression, level, whole, size, out, err);
    }
    if (huge) bi_unmap(whole, size);
    else free(whole);
    bi_buf_free(&stream);
    free(pc.items);
    return st;
}

brine_status brine_save(const brine_value *root, const char *path, const brine_save_options *opts, brine_error *err) {
    if (!path) return bi_fail(err, BRINE_E_ARGUMENT, -1, "no path given");
    brine_save_options defaults = BRINE_SAVE_OPTIONS_INIT;
    const brine_save_options *o = opts ? opts : &defaults;
    if (root && o->compression == BRINE_COMPRESSION_NONE && o->format == BRINE_FORMAT_JOBLIB &&
        check_options(o, NULL) == BRINE_OK) {
        bi_buf buf = BI_BUF_INIT;
        pieces pc = {NULL, 0, 0, 0};
        brine_status st = write_stream(&buf, &pc, root, o, err);
        if (!st) st = write_pieces(path, &buf, &pc, err);
        bi_buf_free(&buf);
        free(pc.items);
        return st;
    }
    bi_buf out = BI_BUF_INIT;
    brine_status st = save_to_buf(&out, root, opts, err);
    if (!st) st = bi_write_atomic(path, out.data ? out.data : (const uint8_t *)"", out.len, err);
    bi_buf_free(&out);
    return st;
}

brine_status brine_save_memory(void **out, size_t *out_size, const brine_value *root, const brine_save_options *opts,
                               brine_error *err) {
    *out = NULL;
    *out_size = 0;
    bi_buf buf = BI_BUF_INIT;
    brine_status st = save_to_buf(&buf, root, opts, err);
    if (st) {
        bi_buf_free(&buf);
        return st;
    }
    *out = bi_buf_take(&buf, out_size);
    return BRINE_OK;
}

void brine_free(void *p) { free(p); }

static const char *const compression_names[BRINE_COMPRESSION_COUNT_] = {"none", "zlib", "gzip", "bz2",
                                                                         "xz",   "lzma", "lz4"};

const char *brine_compression_name(brine_compression c) {
    return (unsigned)c < BRINE_COMPRESSION_COUNT_ ? compression_names[c] : "unknown";
}

brine_status brine_compression_parse(brine_compression *out, int *level, const char *spec, brine_error *err) {
    if (!spec || !*spec) return bi_fail(err, BRINE_E_ARGUMENT, -1, "empty compression spec");
    if (spec[0] >= '0' && spec[0] <= '9' && spec[1] == '\0') { /* a bare level means zlib, 0 none */
        *out = spec[0] == '0' ? BRINE_COMPRESSION_NONE : BRINE_COMPRESSION_ZLIB;
        *level = spec[0] == '0' ? -1 : spec[0] - '0';
        return BRINE_OK;
    }
    const char *colon = strchr(spec, ':');
    size_t nl = colon ? (size_t)(colon - spec) : strlen(spec);
    for (int c = 1; c < BRINE_COMPRESSION_COUNT_; c++) {
        if (strlen(compression_names[c]) != nl || strncmp(spec, compression_names[c], nl)) continue;
        *out = (brine_compression)c;
        *level = -1;
        if (!colon) return BRINE_OK;
        char *end;
        long v = strtol(colon + 1, &end, 10);
        if (!colon[1] || *end || v < 0 || v > 16)
            return bi_fail(err, BRINE_E_ARGUMENT, -1, "bad compression level in '%s'", spec);
        *level = (int)v;
        return BRINE_OK;
    }
    return bi_fail(err, BRINE_E_ARGUMENT, -1,
                   "unknown compression '%s' (expected 0-9, zlib, gzip, bz2, xz, lzma or lz4, optionally NAME:LEVEL)", spec);
}
