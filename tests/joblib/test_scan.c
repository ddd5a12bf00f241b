/* test_scan.c — brine_scan: every refusal becomes a graded finding at the
 * right offset and stream, every stream is read, broken input ends the
 * scan incomplete without losing earlier findings. */
#include <stdlib.h>
#include <string.h>

#include "asm.h"
#include "brine.h"
#include "harness.h"
#include "numpy/numpy.h"
#include "pickle/value.h"

static brine_scan_report *scan(const void *p, size_t n, const brine_load_options *o) {
    brine_scan_report *r = NULL;
    brine_error err;
    brine_error_clear(&err);
    CHECK(brine_scan_memory(&r, p, n, o, &err) == BRINE_OK);
    return r;
}

#define SCAN(lit) scan(lit, sizeof(lit) - 1, NULL)

/* The first finding with this rule, or NULL. */
static const brine_finding *find(const brine_scan_report *r, const char *rule) {
    for (size_t k = 0; k < brine_scan_finding_count(r); k++)
        if (!strcmp(brine_scan_finding(r, k)->rule, rule)) return brine_scan_finding(r, k);
    return NULL;
}

static void expect(const char *p, size_t n, brine_verdict v, int complete, const char *rule, int64_t off, int stream) {
    brine_scan_report *r = scan(p, n, NULL);
    if (!r) return;
    CHECK_EQ_INT(brine_scan_verdict(r), v);
    CHECK_EQ_INT(brine_scan_complete(r), complete);
    if (rule) {
        const brine_finding *f = find(r, rule);
        CHECK(f != NULL);
        if (f && off >= 0) CHECK_EQ_INT(f->offset, off);
        if (f) CHECK_EQ_INT(f->stream, stream);
        if (!f)
            for (size_t k = 0; k < brine_scan_finding_count(r); k++)
                fprintf(stderr, "  got %s at %lld\n", brine_scan_finding(r, k)->rule, (long long)brine_scan_finding(r, k)->offset);
    }
    brine_scan_report_free(r);
}

#define EXPECT(lit, v, c, rule, off, stream) expect(lit, sizeof(lit) - 1, v, c, rule, off, stream)

static void direct_globals(void) {
    EXPECT("\x80\x02" "cos\nsystem\nX\x02\x00\x00\x00id\x85R.", BRINE_VERDICT_DANGEROUS, 1, "global.dangerous", 2, 0);
    EXPECT("cposix\nsystem\n(S'id'\ntR.", BRINE_VERDICT_DANGEROUS, 1, "global.dangerous", 0, 0);
    EXPECT("c__builtin__\neval\n(S'1'\ntR.", BRINE_VERDICT_DANGEROUS, 1, "global.dangerous", 0, 0);
    EXPECT("\x80\x02" "cmymod\nThing\n)\x81}b.", BRINE_VERDICT_UNKNOWN, 1, "global.unknown", 2, 0);
    /* INST resolves and calls at once (C1) */
    EXPECT("(S'id'\nios\nsystem\n.", BRINE_VERDICT_DANGEROUS, 1, "global.dangerous", -1, 0);
    /* call then POP (C2): the result is gone, the call is still found */
    EXPECT("\x80\x02" "cos\nsystem\nX\x02\x00\x00\x00id\x85R0N.", BRINE_VERDICT_DANGEROUS, 1, "global.dangerous", 2, 0);
}

static void benign_is_allowed(void) {
    EXPECT("\x80\x04]K\x01" "a.", BRINE_VERDICT_ALLOWED, 1, NULL, 0, 0);
    brine_scan_report *r = SCAN("\x80\x04]K\x01" "a.");
    if (r) {
        CHECK_STR(brine_scan_container(r), "pickle");
        CHECK_EQ_INT(brine_scan_finding_count(r), 0);
    }
    brine_scan_report_free(r);
}

static void operand_tricks(void) {
    /* C4: STACK_GLOBAL operands from Python-2 strings */
    EXPECT("\x80\x04U\x02osU\x06system\x93.", BRINE_VERDICT_DANGEROUS, 1, "global.dangerous", -1, 0);
    /* C3: names fetched from the memo */
    EXPECT("\x80\x04\x8c\x02os\x94\x8c\x06system\x94h\x00h\x01\x93.", BRINE_VERDICT_DANGEROUS, 1, "global.dangerous", -1, 0);
    /* C5: computed operands */
    EXPECT("\x80\x04K\x01K\x02\x93.", BRINE_VERDICT_DANGEROUS, 1, "global.computed", 6, 0);
    /* C6: dotted names match whole */
    EXPECT("\x80\x04\x8c\x07pathlib\x8c\x09os.system\x93.", BRINE_VERDICT_DANGEROUS, 1, "global.dangerous", -1, 0);
    /* C7: a second PROTO */
    EXPECT("\x80\x02\x80\x04N.", BRINE_VERDICT_UNKNOWN, 1, "proto.misplaced", 2, 0);
    /* C8 */
    EXPECT("\x82\x01.", BRINE_VERDICT_UNKNOWN, 1, "opcode.unsupported", 0, 0);
    EXPECT("P1\n.", BRINE_VERDICT_UNKNOWN, 1, "opcode.unsupported", 0, 0);
}

static void state_tricks(void) {
    /* B6: BUILD on a class patches it; SETITEM on os.environ edits it */
    EXPECT("\x80\x02" "cjoblib.numpy_pickle\nNumpyArrayWrapper\n}b.", BRINE_VERDICT_DANGEROUS, 1, "build.target", -1, 0);
    EXPECT("\x80\x02" "cos\nenviron\nX\x01\x00\x00\x00kX\x01\x00\x00\x00vs.", BRINE_VERDICT_DANGEROUS, 1, "build.target", -1, 0);
    /* B1: a callable computed by a call */
    EXPECT("\x80\x02" "cbuiltins\nobject\n)\x81)R.", BRINE_VERDICT_DANGEROUS, 1, "call.computed", -1, 0);
    /* a value-only name called */
    EXPECT("\x80\x02" "cbuiltins\nobject\n)R.", BRINE_VERDICT_UNKNOWN, 1, "call.schema", -1, 0);
}

static void streams_and_residue(void) {
    /* C10: a second pickle after STOP */
    EXPECT("\x80\x04N.\x80\x02" "cos\nsystem\nX\x02\x00\x00\x00id\x85R.", BRINE_VERDICT_DANGEROUS, 1, "global.dangerous", 6, 1);
    /* C9: residue on the stack */
    EXPECT("\x80\x04NN.", BRINE_VERDICT_UNKNOWN, 1, "stack.residue", -1, 0);
    EXPECT("\x80\x04N.garbage", BRINE_VERDICT_UNKNOWN, 1, "trailing.data", 4, 0);
}

static void broken_input_keeps_findings(void) {
    /* E1: the call happens, then the stream ends */
    EXPECT("\x80\x02" "cos\nsystem\nX\x02\x00\x00\x00id\x85R", BRINE_VERDICT_DANGEROUS, 0, "global.dangerous", 2, 0);
    /* E2: garbage after the payload */
    EXPECT("\x80\x02" "cos\nsystem\nX\x02\x00\x00\x00id\x85R\xff", BRINE_VERDICT_DANGEROUS, 0, "global.dangerous", 2, 0);
    brine_scan_report *r = SCAN("\x80\x02]\xff");
    if (r) {
        CHECK(!brine_scan_complete(r));
        const brine_error *why = brine_scan_incomplete_reason(r);
        CHECK(why && why->offset == 3 && strstr(why->message, "invalid opcode"));
    }
    brine_scan_report_free(r);
    r = SCAN("PK\x03\x04zipzipzip");
    if (r) {
        CHECK(!brine_scan_complete(r));
        CHECK_STR(brine_scan_container(r), "zip");
    }
    brine_scan_report_free(r);
}

static void trust_lifts_unknown_only(void) {
    const char *trust[] = {"mymod:Thing", "os:system"};
    brine_load_options o = BRINE_LOAD_OPTIONS_INIT;
    o.trust = trust;
    o.n_trust = 2;
    static const char unknown[] = "\x80\x02" "cmymod\nThing\n)\x81}b.";
    brine_scan_report *r = scan(unknown, sizeof unknown - 1, &o);
    if (r) CHECK_EQ_INT(brine_scan_verdict(r), BRINE_VERDICT_ALLOWED);
    brine_scan_report_free(r);
    static const char danger[] = "\x80\x02" "cos\nsystem\nX\x02\x00\x00\x00id\x85R.";
    r = scan(danger, sizeof danger - 1, &o);
    if (r) CHECK_EQ_INT(brine_scan_verdict(r), BRINE_VERDICT_DANGEROUS);
    brine_scan_report_free(r);
}

/* D2: a payload after the first joblib array, and D1: inside a compressor. */
static void payload_after_a_joblib_array(void) {
    bp_arena a;
    bp_arena_init(&a, 0);
    int64_t n = 1000;
    uint8_t *data = bp_arena_alloc(&a, 8000);
    bv *arr;
    CHECK(bn_array_new(&a, &arr, bn_dtype_simple(&a, 'f', 8, '<'), 1, &n, 0, data, 8000, NULL, NULL, -1) == BRINE_OK);
    arr->u.arr->subclass = bv_global(&a, "numpy", "ndarray", NULL);
    bv *call = bv_new(&a, BRINE_OBJECT);
    call->how = BV_HOW_REDUCE;
    call->u.obj.callable = bv_global(&a, "os", "system", NULL);
    bv *cmd = bv_str(&a, "touch marker");
    call->u.obj.args = bv_tuple_of(&a, 1, &cmd);
    bv *items[2] = {arr, call};
    bv *root = bv_tuple_of(&a, 2, items);
    for (int c = BRINE_COMPRESSION_NONE; c < BRINE_COMPRESSION_COUNT_; c++) {
        brine_save_options so = BRINE_SAVE_OPTIONS_INIT;
        so.format = BRINE_FORMAT_JOBLIB;
        so.compression = (brine_compression)c;
        void *out;
        size_t len;
        brine_error err;
        brine_error_clear(&err);
        CHECK(brine_save_memory(&out, &len, root, &so, &err) == BRINE_OK);
        brine_scan_report *r = scan(out, len, NULL);
        if (r) {
            CHECK_EQ_INT(brine_scan_verdict(r), BRINE_VERDICT_DANGEROUS);
            CHECK(brine_scan_complete(r));
            const brine_finding *f = find(r, "global.dangerous");
            CHECK(f && f->offset > 8000); /* found after the array's raw bytes */
            CHECK_STR(brine_scan_container(r), "joblib");
            CHECK_EQ_INT(brine_scan_compression(r), c);
        }
        brine_scan_report_free(r);
        brine_free(out);
    }
    bp_arena_free(&a);
}

int main(void) {
    RUN(direct_globals);
    RUN(benign_is_allowed);
    RUN(operand_tricks);
    RUN(state_tricks);
    RUN(streams_and_residue);
    RUN(broken_input_keeps_findings);
    RUN(trust_lifts_unknown_only);
    RUN(payload_after_a_joblib_array);
    TEST_MAIN_END();
}
