/* fuzz_decompress.c — every joblib decompressor behind bi_decompress.
 *
 * Byte 0 selects: bits 0-2 the method (0 none, 1 zlib, 2 gzip, 3 bz2, 4 xz,
 * 5 lzma, 6 lz4, 7 legacy ZF container); bit 3 also re-compresses what
 * decoded and checks that it decodes back (the encoder side, cheaply: only
 * small outputs, level 1).  The rest is the compressed payload.
 *
 * bi_decompress appends, so the output buffer starts with a sentinel that
 * must survive success and failure alike, and a failure must leave the
 * buffer at exactly the sentinel. */
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "io/buf.h"
#include "io/compress.h"

#define TARGET "fuzz_decompress"
#define CAP ((uint64_t)16 << 20)
#define RECOMPRESS_MAX ((size_t)256 << 10)

static const char sentinel[4] = {'B', 'R', 'N', 0};

static void check_sentinel(const bi_buf *b) {
    if (b->len < sizeof sentinel || memcmp(b->data, sentinel, sizeof sentinel))
        fz_die(TARGET, "bi_decompress damaged bytes already in the buffer", NULL);
}

/* Compress the decoded bytes again and decode them: must give them back. */
static void recompress(brine_compression c, const uint8_t *plain, size_t n) {
    bi_buf packed = BI_BUF_INIT, back = BI_BUF_INIT;
    brine_error err;
    brine_error_clear(&err);
    brine_status st = bi_compress(c, 1, plain, n, &packed, &err);
    fz_check_error(TARGET, st, &err, -1);
    if (st && st != BRINE_E_NOMEM) fz_die(TARGET, "bi_compress failed", &err);
    if (!st) {
        st = bi_decompress(c, 0, packed.data, packed.len, CAP, &back, &err);
        if (st && st != BRINE_E_NOMEM) fz_die(TARGET, "own compressed output does not decompress", &err);
        if (!st && (back.len != n || (n && memcmp(back.data, plain, n))))
            fz_die(TARGET, "compress -> decompress changed the bytes", NULL);
    }
    bi_buf_free(&packed);
    bi_buf_free(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    unsigned sel = data[0] & 7u;
    int legacy = sel == 7;
    brine_compression c = legacy ? BRINE_COMPRESSION_ZLIB : (brine_compression)sel;
    const uint8_t *in = data + 1;
    size_t n = size - 1;

    bi_buf out = BI_BUF_INIT;
    bi_buf_put(&out, sentinel, sizeof sentinel);
    if (!bi_buf_ok(&out)) return 0;
    brine_error err;
    brine_error_clear(&err);
    brine_status st = bi_decompress(c, legacy, in, n, CAP, &out, &err);
    fz_check_error(TARGET, st, &err, (int64_t)n);
    check_sentinel(&out);
    if (st && out.len != sizeof sentinel) fz_die(TARGET, "failed call left output behind", &err);
    size_t produced = out.len - sizeof sentinel;
    if (produced > CAP) fz_die(TARGET, "output above the cap", NULL);
    if (!st && (data[0] & 8u) && c != BRINE_COMPRESSION_NONE && produced <= RECOMPRESS_MAX)
        recompress(c, out.data + sizeof sentinel, produced);
    bi_buf_free(&out);
    return 0;
}
