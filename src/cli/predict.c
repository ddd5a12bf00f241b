/* predict.c — brine predict MODEL INPUT: run a fitted estimator on a CSV or
 * .npy table and print what sklearn's predict / predict_proba / apply
 * would return (CONVENTIONS "Reading tabular input", "Writing predictions").
 *
 * The input is checked here, before the library sees it, so that every
 * complaint can name the input's own coordinates (CSV line and column with
 * its header name; .npy element index). */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "estimators/estimator.h"
#include "io/buf.h"
#include "io/csv.h"
#include "io/error.h"
#include "io/file.h"
#include "numpy/numpy.h"
#include "pickle/text.h"

static const char help[] =
    "usage: brine predict MODEL INPUT [--method M] [-o FILE] [--lines] [--no-header]\n"
    "                     [--trust MODULE:QUALNAME]... [--trust-file FILE]\n"
    "\n"
    "Runs a fitted scikit-learn model (pickle or joblib, any version) on INPUT and\n"
    "prints one row per sample, without a header.  docs/SUPPORT.md lists the\n"
    "estimators and methods brine supports.\n"
    "\n"
    "INPUT is a .npy file (any integer or float dtype, C or Fortran order; a 1-D\n"
    "array is one sample) or CSV (RFC 4180; '-' reads stdin).  A CSV's first row\n"
    "is a header when a cell in it is neither a number nor a missing marker; with\n"
    "a header and a model fitted on named columns, columns are matched by name in\n"
    "any order.  Empty cells, nan, NaN and NA are missing values.  A model that\n"
    "reads text (encoders of str categories, column transformers, vectorizers)\n"
    "gets the cells as text, each of its transformers parsing its own columns;\n"
    "for any other model every cell must be a number or missing.\n"
    "\n"
    "  --method M        predict (default; transform for estimators without predict),\n"
    "                    predict_proba, predict_log_proba, decision_function,\n"
    "                    score_samples, transform, inverse_transform (encoders:\n"
    "                    categories back from codes), apply (the leaf index per\n"
    "                    tree): whichever the estimator has, as in sklearn\n"
    "  --lines           text models: every line of INPUT is one document (one\n"
    "                    cell, verbatim), no CSV quoting, no header\n"
    "  --no-header       the CSV's first row is data even when it holds text\n"
    "  -o, --output F    write to F instead of stdout; F ending in .npy gives NumPy\n"
    "                    format (labels keep their dtype, strings become a U array)\n"
    "  --threads N       threads over blocks of rows, and over a forest's trees\n"
    "                    while loading (default: one per CPU; the answers are the\n"
    "                    same for every N)\n"
    "  --key K           the key of an encrypted model (brine encrypt); default\n"
    "                    $BRINE_KEY_FILE\n"
    "  --require-signature P\n"
    "                    refuse (exit 1) a MODEL without a valid MODEL.sig by the\n"
    "                    Ed25519 public key P (brine sign, brine keygen)\n"
    "  --trust M:Q       admit an unknown global as an inert object (repeatable)\n"
    "  --trust-file F    one MODULE:QUALNAME per line, # comments\n"
    "  --strict-version  refuse (exit 2) a model whose sklearn version brine has not\n"
    "                    verified for its estimator, instead of warning on stderr\n";

static const char *cmd = "predict";


/* Text from the input or the model shown in a message: at most 60 bytes,
 * control characters escaped, so that an error stays one line. */
typedef struct shown {
    char s[4 * 60 + 4];
} shown;

static shown show(const char *t) {
    shown o;
    size_t n = 0;
    for (size_t k = 0; t[k] && k < 60; k++) {
        unsigned char c = (unsigned char)t[k];
        if (c < 0x20 || c == 0x7f) n += (size_t)snprintf(o.s + n, sizeof o.s - n, "\\x%02x", c);
        else o.s[n++] = (char)c;
    }
    if (strlen(t) > 60) memcpy(o.s + n, "...", 3), n += 3;
    o.s[n] = '\0';
    return o;
}

/* ------------------------------------------------------------- input */

typedef struct matrix {
    double *x; /* n_rows * n_cols, row-major */
    size_t n_rows, n_cols;
} matrix;

/* Why a value cannot go to the model, or NULL: sklearn's trees convert X
 * to float32 and refuse infinities (also values that overflow float32);
 * NaN only where the model has a path for it.  Models that read float64
 * judge infinities themselves (HistGradientBoosting takes them). */
static const char *bad_value(const brine_model *m, double v) {
    if (isnan(v))
        return brine_model_accepts_nan(m) ? NULL
                                          : "is a missing value; this model (written before sklearn 1.3) has no path "
                                            "for missing values";
    if (brine_model_reads_float32(m) && isinf((float)v)) return isinf(v) ? "is infinite (sklearn refuses it)" : "is too large for float32 (sklearn refuses it)";
    return NULL;
}

/* Which CSV column feeds each model feature: by header name when both
 * sides have names, else in order (and the widths must agree). */
static int map_columns(const char *path, const brine_model *m, const bi_csv *c, int header, size_t nf, int by_name,
                       size_t *col_of) {
    size_t nn = by_name ? brine_model_n_feature_names(m) : 0;
    if (!header || !nn) {
        if (c->n_cols != nf)
            return cli_fail(cmd, path, "%zu columns, but the model expects %zu features", c->n_cols, nf);
        for (size_t j = 0; j < nf; j++) col_of[j] = j;
        return 0;
    }
    for (size_t j = 0; j < nf; j++) col_of[j] = SIZE_MAX;
    for (size_t i = 0; i < c->n_cols; i++) {
        const char *name = bi_csv_cell(c, 0, i, NULL);
        size_t j = 0;
        while (j < nf && strcmp(brine_model_feature_name(m, j), name)) j++;
        if (j == nf)
            return cli_fail(cmd, path, "column %zu of the header, '%s', is not a feature of the model", i + 1,
                              show(name).s);
        if (col_of[j] != SIZE_MAX)
            return cli_fail(cmd, path, "the header names '%s' twice (columns %zu and %zu)", show(name).s, col_of[j] + 1,
                              i + 1);
        col_of[j] = i;
    }
    for (size_t j = 0; j < nf; j++)
        if (col_of[j] == SIZE_MAX)
            return cli_fail(cmd, path, "the header lacks the feature '%s' that the model was fitted on",
                              show(brine_model_feature_name(m, j)).s);
    return 0;
}

static int csv_values(const char *path, const brine_model *m, const bi_csv *c, int header, const size_t *col_of,
                      matrix *out) {
    size_t nf = out->n_cols;
    for (size_t r = 0; r < out->n_rows; r++) {
        for (size_t j = 0; j < nf; j++) {
            size_t n, row = r + (size_t)header, col = col_of[j];
            const char *s = bi_csv_cell(c, row, col, &n);
            double v;
            const char *why = cli_cell_number(s, n, &v) ? bad_value(m, v) : "is not a number";
            if (!why) {
                out->x[r * nf + j] = v;
                continue;
            }
            char name[sizeof(shown) + 8] = "";
            if (header) snprintf(name, sizeof name, " ('%s')", show(bi_csv_cell(c, 0, col, NULL)).s);
            return cli_fail(cmd, path, "line %zu, column %zu%s: '%s' %s", c->row_line[row], col + 1, name, show(s).s, why);
        }
    }
    return 0;
}

static int read_csv(const char *path, const brine_model *m, brine_method method, const uint8_t *data, size_t size,
                    int no_header, matrix *out) {
    bi_csv c;
    brine_error err;
    brine_error_clear(&err);
    size_t *col_of = NULL;
    int rc = 0;
    if (bi_csv_parse(&c, data, size, NULL, &err)) {
        rc = cli_report(cmd, path, &err);
        goto done;
    }
    int header = !no_header && c.n_rows > 0 && cli_row_is_header(&c);
    if (c.n_rows <= (size_t)header) {
        rc = cli_fail(cmd, path, header ? "a header but no data rows" : "no data rows");
        goto done;
    }
    out->n_cols = be_input_width(m, method);
    out->n_rows = c.n_rows - (size_t)header;
    col_of = calloc(out->n_cols + 1, sizeof *col_of);
    out->x = malloc((out->n_rows * out->n_cols + 1) * sizeof *out->x);
    if (!col_of || !out->x) {
        rc = cli_fail(cmd, path, "out of memory for %zu rows", out->n_rows);
        goto done;
    }
    rc = map_columns(path, m, &c, header, out->n_cols, method != BRINE_METHOD_INVERSE_TRANSFORM, col_of);
    if (!rc) rc = csv_values(path, m, &c, header, col_of, out);
done:
    free(col_of);
    bi_csv_free(&c);
    return rc;
}

/* A model that reads text: the CSV's cells in the model's column order,
 * handed over as text (brine_model_predict_cells). */
typedef struct cells {
    bi_csv csv;
    const char **cell; /* n_rows * n_cols, borrowed from csv */
    size_t n_rows, n_cols;
    char *lines;       /* --lines: a copy of the input, one NUL-ended line each */
} cells;

static int read_text_csv(const char *path, const brine_model *m, const uint8_t *data, size_t size, int no_header,
                         cells *out) {
    brine_error err;
    brine_error_clear(&err);
    size_t *col_of = NULL;
    int rc = 0;
    if (bi_csv_parse(&out->csv, data, size, NULL, &err)) return cli_report(cmd, path, &err);
    const bi_csv *c = &out->csv;
    int header = !no_header && c->n_rows > 0 && cli_row_is_header(c);
    if (c->n_rows <= (size_t)header)
        return cli_fail(cmd, path, header ? "a header but no data rows" : "no data rows");
    out->n_cols = brine_model_n_features_in(m);
    out->n_rows = c->n_rows - (size_t)header;
    col_of = calloc(out->n_cols + 1, sizeof *col_of);
    out->cell = malloc((out->n_rows * out->n_cols + 1) * sizeof *out->cell);
    if (!col_of || !out->cell) rc = cli_fail(cmd, path, "out of memory for %zu rows", out->n_rows);
    if (!rc) rc = map_columns(path, m, c, header, out->n_cols, 1, col_of);
    for (size_t r = 0; !rc && r < out->n_rows; r++)
        for (size_t j = 0; j < out->n_cols; j++) out->cell[r * out->n_cols + j] = bi_csv_cell(c, r + (size_t)header, col_of[j], NULL);
    free(col_of);
    return rc;
}

/* --lines: one document per line (LF or CRLF ends it; a last line without
 * an end counts). */
static int read_lines(const char *path, const brine_model *m, const uint8_t *data, size_t size, cells *out) {
    if (brine_model_n_features_in(m) != 1)
        return cli_fail(cmd, path, "--lines gives one column, but the model expects %zu features",
                        brine_model_n_features_in(m));
    size_t n = 0;
    for (size_t k = 0; k < size; k++) n += data[k] == '\n';
    n += size && data[size - 1] != '\n';
    out->lines = malloc(size + 1);
    out->cell = malloc((n + 1) * sizeof *out->cell);
    if (!out->lines || !out->cell) return cli_fail(cmd, path, "out of memory for %zu lines", n);
    memcpy(out->lines, data, size);
    out->lines[size] = '\0';
    size_t start = 0, r = 0;
    for (size_t k = 0; k <= size && r < n; k++) {
        if (k < size && data[k] != '\n') continue;
        size_t end = k;
        if (end > start && out->lines[end - 1] == '\r') end--;
        out->lines[end] = '\0';
        out->cell[r++] = out->lines + start;
        start = k + 1;
    }
    if (!n) return cli_fail(cmd, path, "no lines");
    out->n_rows = n;
    out->n_cols = 1;
    return 0;
}

static void cells_free(cells *c) {
    if (!c->lines) bi_csv_free(&c->csv);
    free(c->cell);
    free(c->lines);
}

/* IEEE half precision to double (exact). */
static double half_to_double(uint16_t h) {
    int e = (h >> 10) & 0x1f, f = h & 0x3ff;
    double v = e == 0 ? ldexp(f, -24) : e == 31 ? (f ? NAN : INFINITY) : ldexp(f + 1024, e - 25);
    return (h & 0x8000) ? -v : v;
}

/* One element of a numeric .npy array as a double. */
static int npy_item(const bv_dtype *dt, const uint8_t *p, double *out) {
    if (dt->kind == 'f' && dt->itemsize == 2) {
        int big = dt->byteorder == '>';
        *out = half_to_double((uint16_t)(big ? (p[0] << 8 | p[1]) : (p[1] << 8 | p[0])));
        return 1;
    }
    if (dt->kind == 'u' && dt->itemsize == 8) {
        uint64_t u = 0;
        for (int k = 0; k < 8; k++) u |= (uint64_t)p[dt->byteorder == '>' ? 7 - k : k] << (8 * k);
        *out = (double)u;
        return 1;
    }
    return (dt->kind == 'f' || dt->kind == 'i' || dt->kind == 'u' || dt->kind == 'b') && be_item_double(dt, p, out);
}

static int read_npy(const char *path, const brine_model *m, brine_method method, const uint8_t *data, size_t size,
                    matrix *out) {
    bp_arena a;
    bp_arena_init(&a, 0);
    brine_error err;
    brine_error_clear(&err);
    bv *arr = NULL;
    int rc = 0;
    if (bn_npy_parse(&a, data, size, NULL, NULL, &arr, &err)) {
        rc = cli_report(cmd, path, &err);
        goto done;
    }
    const bv_array *ar = arr->u.arr;
    const bv_dtype *dt = ar->dtype->u.dt;
    size_t nf = be_input_width(m, method);
    if (ar->ndim != 1 && ar->ndim != 2) {
        rc = cli_fail(cmd, path, "a %d-dimensional array; expected 1 (one sample) or 2 dimensions", ar->ndim);
        goto done;
    }
    out->n_rows = ar->ndim == 1 ? 1 : (size_t)ar->shape[0];
    out->n_cols = (size_t)ar->shape[ar->ndim - 1];
    double probe;
    static const uint8_t zeros[16];
    if (dt->nfields || dt->itemsize > sizeof zeros || !npy_item(dt, zeros, &probe)) {
        rc = cli_fail(cmd, path, "dtype %c%zu is not an integer or float type brine reads (b, i, u, f2, f4, f8)",
                        dt->kind, dt->itemsize);
    } else if (out->n_cols != nf) {
        rc = cli_fail(cmd, path, "%zu columns, but the model expects %zu features", out->n_cols, nf);
    } else if (out->n_rows == 0) {
        rc = cli_fail(cmd, path, "no rows");
    } else if (!(out->x = malloc((out->n_rows * nf + 1) * sizeof *out->x))) {
        rc = cli_fail(cmd, path, "out of memory for %zu rows", out->n_rows);
    }
    for (size_t r = 0; !rc && r < out->n_rows; r++) {
        for (size_t j = 0; !rc && j < nf; j++) {
            size_t idx = ar->fortran ? j * out->n_rows + r : r * nf + j;
            double v = 0;
            npy_item(dt, ar->data + idx * dt->itemsize, &v);
            const char *why = bad_value(m, v);
            if (why) rc = cli_fail(cmd, path, "element [%zu, %zu] %s", r, j, why);
            out->x[r * nf + j] = v;
        }
    }
done:
    bp_arena_free(&a);
    return rc;
}

/* ------------------------------------------------------------ output */

static void csv_text(bi_buf *b, const char *s, size_t n) {
    if (!memchr(s, ',', n) && !memchr(s, '"', n) && !memchr(s, '\n', n) && !memchr(s, '\r', n)) {
        bi_buf_put(b, s, n);
        return;
    }
    bi_buf_byte(b, '"');
    for (size_t k = 0; k < n; k++) {
        if (s[k] == '"') bi_buf_byte(b, '"');
        bi_buf_byte(b, (uint8_t)s[k]);
    }
    bi_buf_byte(b, '"');
}

static void csv_float(bi_buf *b, double v) {
    char t[40];
    bp_float_repr(v, t, sizeof t);
    bi_buf_put(b, t, strlen(t));
}

static void csv_label(bi_buf *b, const brine_label *l) {
    char t[32];
    switch (l->kind) {
    case BRINE_LABEL_INT: snprintf(t, sizeof t, "%lld", (long long)l->i); break;
    case BRINE_LABEL_BOOL: snprintf(t, sizeof t, "%s", l->i ? "True" : "False"); break;
    case BRINE_LABEL_FLOAT: csv_float(b, l->f); return;
    case BRINE_LABEL_STR: csv_text(b, l->s, l->len); return;
    case BRINE_LABEL_NONE: return; /* None: an empty cell, which reads back as missing */
    }
    bi_buf_put(b, t, strlen(t));
}

static void write_csv(bi_buf *b, const brine_model *m, const brine_prediction *p) {
    int labels = p->method == BRINE_METHOD_PREDICT && p->indices;
    for (size_t r = 0; r < p->n_rows; r++) {
        for (size_t j = 0; j < p->n_columns; j++) {
            size_t i = r * p->n_columns + j;
            if (j) bi_buf_byte(b, ',');
            if (p->values) {
                csv_float(b, p->values[i]);
            } else if (p->labels) {
                csv_label(b, &p->labels[i]);
            } else if (labels) {
                csv_label(b, &brine_model_classes(m, j, NULL)[p->indices[i]]);
            } else {
                char t[24];
                snprintf(t, sizeof t, "%lld", (long long)p->indices[i]);
                bi_buf_put(b, t, strlen(t));
            }
        }
        bi_buf_byte(b, '\n');
    }
}

/* The .npy dtype of predicted labels: classes_'s own when every output
 * shares it; object arrays by what their labels are (strings as U). */
static int label_dtype(const brine_model *m, char *kind, size_t *itemsize) {
    const be_classes *c = m->classes;
    *kind = c[0].dtype_kind;
    *itemsize = c[0].dtype_itemsize;
    int kinds = 0;
    size_t width = 0;
    for (size_t k = 0; k < m->n_outputs; k++) {
        if (c[k].dtype_kind != *kind || (*kind != 'O' && *kind != 'U' && c[k].dtype_itemsize != *itemsize)) return 0;
        if (*kind == 'U' && c[k].dtype_itemsize > width) width = c[k].dtype_itemsize;
        for (size_t i = 0; i < c[k].n; i++) {
            const brine_label *l = &c[k].labels[i];
            kinds |= 1 << l->kind;
            if (l->kind == BRINE_LABEL_STR) {
                size_t cps = 0;
                for (size_t q = 0; q < l->len; q++) cps += ((uint8_t)l->s[q] & 0xc0) != 0x80;
                if (4 * cps > width) width = 4 * cps;
            }
        }
    }
    if (*kind == 'U') *itemsize = width ? width : 4;
    if (*kind != 'O') return 1;
    if (kinds == 1 << BRINE_LABEL_STR) *kind = 'U', *itemsize = width ? width : 4;
    else if (kinds == 1 << BRINE_LABEL_INT) *kind = 'i', *itemsize = 8;
    else if (kinds == 1 << BRINE_LABEL_BOOL) *kind = 'b', *itemsize = 1;
    else if (kinds == 1 << BRINE_LABEL_FLOAT || kinds == ((1 << BRINE_LABEL_FLOAT) | (1 << BRINE_LABEL_INT)))
        *kind = 'f', *itemsize = 8;
    else return 0;
    return 1;
}

/* One label into an item of the chosen dtype (little-endian). */
static void put_label(uint8_t *p, char kind, size_t itemsize, const brine_label *l) {
    if (kind == 'U') {
        size_t q = 0, cp_i = 0;
        while (q < l->len && 4 * (cp_i + 1) <= itemsize) {
            uint32_t cp;
            q += bp_utf8_get((const uint8_t *)l->s + q, l->len - q, &cp);
            for (int k = 0; k < 4; k++) p[4 * cp_i + (size_t)k] = (uint8_t)(cp >> (8 * k));
            cp_i++;
        }
    } else if (kind == 'S') {
        memcpy(p, l->s, l->len < itemsize ? l->len : itemsize);
    } else if (kind == 'f') {
        double d = l->kind == BRINE_LABEL_FLOAT ? l->f : (double)l->i;
        float f = (float)d;
        if (itemsize == 4) memcpy(p, &f, 4);
        else memcpy(p, &d, 8);
    } else {
        uint64_t u = (uint64_t)l->i;
        for (size_t k = 0; k < itemsize; k++) p[k] = (uint8_t)(u >> (8 * k));
    }
}

/* The .npy dtype of a table of labels: U for text, i8, f8 or b1; 0 when
 * they mix kinds (ints with floats give f8) or hold None. */
static int cell_label_dtype(const brine_prediction *p, char *kind, size_t *itemsize) {
    int kinds = 0;
    size_t width = 4;
    for (size_t i = 0; i < p->n_rows * p->n_columns; i++) {
        const brine_label *l = &p->labels[i];
        kinds |= 1 << l->kind;
        size_t cps = 0;
        for (size_t q = 0; l->kind == BRINE_LABEL_STR && q < l->len; q++) cps += ((uint8_t)l->s[q] & 0xc0) != 0x80;
        if (4 * cps > width) width = 4 * cps;
    }
    *itemsize = 8;
    if (kinds == 1 << BRINE_LABEL_STR) *kind = 'U', *itemsize = width;
    else if (kinds == 1 << BRINE_LABEL_INT) *kind = 'i';
    else if (kinds == 1 << BRINE_LABEL_BOOL) *kind = 'b', *itemsize = 1;
    else if (kinds && !(kinds & ~((1 << BRINE_LABEL_FLOAT) | (1 << BRINE_LABEL_INT)))) *kind = 'f';
    else return 0;
    return 1;
}

static brine_status npy_array(bp_arena *a, bv **arr, char kind, size_t itemsize, size_t rows, size_t cols, int ndim,
                              const void *data, brine_error *err) {
    bv *dt = bn_dtype_simple(a, kind, itemsize, itemsize == 1 ? '|' : '<');
    if (!dt) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    int64_t shape[2] = {(int64_t)rows, (int64_t)cols};
    return bn_array_new(a, arr, dt, ndim, shape, 0, data, rows * cols * itemsize, NULL, err, -1);
}

static int write_npy(bi_buf *b, const char *path, const brine_model *m, const brine_prediction *p) {
    bp_arena a;
    bp_arena_init(&a, 0);
    brine_error err;
    brine_error_clear(&err);
    /* sklearn's shapes: predict_proba and a forest's apply are always 2-D,
     * the rest are 1-D for one column. */
    /* LabelEncoder (int_out) transforms and inverts 1-D y; the other
     * encoders 2-D X */
    int two_d = p->method == BRINE_METHOD_PREDICT_PROBA || p->method == BRINE_METHOD_PREDICT_LOG_PROBA ||
                ((p->method == BRINE_METHOD_TRANSFORM || p->method == BRINE_METHOD_INVERSE_TRANSFORM) && !m->int_out) ||
                (p->method == BRINE_METHOD_APPLY && m->cls->family == &be_forest_family);
    int rc = 0, ndim = p->n_columns == 1 && !two_d ? 1 : 2;
    uint8_t *items = NULL;
    bv *arr = NULL;
    brine_status st;
    if (p->values) {
        st = npy_array(&a, &arr, 'f', 8, p->n_rows, p->n_columns, ndim, p->values, &err);
    } else if (p->labels) {
        char kind;
        size_t size;
        if (!cell_label_dtype(p, &kind, &size)) {
            rc = cli_fail(cmd, path, "the output mixes kinds of values (or holds None), which brine writes to .npy "
                                     "only as one dtype; write CSV instead");
            goto done;
        }
        items = calloc(p->n_rows * p->n_columns * size + 1, 1);
        if (!items) {
            rc = cli_fail(cmd, path, "out of memory");
            goto done;
        }
        for (size_t i = 0; i < p->n_rows * p->n_columns; i++) put_label(items + i * size, kind, size, &p->labels[i]);
        st = npy_array(&a, &arr, kind, size, p->n_rows, p->n_columns, ndim, items, &err);
    } else if (p->method == BRINE_METHOD_APPLY || p->method == BRINE_METHOD_TRANSFORM) {
        st = npy_array(&a, &arr, 'i', 8, p->n_rows, p->n_columns, ndim, p->indices, &err);
    } else {
        char kind;
        size_t size;
        if (!label_dtype(m, &kind, &size)) {
            rc = cli_fail(cmd, path, "the outputs' labels have different types, which one .npy array cannot hold; "
                                  "write CSV instead");
            goto done;
        }
        items = calloc(p->n_rows * p->n_columns * size + 1, 1);
        if (!items) {
            rc = cli_fail(cmd, path, "out of memory");
            goto done;
        }
        for (size_t i = 0; i < p->n_rows * p->n_columns; i++)
            put_label(items + i * size, kind, size, &brine_model_classes(m, i % p->n_columns, NULL)[p->indices[i]]);
        st = npy_array(&a, &arr, kind, size, p->n_rows, p->n_columns, ndim, items, &err);
    }
    if (!st) st = bn_npy_write(arr, b, &err);
    if (st) rc = cli_report(cmd, path, &err);
done:
    free(items);
    bp_arena_free(&a);
    return rc;
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

static int write_output(const char *path, const brine_model *m, const brine_prediction *p) {
    bi_buf b = BI_BUF_INIT;
    int to_stdout = !path || !strcmp(path, "-"), rc = 0;
    if (!to_stdout && ends_with(path, ".npy")) rc = write_npy(&b, path, m, p);
    else write_csv(&b, m, p);
    brine_error err;
    brine_error_clear(&err);
    if (!rc && !bi_buf_ok(&b)) rc = cli_fail(cmd, path ? path : "-", "out of memory for the output");
    if (!rc && to_stdout) {
        if (fwrite(b.data, 1, b.len, stdout) != b.len || fflush(stdout)) rc = cli_fail(cmd, "-", "cannot write stdout");
    } else if (!rc && bi_write_atomic(path, b.data, b.len, &err)) {
        rc = cli_report(cmd, path, &err);
    }
    bi_buf_free(&b);
    return rc;
}

/* ----------------------------------------------------------- command */

typedef struct options {
    const char *model, *input, *output;
    const char *key, *pubkey; /* --key, --require-signature */
    brine_method method;
    int method_given; /* --method; else predict, or transform for estimators without predict */
    int threads; /* --threads; 0: one per CPU */
    int lines, no_header; /* --lines, --no-header */
    cli_trust trust;
    int strict_version;
} options;

static int parse_options(int argc, char **argv, options *o) {
    static const struct option longs[] = {
        {"method", required_argument, 0, 'm'},    {"output", required_argument, 0, 'o'},
        {"threads", required_argument, 0, 'j'},
        {"trust", required_argument, 0, 't'},     {"trust-file", required_argument, 0, 'T'},
        {"key", required_argument, 0, 'k'},       {"require-signature", required_argument, 0, 'P'},
        {"help", no_argument, 0, 'h'},            {"strict-version", no_argument, 0, 'S'},
        {"lines", no_argument, 0, 'L'},           {"no-header", no_argument, 0, 'H'},
        {0, 0, 0, 0},
    };
    int c, rc = 0;
    optind = 1;
    opterr = 0;
    while (!rc && (c = getopt_long(argc, argv, "o:h", longs, NULL)) != -1) {
        brine_error err;
        brine_error_clear(&err);
        switch (c) {
        case 'm':
            if (brine_method_parse(&o->method, optarg, &err)) rc = cli_usage_error(cmd, "%s", err.message);
            o->method_given = 1;
            break;
        case 'o': o->output = optarg; break;
        case 'j': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (!*optarg || *end || v < 1 || v > 1024) rc = cli_usage_error(cmd, "--threads takes 1..1024, not '%s'", optarg);
            else o->threads = (int)v;
            break;
        }
        case 'k': o->key = optarg; break;
        case 'P': o->pubkey = optarg; break;
        case 'S': o->strict_version = 1; break;
        case 'L': o->lines = 1; break;
        case 'H': o->no_header = 1; break;
        case 't': rc = cli_trust_add(&o->trust, optarg, cmd); break;
        case 'T': rc = cli_trust_file(&o->trust, optarg, cmd); break;
        case 'h': fputs(help, stdout); return -1;
        default: rc = cli_usage_error(cmd, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (!rc && argc - optind != 2) rc = cli_usage_error(cmd, "expected MODEL INPUT");
    if (!rc) {
        o->model = argv[optind];
        o->input = argv[optind + 1];
    }
    return rc;
}

static int run(options *o, const brine_model *m) {
    if (!o->method_given && !brine_model_has_method(m, BRINE_METHOD_PREDICT) &&
        brine_model_has_method(m, BRINE_METHOD_TRANSFORM))
        o->method = BRINE_METHOD_TRANSFORM; /* CONVENTIONS: scalers, encoders, ... */
    if (o->method == BRINE_METHOD_PREDICT_PROBA && !brine_model_is_classifier(m))
        return cli_fail(cmd, o->model, "%s is a regressor; it has no predict_proba", brine_model_class(m));
    if (!brine_model_has_method(m, o->method))
        return cli_fail(cmd, o->model, "%s has no %s", brine_model_class(m), brine_method_name(o->method));
    if (o->lines && !brine_model_takes_text(m))
        return cli_fail(cmd, o->model, "--lines is for models that read text; %s takes numbers", brine_model_class(m));
    bi_input in = {0};
    matrix x = {0};
    cells tc = {0};
    brine_prediction *p = NULL;
    int rc = cli_read_input(cmd, o->input, &in), text = 0;
    if (!rc && o->lines) rc = read_lines(o->input, m, in.data, in.size, &tc), text = 1;
    else if (!rc && in.size >= 6 && !memcmp(in.data, "\x93NUMPY", 6)) rc = read_npy(o->input, m, o->method, in.data, in.size, &x);
    else if (!rc && brine_model_takes_text(m) && o->method != BRINE_METHOD_INVERSE_TRANSFORM) rc = read_text_csv(o->input, m, in.data, in.size, o->no_header, &tc), text = 1;
    else if (!rc) rc = read_csv(o->input, m, o->method, in.data, in.size, o->no_header, &x);
    brine_error err;
    brine_error_clear(&err);
    brine_predict_options po = BRINE_PREDICT_OPTIONS_INIT;
    po.n_threads = o->threads ? o->threads : BRINE_THREADS_ALL;
    brine_status st = BRINE_OK;
    if (!rc && o->lines) {
        /* documents verbatim: no missing markers, numbers not parsed */
        double *xd = malloc((tc.n_rows + 1) * sizeof *xd);
        for (size_t r = 0; xd && r < tc.n_rows; r++) xd[r] = NAN;
        be_input bi = {NULL, xd, tc.n_rows, 1, 1, 0, tc.cell, NULL};
        st = xd ? be_predict_input(&p, m, o->method, &bi, &err) : bi_fail(&err, BRINE_E_NOMEM, -1, "out of memory");
        free(xd);
    } else if (!rc && text) {
        st = brine_model_predict_cells(&p, m, o->method, tc.cell, tc.n_rows, tc.n_cols, NULL, &err);
    } else if (!rc) {
        st = brine_predict(&p, m, o->method, x.x, BRINE_DTYPE_FLOAT64, x.n_rows, x.n_cols, &po, &err);
    }
    if (!rc && st) {
        cli_report(cmd, o->input, &err);
        rc = EXIT_ERROR; /* the input was checked above; what is left is not a usage error */
    }
    if (!rc) rc = write_output(o->output, m, p);
    brine_prediction_free(p);
    if (text) cells_free(&tc);
    free(x.x);
    bi_input_release(&in);
    return rc;
}

int cmd_predict(int argc, char **argv) {
    options o = {0};
    int rc = parse_options(argc, argv, &o);
    if (rc) {
        cli_trust_free(&o.trust);
        return rc < 0 ? EXIT_OK : rc;
    }
    brine_load_options lo = BRINE_LOAD_OPTIONS_INIT;
    lo.trust = (const char *const *)o.trust.items;
    lo.n_trust = o.trust.n;
    lo.key_file = cli_key_file(o.key);
    lo.strict_version = o.strict_version;
    lo.n_threads = o.threads ? o.threads : BRINE_THREADS_ALL;
    brine_error err;
    brine_error_clear(&err);
    brine_model *m = NULL;
    if (o.pubkey) rc = cli_require_signature(cmd, o.model, o.pubkey);
    if (!rc && brine_model_load(&m, o.model, &lo, &err)) rc = cli_report(cmd, o.model, &err);
    else if (!rc && !(rc = run(&o, m))) cli_version_check(cmd, o.model, m, 0); /* after: an error stays one line */
    brine_model_free(m);
    cli_trust_free(&o.trust);
    return rc;
}
