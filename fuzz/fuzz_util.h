/* fuzz_util.h — small checks shared by the fuzz targets.  A broken
 * invariant calls fz_die, which prints the reason and aborts, so both
 * libFuzzer and the replay driver report the input as a failure. */
#ifndef BRINE_FUZZ_UTIL_H
#define BRINE_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "brine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline void fz_die(const char *target, const char *what, const brine_error *err) {
    fprintf(stderr, "%s: invariant broken: %s", target, what);
    if (err)
        fprintf(stderr, " [%s at %lld%s%s: %s]", brine_status_name(err->status), (long long)err->offset,
                err->where[0] ? " in " : "", err->where, err->message);
    fputc('\n', stderr);
    abort();
}

/* The error contract of brine.h: a failing call fills err with its own
 * status and a one-sentence message.  The offset, when given, lies within
 * the input (or the decompressed stream, which may be larger: limit given). */
static inline void fz_check_error(const char *target, brine_status st, const brine_error *err, int64_t max_offset) {
    if (st == BRINE_OK) return;
    if ((unsigned)st >= BRINE_STATUS_COUNT_) fz_die(target, "status outside the enum", err);
    if (err->status != st) fz_die(target, "err->status differs from the returned status", err);
    if (!err->message[0]) fz_die(target, "failure without a message", err);
    if (err->offset < -1 || (max_offset >= 0 && err->offset > max_offset))
        fz_die(target, "error offset outside the input", err);
}

#endif
