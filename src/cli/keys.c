/* keys.c — integrity and confidentiality commands: brine keygen, sign,
 * verify, encrypt, decrypt, and the --key / --require-signature helpers
 * predict and inspect use.  Formats: docs/integrity.md. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli.h"
#include "io/crypt.h"
#include "io/error.h"

static int fail(const char *cmd, const char *file, int code, const char *fmt, ...) BI_PRINTF(4, 5);
static int fail(const char *cmd, const char *file, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "brine %s: %s: ", cmd, file);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

/* "PATH" + suffix, malloc'd; NULL when out of memory. */
static char *with_suffix(const char *path, const char *suffix) {
    size_t n = strlen(path), m = strlen(suffix);
    char *s = malloc(n + m + 1);
    if (!s) return NULL;
    memcpy(s, path, n);
    memcpy(s + n, suffix, m + 1);
    return s;
}

const char *cli_key_file(const char *opt) {
    if (opt) return opt;
    const char *env = getenv("BRINE_KEY_FILE");
    return env && *env ? env : NULL;
}

/* ------------------------------------------------------------ checking */

/* 0 when the .sig at sig_path verifies FILE with the public key at pub;
 * else the message is printed and 1 (refused) or 2 (error) returned. */
static int check_signature(const char *cmd, const char *file, const char *sig_path, const char *pub, int quiet) {
    brine_error err;
    brine_error_clear(&err);
    bi_key pk;
    if (bi_key_read(&pk, pub, BI_KEY_SIGN_PUBLIC, &err)) return cli_report(cmd, pub, &err);
    uint8_t digest[BI_SHA256_BYTES];
    if (bi_sha256_file(digest, file, &err)) return cli_report(cmd, file, &err);
    bi_input sig;
    if (access(sig_path, F_OK) != 0 && errno == ENOENT)
        return fail(cmd, file, EXIT_NEGATIVE, "refused: not signed (no %s; brine sign makes it)", sig_path);
    if (bi_input_open(&sig, sig_path, 0, 4096, &err))
        return fail(cmd, file, EXIT_NEGATIVE, "refused: the signature cannot be read: %s", err.message);
    brine_status st = bi_sig_check(sig.data, sig.size, digest, &pk, &err);
    bi_input_release(&sig);
    if (st) return fail(cmd, file, EXIT_NEGATIVE, "refused: %s: %s", sig_path, err.message);
    if (!quiet) {
        char fp[17];
        bi_key_fingerprint(&pk, fp);
        printf("%s: signature ok (key %s)\n", file, fp);
    }
    return EXIT_OK;
}

int cli_require_signature(const char *cmd, const char *model, const char *pub) {
    char *sig = with_suffix(model, ".sig");
    if (!sig) return fail(cmd, model, EXIT_ERROR, "out of memory");
    int rc = check_signature(cmd, model, sig, pub, 1);
    free(sig);
    return rc;
}

/* The sha256 a sidecar records, or an exit code (2) with the message printed. */
static int sidecar_sha256(const char *cmd, const char *file, const char *meta, char out[BI_SHA256_HEX]) {
    json_error_t jerr;
    json_t *j = json_load_file(meta, 0, &jerr);
    if (!j && access(meta, F_OK) != 0)
        return fail(cmd, file, EXIT_ERROR, "no checksum sidecar %s (brine writes one with every saved model)", meta);
    if (!j) return fail(cmd, meta, EXIT_ERROR, "not valid JSON: %s (line %d)", jerr.text, jerr.line);
    const char *hex = json_string_value(json_object_get(j, "sha256"));
    int rc = EXIT_OK;
    if (!hex) rc = fail(cmd, meta, EXIT_ERROR, "has no \"sha256\" checksum");
    else if (strlen(hex) != 64 || strspn(hex, "0123456789abcdef") != 64)
        rc = fail(cmd, meta, EXIT_ERROR, "\"sha256\" is not 64 lowercase hexadecimal digits");
    else memcpy(out, hex, BI_SHA256_HEX);
    json_decref(j);
    return rc;
}

static int check_checksum(const char *cmd, const char *file) {
    char *meta = with_suffix(file, ".meta.json");
    if (!meta) return fail(cmd, file, EXIT_ERROR, "out of memory");
    char want[BI_SHA256_HEX], have[BI_SHA256_HEX];
    uint8_t digest[BI_SHA256_BYTES];
    brine_error err;
    brine_error_clear(&err);
    int rc = sidecar_sha256(cmd, file, meta, want);
    if (!rc && bi_sha256_file(digest, file, &err)) rc = cli_report(cmd, file, &err);
    if (!rc) {
        bi_hex(have, digest, sizeof digest);
        if (strcmp(want, have))
            rc = fail(cmd, file, EXIT_NEGATIVE, "checksum mismatch: %s records sha256 %s, the file's is %s", meta, want,
                      have);
        else printf("%s: checksum ok (sha256 %s)\n", file, have);
    }
    free(meta);
    return rc;
}

/* ------------------------------------------------------------- verify */

static const char verify_help[] =
    "usage: brine verify FILE [--pubkey NAME.pub [--checksum]] [--signature SIG]\n"
    "\n"
    "Without --pubkey, checks FILE against the SHA-256 its sidecar FILE.meta.json\n"
    "records.  With --pubkey, checks the detached signature FILE.sig (made by\n"
    "brine sign) against that public key; --checksum checks the sidecar too.\n"
    "\n"
    "  --pubkey P       the signer's Ed25519 public key (brine keygen)\n"
    "  --checksum       with --pubkey: also check the sidecar's checksum\n"
    "  --signature S    the signature file (default FILE.sig)\n"
    "\n"
    "Exit status: 0 verified; 1 a changed file, a bad or missing signature; 2 an\n"
    "error (no sidecar or key file, unreadable input).  1 outranks 2.\n";

int cmd_verify(int argc, char **argv) {
    static const struct option longs[] = {
        {"pubkey", required_argument, 0, 'p'}, {"checksum", no_argument, 0, 'c'},
        {"signature", required_argument, 0, 's'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
    };
    const char *cmd = "verify", *pub = NULL, *sig = NULL;
    int checksum = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        switch (c) {
        case 'p': pub = optarg; break;
        case 'c': checksum = 1; break;
        case 's': sig = optarg; break;
        case 'h': fputs(verify_help, stdout); return EXIT_OK;
        default: return cli_usage_error(cmd, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 1) return cli_usage_error(cmd, "expected one FILE");
    if (sig && !pub) return cli_usage_error(cmd, "--signature needs --pubkey");
    const char *file = argv[optind];
    int rc_sum = pub && !checksum ? EXIT_OK : check_checksum(cmd, file), rc_sig = EXIT_OK;
    if (pub) {
        char *def = sig ? NULL : with_suffix(file, ".sig");
        rc_sig = sig || def ? check_signature(cmd, file, sig ? sig : def, pub, 0)
                            : fail(cmd, file, EXIT_ERROR, "out of memory");
        free(def);
    }
    if (rc_sum == EXIT_NEGATIVE || rc_sig == EXIT_NEGATIVE) return EXIT_NEGATIVE;
    return rc_sum ? rc_sum : rc_sig;
}

/* ------------------------------------------------------------- keygen */

static const char keygen_help[] =
    "usage: brine keygen -o NAME [--symmetric] [--force]\n"
    "\n"
    "Makes a fresh key.  Without --symmetric: an Ed25519 signing pair, NAME.key\n"
    "(secret, mode 0600) for brine sign and NAME.pub for brine verify --pubkey and\n"
    "predict --require-signature.  With --symmetric: one encryption key in NAME\n"
    "(mode 0600) for brine encrypt, decrypt, and --key of predict and inspect.\n"
    "\n"
    "  -o, --output NAME  where to write (required)\n"
    "  --symmetric        an encryption key instead of a signing pair\n"
    "  --force            replace existing key files (their old keys are lost)\n";

static int refuse_existing(const char *path, int force) {
    if (force || access(path, F_OK) != 0) return EXIT_OK;
    return fail("keygen", path, EXIT_ERROR, "exists; a new key would destroy it (use --force to replace it)");
}

static int write_key(const bi_key *k, const char *path) {
    brine_error err;
    brine_error_clear(&err);
    return bi_key_write(k, path, &err) ? cli_report("keygen", path, &err) : EXIT_OK;
}

static int keygen_pair(const char *name, int force) {
    char *sec = with_suffix(name, ".key"), *pub = with_suffix(name, ".pub");
    bi_key sk, pk;
    brine_error err;
    brine_error_clear(&err);
    int rc = !sec || !pub ? fail("keygen", name, EXIT_ERROR, "out of memory") : EXIT_OK;
    if (!rc) rc = refuse_existing(sec, force);
    if (!rc) rc = refuse_existing(pub, force);
    if (!rc && bi_key_generate_pair(&sk, &pk, &err)) rc = cli_report("keygen", name, &err);
    if (!rc) rc = write_key(&sk, sec);
    if (!rc) rc = write_key(&pk, pub);
    if (!rc) {
        char fp[17];
        bi_key_fingerprint(&pk, fp);
        printf("wrote %s (secret, mode 0600) and %s; key %s\n", sec, pub, fp);
    }
    bi_key_wipe(&sk);
    free(sec);
    free(pub);
    return rc;
}

static int keygen_symmetric(const char *name, int force) {
    bi_key k;
    brine_error err;
    brine_error_clear(&err);
    int rc = refuse_existing(name, force);
    if (!rc && bi_key_generate_symmetric(&k, &err)) rc = cli_report("keygen", name, &err);
    if (!rc) rc = write_key(&k, name);
    if (!rc) {
        char fp[17];
        bi_key_fingerprint(&k, fp);
        printf("wrote %s (symmetric, mode 0600); key %s\n", name, fp);
    }
    bi_key_wipe(&k);
    return rc;
}

int cmd_keygen(int argc, char **argv) {
    static const struct option longs[] = {
        {"output", required_argument, 0, 'o'}, {"symmetric", no_argument, 0, 'S'},
        {"force", no_argument, 0, 'f'},        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *out = NULL;
    int symmetric = 0, force = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:h", longs, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'S': symmetric = 1; break;
        case 'f': force = 1; break;
        case 'h': fputs(keygen_help, stdout); return EXIT_OK;
        default: return cli_usage_error("keygen", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (argc != optind) return cli_usage_error("keygen", "unexpected argument '%s'", argv[optind]);
    if (!out || !*out) return cli_usage_error("keygen", "-o NAME is required");
    return symmetric ? keygen_symmetric(out, force) : keygen_pair(out, force);
}

/* --------------------------------------------------------------- sign */

static const char sign_help[] =
    "usage: brine sign FILE --key NAME.key [-o SIG]\n"
    "\n"
    "Writes the detached Ed25519 signature FILE.sig over FILE's SHA-256 (any\n"
    "file: plain, compressed or encrypted).  brine verify FILE --pubkey NAME.pub\n"
    "and brine predict --require-signature NAME.pub check it.\n"
    "\n"
    "  --key K          the secret key (brine keygen -o NAME makes NAME.key)\n"
    "  -o, --output S   where to write the signature (default FILE.sig)\n";

int cmd_sign(int argc, char **argv) {
    static const struct option longs[] = {
        {"key", required_argument, 0, 'k'}, {"output", required_argument, 0, 'o'},
        {"help", no_argument, 0, 'h'},      {0, 0, 0, 0},
    };
    const char *key = NULL, *out = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:h", longs, NULL)) != -1) {
        switch (c) {
        case 'k': key = optarg; break;
        case 'o': out = optarg; break;
        case 'h': fputs(sign_help, stdout); return EXIT_OK;
        default: return cli_usage_error("sign", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 1) return cli_usage_error("sign", "expected one FILE");
    if (!key) return cli_usage_error("sign", "--key NAME.key is required");
    const char *file = argv[optind];
    char *def = out ? NULL : with_suffix(file, ".sig");
    const char *sig_path = out ? out : def;
    brine_error err;
    brine_error_clear(&err);
    bi_key sk;
    uint8_t digest[BI_SHA256_BYTES], sig[BI_SIG_FILE_BYTES];
    int rc = sig_path ? EXIT_OK : fail("sign", file, EXIT_ERROR, "out of memory");
    if (!rc && bi_key_read(&sk, key, BI_KEY_SIGN_SECRET, &err)) rc = cli_report("sign", key, &err);
    if (!rc && bi_sha256_file(digest, file, &err)) rc = cli_report("sign", file, &err);
    if (!rc && bi_sig_make(sig, digest, &sk, &err)) rc = cli_report("sign", file, &err);
    if (!rc && bi_write_atomic(sig_path, sig, sizeof sig, &err)) rc = cli_report("sign", sig_path, &err);
    if (!rc) printf("wrote %s\n", sig_path);
    bi_key_wipe(&sk);
    free(def);
    return rc;
}

/* --------------------------------------------------- encrypt, decrypt */

static const char encrypt_help[] =
    "usage: brine encrypt FILE [--key K] [-o OUT]\n"
    "\n"
    "Encrypts FILE (XChaCha20-Poly1305 secretstream, 64 KiB chunks) into\n"
    "FILE.enc.  predict and inspect open the result directly with --key K.\n"
    "\n"
    "  --key K          the symmetric key (brine keygen --symmetric); default\n"
    "                   $BRINE_KEY_FILE\n"
    "  -o, --output OUT where to write (default FILE.enc)\n";

static const char decrypt_help[] =
    "usage: brine decrypt FILE.enc [--key K] [-o OUT]\n"
    "\n"
    "Decrypts a file made by brine encrypt.  A wrong key or any changed, missing\n"
    "or extra byte is an error (exit 2) and OUT is left untouched.\n"
    "\n"
    "  --key K          the symmetric key; default $BRINE_KEY_FILE\n"
    "  -o, --output OUT where to write (default: FILE.enc without .enc)\n";

static int crypt_command(int argc, char **argv, int encrypt) {
    static const struct option longs[] = {
        {"key", required_argument, 0, 'k'}, {"output", required_argument, 0, 'o'},
        {"help", no_argument, 0, 'h'},      {0, 0, 0, 0},
    };
    const char *cmd = encrypt ? "encrypt" : "decrypt", *key = NULL, *out = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:h", longs, NULL)) != -1) {
        switch (c) {
        case 'k': key = optarg; break;
        case 'o': out = optarg; break;
        case 'h': fputs(encrypt ? encrypt_help : decrypt_help, stdout); return EXIT_OK;
        default: return cli_usage_error(cmd, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 1) return cli_usage_error(cmd, "expected one FILE");
    key = cli_key_file(key);
    if (!key) return cli_usage_error(cmd, "--key K (or BRINE_KEY_FILE) is required");
    const char *in = argv[optind];
    size_t n = strlen(in);
    if (!out && !encrypt && (n <= 4 || strcmp(in + n - 4, ".enc")))
        return cli_usage_error(cmd, "%s does not end in .enc; name the output with -o OUT", in);
    char *def = out ? NULL : encrypt ? with_suffix(in, ".enc") : strndup(in, n - 4);
    const char *dest = out ? out : def;
    brine_error err;
    brine_error_clear(&err);
    bi_key k;
    int rc = dest ? EXIT_OK : fail(cmd, in, EXIT_ERROR, "out of memory");
    if (!rc && bi_key_read(&k, key, BI_KEY_SYMMETRIC, &err)) rc = cli_report(cmd, key, &err);
    brine_status st = BRINE_OK;
    if (!rc) st = encrypt ? bi_encrypt_file(in, dest, &k, &err) : bi_decrypt_file(in, dest, &k, &err);
    if (!rc && st) rc = cli_report(cmd, in, &err);
    bi_key_wipe(&k);
    free(def);
    return rc;
}

int cmd_encrypt(int argc, char **argv) { return crypt_command(argc, argv, 1); }
int cmd_decrypt(int argc, char **argv) { return crypt_command(argc, argv, 0); }
