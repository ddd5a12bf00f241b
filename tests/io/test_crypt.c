/* test_crypt.c — key files, checksums, signatures and chunked encryption
 * (src/io/crypt.c), and the writer in pieces they use (src/io/file.c). */
#define _GNU_SOURCE /* memmem */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "io/crypt.h"
#include "io/file.h"

static char tmpdir[256];

static const char *tmp(const char *name) {
    static char paths[4][512];
    static int next;
    char *p = paths[next++ % 4];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    return p;
}

static int put(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    int ok = fwrite(data, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

/* The whole file, malloc'd (one extra byte so empty files are not NULL). */
static uint8_t *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc((size_t)size + 1);
    *n = p ? fread(p, 1, (size_t)size, f) : 0;
    fclose(f);
    return p;
}

static unsigned mode_of(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (unsigned)(st.st_mode & 0777) : 0xffffu;
}

static int count_entries(void) {
    DIR *d = opendir(tmpdir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

static void clear_tmpdir(void) {
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", tmpdir, e->d_name);
        unlink(path);
    }
    if (d) closedir(d);
}

static uint8_t *pattern(size_t n, unsigned seed) {
    uint8_t *p = malloc(n + 1);
    uint32_t x = seed * 2654435761u + 1;
    for (size_t k = 0; k < n; k++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        p[k] = (uint8_t)x;
    }
    return p;
}

static bi_key sym_key(void) {
    bi_key k;
    brine_error err;
    brine_error_clear(&err);
    CHECK_EQ_INT(bi_key_generate_symmetric(&k, &err), BRINE_OK);
    return k;
}

/* Decrypts .enc bytes in memory: the status, and the message in err. */
static brine_status try_decrypt(const uint8_t *p, size_t n, const bi_key *key, brine_error *err) {
    bi_input in;
    brine_error_clear(err);
    brine_status st = bi_decrypt_memory(&in, p, n, key, err);
    bi_input_release(&in);
    return st;
}

/* ------------------------------------------------------------------ keys */

static void test_key_files(void) {
    brine_error err;
    brine_error_clear(&err);
    bi_key sk, pk, k = sym_key(), back;
    CHECK_EQ_INT(bi_key_generate_pair(&sk, &pk, &err), BRINE_OK);
    mode_t old = umask(022);
    CHECK_EQ_INT(bi_key_write(&sk, tmp("id.key"), &err), BRINE_OK);
    CHECK_EQ_INT(bi_key_write(&pk, tmp("id.pub"), &err), BRINE_OK);
    CHECK_EQ_INT(bi_key_write(&k, tmp("sym"), &err), BRINE_OK);
    umask(old);
    CHECK_EQ_INT(mode_of(tmp("id.key")), 0600);
    CHECK_EQ_INT(mode_of(tmp("sym")), 0600);
    CHECK_EQ_INT(mode_of(tmp("id.pub")), 0644);
    /* A secret key replacing a world-readable file is private all the same. */
    CHECK(put(tmp("open.key"), "x", 1) && chmod(tmp("open.key"), 0644) == 0);
    CHECK_EQ_INT(bi_key_write(&k, tmp("open.key"), &err), BRINE_OK);
    CHECK_EQ_INT(mode_of(tmp("open.key")), 0600);

    CHECK_EQ_INT(bi_key_read(&back, tmp("id.key"), BI_KEY_SIGN_SECRET, &err), BRINE_OK);
    CHECK(back.len == 64 && !memcmp(back.bytes, sk.bytes, 64));
    CHECK_EQ_INT(bi_key_read(&back, tmp("id.pub"), BI_KEY_SIGN_PUBLIC, &err), BRINE_OK);
    CHECK(back.len == 32 && !memcmp(back.bytes, pk.bytes, 32));
    CHECK_EQ_INT(bi_key_read(&back, tmp("sym"), BI_KEY_SYMMETRIC, &err), BRINE_OK);
    CHECK(back.len == 32 && !memcmp(back.bytes, k.bytes, 32));

    /* The wrong kind of key is named. */
    brine_error_clear(&err);
    CHECK_EQ_INT(bi_key_read(&back, tmp("id.pub"), BI_KEY_SYMMETRIC, &err), BRINE_E_FORMAT);
    CHECK(strstr(err.message, "Ed25519 public key") && strstr(err.message, "symmetric key file is needed"));
    brine_error_clear(&err);
    CHECK_EQ_INT(bi_key_read(&back, tmp("sym"), BI_KEY_SIGN_SECRET, &err), BRINE_E_FORMAT);
    /* Missing, not a key, damaged. */
    brine_error_clear(&err);
    CHECK_EQ_INT(bi_key_read(&back, tmp("nope"), BI_KEY_SYMMETRIC, &err), BRINE_E_IO);
    CHECK(strstr(err.message, "nope") != NULL);
    CHECK(put(tmp("junk"), "hello\n", 6));
    brine_error_clear(&err);
    CHECK_EQ_INT(bi_key_read(&back, tmp("junk"), BI_KEY_SYMMETRIC, &err), BRINE_E_FORMAT);
    CHECK(strstr(err.message, "not a brine key file") != NULL);
    size_t n;
    uint8_t *text = slurp(tmp("sym"), &n);
    text[n - 3] = 'g'; /* not a hex digit */
    CHECK(put(tmp("bad"), text, n));
    brine_error_clear(&err);
    CHECK_EQ_INT(bi_key_read(&back, tmp("bad"), BI_KEY_SYMMETRIC, &err), BRINE_E_FORMAT);
    CHECK(put(tmp("short"), text, n - 4)); /* an odd, short hex string */
    CHECK_EQ_INT(bi_key_read(&back, tmp("short"), BI_KEY_SYMMETRIC, &err), BRINE_E_FORMAT);
    free(text);
    /* A secret key whose public half was altered. */
    text = slurp(tmp("id.key"), &n);
    text[n - 2] = text[n - 2] == '0' ? '1' : '0';
    CHECK(put(tmp("bent.key"), text, n));
    brine_error_clear(&err);
    CHECK_EQ_INT(bi_key_read(&back, tmp("bent.key"), BI_KEY_SIGN_SECRET, &err), BRINE_E_FORMAT);
    free(text);

    char a[17], b[17];
    bi_key_fingerprint(&sk, a);
    bi_key_fingerprint(&pk, b);
    CHECK_STR(a, b); /* a pair shares its fingerprint */
    CHECK_EQ_INT(strlen(a), 16);
    clear_tmpdir();
}

/* ------------------------------------------------------------- checksums */

static void test_sha256(void) {
    brine_error err;
    brine_error_clear(&err);
    uint8_t d[BI_SHA256_BYTES];
    char hex[BI_SHA256_HEX];
    CHECK(put(tmp("abc"), "abc", 3));
    CHECK_EQ_INT(bi_sha256_file(d, tmp("abc"), &err), BRINE_OK);
    bi_hex(hex, d, sizeof d);
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(put(tmp("empty"), "", 0));
    CHECK_EQ_INT(bi_sha256_file(d, tmp("empty"), &err), BRINE_OK);
    bi_hex(hex, d, sizeof d);
    CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    /* 1 000 000 x 'a' crosses many read chunks (FIPS 180-2 test vector). */
    uint8_t *m = malloc(1000000);
    memset(m, 'a', 1000000);
    CHECK(put(tmp("million"), m, 1000000));
    free(m);
    CHECK_EQ_INT(bi_sha256_file(d, tmp("million"), &err), BRINE_OK);
    bi_hex(hex, d, sizeof d);
    CHECK_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    CHECK_EQ_INT(bi_sha256_file(d, tmp("missing"), &err), BRINE_E_IO);
    CHECK_EQ_INT(bi_sha256_file(d, tmpdir, &err), BRINE_E_IO);
    clear_tmpdir();
}

/* ------------------------------------------------------------ signatures */

static void test_signatures(void) {
    brine_error err;
    brine_error_clear(&err);
    bi_key sk, pk, sk2, pk2;
    CHECK_EQ_INT(bi_key_generate_pair(&sk, &pk, &err), BRINE_OK);
    CHECK_EQ_INT(bi_key_generate_pair(&sk2, &pk2, &err), BRINE_OK);
    uint8_t *model = pattern(100000, 7);
    uint8_t d[BI_SHA256_BYTES], sig[BI_SIG_FILE_BYTES];
    CHECK(put(tmp("m.pkl"), model, 100000));
    CHECK_EQ_INT(bi_sha256_file(d, tmp("m.pkl"), &err), BRINE_OK);
    CHECK_EQ_INT(bi_sig_make(sig, d, &sk, &err), BRINE_OK);
    CHECK(!memcmp(sig, "BRINESIG\x01\0\0\0", 12));
    CHECK_EQ_INT(bi_sig_check(sig, sizeof sig, d, &pk, &err), BRINE_OK);

    /* One changed byte of the model. */
    model[54321] ^= 1;
    CHECK(put(tmp("m.pkl"), model, 100000));
    uint8_t d2[BI_SHA256_BYTES];
    CHECK_EQ_INT(bi_sha256_file(d2, tmp("m.pkl"), &err), BRINE_OK);
    brine_error_clear(&err);
    CHECK_EQ_INT(bi_sig_check(sig, sizeof sig, d2, &pk, &err), BRINE_E_FORMAT);
    CHECK(strstr(err.message, "changed after signing") != NULL);
    /* Another key. */
    brine_error_clear(&err);
    CHECK_EQ_INT(bi_sig_check(sig, sizeof sig, d, &pk2, &err), BRINE_E_FORMAT);
    CHECK(strstr(err.message, "signed by key") != NULL);
    /* A signature by key 2 that claims key 1's public key. */
    uint8_t forged[BI_SIG_FILE_BYTES];
    CHECK_EQ_INT(bi_sig_make(forged, d, &sk2, &err), BRINE_OK);
    memcpy(forged + 12, pk.bytes, 32);
    CHECK_EQ_INT(bi_sig_check(forged, sizeof forged, d, &pk, &err), BRINE_E_FORMAT);
    /* Every single flipped bit of the .sig is refused. */
    int refused = 0;
    for (size_t k = 0; k < sizeof sig; k++) {
        for (int bit = 0; bit < 8; bit++) {
            sig[k] ^= (uint8_t)(1u << bit);
            brine_error_clear(&err);
            refused += bi_sig_check(sig, sizeof sig, d, &pk, &err) != BRINE_OK;
            sig[k] ^= (uint8_t)(1u << bit);
        }
    }
    CHECK_EQ_INT(refused, 8 * BI_SIG_FILE_BYTES);
    CHECK_EQ_INT(bi_sig_check(sig, sizeof sig - 1, d, &pk, &err), BRINE_E_FORMAT);
    CHECK_EQ_INT(bi_sig_check((const uint8_t *)"", 0, d, &pk, &err), BRINE_E_FORMAT);
    CHECK_EQ_INT(bi_sig_check(sig, sizeof sig, d, &pk, &err), BRINE_OK);
    free(model);
    clear_tmpdir();
}

/* ------------------------------------------------------------ encryption */

static void roundtrip(size_t n, unsigned seed) {
    brine_error err;
    brine_error_clear(&err);
    bi_key k = sym_key();
    uint8_t *plain = pattern(n, seed);
    CHECK(put(tmp("plain"), plain, n));
    CHECK_EQ_INT(bi_encrypt_file(tmp("plain"), tmp("plain.enc"), &k, &err), BRINE_OK);
    size_t cn;
    uint8_t *cipher = slurp(tmp("plain.enc"), &cn);
    size_t chunks = n ? (n + BI_ENC_CHUNK - 1) / BI_ENC_CHUNK : 1; /* an empty file: one empty chunk */
    CHECK_EQ_INT(cn, 44 + n + 17 * chunks);
    CHECK(bi_enc_detect(cipher, cn));
    CHECK(n < 32 || !memmem(cipher, cn, plain, 32)); /* no plaintext leaks */
    /* To a file ... */
    CHECK_EQ_INT(bi_decrypt_file(tmp("plain.enc"), tmp("back"), &k, &err), BRINE_OK);
    size_t bn;
    uint8_t *back = slurp(tmp("back"), &bn);
    CHECK(bn == n && !memcmp(back, plain, n));
    free(back);
    /* ... into memory, from the file and from bytes. */
    bi_input in;
    CHECK_EQ_INT(bi_decrypt_to_input(&in, tmp("plain.enc"), UINT64_MAX, &k, &err), BRINE_OK);
    CHECK(in.size == n && !memcmp(in.data, plain, n) && !in.mapped);
    bi_input_release(&in);
    CHECK_EQ_INT(bi_decrypt_memory(&in, cipher, cn, &k, &err), BRINE_OK);
    CHECK(in.size == n && !memcmp(in.data, plain, n));
    bi_input_release(&in);
    /* The size limit applies to the file. */
    brine_error_clear(&err);
    CHECK_EQ_INT(bi_decrypt_to_input(&in, tmp("plain.enc"), cn - 1, &k, &err), BRINE_E_LIMIT);
    /* Encrypting again gives other bytes (a fresh nonce). */
    CHECK_EQ_INT(bi_encrypt_file(tmp("plain"), tmp("again.enc"), &k, &err), BRINE_OK);
    size_t an;
    uint8_t *again = slurp(tmp("again.enc"), &an);
    CHECK(an == cn && memcmp(again, cipher, cn) != 0);
    free(again);
    free(cipher);
    free(plain);
    clear_tmpdir();
}

static void test_roundtrip_sizes(void) {
    static const size_t sizes[] = {0, 1, 100, BI_ENC_CHUNK - 1, BI_ENC_CHUNK, BI_ENC_CHUNK + 1,
                                   3 * BI_ENC_CHUNK, 3 * BI_ENC_CHUNK + 12345};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) roundtrip(sizes[k], (unsigned)k + 1);
}

static void test_wrong_key(void) {
    brine_error err;
    brine_error_clear(&err);
    bi_key k = sym_key(), other = sym_key();
    uint8_t *plain = pattern(1000, 3);
    CHECK(put(tmp("p"), plain, 1000));
    CHECK_EQ_INT(bi_encrypt_file(tmp("p"), tmp("p.enc"), &k, &err), BRINE_OK);
    CHECK_EQ_INT(bi_decrypt_file(tmp("p.enc"), tmp("out"), &other, &err), BRINE_E_FORMAT);
    CHECK(strstr(err.message, "not with the key given") != NULL);
    CHECK(access(tmp("out"), F_OK) != 0); /* nothing written */
    CHECK_EQ_INT(count_entries(), 2);
    /* A public key is not an encryption key. */
    bi_key sk, pk;
    CHECK_EQ_INT(bi_key_generate_pair(&sk, &pk, &err), BRINE_OK);
    brine_error_clear(&err);
    CHECK_EQ_INT(bi_decrypt_file(tmp("p.enc"), tmp("out"), &pk, &err), BRINE_E_ARGUMENT);
    /* Not an .enc file at all. */
    brine_error_clear(&err);
    CHECK_EQ_INT(bi_decrypt_file(tmp("p"), tmp("out"), &k, &err), BRINE_E_FORMAT);
    CHECK(strstr(err.message, "not a brine encrypted file") != NULL);
    CHECK(put(tmp("empty.enc"), "", 0));
    brine_error_clear(&err);
    CHECK_EQ_INT(bi_decrypt_file(tmp("empty.enc"), tmp("out"), &k, &err), BRINE_E_FORMAT);
    brine_error_clear(&err);
    CHECK_EQ_INT(bi_decrypt_file(tmp("missing.enc"), tmp("out"), &k, &err), BRINE_E_IO);
    CHECK(access(tmp("out"), F_OK) != 0);
    free(plain);
    clear_tmpdir();
}

/* Three chunks, the last one short: a flipped bit anywhere is refused —
 * every header byte, every 251st byte of the chunks, each tag's last
 * bytes and the end of the file. */
static void test_flipped_bytes(void) {
    brine_error err;
    brine_error_clear(&err);
    bi_key k = sym_key();
    size_t n = 2 * BI_ENC_CHUNK + 777;
    uint8_t *plain = pattern(n, 11);
    CHECK(put(tmp("p"), plain, n));
    CHECK_EQ_INT(bi_encrypt_file(tmp("p"), tmp("p.enc"), &k, &err), BRINE_OK);
    size_t cn;
    uint8_t *c = slurp(tmp("p.enc"), &cn);
    CHECK_EQ_INT(try_decrypt(c, cn, &k, &err), BRINE_OK);
    size_t chunk = BI_ENC_CHUNK + 17, tried = 0, refused = 0;
    for (size_t pos = 0; pos < cn; pos++) {
        size_t in_chunk = pos < 44 ? 0 : (pos - 44) % chunk;
        int probe = pos < 44 || pos % 251 == 0 || in_chunk < 17 || pos + 20 > cn;
        if (!probe) continue;
        c[pos] ^= 0x40;
        tried++;
        brine_status st = try_decrypt(c, cn, &k, &err);
        refused += st != BRINE_OK;
        if (st == BRINE_OK) fprintf(stderr, "flipped byte %zu was accepted\n", pos);
        c[pos] ^= 0x40;
    }
    CHECK(tried > 600);
    CHECK_EQ_INT(refused, tried);
    /* The version byte is reported as such, the key id as a key mismatch. */
    c[8] = 2;
    CHECK_EQ_INT(try_decrypt(c, cn, &k, &err), BRINE_E_UNSUPPORTED);
    c[8] = 1;
    c[15] ^= 1;
    CHECK_EQ_INT(try_decrypt(c, cn, &k, &err), BRINE_E_FORMAT);
    CHECK(strstr(err.message, "was encrypted with key") != NULL);
    c[15] ^= 1;
    /* Chunks swapped: both authenticate alone, not in that order. */
    uint8_t *tmpc = malloc(chunk);
    memcpy(tmpc, c + 44, chunk);
    memmove(c + 44, c + 44 + chunk, chunk);
    memcpy(c + 44 + chunk, tmpc, chunk);
    CHECK_EQ_INT(try_decrypt(c, cn, &k, &err), BRINE_E_FORMAT);
    free(tmpc);
    free(c);
    free(plain);
    clear_tmpdir();
}

static void test_truncation(void) {
    brine_error err;
    brine_error_clear(&err);
    bi_key k = sym_key();
    size_t n = 2 * BI_ENC_CHUNK; /* two full chunks, the second one final */
    uint8_t *plain = pattern(n, 5);
    CHECK(put(tmp("p"), plain, n));
    CHECK_EQ_INT(bi_encrypt_file(tmp("p"), tmp("p.enc"), &k, &err), BRINE_OK);
    size_t cn;
    uint8_t *c = slurp(tmp("p.enc"), &cn);
    size_t chunk = BI_ENC_CHUNK + 17;
    CHECK_EQ_INT(cn, 44 + 2 * chunk);
    size_t cuts[] = {0, 1, 7, 8, 20, 43, 44, 45, 60, 44 + chunk - 1, 44 + chunk, 44 + chunk + 1, 44 + chunk + 17,
                     cn - 17, cn - 1};
    int refused = 0;
    for (size_t j = 0; j < sizeof cuts / sizeof *cuts; j++) {
        brine_status st = try_decrypt(c, cuts[j], &k, &err);
        refused += st == BRINE_E_FORMAT;
        if (st != BRINE_E_FORMAT) fprintf(stderr, "cut at %zu: status %d\n", cuts[j], st);
    }
    CHECK_EQ_INT(refused, (int)(sizeof cuts / sizeof *cuts));
    CHECK_EQ_INT(try_decrypt(c, 44 + chunk, &k, &err), BRINE_E_FORMAT);
    CHECK(strstr(err.message, "truncated") != NULL);
    /* A byte appended after the final chunk. */
    uint8_t *longer = malloc(cn + 1);
    memcpy(longer, c, cn);
    longer[cn] = 0;
    CHECK_EQ_INT(try_decrypt(longer, cn + 1, &k, &err), BRINE_E_FORMAT);
    CHECK(strstr(err.message, "follow the final chunk") != NULL);
    free(longer);
    CHECK_EQ_INT(try_decrypt(c, cn, &k, &err), BRINE_OK);
    free(c);
    free(plain);
    clear_tmpdir();
}

/* ------------------------------------------------------------ the loader */

static void test_loader(void) {
    brine_error err;
    brine_error_clear(&err);
    bi_key k = sym_key();
    /* protocol 4, BININT1 5, STOP */
    CHECK(put(tmp("five.pkl"), "\x80\x04K\x05.", 5));
    CHECK_EQ_INT(bi_key_write(&k, tmp("k"), &err), BRINE_OK);
    CHECK_EQ_INT(bi_encrypt_file(tmp("five.pkl"), tmp("five.enc"), &k, &err), BRINE_OK);

    bi_input in;
    CHECK_EQ_INT(bi_input_open_keyed(&in, tmp("five.pkl"), 1, UINT64_MAX, NULL, &err), BRINE_OK);
    CHECK(in.size == 5 && in.mapped);
    bi_input_release(&in);
    brine_error_clear(&err);
    CHECK_EQ_INT(bi_input_open_keyed(&in, tmp("five.enc"), 1, UINT64_MAX, NULL, &err), BRINE_E_UNSUPPORTED);
    CHECK(strstr(err.message, "is encrypted") && strstr(err.message, "--key"));
    CHECK_EQ_INT(bi_input_open_keyed(&in, tmp("five.enc"), 1, UINT64_MAX, tmp("k"), &err), BRINE_OK);
    CHECK(in.size == 5 && !memcmp(in.data, "\x80\x04K\x05.", 5) && !in.mapped);
    bi_input_release(&in);
    brine_error_clear(&err);
    CHECK_EQ_INT(bi_input_open_keyed(&in, tmp("five.enc"), 0, UINT64_MAX, tmp("no-key"), &err), BRINE_E_IO);

    /* Through the public API, from a path and from memory. */
    brine_load_options lo = BRINE_LOAD_OPTIONS_INIT;
    brine_file *f = NULL;
    brine_error_clear(&err);
    CHECK_EQ_INT(brine_file_open(&f, tmp("five.enc"), &lo, &err), BRINE_E_UNSUPPORTED);
    lo.key_file = tmp("k");
    CHECK_EQ_INT(brine_file_open(&f, tmp("five.enc"), &lo, &err), BRINE_OK);
    int64_t v = 0;
    CHECK(f && brine_value_int64(brine_file_root(f), &v) == BRINE_OK && v == 5);
    brine_file_free(f);
    size_t cn;
    uint8_t *c = slurp(tmp("five.enc"), &cn);
    CHECK_EQ_INT(brine_file_open_memory(&f, c, cn, &lo, &err), BRINE_OK);
    v = 0;
    CHECK(f && brine_value_int64(brine_file_root(f), &v) == BRINE_OK && v == 5);
    brine_file_free(f);
    c[cn - 1] ^= 1;
    brine_error_clear(&err);
    CHECK_EQ_INT(brine_file_open_memory(&f, c, cn, &lo, &err), BRINE_E_FORMAT);
    CHECK(f == NULL);
    /* A plain file ignores the key. */
    CHECK_EQ_INT(brine_file_open(&f, tmp("five.pkl"), &lo, &err), BRINE_OK);
    brine_file_free(f);
    free(c);
    clear_tmpdir();
}

/* A FIFO cannot be peeked: it is read once, plain or encrypted. */
static void fifo_case(const uint8_t *data, size_t n, const char *key_file, brine_status want,
                      const uint8_t *plain, size_t plain_n) {
    const char *fifo = tmp("fifo");
    CHECK(mkfifo(fifo, 0600) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(fifo, O_WRONLY);
        size_t done = 0;
        while (fd >= 0 && done < n) {
            ssize_t w = write(fd, data + done, n - done);
            if (w <= 0) break;
            done += (size_t)w;
        }
        _exit(0);
    }
    bi_input in;
    brine_error err;
    brine_error_clear(&err);
    CHECK_EQ_INT(bi_input_open_keyed(&in, fifo, 1, UINT64_MAX, key_file, &err), want);
    if (want == BRINE_OK) CHECK(in.size == plain_n && !memcmp(in.data, plain, plain_n));
    bi_input_release(&in);
    int status;
    waitpid(pid, &status, 0);
    unlink(fifo);
}

static void test_fifo(void) {
    signal(SIGPIPE, SIG_IGN);
    brine_error err;
    brine_error_clear(&err);
    bi_key k = sym_key();
    size_t n = 3 * BI_ENC_CHUNK + 5;
    uint8_t *plain = pattern(n, 9);
    CHECK(put(tmp("p"), plain, n));
    CHECK_EQ_INT(bi_key_write(&k, tmp("k"), &err), BRINE_OK);
    CHECK_EQ_INT(bi_encrypt_file(tmp("p"), tmp("p.enc"), &k, &err), BRINE_OK);
    size_t cn;
    uint8_t *c = slurp(tmp("p.enc"), &cn);
    fifo_case(plain, n, NULL, BRINE_OK, plain, n);
    fifo_case(c, cn, tmp("k"), BRINE_OK, plain, n);
    fifo_case(c, cn, NULL, BRINE_E_UNSUPPORTED, NULL, 0);
    c[cn / 2] ^= 1;
    fifo_case(c, cn, tmp("k"), BRINE_E_FORMAT, NULL, 0);
    free(c);
    free(plain);
    clear_tmpdir();
}

/* ------------------------------------------------------- atomic pieces */

static void test_atomic_pieces(void) {
    brine_error err;
    brine_error_clear(&err);
    bi_atomic a;
    CHECK_EQ_INT(bi_atomic_open(&a, tmp("out.bin"), -1, &err), BRINE_OK);
    CHECK_EQ_INT(bi_atomic_write(&a, "abc", 3, &err), BRINE_OK);
    /* While it is written, an unnamed temporary is invisible. */
    CHECK_EQ_INT(count_entries(), a.tmp ? 1 : 0);
    CHECK_EQ_INT(bi_atomic_write(&a, "def", 3, &err), BRINE_OK);
    CHECK_EQ_INT(bi_atomic_commit(&a, &err), BRINE_OK);
    size_t n;
    uint8_t *p = slurp(tmp("out.bin"), &n);
    CHECK(n == 6 && !memcmp(p, "abcdef", 6));
    free(p);
    CHECK_EQ_INT(count_entries(), 1);
    /* Aborted: the old file stays, nothing else is left. */
    CHECK_EQ_INT(bi_atomic_open(&a, tmp("out.bin"), -1, &err), BRINE_OK);
    CHECK_EQ_INT(bi_atomic_write(&a, "zzz", 3, &err), BRINE_OK);
    bi_atomic_abort(&a);
    p = slurp(tmp("out.bin"), &n);
    CHECK(n == 6 && !memcmp(p, "abcdef", 6));
    free(p);
    CHECK_EQ_INT(count_entries(), 1);
    brine_error_clear(&err);
    CHECK_EQ_INT(bi_atomic_open(&a, tmp("no-dir/x"), -1, &err), BRINE_E_IO);
    CHECK_EQ_INT(bi_atomic_open(&a, tmp(""), -1, &err), BRINE_E_IO);
    clear_tmpdir();
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/brine-test-crypt-XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    RUN(test_key_files);
    RUN(test_sha256);
    RUN(test_signatures);
    RUN(test_roundtrip_sizes);
    RUN(test_wrong_key);
    RUN(test_flipped_bytes);
    RUN(test_truncation);
    RUN(test_loader);
    RUN(test_fifo);
    RUN(test_atomic_pieces);
    clear_tmpdir();
    rmdir(tmpdir);
    TEST_MAIN_END();
}
