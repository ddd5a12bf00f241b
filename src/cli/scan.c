/* scan.c — brine scan FILE...: what each file would do to a Python that
 * loads it.  Exit 0 when every file is allowed and was read to the end,
 * 1 when any is dangerous or unknown (even if also broken), else 2. */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const char help[] =
    "usage: brine scan FILE... [--json] [--trust MODULE:QUALNAME]... [--trust-file F]\n"
    "\n"
    "Reads every pickle stream of each file (after STOP too, joblib payloads, nested\n"
    "object-array pickles, legacy sidecar files, inside every compressor) without\n"
    "executing anything, and grades what Python would do when loading it:\n"
    "  allowed    every global is on brine's allowlist\n"
    "  unknown    names or operations brine cannot vouch for\n"
    "  dangerous  runs code, touches files, sockets or processes, patches state\n"
    "Exit status: 0 all files allowed and read to the end; 1 any file dangerous or\n"
    "unknown; 2 otherwise (a file unreadable to the end: corrupt, truncated,\n"
    "unsupported container, a limit hit); 64 bad usage.\n"
    "\n"
    "  --json        one JSON object per file, one per line (docs/scan-json.md)\n"
    "  --trust M:Q   admit an unknown global for this run (never a dangerous one)\n"
    "  --trust-file  one MODULE:QUALNAME per line, # comments\n";

/* F13: allowlisted classes with hostile numbers.  A supported estimator
 * whose state fails validation would crash or hang sklearn. */
static void check_estimator(const brine_scan_report *r, brine_error *why) {
    brine_error_clear(why);
    const brine_file *f = brine_scan_file(r);
    if (!f || !brine_scan_complete(r)) return;
    brine_model *m = NULL;
    brine_status st = brine_model_from_file(&m, f, why);
    brine_model_free(m);
    /* An unfitted estimator is inert: sklearn refuses to predict with it. */
    if (st != BRINE_E_FORMAT || strstr(why->message, "is not fitted")) brine_error_clear(why);
}

static void print_text(const char *path, const brine_scan_report *r, const brine_error *state) {
    brine_verdict v = brine_scan_verdict(r);
    if (state->status && v < BRINE_VERDICT_DANGEROUS) v = BRINE_VERDICT_DANGEROUS;
    const brine_error *why = brine_scan_incomplete_reason(r);
    printf("%s: %s, %s%s%s\n", path, brine_verdict_name(v), why ? "incomplete: " : "read to the end",
           why ? why->message : "", "");
    if (why && why->offset >= 0) printf("  (stopped at byte %lld)\n", (long long)why->offset);
    for (size_t k = 0; k < brine_scan_finding_count(r); k++) {
        const brine_finding *fd = brine_scan_finding(r, k);
        printf("  %-9s %-18s byte %-8lld stream %d  %s\n", brine_verdict_name(fd->severity), fd->rule,
               (long long)fd->offset, fd->stream, fd->message);
    }
    if (state->status) printf("  %-9s %-18s %s\n", "dangerous", "state.invalid", state->message);
    size_t n = brine_scan_global_count(r), bad = 0;
    for (size_t k = 0; k < n; k++) {
        brine_verdict g;
        brine_scan_global(r, k, &g);
        bad += g != BRINE_VERDICT_ALLOWED;
    }
    printf("  %zu globals (%zu not allowed), %d pickle streams, container %s, compression %s\n", n, bad,
           brine_scan_stream_count(r), brine_scan_container(r), brine_compression_name(brine_scan_compression(r)));
}

static json_t *finding_json(brine_verdict sev, const char *rule, const char *module, const char *name,
                            int64_t offset, int stream, const char *message) {
    json_t *o = json_object();
    json_object_set_new(o, "severity", json_string(brine_verdict_name(sev)));
    json_object_set_new(o, "rule", json_string(rule));
    json_object_set_new(o, "global", module ? json_sprintf("%s.%s", module, name) : json_null());
    json_object_set_new(o, "offset", offset >= 0 ? json_integer(offset) : json_null());
    json_object_set_new(o, "stream", json_integer(stream));
    json_object_set_new(o, "message", cli_json_text(message));
    return o;
}

static void print_json(const char *path, const brine_scan_report *r, const brine_error *state) {
    brine_verdict v = brine_scan_verdict(r);
    if (state->status && v < BRINE_VERDICT_DANGEROUS) v = BRINE_VERDICT_DANGEROUS;
    const brine_error *why = brine_scan_incomplete_reason(r);
    json_t *o = json_object();
    json_object_set_new(o, "file", cli_json_text(path));
    json_object_set_new(o, "verdict", json_string(brine_verdict_name(v)));
    json_object_set_new(o, "complete", json_boolean(why == NULL));
    json_object_set_new(o, "reason", why ? cli_json_text(why->message) : json_null());
    json_object_set_new(o, "reason_offset", why && why->offset >= 0 ? json_integer(why->offset) : json_null());
    json_object_set_new(o, "container", json_string(brine_scan_container(r)));
    json_object_set_new(o, "compression", json_string(brine_compression_name(brine_scan_compression(r))));
    json_object_set_new(o, "streams", json_integer(brine_scan_stream_count(r)));
    json_t *globals = json_array(), *findings = json_array();
    for (size_t k = 0; k < brine_scan_global_count(r); k++) {
        brine_verdict g;
        const brine_global_ref *ref = brine_scan_global(r, k, &g);
        json_t *e = json_object();
        json_object_set_new(e, "module", cli_json_text(ref->module));
        json_object_set_new(e, "name", cli_json_text(ref->name));
        json_object_set_new(e, "offset", json_integer(ref->offset));
        json_object_set_new(e, "stream", json_integer(ref->stream));
        json_object_set_new(e, "grade", json_string(brine_verdict_name(g)));
        json_array_append_new(globals, e);
    }
    for (size_t k = 0; k < brine_scan_finding_count(r); k++) {
        const brine_finding *fd = brine_scan_finding(r, k);
        json_array_append_new(findings, finding_json(fd->severity, fd->rule, fd->module, fd->name, fd->offset,
                                                     fd->stream, fd->message));
    }
    if (state->status)
        json_array_append_new(findings, finding_json(BRINE_VERDICT_DANGEROUS, "state.invalid", NULL, NULL,
                                                     state->offset, 0, state->message));
    json_object_set_new(o, "globals", globals);
    json_object_set_new(o, "findings", findings);
    char *s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
    if (s) puts(s);
    free(s);
    json_decref(o);
}

/* 1 for a negative answer, 2 for an unreadable file, 0 for a clean one. */
static int scan_one(const char *path, const brine_load_options *lo, int as_json) {
    brine_error err;
    brine_error_clear(&err);
    brine_scan_report *r = NULL;
    if (brine_scan(&r, path, lo, &err)) return cli_report("scan", path, &err);
    brine_error state;
    check_estimator(r, &state);
    if (as_json) print_json(path, r, &state);
    else print_text(path, r, &state);
    int rc = brine_scan_verdict(r) != BRINE_VERDICT_ALLOWED || state.status ? EXIT_NEGATIVE
             : brine_scan_complete(r)                                      ? EXIT_OK
                                                                           : EXIT_ERROR;
    brine_scan_report_free(r);
    return rc;
}

int cmd_scan(int argc, char **argv) {
    static const struct option opts[] = {
        {"json", no_argument, 0, 'j'}, {"trust", required_argument, 0, 't'},
        {"trust-file", required_argument, 0, 'T'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
    };
    int as_json = 0, rc = 0, c;
    cli_trust trust = {0};
    optind = 1;
    opterr = 0;
    while (!rc && (c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'j': as_json = 1; break;
        case 't': rc = cli_trust_add(&trust, optarg, "scan"); break;
        case 'T': rc = cli_trust_file(&trust, optarg, "scan"); break;
        case 'h': fputs(help, stdout); cli_trust_free(&trust); return EXIT_OK;
        default: rc = cli_usage_error("scan", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (!rc && optind >= argc) rc = cli_usage_error("scan", "expected at least one FILE");
    if (rc) {
        cli_trust_free(&trust);
        return rc;
    }
    brine_load_options lo = BRINE_LOAD_OPTIONS_INIT;
    lo.use_mmap = 1; /* array bytes are skipped, never copied */
    lo.trust = (const char *const *)trust.items;
    lo.n_trust = trust.n;
    int negative = 0, broken = 0;
    for (int k = optind; k < argc; k++) {
        int r = scan_one(argv[k], &lo, as_json);
        negative |= r == EXIT_NEGATIVE;
        broken |= r != EXIT_OK && r != EXIT_NEGATIVE;
    }
    cli_trust_free(&trust);
    return negative ? EXIT_NEGATIVE : broken ? EXIT_ERROR : EXIT_OK;
}
