/* meta.c — what the brine command records about a model: the version
 * policy's warning, estimator parameters as JSON (inspect --json and the
 * sidecars share them), the FILE.meta.json sidecar of every save
 * (docs/meta-json.md) and --versioned file names. */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "estimators/estimator.h"
#include "io/file.h"
#include "pickle/text.h"

/* ------------------------------------------------------ version policy */

int cli_version_check(const char *cmd, const char *path, const brine_model *m, int strict) {
    if (!m || brine_model_version_verified(m)) return 0;
    char list[256] = "";
    size_t used = 0, n = brine_model_verified_version_count(m);
    for (size_t k = 0; k < n && used < sizeof list; k++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", k ? ", " : "", brine_model_verified_version(m, k));
    const char *v = brine_model_sklearn_version(m);
    char written[96];
    snprintf(written, sizeof written, "%s", v ? v : "before 0.18 (no _sklearn_version)");
    if (strict) {
        fprintf(stderr,
                "brine %s: %s: written by scikit-learn %s; brine has verified %s's layout only at %s "
                "(--strict-version refuses other versions)\n",
                cmd, path, written, m->short_name, n ? list : "no version");
        return EXIT_ERROR;
    }
    fprintf(stderr,
            "brine: warning: %s was written by scikit-learn %s; brine has verified layouts for %s at: %s "
            "(--strict-version makes this an error)\n",
            path, written, m->short_name, n ? list : "none");
    return 0;
}

/* ------------------------------------------------------- values as JSON */

enum { PARAM_DEPTH = 32 };

static json_t *number_json(double d) {
    if (isnan(d)) return json_string("nan");
    if (isinf(d)) return json_string(d > 0 ? "inf" : "-inf");
    return json_real(d);
}

/* A numpy scalar or array item: int, float or bool by its dtype. */
static json_t *item_json(const bv_dtype *dt, const uint8_t *p) {
    int64_t i;
    double d;
    if (dt->kind == 'b' && be_item_int(dt, p, &i)) return json_boolean(i != 0);
    if ((dt->kind == 'i' || dt->kind == 'u') && be_item_int(dt, p, &i)) return json_integer((json_int_t)i);
    if (dt->kind == 'f' && be_item_double(dt, p, &d)) return number_json(d);
    return json_null();
}

static json_t *value_json(const bv *v, int depth);

static json_t *seq_json(const bv *v, int depth) {
    json_t *a = json_array();
    for (size_t k = 0; k < v->u.seq.n; k++) json_array_append_new(a, value_json(v->u.seq.items[k], depth + 1));
    return a;
}

/* Dict keys as Python's json.dumps writes them: str as is, others as text. */
static json_t *dict_json(const bv *v, int depth) {
    json_t *o = json_object();
    for (size_t k = 0; k < v->u.seq.n; k++) {
        const bv *key = v->u.seq.items[2 * k];
        json_t *jk = value_json(key, depth + 1);
        char buf[64];
        const char *name = buf;
        if (json_is_string(jk)) name = json_string_value(jk);
        else if (json_is_integer(jk)) snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(jk));
        else if (json_is_real(jk)) bp_float_repr(json_real_value(jk), buf, sizeof buf);
        else if (json_is_boolean(jk)) snprintf(buf, sizeof buf, "%s", json_is_true(jk) ? "true" : "false");
        else snprintf(buf, sizeof buf, "null");
        json_object_set_new(o, name, value_json(v->u.seq.items[2 * k + 1], depth + 1));
        json_decref(jk);
    }
    return o;
}

static json_t *array_json(const bv *v, int depth) {
    const bv_array *a = be_array(v);
    if (!a) return json_null();
    if (a->objects) return seq_json(a->objects, depth);
    const bv_dtype *dt = a->dtype->u.dt;
    if (!a->data || dt->nfields || a->ndim != 1) return json_null();
    json_t *out = json_array();
    for (int64_t k = 0; k < a->count; k++) json_array_append_new(out, item_json(dt, a->data + (size_t)k * dt->itemsize));
    return out;
}

static json_t *value_json(const bv *v, int depth) {
    if (!v || depth > PARAM_DEPTH) return json_null();
    switch (v->kind) {
    case BRINE_NONE: return json_null();
    case BRINE_BOOL: return json_boolean(v->u.i != 0);
    case BRINE_INT: {
        if (!(v->flags & BV_F_BIGINT)) return json_integer((json_int_t)v->u.i);
        char *s = bp_int_le_to_text(v->u.s.p, v->u.s.n);
        json_t *j = cli_json_text(s ? s : "");
        free(s);
        return j;
    }
    case BRINE_FLOAT: return number_json(v->u.f);
    case BRINE_STR: case BRINE_BYTES: case BRINE_BYTEARRAY: {
        char *s = malloc(v->u.s.n + 1);
        if (!s) return json_null();
        memcpy(s, v->u.s.p, v->u.s.n);
        s[v->u.s.n] = '\0';
        json_t *j = memchr(s, 0, v->u.s.n) ? json_stringn(s, v->u.s.n) : cli_json_text(s);
        free(s);
        return j ? j : json_null();
    }
    case BRINE_TUPLE: case BRINE_LIST: case BRINE_SET: case BRINE_FROZENSET: return seq_json(v, depth);
    case BRINE_DICT: return dict_json(v, depth);
    case BRINE_GLOBAL: case BRINE_OBJECT: {
        const char *name = NULL, *module = brine_value_global(v, &name);
        char path[512];
        snprintf(path, sizeof path, "%s.%s", module ? module : "?", name ? name : "?");
        return cli_json_text(path);
    }
    case BRINE_NDARRAY: return array_json(v, depth);
    case BRINE_SCALAR:
        return v->u.arr && v->u.arr->data ? item_json(v->u.arr->dtype->u.dt, v->u.arr->data) : json_null();
    default: return json_null();
    }
}

json_t *cli_param_json(const brine_value *v) { return value_json(v, 0); }

/* ------------------------------------------------------------- params */

/* The constructor parameters of sklearn 1.2.1 for cls: those the save
 * code writes, less the forest's own writer-filled keys. */
static const char *const *params_121(const char *cls) {
    const be_layout *lay = be_layout_find(cls, "1.2.1");
    return lay ? lay->params : NULL;
}

static int writer_key(const char *name) {
    return !strcmp(name, "estimator") || !strcmp(name, "estimator_params") || !strcmp(name, "base_estimator");
}

/* One of sklearn's defaults, through the save code (which owns them). */
static json_t *default_json(const brine_model *m, const char *name) {
    bp_arena a;
    bp_arena_init(&a, 0);
    be_save s = {0};
    s.a = &a;
    s.m = m;
    s.lay = be_layout_find(m->short_name, "1.2.1");
    bv *dict = be_s_dict(&s);
    const char *const names[] = {name, NULL};
    be_params none = {NULL, 0};
    be_s_params(&s, dict, &none, names, m->short_name);
    json_t *j = s.failed ? json_null() : cli_param_json(bv_dict_get(dict, name));
    bp_arena_free(&a);
    return j;
}

static int key_order(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

json_t *cli_json_sorted(json_t *o) {
    size_t n = json_object_size(o), k = 0;
    const char **keys = malloc((n + 1) * sizeof *keys);
    if (!keys) return o;
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) keys[k++] = key;
    qsort(keys, n, sizeof *keys, key_order);
    json_t *out = json_object();
    for (k = 0; k < n; k++) json_object_set(out, keys[k], json_object_get(o, keys[k]));
    free(keys);
    json_decref(o);
    return out;
}

json_t *cli_model_params(const brine_model *m) {
    json_t *o = json_object();
    if (!m) return o;
    /* Regressors store BaseDecisionTree's / BaseForest's class_weight, but
     * their __init__ (and so get_params) has none. */
    for (size_t k = 0; k < m->params.n; k++) {
        const be_param *p = &m->params.items[k];
        if (!m->cls->classifier && !strcmp(p->name, "class_weight")) continue;
        json_object_set_new(o, p->name, cli_param_json(p->value));
    }
    const char *const *names = params_121(m->short_name);
    for (size_t k = 0; names && names[k]; k++) {
        if (writer_key(names[k]) || json_object_get(o, names[k])) continue;
        if (!m->cls->classifier && !strcmp(names[k], "class_weight")) continue;
        json_object_set_new(o, names[k], default_json(m, names[k]));
    }
    return cli_json_sorted(o);
}

static json_t *label_json(const brine_label *l) {
    switch (l->kind) {
    case BRINE_LABEL_INT: return json_integer((json_int_t)l->i);
    case BRINE_LABEL_FLOAT: return number_json(l->f);
    case BRINE_LABEL_BOOL: return json_boolean(l->i != 0);
    default: {
        json_t *j = json_stringn(l->s, l->len);
        return j ? j : cli_json_text(l->s);
    }
    }
}

json_t *cli_model_classes(const brine_model *m) {
    if (!m || !brine_model_is_classifier(m)) return json_null();
    size_t outputs = brine_model_n_outputs(m);
    json_t *all = json_array();
    for (size_t k = 0; k < outputs; k++) {
        size_t n;
        const brine_label *l = brine_model_classes(m, k, &n);
        json_t *one = json_array();
        for (size_t i = 0; i < n; i++) json_array_append_new(one, label_json(&l[i]));
        json_array_append_new(all, one);
    }
    if (outputs != 1) return all;
    json_t *first = json_incref(json_array_get(all, 0));
    json_decref(all);
    return first;
}

/* ------------------------------------------------------------ sidecar */

static void utc_now(char *buf, size_t size, const char *fmt) {
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, size, fmt, &tm);
}

static json_t *string_array(const char *const *items, size_t n) {
    if (!items) return json_null();
    json_t *a = json_array();
    for (size_t k = 0; k < n; k++) json_array_append_new(a, cli_json_text(items[k]));
    return a;
}

static json_t *training_json(const cli_train_info *info) {
    if (!info) return json_null();
    json_t *o = json_object();
    json_object_set_new(o, "sha256", info->data_sha256 ? json_string(info->data_sha256) : json_null());
    json_object_set_new(o, "n_rows", json_integer((json_int_t)info->n_rows));
    json_object_set_new(o, "n_columns", json_integer((json_int_t)info->n_columns));
    json_object_set_new(o, "columns", string_array(info->columns, info->n_columns));
    return o;
}

static json_t *metrics_json(const cli_train_info *info) {
    json_t *o = json_object();
    if (!info) return o;
    for (size_t k = 0; info->metric_names && info->metric_values && k < info->n_metrics; k++)
        json_object_set_new(o, info->metric_names[k], number_json(info->metric_values[k]));
    if (info->cv_scores_name && info->cv_scores) {
        json_t *a = json_array();
        for (size_t k = 0; k < info->n_cv_scores; k++) json_array_append_new(a, number_json(info->cv_scores[k]));
        json_object_set_new(o, info->cv_scores_name, a);
    }
    return o;
}

static json_t *feature_names_json(const brine_model *m) {
    size_t n = brine_model_n_feature_names(m);
    if (!n) return json_null();
    json_t *a = json_array();
    for (size_t k = 0; k < n; k++) json_array_append_new(a, cli_json_text(brine_model_feature_name(m, k)));
    return a;
}

static const char *base_name(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static json_t *meta_object(const char *sha, long long bytes, const char *model_path, const brine_model *m,
                           const char *written, const cli_train_info *info) {
    char created[32];
    utc_now(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ");
    json_t *o = json_object();
    json_object_set_new(o, "brine_version", json_string(brine_version()));
    json_object_set_new(o, "created_utc", json_string(created));
    json_object_set_new(o, "file", cli_json_text(base_name(model_path)));
    json_object_set_new(o, "sha256", json_string(sha));
    json_object_set_new(o, "bytes", json_integer((json_int_t)bytes));
    json_object_set_new(o, "sklearn_version", written ? json_string(written) : json_null());
    json_object_set_new(o, "estimator", m ? cli_json_text(brine_model_class(m)) : json_null());
    json_object_set_new(o, "params", cli_model_params(m));
    json_object_set_new(o, "n_features_in", m ? json_integer((json_int_t)brine_model_n_features_in(m)) : json_null());
    json_object_set_new(o, "feature_names_in", m ? feature_names_json(m) : json_null());
    json_object_set_new(o, "classes", cli_model_classes(m));
    json_object_set_new(o, "n_outputs", m ? json_integer((json_int_t)brine_model_n_outputs(m)) : json_null());
    json_object_set_new(o, "training_data", training_json(info));
    json_object_set_new(o, "metrics", metrics_json(info));
    return o;
}

int cli_write_meta(const char *cmd, const char *model_path, const brine_model *model,
                   const char *sklearn_version_written, const cli_train_info *info) {
    brine_error err;
    brine_error_clear(&err);
    char sha[BRINE_SHA256_HEX_SIZE];
    struct stat st;
    if (brine_sha256_file(sha, model_path, &err)) return cli_report(cmd, model_path, &err);
    if (stat(model_path, &st) != 0) {
        fprintf(stderr, "brine %s: %s: %s\n", cmd, model_path, strerror(errno));
        return EXIT_ERROR;
    }
    json_t *o = meta_object(sha, (long long)st.st_size, model_path, model, sklearn_version_written, info);
    char *text = json_dumps(o, JSON_INDENT(2) | JSON_ENSURE_ASCII);
    json_decref(o);
    size_t n = strlen(model_path) + sizeof ".meta.json";
    char *meta = malloc(n);
    int rc = 0;
    if (!text || !meta) {
        fprintf(stderr, "brine %s: %s: out of memory writing the metadata sidecar\n", cmd, model_path);
        rc = EXIT_ERROR;
    } else {
        snprintf(meta, n, "%s.meta.json", model_path);
        size_t len = strlen(text);
        text[len] = '\n'; /* json_dumps's NUL becomes the final newline */
        if (bi_write_atomic(meta, text, len + 1, &err)) rc = cli_report(cmd, meta, &err);
    }
    free(text);
    free(meta);
    return rc;
}

/* ------------------------------------------------------ versioned names */

static int is_compressor_ext(const char *ext) {
    static const char *const exts[] = {"z", "gz", "bz2", "xz", "lzma", "lz4", NULL};
    for (size_t k = 0; exts[k]; k++)
        if (!strcmp(ext, exts[k])) return 1;
    return 0;
}

/* Where NAME ends in base: before the extension, which is the last
 * suffix, or the last two when the last names a compressor
 * ("model.pkl.gz" -> "model" + ".pkl.gz"). */
static size_t name_length(const char *base) {
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base) return strlen(base);
    if (is_compressor_ext(dot + 1)) {
        const char *prev = dot;
        while (prev > base && prev[-1] != '.') prev--;
        if (prev > base + 1) return (size_t)(prev - 1 - base);
    }
    return (size_t)(dot - base);
}

static int all_digits(const char *s, size_t n) {
    for (size_t k = 0; k < n; k++)
        if (s[k] < '0' || s[k] > '9') return 0;
    return n > 0;
}

/* N of "NAME_vN_YYYYmmdd_HHMMSS..." or 0 when entry is not one of NAME's. */
static unsigned long version_of(const char *entry, const char *name, size_t nlen) {
    if (strncmp(entry, name, nlen) || strncmp(entry + nlen, "_v", 2)) return 0;
    const char *p = entry + nlen + 2, *q = p;
    while (*q >= '0' && *q <= '9') q++;
    if (q == p || q - p > 9 || *q != '_' || !all_digits(q + 1, 8) || q[9] != '_' || !all_digits(q + 10, 6)) return 0;
    return strtoul(p, NULL, 10);
}

int cli_versioned_path(const char *cmd, const char *path, char **out) {
    *out = NULL;
    const char *base = base_name(path);
    if (!*base) return cli_usage_error(cmd, "--versioned needs a file name, got '%s'", path);
    size_t dlen = (size_t)(base - path), nlen = name_length(base);
    char *dir = malloc(dlen + 2), *name = strndup(base, nlen);
    if (!dir || !name) {
        free(dir);
        free(name);
        return EXIT_ERROR;
    }
    memcpy(dir, path, dlen);
    strcpy(dir + dlen, dlen ? "" : ".");
    unsigned long top = 0;
    DIR *d = opendir(dir);
    int rc = 0;
    if (!d && errno != ENOENT) {
        fprintf(stderr, "brine %s: %s: %s\n", cmd, dir, strerror(errno));
        rc = EXIT_ERROR;
    }
    for (struct dirent *e; d && (e = readdir(d));) {
        unsigned long v = version_of(e->d_name, name, nlen);
        if (v > top) top = v;
    }
    if (d) closedir(d);
    char stamp[32];
    utc_now(stamp, sizeof stamp, "%Y%m%d_%H%M%S");
    size_t n = strlen(path) + 64;
    char *res = rc ? NULL : malloc(n);
    if (res) snprintf(res, n, "%.*s%s_v%lu_%s%s", (int)dlen, path, name, top + 1, stamp, base + nlen);
    else if (!rc) rc = EXIT_ERROR;
    free(dir);
    free(name);
    *out = res;
    return rc;
}
