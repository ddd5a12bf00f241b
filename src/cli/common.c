#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"

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
