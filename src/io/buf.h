/* buf.h — a growable byte buffer, the one output sink of every writer.
 * Allocation failure is sticky: writes after it are dropped and bi_buf_ok()
 * reports it once at the end, so writers need not check every call. */
#ifndef BRINE_IO_BUF_H
#define BRINE_IO_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct bi_buf {
    uint8_t *data;
    size_t len, cap;
    int failed; /* an allocation failed; contents are incomplete */
} bi_buf;

#define BI_BUF_INIT {NULL, 0, 0, 0}

void bi_buf_free(bi_buf *b);
/* Ensures room for n more bytes; returns 0 on failure (and sets failed). */
int bi_buf_reserve(bi_buf *b, size_t n);
void bi_buf_put(bi_buf *b, const void *p, size_t n);
void bi_buf_byte(bi_buf *b, uint8_t c);
void bi_buf_u16le(bi_buf *b, uint16_t v);
void bi_buf_u32le(bi_buf *b, uint32_t v);
void bi_buf_u64le(bi_buf *b, uint64_t v);
void bi_buf_fill(bi_buf *b, uint8_t c, size_t n);
static inline int bi_buf_ok(const bi_buf *b) { return !b->failed; }
/* Hands the bytes to the caller (malloc'd) and resets b. */
uint8_t *bi_buf_take(bi_buf *b, size_t *len);

#endif
