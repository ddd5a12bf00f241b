/* tree.c — sklearn.tree._tree.Tree objects and the single-tree estimators
 * (DecisionTree*, ExtraTree*).
 *
 * A pickled Tree is REDUCE(Tree, (n_features, n_classes, n_outputs)) +
 * BUILD({max_depth, node_count, nodes, values}).  The node records stay
 * the tree's nodes (be_records, estimator.h), read in place where the model
 * keeps the file.  Loading (be_tree_open, then be_tree_check, which a
 * forest runs on several threads) checks each record, then (be_fast_walk)
 * that the nodes form one tree rooted at node 0, so walking it always ends
 * at a leaf within node_count steps. */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "estimators/estimator.h"
#include "io/error.h"
#include "io/threads.h"

/* ------------------------------------------------------- node records */

enum { NEEDED, CHECKED, SPARE };

static const struct {
    const char *name;
    char kind; /* 'i': int32 or int64; 'f': float64; 'u': uint8 */
    int need; /* NEEDED, CHECKED (optional, refused when mistyped), or SPARE */
} node_fields[BE_F_COUNT] = {
    {"left_child", 'i', NEEDED}, {"right_child", 'i', NEEDED}, {"feature", 'i', NEEDED},
    {"threshold", 'f', NEEDED}, {"missing_go_to_left", 'u', CHECKED}, /* sklearn >= 1.3 */
    /* Not needed to predict, only to write the tree back: a file whose
     * copies of these are odd still predicts, it just cannot be saved. */
    {"impurity", 'f', SPARE}, {"n_node_samples", 'i', SPARE}, {"weighted_n_node_samples", 'f', SPARE},
};

/* Whether items of dt can be read with a plain load on this host. */
static int host_order(const bv_dtype *dt) {
    return dt->byteorder == '=' || dt->byteorder == '|' || (dt->byteorder == '<') == be_host_little();
}

/* The fast reading of each field, so loading a forest of a million nodes
 * costs loads rather than byte-by-byte decoding. */
static void find_native(be_records *lay) {
    for (int k = 0; k < BE_F_COUNT; k++) {
        const bv_dtype *fd = &lay->type[k];
        lay->native[k] = 0;
        if (!lay->has[k] || !host_order(fd)) continue;
        if (fd->kind == 'i' && fd->itemsize == 8) lay->native[k] = 'q';
        else if (fd->kind == 'i' && fd->itemsize == 4) lay->native[k] = 'i';
        else if (fd->kind == 'f' && fd->itemsize == 8) lay->native[k] = 'd';
    }
}

static int field_type_ok(const bv_dtype *dt, char kind) {
    if (dt->nfields || dt->subarray_base) return 0;
    switch (kind) {
    case 'i': return dt->kind == 'i' && (dt->itemsize == 4 || dt->itemsize == 8);
    case 'f': return dt->kind == 'f' && dt->itemsize == 8;
    default: return (dt->kind == 'u' || dt->kind == 'b' || dt->kind == 'i') && dt->itemsize == 1;
    }
}

static brine_status find_fields(brine_model *m, const be_tree_spec *spec, const bv_dtype *dt, be_records *lay,
                                brine_error *err) {
    memset(lay, 0, sizeof *lay);
    lay->itemsize = dt->itemsize;
    if (!dt->nfields) return be_fail(err, m, "%s.nodes has a plain dtype, not node records", spec->field);
    for (size_t i = 0; i < dt->nfields; i++) {
        const bv_field *f = &dt->fields[i];
        for (int k = 0; k < BE_F_COUNT; k++) {
            if (f->name_len != strlen(node_fields[k].name) || memcmp(f->name, node_fields[k].name, f->name_len)) continue;
            const bv_dtype *fd = f->dtype && f->dtype->kind == BRINE_DTYPE ? f->dtype->u.dt : NULL;
            int fits = fd && field_type_ok(fd, node_fields[k].kind) && f->offset <= dt->itemsize &&
                       fd->itemsize <= dt->itemsize - f->offset;
            if (node_fields[k].need == SPARE && !fits) continue;
            if (!fd || !field_type_ok(fd, node_fields[k].kind))
                return be_fail(err, m, "%s.nodes field %s has an unexpected type (expected %s)", spec->field,
                               node_fields[k].name,
                               node_fields[k].kind == 'i' ? "int32 or int64" : node_fields[k].kind == 'f' ? "float64"
                                                                                                       : "uint8");
            if (f->offset > dt->itemsize || fd->itemsize > dt->itemsize - f->offset)
                return be_fail(err, m, "%s.nodes field %s lies outside the %zu-byte record", spec->field,
                               node_fields[k].name, dt->itemsize);
            lay->has[k] = 1;
            lay->type[k] = (bv_dtype){fd->kind, fd->byteorder, fd->itemsize, 0, 0, NULL, NULL, 0, NULL, NULL, NULL, NULL};
            lay->offset[k] = f->offset;
        }
    }
    for (int k = 0; k < BE_F_COUNT; k++)
        if (node_fields[k].need == NEEDED && !lay->has[k])
            return be_fail(err, m, "%s.nodes records lack the field %s", spec->field, node_fields[k].name);
    find_native(lay);
    return BRINE_OK;
}

/* ------------------------------------------------------------ parsing */

/* The REDUCE arguments (n_features, n_classes, n_outputs) against spec. */
static brine_status check_args(brine_model *m, const be_tree_spec *spec, const bv *args, be_tree *t,
                               int64_t *n_features, brine_error *err) {
    if (!args || args->kind != BRINE_TUPLE || args->u.seq.n != 3)
        return be_fail(err, m, "%s was not built from (n_features, n_classes, n_outputs)", spec->field);
    int64_t nf, no;
    const bv_array *nc = be_array(args->u.seq.items[1]);
    if (!be_get_int(args->u.seq.items[0], &nf) || nf < 1 || nf > INT32_MAX)
        return be_fail(err, m, "%s n_features is not a positive int", spec->field);
    if (!be_get_int(args->u.seq.items[2], &no) || no < 1 || (uint64_t)no != spec->n_outputs)
        return be_fail(err, m, "%s n_outputs is not %zu (the estimator's n_outputs_)", spec->field, spec->n_outputs);
    if (spec->n_features >= 0 && nf != spec->n_features)
        return be_fail(err, m, "%s has %lld features but the estimator says %lld", spec->field, (long long)nf,
                       (long long)spec->n_features);
    if (!nc || nc->ndim != 1 || (uint64_t)nc->count != spec->n_outputs)
        return be_fail(err, m, "%s n_classes is not an array of %zu ints", spec->field, spec->n_outputs);
    t->max_classes = 0;
    for (size_t k = 0; k < spec->n_outputs; k++) {
        int64_t c;
        if (!be_array_int(nc, k, &c) || c < 1 || c > INT32_MAX)
            return be_fail(err, m, "%s n_classes[%zu] is not a positive int", spec->field, k);
        size_t want = spec->classifier ? spec->n_classes[k] : 1;
        if ((uint64_t)c != want)
            return be_fail(err, m, "%s n_classes[%zu] is %lld, expected %zu", spec->field, k, (long long)c, want);
        if ((size_t)c > t->max_classes) t->max_classes = (size_t)c;
    }
    *n_features = nf;
    return BRINE_OK;
}

/* The bytes of an array the model may read in place (brine_model_load
 * keeps the file), else a copy in the model's memory; NULL when out of
 * memory. */
static const uint8_t *keep_bytes(brine_model *m, const bv_array *a, size_t bytes) {
    if (m->borrow) {
        m->borrowed = 1;
        return a->data;
    }
    uint8_t *copy = be_bulk_alloc(m, bytes ? bytes : 1, 1);
    if (copy) memcpy(copy, a->data, bytes);
    return copy;
}

/* The records' fields, and their bytes kept (in place or copied). */
static brine_status open_nodes(brine_model *m, const be_tree_spec *spec, const bv_array *a, be_tree *t,
                               brine_error *err) {
    be_records *lay = &t->rec;
    brine_status st = find_fields(m, spec, a->dtype->u.dt, lay, err);
    if (st) return st;
    t->has_missing = lay->has[BE_F_MISSING];
    t->has_stats = lay->has[BE_F_IMPURITY] && lay->has[BE_F_SAMPLES] && lay->has[BE_F_WSAMPLES];
    lay->data = keep_bytes(m, a, t->node_count * lay->itemsize);
    if (!lay->data) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory for %zu tree nodes", t->node_count);
    return BRINE_OK;
}

/* Checks each record alone: both children or none, in range and distinct,
 * the feature in range; and keeps what it read in raw, so the records are
 * read once and what the layout is built from is what was checked. */
static brine_status check_records(const brine_model *m, const be_tree_spec *spec, const be_tree *t,
                                  be_raw_node *raw, brine_error *err) {
    const be_records *lay = &t->rec;
    int64_t count = (int64_t)t->node_count, n_features = t->n_features;
    for (size_t i = 0; i < t->node_count; i++) {
        /* Ahead of the hardware prefetcher, which stops at page ends: a
         * mapped file's 4 KiB pages otherwise each stall on a TLB miss. */
        if (i + 64 < t->node_count) __builtin_prefetch(lay->data + (i + 64) * lay->itemsize);
        int64_t l = be_rec_int(lay, i, BE_F_LEFT), r = be_rec_int(lay, i, BE_F_RIGHT);
        if ((l == -1) != (r == -1))
            return be_fail(err, m, "%s.nodes[%zu] has one child (left_child %lld, right_child %lld)", spec->field, i,
                           (long long)l, (long long)r);
        if (l == -1) {
            raw[i] = (be_raw_node){-1, -1, 0, INFINITY};
            continue;
        }
        int64_t f = be_rec_int(lay, i, BE_F_FEATURE);
        if (l < 1 || l >= count || r < 1 || r >= count)
            return be_fail(err, m, "%s.nodes[%zu] %s is %lld, outside 1..%lld", spec->field, i,
                           (l < 1 || l >= count) ? "left_child" : "right_child",
                           (long long)((l < 1 || l >= count) ? l : r), (long long)(count - 1));
        if (l == r) return be_fail(err, m, "%s.nodes[%zu] has both children at node %lld", spec->field, i, (long long)l);
        if (f < 0 || f >= n_features)
            return be_fail(err, m, "%s.nodes[%zu].feature is %lld, outside 0..%lld", spec->field, i, (long long)f,
                           (long long)(n_features - 1));
        raw[i] = (be_raw_node){(int32_t)l, (int32_t)r, (int32_t)f, be_fast_threshold(be_rec_double(lay, i, BE_F_THRESHOLD))};
    }
    return BRINE_OK;
}

/* Records brine writes itself (trained trees): sklearn 1.2's 56-byte
 * layout in host order, every field native. */
static const bv_dtype host_i8 = {'i', '=', 8, 0, 0, NULL, NULL, 0, NULL, NULL, NULL, NULL};
static const bv_dtype host_f8 = {'f', '=', 8, 0, 0, NULL, NULL, 0, NULL, NULL, NULL, NULL};

uint8_t *be_tree_own_records(brine_model *m, be_tree *t) {
    static const size_t offsets[BE_F_COUNT] = {0, 8, 16, 24, 0, 32, 40, 48};
    uint8_t *data = be_bulk_alloc(m, t->node_count, BE_OWN_RECORD);
    if (!data) return NULL;
    memset(&t->rec, 0, sizeof t->rec);
    t->rec.data = data;
    t->rec.itemsize = BE_OWN_RECORD;
    for (int k = 0; k < BE_F_COUNT; k++) {
        if (k == BE_F_MISSING) continue;
        int f = k == BE_F_THRESHOLD || k == BE_F_IMPURITY || k == BE_F_WSAMPLES;
        t->rec.has[k] = 1;
        t->rec.type[k] = f ? host_f8 : host_i8;
        t->rec.offset[k] = offsets[k];
        t->rec.native[k] = f ? 'd' : 'q';
    }
    t->has_missing = 0;
    t->has_stats = 1;
    return data;
}

void be_tree_put_record(be_tree *t, size_t i, int64_t left, int64_t right, int64_t feature, double threshold,
                        double impurity, int64_t samples, double wsamples) {
    uint8_t *r = (uint8_t *)(uintptr_t)t->rec.data + i * BE_OWN_RECORD;
    memcpy(r, &left, 8);
    memcpy(r + 8, &right, 8);
    memcpy(r + 16, &feature, 8);
    memcpy(r + 24, &threshold, 8);
    memcpy(r + 32, &impurity, 8);
    memcpy(r + 40, &samples, 8);
    memcpy(r + 48, &wsamples, 8);
}

/* ---------------------------------------------------------- node fields */

int be_tree_kids(const be_tree *t, size_t i, int32_t *left, int32_t *right) {
    uint32_t c = (uint32_t)t->fast_pos[i], next = t->fast[c].next;
    if (next == c) return 0;
    *left = t->fast_orig[next];
    *right = t->fast_orig[next + 1];
    return 1;
}

int64_t be_tree_feature(const be_tree *t, size_t i) {
    int32_t l, r;
    return be_tree_kids(t, i, &l, &r) ? (int64_t)t->fast[t->fast_pos[i]].feature : -2;
}

double be_tree_threshold(const be_tree *t, size_t i) { return be_rec_double(&t->rec, i, BE_F_THRESHOLD); }
int be_tree_missing_left(const be_tree *t, size_t i) {
    return t->has_missing && be_rec_int(&t->rec, i, BE_F_MISSING) != 0;
}
double be_tree_impurity(const be_tree *t, size_t i) { return be_rec_double(&t->rec, i, BE_F_IMPURITY); }
int64_t be_tree_samples(const be_tree *t, size_t i) { return be_rec_int(&t->rec, i, BE_F_SAMPLES); }
double be_tree_wsamples(const be_tree *t, size_t i) { return be_rec_double(&t->rec, i, BE_F_WSAMPLES); }

/* --------------------------------------------------------------- values */

/* numpy's pairwise summation (add.reduce over a contiguous row), so that
 * predict_proba's normaliser has sklearn's exact bits: blocks of up to 128
 * use eight accumulators, longer rows split in two (at a multiple of 8).
 * The split runs on an explicit stack; its depth is log2(n). */
static double pairwise_block(const double *a, size_t n) {
    if (n < 8) {
        double res = 0.0;
        for (size_t i = 0; i < n; i++) res += a[i];
        return res;
    }
    double r[8];
    for (int j = 0; j < 8; j++) r[j] = a[j];
    size_t i;
    for (i = 8; i < n - (n % 8); i += 8)
        for (int j = 0; j < 8; j++) r[j] += a[i + j];
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; i++) res += a[i];
    return res;
}

double be_pairwise_sum(const double *a, size_t n) {
    if (n <= 128) return pairwise_block(a, n); /* every class count but a huge one */
    struct frame { const double *a; size_t n; double left; int stage; } st[72];
    int top = 0;
    double ret = 0.0;
    st[0] = (struct frame){a, n, 0.0, 0};
    while (top >= 0) {
        struct frame *f = &st[top];
        if (f->n <= 128) {
            ret = pairwise_block(f->a, f->n);
            top--;
            continue;
        }
        size_t n2 = f->n / 2;
        n2 -= n2 % 8;
        if (f->stage == 0) {
            f->stage = 1;
            st[++top] = (struct frame){f->a, n2, 0.0, 0};
        } else if (f->stage == 1) {
            f->left = ret;
            f->stage = 2;
            st[++top] = (struct frame){f->a + n2, f->n - n2, 0.0, 0};
        } else {
            ret = f->left + ret;
            top--;
        }
    }
    return ret;
}

/* numpy.argmax over a row: the first maximum; a NaN wins at once. */
size_t be_argmax(const double *a, size_t n) {
    size_t best = 0;
    double mp = a[0];
    if (isnan(mp)) return 0;
    for (size_t i = 1; i < n; i++) {
        if (!(a[i] <= mp)) {
            mp = a[i];
            best = i;
            if (isnan(mp)) break;
        }
    }
    return best;
}

static brine_status read_values(brine_model *m, const be_tree_spec *spec, const bv *v, be_tree *t, brine_error *err) {
    const bv_array *a = be_array(v);
    if (!a || a->ndim != 3 || !be_dtype_is(a->dtype, 'f', 8) || !a->data)
        return be_fail(err, m, "%s.values is not a 3-D float64 array", spec->field);
    if ((uint64_t)a->shape[0] != t->node_count || (uint64_t)a->shape[1] != t->n_outputs ||
        (uint64_t)a->shape[2] != t->max_classes)
        return be_fail(err, m, "%s.values has shape (%lld, %lld, %lld), expected (%zu, %zu, %zu)", spec->field,
                       (long long)a->shape[0], (long long)a->shape[1], (long long)a->shape[2], t->node_count,
                       t->n_outputs, t->max_classes);
    /* A Fortran-ordered array equals its C reading only when at most one
     * dimension exceeds 1 (sklearn insists on C order). */
    int long_dims = (a->shape[0] > 1) + (a->shape[1] > 1) + (a->shape[2] > 1);
    if (a->fortran && long_dims > 1) return be_fail(err, m, "%s.values is not in C order", spec->field);
    size_t cells = (size_t)a->count;
    /* Read in place when they are plain aligned doubles (joblib aligns its
     * arrays); a copy otherwise. */
    if (host_order(a->dtype->u.dt) && ((uintptr_t)a->data & (sizeof(double) - 1)) == 0) {
        t->value = (const double *)(const void *)keep_bytes(m, a, cells * sizeof(double));
        if (!t->value) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory for %s.values", spec->field);
        return BRINE_OK;
    }
    double *copy = be_bulk_alloc(m, cells ? cells : 1, sizeof *copy);
    if (!copy) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory for %s.values", spec->field);
    for (size_t i = 0; i < cells; i++) be_array_double(a, i, &copy[i]);
    t->value = copy;
    return BRINE_OK;
}

/* Whether a classifier's value rows are fractions (each row sums to 1, as
 * sklearn >= 1.4 stores them) rather than weighted counts. */
static int rows_are_fractions(const be_tree *t) {
    for (size_t i = 0; i < t->node_count * t->n_outputs; i++) {
        double s = be_pairwise_sum(t->value + i * t->max_classes, t->max_classes);
        if (!(fabs(s - 1.0) <= 1e-9)) return 0;
    }
    return 1;
}

void be_fraction_row(const double *row, size_t nc, double *out) {
    double norm = be_pairwise_sum(row, nc);
    if (norm == 0.0) norm = 1.0;
    for (size_t c = 0; c < nc; c++) out[c] = row[c] / norm;
}

/* The memory of leaf_classes: labels, and the probability rows unless
 * the version says the file stores fractions. */
static brine_status alloc_classes(brine_model *m, const be_tree_spec *spec, be_tree *t, brine_error *err) {
    size_t rows = t->node_count * t->n_outputs;
    t->top = be_bulk_alloc(m, rows, sizeof *t->top);
    t->proba = spec->fractions == 1 ? t->value : be_bulk_alloc(m, rows * t->max_classes, sizeof *t->proba);
    if (!t->top || !t->proba) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory for %s", spec->field);
    return BRINE_OK;
}

/* Per leaf (inner nodes' rows stay 0): the label index tree.predict picks
 * and the row predict_proba returns.  sklearn <= 1.3 divides counts by their numpy sum (a zero sum
 * counts as 1); >= 1.4 returns the stored fractions as they are. */
static brine_status leaf_classes(const brine_model *m, const be_tree_spec *spec, be_tree *t, const be_raw_node *raw,
                                 brine_error *err) {
    if (spec->fractions < 0 && rows_are_fractions(t)) t->proba = t->value;
    /* alloc_classes took this block, so it is the tree's to fill */
    double *proba = t->proba == t->value ? NULL : (double *)(uintptr_t)t->proba;
    for (size_t i = 0; i < t->node_count; i++) {
        if (raw[i].left >= 0) continue; /* rows only ever end at leaves */
        for (size_t k = 0; k < t->n_outputs; k++) {
            const double *row = t->value + (i * t->n_outputs + k) * t->max_classes;
            size_t nc = spec->n_classes[k], top = be_argmax(row, t->max_classes);
            if (top >= nc)
                return be_fail(err, m, "%s.values: the largest entry of leaf %zu, output %zu lies in padding column %zu",
                               spec->field, i, k, top);
            t->top[i * t->n_outputs + k] = (int32_t)top;
            if (proba) be_fraction_row(row, nc, proba + (i * t->n_outputs + k) * t->max_classes);
        }
    }
    return BRINE_OK;
}

int be_tree_fractions_by_version(const brine_model *m) {
    if (m->version[0] < 0) return -1;
    if (be_version_at_least(m, 1, 4, 1) == 1) return 1;
    if (m->version[0] == 1 && m->version[1] == 4) return -1; /* 1.4.0 and 1.4 pre-releases: ask the data */
    return 0;
}

/* The memory of the layout, and of the classes for classifiers. */
static brine_status alloc_tree(brine_model *m, const be_tree_spec *spec, be_tree *t, brine_error *err) {
    if (be_fast_alloc(m, t)) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory for %zu tree nodes", t->node_count);
    return spec->classifier ? alloc_classes(m, spec, t, err) : BRINE_OK;
}

brine_status be_tree_finish(brine_model *m, be_tree *t, const be_tree_spec *spec, brine_error *err) {
    be_tree_scratch scratch = {0};
    brine_status st = alloc_tree(m, spec, t, err);
    if (!st) st = be_tree_check(m, t, spec, &scratch, err);
    free(scratch.raw);
    return st;
}

brine_status be_tree_open(brine_model *m, const bv *tree, const be_tree_spec *spec, be_tree **out, brine_error *err) {
    *out = NULL;
    const char *name = NULL;
    const char *module = tree ? brine_value_global(tree, &name) : NULL;
    if (!tree || tree->kind == BRINE_NONE) return be_fail(err, m, "is not fitted (%s is None)", spec->field);
    if (tree->kind != BRINE_OBJECT || !module || strcmp(module, "sklearn.tree._tree") || strcmp(name, "Tree"))
        return be_fail(err, m, "%s is not a sklearn.tree._tree.Tree", spec->field);
    be_tree *t = be_alloc(m, 1, sizeof *t);
    if (!t) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    t->n_outputs = spec->n_outputs;
    t->n_classes = spec->n_classes;
    int64_t n_features = 0, count = 0;
    brine_status st = check_args(m, spec, tree->u.obj.args, t, &n_features, err);
    if (st) return st;
    const bv *state = tree->u.obj.state;
    if (!state || state->kind != BRINE_DICT) return be_fail(err, m, "%s has no state dict", spec->field);
    const bv_array *nodes = be_array(bv_dict_get(state, "nodes"));
    if (!be_get_int(bv_dict_get(state, "node_count"), &count) || count < 1 || count >= INT32_MAX)
        return be_fail(err, m, "%s.node_count is not a positive int below 2^31", spec->field);
    if (!nodes || nodes->ndim != 1 || nodes->count != count || !nodes->data)
        return be_fail(err, m, "%s.nodes is not a 1-D record array of node_count (%lld) nodes", spec->field,
                       (long long)count);
    t->node_count = (size_t)count;
    t->n_features = n_features;
    if (!be_get_int(bv_dict_get(state, "max_depth"), &t->max_depth) || t->max_depth < 0) t->max_depth = -1;
    if ((st = open_nodes(m, spec, nodes, t, err))) return st;
    if ((st = read_values(m, spec, bv_dict_get(state, "values"), t, err))) return st;
    if ((st = alloc_tree(m, spec, t, err))) return st;
    *out = t;
    return BRINE_OK;
}

brine_status be_tree_check(const brine_model *m, be_tree *t, const be_tree_spec *spec, be_tree_scratch *scratch,
                           brine_error *err) {
    if (scratch->cap < t->node_count) {
        free(scratch->raw);
        scratch->cap = 0;
        scratch->raw = malloc(t->node_count * sizeof *scratch->raw);
        if (!scratch->raw) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory for %zu tree nodes", t->node_count);
        scratch->cap = t->node_count;
    }
    brine_status st = check_records(m, spec, t, scratch->raw, err);
    if (!st) st = be_fast_walk(m, t, scratch->raw, spec->field, err); /* also checks it is one tree */
    if (!st && spec->classifier) st = leaf_classes(m, spec, t, scratch->raw, err);
    return st;
}

brine_status be_tree_load(brine_model *m, const bv *tree, const be_tree_spec *spec, be_tree **out, brine_error *err) {
    be_tree *t = NULL;
    be_tree_scratch scratch = {0};
    brine_status st = be_tree_open(m, tree, spec, &t, err);
    if (!st) st = be_tree_check(m, t, spec, &scratch, err);
    free(scratch.raw);
    *out = st ? NULL : t;
    return st;
}

/* ------------------------------------------------- trees on threads */

/* Fewest nodes, over all trees, worth a second thread (~1 ms of checks). */
#define PARALLEL_NODES ((size_t)1 << 15)

typedef struct check_job {
    const brine_model *m;
    be_tree *const *trees;
    size_t n;
    const be_tree_spec *spec;
    const char *list;
    atomic_size_t *next;   /* the next tree to take */
    atomic_size_t *failed; /* the lowest tree that failed so far; n: none */
    size_t fail_at;        /* this worker's failure, the lowest it met; n: none */
    brine_status st;
    brine_error err;
    be_tree_scratch scratch;
} check_job;

/* Trees are taken in increasing order, so every tree below a failure has
 * been taken, and is checked, whatever thread it went to. */
static void *check_work(void *arg) {
    check_job *j = arg;
    for (;;) {
        size_t i = atomic_fetch_add(j->next, 1);
        if (i >= j->n || i > atomic_load(j->failed)) break;
        if (!j->trees[i]) continue;
        char field[64];
        snprintf(field, sizeof field, "%s[%zu].tree_", j->list, i);
        be_tree_spec spec = *j->spec;
        spec.field = field;
        brine_status st = be_tree_check(j->m, j->trees[i], &spec, &j->scratch, &j->err);
        if (st) {
            j->st = st;
            j->fail_at = i;
            size_t low = atomic_load(j->failed);
            while (i < low && !atomic_compare_exchange_weak(j->failed, &low, i)) {}
            break;
        }
    }
    return NULL;
}

brine_status be_trees_check(const brine_model *m, be_tree *const *trees, size_t n, const be_tree_spec *spec,
                            const char *list, brine_error *err) {
    size_t nodes = 0, nt = (size_t)m->load_threads;
    for (size_t i = 0; i < n; i++) nodes += trees[i] ? trees[i]->node_count : 0;
    if (nt > n) nt = n;
    if (nt < 1 || nodes < PARALLEL_NODES) nt = 1;
    check_job *jobs = calloc(nt, sizeof *jobs);
    if (!jobs) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory for %zu threads", nt);
    atomic_size_t next = 0, failed = n;
    for (size_t w = 0; w < nt; w++) {
        jobs[w] = (check_job){m, trees, n, spec, list, &next, &failed, n, BRINE_OK, {0}, {NULL, 0}};
        brine_error_clear(&jobs[w].err);
    }
    bi_run_jobs(check_work, jobs, sizeof *jobs, nt);
    size_t low = 0;
    for (size_t w = 1; w < nt; w++)
        if (jobs[w].fail_at < jobs[low].fail_at) low = w;
    brine_status st = jobs[low].st;
    if (st && err) *err = jobs[low].err;
    for (size_t w = 0; w < nt; w++) free(jobs[w].scratch.raw);
    free(jobs);
    return st;
}

/* The straightforward walk: the shape from the compact layout (checked,
 * owned), each decision as sklearn makes it from the record, a float32
 * feature against the float64 threshold; NaN takes the side recorded at
 * fit time (>= 1.3 records only reach here). */
size_t be_tree_apply(const be_tree *t, const float *x) {
    uint32_t c = 0;
    while (t->fast[c].next != c) {
        const be_fnode *q = &t->fast[c];
        size_t i = (size_t)t->fast_orig[c];
        float v = x[q->feature];
        int left = isnan(v) ? be_tree_missing_left(t, i) : (double)v <= be_tree_threshold(t, i);
        c = q->next + (uint32_t)!left;
    }
    return (size_t)t->fast_orig[c];
}

/* ------------------------------------------- DecisionTree*, ExtraTree* */

static brine_status tree_model_load(brine_model *m, const bv *state, brine_error *err) {
    size_t *n_classes = NULL;
    const bv *tv = bv_dict_get(state, "tree_");
    if (!tv || tv->kind == BRINE_NONE) return be_fail(err, m, "is not fitted (tree_ is %s)", tv ? "None" : "missing");
    brine_status st = be_read_n_outputs(m, state, &m->n_outputs, err);
    if (!st) st = be_read_n_features(m, state, &m->n_features_in, err);
    if (!st && m->cls->classifier) st = be_read_classes(m, state, &n_classes, err);
    if (st) return st;
    be_tree_spec spec = {m->cls->classifier, m->n_outputs, n_classes, m->n_features_in,
                         be_tree_fractions_by_version(m), "tree_"};
    be_tree *t;
    if ((st = be_tree_load(m, tv, &spec, &t, err))) return st;
    m->n_features_in = t->n_features;
    m->n_estimators = 1;
    m->allow_nan = t->has_missing;
    m->impl = t;
    m->max_features = be_read_max_features(state);
    if ((st = be_read_feature_names(m, state, err))) return st;
    be_copier cp;
    be_copier_init(&cp, &m->arena);
    st = be_read_params(m, &cp, state, &m->params, err);
    be_copier_free(&cp);
    return st;
}

static brine_status tree_model_predict(const brine_model *m, brine_method method, const be_input *in,
                                       brine_prediction *out, brine_error *err) {
    be_tree *t = m->impl;
    return be_engine_run(m, method, in, &t, 1, 0, out, err);
}

/* ------------------------------------------------------------- saving */

brine_status be_tree_savable(const brine_model *m, const be_tree *t, const char *field, brine_error *err) {
    if (t->has_stats) return BRINE_OK;
    return be_fail_status(err, BRINE_E_UNSUPPORTED, m,
                          "%s.nodes lack impurity, n_node_samples or weighted_n_node_samples (as float64, "
                          "int and float64), which sklearn needs; brine cannot write this tree back",
                          field);
}

/* max_features_ as sklearn's fit derives it from max_features, for files
 * that lack it. */
static int64_t derive_max_features(const bv *p, int64_t n, int classifier) {
    int64_t i;
    double f;
    if (!p || p->kind == BRINE_NONE) return n;
    if (bv_is_str(p, "sqrt") || (bv_is_str(p, "auto") && classifier)) return (int64_t)fmax(1.0, floor(sqrt((double)n)));
    if (bv_is_str(p, "log2")) return (int64_t)fmax(1.0, floor(log2((double)n)));
    if (p->kind == BRINE_FLOAT && brine_value_double(p, &f) == BRINE_OK) return (int64_t)fmax(1.0, floor(f * (double)n));
    if (be_get_int(p, &i)) return i;
    return n; /* 'auto' of a regressor */
}

/* classes_ of a forest member: the float indices 0.0 .. n-1 of each
 * output, since a forest fits its members on encoded labels. */
static bv *member_classes(be_save *s, size_t n) {
    double *v = bp_arena_alloc(s->a, n * sizeof *v + 1);
    if (!v) {
        s->failed = 1;
        return NULL;
    }
    for (size_t c = 0; c < n; c++) v[c] = (double)c;
    int64_t shape[1] = {(int64_t)n};
    return be_s_f8_array(s, v, 1, shape);
}

static bv *classes_of(be_save *s, size_t k, int member) {
    const brine_model *m = s->m;
    return member ? member_classes(s, m->classes[k].n) : be_s_labels(s, &m->classes[k]);
}

/* classes_ and n_classes_: one array and an intp scalar, or a list of
 * arrays and an intp array for several outputs. */
static void put_classes(be_save *s, bv *d, int member) {
    const brine_model *m = s->m;
    if (m->n_outputs == 1) {
        be_s_set(s, d, "classes_", classes_of(s, 0, member));
        be_s_set(s, d, "n_classes_", be_s_intp_scalar(s, (int64_t)m->classes[0].n));
        return;
    }
    bv *list = bv_new(s->a, BRINE_LIST);
    int64_t *nc = bp_arena_alloc(s->a, m->n_outputs * sizeof *nc);
    for (size_t k = 0; list && nc && k < m->n_outputs; k++) {
        nc[k] = (int64_t)m->classes[k].n;
        bv *c = classes_of(s, k, member);
        if (!c || bv_seq_push(s->a, list, c, NULL, -1)) s->failed = 1;
    }
    be_s_set(s, d, "classes_", list);
    be_s_set(s, d, "n_classes_", nc ? be_s_intp_array(s, nc, m->n_outputs) : NULL);
}

bv *be_s_tree_estimator(be_save *s, const char *cls, const be_params *params, int64_t max_features,
                        const be_tree *t, int member) {
    const brine_model *m = s->m;
    const char *const *names = s->lay->tree_params ? s->lay->tree_params : s->lay->params;
    bv *d = be_s_dict(s);
    be_s_params(s, d, params, names, cls);
    if (!member && m->n_feature_names) be_s_set(s, d, "feature_names_in_", be_s_feature_names(s));
    be_s_set(s, d, "n_features_in_", be_s_int(s, m->n_features_in));
    be_s_set(s, d, "n_outputs_", be_s_int(s, (int64_t)m->n_outputs));
    if (m->cls->classifier) put_classes(s, d, member);
    if (max_features < 0) max_features = derive_max_features(d ? bv_dict_get(d, "max_features") : NULL,
                                                              m->n_features_in, m->cls->classifier);
    be_s_set(s, d, "max_features_", be_s_int(s, max_features));
    be_s_set(s, d, "tree_", be_s_tree(s, t));
    be_s_set(s, d, "_sklearn_version", be_s_str(s, s->lay->version));
    return be_s_estimator(s, be_class_module(cls), cls, d);
}

static brine_status tree_model_save(be_save *s, bv **out, brine_error *err) {
    const brine_model *m = s->m;
    brine_status st = be_tree_savable(m, m->impl, "tree_", err);
    if (st) return st;
    *out = be_s_tree_estimator(s, m->short_name, &m->params, m->max_features, m->impl, 0);
    return BRINE_OK;
}

const be_family be_tree_family = {"tree", tree_model_load, tree_model_predict, tree_model_save, NULL, 0};
