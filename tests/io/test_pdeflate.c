/* test_pdeflate.c — zlib and gzip streams of large inputs, deflated in
 * chunks on several threads (compress.c): one standard stream that zlib's
 * own inflate and brine's reader take back byte for byte, with checksums
 * zlib agrees with, at most 1% larger than zlib's single stream. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "harness.h"
#include "io/buf.h"
#include "io/compress.h"

/* Model-like bytes: runs of float64 values from a few distributions, int64
 * indices that grow, and noise, from a fixed LCG. */
static uint8_t *make_payload(size_t n, uint32_t seed) {
    uint8_t *p = malloc(n);
    uint32_t s = seed;
    for (size_t i = 0; i + 8 <= n; i += 8) {
        s = s * 1103515245u + 12345u;
        double d = (double)((s >> 16) % 64) / 8.0;
        int64_t k = (int64_t)(i / 64);
        if ((s >> 8) % 3 == 0) memcpy(p + i, &d, 8);
        else if ((s >> 8) % 3 == 1) memcpy(p + i, &k, 8);
        else for (int b = 0; b < 8; b++) p[i + (size_t)b] = (uint8_t)((s >> (b * 3)) & ((s >> 29) ? 0xff : 0x3));
    }
    for (size_t i = n - n % 8; i < n; i++) p[i] = (uint8_t)i;
    return p;
}

/* zlib's own inflate of one zlib (or gzip) stream. */
static int inflate_all(const uint8_t *in, size_t n, uint8_t *out, size_t cap, size_t *got, int gzip) {
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, gzip ? MAX_WBITS + 16 : MAX_WBITS) != Z_OK) return 0;
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)n;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    int rc = inflate(&zs, Z_FINISH);
    *got = cap - zs.avail_out;
    int ok = rc == Z_STREAM_END && zs.avail_in == 0;
    inflateEnd(&zs);
    return ok;
}

static void round_trip(brine_compression c, int level, size_t n) {
    uint8_t *in = make_payload(n, (uint32_t)(n + (size_t)level));
    bi_buf z = BI_BUF_INIT, back = BI_BUF_INIT;
    brine_error err;
    brine_error_clear(&err);
    CHECK_EQ_INT(bi_compress(c, level, in, n, &z, &err), BRINE_OK);
    int gzip = c == BRINE_COMPRESSION_GZIP;
    uint8_t *out = malloc(n + 1);
    size_t got = 0;
    CHECK(inflate_all(z.data, z.len, out, n + 1, &got, gzip));
    CHECK_EQ_INT(got, n);
    CHECK(got == n && !memcmp(out, in, n));
    CHECK_EQ_INT(bi_decompress(c, 0, z.data, z.len, UINT64_MAX, &back, &err), BRINE_OK);
    CHECK(back.len == n && !memcmp(back.data, in, n));
    if (!gzip) { /* the header zlib writes for this level */
        CHECK_EQ_INT(z.data[0], 0x78);
        CHECK_EQ_INT((z.data[0] * 256 + z.data[1]) % 31, 0);
        CHECK_EQ_INT(z.data[1] >> 6, level < 2 ? 0 : level < 6 ? 1 : level == 6 ? 2 : 3);
    }
    /* Against one zlib stream of the same level: at most 1% larger. */
    uLongf one = compressBound((uLong)n);
    uint8_t *single = malloc(one);
    CHECK_EQ_INT(compress2(single, &one, in, (uLong)n, level), Z_OK);
    if ((double)z.len > (double)one * 1.01) fprintf(stderr, "  %zu bytes vs zlib's %lu\n", z.len, (unsigned long)one);
    CHECK((double)z.len <= (double)one * 1.01);
    free(single);
    free(out);
    free(in);
    bi_buf_free(&z);
    bi_buf_free(&back);
}

static void zlib_large_inputs_round_trip(void) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus < 2) fprintf(stderr, "  note: one CPU, so the single-stream path ran\n");
    round_trip(BRINE_COMPRESSION_ZLIB, 3, ((size_t)6 << 20) + 12345);
    round_trip(BRINE_COMPRESSION_ZLIB, 7, (size_t)4 << 20); /* exactly the threshold */
}

static void gzip_large_inputs_round_trip(void) {
    round_trip(BRINE_COMPRESSION_GZIP, 1, ((size_t)4 << 20) + 7);
}

int main(void) {
    RUN(zlib_large_inputs_round_trip);
    RUN(gzip_large_inputs_round_trip);
    TEST_MAIN_END();
}
