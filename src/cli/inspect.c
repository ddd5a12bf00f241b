/* inspect.c — brine inspect FILE [--json]: the container, every global, and
 * the object graph as an indented tree.  The walk is iterative and bounded
 * (depth, items per container); a node met twice is shown as a reference,
 * never expanded again, so shared and hostile graphs print a few lines. */
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "pickle/text.h"
#include "pickle/value.h"

typedef struct seen_set {
    const bv **keys;
    uint32_t *labels;
    size_t cap, len;
} seen_set;

/* Returns the label of v if already seen (>0), else records it with a new
 * label and returns 0. */
static uint32_t seen(seen_set *s, const bv *v) {
    if ((s->len + 1) * 2 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        const bv **k = calloc(cap, sizeof *k);
        uint32_t *l = calloc(cap, sizeof *l);
        if (!k || !l) { free(k); free(l); return 0; }
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->keys[i]) continue;
            size_t j = ((uintptr_t)s->keys[i] >> 4) & (cap - 1);
            while (k[j]) j = (j + 1) & (cap - 1);
            k[j] = s->keys[i];
            l[j] = s->labels[i];
        }
        free(s->keys);
        free(s->labels);
        s->keys = k;
        s->labels = l;
        s->cap = cap;
    }
    size_t j = ((uintptr_t)v >> 4) & (s->cap - 1);
    while (s->keys[j]) {
        if (s->keys[j] == v) return s->labels[j];
        j = (j + 1) & (s->cap - 1);
    }
    s->keys[j] = v;
    s->labels[j] = (uint32_t)++s->len;
    return 0;
}

static void seen_free(seen_set *s) {
    free(s->keys);
    free(s->labels);
}

/* ------------------------------------------------------- short renderings */

typedef struct text {
    char buf[320];
    size_t n;
} text;

static void tput(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tput(text *t, const char *fmt, ...) {
    if (t->n >= sizeof t->buf - 1) return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(t->buf + t->n, sizeof t->buf - t->n, fmt, ap);
    va_end(ap);
    if (k > 0) t->n += (size_t)k < sizeof t->buf - t->n ? (size_t)k : sizeof t->buf - t->n - 1;
}

/* Python-like repr of str/bytes, cut after 60 characters. */
static void quoted(text *t, const bv *v) {
    int is_bytes = v->kind != BRINE_STR;
    if (v->kind == BRINE_BYTEARRAY) tput(t, "bytearray(");
    tput(t, "%s'", is_bytes ? "b" : "");
    size_t shown = 0;
    for (size_t k = 0; k < v->u.s.n && shown < 60; shown++) {
        uint8_t c = v->u.s.p[k];
        if (!is_bytes && c >= 0x80) {
            uint32_t cp;
            size_t len = bp_utf8_get(v->u.s.p + k, v->u.s.n - k, &cp);
            tput(t, "%.*s", (int)len, (const char *)v->u.s.p + k);
            k += len;
            continue;
        }
        if (c == '\'' || c == '\\') tput(t, "\\%c", c);
        else if (c >= 0x20 && c < 0x7f) tput(t, "%c", c);
        else if (c == '\n') tput(t, "\\n");
        else tput(t, "\\x%02x", c);
        k++;
    }
    tput(t, "'%s", shown < v->u.s.n && v->u.s.n > 60 ? "..." : "");
    if (v->kind == BRINE_BYTEARRAY) tput(t, ")");
    if (v->u.s.n > 60) tput(t, " (%zu %s)", v->u.s.n, is_bytes ? "bytes" : "bytes of UTF-8");
}

static void dtype_name(text *t, const bv *d) {
    const bv_dtype *dt = d->u.dt;
    if (dt->nfields) {
        tput(t, "struct[%zu fields, %zu bytes]", dt->nfields, dt->itemsize);
        return;
    }
    static const struct { char kind; const char *name; } names[] = {
        {'b', "bool"}, {'i', "int"}, {'u', "uint"}, {'f', "float"}, {'c', "complex"}, {'O', "object"},
        {'M', "datetime64"}, {'m', "timedelta64"},
    };
    for (size_t k = 0; k < sizeof names / sizeof *names; k++) {
        if (names[k].kind != dt->kind) continue;
        if (dt->kind == 'b' || dt->kind == 'O' || dt->kind == 'M' || dt->kind == 'm') tput(t, "%s", names[k].name);
        else tput(t, "%s%zu", names[k].name, dt->itemsize * (dt->kind == 'c' ? 8 : 8));
        if (dt->byteorder == '>') tput(t, " big-endian");
        return;
    }
    tput(t, "%c%c%zu", dt->byteorder, dt->kind, dt->kind == 'U' ? dt->itemsize / 4 : dt->itemsize);
}

static double item_as_double(const bv_dtype *dt, const uint8_t *p, int *ok) {
    *ok = 1;
    uint8_t b[16];
    memcpy(b, p, dt->itemsize < 16 ? dt->itemsize : 16);
    if (dt->byteorder == '>')
        for (size_t i = 0; i < dt->itemsize / 2; i++) {
            uint8_t tmp = b[i];
            b[i] = b[dt->itemsize - 1 - i];
            b[dt->itemsize - 1 - i] = tmp;
        }
    union { int8_t i8; int16_t i16; int32_t i32; int64_t i64; uint8_t u8; uint16_t u16; uint32_t u32; uint64_t u64;
            float f32; double f64; } u;
    memcpy(&u, b, sizeof u < dt->itemsize ? sizeof u : dt->itemsize);
    switch (dt->kind) {
    case 'b': return u.u8 != 0;
    case 'i': return dt->itemsize == 1 ? u.i8 : dt->itemsize == 2 ? u.i16 : dt->itemsize == 4 ? u.i32 : (double)u.i64;
    case 'u': return dt->itemsize == 1 ? u.u8 : dt->itemsize == 2 ? u.u16 : dt->itemsize == 4 ? u.u32 : (double)u.u64;
    case 'f': if (dt->itemsize == 4) return u.f32; if (dt->itemsize == 8) return u.f64; break;
    default: break;
    }
    *ok = 0;
    return 0;
}

static void array_values(text *t, const bv_array *a) {
    const bv_dtype *dt = a->dtype->u.dt;
    if (!a->data || dt->nfields) return;
    int64_t show = a->count < 6 ? a->count : 6;
    tput(t, " [");
    for (int64_t k = 0; k < show; k++) {
        int ok;
        double d = item_as_double(dt, a->data + (size_t)k * dt->itemsize, &ok);
        if (!ok) { tput(t, "..."); break; }
        char r[40];
        if (dt->kind == 'f') bp_float_repr(d, r, sizeof r);
        else if (dt->kind == 'b') snprintf(r, sizeof r, "%s", d != 0 ? "True" : "False");
        else snprintf(r, sizeof r, "%.0f", d);
        tput(t, "%s%s", k ? ", " : "", r);
    }
    tput(t, "%s]", a->count > show ? ", ..." : "");
}

/* One line describing v; containers give their size. */
static void describe(text *t, const bv *v) {
    char num[48];
    switch (v->kind) {
    case BRINE_NONE: tput(t, "None"); break;
    case BRINE_BOOL: tput(t, v->u.i ? "True" : "False"); break;
    case BRINE_INT:
        if (v->flags & BV_F_BIGINT) {
            char *s = bp_int_le_to_text(v->u.s.p, v->u.s.n);
            if (s && strlen(s) > 60) tput(t, "int of %zu digits %.20s...", strlen(s), s);
            else tput(t, "%s", s ? s : "(int)");
            free(s);
        } else {
            tput(t, "%lld", (long long)v->u.i);
        }
        break;
    case BRINE_FLOAT: bp_float_repr(v->u.f, num, sizeof num); tput(t, "%s", num); break;
    case BRINE_COMPLEX: {
        char im[48];
        bp_float_repr(v->u.c.re, num, sizeof num);
        bp_float_repr(v->u.c.im, im, sizeof im);
        tput(t, "complex(%s, %s)", num, im);
        break;
    }
    case BRINE_STR: case BRINE_BYTES: case BRINE_BYTEARRAY: quoted(t, v); break;
    case BRINE_TUPLE: tput(t, "tuple (%zu items)", v->u.seq.n); break;
    case BRINE_LIST: tput(t, "list (%zu items)", v->u.seq.n); break;
    case BRINE_DICT: tput(t, "dict (%zu items)", v->u.seq.n); break;
    case BRINE_SET: tput(t, "set (%zu items)", v->u.seq.n); break;
    case BRINE_FROZENSET: tput(t, "frozenset (%zu items)", v->u.seq.n); break;
    case BRINE_GLOBAL: tput(t, "global %s.%s", v->u.g.module, v->u.g.name); break;
    case BRINE_OBJECT: {
        const bv *c = v->u.obj.callable;
        tput(t, "%s.%s %s", c->u.g.module, c->u.g.name, v->how == BV_HOW_REDUCE ? "(reduce)" : "object");
        break;
    }
    case BRINE_NDARRAY: {
        const bv_array *a = v->u.arr;
        tput(t, "ndarray ");
        dtype_name(t, a->dtype);
        tput(t, " shape (");
        for (int k = 0; k < a->ndim; k++) tput(t, "%lld%s", (long long)a->shape[k], a->ndim == 1 ? "," : k + 1 < a->ndim ? ", " : "");
        tput(t, ")%s", a->fortran ? " Fortran order" : "");
        array_values(t, a);
        break;
    }
    case BRINE_SCALAR: {
        tput(t, "numpy ");
        dtype_name(t, v->u.arr->dtype);
        int ok;
        double d = item_as_double(v->u.arr->dtype->u.dt, v->u.arr->data, &ok);
        if (ok) {
            if (v->u.arr->dtype->u.dt->kind == 'f') bp_float_repr(d, num, sizeof num);
            else snprintf(num, sizeof num, "%.0f", d);
            tput(t, " %s", num);
        }
        break;
    }
    case BRINE_DTYPE: tput(t, "dtype "); dtype_name(t, v); break;
    case BRINE_SLICE: tput(t, "slice"); break;
    default: tput(t, "?"); break;
    }
}

/* ----------------------------------------------------------- the walk */

typedef struct walk_frame {
    const bv *v;
    size_t next;  /* next child */
    int depth;
} walk_frame;

/* Children shown under a node: (label, child) pairs. */
static size_t child_count(const bv *v) {
    switch (v->kind) {
    case BRINE_TUPLE: case BRINE_LIST: case BRINE_SET: case BRINE_FROZENSET: case BRINE_DICT: return v->u.seq.n;
    case BRINE_OBJECT: return 2;
    case BRINE_NDARRAY: return v->u.arr->objects ? v->u.arr->objects->u.seq.n : 0;
    case BRINE_SLICE: return 3;
    default: return 0;
    }
}

static const bv *child_at(const bv *v, size_t i, text *label) {
    switch (v->kind) {
    case BRINE_DICT: describe(label, v->u.seq.items[2 * i]); tput(label, ": "); return v->u.seq.items[2 * i + 1];
    case BRINE_OBJECT:
        if (i == 0) {
            const bv *a = v->u.obj.args;
            if (!a || (a->kind == BRINE_TUPLE && a->u.seq.n == 0)) return NULL;
            tput(label, "args: ");
            return a;
        }
        if (!v->u.obj.state) return NULL;
        tput(label, "state: ");
        return v->u.obj.state;
    case BRINE_NDARRAY: return v->u.arr->objects->u.seq.items[i];
    case BRINE_SLICE:
        tput(label, i == 0 ? "start: " : i == 1 ? "stop: " : "step: ");
        return i == 0 ? v->u.slice.start : i == 1 ? v->u.slice.stop : v->u.slice.step;
    default: return v->u.seq.items[i];
    }
}

static int print_tree(const bv *root, int max_depth, size_t max_items) {
    seen_set s = {0};
    size_t cap = 64, n = 0;
    walk_frame *stack = malloc(cap * sizeof *stack);
    if (!stack) return EXIT_ERROR;
    text t = {{0}, 0};
    describe(&t, root);
    printf("%s\n", t.buf);
    seen(&s, root);
    stack[n++] = (walk_frame){root, 0, 0};
    while (n) {
        walk_frame *f = &stack[n - 1];
        size_t total = child_count(f->v);
        if (f->depth >= max_depth || f->next >= total) {
            if (f->depth >= max_depth && total) printf("%*s... (depth limit; --depth N shows more)\n", 2 * (f->depth + 1), "");
            n--;
            continue;
        }
        if (f->next >= max_items && f->v->kind != BRINE_OBJECT) {
            printf("%*s... %zu more\n", 2 * (f->depth + 1), "", total - f->next);
            n--;
            continue;
        }
        text label = {{0}, 0};
        const bv *c = child_at(f->v, f->next++, &label);
        if (!c) continue;
        uint32_t ref = seen(&s, c);
        int shareable = c->kind >= BRINE_TUPLE || (c->kind >= BRINE_STR && c->u.s.n > 60);
        text line = {{0}, 0};
        describe(&line, c);
        if (ref && shareable) {
            printf("%*s%s<ref #%u> %s\n", 2 * (f->depth + 1), "", label.buf, ref, line.buf);
            continue;
        }
        printf("%*s%s%s", 2 * (f->depth + 1), "", label.buf, line.buf);
        if (shareable && child_count(c)) printf("  #%u", (unsigned)s.len);
        printf("\n");
        if (child_count(c)) {
            if (n == cap) {
                walk_frame *g = realloc(stack, 2 * cap * sizeof *stack);
                if (!g) break;
                stack = g;
                cap *= 2;
            }
            int d = stack[n - 1].depth + 1;
            stack[n++] = (walk_frame){c, 0, d};
        }
    }
    free(stack);
    seen_free(&s);
    return EXIT_OK;
}

/* ------------------------------------------------------------- JSON */

/* numpy's dtype.str of a plain dtype ("<i8", "|u1", "<U5", "|V64"). */
static void dtype_str(char *buf, size_t size, const bv_dtype *dt) {
    size_t n = dt->kind == 'U' ? dt->itemsize / 4 : dt->itemsize;
    if (dt->kind == 'O') snprintf(buf, size, "|O");
    else snprintf(buf, size, "%c%c%zu", dt->byteorder, dt->kind, n);
}

/* The "dtype" member of ndarray, numpy scalar and dtype nodes: its str,
 * itemsize and, for records, each field's name, offset and str, so that
 * layouts (sklearn's tree nodes) compare field by field.  Field dtypes are
 * shown by their str only, which keeps this flat whatever the nesting. */
static json_t *json_dtype(const bv *d) {
    if (!d || d->kind != BRINE_DTYPE || !d->u.dt) return NULL;
    const bv_dtype *dt = d->u.dt;
    char s[48];
    dtype_str(s, sizeof s, dt);
    json_t *o = json_object();
    json_object_set_new(o, "str", cli_json_text(s));
    json_object_set_new(o, "itemsize", json_integer((json_int_t)dt->itemsize));
    if (!dt->nfields) return o;
    json_t *fields = json_array();
    for (size_t k = 0; k < dt->nfields; k++) {
        const bv_field *f = &dt->fields[k];
        const bv *fd = f->dtype;
        json_t *jf = json_object();
        json_object_set_new(jf, "name", json_stringn(f->name, f->name_len));
        json_object_set_new(jf, "offset", json_integer((json_int_t)f->offset));
        if (fd && fd->kind == BRINE_DTYPE && fd->u.dt) dtype_str(s, sizeof s, fd->u.dt);
        else snprintf(s, sizeof s, "?");
        json_object_set_new(jf, "str", cli_json_text(s));
        json_array_append_new(fields, jf);
    }
    json_object_set_new(o, "fields", fields);
    return o;
}

static const bv *dtype_of(const bv *v) {
    if (v->kind == BRINE_DTYPE) return v;
    if ((v->kind == BRINE_NDARRAY || v->kind == BRINE_SCALAR) && v->u.arr) return v->u.arr->dtype;
    return NULL;
}

/* A bounded JSON rendering of the graph (same limits as the tree). */
static json_t *json_tree(const bv *root, int max_depth, size_t max_items) {
    typedef struct { const bv *v; json_t *out; size_t next; int depth; } jf;
    seen_set s = {0};
    size_t cap = 64, n = 0;
    jf *stack = malloc(cap * sizeof *stack);
    json_t *top = json_object();
    if (!stack || !top) { free(stack); return top; }
    stack[n++] = (jf){root, top, 0, 0};
    seen(&s, root);
    while (n) {
        jf *f = &stack[n - 1];
        if (f->next == 0) {
            text t = {{0}, 0};
            describe(&t, f->v);
            json_object_set_new(f->out, "kind", json_string(brine_kind_name((brine_kind)f->v->kind)));
            json_object_set_new(f->out, "summary", cli_json_text(t.buf));
            json_t *jd = dtype_of(f->v) ? json_dtype(dtype_of(f->v)) : NULL;
            if (jd) json_object_set_new(f->out, "dtype", jd);
            if (child_count(f->v) && f->depth < max_depth) json_object_set_new(f->out, "items", json_array());
        }
        json_t *items = json_object_get(f->out, "items");
        size_t total = child_count(f->v);
        if (!items || f->next >= total || f->next >= max_items) {
            if (items && total > f->next) json_object_set_new(f->out, "more", json_integer((json_int_t)(total - f->next)));
            n--;
            continue;
        }
        text label = {{0}, 0};
        const bv *c = child_at(f->v, f->next++, &label);
        if (!c) continue;
        json_t *child = json_object();
        if (label.n) json_object_set_new(child, "label", cli_json_text(label.buf));
        json_array_append_new(items, child);
        uint32_t ref = seen(&s, c);
        if (ref && child_count(c)) {
            json_object_set_new(child, "ref", json_integer(ref));
            continue;
        }
        if (n == cap) {
            jf *g = realloc(stack, 2 * cap * sizeof *stack);
            if (!g) break;
            stack = g;
            cap *= 2;
        }
        int d = stack[n - 1].depth + 1;
        stack[n++] = (jf){c, child, 0, d};
    }
    free(stack);
    seen_free(&s);
    return top;
}

static const char help[] =
    "usage: brine inspect FILE [--json] [--depth N] [--items N] [--trust MODULE:QUALNAME]... [--trust-file F]\n"
    "\n"
    "Shows the container (format, compression, protocol), every global the file names\n"
    "with its byte offset, and the object graph as an indented tree.  Shared references\n"
    "are shown as <ref #N>, never expanded twice.\n"
    "\n"
    "  --json        one JSON object instead (documented in docs/inspect-json.md)\n"
    "  --depth N     levels of the tree to show (default 20)\n"
    "  --items N     items shown per container (default 20)\n";

static long parse_count(const char *s) {
    char *end;
    long v = strtol(s, &end, 10);
    return (*s && !*end && v >= 0) ? v : -1;
}

/* A global's mark: empty when allowed; with a scan report (a file the
 * loader refused) the grade of each refused name. */
static const char *grade_mark(const brine_scan_report *r, size_t k) {
    brine_verdict g = BRINE_VERDICT_ALLOWED;
    if (r) brine_scan_global(r, k, &g);
    return g == BRINE_VERDICT_DANGEROUS ? "  [refused: dangerous]" : g == BRINE_VERDICT_UNKNOWN ? "  [refused: unknown]" : "";
}

static void print_text(const char *path, const brine_file *f, int depth, size_t items, const brine_scan_report *r) {
    printf("file: %s\n", path);
    printf("format: %s\n", brine_file_format(f) == BRINE_FORMAT_JOBLIB ? "joblib" : "pickle");
    printf("compression: %s\n", brine_compression_name(brine_file_compression(f)));
    printf("protocol: %d\n", brine_file_protocol(f));
    printf("globals (%zu):\n", brine_file_global_count(f));
    for (size_t k = 0; k < brine_file_global_count(f); k++) {
        const brine_global_ref *g = brine_file_global(f, k);
        printf("  %s.%s  (byte %lld%s)%s\n", g->module, g->name, (long long)g->offset, g->stream ? ", nested stream" : "",
               grade_mark(r, k));
    }
    printf("object:\n");
    print_tree(brine_file_root(f), depth, items);
}

static void print_json(const char *path, const brine_file *f, int depth, size_t items, const brine_scan_report *r) {
    json_t *o = json_object();
    struct stat st;
    json_object_set_new(o, "file", cli_json_text(path));
    json_object_set_new(o, "format", cli_json_text(brine_file_format(f) == BRINE_FORMAT_JOBLIB ? "joblib" : "pickle"));
    json_object_set_new(o, "compression", json_string(brine_compression_name(brine_file_compression(f))));
    json_object_set_new(o, "protocol", json_integer(brine_file_protocol(f)));
    if (stat(path, &st) == 0) json_object_set_new(o, "file_bytes", json_integer((json_int_t)st.st_size));
    json_t *globals = json_array();
    for (size_t k = 0; k < brine_file_global_count(f); k++) {
        const brine_global_ref *g = brine_file_global(f, k);
        json_t *e = json_object();
        json_object_set_new(e, "module", cli_json_text(g->module));
        json_object_set_new(e, "name", cli_json_text(g->name));
        json_object_set_new(e, "offset", json_integer(g->offset));
        json_object_set_new(e, "stream", json_integer(g->stream));
        brine_verdict grade = BRINE_VERDICT_ALLOWED;
        if (r) brine_scan_global(r, k, &grade);
        json_object_set_new(e, "grade", json_string(brine_verdict_name(grade)));
        json_array_append_new(globals, e);
    }
    json_object_set_new(o, "globals", globals);
    json_object_set_new(o, "refused", json_boolean(r != NULL));
    json_object_set_new(o, "root", json_tree(brine_file_root(f), depth, items));
    char *s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
    if (s) puts(s);
    free(s);
    json_decref(o);
}

int cmd_inspect(int argc, char **argv) {
    static const struct option opts[] = {
        {"json", no_argument, 0, 'j'}, {"depth", required_argument, 0, 'd'}, {"items", required_argument, 0, 'i'},
        {"trust", required_argument, 0, 't'}, {"trust-file", required_argument, 0, 'T'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    int as_json = 0, rc = 0, c;
    long depth = 20, items = 20;
    cli_trust trust = {0};
    optind = 1;
    opterr = 0;
    while (!rc && (c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'j': as_json = 1; break;
        case 'd': if ((depth = parse_count(optarg)) < 0) rc = cli_usage_error("inspect", "--depth takes a count"); break;
        case 'i': if ((items = parse_count(optarg)) < 0) rc = cli_usage_error("inspect", "--items takes a count"); break;
        case 't': rc = cli_trust_add(&trust, optarg, "inspect"); break;
        case 'T': rc = cli_trust_file(&trust, optarg, "inspect"); break;
        case 'h': fputs(help, stdout); cli_trust_free(&trust); return EXIT_OK;
        default: rc = cli_usage_error("inspect", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (!rc && argc - optind != 1) rc = cli_usage_error("inspect", "expected one FILE");
    if (rc) {
        cli_trust_free(&trust);
        return rc;
    }
    const char *path = argv[optind];
    brine_load_options lo = BRINE_LOAD_OPTIONS_INIT;
    lo.trust = (const char *const *)trust.items;
    lo.n_trust = trust.n;
    brine_error err;
    brine_error_clear(&err);
    brine_file *f = NULL;
    brine_scan_report *refused = NULL;
    if (brine_file_open(&f, path, &lo, &err)) {
        rc = cli_report("inspect", path, &err);
        /* Show what can be shown of a refused file, refused names marked:
         * the scanner builds the same graph with inert placeholders. */
        brine_error ignored;
        brine_error_clear(&ignored);
        if (err.status == BRINE_E_GLOBAL && !brine_scan(&refused, path, &lo, &ignored) && brine_scan_file(refused))
            (as_json ? print_json : print_text)(path, brine_scan_file(refused), (int)depth, (size_t)items, refused);
    } else {
        (as_json ? print_json : print_text)(path, f, (int)depth, (size_t)items, NULL);
    }
    brine_scan_report_free(refused);
    brine_file_free(f);
    cli_trust_free(&trust);
    return rc;
}
