/* crypt.h — integrity and confidentiality of model files, on libsodium:
 * streamed SHA-256 checksums, Ed25519 detached signatures (.sig), and
 * encryption with crypto_secretstream_xchacha20poly1305 in 64 KiB chunks
 * (.enc).  Key files, .sig and .enc layouts: docs/integrity.md. */
#ifndef BRINE_IO_CRYPT_H
#define BRINE_IO_CRYPT_H

#include <stddef.h>
#include <stdint.h>

#include "brine.h"
#include "io/file.h"

/* ------------------------------------------------------------------ keys */

typedef enum bi_key_kind {
    BI_KEY_SYMMETRIC = 0,   /* 32-byte secretstream key (encrypt, decrypt) */
    BI_KEY_SIGN_SECRET = 1, /* 64-byte Ed25519 secret key (sign) */
    BI_KEY_SIGN_PUBLIC = 2  /* 32-byte Ed25519 public key (verify) */
} bi_key_kind;

typedef struct bi_key {
    bi_key_kind kind;
    uint8_t bytes[64];
    size_t len;
} bi_key;

/* What a key file of this kind is called in messages ("symmetric key"). */
const char *bi_key_kind_name(bi_key_kind kind);

/* A fresh symmetric key, or a fresh Ed25519 pair.  BRINE_E_IO when
 * libsodium cannot initialise (no entropy source). */
brine_status bi_key_generate_symmetric(bi_key *out, brine_error *err);
brine_status bi_key_generate_pair(bi_key *secret, bi_key *public_key, brine_error *err);

/* Reads a key file and checks it holds a key of kind `want`: BRINE_E_IO
 * when it cannot be read (the message names the path), BRINE_E_FORMAT when
 * it is not a brine key file or holds another kind (the message says
 * which). */
brine_status bi_key_read(bi_key *out, const char *path, bi_key_kind want, brine_error *err);

/* Writes a key file atomically: mode 0600 for secret keys, 0644 for
 * public ones (before the umask).  Errors: BRINE_E_IO. */
brine_status bi_key_write(const bi_key *key, const char *path, brine_error *err);

/* A short fingerprint of a key, 16 lowercase hex digits, for messages:
 * the first 8 bytes of BLAKE2b-128("brine key id", key = the key's public
 * part).  buf holds at least 17 bytes. */
void bi_key_fingerprint(const bi_key *key, char *buf);

/* Wipes the key bytes. */
void bi_key_wipe(bi_key *key);

/* -------------------------------------------------------------- checksums */

#define BI_SHA256_BYTES 32
#define BI_SHA256_HEX 65 /* 64 digits and a NUL */

/* SHA-256 of a whole file, read in chunks.  Errors: BRINE_E_IO. */
brine_status bi_sha256_file(uint8_t out[BI_SHA256_BYTES], const char *path, brine_error *err);
void bi_hex(char *out, const uint8_t *p, size_t n); /* 2n digits and a NUL */

/* ------------------------------------------------------------- signatures */

#define BI_SIG_MAGIC "BRINESIG"
#define BI_SIG_FILE_BYTES 108 /* magic 8, version 1, zero 3, public key 32, signature 64 */

/* The .sig file bytes signing a file whose SHA-256 is digest. */
brine_status bi_sig_make(uint8_t out[BI_SIG_FILE_BYTES], const uint8_t digest[BI_SHA256_BYTES],
                         const bi_key *secret, brine_error *err);

/* Checks .sig bytes against digest and the public key.  BRINE_OK when the
 * signature is valid; BRINE_E_FORMAT otherwise, the message saying why
 * (not a brine signature, made by another key, does not match the file). */
brine_status bi_sig_check(const uint8_t *sig, size_t size, const uint8_t digest[BI_SHA256_BYTES],
                          const bi_key *public_key, brine_error *err);

/* ------------------------------------------------------------- encryption */

#define BI_ENC_MAGIC "BRINEENC"
#define BI_ENC_MAGIC_LEN 8
#define BI_ENC_CHUNK 65536 /* plaintext bytes per chunk; the last may be shorter */

/* 1 when the bytes begin with the .enc magic. */
int bi_enc_detect(const uint8_t *p, size_t size);

/* Encrypts the file at in into out (atomically), chunk by chunk.
 * Errors: BRINE_E_IO (either file), BRINE_E_NOMEM. */
brine_status bi_encrypt_file(const char *in, const char *out, const bi_key *key, brine_error *err);

/* Decrypts the .enc file at in into out (atomically), chunk by chunk; out
 * is untouched unless every chunk authenticates.  Errors: BRINE_E_IO,
 * BRINE_E_FORMAT (not an .enc file, a wrong key — the message gives both
 * fingerprints —, a changed, missing or extra byte), BRINE_E_NOMEM. */
brine_status bi_decrypt_file(const char *in, const char *out, const bi_key *key, brine_error *err);

/* Decrypts an .enc file into memory (*out owns the plaintext), reading the
 * ciphertext in chunks so that it is never held whole.  max_bytes bounds
 * the file size (BRINE_E_LIMIT).  Errors as bi_decrypt_file. */
brine_status bi_decrypt_to_input(bi_input *out, const char *path, uint64_t max_bytes, const bi_key *key,
                                 brine_error *err);
/* The same from .enc bytes in memory. */
brine_status bi_decrypt_memory(bi_input *out, const uint8_t *data, size_t size, const bi_key *key,
                               brine_error *err);

/* The loader's way in: opens path as bi_input_open does, but an .enc file
 * is decrypted with the symmetric key in key_file.  An .enc file and no
 * key_file: BRINE_E_UNSUPPORTED saying the file is encrypted and needs a
 * key.  A key file that cannot be read: BRINE_E_IO. */
brine_status bi_input_open_keyed(bi_input *out, const char *path, int use_mmap, uint64_t max_bytes,
                                 const char *key_file, brine_error *err);

/* As bi_input_open_keyed for bytes in memory: borrowed when they are not
 * an .enc file, else decrypted into memory the input owns. */
brine_status bi_input_memory_keyed(bi_input *out, const uint8_t *data, size_t size, const char *key_file,
                                   brine_error *err);

#endif
