/* tree_pickles.h — trees and forests as sklearn pickles them, assembled
 * byte by byte for the estimator tests: correct ones, and any field
 * overridden to make hostile ones. */
#ifndef BRINE_TEST_TREE_PICKLES_H
#define BRINE_TEST_TREE_PICKLES_H

#include <stdlib.h>
#include <string.h>

#include "asm.h"
#include "brine.h"

/* ------------------------------------------------- the pickle builder */

typedef struct tnode {
    int64_t left, right, feature;
    double threshold, wn;
    uint8_t missing;
} tnode;

/* One tree estimator as sklearn pickles it; zero fields take defaults. */
typedef struct tspec {
    const char *module, *cls;  /* default sklearn.tree._classes DecisionTreeClassifier */
    int classifier;            /* default 1 unless cls ends in Regressor */
    int n_nodes;
    const tnode *nodes;
    int64_t n_features;        /* default 2 */
    int n_outputs;             /* default 1 */
    const int64_t *n_classes;  /* per output; default {2} */
    const int64_t *labels;     /* classes_ (concatenated per output); default 10, 20, ... */
    const double *values;      /* node_count * n_outputs * max_classes */
    int64_t values_shape[3];   /* override of the values' shape */
    int missing_field;         /* 64-byte records with missing_go_to_left */
    int intp;                  /* 4 or 8 (default) */
    char order;                /* '<' (default) or '>' */
    const char *threshold_type; /* default "f8" */
    int64_t node_count;        /* override of the node_count key */
    const char *version;       /* _sklearn_version; NULL: none */
    int tree_none;             /* tree_ = None */
    const char *feature_names[4];
    int bare_records;          /* records of the four fields prediction needs only */
    void (*extra)(bi_buf *b);  /* more key/value pairs for the estimator's state */
} tspec;

/* Bytes of one node record. */
static inline size_t record_size(const tspec *s) {
    size_t ip = s->intp ? (size_t)s->intp : 8;
    return s->bare_records ? 3 * ip + 8 : s->missing_field ? 4 * ip + 32 : 4 * ip + 24;
}

static const tnode stump[3] = {{1, 2, 1, 0.5, 8, 0}, {-1, -1, -2, -2, 4, 0}, {-1, -1, -2, -2, 4, 1}};
static const double stump_values[6] = {3, 5, 3, 1, 0, 4};

static inline void put_int(uint8_t *p, int64_t v, int size, char order) {
    for (int k = 0; k < size; k++) p[order == '>' ? size - 1 - k : k] = (uint8_t)((uint64_t)v >> (8 * k));
}

static inline void put_f8(uint8_t *p, double d, char order) {
    int64_t v;
    memcpy(&v, &d, 8);
    put_int(p, v, 8, order);
}

/* numpy.dtype('V<size>', False, True) with the node fields. */
static inline void a_node_dtype(bi_buf *b, const tspec *s) {
    static const char *names[] = {"left_child", "right_child", "feature", "threshold", "impurity",
                                  "n_node_samples", "weighted_n_node_samples", "missing_go_to_left"};
    int ip = s->intp ? s->intp : 8, nf = s->bare_records ? 4 : s->missing_field ? 8 : 7;
    char ord[2] = {s->order ? s->order : '<', 0}, ityp[16];
    snprintf(ityp, sizeof ityp, "i%d", ip);
    size_t off[8] = {0, (size_t)ip, 2 * (size_t)ip, 3 * (size_t)ip, 3 * (size_t)ip + 8, 3 * (size_t)ip + 16,
                     4 * (size_t)ip + 16, 4 * (size_t)ip + 24};
    size_t itemsize = record_size(s);
    char vname[24];
    snprintf(vname, sizeof vname, "V%zu", itemsize);
    a_global(b, "numpy", "dtype");
    a_str(b, vname);
    a_op(b, 0x89);
    a_op(b, 0x88);
    a_op(b, 0x87);
    a_op(b, 'R');
    a_op(b, '(');
    a_int(b, 3);
    a_str(b, "|");
    a_op(b, 'N');
    a_op(b, '(');
    for (int k = 0; k < nf; k++) a_str(b, names[k]);
    a_op(b, 't');
    a_op(b, '}');
    for (int k = 0; k < nf; k++) {
        const char *t = k == 3 && s->threshold_type ? s->threshold_type
                        : (k == 0 || k == 1 || k == 2 || k == 5) ? ityp
                        : k == 7                             ? "u1"
                                                             : "f8";
        a_str(b, names[k]);
        a_dtype(b, t, t[1] == '1' ? "|" : ord);
        a_int(b, (int64_t)off[k]);
        a_op(b, 0x86);
        a_op(b, 's');
    }
    a_int(b, (int64_t)itemsize);
    a_int(b, 1);
    a_int(b, 16);
    a_op(b, 't');
    a_op(b, 'b');
}

static inline void a_nodes(bi_buf *b, const tspec *s) {
    int ip = s->intp ? s->intp : 8;
    char ord = s->order ? s->order : '<';
    size_t itemsize = record_size(s);
    uint8_t *data = calloc((size_t)s->n_nodes, itemsize);
    for (int i = 0; i < s->n_nodes; i++) {
        uint8_t *r = data + (size_t)i * itemsize;
        const tnode *n = &s->nodes[i];
        put_int(r, n->left, ip, ord);
        put_int(r + ip, n->right, ip, ord);
        put_int(r + 2 * ip, n->feature, ip, ord);
        if (s->threshold_type && s->threshold_type[0] == 'i') put_int(r + 3 * ip, (int64_t)n->threshold, 8, ord);
        else put_f8(r + 3 * ip, n->threshold, ord);
        if (s->bare_records) continue;
        put_f8(r + 3 * ip + 8, 0.5, ord);
        put_int(r + 3 * ip + 16, (int64_t)n->wn, ip, ord);
        put_f8(r + 4 * ip + 16, n->wn, ord);
        if (s->missing_field) r[4 * ip + 24] = n->missing;
    }
    int64_t shape[1] = {s->n_nodes};
    a_global(b, "numpy.core.multiarray", "_reconstruct");
    a_global(b, "numpy", "ndarray");
    int64_t zero = 0;
    a_shape(b, &zero, 1);
    a_bytes(b, "b", 1);
    a_op(b, 0x87);
    a_op(b, 'R');
    a_op(b, '(');
    a_int(b, 1);
    a_shape(b, shape, 1);
    a_node_dtype(b, s);
    a_op(b, 0x89);
    a_bytes(b, data, (size_t)s->n_nodes * itemsize);
    a_op(b, 't');
    a_op(b, 'b');
    free(data);
}

static inline int64_t max_classes(const tspec *s) {
    int64_t mc = 1;
    for (int k = 0; s->classifier && k < s->n_outputs; k++)
        if (s->n_classes[k] > mc) mc = s->n_classes[k];
    return mc;
}

static inline void a_tree(bi_buf *b, const tspec *s) {
    if (s->tree_none) {
        a_op(b, 'N');
        return;
    }
    a_global(b, "sklearn.tree._tree", "Tree");
    a_op(b, '(');
    a_int(b, s->n_features);
    int64_t no = s->n_outputs, ones[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    a_array(b, &no, 1, "i8", "<", s->classifier ? s->n_classes : ones, (size_t)no * 8);
    a_int(b, no);
    a_op(b, 't');
    a_op(b, 'R');
    a_op(b, '}');
    a_str(b, "max_depth");
    a_int(b, 1);
    a_op(b, 's');
    a_str(b, "node_count");
    a_int(b, s->node_count ? s->node_count : s->n_nodes);
    a_op(b, 's');
    a_str(b, "nodes");
    a_nodes(b, s);
    a_op(b, 's');
    a_str(b, "values");
    int64_t vs[3] = {s->n_nodes, no, max_classes(s)};
    if (s->values_shape[0]) memcpy(vs, s->values_shape, sizeof vs);
    a_array(b, vs, 3, "f8", "<", s->values, (size_t)(vs[0] * vs[1] * vs[2]) * 8);
    a_op(b, 's');
    a_op(b, 'b');
}

static inline void a_key_int(bi_buf *b, const char *key, int64_t v) {
    a_str(b, key);
    a_int(b, v);
    a_op(b, 's');
}

static inline void a_classes(bi_buf *b, const tspec *s) {
    const int64_t *lab = s->labels;
    int64_t def[16];
    for (int k = 0; k < 16; k++) def[k] = 10 * (k + 1);
    if (!lab) lab = def;
    if (s->n_outputs > 1) a_op(b, ']'), a_op(b, '(');
    for (int k = 0; k < s->n_outputs; k++) {
        a_array(b, &s->n_classes[k], 1, "i8", "<", lab, (size_t)s->n_classes[k] * 8);
        lab += s->n_classes[k];
    }
    if (s->n_outputs > 1) a_op(b, 'e');
}

/* The estimator object (no STOP). */
static inline void a_estimator(bi_buf *b, const tspec *s) {
    a_global(b, s->module ? s->module : "sklearn.tree._classes", s->cls ? s->cls : "DecisionTreeClassifier");
    a_op(b, ')');
    a_op(b, 0x81);
    a_op(b, '}');
    a_key_int(b, "n_features_in_", s->n_features);
    a_key_int(b, "n_outputs_", s->n_outputs);
    if (s->classifier) {
        a_str(b, "classes_");
        a_classes(b, s);
        a_op(b, 's');
        if (s->n_outputs == 1) {
            a_key_int(b, "n_classes_", s->n_classes[0]);
        } else {
            a_str(b, "n_classes_");
            int64_t no = s->n_outputs;
            a_array(b, &no, 1, "i8", "<", s->n_classes, (size_t)no * 8);
            a_op(b, 's');
        }
    }
    if (s->feature_names[0]) {
        int64_t n = 0;
        while (n < 4 && s->feature_names[n]) n++;
        a_str(b, "feature_names_in_");
        a_global(b, "numpy.core.multiarray", "_reconstruct");
        a_global(b, "numpy", "ndarray");
        int64_t zero = 0;
        a_shape(b, &zero, 1);
        a_bytes(b, "b", 1);
        a_op(b, 0x87);
        a_op(b, 'R');
        a_op(b, '(');
        a_int(b, 1);
        a_shape(b, &n, 1);
        a_dtype(b, "O8", "|");
        a_op(b, 0x89);
        a_op(b, ']');
        a_op(b, '(');
        for (int64_t k = 0; k < n; k++) a_str(b, s->feature_names[k]);
        a_op(b, 'e');
        a_op(b, 't');
        a_op(b, 'b');
        a_op(b, 's');
    }
    if (s->extra) s->extra(b);
    a_str(b, "tree_");
    a_tree(b, s);
    a_op(b, 's');
    if (s->version) {
        a_str(b, "_sklearn_version");
        a_str(b, s->version);
        a_op(b, 's');
    }
    a_op(b, 'b');
}

static inline tspec defaults(tspec s) {
    static const int64_t two[1] = {2};
    if (!s.nodes) s.nodes = stump, s.n_nodes = 3;
    if (!s.values) s.values = stump_values;
    if (!s.n_features) s.n_features = 2;
    if (!s.n_outputs) s.n_outputs = 1;
    if (!s.n_classes) s.n_classes = two;
    const char *c = s.cls ? s.cls : "DecisionTreeClassifier";
    s.classifier = strstr(c, "Regressor") == NULL;
    return s;
}

static inline brine_status load_model(bi_buf *b, brine_model **m, brine_error *err) {
    a_op(b, '.');
    brine_file *f = NULL;
    brine_error_clear(err);
    *m = NULL;
    brine_status st = brine_file_open_memory(&f, b->data, b->len, NULL, err);
    if (!st) st = brine_model_from_file(m, f, err);
    brine_file_free(f);
    bi_buf_free(b);
    return st;
}

static inline brine_status load_tree(tspec s, brine_model **m, brine_error *err) {
    s = defaults(s);
    bi_buf b = BI_BUF_INIT;
    a_op(&b, 0x80);
    a_op(&b, 2);
    a_estimator(&b, &s);
    return load_model(&b, m, err);
}

/* The pickle of a forest of the given trees (all sharing n_classes and
 * outputs), STOP excluded, appended to b. */
static inline void a_forest(bi_buf *b, const char *cls, const tspec *trees, int n) {
    tspec f = defaults(trees[0]);
    f.classifier = strstr(cls, "Regressor") == NULL;
    a_op(b, 0x80);
    a_op(b, 2);
    a_global(b, "sklearn.ensemble._forest", cls);
    a_op(b, ')');
    a_op(b, 0x81);
    a_op(b, '}');
    a_key_int(b, "n_features_in_", f.n_features);
    a_key_int(b, "n_outputs_", f.n_outputs);
    if (f.classifier) {
        a_str(b, "classes_");
        a_classes(b, &f);
        a_op(b, 's');
        a_key_int(b, "n_classes_", f.n_classes[0]);
    }
    a_str(b, "estimators_");
    a_op(b, ']');
    a_op(b, '(');
    for (int i = 0; i < n; i++) {
        tspec t = defaults(trees[i]);
        a_estimator(b, &t);
    }
    a_op(b, 'e');
    a_op(b, 's');
    a_op(b, 'b');
}

static inline brine_status load_forest(const char *cls, const tspec *trees, int n, brine_model **m, brine_error *err) {
    bi_buf b = BI_BUF_INIT;
    a_forest(&b, cls, trees, n);
    return load_model(&b, m, err);
}


#endif
