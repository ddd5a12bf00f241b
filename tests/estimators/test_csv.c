/* test_csv.c — the RFC 4180 splitter brine predict reads its input with
 * (src/io/csv.c; tested here beside its only user). */
#include <string.h>

#include "harness.h"
#include "io/csv.h"

static brine_status parse(const char *text, bi_csv *c, brine_error *err) {
    brine_error_clear(err);
    return bi_csv_parse(c, (const uint8_t *)text, strlen(text), NULL, err);
}

static int cell_is(const bi_csv *c, size_t r, size_t j, const char *want) {
    size_t n;
    const char *s = bi_csv_cell(c, r, j, &n);
    return n == strlen(want) && !memcmp(s, want, n) && s[n] == '\0';
}

static void plain_rows(void) {
    bi_csv c;
    brine_error err;
    CHECK_EQ_INT(parse("a,b,c\r\n1,2,3\n4,,6", &c, &err), BRINE_OK);
    CHECK(c.n_rows == 3 && c.n_cols == 3);
    CHECK(cell_is(&c, 0, 2, "c") && cell_is(&c, 1, 0, "1") && cell_is(&c, 2, 1, "") && cell_is(&c, 2, 2, "6"));
    CHECK(c.row_line[2] == 3 && c.row_offset[1] == 7);
    bi_csv_free(&c);
}

static void quoting(void) {
    bi_csv c;
    brine_error err;
    CHECK_EQ_INT(parse("\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\n\"\",b\"c,d\n", &c, &err), BRINE_OK);
    CHECK(c.n_rows == 2 && c.n_cols == 3);
    CHECK(cell_is(&c, 0, 0, "x, y") && cell_is(&c, 0, 1, "say \"hi\"") && cell_is(&c, 0, 2, "two\nlines"));
    CHECK(cell_is(&c, 1, 0, "") && cell_is(&c, 1, 1, "b\"c") && cell_is(&c, 1, 2, "d"));
    CHECK_EQ_INT(c.row_line[1], 3); /* the quoted newline counts as a line */
    bi_csv_free(&c);
}

static void bom_blank_lines_and_cr(void) {
    bi_csv c;
    brine_error err;
    CHECK_EQ_INT(parse("\xef\xbb\xbf" "a,b\n\n\r\n1,2\r3,4\n\n", &c, &err), BRINE_OK);
    CHECK(c.n_rows == 3 && c.n_cols == 2);
    CHECK(cell_is(&c, 0, 0, "a") && cell_is(&c, 1, 1, "2") && cell_is(&c, 2, 0, "3"));
    CHECK_EQ_INT(c.row_line[1], 4);
    bi_csv_free(&c);
    CHECK_EQ_INT(parse("", &c, &err), BRINE_OK);
    CHECK_EQ_INT(c.n_rows, 0);
    bi_csv_free(&c);
    CHECK_EQ_INT(parse("1,\n2,", &c, &err), BRINE_OK); /* a trailing comma is an empty last cell */
    CHECK(c.n_rows == 2 && c.n_cols == 2 && cell_is(&c, 1, 1, ""));
    bi_csv_free(&c);
}

static void malformed_input(void) {
    bi_csv c;
    brine_error err;
    CHECK_EQ_INT(parse("1,2,3\n4,5\n", &c, &err), BRINE_E_FORMAT);
    CHECK(err.offset == 6 && strstr(err.message, "line 2 has 2 cells, but the first row has 3"));
    bi_csv_free(&c);
    CHECK_EQ_INT(parse("1,\"2\n3\n", &c, &err), BRINE_E_FORMAT);
    CHECK(err.offset == 2 && strstr(err.message, "line 1: the quote opened here is never closed"));
    bi_csv_free(&c);
    CHECK_EQ_INT(parse("\"1\"2,3\n", &c, &err), BRINE_E_FORMAT);
    CHECK(err.offset == 3 && strstr(err.message, "text after a closing quote"));
    bi_csv_free(&c);
    bi_csv_limits lim = {2, 0};
    brine_error_clear(&err);
    CHECK_EQ_INT(bi_csv_parse(&c, (const uint8_t *)"1,2,3\n", 6, &lim, &err), BRINE_E_LIMIT);
    bi_csv_free(&c);
    lim = (bi_csv_limits){0, 3};
    brine_error_clear(&err);
    CHECK_EQ_INT(bi_csv_parse(&c, (const uint8_t *)"1,2\n3,4\n", 8, &lim, &err), BRINE_E_LIMIT);
    bi_csv_free(&c);
}

static void nul_bytes_stay_in_cells(void) {
    bi_csv c;
    brine_error err;
    brine_error_clear(&err);
    CHECK_EQ_INT(bi_csv_parse(&c, (const uint8_t *)"a\0b,c\n", 6, NULL, &err), BRINE_OK);
    size_t n;
    const char *s = bi_csv_cell(&c, 0, 0, &n);
    CHECK(n == 3 && s[1] == '\0' && s[2] == 'b');
    bi_csv_free(&c);
}

int main(void) {
    RUN(plain_rows);
    RUN(quoting);
    RUN(bom_blank_lines_and_cr);
    RUN(malformed_input);
    RUN(nul_bytes_stay_in_cells);
    TEST_MAIN_END();
}
