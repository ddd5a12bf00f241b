/* crypt.c — checksums, signatures and encryption of model files on
 * libsodium.  Every file is read in chunks: neither a checksum, a
 * signature nor an encryption ever holds a whole file, and decryption into
 * memory holds only the plaintext. */
#include "crypt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "buf.h"
#include "error.h"

#define IO_CHUNK 65536
#define ENC_VERSION 1
#define ENC_PREAMBLE 20 /* magic 8, version 1, zero 3, key id 8: the chunks' additional data */
#define ENC_HEADER (ENC_PREAMBLE + crypto_secretstream_xchacha20poly1305_HEADERBYTES)
#define ENC_ABYTES crypto_secretstream_xchacha20poly1305_ABYTES
#define ENC_CIPHER_CHUNK (BI_ENC_CHUNK + ENC_ABYTES)
#define SIG_VERSION 1
#define SIG_PREFIX 12 /* magic 8, version 1, zero 3: also the signed message's prefix */
#define KEY_ID_BYTES 8

static brine_status io_fail(brine_error *err, const char *what, const char *path) {
    return bi_fail(err, BRINE_E_IO, -1, "%s %s: %s", what, path, strerror(errno));
}

static brine_status sodium_ready(brine_error *err) {
    if (sodium_init() < 0) return bi_fail(err, BRINE_E_IO, -1, "libsodium cannot initialise (no entropy source)");
    return BRINE_OK;
}

void bi_hex(char *out, const uint8_t *p, size_t n) { sodium_bin2hex(out, 2 * n + 1, p, n); }

/* ----------------------------------------------------------------- input */

/* Where ciphertext or hashed bytes come from: a descriptor or memory. */
typedef struct source {
    int fd;             /* -1: memory */
    const uint8_t *mem;
    size_t size, pos;
    const char *name;   /* for messages */
    uint64_t offset;    /* bytes consumed so far */
} source;

/* Reads up to want bytes, fewer only at end of input. */
static brine_status source_read(source *s, uint8_t *buf, size_t want, size_t *got, brine_error *err) {
    *got = 0;
    if (s->fd < 0) {
        size_t n = s->size - s->pos < want ? s->size - s->pos : want;
        memcpy(buf, s->mem + s->pos, n);
        s->pos += n;
        *got = n;
    }
    while (s->fd >= 0 && *got < want) {
        ssize_t n = read(s->fd, buf + *got, want - *got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return io_fail(err, "cannot read", s->name);
        if (n == 0) break;
        *got += (size_t)n;
    }
    s->offset += *got;
    return BRINE_OK;
}

static brine_status open_read(int *fd, const char *path, brine_error *err) {
    do *fd = open(path, O_RDONLY | O_CLOEXEC);
    while (*fd < 0 && errno == EINTR);
    if (*fd < 0) return io_fail(err, "cannot open", path);
    struct stat st;
    if (fstat(*fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(*fd);
        errno = EISDIR;
        return io_fail(err, "cannot read", path);
    }
    return BRINE_OK;
}

/* ------------------------------------------------------------------ keys */

static const char *const key_headers[] = {
    "brine symmetric-key v1",
    "brine ed25519-secret-key v1",
    "brine ed25519-public-key v1",
};
static const size_t key_sizes[] = {crypto_secretstream_xchacha20poly1305_KEYBYTES, crypto_sign_SECRETKEYBYTES,
                                   crypto_sign_PUBLICKEYBYTES};

const char *bi_key_kind_name(bi_key_kind kind) {
    switch (kind) {
    case BI_KEY_SYMMETRIC: return "symmetric key";
    case BI_KEY_SIGN_SECRET: return "Ed25519 secret key";
    case BI_KEY_SIGN_PUBLIC: return "Ed25519 public key";
    }
    return "key";
}

static const char *key_hint(bi_key_kind kind) {
    switch (kind) {
    case BI_KEY_SYMMETRIC: return "brine keygen --symmetric -o FILE makes one";
    case BI_KEY_SIGN_SECRET: return "brine keygen -o NAME makes NAME.key";
    case BI_KEY_SIGN_PUBLIC: return "brine keygen -o NAME makes NAME.pub";
    }
    return "";
}

brine_status bi_key_generate_symmetric(bi_key *out, brine_error *err) {
    brine_status st = sodium_ready(err);
    if (st) return st;
    out->kind = BI_KEY_SYMMETRIC;
    out->len = crypto_secretstream_xchacha20poly1305_KEYBYTES;
    crypto_secretstream_xchacha20poly1305_keygen(out->bytes);
    return BRINE_OK;
}

brine_status bi_key_generate_pair(bi_key *secret, bi_key *public_key, brine_error *err) {
    brine_status st = sodium_ready(err);
    if (st) return st;
    secret->kind = BI_KEY_SIGN_SECRET;
    secret->len = crypto_sign_SECRETKEYBYTES;
    public_key->kind = BI_KEY_SIGN_PUBLIC;
    public_key->len = crypto_sign_PUBLICKEYBYTES;
    if (crypto_sign_keypair(public_key->bytes, secret->bytes) != 0)
        return bi_fail(err, BRINE_E_IO, -1, "cannot generate an Ed25519 key pair");
    return BRINE_OK;
}

void bi_key_wipe(bi_key *key) { sodium_memzero(key, sizeof *key); }

/* The part of a key that may be shown: the public key of a pair, and for
 * a symmetric key the key itself, only ever through a keyed hash. */
static void key_id(const bi_key *key, uint8_t id[KEY_ID_BYTES]) {
    const uint8_t *k = key->bytes;
    size_t n = key->len;
    if (key->kind == BI_KEY_SIGN_SECRET) k += crypto_sign_SEEDBYTES, n = crypto_sign_PUBLICKEYBYTES;
    uint8_t h[16];
    crypto_generichash(h, sizeof h, (const uint8_t *)"brine key id", 12, k, n);
    memcpy(id, h, KEY_ID_BYTES);
}

void bi_key_fingerprint(const bi_key *key, char *buf) {
    uint8_t id[KEY_ID_BYTES];
    key_id(key, id);
    bi_hex(buf, id, sizeof id);
}

/* The header line's kind, or -1. */
static int header_kind(const char *line, size_t n) {
    for (int k = 0; k < 3; k++)
        if (strlen(key_headers[k]) == n && !memcmp(line, key_headers[k], n)) return k;
    return -1;
}

/* libsodium's secret key is seed || public key: the public half must be
 * the one the seed derives, or signatures would name the wrong signer. */
static int pair_consistent(const bi_key *secret) {
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    int ok = crypto_sign_seed_keypair(pk, sk, secret->bytes) == 0 &&
             sodium_memcmp(pk, secret->bytes + crypto_sign_SEEDBYTES, sizeof pk) == 0;
    sodium_memzero(sk, sizeof sk);
    return ok;
}

static brine_status key_parse(bi_key *out, const char *text, size_t n, const char *path, bi_key_kind want,
                              brine_error *err) {
    const char *nl = memchr(text, '\n', n);
    size_t line = nl ? (size_t)(nl - text) : n;
    int kind = header_kind(text, line > 0 && text[line - 1] == '\r' ? line - 1 : line);
    if (kind < 0)
        return bi_fail(err, BRINE_E_FORMAT, -1, "%s is not a brine key file (needed: a brine %s file; %s)", path,
                       bi_key_kind_name(want), key_hint(want));
    if (kind != (int)want)
        return bi_fail(err, BRINE_E_FORMAT, -1, "%s is a brine %s file, but a brine %s file is needed (%s)", path,
                       bi_key_kind_name((bi_key_kind)kind), bi_key_kind_name(want), key_hint(want));
    const char *hex = text + line + 1, *end;
    size_t len;
    if (!nl || sodium_hex2bin(out->bytes, sizeof out->bytes, hex, n - line - 1, NULL, &len, &end) != 0 ||
        len != key_sizes[want] || strspn(end, "\r\n") != (size_t)(text + n - end))
        return bi_fail(err, BRINE_E_FORMAT, -1, "%s: the %s is damaged (expected %zu bytes in hex after the first line)",
                       path, bi_key_kind_name(want), key_sizes[want]);
    out->kind = want;
    out->len = len;
    if (want == BI_KEY_SIGN_SECRET && !pair_consistent(out))
        return bi_fail(err, BRINE_E_FORMAT, -1, "%s: the Ed25519 secret key is damaged (its halves disagree)", path);
    return BRINE_OK;
}

brine_status bi_key_read(bi_key *out, const char *path, bi_key_kind want, brine_error *err) {
    brine_status st = sodium_ready(err);
    if (st) return st;
    int fd;
    st = open_read(&fd, path, err);
    if (st) return st;
    char text[512]; /* a key file is under 200 bytes */
    size_t n;
    source s = {fd, NULL, 0, 0, path, 0};
    st = source_read(&s, (uint8_t *)text, sizeof text - 1, &n, err);
    close(fd);
    if (!st && n == sizeof text - 1)
        st = bi_fail(err, BRINE_E_FORMAT, -1, "%s is not a brine key file (too long)", path);
    if (!st) {
        text[n] = '\0';
        st = key_parse(out, text, n, path, want, err);
    }
    sodium_memzero(text, sizeof text);
    if (st) bi_key_wipe(out);
    return st;
}

brine_status bi_key_write(const bi_key *key, const char *path, brine_error *err) {
    char text[256];
    size_t h = strlen(key_headers[key->kind]);
    memcpy(text, key_headers[key->kind], h);
    text[h] = '\n';
    bi_hex(text + h + 1, key->bytes, key->len);
    size_t n = h + 1 + 2 * key->len;
    text[n++] = '\n';
    bi_atomic a;
    brine_status st = bi_atomic_open(&a, path, key->kind == BI_KEY_SIGN_PUBLIC ? 0644 : 0600, err);
    if (!st) st = bi_atomic_write(&a, text, n, err);
    if (!st) st = bi_atomic_commit(&a, err);
    else if (a.path) bi_atomic_abort(&a);
    sodium_memzero(text, sizeof text);
    return st;
}

/* ------------------------------------------------------------- checksums */

brine_status bi_sha256_file(uint8_t out[BI_SHA256_BYTES], const char *path, brine_error *err) {
    brine_status st = sodium_ready(err);
    if (st) return st;
    int fd;
    st = open_read(&fd, path, err);
    if (st) return st;
    uint8_t *buf = malloc(IO_CHUNK);
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    source s = {fd, NULL, 0, 0, path, 0};
    size_t n = 1;
    if (!buf) st = bi_fail(err, BRINE_E_NOMEM, -1, "out of memory hashing %s", path);
    while (!st && n) {
        st = source_read(&s, buf, IO_CHUNK, &n, err);
        if (!st) crypto_hash_sha256_update(&h, buf, n);
    }
    if (!st) crypto_hash_sha256_final(&h, out);
    free(buf);
    close(fd);
    return st;
}

/* ------------------------------------------------------------ signatures */

/* The signed message: the .sig file's first 12 bytes, then the digest. */
static void sig_message(uint8_t msg[SIG_PREFIX + BI_SHA256_BYTES], const uint8_t digest[BI_SHA256_BYTES]) {
    memcpy(msg, BI_SIG_MAGIC, 8);
    msg[8] = SIG_VERSION;
    msg[9] = msg[10] = msg[11] = 0;
    memcpy(msg + SIG_PREFIX, digest, BI_SHA256_BYTES);
}

brine_status bi_sig_make(uint8_t out[BI_SIG_FILE_BYTES], const uint8_t digest[BI_SHA256_BYTES], const bi_key *secret,
                         brine_error *err) {
    brine_status st = sodium_ready(err);
    if (st) return st;
    if (secret->kind != BI_KEY_SIGN_SECRET) return bi_fail(err, BRINE_E_ARGUMENT, -1, "signing needs an Ed25519 secret key");
    uint8_t msg[SIG_PREFIX + BI_SHA256_BYTES];
    sig_message(msg, digest);
    memcpy(out, msg, SIG_PREFIX);
    memcpy(out + SIG_PREFIX, secret->bytes + crypto_sign_SEEDBYTES, crypto_sign_PUBLICKEYBYTES);
    crypto_sign_detached(out + SIG_PREFIX + crypto_sign_PUBLICKEYBYTES, NULL, msg, sizeof msg, secret->bytes);
    return BRINE_OK;
}

brine_status bi_sig_check(const uint8_t *sig, size_t size, const uint8_t digest[BI_SHA256_BYTES],
                          const bi_key *public_key, brine_error *err) {
    brine_status st = sodium_ready(err);
    if (st) return st;
    if (size != BI_SIG_FILE_BYTES || memcmp(sig, BI_SIG_MAGIC, 8) != 0)
        return bi_fail(err, BRINE_E_FORMAT, -1, "not a brine signature (%d bytes starting with %s expected, found %zu bytes)",
                       BI_SIG_FILE_BYTES, BI_SIG_MAGIC, size);
    if (sig[8] != SIG_VERSION || sig[9] || sig[10] || sig[11])
        return bi_fail(err, BRINE_E_FORMAT, 8, "signature format version %u is not supported (brine writes %d)", sig[8],
                       SIG_VERSION);
    if (sodium_memcmp(sig + SIG_PREFIX, public_key->bytes, crypto_sign_PUBLICKEYBYTES) != 0) {
        bi_key signer = {BI_KEY_SIGN_PUBLIC, {0}, crypto_sign_PUBLICKEYBYTES};
        memcpy(signer.bytes, sig + SIG_PREFIX, crypto_sign_PUBLICKEYBYTES);
        char a[17], b[17];
        bi_key_fingerprint(&signer, a);
        bi_key_fingerprint(public_key, b);
        return bi_fail(err, BRINE_E_FORMAT, -1, "signed by key %s, not by the trusted key %s", a, b);
    }
    uint8_t msg[SIG_PREFIX + BI_SHA256_BYTES];
    sig_message(msg, digest);
    if (crypto_sign_verify_detached(sig + SIG_PREFIX + crypto_sign_PUBLICKEYBYTES, msg, sizeof msg,
                                    public_key->bytes) != 0)
        return bi_fail(err, BRINE_E_FORMAT, -1, "the signature does not match the file: it was changed after signing");
    return BRINE_OK;
}

/* ------------------------------------------------------------ encryption */

int bi_enc_detect(const uint8_t *p, size_t size) {
    return size >= BI_ENC_MAGIC_LEN && !memcmp(p, BI_ENC_MAGIC, BI_ENC_MAGIC_LEN);
}

/* Where plaintext goes: a file being written atomically, or memory. */
typedef brine_status (*sink_fn)(void *ctx, const uint8_t *p, size_t n, brine_error *err);

static brine_status sink_atomic(void *ctx, const uint8_t *p, size_t n, brine_error *err) {
    return bi_atomic_write(ctx, p, n, err);
}

static brine_status sink_buf(void *ctx, const uint8_t *p, size_t n, brine_error *err) {
    bi_buf *b = ctx;
    bi_buf_put(b, p, n);
    return bi_buf_ok(b) ? BRINE_OK : bi_fail(err, BRINE_E_NOMEM, -1, "out of memory decrypting");
}

static void enc_preamble(uint8_t pre[ENC_PREAMBLE], const bi_key *key) {
    memcpy(pre, BI_ENC_MAGIC, BI_ENC_MAGIC_LEN);
    pre[8] = ENC_VERSION;
    pre[9] = pre[10] = pre[11] = 0;
    key_id(key, pre + 12);
}

/* Encrypts src into the sink: header, then full chunks, the last one
 * (possibly empty) tagged FINAL so that truncation is detected. */
static brine_status encrypt_stream(source *src, const bi_key *key, sink_fn sink, void *ctx, brine_error *err) {
    uint8_t head[ENC_HEADER];
    crypto_secretstream_xchacha20poly1305_state state;
    enc_preamble(head, key);
    crypto_secretstream_xchacha20poly1305_init_push(&state, head + ENC_PREAMBLE, key->bytes);
    brine_status st = sink(ctx, head, sizeof head, err);
    uint8_t *plain = malloc(BI_ENC_CHUNK), *cipher = malloc(ENC_CIPHER_CHUNK);
    if (!plain || !cipher) st = bi_fail(err, BRINE_E_NOMEM, -1, "out of memory encrypting %s", src->name);
    /* One chunk is read ahead, so the last one is known when it is sealed. */
    size_t n = 0, next = 0;
    if (!st) st = source_read(src, plain, BI_ENC_CHUNK, &n, err);
    for (int final = 0; !st && !final;) {
        uint8_t probe;
        if (n == BI_ENC_CHUNK) st = source_read(src, &probe, 1, &next, err);
        final = n < BI_ENC_CHUNK || next == 0;
        unsigned char tag = final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
                                  : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
        unsigned long long clen;
        if (!st) crypto_secretstream_xchacha20poly1305_push(&state, cipher, &clen, plain, n, head, ENC_PREAMBLE, tag);
        if (!st) st = sink(ctx, cipher, (size_t)clen, err);
        if (!st && !final) {
            plain[0] = probe;
            st = source_read(src, plain + 1, BI_ENC_CHUNK - 1, &n, err);
            n++;
            next = 0;
        }
    }
    if (plain) sodium_memzero(plain, BI_ENC_CHUNK);
    sodium_memzero(&state, sizeof state);
    free(plain);
    free(cipher);
    return st;
}

static brine_status enc_fail(brine_error *err, const source *s, int64_t at, const char *what) {
    return bi_fail(err, BRINE_E_FORMAT, at, "%s: %s", s->name, what);
}

/* Reads and checks the header; state is ready to pull the first chunk. */
static brine_status decrypt_header(source *src, const bi_key *key, uint8_t pre[ENC_PREAMBLE],
                                   crypto_secretstream_xchacha20poly1305_state *state, brine_error *err) {
    uint8_t head[ENC_HEADER];
    size_t n;
    brine_status st = source_read(src, head, sizeof head, &n, err);
    if (st) return st;
    if (!bi_enc_detect(head, n))
        return bi_fail(err, BRINE_E_FORMAT, 0, "%s is not a brine encrypted file (it does not start with %s)", src->name,
                       BI_ENC_MAGIC);
    if (n < sizeof head)
        return bi_fail(err, BRINE_E_FORMAT, (int64_t)n, "%s: the encrypted file is truncated inside its %d-byte header",
                       src->name, ENC_HEADER);
    if (head[8] != ENC_VERSION)
        return bi_fail(err, BRINE_E_UNSUPPORTED, 8, "%s: encrypted format version %u is not supported (brine reads %d)",
                       src->name, head[8], ENC_VERSION);
    if (head[9] || head[10] || head[11])
        return enc_fail(err, src, 9, "the encrypted file's header is damaged (reserved bytes are not zero)");
    enc_preamble(pre, key);
    if (memcmp(pre + 12, head + 12, KEY_ID_BYTES) != 0) {
        char a[17], b[17];
        bi_hex(a, head + 12, KEY_ID_BYTES);
        bi_hex(b, pre + 12, KEY_ID_BYTES);
        return bi_fail(err, BRINE_E_FORMAT, 12,
                       "%s was encrypted with key %s, not with the key given (%s): wrong key, or a damaged header",
                       src->name, a, b);
    }
    if (crypto_secretstream_xchacha20poly1305_init_pull(state, head + ENC_PREAMBLE, key->bytes) != 0)
        return enc_fail(err, src, ENC_PREAMBLE, "the encrypted file's stream header is invalid");
    return BRINE_OK;
}

/* Pulls chunk after chunk into the sink; every byte is authenticated, the
 * header's preamble included (as additional data), and the stream must
 * end exactly with its FINAL chunk. */
static brine_status decrypt_stream(source *src, const bi_key *key, sink_fn sink, void *ctx, brine_error *err) {
    uint8_t pre[ENC_PREAMBLE];
    crypto_secretstream_xchacha20poly1305_state state;
    brine_status st = decrypt_header(src, key, pre, &state, err);
    uint8_t *plain = malloc(BI_ENC_CHUNK), *cipher = malloc(ENC_CIPHER_CHUNK);
    if (!st && (!plain || !cipher)) st = bi_fail(err, BRINE_E_NOMEM, -1, "out of memory decrypting %s", src->name);
    for (int final = 0, chunk = 0; !st && !final; chunk++) {
        int64_t at = (int64_t)src->offset;
        size_t n;
        st = source_read(src, cipher, ENC_CIPHER_CHUNK, &n, err);
        if (st) break;
        unsigned long long plen;
        unsigned char tag;
        if (n < ENC_ABYTES)
            st = bi_fail(err, BRINE_E_FORMAT, at, "%s is truncated: it ends before its final chunk (chunk %d)", src->name,
                         chunk);
        else if (crypto_secretstream_xchacha20poly1305_pull(&state, plain, &plen, &tag, cipher, n, pre, ENC_PREAMBLE) != 0)
            st = bi_fail(err, BRINE_E_FORMAT, at,
                         "%s: chunk %d does not authenticate: the file was changed or truncated after encryption "
                         "(or the wrong key was given)", src->name, chunk);
        else if (tag != crypto_secretstream_xchacha20poly1305_TAG_FINAL && n < ENC_CIPHER_CHUNK)
            st = bi_fail(err, BRINE_E_FORMAT, (int64_t)src->offset,
                         "%s is truncated: it ends before its final chunk (chunk %d)", src->name, chunk);
        if (st) break;
        final = tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL;
        st = sink(ctx, plain, (size_t)plen, err);
        uint8_t extra;
        if (!st && final) st = source_read(src, &extra, 1, &n, err);
        if (!st && final && n)
            st = bi_fail(err, BRINE_E_FORMAT, (int64_t)src->offset - 1, "%s: bytes follow the final chunk", src->name);
    }
    if (plain) sodium_memzero(plain, BI_ENC_CHUNK);
    sodium_memzero(&state, sizeof state);
    free(plain);
    free(cipher);
    return st;
}

static brine_status need_symmetric(const bi_key *key, brine_error *err) {
    if (key->kind != BI_KEY_SYMMETRIC || key->len != crypto_secretstream_xchacha20poly1305_KEYBYTES)
        return bi_fail(err, BRINE_E_ARGUMENT, -1, "encryption needs a symmetric key");
    return sodium_ready(err);
}

/* Streams the file at in through fn (encrypt_stream or decrypt_stream)
 * into an atomically written out. */
static brine_status file_to_file(const char *in, const char *out, const bi_key *key,
                                 brine_status (*fn)(source *, const bi_key *, sink_fn, void *, brine_error *),
                                 brine_error *err) {
    brine_status st = need_symmetric(key, err);
    int fd = -1;
    if (!st) st = open_read(&fd, in, err);
    if (st) return st;
    bi_atomic a;
    source s = {fd, NULL, 0, 0, in, 0};
    st = bi_atomic_open(&a, out, -1, err);
    if (!st) {
        st = fn(&s, key, sink_atomic, &a, err);
        if (!st) st = bi_atomic_commit(&a, err);
        else bi_atomic_abort(&a);
    }
    close(fd);
    return st;
}

brine_status bi_encrypt_file(const char *in, const char *out, const bi_key *key, brine_error *err) {
    return file_to_file(in, out, key, encrypt_stream, err);
}

brine_status bi_decrypt_file(const char *in, const char *out, const bi_key *key, brine_error *err) {
    return file_to_file(in, out, key, decrypt_stream, err);
}

/* The plaintext size an .enc file of this size holds if it is intact, so
 * the buffer is allocated once, never grown (and copied) while reading. */
static size_t plain_size(uint64_t size) {
    if (size < ENC_HEADER + ENC_ABYTES) return 0;
    uint64_t body = size - ENC_HEADER, chunks = (body + ENC_CIPHER_CHUNK - 1) / ENC_CIPHER_CHUNK;
    return (size_t)(body - chunks * ENC_ABYTES);
}

static brine_status decrypt_source(bi_input *out, source *s, uint64_t expect, const bi_key *key, brine_error *err) {
    bi_buf b = BI_BUF_INIT;
    brine_status st = need_symmetric(key, err);
    /* Exactly the plaintext's size (bi_buf_reserve would round up to a
     * power of two); only a pipe, whose size is unknown, grows the buffer. */
    if (!st && expect && !(b.data = malloc((size_t)expect)))
        st = bi_fail(err, BRINE_E_NOMEM, -1, "out of memory decrypting %s (%llu bytes)", s->name,
                     (unsigned long long)expect);
    b.cap = b.data ? (size_t)expect : 0;
    if (!st) st = decrypt_stream(s, key, sink_buf, &b, err);
    if (st) {
        if (b.data) sodium_memzero(b.data, b.len);
        bi_buf_free(&b);
        return st;
    }
    size_t len;
    uint8_t *data = bi_buf_take(&b, &len);
    bi_input_adopt(out, data, len);
    return BRINE_OK;
}

static brine_status decrypt_fd(bi_input *out, int fd, const char *path, uint64_t max_bytes, const bi_key *key,
                               brine_error *err) {
    struct stat sb;
    if (fstat(fd, &sb) != 0) return io_fail(err, "cannot stat", path);
    uint64_t size = S_ISREG(sb.st_mode) ? (uint64_t)sb.st_size : 0;
    if (size > max_bytes)
        return bi_fail(err, BRINE_E_LIMIT, -1, "%s is %llu bytes, above the limit of %llu bytes", path,
                       (unsigned long long)size, (unsigned long long)max_bytes);
    source s = {fd, NULL, 0, 0, path, 0};
    return decrypt_source(out, &s, plain_size(size), key, err);
}

brine_status bi_decrypt_to_input(bi_input *out, const char *path, uint64_t max_bytes, const bi_key *key,
                                 brine_error *err) {
    bi_input_borrow(out, NULL, 0);
    int fd;
    brine_status st = open_read(&fd, path, err);
    if (st) return st;
    st = decrypt_fd(out, fd, path, max_bytes, key, err);
    close(fd);
    return st;
}

brine_status bi_decrypt_memory(bi_input *out, const uint8_t *data, size_t size, const bi_key *key, brine_error *err) {
    bi_input_borrow(out, NULL, 0);
    source s = {-1, data, size, 0, "the encrypted data", 0};
    return decrypt_source(out, &s, plain_size(size), key, err);
}

/* ------------------------------------------------------ the loader's way */

static brine_status key_needed(const char *path, brine_error *err) {
    return bi_fail(err, BRINE_E_UNSUPPORTED, -1,
                   "%s is encrypted (a brine .enc file) and needs its key: --key K or BRINE_KEY_FILE "
                   "(predict, inspect), or brine decrypt", path);
}

/* The key for an encrypted input, or the error saying one is needed. */
static brine_status load_key(bi_key *key, const char *key_file, const char *path, brine_error *err) {
    bi_key_wipe(key);
    return key_file ? bi_key_read(key, key_file, BI_KEY_SYMMETRIC, err) : key_needed(path, err);
}

static brine_status key_and_decrypt_fd(bi_input *out, int fd, const char *path, uint64_t max_bytes,
                                       const char *key_file, brine_error *err) {
    bi_key key;
    brine_status st = load_key(&key, key_file, path, err);
    if (!st) st = decrypt_fd(out, fd, path, max_bytes, &key, err);
    bi_key_wipe(&key);
    return st;
}

/* A pipe cannot be peeked: it is read whole, and decrypted from memory
 * when it turns out to be an .enc stream. */
static brine_status open_stream_keyed(bi_input *out, int fd, const char *path, uint64_t max_bytes,
                                      const char *key_file, brine_error *err) {
    bi_input raw;
    brine_status st = bi_input_open_fd(&raw, fd, path, 0, max_bytes, err);
    if (st) return st;
    if (!bi_enc_detect(raw.data, raw.size)) {
        *out = raw;
        return BRINE_OK;
    }
    bi_key key;
    st = load_key(&key, key_file, path, err);
    if (!st) st = bi_decrypt_memory(out, raw.data, raw.size, &key, err);
    bi_key_wipe(&key);
    bi_input_release(&raw);
    return st;
}

brine_status bi_input_open_keyed(bi_input *out, const char *path, int use_mmap, uint64_t max_bytes,
                                 const char *key_file, brine_error *err) {
    bi_input_borrow(out, NULL, 0);
    int fd;
    brine_status st = open_read(&fd, path, err);
    if (st) return st;
    uint8_t magic[BI_ENC_MAGIC_LEN];
    ssize_t n;
    do n = pread(fd, magic, sizeof magic, 0);
    while (n < 0 && errno == EINTR);
    if (n >= 0 && bi_enc_detect(magic, (size_t)n)) st = key_and_decrypt_fd(out, fd, path, max_bytes, key_file, err);
    else if (n >= 0) st = bi_input_open_fd(out, fd, path, use_mmap, max_bytes, err);
    else if (errno == ESPIPE) st = open_stream_keyed(out, fd, path, max_bytes, key_file, err);
    else st = io_fail(err, "cannot read", path);
    close(fd);
    return st;
}

brine_status bi_input_memory_keyed(bi_input *out, const uint8_t *data, size_t size, const char *key_file,
                                   brine_error *err) {
    bi_input_borrow(out, data, size);
    if (!bi_enc_detect(data, size)) return BRINE_OK;
    bi_key key;
    brine_status st = load_key(&key, key_file, "the data", err);
    if (!st) st = bi_decrypt_memory(out, data, size, &key, err);
    bi_key_wipe(&key);
    return st;
}
