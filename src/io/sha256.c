/* sha256.c — SHA-256 checksums as CONVENTIONS writes them: lowercase hex
 * of the whole file.  The hashing is libsodium's; files are streamed in
 * fixed chunks, so a multi-GB model needs no more memory than a small one. */
#include "brine.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <unistd.h>

#include "error.h"

static void to_hex(char out[BRINE_SHA256_HEX_SIZE], const unsigned char digest[crypto_hash_sha256_BYTES]) {
    static const char digits[] = "0123456789abcdef";
    for (size_t k = 0; k < crypto_hash_sha256_BYTES; k++) {
        out[2 * k] = digits[digest[k] >> 4];
        out[2 * k + 1] = digits[digest[k] & 15];
    }
    out[2 * crypto_hash_sha256_BYTES] = '\0';
}

static brine_status need_sodium(brine_error *err) {
    /* sodium_init is idempotent and thread-safe; 1 means already done. */
    if (sodium_init() < 0) return bi_fail(err, BRINE_E_IO, -1, "libsodium could not be initialised");
    return BRINE_OK;
}

brine_status brine_sha256_memory(char out[BRINE_SHA256_HEX_SIZE], const void *data, size_t size, brine_error *err) {
    if (!out || (!data && size)) return bi_fail(err, BRINE_E_ARGUMENT, -1, "out or data is NULL");
    brine_status st = need_sodium(err);
    if (st) return st;
    crypto_hash_sha256_state h;
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_init(&h);
    /* libsodium takes an unsigned long long length; feed in bounded pieces. */
    const unsigned char *p = data;
    while (size) {
        size_t n = size < ((size_t)1 << 30) ? size : ((size_t)1 << 30);
        crypto_hash_sha256_update(&h, p, n);
        p += n;
        size -= n;
    }
    crypto_hash_sha256_final(&h, digest);
    to_hex(out, digest);
    return BRINE_OK;
}

brine_status brine_sha256_file(char out[BRINE_SHA256_HEX_SIZE], const char *path, brine_error *err) {
    if (!out || !path) return bi_fail(err, BRINE_E_ARGUMENT, -1, "out or path is NULL");
    brine_status st = need_sodium(err);
    if (st) return st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return bi_fail(err, BRINE_E_IO, -1, "cannot open %s: %s", path, strerror(errno));
    crypto_hash_sha256_state h;
    unsigned char digest[crypto_hash_sha256_BYTES], chunk[65536];
    crypto_hash_sha256_init(&h);
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            st = bi_fail(err, BRINE_E_IO, -1, "cannot read %s: %s", path, strerror(errno));
            break;
        }
        if (n == 0) break;
        crypto_hash_sha256_update(&h, chunk, (unsigned long long)n);
    }
    close(fd);
    if (st) return st;
    crypto_hash_sha256_final(&h, digest);
    to_hex(out, digest);
    return BRINE_OK;
}
