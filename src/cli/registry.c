/* registry.c — brine registry: a directory of models, each a numbered
 * series of versions (copies of the files added) with named stages
 * (production, staging, ...) that can be promoted and rolled back.
 *
 * Layout (docs/registry.md):
 *   DIR/index.json            every model, version and stage
 *   DIR/.lock                 flock(2) target of every writer
 *   DIR/NAME/vN/FILE          the copy added as version N
 *   DIR/NAME/vN/FILE.meta.json  its metadata sidecar, when it had one
 *
 * Writers (add, promote, rollback) hold an exclusive lock on DIR/.lock
 * around their whole read-modify-write of index.json, and replace the
 * index atomically (temporary file, fsync, rename), after the version's
 * files are in place.  Readers need no lock: they see the old index or the
 * new one, never a torn one, and every file an index names exists. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <sodium.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "io/file.h"

static const char *cmd = "registry";

static const char help[] =
    "usage: brine registry [--registry DIR] COMMAND ARGS\n"
    "\n"
    "A directory of versioned models (default ./models; docs/registry.md).\n"
    "\n"
    "  add FILE NAME              copy FILE (and FILE.meta.json) in as NAME's next version;\n"
    "                             prints NAME@N\n"
    "  list [NAME]                the models, or NAME's versions one a line:\n"
    "                             VERSION ADDED_UTC SHA256 STAGES ESTIMATOR FILE (tab-separated)\n"
    "  show NAME[@VERSION|@STAGE] JSON: the model, or one version with its metadata\n"
    "  promote NAME@VERSION STAGE the stage now holds that version\n"
    "  rollback NAME [STAGE]      the stage (default production) goes back to the version\n"
    "                             it held before\n"
    "  path NAME[@VERSION|@STAGE] the stored file's absolute path (default: latest version)\n"
    "  verify [NAME[@REF]]        recompute every checksum: exit 0 all match, 1 a mismatch,\n"
    "                             2 a missing file or checksum\n"
    "\n"
    "  --registry DIR             the registry directory (default ./models)\n"
    "\n"
    "VERSION is N or vN; STAGE is a name starting with a letter.  Writers lock\n"
    "DIR/.lock and replace DIR/index.json atomically, so concurrent adds lose nothing.\n";

/* ------------------------------------------------------------- helpers */

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "brine %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return EXIT_ERROR;
}

static char *join(const char *a, const char *b) {
    size_t n = strlen(a) + strlen(b) + 2;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s/%s", a, b);
    return s;
}

static void utc_now(char *buf, size_t size) {
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int valid_name(const char *s) {
    size_t n = strlen(s);
    if (!n || n > 128 || s[0] == '.' || s[0] == '-' || !strcmp(s, "index.json")) return 0;
    for (size_t k = 0; k < n; k++) {
        char c = s[k];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-'))
            return 0;
    }
    return 1;
}

/* A version reference: "N" or "vN" (0 when it is not one). */
static long version_ref(const char *s) {
    if (*s == 'v') s++;
    if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 9) return 0;
    return strtol(s, NULL, 10);
}

static int valid_stage(const char *s) {
    size_t n = strlen(s);
    if (!n || n > 64 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')) || version_ref(s)) return 0;
    for (size_t k = 0; k < n; k++) {
        char c = s[k];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static int mkdir_p(const char *path) {
    char *p = strdup(path);
    if (!p) return -1;
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            free(p);
            return -1;
        }
        *s = '/';
    }
    int rc = mkdir(p, 0777) != 0 && errno != EEXIST ? -1 : 0;
    free(p);
    return rc;
}

/* ----------------------------------------------------------- the index */

typedef struct reg {
    const char *dir;
    char *index_path;
    int lock_fd; /* -1 when not locked */
    json_t *index;
} reg;

static int reg_lock(reg *r) {
    char *lock = join(r->dir, ".lock");
    if (!lock) return fail("out of memory");
    r->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    int rc = 0;
    if (r->lock_fd < 0) rc = fail("%s: cannot open the lock file: %s", lock, strerror(errno));
    while (!rc && flock(r->lock_fd, LOCK_EX) != 0)
        if (errno != EINTR) rc = fail("%s: cannot lock: %s", lock, strerror(errno));
    free(lock);
    return rc;
}

/* Opens the registry; a writer creates the directory and takes the lock
 * before reading the index. */
static int reg_open(reg *r, const char *dir, int writer) {
    memset(r, 0, sizeof *r);
    r->dir = dir;
    r->lock_fd = -1;
    struct stat st;
    if (writer && mkdir_p(dir) != 0) return fail("%s: cannot create the registry directory: %s", dir, strerror(errno));
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return fail("%s: no registry here (brine registry add creates one; --registry DIR names another)", dir);
    r->index_path = join(dir, "index.json");
    if (!r->index_path) return fail("out of memory");
    if (writer && reg_lock(r)) return EXIT_ERROR;
    if (access(r->index_path, F_OK) != 0 && errno == ENOENT) {
        r->index = json_pack("{s:i, s:{}}", "brine_registry", 1, "models");
        return r->index ? 0 : fail("out of memory");
    }
    json_error_t je;
    r->index = json_load_file(r->index_path, 0, &je);
    if (!r->index) return fail("%s: cannot read the index: %s (line %d)", r->index_path, je.text, je.line);
    if (!json_is_object(json_object_get(r->index, "models")))
        return fail("%s: not a brine registry index (no \"models\" object)", r->index_path);
    return 0;
}

static int reg_save(reg *r) {
    char *text = json_dumps(r->index, JSON_INDENT(2) | JSON_ENSURE_ASCII);
    if (!text) return fail("out of memory");
    size_t n = strlen(text);
    text[n] = '\n';
    brine_error err;
    brine_error_clear(&err);
    int rc = bi_write_atomic(r->index_path, text, n + 1, &err) ? cli_report(cmd, r->index_path, &err) : 0;
    free(text);
    return rc;
}

static void reg_close(reg *r) {
    if (r->lock_fd >= 0) close(r->lock_fd); /* releases the flock */
    json_decref(r->index);
    free(r->index_path);
}

static json_t *model_of(reg *r, const char *name) {
    return json_object_get(json_object_get(r->index, "models"), name);
}

static json_t *version_entry(json_t *model, long v) {
    json_t *vs = json_object_get(model, "versions"), *e;
    size_t i;
    json_array_foreach(vs, i, e) if (json_integer_value(json_object_get(e, "version")) == v) return e;
    return NULL;
}

static long latest_version(json_t *model) {
    json_t *vs = json_object_get(model, "versions"), *e;
    size_t i;
    long top = 0;
    json_array_foreach(vs, i, e) {
        long v = (long)json_integer_value(json_object_get(e, "version"));
        if (v > top) top = v;
    }
    return top;
}

/* Resolves NAME[@VERSION|@STAGE] to a model and version entry. */
static int resolve(reg *r, const char *spec, int need_version, char **name_out, json_t **model_out, json_t **entry_out) {
    char *name = strdup(spec);
    if (!name) return fail("out of memory");
    char *at = strchr(name, '@');
    const char *ref = NULL;
    if (at) *at = '\0', ref = at + 1;
    json_t *model = valid_name(name) ? model_of(r, name) : NULL;
    int rc = 0;
    long v = 0;
    if (!valid_name(name)) rc = fail("'%s' is not a model name (letters, digits, '.', '_', '-')", name);
    else if (!model) rc = fail("no model '%s' in the registry %s", name, r->dir);
    else if (need_version && !ref) rc = fail("'%s' names no version; write %s@VERSION", spec, name);
    else if (!ref || !*ref) v = latest_version(model);
    else if (!(v = version_ref(ref))) {
        json_t *stage = json_object_get(json_object_get(model, "stages"), ref);
        if (!stage) rc = fail("model '%s' has no version or stage '%s'", name, ref);
        else v = (long)json_integer_value(json_object_get(stage, "version"));
    }
    json_t *entry = rc ? NULL : version_entry(model, v);
    if (!rc && !entry) rc = fail("model '%s' has no version %ld", name, v);
    if (rc) free(name);
    else *name_out = name, *model_out = model, *entry_out = entry;
    return rc;
}

static char *stored_path(reg *r, json_t *entry) {
    const char *file = json_string_value(json_object_get(entry, "file"));
    return file ? join(r->dir, file) : NULL;
}

/* The stages that hold version v, "production,staging", or "-". */
static void stages_of(json_t *model, long v, char *buf, size_t size) {
    const char *key;
    json_t *st;
    size_t used = 0;
    buf[0] = '\0';
    json_object_foreach(json_object_get(model, "stages"), key, st) {
        if (json_integer_value(json_object_get(st, "version")) != v || used >= size) continue;
        used += (size_t)snprintf(buf + used, size - used, "%s%s", used ? "," : "", key);
    }
    if (!used) snprintf(buf, size, "-");
}

/* ----------------------------------------------------------------- add */

/* The sidecar FILE.meta.json when there is one: parsed, and its sha256
 * checked against the file's.  0, or an exit code. */
static int read_sidecar(const char *file, const char *sha, json_t **out) {
    *out = NULL;
    char meta[PATH_MAX];
    if (snprintf(meta, sizeof meta, "%s.meta.json", file) >= (int)sizeof meta) return 0;
    if (access(meta, F_OK) != 0) return 0;
    json_error_t je;
    json_t *j = json_load_file(meta, 0, &je);
    if (!j) return fail("%s: cannot read the metadata sidecar: %s (line %d)", meta, je.text, je.line);
    const char *recorded = json_string_value(json_object_get(j, "sha256"));
    if (recorded && strcmp(recorded, sha)) {
        fprintf(stderr, "brine %s: %s: the sidecar's sha256 %s is not the file's %s\n", cmd, meta, recorded, sha);
        json_decref(j);
        return EXIT_NEGATIVE;
    }
    *out = j;
    return 0;
}

/* What the file holds: its estimator class and _sklearn_version when it is
 * an object brine reads (the file must load under the allowlist). */
static int describe_file(const char *file, json_t *entry) {
    brine_error err;
    brine_error_clear(&err);
    brine_file *f = NULL;
    if (brine_file_open(&f, file, NULL, &err)) return cli_report(cmd, file, &err);
    const brine_value *root = brine_file_root(f);
    const char *name = NULL;
    const char *module = brine_value_kind(root) == BRINE_OBJECT ? brine_value_global(root, &name) : NULL;
    char cls[512];
    snprintf(cls, sizeof cls, "%s.%s", module ? module : "", name ? name : "");
    json_object_set_new(entry, "estimator", module ? cli_json_text(cls) : json_null());
    const brine_value *ver = brine_value_dict_get(brine_value_object_state(root), "_sklearn_version");
    json_object_set_new(entry, "sklearn_version", ver ? cli_param_json(ver) : json_null());
    brine_file_free(f);
    return 0;
}

/* Copies src to dst atomically in 1 MiB pieces, hashing what it copies,
 * so a model of any size needs no more memory than a small one. */
static int copy_file(const char *src, const char *dst, char sha[BRINE_SHA256_HEX_SIZE], long long *bytes) {
    brine_error err;
    brine_error_clear(&err);
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) return fail("%s: %s", src, strerror(errno));
    size_t size = 1 << 20;
    unsigned char *buf = malloc(size), digest[crypto_hash_sha256_BYTES];
    bi_atomic out;
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    int rc = buf ? 0 : fail("out of memory");
    if (!rc && bi_atomic_open(&out, dst, -1, &err)) rc = cli_report(cmd, dst, &err);
    int opened = !rc;
    *bytes = 0;
    while (!rc) {
        ssize_t n = read(in, buf, size);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) rc = fail("%s: cannot read: %s", src, strerror(errno));
        if (n <= 0) break;
        crypto_hash_sha256_update(&h, buf, (unsigned long long)n);
        if (bi_atomic_write(&out, buf, (size_t)n, &err)) rc = cli_report(cmd, dst, &err);
        *bytes += n;
    }
    if (opened && rc) bi_atomic_abort(&out);
    else if (opened && bi_atomic_commit(&out, &err)) rc = cli_report(cmd, dst, &err);
    crypto_hash_sha256_final(&h, digest);
    for (size_t k = 0; k < sizeof digest; k++) snprintf(sha + 2 * k, 3, "%02x", digest[k]);
    close(in);
    free(buf);
    return rc;
}

static const char *base_name(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static int add_version(reg *r, const char *file, const char *name, json_t *entry, json_t *sidecar) {
    json_t *models = json_object_get(r->index, "models"), *model = json_object_get(models, name);
    if (!model) {
        model = json_pack("{s:[], s:{}}", "versions", "stages");
        json_object_set_new(models, name, model);
    }
    long v = latest_version(model) + 1;
    char rel[PATH_MAX], dir[PATH_MAX], dst[PATH_MAX + 16], sha[BRINE_SHA256_HEX_SIZE];
    snprintf(rel, sizeof rel, "%s/v%ld/%s", name, v, base_name(file));
    snprintf(dir, sizeof dir, "%s/%s/v%ld", r->dir, name, v);
    snprintf(dst, sizeof dst, "%s/%s", r->dir, rel);
    if (mkdir_p(dir) != 0) return fail("%s: cannot create: %s", dir, strerror(errno));
    long long bytes = 0;
    int rc = copy_file(file, dst, sha, &bytes);
    if (rc) return rc;
    const char *expected = json_string_value(json_object_get(entry, "sha256"));
    if (strcmp(expected, sha)) return fail("%s changed while it was being added; try again", file);
    if (sidecar) {
        char *text = json_dumps(sidecar, JSON_INDENT(2) | JSON_ENSURE_ASCII);
        brine_error err;
        brine_error_clear(&err);
        strncat(dst, ".meta.json", sizeof dst - strlen(dst) - 1);
        if (!text) return fail("out of memory");
        size_t n = strlen(text);
        text[n] = '\n';
        if (bi_write_atomic(dst, text, n + 1, &err)) rc = cli_report(cmd, dst, &err);
        free(text);
        if (rc) return rc;
        char relmeta[PATH_MAX + 16];
        snprintf(relmeta, sizeof relmeta, "%s.meta.json", rel);
        json_object_set_new(entry, "meta", json_string(relmeta));
    } else {
        json_object_set_new(entry, "meta", json_null());
    }
    json_object_set_new(entry, "version", json_integer(v));
    json_object_set_new(entry, "file", cli_json_text(rel));
    json_object_set_new(entry, "bytes", json_integer(bytes));
    json_array_append(json_object_get(model, "versions"), entry);
    rc = reg_save(r);
    if (!rc) printf("%s@%ld\n", name, v);
    return rc;
}

static int reg_cmd_add(const char *dir, int n, char **args) {
    if (n != 2) return cli_usage_error(cmd, "add takes FILE NAME");
    const char *file = args[0], *name = args[1];
    if (!valid_name(name)) return cli_usage_error(cmd, "'%s' is not a model name (letters, digits, '.', '_', '-')", name);
    struct stat st;
    if (stat(file, &st) != 0) return fail("%s: %s", file, strerror(errno));
    if (!S_ISREG(st.st_mode)) return fail("%s: not a regular file", file);
    char sha[BRINE_SHA256_HEX_SIZE], added[32];
    brine_error err;
    brine_error_clear(&err);
    if (brine_sha256_file(sha, file, &err)) return cli_report(cmd, file, &err);
    json_t *entry = json_object(), *sidecar = NULL;
    char *abs = realpath(file, NULL);
    utc_now(added, sizeof added);
    json_object_set_new(entry, "sha256", json_string(sha));
    json_object_set_new(entry, "added_utc", json_string(added));
    json_object_set_new(entry, "source", cli_json_text(abs ? abs : file));
    free(abs);
    int rc = describe_file(file, entry);
    if (!rc) rc = read_sidecar(file, sha, &sidecar);
    reg r = {.lock_fd = -1};
    if (!rc && !(rc = reg_open(&r, dir, 1))) rc = add_version(&r, file, name, entry, sidecar);
    reg_close(&r);
    json_decref(entry);
    json_decref(sidecar);
    return rc;
}

/* ------------------------------------------------------- list and show */

static int reg_cmd_list(const char *dir, int n, char **args) {
    if (n > 1) return cli_usage_error(cmd, "list takes at most one NAME");
    reg r;
    int rc = reg_open(&r, dir, 0);
    json_t *models = rc ? NULL : json_object_get(r.index, "models");
    if (!rc && n == 0) {
        const char *name;
        json_t *model;
        json_object_foreach(models, name, model) {
            char stages[512] = "";
            size_t used = 0;
            const char *stage;
            json_t *st;
            json_object_foreach(json_object_get(model, "stages"), stage, st) {
                if (used < sizeof stages)
                    used += (size_t)snprintf(stages + used, sizeof stages - used, "%s%s=%lld", used ? "," : "", stage,
                                             (long long)json_integer_value(json_object_get(st, "version")));
            }
            printf("%s\t%zu versions\tlatest %ld\t%s\n", name, json_array_size(json_object_get(model, "versions")),
                   latest_version(model), used ? stages : "-");
        }
    } else if (!rc) {
        json_t *model = valid_name(args[0]) ? json_object_get(models, args[0]) : NULL;
        json_t *e;
        size_t i;
        if (!model) rc = fail("no model '%s' in the registry %s", args[0], dir);
        json_array_foreach(json_object_get(model, "versions"), i, e) {
            long v = (long)json_integer_value(json_object_get(e, "version"));
            char stages[512];
            stages_of(model, v, stages, sizeof stages);
            const char *est = json_string_value(json_object_get(e, "estimator"));
            printf("%ld\t%s\t%s\t%s\t%s\t%s\n", v, json_string_value(json_object_get(e, "added_utc")),
                   json_string_value(json_object_get(e, "sha256")), stages, est ? est : "-",
                   json_string_value(json_object_get(e, "file")));
        }
    }
    reg_close(&r);
    return rc;
}

static void print_json(json_t *o) {
    char *s = json_dumps(o, JSON_INDENT(2) | JSON_ENSURE_ASCII);
    if (s) puts(s);
    free(s);
}

static int reg_cmd_show(const char *dir, int n, char **args) {
    if (n != 1) return cli_usage_error(cmd, "show takes NAME[@VERSION|@STAGE]");
    reg r;
    int rc = reg_open(&r, dir, 0);
    char *name = NULL;
    json_t *model = NULL, *entry = NULL;
    if (!rc && !strchr(args[0], '@')) {
        model = valid_name(args[0]) ? model_of(&r, args[0]) : NULL;
        if (!model) rc = fail("no model '%s' in the registry %s", args[0], dir);
        json_t *o = rc ? NULL : json_deep_copy(model);
        if (o) {
            json_object_set_new(o, "name", cli_json_text(args[0]));
            json_object_set_new(o, "latest", json_integer(latest_version(model)));
            print_json(o);
        }
        json_decref(o);
    } else if (!rc && !(rc = resolve(&r, args[0], 0, &name, &model, &entry))) {
        json_t *o = json_deep_copy(entry);
        long v = (long)json_integer_value(json_object_get(entry, "version"));
        char stages[512], *path = stored_path(&r, entry), *abs = path ? realpath(path, NULL) : NULL;
        stages_of(model, v, stages, sizeof stages);
        json_t *held = json_array();
        for (char *tok = strtok(stages, ","); tok && strcmp(tok, "-"); tok = strtok(NULL, ","))
            json_array_append_new(held, json_string(tok));
        json_object_set_new(o, "name", cli_json_text(name));
        json_object_set_new(o, "stages", held);
        json_object_set_new(o, "path", cli_json_text(abs ? abs : path ? path : ""));
        const char *meta = json_string_value(json_object_get(entry, "meta"));
        char *meta_path = meta ? join(dir, meta) : NULL;
        json_t *side = meta_path ? json_load_file(meta_path, 0, NULL) : NULL;
        json_object_set_new(o, "metadata", side ? side : json_null());
        print_json(o);
        json_decref(o);
        free(meta_path);
        free(path);
        free(abs);
    }
    free(name);
    reg_close(&r);
    return rc;
}

static int reg_cmd_path(const char *dir, int n, char **args) {
    if (n != 1) return cli_usage_error(cmd, "path takes NAME[@VERSION|@STAGE]");
    reg r;
    int rc = reg_open(&r, dir, 0);
    char *name = NULL;
    json_t *model, *entry;
    if (!rc && !(rc = resolve(&r, args[0], 0, &name, &model, &entry))) {
        char *path = stored_path(&r, entry), *abs = path ? realpath(path, NULL) : NULL;
        if (!abs) rc = fail("%s: the stored file is missing: %s", path ? path : args[0], strerror(errno));
        else printf("%s\n", abs);
        free(path);
        free(abs);
    }
    free(name);
    reg_close(&r);
    return rc;
}

/* ------------------------------------------------- promote and rollback */

static int reg_cmd_promote(const char *dir, int n, char **args) {
    if (n != 2) return cli_usage_error(cmd, "promote takes NAME@VERSION STAGE");
    if (!valid_stage(args[1]))
        return cli_usage_error(cmd, "'%s' is not a stage name (a letter, then letters, digits, '_', '-'; not vN)", args[1]);
    const char *at = strchr(args[0], '@');
    if (!at || !version_ref(at + 1)) return cli_usage_error(cmd, "promote takes NAME@VERSION (a number), got '%s'", args[0]);
    reg r;
    int rc = reg_open(&r, dir, 1);
    char *name = NULL;
    json_t *model, *entry;
    if (!rc && !(rc = resolve(&r, args[0], 1, &name, &model, &entry))) {
        long v = (long)json_integer_value(json_object_get(entry, "version"));
        json_t *stages = json_object_get(model, "stages");
        if (!stages) json_object_set_new(model, "stages", stages = json_object());
        json_t *stage = json_object_get(stages, args[1]);
        long old = stage ? (long)json_integer_value(json_object_get(stage, "version")) : 0;
        char now[32];
        utc_now(now, sizeof now);
        if (!stage) {
            stage = json_pack("{s:I, s:[], s:s}", "version", (json_int_t)v, "history", "updated_utc", now);
            json_object_set_new(stages, args[1], stage);
        } else if (old != v) {
            json_array_append_new(json_object_get(stage, "history"), json_integer(old));
            json_object_set_new(stage, "version", json_integer(v));
            json_object_set_new(stage, "updated_utc", json_string(now));
        }
        rc = reg_save(&r);
        if (!rc && old) printf("%s %s: %ld -> %ld\n", name, args[1], old, v);
        else if (!rc) printf("%s %s: %ld\n", name, args[1], v);
    }
    free(name);
    reg_close(&r);
    return rc;
}

static int reg_cmd_rollback(const char *dir, int n, char **args) {
    if (n < 1 || n > 2) return cli_usage_error(cmd, "rollback takes NAME [STAGE]");
    const char *name = args[0], *stage_name = n == 2 ? args[1] : "production";
    reg r;
    int rc = reg_open(&r, dir, 1);
    json_t *model = rc ? NULL : valid_name(name) ? model_of(&r, name) : NULL;
    json_t *stage = json_object_get(json_object_get(model, "stages"), stage_name);
    json_t *history = json_object_get(stage, "history");
    if (!rc && !model) rc = fail("no model '%s' in the registry %s", name, dir);
    else if (!rc && !stage) rc = fail("model '%s' has no stage '%s'", name, stage_name);
    else if (!rc && !json_array_size(history))
        rc = fail("stage '%s' of model '%s' has no earlier version to go back to", stage_name, name);
    if (!rc) {
        size_t last = json_array_size(history) - 1;
        long from = (long)json_integer_value(json_object_get(stage, "version"));
        long to = (long)json_integer_value(json_array_get(history, last));
        char now[32];
        utc_now(now, sizeof now);
        json_object_set_new(stage, "version", json_integer(to));
        json_object_set_new(stage, "updated_utc", json_string(now));
        json_array_remove(history, last);
        rc = reg_save(&r);
        if (!rc) printf("%s %s: %ld -> %ld\n", name, stage_name, from, to);
    }
    reg_close(&r);
    return rc;
}

/* -------------------------------------------------------------- verify */

/* One version: 0 ok, 1 a checksum mismatch, 2 a missing file or checksum. */
static int verify_one(reg *r, const char *name, json_t *e) {
    long v = (long)json_integer_value(json_object_get(e, "version"));
    const char *want = json_string_value(json_object_get(e, "sha256"));
    char *path = stored_path(r, e), sha[BRINE_SHA256_HEX_SIZE];
    brine_error err;
    brine_error_clear(&err);
    int rc = 0;
    if (!want || !path) {
        printf("FAILED %s@%ld: the index records no %s\n", name, v, want ? "file" : "checksum");
        rc = EXIT_ERROR;
    } else if (brine_sha256_file(sha, path, &err)) {
        printf("FAILED %s@%ld: %s\n", name, v, err.message);
        rc = EXIT_ERROR;
    } else if (strcmp(sha, want)) {
        printf("FAILED %s@%ld: %s has sha256 %s, the index records %s\n", name, v, path, sha, want);
        rc = EXIT_NEGATIVE;
    }
    const char *meta = json_string_value(json_object_get(e, "meta"));
    char *meta_path = meta && !rc ? join(r->dir, meta) : NULL;
    if (meta_path) {
        json_t *side = json_load_file(meta_path, 0, NULL);
        const char *recorded = json_string_value(json_object_get(side, "sha256"));
        if (!side || !recorded) {
            printf("FAILED %s@%ld: %s is missing or has no sha256\n", name, v, meta_path);
            rc = EXIT_ERROR;
        } else if (strcmp(recorded, want)) {
            printf("FAILED %s@%ld: %s records sha256 %s, the index %s\n", name, v, meta_path, recorded, want);
            rc = EXIT_NEGATIVE;
        }
        json_decref(side);
    }
    if (!rc) printf("ok %s@%ld %s\n", name, v, want);
    free(meta_path);
    free(path);
    return rc;
}

/* A negative answer outranks an error, as in scan (CONVENTIONS). */
static int worse(int a, int b) {
    if (a == EXIT_NEGATIVE || b == EXIT_NEGATIVE) return EXIT_NEGATIVE;
    return a ? a : b;
}

static int reg_cmd_verify(const char *dir, int n, char **args) {
    if (n > 1) return cli_usage_error(cmd, "verify takes at most one NAME[@REF]");
    reg r;
    int rc = reg_open(&r, dir, 0), result = 0;
    char *only = NULL;
    json_t *model = NULL, *entry = NULL;
    if (!rc && n == 1 && strchr(args[0], '@')) {
        if (!(rc = resolve(&r, args[0], 0, &only, &model, &entry))) result = verify_one(&r, only, entry);
    } else if (!rc) {
        const char *name;
        json_t *m, *e;
        size_t i;
        if (n == 1 && !model_of(&r, args[0])) rc = fail("no model '%s' in the registry %s", args[0], dir);
        json_object_foreach(json_object_get(r.index, "models"), name, m) {
            if (rc || (n == 1 && strcmp(name, args[0]))) continue;
            json_array_foreach(json_object_get(m, "versions"), i, e) result = worse(result, verify_one(&r, name, e));
        }
    }
    free(only);
    reg_close(&r);
    return rc ? rc : result;
}

/* ------------------------------------------------------------- command */

int cmd_registry(int argc, char **argv) {
    static const struct option opts[] = {
        {"registry", required_argument, 0, 'r'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
    };
    const char *dir = "models";
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'r': dir = optarg; break;
        case 'h': fputs(help, stdout); return EXIT_OK;
        default: return cli_usage_error(cmd, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (!*dir) return cli_usage_error(cmd, "--registry takes a directory");
    if (optind >= argc) return cli_usage_error(cmd, "expected a command: add, list, show, promote, rollback, path, verify");
    static const struct {
        const char *name;
        int (*run)(const char *, int, char **);
    } subs[] = {
        {"add", reg_cmd_add},         {"list", reg_cmd_list}, {"show", reg_cmd_show},     {"promote", reg_cmd_promote},
        {"rollback", reg_cmd_rollback}, {"path", reg_cmd_path}, {"verify", reg_cmd_verify},
    };
    const char *sub = argv[optind];
    for (size_t k = 0; k < sizeof subs / sizeof *subs; k++)
        if (!strcmp(sub, subs[k].name)) return subs[k].run(dir, argc - optind - 1, argv + optind + 1);
    return cli_usage_error(cmd, "unknown registry command '%s'", sub);
}
