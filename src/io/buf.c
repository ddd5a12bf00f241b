#include "buf.h"

#include <stdlib.h>
#include <string.h>

void bi_buf_free(bi_buf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

int bi_buf_reserve(bi_buf *b, size_t n) {
    if (b->failed) return 0;
    if (n <= b->cap - b->len) return 1;
    size_t need;
    if (__builtin_add_overflow(b->len, n, &need)) goto fail;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) {
        if (__builtin_mul_overflow(cap, 2, &cap)) goto fail;
    }
    uint8_t *p = realloc(b->data, cap);
    if (!p) goto fail;
    b->data = p;
    b->cap = cap;
    return 1;
fail:
    b->failed = 1;
    return 0;
}

void bi_buf_put(bi_buf *b, const void *p, size_t n) {
    if (!n || !bi_buf_reserve(b, n)) return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void bi_buf_byte(bi_buf *b, uint8_t c) {
    if (!bi_buf_reserve(b, 1)) return;
    b->data[b->len++] = c;
}

static void put_le(bi_buf *b, uint64_t v, int n) {
    if (!bi_buf_reserve(b, (size_t)n)) return;
    for (int i = 0; i < n; i++) b->data[b->len++] = (uint8_t)(v >> (8 * i));
}

void bi_buf_u16le(bi_buf *b, uint16_t v) { put_le(b, v, 2); }
void bi_buf_u32le(bi_buf *b, uint32_t v) { put_le(b, v, 4); }
void bi_buf_u64le(bi_buf *b, uint64_t v) { put_le(b, v, 8); }

void bi_buf_fill(bi_buf *b, uint8_t c, size_t n) {
    if (!n || !bi_buf_reserve(b, n)) return;
    memset(b->data + b->len, c, n);
    b->len += n;
}

uint8_t *bi_buf_take(bi_buf *b, size_t *len) {
    uint8_t *p = b->data;
    *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}
