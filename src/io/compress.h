/* compress.h — the compressors joblib uses, detected by magic number.
 * Every decoder streams into an output capped at `max_out` bytes, so a
 * decompression bomb ends with BRINE_E_LIMIT and no buffer is ever sized
 * from a header. */
#ifndef BRINE_IO_COMPRESS_H
#define BRINE_IO_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "brine.h"
#include "buf.h"

/* What the first bytes of a file say, in joblib's detection order:
 * "ZF" legacy container first, then zlib (0x78), gzip (1f 8b), bz2 ("BZ"),
 * xz (fd 37 7a 58 5a), lzma-alone (5d 00), lz4 frame (04 22 4d 18); else
 * plain.  *legacy_zf is set to 1 for the ZF container (whose payload is one
 * zlib stream after a 19-character hex length header), else 0. */
brine_compression bi_detect_compression(const uint8_t *data, size_t size, int *legacy_zf);

/* Decompresses the whole of `in` (a complete container of kind c; for
 * legacy ZF pass legacy_zf = 1 and c = ZLIB) into out (appending).
 * gzip: all members are decoded.  Bytes after the end of the compressed
 * stream(s) are an error (BRINE_E_FORMAT, "trailing data after ... stream").
 * Truncated or corrupt input: BRINE_E_FORMAT with the offset of the
 * compressed input where decoding failed and the library's message.
 * Output above max_out: BRINE_E_LIMIT. */
brine_status bi_decompress(brine_compression c, int legacy_zf, const uint8_t *in,
                           size_t size, uint64_t max_out, bi_buf *out, brine_error *err);

/* joblib's default level for a method: zlib 3, gzip 3, bz2 9, xz 6, lzma 6,
 * lz4 0. */
int bi_default_level(brine_compression c);

/* Compresses `in` as joblib's writer of that method would frame it: zlib =
 * one raw zlib stream (wbits 15), gzip = zlib with wbits 31 (mtime 0),
 * bz2 = BZh stream, xz = XZ container with CRC64, lzma = FORMAT_ALONE
 * (.lzma header with unknown size), lz4 = one LZ4 frame.  level -1 means the
 * default.  Appends to out.  Errors: BRINE_E_ARGUMENT for a level outside
 * the method's range, BRINE_E_NOMEM. */
brine_status bi_compress(brine_compression c, int level, const uint8_t *in, size_t size,
                         bi_buf *out, brine_error *err);

#endif
