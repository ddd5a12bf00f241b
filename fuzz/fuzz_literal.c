/* fuzz_literal.c — the Python literal parser, with and without bare words.
 * Errors must point inside the text; a depth bound well above what .npy
 * headers need keeps deep nesting within reach of the fuzzer. */
#include <stdint.h>

#include "fuzz_util.h"
#include "pickle/literal.h"
#include "pickle/value.h"

#define TARGET "fuzz_literal"

static void parse_once(const uint8_t *data, size_t size, unsigned flags) {
    bp_arena a;
    bp_arena_init(&a, (uint64_t)64 << 20);
    bv *out = NULL;
    brine_error err;
    brine_error_clear(&err);
    brine_status st = bp_literal_parse(&a, (const char *)data, size, flags, 256, &out, &err);
    fz_check_error(TARGET, st, &err, (int64_t)size);
    if (st == BRINE_OK && !out) fz_die(TARGET, "success without a value", NULL);
    bp_arena_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    parse_once(data, size, 0);
    parse_once(data, size, BP_LIT_BARE_WORDS);
    return 0;
}
