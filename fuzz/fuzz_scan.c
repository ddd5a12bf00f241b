/* fuzz_scan.c — the scanner against the loader, on the same bytes.
 *
 * The two share one machine, so they must agree: a file the loader accepts
 * scans as allowed and complete, and a file that scans allowed and complete
 * loads.  Any disagreement is a bug in one of them (a refusal the scanner
 * does not report, or a finding the loader does not refuse).  On success the
 * graph is also handed to the estimator layer, whose validation must fail
 * cleanly on hostile state (SECURITY F13). */
#include <stdint.h>
#include <string.h>

#include "brine.h"
#include "fuzz_util.h"
#include "joblib/joblib.h"

#define TARGET "fuzz_scan"
#define MiB ((uint64_t)1 << 20)

static brine_load_options limits(void) {
    brine_load_options o = BRINE_LOAD_OPTIONS_INIT;
    o.max_graph_bytes = 256 * MiB;
    o.max_decompressed_bytes = 64 * MiB;
    o.max_depth = 100000;
    return o;
}

static void check_model(const brine_file *f) {
    brine_model *m = NULL;
    brine_error err;
    brine_error_clear(&err);
    brine_status st = brine_model_from_file(&m, f, &err);
    fz_check_error(TARGET, st, &err, -1);
    brine_model_free(m);
}

static int has_rule(const brine_scan_report *r, const char *rule) {
    for (size_t k = 0; k < brine_scan_finding_count(r); k++)
        if (!strcmp(brine_scan_finding(r, k)->rule, rule)) return 1;
    return 0;
}

/* Findings the loader turns into refusals; the others (residue, trailing
 * data, a misplaced PROTO) are suspicious but loadable, as in CPython. */
static int has_refusal(const brine_scan_report *r, int64_t before) {
    static const char *const loadable[] = {"stack.residue", "trailing.data", "proto.misplaced", "frame.inconsistent"};
    for (size_t k = 0; k < brine_scan_finding_count(r); k++) {
        const char *rule = brine_scan_finding(r, k)->rule;
        if (brine_scan_finding(r, k)->offset >= before) continue;
        int ok = 0;
        for (size_t j = 0; j < sizeof loadable / sizeof *loadable; j++) ok |= !strcmp(rule, loadable[j]);
        if (!ok) return 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    brine_load_options o = limits();
    brine_error lerr, serr;
    brine_error_clear(&lerr);
    brine_error_clear(&serr);
    brine_file *f = NULL;
    brine_status lst = brine_file_open_memory(&f, data, size, &o, &lerr);
    fz_check_error(TARGET, lst, &lerr, -1);
    brine_scan_report *r = NULL;
    if (brine_scan_memory(&r, data, size, &o, &serr) != BRINE_OK) fz_die(TARGET, "scan failed to report", &serr);
    /* Pickles after the first STOP are the scanner's alone: pickle.load
     * never reads them, so the loader is compared up to its STOP. */
    int64_t end = f ? (int64_t)f->stream_end : INT64_MAX;
    int clean = (brine_scan_complete(r) || has_rule(r, "trailing.data")) && !has_refusal(r, end);
    if (lst == BRINE_OK && !clean) {
        const brine_finding *fd = brine_scan_finding_count(r) ? brine_scan_finding(r, 0) : NULL;
        if (fd) fprintf(stderr, "first finding: %s at %lld: %s\n", fd->rule, (long long)fd->offset, fd->message);
        fz_die(TARGET, "the loader accepted a file the scanner refuses or could not finish", brine_scan_incomplete_reason(r));
    }
    /* Limits may stop either one first. */
    if (lst != BRINE_OK && clean && lerr.status != BRINE_E_LIMIT && brine_scan_complete(r))
        fz_die(TARGET, "the scanner called clean a file the loader refuses", &lerr);
    if (f) check_model(f);
    brine_scan_report_free(r);
    brine_file_free(f);
    return 0;
}
