#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void brine_error_clear(brine_error *err) {
    if (!err) return;
    err->status = BRINE_OK;
    err->offset = -1;
    err->where[0] = '\0';
    err->message[0] = '\0';
}

brine_status bi_fail(brine_error *err, brine_status status, int64_t offset,
                     const char *fmt, ...) {
    if (!err) return status;
    /* The innermost fault is already recorded: report its status so the
     * returned code and err always agree. */
    if (err->status != BRINE_OK) return err->status;
    err->status = status;
    err->offset = offset;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return status;
}

void bi_error_where(brine_error *err, const char *fmt, ...) {
    if (!err || err->where[0]) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->where, sizeof err->where, fmt, ap);
    va_end(ap);
}

static const char *const status_names[BRINE_STATUS_COUNT_] = {
    "BRINE_OK",          "BRINE_E_IO",    "BRINE_E_FORMAT", "BRINE_E_UNSUPPORTED",
    "BRINE_E_GLOBAL",    "BRINE_E_LIMIT", "BRINE_E_NOMEM",  "BRINE_E_ARGUMENT",
    "BRINE_E_TYPE",
};

const char *brine_status_name(brine_status status) {
    if ((unsigned)status >= BRINE_STATUS_COUNT_) return "BRINE_E_UNKNOWN";
    return status_names[status];
}

/* The one table from statuses to the exit codes of CONVENTIONS.md. */
int brine_status_exit_code(brine_status status) {
    switch (status) {
    case BRINE_OK: return 0;
    case BRINE_E_ARGUMENT: return 64;
    default: return 2;
    }
}
