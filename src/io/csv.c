/* csv.c — the RFC 4180 splitter of csv.h: one pass, one state per cell,
 * growable arrays; nothing recurses and every cell is bounded by the input. */
#include "io/csv.h"

#include <stdlib.h>
#include <string.h>

#include "io/buf.h"
#include "io/error.h"

typedef struct vec {
    size_t *p;
    size_t n, cap;
} vec;

static int vec_push(vec *v, size_t x) {
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        size_t *p = realloc(v->p, cap * sizeof *p);
        if (!p) return 0;
        v->p = p;
        v->cap = cap;
    }
    v->p[v->n++] = x;
    return 1;
}

typedef struct parser {
    const uint8_t *d;
    size_t size, pos, line;
    bi_buf text;
    vec cell, len, row_line, row_offset;
    size_t n_cols, row_cells;
    bi_csv_limits lim;
    brine_error *err;
} parser;

static brine_status nomem(parser *p) { return bi_fail(p->err, BRINE_E_NOMEM, (int64_t)p->pos, "out of memory reading CSV"); }

static int at_line_end(const parser *p) { return p->pos >= p->size || p->d[p->pos] == '\n' || p->d[p->pos] == '\r'; }

/* Consumes one line end (CRLF, LF or CR). */
static void skip_line_end(parser *p) {
    if (p->pos < p->size && p->d[p->pos] == '\r') p->pos++;
    if (p->pos < p->size && p->d[p->pos] == '\n') p->pos++;
    p->line++;
}

/* A quoted cell: the opening quote is at p->pos. */
static brine_status quoted_cell(parser *p) {
    size_t open = p->pos++, open_line = p->line;
    for (;;) {
        if (p->pos >= p->size)
            return bi_fail(p->err, BRINE_E_FORMAT, (int64_t)open, "line %zu: the quote opened here is never closed",
                           open_line);
        uint8_t c = p->d[p->pos++];
        if (c == '"') {
            if (p->pos < p->size && p->d[p->pos] == '"') {
                bi_buf_byte(&p->text, '"');
                p->pos++;
                continue;
            }
            break;
        }
        if (c == '\n' || (c == '\r' && (p->pos >= p->size || p->d[p->pos] != '\n'))) p->line++;
        bi_buf_byte(&p->text, c);
    }
    if (!at_line_end(p) && p->d[p->pos] != ',')
        return bi_fail(p->err, BRINE_E_FORMAT, (int64_t)p->pos,
                       "line %zu: text after a closing quote (quote the whole cell, doubling inner quotes)", p->line);
    return BRINE_OK;
}

static brine_status one_cell(parser *p) {
    size_t start = p->text.len;
    brine_status st = BRINE_OK;
    if (p->pos < p->size && p->d[p->pos] == '"') {
        st = quoted_cell(p);
    } else {
        size_t s = p->pos;
        while (!at_line_end(p) && p->d[p->pos] != ',') p->pos++;
        bi_buf_put(&p->text, p->d + s, p->pos - s);
    }
    if (st) return st;
    size_t n = p->text.len - start;
    bi_buf_byte(&p->text, 0);
    if (!bi_buf_ok(&p->text) || !vec_push(&p->cell, start) || !vec_push(&p->len, n)) return nomem(p);
    if (++p->row_cells > p->lim.max_columns)
        return bi_fail(p->err, BRINE_E_LIMIT, (int64_t)p->pos, "line %zu has more than %zu columns", p->line,
                       p->lim.max_columns);
    if (p->cell.n > p->lim.max_cells)
        return bi_fail(p->err, BRINE_E_LIMIT, (int64_t)p->pos, "more than %zu cells", p->lim.max_cells);
    return BRINE_OK;
}

static brine_status one_row(parser *p) {
    size_t start = p->pos, line = p->line;
    if (!vec_push(&p->row_line, line) || !vec_push(&p->row_offset, start)) return nomem(p);
    p->row_cells = 0;
    for (;;) {
        brine_status st = one_cell(p);
        if (st) return st;
        if (p->pos < p->size && p->d[p->pos] == ',') {
            p->pos++;
            continue;
        }
        break;
    }
    if (p->row_line.n == 1) p->n_cols = p->row_cells;
    else if (p->row_cells != p->n_cols)
        return bi_fail(p->err, BRINE_E_FORMAT, (int64_t)start, "line %zu has %zu cells, but the first row has %zu", line,
                       p->row_cells, p->n_cols);
    skip_line_end(p);
    return BRINE_OK;
}

brine_status bi_csv_parse(bi_csv *out, const uint8_t *data, size_t size, const bi_csv_limits *limits,
                          brine_error *err) {
    memset(out, 0, sizeof *out);
    parser p = {data, size, 0, 1, BI_BUF_INIT, {0}, {0}, {0}, {0}, 0, 0, {1000000, (size_t)1 << 31}, err};
    if (limits && limits->max_columns) p.lim.max_columns = limits->max_columns;
    if (limits && limits->max_cells) p.lim.max_cells = limits->max_cells;
    if (size >= 3 && !memcmp(data, "\xef\xbb\xbf", 3)) p.pos = 3;
    brine_status st = BRINE_OK;
    while (!st && p.pos < size) {
        if (at_line_end(&p)) skip_line_end(&p); /* an empty line */
        else st = one_row(&p);
    }
    size_t n;
    bi_buf_byte(&p.text, 0); /* so that text exists even without cells */
    if (!bi_buf_ok(&p.text) && !st) st = nomem(&p);
    out->text = (char *)bi_buf_take(&p.text, &n);
    out->cell = p.cell.p;
    out->cell_len = p.len.p;
    out->row_line = p.row_line.p;
    out->row_offset = p.row_offset.p;
    out->n_rows = p.row_line.n;
    out->n_cols = p.n_cols;
    if (st) out->n_rows = 0;
    return st;
}

void bi_csv_free(bi_csv *c) {
    if (!c) return;
    free(c->text);
    free(c->cell);
    free(c->cell_len);
    free(c->row_line);
    free(c->row_offset);
    memset(c, 0, sizeof *c);
}
