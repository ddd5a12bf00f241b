#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli.h"
#include "io/buf.h"
#include "io/csv.h"
#include "io/file.h"
#include "pickle/text.h"

int cli_report(const char *cmd, const char *file, const brine_error *err) {
    fprintf(stderr, "brine %s: %s: %s", cmd, file ? file : "-", err->message[0] ? err->message : brine_status_name(err->status));
    if (err->offset >= 0) fprintf(stderr, " (at byte %lld%s%s)", (long long)err->offset, err->where[0] ? " of the " : "", err->where);
    else if (err->where[0]) fprintf(stderr, " (in the %s)", err->where);
    fputc('\n', stderr);
    return brine_status_exit_code(err->status);
}

int cli_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "brine %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see 'brine %s --help')\n", cmd);
    va_end(ap);
    return EXIT_USAGE;
}

int cli_trust_add(cli_trust *t, const char *spec, const char *cmd) {
    const char *colon = strchr(spec, ':');
    if (!colon || colon == spec || !colon[1])
        return cli_usage_error(cmd, "--trust takes MODULE:QUALNAME, got '%s'", spec);
    char **grown = realloc(t->items, (t->n + 1) * sizeof *grown);
    if (!grown) return EXIT_ERROR;
    t->items = grown;
    t->items[t->n] = strdup(spec);
    if (!t->items[t->n]) return EXIT_ERROR;
    t->n++;
    return 0;
}

int cli_trust_file(cli_trust *t, const char *path, const char *cmd) {
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "brine %s: %s: %s\n", cmd, path, strerror(errno));
        return EXIT_ERROR;
    }
    char line[1024];
    int rc = 0;
    while (!rc && fgets(line, sizeof line, f)) {
        char *hash = strchr(line, '#');
        if (hash) *hash = '\0';
        char *s = line, *e = line + strlen(line);
        while (*s == ' ' || *s == '\t') s++;
        while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t')) *--e = '\0';
        if (*s) rc = cli_trust_add(t, s, cmd);
    }
    fclose(f);
    return rc;
}

void cli_trust_free(cli_trust *t) {
    for (size_t k = 0; k < t->n; k++) free(t->items[k]);
    free(t->items);
    t->items = NULL;
    t->n = 0;
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* joblib's own compressed names select that compressor (CONVENTIONS). */
static brine_compression compression_from_name(const char *path) {
    static const struct { const char *ext; brine_compression c; } exts[] = {
        {".z", BRINE_COMPRESSION_ZLIB}, {".gz", BRINE_COMPRESSION_GZIP}, {".bz2", BRINE_COMPRESSION_BZ2},
        {".xz", BRINE_COMPRESSION_XZ},  {".lzma", BRINE_COMPRESSION_LZMA}, {".lz4", BRINE_COMPRESSION_LZ4},
    };
    for (size_t k = 0; k < sizeof exts / sizeof *exts; k++)
        if (ends_with(path, exts[k].ext)) return exts[k].c;
    return BRINE_COMPRESSION_NONE;
}

int cli_output_format(const char *cmd, const char *path, const char *format_opt, const char *compress_opt,
                      const char *protocol_opt, brine_save_options *out) {
    brine_save_options o = BRINE_SAVE_OPTIONS_INIT;
    o.protocol = 4;
    if (protocol_opt) {
        char *end;
        long p = strtol(protocol_opt, &end, 10);
        if (!*protocol_opt || *end || p < 2 || p > 5)
            return cli_usage_error(cmd, "--protocol takes 2, 3, 4 or 5, got '%s'", protocol_opt);
        o.protocol = (int)p;
    }
    if (format_opt && strcmp(format_opt, "pickle") && strcmp(format_opt, "joblib"))
        return cli_usage_error(cmd, "--format takes pickle or joblib, got '%s'", format_opt);
    if (compress_opt) {
        brine_error err;
        brine_error_clear(&err);
        if (brine_compression_parse(&o.compression, &o.level, compress_opt, &err))
            return cli_usage_error(cmd, "%s", err.message);
        if (format_opt && !strcmp(format_opt, "pickle"))
            return cli_usage_error(cmd, "--compress writes joblib files; it cannot be combined with --format pickle");
        o.format = BRINE_FORMAT_JOBLIB;
    } else if (format_opt) {
        o.format = strcmp(format_opt, "joblib") ? BRINE_FORMAT_PICKLE : BRINE_FORMAT_JOBLIB;
        if (o.format == BRINE_FORMAT_JOBLIB) o.compression = compression_from_name(path);
    } else {
        o.compression = compression_from_name(path);
        o.format = (o.compression != BRINE_COMPRESSION_NONE || ends_with(path, ".joblib")) ? BRINE_FORMAT_JOBLIB
                                                                                         : BRINE_FORMAT_PICKLE;
    }
    *out = o;
    return 0;
}

json_t *cli_json_text(const char *s) {
    json_t *j = json_string(s ? s : "");
    if (j) return j;
    size_t n = strlen(s);
    char *esc = malloc(4 * n + 1);
    if (!esc) return json_null();
    size_t o = 0;
    for (size_t k = 0; k < n; k++) {
        unsigned char c = (unsigned char)s[k];
        if (c < 0x80) esc[o++] = (char)c;
        else o += (size_t)snprintf(esc + o, 5, "\\x%02x", c);
    }
    esc[o] = '\0';
    j = json_string(esc);
    free(esc);
    return j ? j : json_null();
}

/* ------------------------------------------------------- CSV cells */

/* A CSV cell as a number: surrounding blanks are ignored; empty, nan, NaN
 * and NA are missing (NaN).  0 when it is neither. */
int cli_cell_number(const char *s, size_t n, double *out) {
    while (n && (*s == ' ' || *s == '\t')) s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    if (n == 0 || (n == 3 && (!memcmp(s, "nan", 3) || !memcmp(s, "NaN", 3))) || (n == 2 && !memcmp(s, "NA", 2))) {
        *out = NAN;
        return 1;
    }
    return bp_parse_float_text((const uint8_t *)s, n, out);
}

int cli_row_is_header(const struct bi_csv *c) {
    double v;
    for (size_t j = 0; j < c->n_cols; j++) {
        size_t n;
        const char *s = bi_csv_cell(c, 0, j, &n);
        if (!cli_cell_number(s, n, &v)) return 1;
    }
    return 0;
}

/* ------------------------------------------------------------ input */

int cli_read_input(const char *cmd, const char *path, struct bi_input *in) {
    brine_error err;
    brine_error_clear(&err);
    if (strcmp(path, "-")) {
        if (bi_input_open(in, path, 0, UINT64_MAX, &err)) return cli_report(cmd, path, &err);
        return 0;
    }
    bi_buf b = BI_BUF_INIT;
    uint8_t chunk[65536];
    ssize_t k;
    while ((k = read(STDIN_FILENO, chunk, sizeof chunk)) > 0) bi_buf_put(&b, chunk, (size_t)k);
    bi_buf_byte(&b, 0); /* keeps data non-NULL for an empty stdin */
    if (k < 0 || !bi_buf_ok(&b)) {
        bi_buf_free(&b);
        fprintf(stderr, "brine %s: -: cannot read standard input\n", cmd);
        return EXIT_ERROR;
    }
    size_t n;
    uint8_t *data = bi_buf_take(&b, &n);
    bi_input_adopt(in, data, n - 1);
    return 0;
}

/* ------------------------------------------------------------ errors */

int cli_fail(const char *cmd, const char *file, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "brine %s: %s: ", cmd, file);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return EXIT_ERROR;
}
