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
#include "estimators/estimator.h"
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

/* ------------------------------------------------- estimator facts */

/* The state dict of an object, or NULL. */
static const bv *state_of(const bv *v) {
    const bv *st = v && v->kind == BRINE_OBJECT ? v->u.obj.state : NULL;
    return st && st->kind == BRINE_DICT ? st : NULL;
}

/* An sklearn estimator: an object of an sklearn class, or one whose state
 * records the _sklearn_version sklearn's __getstate__ adds. */
static int is_estimator(const bv *v) {
    const char *name = NULL;
    const char *module = v && v->kind == BRINE_OBJECT ? brine_value_global(v, &name) : NULL;
    if (!module) return 0;
    return !strncmp(module, "sklearn.", 8) || bv_dict_get(state_of(v), "_sklearn_version") != NULL;
}

static int is_param_name(const bv *k) {
    if (!k || k->kind != BRINE_STR || !k->u.s.n) return 0;
    return k->u.s.p[0] != '_' && k->u.s.p[k->u.s.n - 1] != '_';
}

enum { EST_DEPTH = 8 };

/* get_params(deep=True) from the state alone: the parameter-named keys
 * (sklearn keeps every __init__ argument as an attribute of its name),
 * and for a parameter that is itself an estimator its own as KEY__NAME. */
static void generic_params(json_t *o, const char *prefix, const bv *state, int depth) {
    for (size_t k = 0; state && k < state->u.seq.n; k++) {
        const bv *key = state->u.seq.items[2 * k], *val = state->u.seq.items[2 * k + 1];
        if (!is_param_name(key)) continue;
        char name[512];
        snprintf(name, sizeof name, "%s%.*s", prefix, (int)key->u.s.n, (const char *)key->u.s.p);
        json_object_set_new(o, name, cli_param_json(val));
        if (depth < EST_DEPTH && is_estimator(val)) {
            char sub[520];
            snprintf(sub, sizeof sub, "%s__", name);
            generic_params(o, sub, state_of(val), depth + 1);
        }
    }
}

/* A pipeline's first (or last) step estimator, or NULL. */
static const bv *pipeline_step(const bv *state, int last) {
    const bv *steps = bv_dict_get(state, "steps");
    if (!steps || (steps->kind != BRINE_LIST && steps->kind != BRINE_TUPLE) || !steps->u.seq.n) return NULL;
    const bv *step = steps->u.seq.items[last ? steps->u.seq.n - 1 : 0];
    if (!step || (step->kind != BRINE_TUPLE && step->kind != BRINE_LIST) || step->u.seq.n != 2) return NULL;
    return step->u.seq.items[1];
}

static json_t *int_or_null(const bv *v) {
    int64_t i;
    return v && be_get_int(v, &i) ? json_integer((json_int_t)i) : NULL;
}

/* n_features_in_, else n_features_ (old files), else a pipeline's first
 * step, else the width of coef_. */
static json_t *generic_n_features(const bv *est, int depth) {
    const bv *state = state_of(est);
    if (!state || depth > EST_DEPTH) return json_null();
    json_t *j = int_or_null(bv_dict_get(state, "n_features_in_"));
    if (!j) j = int_or_null(bv_dict_get(state, "n_features_"));
    if (j) return j;
    const bv *first = pipeline_step(state, 0);
    if (first) return generic_n_features(first, depth + 1);
    const bv_array *coef = be_array(bv_dict_get(state, "coef_"));
    if (coef && (coef->ndim == 1 || coef->ndim == 2)) return json_integer((json_int_t)coef->shape[coef->ndim - 1]);
    return json_null();
}

/* A fitted attribute of the estimator, or of a pipeline's first / last step. */
static json_t *generic_attr(const bv *est, const char *key, int last, int depth) {
    const bv *state = state_of(est);
    if (!state || depth > EST_DEPTH) return json_null();
    const bv *v = bv_dict_get(state, key);
    if (v && v->kind != BRINE_NONE) return cli_param_json(v);
    const bv *step = pipeline_step(state, last);
    return step ? generic_attr(step, key, last, depth + 1) : json_null();
}

/* 2 when the file names numpy 2's numpy._core, 1 for numpy 1's numpy.core. */
static json_t *numpy_major(const brine_file *f) {
    int major = 0;
    for (size_t k = 0; k < brine_file_global_count(f); k++) {
        const char *mod = brine_file_global(f, k)->module;
        if (!strcmp(mod, "numpy._core") || !strncmp(mod, "numpy._core.", 12)) major = 2;
        else if (!major && (!strcmp(mod, "numpy.core") || !strncmp(mod, "numpy.core.", 11))) major = 1;
    }
    return major ? json_integer(major) : json_null();
}

/* Distinct sklearn.tree._tree.Tree objects in the graph and their nodes. */
static void count_trees(const bv *root, size_t *trees, int64_t *nodes) {
    seen_set s = {0};
    size_t cap = 64, n = 0;
    const bv **stack = malloc(cap * sizeof *stack);
    *trees = 0;
    *nodes = 0;
    if (!stack) return;
    stack[n++] = root;
    seen(&s, root);
    while (n) {
        const bv *v = stack[--n];
        const char *name = NULL;
        const char *module = v->kind == BRINE_OBJECT ? brine_value_global(v, &name) : NULL;
        int64_t count;
        if (module && !strcmp(module, "sklearn.tree._tree") && !strcmp(name, "Tree")) {
            (*trees)++;
            if (be_get_int(bv_dict_get(state_of(v), "node_count"), &count) && count > 0) *nodes += count;
        }
        size_t total = child_count(v);
        for (size_t i = 0; i < total; i++) {
            text label = {{0}, 0};
            const bv *c = child_at(v, i, &label);
            if (!c || !child_count(c) || seen(&s, c)) continue;
            if (n == cap) {
                const bv **g = realloc(stack, 2 * cap * sizeof *stack);
                if (!g) break;
                stack = g;
                cap *= 2;
            }
            stack[n++] = c;
        }
    }
    free(stack);
    seen_free(&s);
}

static json_t *sizes_json(const brine_file *f, const struct stat *st, int have_stat) {
    size_t trees;
    int64_t nodes;
    count_trees(brine_file_root(f), &trees, &nodes);
    json_t *o = json_object();
    json_object_set_new(o, "trees", json_integer((json_int_t)trees));
    json_object_set_new(o, "nodes", json_integer((json_int_t)nodes));
    json_object_set_new(o, "bytes", have_stat ? json_integer((json_int_t)st->st_size) : json_null());
    return o;
}

static json_t *model_feature_names(const brine_model *m) {
    size_t n = brine_model_n_feature_names(m);
    if (!n) return json_null();
    json_t *a = json_array();
    for (size_t k = 0; k < n; k++) json_array_append_new(a, cli_json_text(brine_model_feature_name(m, k)));
    return a;
}

/* The estimator-level keys: from the typed model where brine loads one
 * (its derived facts and sklearn's defaults), else from the state. */
static void estimator_json(json_t *o, const char *path, const brine_file *f, const brine_model *m) {
    const bv *root = brine_file_root(f);
    int est = is_estimator(root);
    const char *name = NULL, *module = est ? brine_value_global(root, &name) : NULL;
    const bv *ver = est ? bv_dict_get(state_of(root), "_sklearn_version") : NULL;
    char cls[512];
    snprintf(cls, sizeof cls, "%s.%s", module ? module : "", name ? name : "");
    json_object_set_new(o, "estimator", est ? cli_json_text(cls) : json_null());
    json_object_set_new(o, "sklearn_version", ver && ver->kind == BRINE_STR ? cli_param_json(ver) : json_null());
    json_object_set_new(o, "numpy", numpy_major(f));
    if (m) {
        json_object_set_new(o, "n_features_in", json_integer((json_int_t)brine_model_n_features_in(m)));
        json_object_set_new(o, "feature_names_in", model_feature_names(m));
        json_object_set_new(o, "classes", cli_model_classes(m));
        /* docs/inspect-json.md: n_outputs_ where the estimator has one
         * (trees and forests always do; files predating it mean 1). */
        const char *fam = m->cls->family->name;
        int has_outputs = bv_dict_get(state_of(root), "n_outputs_") || !strcmp(fam, "tree") || !strcmp(fam, "forest");
        json_object_set_new(o, "n_outputs",
                            has_outputs ? json_integer((json_int_t)brine_model_n_outputs(m)) : json_null());
        json_object_set_new(o, "params", cli_model_params(m));
    } else if (est) {
        json_t *params = json_object();
        generic_params(params, "", state_of(root), 0);
        json_object_set_new(o, "n_features_in", generic_n_features(root, 0));
        json_object_set_new(o, "feature_names_in", generic_attr(root, "feature_names_in_", 0, 0));
        json_object_set_new(o, "classes", generic_attr(root, "classes_", 1, 0));
        json_t *outs = int_or_null(bv_dict_get(state_of(root), "n_outputs_"));
        json_object_set_new(o, "n_outputs", outs ? outs : json_null());
        json_object_set_new(o, "params", cli_json_sorted(params));
    } else {
        static const char *const keys[] = {"n_features_in", "feature_names_in", "classes", "n_outputs", "params"};
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) json_object_set_new(o, keys[k], json_null());
    }
    struct stat st;
    int have = stat(path, &st) == 0;
    json_object_set_new(o, "sizes", sizes_json(f, &st, have));
    char sha[BRINE_SHA256_HEX_SIZE];
    brine_error err;
    brine_error_clear(&err);
    json_object_set_new(o, "sha256", brine_sha256_file(sha, path, &err) ? json_null() : json_string(sha));
}

static const char help[] =
    "usage: brine inspect FILE [--json] [--depth N] [--items N] [--trust MODULE:QUALNAME]... [--trust-file F]\n"
    "\n"
    "Shows the container (format, compression, protocol), every global the file names\n"
    "with its byte offset, and the object graph as an indented tree.  Shared references\n"
    "are shown as <ref #N>, never expanded twice.\n"
    "\n"
    "  --json        one JSON object instead (documented in docs/inspect-json.md): the\n"
    "                container, the estimator (class, sklearn version, parameters,\n"
    "                classes, sizes) and the file's SHA-256\n"
    "  --strict-version\n"
    "                a tree or forest whose sklearn version brine has not verified\n"
    "                is an error (exit 2) instead of a warning\n"
    "  --key K       the key of an encrypted file (brine encrypt); default\n"
    "                $BRINE_KEY_FILE\n"
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

static void print_json(const char *path, const brine_file *f, int depth, size_t items, const brine_scan_report *r,
                       const brine_model *m) {
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
    estimator_json(o, path, f, m);
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
        {"strict-version", no_argument, 0, 'S'}, {"key", required_argument, 0, 'k'}, {0, 0, 0, 0},
    };
    int as_json = 0, rc = 0, c, strict = 0;
    const char *key = NULL;
    long depth = 20, items = 20;
    cli_trust trust = {0};
    optind = 1;
    opterr = 0;
    while (!rc && (c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'j': as_json = 1; break;
        case 'S': strict = 1; break;
        case 'k': key = optarg; break;
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
    lo.key_file = cli_key_file(key);
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
        if (err.status == BRINE_E_GLOBAL && !brine_scan(&refused, path, &lo, &ignored) && brine_scan_file(refused)) {
            if (as_json) print_json(path, brine_scan_file(refused), (int)depth, (size_t)items, refused, NULL);
            else print_text(path, brine_scan_file(refused), (int)depth, (size_t)items, refused);
        }
    } else {
        /* A tree or forest brine models gives the derived facts; any other
         * file is shown as it is, so a model that fails to load is no error. */
        brine_model *m = NULL;
        brine_error ignored;
        brine_error_clear(&ignored);
        if (brine_model_from_file(&m, f, &ignored)) m = NULL;
        rc = strict ? cli_version_check("inspect", path, m, 1) : 0;
        if (!rc && as_json) print_json(path, f, (int)depth, (size_t)items, NULL, m);
        else if (!rc) print_text(path, f, (int)depth, (size_t)items, NULL);
        if (!rc) cli_version_check("inspect", path, m, 0);
        brine_model_free(m);
    }
    brine_scan_report_free(refused);
    brine_file_free(f);
    cli_trust_free(&trust);
    return rc;
}
