/* csv.h — a small RFC 4180 reader: splits text into rows of cells and
 * nothing more (numbers are the caller's business, so this layer stays
 * below the pickle layer).
 *
 * Accepted: commas between cells, CRLF, LF or a lone CR between records,
 * double-quoted cells with "" for a quote and any bytes (newlines included)
 * inside, a UTF-8 byte-order mark at the start, a last record without a
 * line end.  Empty lines are skipped (as pandas does), so an empty file has
 * no rows.  Refused with BRINE_E_FORMAT and the byte offset: an
 * unterminated quote, text after a closing quote, a row whose cell count
 * differs from the first row's; with BRINE_E_LIMIT: more columns or cells
 * than the limits allow. */
#ifndef BRINE_IO_CSV_H
#define BRINE_IO_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "brine.h"

typedef struct bi_csv_limits {
    size_t max_columns; /* default 1 000 000 */
    size_t max_cells;   /* default 2^31 */
} bi_csv_limits;

typedef struct bi_csv {
    char *text;        /* every cell's bytes, unquoted, each followed by a NUL */
    size_t *cell;      /* n_rows * n_cols offsets into text, row-major */
    size_t *cell_len;  /* the lengths (a cell may itself contain NUL bytes) */
    size_t *row_line;  /* 1-based line where each row starts */
    size_t *row_offset; /* byte offset where each row starts */
    size_t n_rows, n_cols;
} bi_csv;

/* Splits data[0..size) into out (which the caller frees with bi_csv_free,
 * also after a failure). */
brine_status bi_csv_parse(bi_csv *out, const uint8_t *data, size_t size, const bi_csv_limits *limits,
                          brine_error *err);
void bi_csv_free(bi_csv *csv);

/* Cell (row, col): its bytes (NUL-terminated) and length. */
static inline const char *bi_csv_cell(const bi_csv *c, size_t row, size_t col, size_t *len) {
    size_t i = row * c->n_cols + col;
    if (len) *len = c->cell_len[i];
    return c->text + c->cell[i];
}

#endif
