/* test_compress.c — detection, round trips, hostile streams and interop with
 * Python's own compressors (via /usr/bin/python3 and joblib). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "harness.h"
#include "io/buf.h"
#include "io/compress.h"

#define PYTHON "/usr/bin/python3"

static const brine_compression methods[] = {
    BRINE_COMPRESSION_ZLIB, BRINE_COMPRESSION_GZIP, BRINE_COMPRESSION_BZ2,
    BRINE_COMPRESSION_XZ,   BRINE_COMPRESSION_LZMA, BRINE_COMPRESSION_LZ4,
};
#define N_METHODS (sizeof methods / sizeof methods[0])

static const char *const names[] = {"none", "zlib", "gzip", "bz2", "xz", "lzma", "lz4"};

/* Compressible but not trivial: words from a small vocabulary mixed with
 * noise, from a fixed LCG so every run sees the same bytes. */
static uint8_t *make_payload(size_t n, uint32_t seed) {
    static const char *const words[] = {"estimator ", "coef_ ", "intercept_ ", "n_features_in_ ",
                                        "numpy ", "float64 ", "sklearn.linear_model "};
    uint8_t *p = malloc(n ? n : 1);
    uint32_t s = seed;
    size_t i = 0;
    while (i < n) {
        s = s * 1103515245u + 12345u;
        if ((s >> 16) % 4 == 0) {
            p[i++] = (uint8_t)(s >> 24);
            continue;
        }
        const char *w = words[(s >> 16) % 7];
        for (; *w && i < n; w++) p[i++] = (uint8_t)*w;
    }
    return p;
}

static brine_status compress_to(brine_compression c, int level, const uint8_t *in, size_t n,
                                bi_buf *out) {
    brine_error err;
    brine_error_clear(&err);
    return bi_compress(c, level, in, n, out, &err);
}

static brine_status decompress_to(brine_compression c, const uint8_t *in, size_t n,
                                  uint64_t max_out, bi_buf *out, brine_error *err) {
    brine_error_clear(err);
    return bi_decompress(c, 0, in, n, max_out, out, err);
}

/* Compresses, checks the magic is detected, decompresses under an exact
 * limit and under one byte less. */
static void roundtrip(brine_compression c, int level, const uint8_t *data, size_t n) {
    bi_buf z = BI_BUF_INIT, back = BI_BUF_INIT;
    brine_error err;
    CHECK_EQ_INT(compress_to(c, level, data, n, &z), BRINE_OK);
    int zf = 7;
    CHECK_EQ_INT(bi_detect_compression(z.data, z.len, &zf), c);
    CHECK_EQ_INT(zf, 0);
    CHECK_EQ_INT(decompress_to(c, z.data, z.len, n, &back, &err), BRINE_OK);
    CHECK_EQ_INT(back.len, n);
    CHECK(back.len == n && (n == 0 || memcmp(back.data, data, n) == 0));
    if (n > 0) {
        bi_buf small = BI_BUF_INIT;
        CHECK_EQ_INT(decompress_to(c, z.data, z.len, n - 1, &small, &err), BRINE_E_LIMIT);
        CHECK_EQ_INT(small.len, 0);
        bi_buf_free(&small);
    }
    bi_buf_free(&z);
    bi_buf_free(&back);
}

static void levels_of(brine_compression c, int *lv, int *count) {
    static const int zl[] = {-1, 0, 1, 3, 6, 9}, bz[] = {-1, 1, 5, 9}, xz[] = {-1, 0, 1, 3},
                     l4[] = {-1, 0, 1, 3, 9, 12, 16};
    const int *src = c == BRINE_COMPRESSION_BZ2 ? bz
                     : (c == BRINE_COMPRESSION_XZ || c == BRINE_COMPRESSION_LZMA) ? xz
                     : c == BRINE_COMPRESSION_LZ4 ? l4
                                                  : zl;
    *count = src == bz ? 4 : src == xz ? 4 : src == l4 ? 7 : 6;
    memcpy(lv, src, sizeof(int) * (size_t)*count);
}

static void test_roundtrip_levels(void) {
    uint8_t *p = make_payload(100000, 1);
    for (size_t m = 0; m < N_METHODS; m++) {
        int lv[8], count;
        levels_of(methods[m], lv, &count);
        for (int i = 0; i < count; i++) {
            roundtrip(methods[m], lv[i], p, 0);
            roundtrip(methods[m], lv[i], p, 1);
            roundtrip(methods[m], lv[i], p, 100000);
        }
    }
    free(p);
}

/* Larger than every internal slice and growth step; the slow LZMA presets
 * are covered by the smaller round trips. */
static void test_roundtrip_large(void) {
    size_t n = (4u << 20) + 12345;
    uint8_t *p = make_payload(n, 2);
    for (size_t m = 0; m < N_METHODS; m++) {
        int lzma = methods[m] == BRINE_COMPRESSION_XZ || methods[m] == BRINE_COMPRESSION_LZMA;
        roundtrip(methods[m], lzma ? 1 : -1, p, n);
    }
    free(p);
}

static void test_default_level(void) {
    CHECK_EQ_INT(bi_default_level(BRINE_COMPRESSION_ZLIB), 3);
    CHECK_EQ_INT(bi_default_level(BRINE_COMPRESSION_GZIP), 3);
    CHECK_EQ_INT(bi_default_level(BRINE_COMPRESSION_BZ2), 9);
    CHECK_EQ_INT(bi_default_level(BRINE_COMPRESSION_XZ), 6);
    CHECK_EQ_INT(bi_default_level(BRINE_COMPRESSION_LZMA), 6);
    CHECK_EQ_INT(bi_default_level(BRINE_COMPRESSION_LZ4), 0);
    uint8_t *p = make_payload(50000, 3);
    for (size_t m = 0; m < N_METHODS; m++) {
        bi_buf a = BI_BUF_INIT, b = BI_BUF_INIT;
        CHECK_EQ_INT(compress_to(methods[m], -1, p, 50000, &a), BRINE_OK);
        CHECK_EQ_INT(compress_to(methods[m], bi_default_level(methods[m]), p, 50000, &b), BRINE_OK);
        CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
        bi_buf_free(&a);
        bi_buf_free(&b);
    }
    free(p);
}

static void test_gzip_header(void) {
    bi_buf z = BI_BUF_INIT;
    CHECK_EQ_INT(compress_to(BRINE_COMPRESSION_GZIP, 3, (const uint8_t *)"abc", 3, &z), BRINE_OK);
    CHECK(z.len > 10);
    /* mtime 0, OS 3 (Unix): the bytes never depend on when they were made. */
    CHECK(z.len > 10 && memcmp(z.data + 4, "\0\0\0\0", 4) == 0);
    CHECK(z.len > 10 && z.data[9] == 3);
    bi_buf_free(&z);
}

static void test_detect(void) {
    int zf = 5;
    CHECK_EQ_INT(bi_detect_compression((const uint8_t *)"ZF0x10   ", 9, &zf), BRINE_COMPRESSION_ZLIB);
    CHECK_EQ_INT(zf, 1);
    CHECK_EQ_INT(bi_detect_compression((const uint8_t *)"\x78\x9c", 2, &zf), BRINE_COMPRESSION_ZLIB);
    CHECK_EQ_INT(zf, 0);
    CHECK_EQ_INT(bi_detect_compression((const uint8_t *)"\x1f\x8b\x08", 3, &zf), BRINE_COMPRESSION_GZIP);
    CHECK_EQ_INT(bi_detect_compression((const uint8_t *)"BZh9", 4, &zf), BRINE_COMPRESSION_BZ2);
    CHECK_EQ_INT(bi_detect_compression((const uint8_t *)"\xfd\x37\x7a\x58\x5a\0", 6, &zf), BRINE_COMPRESSION_XZ);
    CHECK_EQ_INT(bi_detect_compression((const uint8_t *)"\x5d\0\0\x80", 4, &zf), BRINE_COMPRESSION_LZMA);
    CHECK_EQ_INT(bi_detect_compression((const uint8_t *)"\x04\x22\x4d\x18", 4, &zf), BRINE_COMPRESSION_LZ4);
    CHECK_EQ_INT(bi_detect_compression((const uint8_t *)"\x80\x04\x95", 3, &zf), BRINE_COMPRESSION_NONE);
    CHECK_EQ_INT(zf, 0);
    /* Prefixes cut short are not matches. */
    CHECK_EQ_INT(bi_detect_compression((const uint8_t *)"\x1f", 1, &zf), BRINE_COMPRESSION_NONE);
    CHECK_EQ_INT(bi_detect_compression((const uint8_t *)"\xfd\x37\x7a\x58", 4, &zf), BRINE_COMPRESSION_NONE);
    CHECK_EQ_INT(bi_detect_compression((const uint8_t *)"\x04\x22\x4d", 3, &zf), BRINE_COMPRESSION_NONE);
    CHECK_EQ_INT(bi_detect_compression((const uint8_t *)"Z", 1, &zf), BRINE_COMPRESSION_NONE);
    CHECK_EQ_INT(bi_detect_compression(NULL, 0, &zf), BRINE_COMPRESSION_NONE);
    CHECK_EQ_INT(bi_detect_compression((const uint8_t *)"BZ", 2, NULL), BRINE_COMPRESSION_BZ2);
}

/* "ZF" + '{:#x}'.format(len).ljust(19) [+ ' '] + zlib.compress(data). */
static void make_zf(bi_buf *out, const uint8_t *data, size_t n, uint64_t claimed, int extra_space) {
    char head[32];
    snprintf(head, sizeof head, "ZF%-19s", "");
    char hex[24];
    snprintf(hex, sizeof hex, "0x%llx", (unsigned long long)claimed);
    memcpy(head + 2, hex, strlen(hex));
    bi_buf_put(out, head, 21);
    if (extra_space) bi_buf_byte(out, ' ');
    uLongf zn = compressBound((uLong)n);
    bi_buf_reserve(out, zn);
    compress2(out->data + out->len, &zn, data, (uLong)n, 1);
    out->len += zn;
}

static brine_status zf_decode(const bi_buf *zf, uint64_t max_out, bi_buf *out, brine_error *err) {
    brine_error_clear(err);
    return bi_decompress(BRINE_COMPRESSION_ZLIB, 1, zf->data, zf->len, max_out, out, err);
}

static void test_legacy_zf(void) {
    uint8_t *p = make_payload(0x337, 4);
    brine_error err;
    for (int extra = 0; extra < 2; extra++) {
        bi_buf zf = BI_BUF_INIT, out = BI_BUF_INIT;
        make_zf(&zf, p, 0x337, 0x337, extra);
        CHECK(memcmp(zf.data, "ZF0x337", 7) == 0);
        int legacy = 0;
        CHECK_EQ_INT(bi_detect_compression(zf.data, zf.len, &legacy), BRINE_COMPRESSION_ZLIB);
        CHECK_EQ_INT(legacy, 1);
        CHECK_EQ_INT(zf_decode(&zf, 1 << 20, &out, &err), BRINE_OK);
        CHECK(out.len == 0x337 && memcmp(out.data, p, 0x337) == 0);
        bi_buf_free(&out);
        /* Trailing bytes are refused like after any other stream. */
        bi_buf_put(&zf, "xyz", 3);
        CHECK_EQ_INT(zf_decode(&zf, 1 << 20, &out, &err), BRINE_E_FORMAT);
        CHECK(strstr(err.message, "trailing data") != NULL);
        bi_buf_free(&zf);
        bi_buf_free(&out);
    }
    /* Header length disagreeing with the payload. */
    bi_buf zf = BI_BUF_INIT, out = BI_BUF_INIT;
    make_zf(&zf, p, 0x337, 0x336, 0);
    CHECK_EQ_INT(zf_decode(&zf, 1 << 20, &out, &err), BRINE_E_FORMAT);
    CHECK(strstr(err.message, "header says") != NULL);
    bi_buf_free(&zf);
    /* A header announcing more than the limit. */
    make_zf(&zf, p, 0x337, 0x337, 0);
    CHECK_EQ_INT(zf_decode(&zf, 0x336, &out, &err), BRINE_E_LIMIT);
    /* A header that is not a hex number. */
    memcpy(zf.data + 2, "0xZZ", 4);
    CHECK_EQ_INT(zf_decode(&zf, 1 << 20, &out, &err), BRINE_E_FORMAT);
    memcpy(zf.data + 2, "0x  ", 4);
    CHECK_EQ_INT(zf_decode(&zf, 1 << 20, &out, &err), BRINE_E_FORMAT);
    /* Cut inside the header, and inside the zlib stream. */
    for (size_t cut = 0; cut < zf.len; cut += cut < 30 ? 1 : 97) {
        brine_error_clear(&err);
        CHECK_EQ_INT(bi_decompress(BRINE_COMPRESSION_ZLIB, 1, zf.data, cut, 1 << 20, &out, &err),
                     BRINE_E_FORMAT);
    }
    CHECK_EQ_INT(out.len, 0);
    bi_buf_free(&zf);
    bi_buf_free(&out);
    free(p);
}

/* Two members of a method, optionally with bytes between and after. */
static void check_concat(brine_compression c, const char *pad, size_t pad_len, brine_status want) {
    uint8_t *a = make_payload(20000, 5), *b = make_payload(30000, 6);
    bi_buf z = BI_BUF_INIT, out = BI_BUF_INIT;
    brine_error err;
    compress_to(c, -1, a, 20000, &z);
    bi_buf_put(&z, pad, pad_len);
    compress_to(c, -1, b, 30000, &z);
    bi_buf_put(&z, pad, pad_len);
    CHECK_EQ_INT(decompress_to(c, z.data, z.len, 1 << 20, &out, &err), want);
    if (want == BRINE_OK) {
        CHECK(out.len == 50000 && memcmp(out.data, a, 20000) == 0 &&
              memcmp(out.data + 20000, b, 30000) == 0);
    }
    bi_buf_free(&z);
    bi_buf_free(&out);
    free(a);
    free(b);
}

static void test_concatenated(void) {
    check_concat(BRINE_COMPRESSION_GZIP, "", 0, BRINE_OK);
    check_concat(BRINE_COMPRESSION_BZ2, "", 0, BRINE_OK);
    check_concat(BRINE_COMPRESSION_XZ, "", 0, BRINE_OK);
    check_concat(BRINE_COMPRESSION_LZMA, "", 0, BRINE_OK);
    check_concat(BRINE_COMPRESSION_LZ4, "", 0, BRINE_OK);
    /* Python's gzip reader skips zero padding; .xz allows it in fours. */
    check_concat(BRINE_COMPRESSION_GZIP, "\0\0\0", 3, BRINE_OK);
    check_concat(BRINE_COMPRESSION_XZ, "\0\0\0\0\0\0\0\0", 8, BRINE_OK);
    check_concat(BRINE_COMPRESSION_XZ, "\0\0\0", 3, BRINE_E_FORMAT);
    /* joblib's zlib reader restarts after each stream. */
    check_concat(BRINE_COMPRESSION_ZLIB, "", 0, BRINE_OK); /* joblib restarts its decompressor (D7) */
    check_concat(BRINE_COMPRESSION_BZ2, "\0", 1, BRINE_E_FORMAT);
    check_concat(BRINE_COMPRESSION_LZ4, "\0\0\0\0", 4, BRINE_E_FORMAT);
}

static void test_lz4_skippable_frame(void) {
    bi_buf z = BI_BUF_INIT, out = BI_BUF_INIT;
    brine_error err;
    compress_to(BRINE_COMPRESSION_LZ4, 0, (const uint8_t *)"hello", 5, &z);
    /* Magic 0x184D2A53, 4-byte size 3, 3 bytes of user data. */
    bi_buf_put(&z, "\x53\x2a\x4d\x18\x03\0\0\0abc", 11);
    compress_to(BRINE_COMPRESSION_LZ4, 0, (const uint8_t *)" world", 6, &z);
    CHECK_EQ_INT(decompress_to(BRINE_COMPRESSION_LZ4, z.data, z.len, 100, &out, &err), BRINE_OK);
    CHECK(out.len == 11 && memcmp(out.data, "hello world", 11) == 0);
    /* A skippable frame may also end the stream, but not be cut short. */
    bi_buf_put(&z, "\x5f\x2a\x4d\x18\x02\0\0\0xy", 10);
    out.len = 0;
    CHECK_EQ_INT(decompress_to(BRINE_COMPRESSION_LZ4, z.data, z.len, 100, &out, &err), BRINE_OK);
    CHECK_EQ_INT(out.len, 11);
    out.len = 0;
    CHECK_EQ_INT(decompress_to(BRINE_COMPRESSION_LZ4, z.data, z.len - 1, 100, &out, &err),
                 BRINE_E_FORMAT);
    bi_buf_free(&z);
    bi_buf_free(&out);
}

/* .lzma files from other writers may record the uncompressed size instead
 * of 0xff..ff; liblzma then also accepts the end marker after it. */
static void test_lzma_known_size(void) {
    uint8_t *p = make_payload(5000, 14);
    bi_buf z = BI_BUF_INIT, out = BI_BUF_INIT;
    brine_error err;
    compress_to(BRINE_COMPRESSION_LZMA, 6, p, 5000, &z);
    CHECK(z.len > 13 && memcmp(z.data + 5, "\xff\xff\xff\xff\xff\xff\xff\xff", 8) == 0);
    memcpy(z.data + 5, "\x88\x13\0\0\0\0\0\0", 8); /* 5000 */
    CHECK_EQ_INT(decompress_to(BRINE_COMPRESSION_LZMA, z.data, z.len, 5000, &out, &err), BRINE_OK);
    CHECK(out.len == 5000 && memcmp(out.data, p, 5000) == 0);
    /* A recorded size shorter than the data leaves the rest as trailing. */
    memcpy(z.data + 5, "\x10\0\0\0\0\0\0\0", 8);
    out.len = 0;
    CHECK_EQ_INT(decompress_to(BRINE_COMPRESSION_LZMA, z.data, z.len, 5000, &out, &err),
                 BRINE_E_FORMAT);
    /* A header asking for a 4 GiB dictionary under a small output limit. */
    memcpy(z.data + 1, "\xff\xff\xff\xff", 4);
    out.len = 0;
    CHECK_EQ_INT(decompress_to(BRINE_COMPRESSION_LZMA, z.data, z.len, 5000, &out, &err),
                 BRINE_E_LIMIT);
    CHECK(strstr(err.message, "decoder memory") != NULL);
    bi_buf_free(&z);
    bi_buf_free(&out);
    free(p);
}

/* xz -9 streams need a 64 MiB dictionary even for tiny payloads. */
static void test_xz_preset9_small_limit(void) {
    bi_buf z = BI_BUF_INIT, out = BI_BUF_INIT;
    brine_error err;
    CHECK_EQ_INT(compress_to(BRINE_COMPRESSION_XZ, 9, (const uint8_t *)"tiny", 4, &z), BRINE_OK);
    CHECK_EQ_INT(decompress_to(BRINE_COMPRESSION_XZ, z.data, z.len, 4, &out, &err), BRINE_OK);
    CHECK(out.len == 4 && memcmp(out.data, "tiny", 4) == 0);
    bi_buf_free(&z);
    bi_buf_free(&out);
}

static void test_truncated(void) {
    uint8_t *p = make_payload(200000, 7);
    for (size_t m = 0; m < N_METHODS; m++) {
        bi_buf z = BI_BUF_INIT, out = BI_BUF_INIT;
        brine_error err;
        compress_to(methods[m], -1, p, 200000, &z);
        size_t cuts[] = {0, 1, 2, 3, 5, 8, 13, 20, z.len / 3, z.len / 2, z.len - 9, z.len - 5,
                         z.len - 4, z.len - 2, z.len - 1};
        for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
            brine_status st = decompress_to(methods[m], z.data, cuts[i], 1 << 20, &out, &err);
            if (st != BRINE_E_FORMAT)
                fprintf(stderr, "%s cut at %zu of %zu: %s\n", names[methods[m]], cuts[i], z.len,
                        err.message);
            CHECK_EQ_INT(st, BRINE_E_FORMAT);
            CHECK(err.offset >= 0 && (size_t)err.offset <= cuts[i]);
            CHECK_EQ_INT(out.len, 0);
        }
        /* A cut at the end of the data names the end of input. */
        decompress_to(methods[m], z.data, z.len / 2, 1 << 20, &out, &err);
        CHECK(strstr(err.message, "truncated") != NULL);
        CHECK(strstr(err.message, names[methods[m]]) != NULL);
        bi_buf_free(&z);
        bi_buf_free(&out);
    }
    free(p);
}

/* Methods whose container carries a checksum over the data (lz4 as written
 * by bi_compress, with a content checksum); .lzma has none. */
static int checksummed(brine_compression c) { return c != BRINE_COMPRESSION_LZMA; }

static void test_byte_flips(void) {
    uint8_t *p = make_payload(100000, 8);
    for (size_t m = 0; m < N_METHODS; m++) {
        bi_buf z = BI_BUF_INIT, out = BI_BUF_INIT;
        brine_error err;
        compress_to(methods[m], -1, p, 100000, &z);
        for (size_t at = z.len / 4; at < z.len - 8; at += z.len / 7) {
            z.data[at] ^= 0x10;
            brine_status st = decompress_to(methods[m], z.data, z.len, 1 << 20, &out, &err);
            if (checksummed(methods[m])) CHECK(st != BRINE_OK);
            if (st == BRINE_OK) CHECK(out.len <= 1 << 20);
            bi_buf_free(&out);
            z.data[at] ^= 0x10;
        }
        bi_buf_free(&z);
    }
    free(p);
}

/* Every byte of a small stream flipped in turn: nothing may crash or hang,
 * and what decodes must stay inside the limit. */
static void test_every_byte_flipped(void) {
    uint8_t *p = make_payload(3000, 9);
    for (size_t m = 0; m < N_METHODS; m++) {
        bi_buf z = BI_BUF_INIT;
        compress_to(methods[m], 1, p, 3000, &z);
        for (size_t at = 0; at < z.len; at++) {
            static const uint8_t masks[] = {0x01, 0x80, 0xff};
            for (size_t k = 0; k < 3; k++) {
                bi_buf out = BI_BUF_INIT;
                brine_error err;
                z.data[at] ^= masks[k];
                brine_status st = decompress_to(methods[m], z.data, z.len, 8000, &out, &err);
                CHECK(st == BRINE_OK || st == BRINE_E_FORMAT || st == BRINE_E_LIMIT);
                CHECK(out.len <= 8000);
                if (st != BRINE_OK) CHECK(err.message[0] != '\0');
                z.data[at] ^= masks[k];
                bi_buf_free(&out);
            }
        }
        bi_buf_free(&z);
    }
    free(p);
}

static void test_trailing_garbage(void) {
    uint8_t *p = make_payload(10000, 10);
    for (size_t m = 0; m < N_METHODS; m++) {
        bi_buf z = BI_BUF_INIT, out = BI_BUF_INIT;
        brine_error err;
        compress_to(methods[m], -1, p, 10000, &z);
        size_t end = z.len;
        bi_buf_put(&z, "garbage!", 8);
        CHECK_EQ_INT(decompress_to(methods[m], z.data, z.len, 1 << 20, &out, &err), BRINE_E_FORMAT);
        CHECK_EQ_INT(err.offset, end);
        char want[96];
        snprintf(want, sizeof want, "trailing data after the %s stream at offset %zu",
                 names[methods[m]], end);
        CHECK_STR(err.message, want);
        CHECK_EQ_INT(out.len, 0);
        /* One stray byte is enough. */
        z.len = end + 1;
        CHECK_EQ_INT(decompress_to(methods[m], z.data, z.len, 1 << 20, &out, &err), BRINE_E_FORMAT);
        bi_buf_free(&z);
        bi_buf_free(&out);
    }
    free(p);
}

static void test_garbage_input(void) {
    uint8_t *noise = make_payload(5000, 11);
    for (size_t i = 0; i < 5000; i++) noise[i] = (uint8_t)(noise[i] * 151u + i);
    static const char *const heads[] = {"\x78\x9c", "\x1f\x8b\x08\0", "BZh9", "\xfd\x37\x7a\x58\x5a\0",
                                        "\x5d\0\0\x80\0", "\x04\x22\x4d\x18\x64"};
    for (size_t m = 0; m < N_METHODS; m++) {
        bi_buf out = BI_BUF_INIT;
        brine_error err;
        memcpy(noise, heads[m], strlen(heads[m]) + 1);
        brine_status st = decompress_to(methods[m], noise, 5000, 1 << 20, &out, &err);
        CHECK(st == BRINE_E_FORMAT || st == BRINE_E_LIMIT);
        CHECK(out.len == 0);
        /* Empty input is a truncated stream. */
        CHECK_EQ_INT(decompress_to(methods[m], noise, 0, 1 << 20, &out, &err), BRINE_E_FORMAT);
        CHECK(strstr(err.message, "truncated") != NULL);
        bi_buf_free(&out);
    }
    free(noise);
}

static void test_bomb(void) {
    size_t n = 200u << 20;
    uint8_t *zeros = calloc(n, 1);
    CHECK(zeros != NULL);
    if (!zeros) return;
    for (size_t m = 0; m < N_METHODS; m++) {
        bi_buf z = BI_BUF_INIT, out = BI_BUF_INIT;
        brine_error err;
        int fast = methods[m] == BRINE_COMPRESSION_BZ2 ? 1 : methods[m] == BRINE_COMPRESSION_LZ4 ? 0 : 1;
        CHECK_EQ_INT(compress_to(methods[m], fast, zeros, n, &z), BRINE_OK);
        CHECK(z.len < n / 100);
        CHECK_EQ_INT(decompress_to(methods[m], z.data, z.len, 1 << 20, &out, &err), BRINE_E_LIMIT);
        /* The buffer never grew past the limit plus the one proving byte. */
        CHECK(out.cap <= (1u << 20) + 1);
        CHECK(strstr(err.message, "limit") != NULL);
        bi_buf_free(&z);
        bi_buf_free(&out);
    }
    free(zeros);
}

/* A stream hundreds of times smaller than its output (zlib, gzip) takes
 * several of libdeflate's guesses: each larger try keeps the bytes already
 * in the buffer, and the output is whole. */
static void test_high_ratio(void) {
    size_t n = 64u << 20;
    uint8_t *data = calloc(n, 1);
    CHECK(data != NULL);
    if (!data) return;
    memcpy(data + n - 4, "tail", 4);
    const brine_compression cs[] = {BRINE_COMPRESSION_ZLIB, BRINE_COMPRESSION_GZIP};
    for (size_t m = 0; m < 2; m++) {
        bi_buf z = BI_BUF_INIT, out = BI_BUF_INIT;
        brine_error err;
        CHECK_EQ_INT(compress_to(cs[m], 6, data, n, &z), BRINE_OK);
        CHECK(z.len < n / 500);
        bi_buf_put(&out, "head", 4);
        CHECK_EQ_INT(decompress_to(cs[m], z.data, z.len, (uint64_t)1 << 32, &out, &err), BRINE_OK);
        CHECK_EQ_INT(out.len, n + 4);
        CHECK(out.len == n + 4 && !memcmp(out.data, "head", 4) && !memcmp(out.data + 4, data, n));
        CHECK(out.cap <= 4 * (n + 4) + (1u << 20));
        bi_buf_free(&z);
        bi_buf_free(&out);
    }
    free(data);
}

static void test_bad_arguments(void) {
    bi_buf z = BI_BUF_INIT;
    const uint8_t *in = (const uint8_t *)"x";
    brine_error err;
    brine_error_clear(&err);
    struct { brine_compression c; int level; brine_status want; } cases[] = {
        {BRINE_COMPRESSION_ZLIB, 10, BRINE_E_ARGUMENT}, {BRINE_COMPRESSION_ZLIB, -2, BRINE_E_ARGUMENT},
        {BRINE_COMPRESSION_GZIP, 10, BRINE_E_ARGUMENT}, {BRINE_COMPRESSION_BZ2, 0, BRINE_E_ARGUMENT},
        {BRINE_COMPRESSION_BZ2, 10, BRINE_E_ARGUMENT},  {BRINE_COMPRESSION_XZ, 10, BRINE_E_ARGUMENT},
        {BRINE_COMPRESSION_LZMA, -5, BRINE_E_ARGUMENT}, {BRINE_COMPRESSION_LZ4, 17, BRINE_E_ARGUMENT},
        {BRINE_COMPRESSION_ZLIB, 0, BRINE_OK},          {BRINE_COMPRESSION_GZIP, 0, BRINE_OK},
        {BRINE_COMPRESSION_BZ2, 1, BRINE_OK},           {BRINE_COMPRESSION_XZ, 0, BRINE_OK},
        {BRINE_COMPRESSION_LZMA, 9, BRINE_OK},          {BRINE_COMPRESSION_LZ4, 16, BRINE_OK},
        {(brine_compression)42, -1, BRINE_E_ARGUMENT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        brine_error_clear(&err);
        z.len = 0;
        CHECK_EQ_INT(bi_compress(cases[i].c, cases[i].level, in, 1, &z, &err), cases[i].want);
        if (cases[i].want != BRINE_OK) {
            CHECK_EQ_INT(err.status, cases[i].want);
            CHECK_EQ_INT(z.len, 0);
        }
    }
    brine_error_clear(&err);
    CHECK_EQ_INT(bi_decompress((brine_compression)42, 0, in, 1, 10, &z, &err), BRINE_E_ARGUMENT);
    brine_error_clear(&err);
    CHECK_EQ_INT(bi_decompress(BRINE_COMPRESSION_GZIP, 1, in, 1, 10, &z, &err), BRINE_E_ARGUMENT);
    bi_buf_free(&z);
}

static void test_appends_and_restores(void) {
    bi_buf z = BI_BUF_INIT, out = BI_BUF_INIT;
    brine_error err;
    bi_buf_put(&z, "keep", 4);
    CHECK_EQ_INT(compress_to(BRINE_COMPRESSION_XZ, 0, (const uint8_t *)"payload", 7, &z), BRINE_OK);
    CHECK(memcmp(z.data, "keep", 4) == 0);
    bi_buf_put(&out, "abc", 3);
    CHECK_EQ_INT(decompress_to(BRINE_COMPRESSION_XZ, z.data + 4, z.len - 4, 7, &out, &err), BRINE_OK);
    CHECK(out.len == 10 && memcmp(out.data, "abcpayload", 10) == 0);
    /* The limit counts this call's output only; a failure leaves out as it was. */
    CHECK_EQ_INT(decompress_to(BRINE_COMPRESSION_XZ, z.data + 4, z.len - 5, 7, &out, &err), BRINE_E_FORMAT);
    CHECK_EQ_INT(out.len, 10);
    /* No compression is a copy under the same limit. */
    CHECK_EQ_INT(decompress_to(BRINE_COMPRESSION_NONE, (const uint8_t *)"xy", 2, 2, &out, &err), BRINE_OK);
    CHECK_EQ_INT(out.len, 12);
    CHECK_EQ_INT(decompress_to(BRINE_COMPRESSION_NONE, (const uint8_t *)"xy", 2, 1, &out, &err), BRINE_E_LIMIT);
    bi_buf_free(&z);
    bi_buf_free(&out);
}

/* ------------------------------------------------------------ interop */

static char tmpdir[256];

static int make_tmpdir(void) {
    const char *t = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/brine-io-XXXXXX", t && *t ? t : "/tmp");
    return mkdtemp(tmpdir) != NULL;
}

static void remove_tmpdir(void) {
    DIR *d = opendir(tmpdir);
    if (!d) return;
    struct dirent *e;
    char path[512];
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(path, sizeof path, "%s/%s", tmpdir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(tmpdir);
}

static void tmp_path(char *buf, size_t size, const char *name) {
    snprintf(buf, size, "%s/%s", tmpdir, name);
}

static int write_file(const char *name, const void *data, size_t n) {
    char path[512];
    tmp_path(path, sizeof path, name);
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    int ok = fwrite(data, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

static uint8_t *read_file(const char *name, size_t *n) {
    char path[512];
    tmp_path(path, sizeof path, name);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    bi_buf b = BI_BUF_INIT;
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) bi_buf_put(&b, chunk, got);
    fclose(f);
    return bi_buf_take(&b, n);
}

/* Runs a Python script (written to the temporary directory) with the
 * directory as its argument; returns its exit status. */
static int run_python(const char *script) {
    if (access(PYTHON, X_OK) != 0) {
        fprintf(stderr, "interop needs %s, which is missing\n", PYTHON);
        return -1;
    }
    if (!write_file("script.py", script, strlen(script))) return -1;
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s %s/script.py %s", PYTHON, tmpdir, tmpdir);
    int rc = system(cmd);
    return rc == -1 || !WIFEXITED(rc) ? -1 : WEXITSTATUS(rc);
}

/* Python writes each format from payload.bin: the module-level compressors
 * and joblib.dump with each compressor (whose stream is a pickle, so the
 * expected bytes come from Python's decoder), plus a legacy ZF file from
 * joblib's own write_zfile. */
static const char py_writers[] =
    "import sys, os, io, zlib, gzip, bz2, lzma, pickle, lz4.frame, joblib\n"
    "from joblib.numpy_pickle_compat import write_zfile\n"
    "d = sys.argv[1]\n"
    "p = open(os.path.join(d, 'payload.bin'), 'rb').read()\n"
    "def put(name, data):\n"
    "    open(os.path.join(d, name), 'wb').write(data)\n"
    "put('py.zlib', zlib.compress(p, 3))\n"
    "put('py.gzip', gzip.compress(p, 3) + gzip.compress(p[:1000], 9))\n"
    "put('py.bz2', bz2.compress(p, 9))\n"
    "put('py.xz', lzma.compress(p, format=lzma.FORMAT_XZ, preset=6))\n"
    "put('py.lzma', lzma.compress(p, format=lzma.FORMAT_ALONE, preset=6))\n"
    "put('py.lz4', lz4.frame.compress(p, compression_level=0))\n"
    "b = io.BytesIO(); write_zfile(b, p, 3); put('py.zf', b.getvalue())\n"
    "dec = {'zlib': zlib.decompress, 'gzip': gzip.decompress, 'bz2': bz2.decompress,\n"
    "       'xz': lzma.decompress, 'lzma': lzma.decompress, 'lz4': lz4.frame.decompress}\n"
    "for m in dec:\n"
    "    f = os.path.join(d, 'jl.' + m)\n"
    "    joblib.dump({'coef': p[:5000], 'name': m}, f, compress=(m, 3))\n"
    "    put('jl.' + m + '.raw', dec[m](open(f, 'rb').read()))\n";

static void check_python_file(const char *name, brine_compression c, int legacy,
                              const uint8_t *want, size_t want_n) {
    size_t n;
    uint8_t *data = read_file(name, &n);
    CHECK(data != NULL);
    if (!data) return;
    int zf = -1;
    CHECK_EQ_INT(bi_detect_compression(data, n, &zf), c);
    CHECK_EQ_INT(zf, legacy);
    bi_buf out = BI_BUF_INIT;
    brine_error err;
    brine_error_clear(&err);
    brine_status st = bi_decompress(c, legacy, data, n, 64u << 20, &out, &err);
    if (st != BRINE_OK) fprintf(stderr, "%s: %s\n", name, err.message);
    CHECK_EQ_INT(st, BRINE_OK);
    CHECK_EQ_INT(out.len, want_n);
    CHECK(out.len == want_n && memcmp(out.data, want, want_n) == 0);
    bi_buf_free(&out);
    free(data);
}

static void test_python_to_brine(void) {
    size_t n = 600000;
    uint8_t *p = make_payload(n, 12);
    CHECK(write_file("payload.bin", p, n));
    int rc = run_python(py_writers);
    CHECK_EQ_INT(rc, 0);
    if (rc != 0) {
        free(p);
        return;
    }
    check_python_file("py.zlib", BRINE_COMPRESSION_ZLIB, 0, p, n);
    check_python_file("py.bz2", BRINE_COMPRESSION_BZ2, 0, p, n);
    check_python_file("py.xz", BRINE_COMPRESSION_XZ, 0, p, n);
    check_python_file("py.lzma", BRINE_COMPRESSION_LZMA, 0, p, n);
    check_python_file("py.lz4", BRINE_COMPRESSION_LZ4, 0, p, n);
    check_python_file("py.zf", BRINE_COMPRESSION_ZLIB, 1, p, n);
    /* Two gzip members: the payload, then its first 1000 bytes again. */
    uint8_t *two = malloc(n + 1000);
    memcpy(two, p, n);
    memcpy(two + n, p, 1000);
    check_python_file("py.gzip", BRINE_COMPRESSION_GZIP, 0, two, n + 1000);
    free(two);
    for (size_t m = 0; m < N_METHODS; m++) {
        char name[32], raw[40];
        snprintf(name, sizeof name, "jl.%s", names[methods[m]]);
        snprintf(raw, sizeof raw, "jl.%s.raw", names[methods[m]]);
        size_t want_n;
        uint8_t *want = read_file(raw, &want_n);
        CHECK(want != NULL && want_n > 2 && want[0] == 0x80); /* a pickle stream */
        if (want) check_python_file(name, methods[m], 0, want, want_n);
        free(want);
    }
    free(p);
}

/* Python checks what brine wrote: each file through the module decoder and
 * through joblib's own decompressor file object, and a compressed pickle
 * through joblib.load itself. */
static const char py_readers[] =
    "import sys, os, zlib, gzip, bz2, lzma, lz4.frame, joblib\n"
    "from joblib.compressor import _COMPRESSORS\n"
    "d = sys.argv[1]\n"
    "p = open(os.path.join(d, 'payload.bin'), 'rb').read()\n"
    "dec = {'zlib': zlib.decompress, 'gzip': gzip.decompress, 'bz2': bz2.decompress,\n"
    "       'xz': lambda b: lzma.decompress(b, lzma.FORMAT_XZ),\n"
    "       'lzma': lambda b: lzma.decompress(b, lzma.FORMAT_ALONE),\n"
    "       'lz4': lz4.frame.decompress}\n"
    "bad = 0\n"
    "for f in sorted(os.listdir(d)):\n"
    "    if not f.startswith('c.'): continue\n"
    "    m = f.split('.')[1]\n"
    "    data = open(os.path.join(d, f), 'rb').read()\n"
    "    if dec[m](data) != p: print('module decoder differs:', f); bad += 1\n"
    "    with open(os.path.join(d, f), 'rb') as fh:\n"
    "        if _COMPRESSORS[m].decompressor_file(fh).read() != p:\n"
    "            print('joblib decoder differs:', f); bad += 1\n"
    "for m in dec:\n"
    "    v = joblib.load(os.path.join(d, 'pk.' + m))\n"
    "    if v != p[:4096]: print('joblib.load differs:', m); bad += 1\n"
    "sys.exit(1 if bad else 0)\n";

static void write_compressed(brine_compression c, int level, const uint8_t *p, size_t n,
                             const char *prefix) {
    bi_buf z = BI_BUF_INIT;
    CHECK_EQ_INT(compress_to(c, level, p, n, &z), BRINE_OK);
    char name[64];
    snprintf(name, sizeof name, "%s.%s.%d", prefix, names[c], level);
    if (!strcmp(prefix, "pk")) snprintf(name, sizeof name, "pk.%s", names[c]);
    CHECK(write_file(name, z.data, z.len));
    bi_buf_free(&z);
}

static void test_brine_to_python(void) {
    size_t n = 600000;
    uint8_t *p = make_payload(n, 13);
    CHECK(write_file("payload.bin", p, n));
    /* A protocol-3 pickle of bytes: PROTO 3, BINBYTES len32, STOP. */
    size_t pk_n = 7 + 4096 + 1;
    uint8_t *pk = malloc(pk_n);
    memcpy(pk, "\x80\x03" "B\x00\x10\x00\x00", 7);
    memcpy(pk + 7, p, 4096);
    pk[pk_n - 1] = '.';
    for (size_t m = 0; m < N_METHODS; m++) {
        int lv[8], count;
        levels_of(methods[m], lv, &count);
        write_compressed(methods[m], -1, p, n, "c");
        write_compressed(methods[m], lv[1], p, n, "c");
        write_compressed(methods[m], lv[count - 1], p, n, "c");
        write_compressed(methods[m], -1, pk, pk_n, "pk");
    }
    CHECK_EQ_INT(run_python(py_readers), 0);
    free(pk);
    free(p);
}

int main(void) {
    RUN(test_detect);
    RUN(test_default_level);
    RUN(test_gzip_header);
    RUN(test_roundtrip_levels);
    RUN(test_roundtrip_large);
    RUN(test_legacy_zf);
    RUN(test_concatenated);
    RUN(test_lz4_skippable_frame);
    RUN(test_lzma_known_size);
    RUN(test_xz_preset9_small_limit);
    RUN(test_truncated);
    RUN(test_byte_flips);
    RUN(test_every_byte_flipped);
    RUN(test_trailing_garbage);
    RUN(test_garbage_input);
    RUN(test_bomb);
    RUN(test_high_ratio);
    RUN(test_bad_arguments);
    RUN(test_appends_and_restores);
    int have_dir = make_tmpdir();
    if (!have_dir) fprintf(stderr, "cannot create a temporary directory\n");
    if (have_dir) {
        RUN(test_python_to_brine);
        RUN(test_brine_to_python);
        remove_tmpdir();
    } else {
        th_failed += 2;
    }
    TEST_MAIN_END();
}
