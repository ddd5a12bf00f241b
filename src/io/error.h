/* error.h — filling the caller's brine_error, shared by every layer. */
#ifndef BRINE_IO_ERROR_H
#define BRINE_IO_ERROR_H

#include "brine.h"

#if defined(__GNUC__)
#define BI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define BI_PRINTF(a, b)
#endif

/* Records status, offset (-1 if none) and a formatted message in err (which
 * may be NULL) and returns status, so callers can write
 * `return bi_fail(err, BRINE_E_FORMAT, off, "...")`.  An error already
 * recorded is kept (the innermost fault wins) and its status returned. */
brine_status bi_fail(brine_error *err, brine_status status, int64_t offset,
                     const char *fmt, ...) BI_PRINTF(4, 5);

/* Sets err->where when it is still empty (the innermost container wins). */
void bi_error_where(brine_error *err, const char *fmt, ...) BI_PRINTF(2, 3);

#endif
