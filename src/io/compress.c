/* compress.c — joblib's compressors on top of zlib, libbz2, liblzma and
 * liblz4.
 *
 * Decoding is one loop shape for every library: hand it a slice of the
 * remaining input and a slice of free output, call it, account for what it
 * consumed and produced, repeat.  The output slice never reaches past
 * max_out + 1 bytes of this call's output, so a bomb is caught by the byte
 * that would exceed the limit and the buffer never grows beyond it.  A call
 * that makes no progress although input and output room were offered means
 * the stream cannot go on (truncated at the end of input, stuck otherwise),
 * so no loop depends on a library eventually reporting an error. */
#include "compress.h"

#include <bzlib.h>
#include <libdeflate.h>
#include <limits.h>
#include <lz4frame.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "error.h"
#include "mem.h"
#include "threads.h"

/* Largest slice given to a library in one call: fits zlib's uInt and bzip2's
 * unsigned int, so multi-GB inputs are fed in pieces. */
#define FEED_MAX ((size_t)1 << 30)
/* LZ4F reports no consumed count on error; smaller pieces keep the reported
 * offset close to the fault at negligible cost (it buffers internally). */
#define LZ4_FEED ((size_t)16 * 1024)
/* Smallest growth of the output buffer. */
#define GROW_MIN ((size_t)64 * 1024)
/* Consecutive calls without progress after which a stream is declared dead. */
#define MAX_STALLS 3
/* Decoder memory allowed beyond max_out: room for the dictionary of any
 * preset (xz -9 uses 64 MiB) when the output limit is small. */
#define LZMA_MEM_SLACK ((uint64_t)256 << 20)
/* "ZF" + the 19 characters of '{:#x}'.format(2**64), joblib's _MAX_LEN. */
#define ZF_HEADER 21

static const char *const method_names[BRINE_COMPRESSION_COUNT_] = {
    "uncompressed", "zlib", "gzip", "bz2", "xz", "lzma", "lz4",
};

static size_t min_size(size_t a, size_t b) { return a < b ? a : b; }

static int has_prefix(const uint8_t *p, size_t n, const char *magic, size_t m) {
    return n >= m && memcmp(p, magic, m) == 0;
}

brine_compression bi_detect_compression(const uint8_t *data, size_t size, int *legacy_zf) {
    if (legacy_zf) *legacy_zf = 0;
    if (has_prefix(data, size, "ZF", 2)) {
        if (legacy_zf) *legacy_zf = 1;
        return BRINE_COMPRESSION_ZLIB;
    }
    if (has_prefix(data, size, "\x78", 1)) return BRINE_COMPRESSION_ZLIB;
    if (has_prefix(data, size, "\x1f\x8b", 2)) return BRINE_COMPRESSION_GZIP;
    if (has_prefix(data, size, "BZ", 2)) return BRINE_COMPRESSION_BZ2;
    if (has_prefix(data, size, "\xfd\x37\x7a\x58\x5a", 5)) return BRINE_COMPRESSION_XZ;
    if (has_prefix(data, size, "\x5d\x00", 2)) return BRINE_COMPRESSION_LZMA;
    if (has_prefix(data, size, "\x04\x22\x4d\x18", 4)) return BRINE_COMPRESSION_LZ4;
    return BRINE_COMPRESSION_NONE;
}

/* ------------------------------------------------------------ decoding */

typedef struct dec {
    const uint8_t *in;
    size_t size;
    size_t pos;       /* offset of the first byte not yet consumed */
    bi_buf *out;
    size_t start;     /* out->len on entry: this call's output begins there */
    uint64_t max_out;
    const char *name;
    brine_error *err;
    size_t in_avail;  /* slices offered to the current library call */
    size_t out_avail;
    int stalls;
} dec;

static brine_status dec_nomem(dec *d) {
    return bi_fail(d->err, BRINE_E_NOMEM, -1, "out of memory decoding the %s stream", d->name);
}

static brine_status dec_corrupt(dec *d, const char *detail) {
    return bi_fail(d->err, BRINE_E_FORMAT, (int64_t)d->pos,
                   "corrupt %s stream at offset %zu: %s", d->name, d->pos, detail);
}

static brine_status dec_over_limit(dec *d) {
    return bi_fail(d->err, BRINE_E_LIMIT, (int64_t)d->pos,
                   "%s stream decompresses to more than the limit of %llu bytes",
                   d->name, (unsigned long long)d->max_out);
}

/* Output bytes this call may still write, plus the one that proves a bomb. */
static uint64_t dec_allowance(const dec *d) {
    uint64_t produced = d->out->len - d->start;
    uint64_t left = d->max_out - produced; /* produced <= max_out, checked after each call */
    return left == UINT64_MAX ? left : left + 1;
}

/* Grows out by doubling, but never past the allowance, so a bomb costs at
 * most max_out + 1 bytes of buffer. */
static int dec_grow(dec *d, uint64_t allowance) {
    bi_buf *b = d->out;
    size_t want = b->cap ? b->cap : GROW_MIN;
    if (want < GROW_MIN) want = GROW_MIN;
    if (want > allowance) want = (size_t)allowance;
    size_t cap;
    if (__builtin_add_overflow(b->len, want, &cap)) return 0;
    uint8_t *p = realloc(b->data, cap);
    if (!p) {
        b->failed = 1;
        return 0;
    }
    b->data = p;
    b->cap = cap;
    bi_huge_advise(p, cap);
    return 1;
}

/* Sets the slices for the next library call. */
static brine_status dec_begin(dec *d, size_t feed_max) {
    uint64_t allowance = dec_allowance(d);
    if (d->out->cap == d->out->len && !dec_grow(d, allowance)) return dec_nomem(d);
    size_t room = d->out->cap - d->out->len;
    if (room > allowance) room = (size_t)allowance;
    d->out_avail = min_size(room, FEED_MAX);
    d->in_avail = min_size(d->size - d->pos, feed_max);
    return BRINE_OK;
}

static const uint8_t *dec_in(const dec *d) { return d->in + d->pos; }
static uint8_t *dec_out(const dec *d) { return d->out->data + d->out->len; }
static int dec_last_slice(const dec *d) { return d->pos + d->in_avail == d->size; }

static void dec_account(dec *d, size_t in_left, size_t out_left) {
    d->pos += d->in_avail - in_left;
    d->out->len += d->out_avail - out_left;
}

/* Records a call's effect and decides whether decoding may go on. */
static brine_status dec_after(dec *d, size_t in_left, size_t out_left, int ended) {
    int progress = in_left != d->in_avail || out_left != d->out_avail;
    dec_account(d, in_left, out_left);
    if (d->out->len - d->start > d->max_out) return dec_over_limit(d);
    if (ended) return BRINE_OK;
    d->stalls = progress ? 0 : d->stalls + 1;
    if (d->stalls < MAX_STALLS) return BRINE_OK;
    if (d->pos == d->size)
        return bi_fail(d->err, BRINE_E_FORMAT, (int64_t)d->pos,
                       "truncated %s stream: input ends at offset %zu", d->name, d->pos);
    return dec_corrupt(d, "the decoder makes no progress");
}

static brine_status zlib_member(dec *d, int wbits) {
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    int rc = inflateInit2(&zs, wbits);
    if (rc != Z_OK) return dec_nomem(d);
    brine_status st;
    do {
        if ((st = dec_begin(d, FEED_MAX)) != BRINE_OK) break;
        zs.next_in = (Bytef *)dec_in(d);
        zs.avail_in = (uInt)d->in_avail;
        zs.next_out = dec_out(d);
        zs.avail_out = (uInt)d->out_avail;
        rc = inflate(&zs, Z_NO_FLUSH);
        if (rc == Z_MEM_ERROR) {
            st = dec_nomem(d);
        } else if (rc == Z_NEED_DICT || rc == Z_DATA_ERROR || rc == Z_STREAM_ERROR) {
            dec_account(d, zs.avail_in, zs.avail_out);
            st = dec_corrupt(d, rc == Z_NEED_DICT ? "needs a preset dictionary"
                                : zs.msg          ? zs.msg
                                                  : "invalid data");
        } else {
            st = dec_after(d, zs.avail_in, zs.avail_out, rc == Z_STREAM_END);
        }
    } while (st == BRINE_OK && rc != Z_STREAM_END);
    inflateEnd(&zs);
    return st;
}

/* Whole zlib and gzip members inflate with libdeflate, several times
 * faster than zlib's streaming inflate, into a buffer guessed from the
 * input (8x, then 4x larger each time it is short, the last try at the cap)
 * that never exceeds this call's allowance (max_out + 1) nor
 * DEFLATE_GUESS_MAX.  Anything else (corrupt data, a bomb, an output past
 * the guess cap) falls back to zlib's loop above, which decides and words
 * every error; only the time of the tries is lost, and the buffer stays
 * within the same bounds.  A try reserves its whole guess but touches only
 * the output; a cap of 16 GiB keeps an output a little past a power of two
 * (the 1 GiB bombs of tests/security) from paying for every try and then
 * for zlib's whole pass too. */
#define DEFLATE_GUESS_MAX ((uint64_t)1 << 34)

/* Room for cap more bytes after out's len.  A failed try's bytes past len
 * are garbage, so a larger buffer gets only the bytes before len: no time
 * or fresh pages spent copying the rest. */
static int deflate_room(bi_buf *out, uint64_t cap) {
    if (out->cap - out->len >= cap) return 1;
    size_t want = out->len + (size_t)cap;
    uint8_t *p = malloc(want);
    if (!p) return 0;
    if (out->len) memcpy(p, out->data, out->len);
    free(out->data);
    out->data = p;
    out->cap = want;
    bi_huge_advise(p, want);
    return 1;
}

static int deflate_whole(dec *d, int gzip) {
    size_t in_left = d->size - d->pos;
    uint64_t allowance = dec_allowance(d), guess = (uint64_t)in_left * 8 + 65536;
    struct libdeflate_decompressor *ld = libdeflate_alloc_decompressor();
    int done = 0;
    while (ld && !done) {
        uint64_t cap = guess < allowance ? guess : allowance;
        if (cap > DEFLATE_GUESS_MAX) cap = DEFLATE_GUESS_MAX;
        if (d->out->len > SIZE_MAX - cap || !deflate_room(d->out, cap)) break;
        size_t got_in = 0, got_out = 0;
        enum libdeflate_result r =
            gzip ? libdeflate_gzip_decompress_ex(ld, dec_in(d), in_left, dec_out(d), (size_t)cap, &got_in, &got_out)
                 : libdeflate_zlib_decompress_ex(ld, dec_in(d), in_left, dec_out(d), (size_t)cap, &got_in, &got_out);
        if (r == LIBDEFLATE_SUCCESS && got_out < allowance) {
            d->pos += got_in;
            d->out->len += got_out;
            done = 1;
        } else if (r == LIBDEFLATE_INSUFFICIENT_SPACE && cap < allowance && cap < DEFLATE_GUESS_MAX) {
            guess = cap * 4;
        } else {
            break; /* corrupt, truncated, over the limit or the cap: zlib says which */
        }
    }
    libdeflate_free_decompressor(ld);
    return done;
}

static brine_status inflate_member(dec *d, int wbits) {
    if (deflate_whole(d, wbits > MAX_WBITS)) return BRINE_OK;
    return zlib_member(d, wbits);
}

static const char *bz2_message(int rc) {
    switch (rc) {
    case BZ_DATA_ERROR: return "data integrity error";
    case BZ_DATA_ERROR_MAGIC: return "bad stream signature";
    case BZ_PARAM_ERROR: return "invalid parameter";
    default: return "unexpected decoder status";
    }
}

static brine_status bz2_member(dec *d) {
    bz_stream bs;
    memset(&bs, 0, sizeof bs);
    int rc = BZ2_bzDecompressInit(&bs, 0, 0);
    if (rc != BZ_OK) return dec_nomem(d);
    brine_status st;
    do {
        if ((st = dec_begin(d, FEED_MAX)) != BRINE_OK) break;
        bs.next_in = (char *)dec_in(d);
        bs.avail_in = (unsigned)d->in_avail;
        bs.next_out = (char *)dec_out(d);
        bs.avail_out = (unsigned)d->out_avail;
        rc = BZ2_bzDecompress(&bs);
        if (rc == BZ_MEM_ERROR) {
            st = dec_nomem(d);
        } else if (rc != BZ_OK && rc != BZ_STREAM_END) {
            dec_account(d, bs.avail_in, bs.avail_out);
            st = dec_corrupt(d, bz2_message(rc));
        } else {
            st = dec_after(d, bs.avail_in, bs.avail_out, rc == BZ_STREAM_END);
        }
    } while (st == BRINE_OK && rc != BZ_STREAM_END);
    BZ2_bzDecompressEnd(&bs);
    return st;
}

/* liblzma has no strerror of its own. */
static const char *lzma_message(lzma_ret rc) {
    switch (rc) {
    case LZMA_FORMAT_ERROR: return "file format not recognized";
    case LZMA_OPTIONS_ERROR: return "unsupported compression options";
    case LZMA_DATA_ERROR: return "compressed data is corrupt";
    case LZMA_BUF_ERROR: return "unexpected end of input";
    case LZMA_UNSUPPORTED_CHECK: return "unsupported integrity check";
    case LZMA_MEMLIMIT_ERROR: return "memory usage limit reached";
    case LZMA_PROG_ERROR: return "programming error";
    default: return "unexpected decoder status";
    }
}

/* One .xz stream (xz = 1) or one .lzma "alone" stream.  Concatenation is
 * handled by the caller rather than LZMA_CONCATENATED so that bytes after
 * the last stream are reported as trailing data, not as a bad header. */
static brine_status lzma_member(dec *d, int xz) {
    lzma_stream ls = LZMA_STREAM_INIT;
    /* liblzma allocates the dictionary the header asks for (up to 4 GiB for
     * .lzma); one far larger than the output may grow to is refused. */
    uint64_t memlimit = d->max_out > UINT64_MAX - LZMA_MEM_SLACK ? UINT64_MAX
                                                                 : d->max_out + LZMA_MEM_SLACK;
    lzma_ret rc = xz ? lzma_stream_decoder(&ls, memlimit, 0) : lzma_alone_decoder(&ls, memlimit);
    if (rc != LZMA_OK) return dec_nomem(d);
    brine_status st;
    do {
        if ((st = dec_begin(d, FEED_MAX)) != BRINE_OK) break;
        ls.next_in = dec_in(d);
        ls.avail_in = d->in_avail;
        ls.next_out = dec_out(d);
        ls.avail_out = d->out_avail;
        rc = lzma_code(&ls, dec_last_slice(d) ? LZMA_FINISH : LZMA_RUN);
        if (rc == LZMA_MEM_ERROR) {
            st = dec_nomem(d);
        } else if (rc == LZMA_MEMLIMIT_ERROR) {
            st = bi_fail(d->err, BRINE_E_LIMIT, (int64_t)d->pos,
                         "%s stream needs %llu bytes of decoder memory, above the limit of %llu",
                         d->name, (unsigned long long)lzma_memusage(&ls),
                         (unsigned long long)memlimit);
        } else if (rc != LZMA_OK && rc != LZMA_STREAM_END && rc != LZMA_BUF_ERROR) {
            dec_account(d, ls.avail_in, ls.avail_out);
            st = dec_corrupt(d, lzma_message(rc));
        } else {
            /* LZMA_BUF_ERROR is liblzma's own "no progress": let the stall
             * count turn it into "truncated". */
            st = dec_after(d, ls.avail_in, ls.avail_out, rc == LZMA_STREAM_END);
        }
    } while (st == BRINE_OK && rc != LZMA_STREAM_END);
    lzma_end(&ls);
    return st;
}

static brine_status lz4_member(dec *d) {
    LZ4F_dctx *dc = NULL;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&dc, LZ4F_VERSION))) return dec_nomem(d);
    brine_status st;
    size_t hint;
    do {
        if ((st = dec_begin(d, LZ4_FEED)) != BRINE_OK) break;
        size_t src = d->in_avail, dst = d->out_avail;
        hint = LZ4F_decompress(dc, dec_out(d), &dst, dec_in(d), &src, NULL);
        if (LZ4F_isError(hint)) {
            /* The sizes are zeroed on error: the fault lies in this slice. */
            st = dec_corrupt(d, LZ4F_getErrorName(hint));
        } else {
            /* A hint of 0 means the frame, checksum included, is complete. */
            st = dec_after(d, d->in_avail - src, d->out_avail - dst, hint == 0);
        }
    } while (st == BRINE_OK && hint != 0);
    LZ4F_freeDecompressionContext(dc);
    return st;
}

static brine_status decode_member(dec *d, brine_compression c) {
    d->stalls = 0;
    switch (c) {
    case BRINE_COMPRESSION_ZLIB: return inflate_member(d, MAX_WBITS);
    case BRINE_COMPRESSION_GZIP: return inflate_member(d, MAX_WBITS + 16);
    case BRINE_COMPRESSION_BZ2: return bz2_member(d);
    case BRINE_COMPRESSION_XZ: return lzma_member(d, 1);
    case BRINE_COMPRESSION_LZMA: return lzma_member(d, 0);
    case BRINE_COMPRESSION_LZ4: return lz4_member(d);
    default: return bi_fail(d->err, BRINE_E_ARGUMENT, -1, "unknown compression method");
    }
}

/* Padding the readers of each format skip between and after members:
 * Python's gzip reader skips any run of zero bytes; the .xz format allows
 * zero "stream padding" in multiples of four. */
static void skip_padding(dec *d, brine_compression c) {
    if (c != BRINE_COMPRESSION_GZIP && c != BRINE_COMPRESSION_XZ) return;
    size_t n = 0;
    while (d->pos + n < d->size && d->in[d->pos + n] == 0) n++;
    d->pos += c == BRINE_COMPRESSION_XZ ? n - n % 4 : n;
}

/* Whether the remaining input starts another member that Python's reader of
 * that format would decode.  joblib's BinaryZlibFile starts a new
 * decompressor after each zlib stream, so zlib streams concatenate too. */
static int next_member(const dec *d, brine_compression c) {
    const uint8_t *p = d->in + d->pos;
    size_t n = d->size - d->pos;
    switch (c) {
    case BRINE_COMPRESSION_ZLIB: /* CMF 0x78 and a header checksum */
        return n >= 2 && p[0] == 0x78 && ((unsigned)p[0] * 256 + p[1]) % 31 == 0;
    case BRINE_COMPRESSION_GZIP: return has_prefix(p, n, "\x1f\x8b", 2);
    case BRINE_COMPRESSION_BZ2: return has_prefix(p, n, "BZh", 3);
    case BRINE_COMPRESSION_XZ: return has_prefix(p, n, "\xfd\x37\x7a\x58\x5a", 5);
    case BRINE_COMPRESSION_LZMA: return has_prefix(p, n, "\x5d\x00", 2);
    case BRINE_COMPRESSION_LZ4:
        /* A data frame, or a skippable frame (magic 0x184D2A50..5F), which
         * LZ4F_decompress skips on its own. */
        return has_prefix(p, n, "\x04\x22\x4d\x18", 4) ||
               (n >= 4 && (p[0] & 0xf0) == 0x50 && p[1] == 0x2a && p[2] == 0x4d && p[3] == 0x18);
    default: return 0;
    }
}

static brine_status check_end(dec *d) {
    if (d->pos == d->size) return BRINE_OK;
    return bi_fail(d->err, BRINE_E_FORMAT, (int64_t)d->pos,
                   "trailing data after the %s stream at offset %zu", d->name, d->pos);
}

static brine_status decode_all(dec *d, brine_compression c) {
    brine_status st;
    size_t begin;
    do {
        begin = d->pos;
        if ((st = decode_member(d, c)) != BRINE_OK) return st;
        skip_padding(d, c);
        /* Every member has a header, so one that consumed nothing would
         * only repeat forever. */
    } while (d->pos > begin && d->pos < d->size && next_member(d, c));
    return check_end(d);
}

static int hex_digit(uint8_t ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* The 19 characters after "ZF": '{:#x}' of the length, padded with spaces
 * (Python's int(s, 16) also allows leading blanks and a missing "0x"). */
static int parse_zf_length(const uint8_t *p, uint64_t *out) {
    size_t i = 0, n = ZF_HEADER - 2, digits = 0;
    uint64_t v = 0;
    while (i < n && p[i] == ' ') i++;
    if (i + 1 < n && p[i] == '0' && (p[i + 1] == 'x' || p[i + 1] == 'X')) i += 2;
    for (; i < n && hex_digit(p[i]) >= 0; i++, digits++) {
        if (v >> 60) return 0; /* would overflow 64 bits */
        v = v << 4 | (uint64_t)hex_digit(p[i]);
    }
    while (i < n && p[i] == ' ') i++;
    if (i != n || digits == 0) return 0;
    *out = v;
    return 1;
}

/* joblib < 0.9.3: "ZF", the hex length, an optional extra space (the
 * Python 2 writers' header was one character wider), one zlib stream. */
static brine_status decode_zf(dec *d) {
    uint64_t want;
    if (d->size < 2 || memcmp(d->in, "ZF", 2) != 0)
        return bi_fail(d->err, BRINE_E_FORMAT, 0, "not a legacy ZF container");
    if (d->size < ZF_HEADER)
        return bi_fail(d->err, BRINE_E_FORMAT, (int64_t)d->size, "truncated legacy ZF header");
    if (!parse_zf_length(d->in + 2, &want))
        return bi_fail(d->err, BRINE_E_FORMAT, 2, "legacy ZF header has no valid hex length");
    if (want > d->max_out)
        return bi_fail(d->err, BRINE_E_LIMIT, 2,
                       "legacy ZF header announces %llu bytes, above the limit of %llu bytes",
                       (unsigned long long)want, (unsigned long long)d->max_out);
    d->pos = ZF_HEADER;
    if (d->pos < d->size && d->in[d->pos] == ' ') d->pos++;
    brine_status st = decode_member(d, BRINE_COMPRESSION_ZLIB);
    if (st != BRINE_OK) return st;
    uint64_t got = d->out->len - d->start;
    if (got != want)
        return bi_fail(d->err, BRINE_E_FORMAT, (int64_t)d->pos,
                       "legacy ZF payload decodes to %llu bytes but its header says %llu",
                       (unsigned long long)got, (unsigned long long)want);
    return check_end(d);
}

static brine_status copy_plain(dec *d) {
    if (d->size > d->max_out) return dec_over_limit(d);
    bi_buf_put(d->out, d->in, d->size);
    if (!bi_buf_ok(d->out)) return dec_nomem(d);
    d->pos = d->size;
    return BRINE_OK;
}

brine_status bi_decompress(brine_compression c, int legacy_zf, const uint8_t *in,
                           size_t size, uint64_t max_out, bi_buf *out, brine_error *err) {
    if ((unsigned)c >= BRINE_COMPRESSION_COUNT_ || (legacy_zf && c != BRINE_COMPRESSION_ZLIB))
        return bi_fail(err, BRINE_E_ARGUMENT, -1, "unknown compression method");
    if (!bi_buf_ok(out)) return bi_fail(err, BRINE_E_NOMEM, -1, "output buffer already failed");
    dec d = {in, size, 0, out, out->len, max_out, method_names[c], err, 0, 0, 0};
    if (legacy_zf) d.name = "legacy ZF";
    brine_status st = legacy_zf ? decode_zf(&d)
                      : c == BRINE_COMPRESSION_NONE ? copy_plain(&d)
                                                    : decode_all(&d, c);
    /* A failed call leaves the caller's buffer as it found it. */
    if (st != BRINE_OK) out->len = d.start;
    return st;
}

/* ------------------------------------------------------------ encoding */

/* Output chunk reserved before each encoder call. */
#define OUT_CHUNK ((size_t)256 * 1024)

typedef struct enc {
    const uint8_t *in;
    size_t size;
    size_t pos;
    bi_buf *out;
    size_t in_avail, out_avail;
    int finish; /* the slice offered holds all remaining input */
} enc;

/* Reserves room for the next call.  The final flush is requested only once
 * all remaining input fits one slice, as zlib, bzip2 and liblzma require the
 * finishing calls to see exactly the input not yet consumed. */
static int enc_begin(enc *e, size_t feed_max, size_t out_min) {
    if (!bi_buf_reserve(e->out, out_min)) return 0;
    e->in_avail = min_size(e->size - e->pos, feed_max);
    e->out_avail = min_size(e->out->cap - e->out->len, FEED_MAX);
    e->finish = e->pos + e->in_avail == e->size;
    return 1;
}

static const uint8_t *enc_in(const enc *e) { return e->in + e->pos; }
static uint8_t *enc_out(const enc *e) { return e->out->data + e->out->len; }

static void enc_account(enc *e, size_t in_left, size_t out_left) {
    e->pos += e->in_avail - in_left;
    e->out->len += e->out_avail - out_left;
}

static brine_status enc_nomem(brine_error *err, const char *name) {
    return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory compressing with %s", name);
}

/* The encoders fail on valid arguments only when they run out of memory
 * internally, so an unexpected status is reported as such. */
static brine_status enc_internal(brine_error *err, const char *name) {
    return bi_fail(err, BRINE_E_NOMEM, -1, "the %s encoder failed unexpectedly", name);
}

/* ---------------------------------------------- parallel zlib and gzip
 * Large inputs are cut into chunks that threads deflate at once, as pigz
 * does: each chunk a raw deflate stream primed with the 32 KiB before it
 * (so matches reach back as in one stream and the size stays within a few
 * bytes per chunk of zlib's), ended by a sync flush on a byte boundary, the
 * last by the final block.  Concatenated behind one zlib or gzip header and
 * a trailer with the checksums combined (adler32_combine, crc32_combine),
 * they are one standard stream that any inflater reads. */

#define PAR_CHUNK ((size_t)1 << 20)
#define PAR_MIN (4 * PAR_CHUNK)
#define PAR_WINDOW ((size_t)32 * 1024)
#define PAR_THREADS_MAX 64

typedef struct pchunk {
    const uint8_t *in;
    size_t n, dict; /* bytes, and bytes of dictionary before in */
    int last, level, gzip;
    const uint8_t *out; /* in the output block of the thread that took it */
    size_t out_len;
    uLong check;    /* adler32 or crc32 of the chunk */
    int failed;
} pchunk;

/* The threads' shared queue: each takes the next chunk not yet taken,
 * so a thread given slow chunks does not hold the others up. */
typedef struct pjob {
    pchunk *chunks;
    size_t n, next;
} pjob;

/* A thread's outputs go one after another into one block of its own, on
 * huge pages where it is large: on this VM every first write to a 4 KiB
 * page costs ~11 us, so a fresh malloc per chunk cost more than deflating
 * 1 MiB takes to spare.  The block has room for every chunk (it is only
 * address space until written). */
typedef struct pworker {
    pjob *queue;
    uint8_t *out;
    size_t cap, used;
    int huge; /* out is bi_huge_map's (else malloc's) */
} pworker;

/* At most what deflating one chunk writes, sync flush included. */
static size_t par_out_max(void) { return compressBound((uLong)PAR_CHUNK) + 64; }

static void pchunk_deflate(pchunk *c, pworker *w) {
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    c->failed = 1;
    /* libdeflate's checksums are vectorised (zlib's adler32 is ~10x slower);
     * zlib's *_combine joins them, as the values are the same functions. */
    c->check = c->gzip ? libdeflate_crc32(0, c->in, c->n) : libdeflate_adler32(1, c->in, c->n);
    size_t room = w->cap - w->used < par_out_max() ? w->cap - w->used : par_out_max();
    if (deflateInit2(&zs, c->level, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) return;
    if (!c->dict || deflateSetDictionary(&zs, c->in - c->dict, (uInt)c->dict) == Z_OK) {
        zs.next_in = (Bytef *)c->in;
        zs.avail_in = (uInt)c->n;
        zs.next_out = w->out + w->used;
        zs.avail_out = (uInt)room;
        int rc = deflate(&zs, c->last ? Z_FINISH : Z_SYNC_FLUSH);
        c->out = w->out + w->used;
        c->out_len = room - zs.avail_out;
        c->failed = zs.avail_in != 0 || (c->last ? rc != Z_STREAM_END : rc != Z_OK);
        if (!c->failed) w->used += c->out_len;
    }
    deflateEnd(&zs);
}

static void *pjob_run(void *arg) {
    pworker *w = arg;
    pjob *j = w->queue;
    for (size_t i; (i = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED)) < j->n;) pchunk_deflate(&j->chunks[i], w);
    return NULL;
}

static int online_threads(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > PAR_THREADS_MAX ? PAR_THREADS_MAX : (int)n;
}

static void put_be32(uint8_t *p, uint32_t v) {
    for (int k = 0; k < 4; k++) p[k] = (uint8_t)(v >> (24 - 8 * k));
}

static void put_le32(uint8_t *p, uint32_t v) {
    for (int k = 0; k < 4; k++) p[k] = (uint8_t)(v >> (8 * k));
}

/* The zlib header zlib itself writes for a level (RFC 1950 FLEVEL), and
 * gzip's with mtime 0 and OS 3, as zlib's deflateInit2 with a gzip wrapper. */
static void par_header(bi_buf *out, int level, int gzip) {
    if (gzip) {
        static const uint8_t gz[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
        uint8_t h[10];
        memcpy(h, gz, sizeof h);
        h[8] = level == 9 ? 2 : level == 1 ? 4 : 0;
        bi_buf_put(out, h, sizeof h);
        return;
    }
    unsigned flevel = level < 2 ? 0 : level < 6 ? 1 : level == 6 ? 2 : 3;
    unsigned cmf = 0x78, flg = flevel << 6;
    flg += 31 - (cmf * 256 + flg) % 31;
    uint8_t h[2] = {(uint8_t)cmf, (uint8_t)flg};
    bi_buf_put(out, h, 2);
}

static brine_status zlib_encode_parallel(enc *e, int level, int gzip, int nt, brine_error *err) {
    const char *name = gzip ? "gzip" : "zlib";
    size_t n = (e->size + PAR_CHUNK - 1) / PAR_CHUNK;
    pchunk *chunks = calloc(n, sizeof *chunks);
    pworker *workers = calloc((size_t)nt, sizeof *workers);
    brine_status st = BRINE_OK;
    if (!chunks || !workers) {
        st = enc_nomem(err, name);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        size_t at = i * PAR_CHUNK;
        chunks[i] = (pchunk){e->in + at, min_size(PAR_CHUNK, e->size - at), at < PAR_WINDOW ? at : PAR_WINDOW,
                             i + 1 == n, level, gzip, NULL, 0, 0, 0};
    }
    pjob queue = {chunks, n, 0};
    for (int w = 0; w < nt; w++) {
        pworker *pw = &workers[w];
        pw->queue = &queue;
        pw->cap = n * par_out_max();
        pw->out = bi_huge_map(pw->cap);
        pw->huge = pw->out != NULL;
        if (!pw->out && !(pw->out = malloc(pw->cap))) {
            st = enc_nomem(err, name);
            goto done;
        }
    }
    bi_run_jobs(pjob_run, workers, sizeof *workers, (size_t)nt);
    size_t total = 10 + 8; /* the largest header and trailer */
    for (size_t i = 0; i < n; i++) total += chunks[i].out_len;
    /* One allocation, not a doubling per chunk; huge pages for the same
     * reason as the threads' blocks. */
    if (bi_buf_reserve(e->out, total)) bi_huge_advise(e->out->data + e->out->len, e->out->cap - e->out->len);
    par_header(e->out, level, gzip);
    uLong check = chunks[0].check;
    for (size_t i = 0; i < n && !st; i++) {
        if (chunks[i].failed) st = enc_internal(err, name);
        else bi_buf_put(e->out, chunks[i].out, chunks[i].out_len);
        if (i) check = gzip ? crc32_combine(check, chunks[i].check, (z_off_t)chunks[i].n)
                            : adler32_combine(check, chunks[i].check, (z_off_t)chunks[i].n);
    }
    uint8_t tail[8];
    if (gzip) put_le32(tail, (uint32_t)check), put_le32(tail + 4, (uint32_t)e->size); /* ISIZE: size mod 2^32 */
    else put_be32(tail, (uint32_t)check);
    if (!st) bi_buf_put(e->out, tail, gzip ? 8 : 4);
    if (!st && !bi_buf_ok(e->out)) st = enc_nomem(err, name);
    e->pos = e->size;
done:
    for (int w = 0; workers && w < nt; w++) {
        if (workers[w].huge) bi_unmap(workers[w].out, workers[w].cap);
        else free(workers[w].out);
    }
    free(workers);
    free(chunks);
    return st;
}

static brine_status zlib_encode(enc *e, int level, int wbits, brine_error *err) {
    int nt = online_threads();
    if (nt > 1 && level > 0 && e->size >= PAR_MIN)
        return zlib_encode_parallel(e, level, wbits > MAX_WBITS, nt, err);
    const char *name = wbits > MAX_WBITS ? "gzip" : "zlib";
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    /* With a gzip wrapper zlib writes mtime 0 and OS 3 (Unix) by itself. */
    if (deflateInit2(&zs, level, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return enc_nomem(err, name);
    brine_status st = BRINE_OK;
    int rc = 0;
    do {
        if (!enc_begin(e, FEED_MAX, OUT_CHUNK)) {
            st = enc_nomem(err, name);
            break;
        }
        zs.next_in = (Bytef *)enc_in(e);
        zs.avail_in = (uInt)e->in_avail;
        zs.next_out = enc_out(e);
        zs.avail_out = (uInt)e->out_avail;
        rc = deflate(&zs, e->finish ? Z_FINISH : Z_NO_FLUSH);
        enc_account(e, zs.avail_in, zs.avail_out);
        if (rc == Z_STREAM_ERROR) st = enc_internal(err, name);
    } while (st == BRINE_OK && rc != Z_STREAM_END);
    deflateEnd(&zs);
    return st;
}

static brine_status bz2_encode(enc *e, int level, brine_error *err) {
    bz_stream bs;
    memset(&bs, 0, sizeof bs);
    if (BZ2_bzCompressInit(&bs, level, 0, 0) != BZ_OK) return enc_nomem(err, "bz2");
    brine_status st = BRINE_OK;
    int rc = 0;
    do {
        if (!enc_begin(e, FEED_MAX, OUT_CHUNK)) {
            st = enc_nomem(err, "bz2");
            break;
        }
        bs.next_in = (char *)enc_in(e);
        bs.avail_in = (unsigned)e->in_avail;
        bs.next_out = (char *)enc_out(e);
        bs.avail_out = (unsigned)e->out_avail;
        rc = BZ2_bzCompress(&bs, e->finish ? BZ_FINISH : BZ_RUN);
        enc_account(e, bs.avail_in, bs.avail_out);
        if (rc != BZ_RUN_OK && rc != BZ_FINISH_OK && rc != BZ_STREAM_END)
            st = enc_internal(err, "bz2");
    } while (st == BRINE_OK && rc != BZ_STREAM_END);
    BZ2_bzCompressEnd(&bs);
    return st;
}

static lzma_ret lzma_encoder_init(lzma_stream *ls, int xz, int level) {
    if (xz) return lzma_easy_encoder(ls, (uint32_t)level, LZMA_CHECK_CRC64);
    lzma_options_lzma opt;
    if (lzma_lzma_preset(&opt, (uint32_t)level)) return LZMA_OPTIONS_ERROR;
    return lzma_alone_encoder(ls, &opt);
}

static brine_status lzma_encode(enc *e, int level, int xz, brine_error *err) {
    const char *name = xz ? "xz" : "lzma";
    lzma_stream ls = LZMA_STREAM_INIT;
    lzma_ret rc = lzma_encoder_init(&ls, xz, level);
    if (rc != LZMA_OK) return rc == LZMA_MEM_ERROR ? enc_nomem(err, name) : enc_internal(err, name);
    brine_status st = BRINE_OK;
    do {
        if (!enc_begin(e, FEED_MAX, OUT_CHUNK)) {
            st = enc_nomem(err, name);
            break;
        }
        ls.next_in = enc_in(e);
        ls.avail_in = e->in_avail;
        ls.next_out = enc_out(e);
        ls.avail_out = e->out_avail;
        rc = lzma_code(&ls, e->finish ? LZMA_FINISH : LZMA_RUN);
        enc_account(e, ls.avail_in, ls.avail_out);
        if (rc == LZMA_MEM_ERROR) st = enc_nomem(err, name);
        else if (rc != LZMA_OK && rc != LZMA_STREAM_END) st = enc_internal(err, name);
    } while (st == BRINE_OK && rc != LZMA_STREAM_END);
    lzma_end(&ls);
    return st;
}

/* Input slice per LZ4F_compressUpdate call; its worst-case output bound is
 * what gets reserved before the call. */
#define LZ4_SLICE ((size_t)1 << 20)

/* One call of the LZ4F encoder into reserved room: n is its return value. */
static int lz4_step(enc *e, size_t n) {
    if (LZ4F_isError(n)) return 0;
    e->out->len += n;
    return 1;
}

/* Returns BRINE_E_NOMEM when the buffer could not grow and BRINE_E_ARGUMENT
 * when LZ4F refused a call; lz4_encode turns both into messages. */
static brine_status lz4_encode_frame(enc *e, LZ4F_cctx *cc, const LZ4F_preferences_t *p) {
    size_t bound = LZ4F_compressBound(LZ4_SLICE, p);
    if (!bi_buf_reserve(e->out, LZ4F_HEADER_SIZE_MAX)) return BRINE_E_NOMEM;
    if (!lz4_step(e, LZ4F_compressBegin(cc, enc_out(e), e->out->cap - e->out->len, p)))
        return BRINE_E_ARGUMENT;
    while (e->pos < e->size) {
        size_t n = min_size(e->size - e->pos, LZ4_SLICE);
        if (!bi_buf_reserve(e->out, bound)) return BRINE_E_NOMEM;
        if (!lz4_step(e, LZ4F_compressUpdate(cc, enc_out(e), e->out->cap - e->out->len,
                                             enc_in(e), n, NULL)))
            return BRINE_E_ARGUMENT;
        e->pos += n;
    }
    /* A source size of 0 gives the bound of the final flush and end mark. */
    if (!bi_buf_reserve(e->out, LZ4F_compressBound(0, p))) return BRINE_E_NOMEM;
    if (!lz4_step(e, LZ4F_compressEnd(cc, enc_out(e), e->out->cap - e->out->len, NULL)))
        return BRINE_E_ARGUMENT;
    return BRINE_OK;
}

/* One frame like lz4.frame's (64 KiB linked blocks), plus the content size
 * and a content checksum so corruption is caught when it is read back. */
static brine_status lz4_encode(enc *e, int level, brine_error *err) {
    LZ4F_preferences_t p;
    memset(&p, 0, sizeof p);
    p.compressionLevel = level;
    p.frameInfo.blockSizeID = LZ4F_max64KB;
    p.frameInfo.blockMode = LZ4F_blockLinked;
    p.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
    p.frameInfo.contentSize = e->size;
    LZ4F_cctx *cc = NULL;
    if (LZ4F_isError(LZ4F_createCompressionContext(&cc, LZ4F_VERSION))) return enc_nomem(err, "lz4");
    brine_status st = lz4_encode_frame(e, cc, &p);
    LZ4F_freeCompressionContext(cc);
    if (st == BRINE_E_NOMEM) return enc_nomem(err, "lz4");
    if (st != BRINE_OK) return enc_internal(err, "lz4");
    return BRINE_OK;
}

int bi_default_level(brine_compression c) {
    switch (c) {
    case BRINE_COMPRESSION_ZLIB:
    case BRINE_COMPRESSION_GZIP: return 3;
    case BRINE_COMPRESSION_BZ2: return 9;
    case BRINE_COMPRESSION_XZ:
    case BRINE_COMPRESSION_LZMA: return 6;
    default: return 0;
    }
}

/* Levels each library accepts; lz4.frame allows 0..16 (LZ4F clamps above
 * its HC maximum of 12). */
static int level_ok(brine_compression c, int level) {
    switch (c) {
    case BRINE_COMPRESSION_ZLIB:
    case BRINE_COMPRESSION_GZIP: return level >= 0 && level <= 9;
    case BRINE_COMPRESSION_BZ2: return level >= 1 && level <= 9;
    case BRINE_COMPRESSION_XZ:
    case BRINE_COMPRESSION_LZMA: return level >= 0 && level <= 9;
    case BRINE_COMPRESSION_LZ4: return level >= 0 && level <= 16;
    default: return 1;
    }
}

static brine_status encode(brine_compression c, int level, enc *e, brine_error *err) {
    switch (c) {
    case BRINE_COMPRESSION_ZLIB: return zlib_encode(e, level, MAX_WBITS, err);
    case BRINE_COMPRESSION_GZIP: return zlib_encode(e, level, MAX_WBITS + 16, err);
    case BRINE_COMPRESSION_BZ2: return bz2_encode(e, level, err);
    case BRINE_COMPRESSION_XZ: return lzma_encode(e, level, 1, err);
    case BRINE_COMPRESSION_LZMA: return lzma_encode(e, level, 0, err);
    case BRINE_COMPRESSION_LZ4: return lz4_encode(e, level, err);
    default:
        bi_buf_put(e->out, e->in, e->size);
        return bi_buf_ok(e->out) ? BRINE_OK : enc_nomem(err, "no compression");
    }
}

brine_status bi_compress(brine_compression c, int level, const uint8_t *in, size_t size,
                         bi_buf *out, brine_error *err) {
    if ((unsigned)c >= BRINE_COMPRESSION_COUNT_)
        return bi_fail(err, BRINE_E_ARGUMENT, -1, "unknown compression method");
    if (level == -1) level = bi_default_level(c);
    if (!level_ok(c, level))
        return bi_fail(err, BRINE_E_ARGUMENT, -1, "compression level %d is out of range for %s",
                       level, method_names[c]);
    if (!bi_buf_ok(out)) return bi_fail(err, BRINE_E_NOMEM, -1, "output buffer already failed");
    size_t start = out->len;
    enc e = {in, size, 0, out, 0, 0, 0};
    brine_status st = encode(c, level, &e, err);
    if (st != BRINE_OK) out->len = start;
    return st;
}
