/* test_vm.c — the pickle machine: every fault names its kind and offset,
 * limits hold, hostile shapes (deep nesting, memo bombs, billion laughs)
 * stay cheap, globals outside the allowlist are refused. */
#include <stdlib.h>
#include <string.h>

#include "brine.h"
#include "harness.h"
#include "joblib/joblib.h"
#include "numpy/numpy.h"
#include "pickle/globals.h"
#include "pickle/opcodes.h"
#include "pickle/value.h"
#include "pickle/writer.h"

static brine_file *load_opts(const void *p, size_t n, const brine_load_options *o, brine_error *err) {
    brine_file *f = NULL;
    brine_error_clear(err);
    brine_file_open_memory(&f, p, n, o, err);
    return f;
}

static brine_file *load(const void *p, size_t n, brine_error *err) { return load_opts(p, n, NULL, err); }

#define LOAD(lit, err) load(lit, sizeof(lit) - 1, err)

/* Loading must fail with this status at this offset, message containing text. */
static void expect_fail(const char *p, size_t n, brine_status st, int64_t off, const char *text) {
    brine_error err;
    brine_file *f = load(p, n, &err);
    CHECK(f == NULL);
    CHECK_EQ_INT(err.status, st);
    if (off >= -1) CHECK_EQ_INT(err.offset, off);
    if (text && !strstr(err.message, text)) {
        fprintf(stderr, "  message was: %s\n", err.message);
        CHECK(0);
    }
    brine_file_free(f);
}

#define FAIL(lit, st, off, text) expect_fail(lit, sizeof(lit) - 1, st, off, text)

static void opcode_table_has_all_68(void) {
    CHECK_EQ_INT(bp_opcode_count(), 68);
    int seen[256] = {0};
    for (size_t k = 0; k < bp_opcode_count(); k++) {
        const bp_opinfo *op = bp_opinfo_at(k);
        CHECK(!seen[op->byte]);
        seen[op->byte] = 1;
        CHECK(bp_opinfo_of(op->byte) == op);
        CHECK(op->proto >= 0 && op->proto <= 5);
    }
    CHECK(bp_opinfo_of(0xff) == NULL);
}

static void allowlist_tables_are_sorted(void) {
    size_t n;
    const bp_global_table *const *t = bj_tables(&n);
    for (size_t k = 0; k < n; k++) CHECK(bp_global_table_sorted(t[k]));
    CHECK(bp_global_find(t, n, "numpy.core.multiarray", "_reconstruct") != NULL);
    CHECK(bp_global_find(t, n, "numpy._core.multiarray", "_reconstruct") != NULL);
    CHECK(bp_global_find(t, n, "os", "system") == NULL);
    CHECK(bp_global_is_dangerous("os", "system"));
    CHECK(bp_global_is_dangerous("builtins", "eval"));
    CHECK(bp_global_is_dangerous("posix", "system"));
    CHECK(!bp_global_is_dangerous("mymodule", "Thing"));
}

static void basic_values(void) {
    /* pickle.dumps({'a': [1, 2.5, None, True], 'b': (1, 2, 3), 'c': b'xy'}, 4) */
    static const char p[] =
        "\x80\x04}\x94(\x8c\x01""a\x94]\x94(K\x01G@\x04\x00\x00\x00\x00\x00\x00N"
        "\x88""e\x8c\x01""b\x94K\x01K\x02K\x03\x87\x94\x8c\x01""c\x94""C\x02xy\x94u.";
    brine_error err;
    brine_file *f = LOAD(p, &err);
    CHECK(f != NULL);
    if (!f) { fprintf(stderr, "  %s at %lld\n", err.message, (long long)err.offset); return; }
    const brine_value *r = brine_file_root(f);
    CHECK_EQ_INT(brine_value_kind(r), BRINE_DICT);
    CHECK_EQ_INT(brine_value_len(r), 3);
    const brine_value *a = brine_value_dict_get(r, "a");
    CHECK_EQ_INT(brine_value_len(a), 4);
    double d = 0;
    CHECK(brine_value_double(brine_value_item(a, 1), &d) == BRINE_OK && d == 2.5);
    CHECK_EQ_INT(brine_value_kind(brine_value_item(a, 2)), BRINE_NONE);
    CHECK_EQ_INT(brine_value_kind(brine_value_dict_get(r, "b")), BRINE_TUPLE);
    size_t n;
    const char *s = brine_value_bytes(brine_value_dict_get(r, "c"), &n);
    CHECK(s && n == 2 && !memcmp(s, "xy", 2));
    CHECK_EQ_INT(brine_file_protocol(f), 4);
    CHECK_EQ_INT(brine_file_format(f), BRINE_FORMAT_PICKLE);
    brine_file_free(f);
}

static void structural_faults_name_offsets(void) {
    FAIL("\x80\x04.", BRINE_E_FORMAT, 2, "stack underflow");
    FAIL("K\x01t.", BRINE_E_FORMAT, 2, "could not find MARK");
    FAIL("}(K\x01u.", BRINE_E_FORMAT, 4, "odd number of items for SETITEMS");
    FAIL("}(]K\x01u.", BRINE_E_FORMAT, 5, "unhashable");
    FAIL("h\x05.", BRINE_E_FORMAT, 0, "memo key 5 not found");
    FAIL("N", BRINE_E_FORMAT, 1, "ended before STOP");
    FAIL("\xff", BRINE_E_FORMAT, 0, "invalid opcode 0xff");
    FAIL("(.", BRINE_E_FORMAT, 1, "underflow");
    FAIL("]K\x01K\x02s.", BRINE_E_UNSUPPORTED, 5, "SETITEM on a list");
    FAIL("}K\x01""a.", BRINE_E_UNSUPPORTED, 3, "APPEND on a dict");
    FAIL("\x8f(]\x90.", BRINE_E_FORMAT, 3, "unhashable");
    FAIL("K\x01}b.", BRINE_E_UNSUPPORTED, 3, "BUILD on a int");
    FAIL("B\xff\xff\xff\x7f", BRINE_E_FORMAT, 0, "declares");
    FAIL("\x8e\x00\x00\x00\x00\x00\x01\x00\x00", BRINE_E_FORMAT, 0, "declares");
    FAIL("T\xff\xff\xff\xff", BRINE_E_FORMAT, 0, "negative length");
    FAIL("\x80\x06N.", BRINE_E_UNSUPPORTED, 0, "protocol: 6");
    FAIL("\x8c\x02\xc3(.", BRINE_E_FORMAT, 0, "UTF-8");
}

static void unsupported_opcodes_fail_cleanly(void) {
    FAIL("P1\n.", BRINE_E_UNSUPPORTED, 0, "PERSID");
    FAIL("NQ.", BRINE_E_UNSUPPORTED, 1, "BINPERSID");
    FAIL("\x82\x01.", BRINE_E_UNSUPPORTED, 0, "extension registry");
    FAIL("\x83\x01\x00.", BRINE_E_UNSUPPORTED, 0, "extension registry");
    FAIL("\x84\x01\x00\x00\x00.", BRINE_E_UNSUPPORTED, 0, "extension registry");
    FAIL("\x97.", BRINE_E_UNSUPPORTED, 0, "out-of-band");
    FAIL("C\x01x\x98.", BRINE_E_UNSUPPORTED, 3, "out-of-band");
}

static void globals_are_refused_with_name_and_offset(void) {
    FAIL("\x80\x02" "cos\nsystem\n.", BRINE_E_GLOBAL, 2, "os.system");
    FAIL("\x80\x02" "c__builtin__\neval\n.", BRINE_E_GLOBAL, 2, "builtins.eval");
    /* Protocol 3+ does not rename Python 2 modules, as CPython. */
    FAIL("\x80\x03" "c__builtin__\neval\n.", BRINE_E_GLOBAL, 2, "__builtin__.eval");
    FAIL("\x80\x04\x8c\x05posix\x8c\x06system\x93.", BRINE_E_GLOBAL, 17, "posix.system");
    FAIL("cmymod\nThing\n.", BRINE_E_GLOBAL, 0, "not on brine's allowlist");
    /* A value-only global may not be called. */
    FAIL("cbuiltins\nobject\n)R.", BRINE_E_GLOBAL, 18, "may not be called");
    /* STACK_GLOBAL needs str operands. */
    FAIL("K\x01K\x02\x93.", BRINE_E_FORMAT, 4, "str operands");
}

static void trust_admits_unknown_but_never_dangerous(void) {
    static const char unknown[] = "\x80\x02" "cmymod\nThing\n)\x81}b.";
    const char *trust[] = {"mymod:Thing", "os:system"};
    brine_load_options o = BRINE_LOAD_OPTIONS_INIT;
    o.trust = trust;
    o.n_trust = 2;
    brine_error err;
    brine_file *f = load_opts(unknown, sizeof unknown - 1, &o, &err);
    CHECK(f != NULL);
    if (f) {
        const char *name = NULL;
        CHECK_STR(brine_value_global(brine_file_root(f), &name), "mymod");
        CHECK_STR(name, "Thing");
        CHECK_EQ_INT(brine_value_kind(brine_file_root(f)), BRINE_OBJECT);
    }
    brine_file_free(f);
    static const char danger[] = "\x80\x02" "cos\nsystem\nX\x02\x00\x00\x00id\x85R.";
    f = load_opts(danger, sizeof danger - 1, &o, &err);
    CHECK(f == NULL);
    CHECK_EQ_INT(err.status, BRINE_E_GLOBAL);
    brine_file_free(f);
}

static void every_prefix_of_a_valid_pickle_fails_cleanly(void) {
    static const char p[] =
        "\x80\x04}\x94(\x8c\x01""a\x94]\x94(K\x01G@\x04\x00\x00\x00\x00\x00\x00N"
        "\x88""e\x8c\x01""b\x94K\x01K\x02K\x03\x87\x94\x8c\x01""c\x94""C\x02xy\x94u.";
    for (size_t n = 0; n + 1 < sizeof p - 1; n++) {
        brine_error err;
        brine_file *f = load(p, n, &err);
        CHECK(f == NULL);
        CHECK_EQ_INT(err.status, BRINE_E_FORMAT);
        CHECK(err.offset >= 0 && (size_t)err.offset <= n);
        brine_file_free(f);
    }
}

static char *nested_lists(size_t depth, size_t *len) {
    char *p = malloc(2 * depth + 3);
    size_t o = 0;
    p[o++] = '\x80';
    p[o++] = 4;
    for (size_t k = 0; k < depth; k++) p[o++] = ']';
    for (size_t k = 1; k < depth; k++) p[o++] = 'a';
    p[o++] = '.';
    *len = o;
    return p;
}

static size_t list_depth(const brine_value *v) {
    size_t d = 0;
    while (v && brine_value_kind(v) == BRINE_LIST) {
        d++;
        v = brine_value_item(v, 0);
    }
    return d;
}

static void deep_nesting_loads_and_writes_back(void) {
    size_t len;
    char *p = nested_lists(200000, &len);
    brine_error err;
    brine_file *f = load(p, len, &err);
    CHECK(f != NULL);
    if (f) {
        CHECK_EQ_INT(list_depth(brine_file_root(f)), 200000);
        for (int proto = 2; proto <= 5; proto++) {
            void *out;
            size_t n;
            brine_save_options so = BRINE_SAVE_OPTIONS_INIT;
            so.protocol = proto;
            CHECK(brine_save_memory(&out, &n, brine_file_root(f), &so, &err) == BRINE_OK);
            brine_file *g = load(out, n, &err);
            CHECK(g != NULL);
            if (g) CHECK_EQ_INT(list_depth(brine_file_root(g)), 200000);
            brine_file_free(g);
            brine_free(out);
        }
    }
    brine_file_free(f);
    /* ... and a lower depth limit stops it with BRINE_E_LIMIT. */
    brine_load_options o = BRINE_LOAD_OPTIONS_INIT;
    o.max_depth = 1000;
    f = load_opts(p, len, &o, &err);
    CHECK(f == NULL);
    CHECK_EQ_INT(err.status, BRINE_E_LIMIT);
    brine_file_free(f);
    free(p);
}

static void billion_laughs_stays_a_dag(void) {
    /* l0 = []; l(k+1) = [lk, lk] for 60 levels: 2^60 logical items. */
    char p[2048];
    size_t o = 0;
    p[o++] = ']';
    p[o++] = 'q';
    p[o++] = 0;
    for (int k = 1; k <= 60; k++) {
        p[o++] = ']';
        p[o++] = '(';
        p[o++] = 'h';
        p[o++] = (char)(k - 1);
        p[o++] = 'h';
        p[o++] = (char)(k - 1);
        p[o++] = 'e';
        p[o++] = 'q';
        p[o++] = (char)k;
        p[o++] = '0'; /* POP: keep only the memo reference */
    }
    p[o++] = 'h';
    p[o++] = 60;
    p[o++] = '.';
    brine_error err;
    brine_file *f = load(p, o, &err);
    CHECK(f != NULL);
    if (f) {
        void *out;
        size_t n;
        CHECK(brine_save_memory(&out, &n, brine_file_root(f), NULL, &err) == BRINE_OK);
        CHECK(n < 4096); /* shared nodes are written once and fetched by GET */
        brine_file *g = load(out, n, &err);
        CHECK(g != NULL);
        brine_file_free(g);
        brine_free(out);
    }
    brine_file_free(f);
}

static void memo_is_sparse_and_capped(void) {
    brine_error err;
    brine_file *f = LOAD("Nr\xff\xff\xff\xffj\xff\xff\xff\xff.", &err);
    CHECK(f != NULL);
    brine_file_free(f);
    brine_load_options o = BRINE_LOAD_OPTIONS_INIT;
    o.max_memo_entries = 2;
    static const char three[] = "Nq\x01q\x02q\x03.";
    f = load_opts(three, sizeof three - 1, &o, &err);
    CHECK(f == NULL);
    CHECK_EQ_INT(err.status, BRINE_E_LIMIT);
    CHECK_EQ_INT(err.offset, 5);
    brine_file_free(f);
    /* MEMOIZE writes at index = number of entries, as CPython (C3). */
    f = LOAD("\x80\x04K\x07p5\n\x94K\x08\x94h\x01.", &err);
    CHECK(f != NULL);
    int64_t v = 0;
    if (f) CHECK(brine_value_int64(brine_file_root(f), &v) == BRINE_OK && v == 7);
    brine_file_free(f);
}

static void integers_of_every_form(void) {
    brine_error err;
    char buf[64];
    size_t need;
    brine_file *f = LOAD("\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x40.", &err);
    CHECK(f && brine_value_int_text(brine_file_root(f), buf, sizeof buf, &need) == BRINE_OK);
    CHECK_STR(buf, "1180591620717411303424");
    brine_file_free(f);
    f = LOAD("L-123456789012345678901234567890L\n.", &err);
    CHECK(f && brine_value_int_text(brine_file_root(f), buf, sizeof buf, &need) == BRINE_OK);
    CHECK_STR(buf, "-123456789012345678901234567890");
    brine_file_free(f);
    f = LOAD("I00\n.", &err);
    CHECK(f && brine_value_kind(brine_file_root(f)) == BRINE_BOOL);
    brine_file_free(f);
    f = LOAD("I-42\n.", &err);
    int64_t v = 0;
    CHECK(f && brine_value_int64(brine_file_root(f), &v) == BRINE_OK && v == -42);
    brine_file_free(f);
    f = LOAD("J\xff\xff\xff\xff.", &err);
    CHECK(f && brine_value_int64(brine_file_root(f), &v) == BRINE_OK && v == -1);
    brine_file_free(f);
    char big[5100];
    big[0] = 'I';
    memset(big + 1, '7', 5000);
    big[5001] = '\n';
    big[5002] = '.';
    expect_fail(big, 5003, BRINE_E_LIMIT, 0, "max_long_digits");
    FAIL("Iabc\n.", BRINE_E_FORMAT, 0, "invalid integer");
}

static void text_and_python2_strings(void) {
    brine_error err;
    size_t n;
    brine_file *f = LOAD("Vcaf\\u00e9 \\U0001F600\n.", &err);
    const char *s = f ? brine_value_bytes(brine_file_root(f), &n) : NULL;
    CHECK(s && n == 10 && !memcmp(s, "caf\xc3\xa9 \xf0\x9f\x98\x80", 10));
    brine_file_free(f);
    f = LOAD("S'a\\'b\\x41\\n'\n.", &err);
    s = f ? brine_value_bytes(brine_file_root(f), &n) : NULL;
    CHECK(s && n == 5 && !memcmp(s, "a'bA\n", 5) && brine_value_kind(brine_file_root(f)) == BRINE_STR);
    brine_file_free(f);
    f = LOAD("U\x02\xff\x01.", &err);
    CHECK(f && brine_value_kind(brine_file_root(f)) == BRINE_BYTES);
    brine_file_free(f);
    FAIL("Sabc\n.", BRINE_E_FORMAT, 0, "quoted");
    /* A lone surrogate passes, as Python's surrogatepass. */
    f = LOAD("X\x03\x00\x00\x00\xed\xa0\x80.", &err);
    CHECK(f != NULL);
    brine_file_free(f);
    f = LOAD("F1.5e-3\n.", &err);
    double d = 0;
    CHECK(f && brine_value_double(brine_file_root(f), &d) == BRINE_OK && d == 1.5e-3);
    brine_file_free(f);
    FAIL("F1.5x\n.", BRINE_E_FORMAT, 0, "FLOAT");
}

static void dict_keys_follow_python_equality(void) {
    /* {1: 'a', 1.0: 'b', True: 'c'} is one key in Python, position kept. */
    brine_error err;
    brine_file *f = LOAD("}(K\x01X\x01\x00\x00\x00""aG?\xf0\x00\x00\x00\x00\x00\x00X\x01\x00\x00\x00""b\x88X\x01\x00\x00\x00""cu.", &err);
    CHECK(f != NULL);
    if (f) {
        const brine_value *r = brine_file_root(f);
        CHECK_EQ_INT(brine_value_len(r), 1);
        size_t n;
        const char *s = brine_value_bytes(brine_value_dict_value(r, 0), &n);
        CHECK(s && n == 1 && s[0] == 'c');
    }
    brine_file_free(f);
    /* Many keys go through the hash index; duplicates still collapse. */
    char p[20000];
    size_t o = 0;
    p[o++] = '}';
    p[o++] = '(';
    for (int k = 0; k < 2000; k++) {
        p[o++] = 'M';
        p[o++] = (char)(k % 1000 & 0xff);
        p[o++] = (char)((k % 1000) >> 8);
        p[o++] = 'N';
    }
    p[o++] = 'u';
    p[o++] = '.';
    f = load(p, o, &err);
    CHECK(f && brine_value_len(brine_file_root(f)) == 1000);
    brine_file_free(f);
}

static void protocol_two_bytes_and_sets(void) {
    /* protocol 2 spelling of b'\xf8' and of set([1]) */
    brine_error err;
    size_t n;
    brine_file *f = LOAD("\x80\x02" "c_codecs\nencode\nX\x02\x00\x00\x00\xc3\xb8X\x06\x00\x00\x00latin1\x86R.", &err);
    const char *s = f ? brine_value_bytes(brine_file_root(f), &n) : NULL;
    CHECK(s && n == 1 && (unsigned char)s[0] == 0xf8 && brine_value_kind(brine_file_root(f)) == BRINE_BYTES);
    brine_file_free(f);
    f = LOAD("\x80\x02" "c__builtin__\nset\n]K\x01" "a\x85R.", &err);
    CHECK(f && brine_value_kind(brine_file_root(f)) == BRINE_SET && brine_value_len(brine_file_root(f)) == 1);
    brine_file_free(f);
    f = LOAD("\x80\x02" "c__builtin__\nslice\nK\x01K\x05N\x87R.", &err);
    CHECK(f && brine_value_kind(brine_file_root(f)) == BRINE_SLICE);
    brine_file_free(f);
}

int main(void) {
    RUN(opcode_table_has_all_68);
    RUN(allowlist_tables_are_sorted);
    RUN(basic_values);
    RUN(structural_faults_name_offsets);
    RUN(unsupported_opcodes_fail_cleanly);
    RUN(globals_are_refused_with_name_and_offset);
    RUN(trust_admits_unknown_but_never_dangerous);
    RUN(every_prefix_of_a_valid_pickle_fails_cleanly);
    RUN(deep_nesting_loads_and_writes_back);
    RUN(billion_laughs_stays_a_dag);
    RUN(memo_is_sparse_and_capped);
    RUN(integers_of_every_form);
    RUN(text_and_python2_strings);
    RUN(dict_keys_follow_python_equality);
    RUN(protocol_two_bytes_and_sets);
    TEST_MAIN_END();
}
