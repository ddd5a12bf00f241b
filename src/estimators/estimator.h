/* estimator.h — the estimator layer: fitted scikit-learn estimators read
 * from the value graph into typed, validated C models that predict.
 *
 * One registry (registry.c) maps every module path sklearn ever pickled a
 * class under to a *family*: the functions that load that class's state and
 * predict with it.  One file per family (tree.c, forest.c).  Loading checks
 * everything prediction relies on, so predicting never needs to check again
 * and a hostile file made of allowed classes fails at load with
 * BRINE_E_FORMAT naming the estimator and the field.
 *
 * A model owns all of its memory (an arena).  One built by
 * brine_model_from_file never points into the brine_file it came from, so
 * the file may be freed right after loading.  One built by brine_model_load
 * keeps the file it opened (m->backing) when a family read array bytes in
 * place (the trees' node records and values: be_tree_load), instead of
 * copying them. */
#ifndef BRINE_ESTIMATORS_ESTIMATOR_H
#define BRINE_ESTIMATORS_ESTIMATOR_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "brine.h"
#include "pickle/value.h"

typedef struct be_family be_family;

/* One registry row: a pickled class name and what it is. */
typedef struct be_class {
    const char *module;
    const char *name;
    const be_family *family;
    int classifier;         /* 1 classifier, 0 regressor */
    const char *tree_kind;  /* forests: "DecisionTree" or "ExtraTree" (their sub-estimators) */
} be_class;

/* The class table row for module.name, or NULL. */
const be_class *be_class_find(const char *module, const char *name);
/* The table itself, for tests and help texts. */
size_t be_class_count(void);
const be_class *be_class_at(size_t i);

/* Deep copies of value subgraphs into a model's arena (copy.c).  One
 * copier per model keeps shared nodes shared across copies. */
typedef struct be_copier {
    bp_arena *dst;
    const bv **keys; /* source nodes */
    bv **vals;       /* their copies */
    size_t cap, len;
} be_copier;

void be_copier_init(be_copier *c, bp_arena *dst);
void be_copier_free(be_copier *c);
/* *out is the copy of src (NULL for NULL); BRINE_E_NOMEM on failure. */
brine_status be_copy(be_copier *c, const bv *src, bv **out, brine_error *err);

/* Named values copied from an estimator's state: its constructor
 * parameters as the file stored them, or fitted attributes brine keeps only
 * to write them back.  Names and values live in the model's arena. */
typedef struct be_param {
    const char *name;
    const bv *value;
} be_param;

typedef struct be_params {
    be_param *items;
    size_t n;
} be_params;

/* Class labels of one output, as sklearn's classes_[k] holds them. */
typedef struct be_classes {
    brine_label *labels;
    size_t n;
    char dtype_kind;       /* numpy kind of classes_[k]: i u f b U S O */
    size_t dtype_itemsize; /* its itemsize (U: 4 per code point) */
} be_classes;

struct brine_model {
    bp_arena arena;             /* owns everything below */
    const be_class *cls;
    char *class_path;           /* "sklearn.tree._classes.DecisionTreeClassifier" */
    const char *short_name;     /* "DecisionTreeClassifier": used in messages */
    char *sklearn_version;      /* NULL when the file has none */
    int version[3];             /* parsed major, minor, patch; -1 each if unknown */
    int version_pre;            /* a pre-release (dev, rc, a, b) of that version */
    int64_t n_features_in;
    size_t n_outputs;
    be_classes *classes;        /* n_outputs entries; NULL for regressors */
    char **feature_names;       /* n_feature_names entries or NULL */
    size_t n_feature_names;
    size_t n_estimators;        /* trees: 1; forests: len(estimators_) */
    int allow_nan;              /* NaN input has a defined path (sklearn >= 1.3 nodes) */
    void *impl;                 /* the family's own model */
    /* Only for writing the model back (save.c): */
    be_params params;           /* constructor parameters, in the file's order */
    be_params extras;           /* forests: _n_samples, _n_samples_bootstrap, oob_* */
    int64_t max_features;       /* trees: max_features_; -1 when the file lacks it */
    /* Per-node arrays of the trees (fast.c be_bulk_alloc): one mapping
     * with huge pages, so loading faults in 2 MiB at a time; NULL when
     * not reserved or not available. */
    void *bulk;
    size_t bulk_size, bulk_used;
    /* Pipelines: the step models this model owns (freed with it), and how
     * deep inside pipelines this model sits. */
    brine_model **subs;
    size_t n_subs;
    int depth;
    int takes_text;             /* reads text cells (brine_model_takes_text); set by its family */
    int text_out;               /* transform gives labels (imputers of object columns) */
    int int_out;                /* transform gives int64 indices (LabelEncoder) */
    size_t inverse_width;       /* INVERSE_TRANSFORM's input width; 0: n_features_in */
    /* Families written back verbatim (be_family.save NULL): a copy of the
     * estimator object as the file held it (the root model only). */
    const bv *original;
    /* Array bytes of the value graph outlive the model (brine_model_load
     * hands it the file): families may point into them, setting borrowed. */
    int borrow;
    int borrowed;
    int load_threads;           /* threads that may check a forest's trees (>= 1; brine_load_options) */
    brine_file *backing;        /* the root model: the file it reads in place, or NULL */
};

/* What a family's predict receives: X already converted to float32 (as
 * sklearn converts it) and checked for the model's width and finiteness. */
typedef struct be_input {
    const float *x; /* n_rows * n_cols, row-major; NULL for BE_FAM_FLOAT64 families */
    const double *xd; /* BE_FAM_FLOAT64 families: the caller's float64 rows (float32 input widened) */
    size_t n_rows, n_cols;
    int n_threads;  /* threads over row blocks (fast.c); 1 = the caller's only */
    int reference;  /* 1: the straightforward path (be_tree_apply row by row) */
    /* Text input (BE_FAM_TEXT families, and pipelines / column transformers
     * that hand columns to them): n_rows * n_cols cells as the caller gave
     * them, row-major, UTF-8, NULL for a missing cell; NULL when the caller
     * gave only numbers.  xd then holds each cell parsed as a number (NaN
     * where it is not one). */
    const char *const *text;
    const char *const *col_names; /* n_cols header names, or NULL */
} be_input;

typedef struct be_save be_save; /* a graph being built for writing (save.c) */

struct be_family {
    const char *name; /* "tree", "forest" */
    /* Reads the estimator's state into m->impl and the common fields. */
    brine_status (*load)(brine_model *m, const bv *state, brine_error *err);
    /* Fills out (already sized by be_output_columns) for the method. */
    brine_status (*predict)(const brine_model *m, brine_method method, const be_input *in, brine_prediction *out,
                            brine_error *err);
    /* The estimator object as sklearn of the layout's version pickles it.
     * NULL: the model is written back verbatim (be_model_verbatim), as the
     * file held it, at the file's own sklearn version only. */
    brine_status (*save)(be_save *s, bv **out, brine_error *err);
    /* Optional (NULL: the tree families' rule, be_default_columns): the
     * number of output columns of method, or BE_NO_METHOD when the model
     * lacks it.  Families reached through it may take any method. */
    size_t (*columns)(const brine_model *m, brine_method method);
    /* Optional flags: BE_FAM_FLOAT64 — predict reads in->xd (float64 rows
     * as given, NaN and infinities not checked) instead of float32 x, as
     * sklearn's linear and other non-tree estimators work in float64. */
    unsigned flags;
};

enum {
    BE_FAM_FLOAT64 = 1,
    /* The family reads in->text (strings: encoders, vectorizers, column
     * transformers); implies BE_FAM_FLOAT64 for its numeric cells. */
    BE_FAM_TEXT = 2
};
#define BE_NO_METHOD ((size_t)-1)

/* The tree families' columns: predict n_outputs, predict_proba the classes
 * of every output (classifiers), apply one per tree; BE_NO_METHOD else. */
size_t be_default_columns(const brine_model *m, brine_method method);
/* Whether a method's cells are int64 label/leaf indices (predict of a
 * classifier, apply) rather than float64 values. */
int be_method_gives_indices(const brine_model *m, brine_method method);

/* ------------------------------------------------------------ helpers */

/* Records a BRINE_E_FORMAT error "NAME: FIELD..." (offset -1: the graph
 * keeps no byte positions). */
brine_status be_fail(brine_error *err, const brine_model *m, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
brine_status be_fail_status(brine_error *err, brine_status st, const brine_model *m, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Arena allocation of n*size zeroed bytes with overflow check; NULL on failure. */
void *be_alloc(brine_model *m, size_t n, size_t size);

/* A completed ndarray node, or NULL (other kinds, or still pending). */
const bv_array *be_array(const bv *v);
/* 1 on a little-endian host. */
int be_host_little(void);
/* Integer value of a Python int/bool or a numpy integer/bool scalar. */
int be_get_int(const bv *v, int64_t *out);
/* Element i (C order) of a numeric array as int64 / double; 0 when the
 * dtype is not integer (resp. numeric) or the value does not fit. */
int be_array_int(const bv_array *a, size_t i, int64_t *out);
int be_array_double(const bv_array *a, size_t i, double *out);
/* One item's bytes (in dt's byte order) as int64 (kinds i, u, b) or
 * double (f4, f8, or an integer); 0 when it does not fit. */
int be_item_int(const bv_dtype *dt, const uint8_t *p, int64_t *out);
int be_item_double(const bv_dtype *dt, const uint8_t *p, double *out);
/* 1 when dtype dt is a plain number of the kind and size. */
int be_dtype_is(const bv *dt, char kind, size_t itemsize);

/* Reads classes_ / n_classes_ of a classifier (single or multi-output)
 * into m->classes and n_classes (m->n_outputs entries, arena). */
brine_status be_read_classes(brine_model *m, const bv *state, size_t **n_classes, brine_error *err);
/* Reads the optional feature_names_in_ into m. */
brine_status be_read_feature_names(brine_model *m, const bv *state, brine_error *err);
/* n_features_in_ (or n_features_ of older files); -1 when absent. */
brine_status be_read_n_features(brine_model *m, const bv *state, int64_t *out, brine_error *err);
/* n_outputs_; 1 when absent (files older than multi-output support). */
brine_status be_read_n_outputs(brine_model *m, const bv *state, size_t *out, brine_error *err);

/* Copies the constructor parameters of an estimator's state (keys neither
 * starting nor ending with '_', less a forest's template and
 * estimator_params) into out. */
brine_status be_read_params(brine_model *m, be_copier *cp, const bv *state, be_params *out, brine_error *err);
/* Copies the listed keys (NULL-terminated) that state has into out. */
brine_status be_read_extras(brine_model *m, be_copier *cp, const bv *state, const char *const *keys,
                            be_params *out, brine_error *err);
/* The value stored under name, or NULL. */
const bv *be_param_get(const be_params *p, const char *name);
/* max_features_ of a tree estimator's state; -1 when absent. */
int64_t be_read_max_features(const bv *state);

/* 1 when the version parsed from _sklearn_version is >= major.minor.patch;
 * 0 when lower; -1 when unknown. */
int be_version_at_least(const brine_model *m, int major, int minor, int patch);

/* --------------------------------------------------------- trees (tree.c) */

/* A tree's nodes are sklearn's own node records (NODE_DTYPE), read through
 * their fields' offsets and types, so every layout sklearn wrote works:
 * 56-byte records up to 1.2, 64-byte records with missing_go_to_left from
 * 1.3, int32 index fields of 32-bit builds, either byte order.  A model
 * loaded by brine_model_load reads them where the file has them (its read
 * buffer or mapping, kept by the model); otherwise they are a copy, or, for
 * trained trees, records brine wrote.  Loading checks every record, but
 * what predicting and saving walk is the compact layout below, built from
 * them at load: a mapped file that changes afterwards can change numbers
 * read from its records, never the shape brine walks. */
enum { BE_F_LEFT, BE_F_RIGHT, BE_F_FEATURE, BE_F_THRESHOLD, BE_F_MISSING, BE_F_IMPURITY, BE_F_SAMPLES, BE_F_WSAMPLES,
       BE_F_COUNT };

typedef struct be_records {
    const uint8_t *data;             /* node_count records of itemsize bytes */
    size_t itemsize;
    unsigned char has[BE_F_COUNT];   /* the records have field k */
    bv_dtype type[BE_F_COUNT];       /* its kind, byte order and itemsize (no pointers: the file may go) */
    size_t offset[BE_F_COUNT];
    char native[BE_F_COUNT];         /* 'q' int64, 'i' int32, 'd' float64 in host order; 0 otherwise */
} be_records;

/* Field k of record i as an int64 (INT64_MIN when it does not fit) or a
 * double (NaN); inlined, as loading a forest reads a million records. */
static inline __attribute__((always_inline)) int64_t be_rec_int(const be_records *r, size_t i, int k) {
    const uint8_t *p = r->data + i * r->itemsize + r->offset[k];
    int64_t v;
    int32_t v32;
    if (r->native[k] == 'q') return memcpy(&v, p, 8), v;
    if (r->native[k] == 'i') return memcpy(&v32, p, 4), v32;
    return be_item_int(&r->type[k], p, &v) ? v : INT64_MIN;
}

static inline __attribute__((always_inline)) double be_rec_double(const be_records *r, size_t i, int k) {
    const uint8_t *p = r->data + i * r->itemsize + r->offset[k];
    double v;
    if (r->native[k] == 'd') return memcpy(&v, p, 8), v;
    return be_item_double(&r->type[k], p, &v) ? v : NAN;
}

typedef struct be_tree {
    size_t node_count;
    size_t n_outputs;
    size_t max_classes;   /* last dimension of value */
    int64_t n_features;   /* the Tree's own n_features */
    const size_t *n_classes; /* classifiers: per output (borrowed) */
    int has_missing;      /* records carry missing_go_to_left */
    int has_stats;        /* records carry impurity, n_node_samples and weighted_n_node_samples */
    be_records rec;
    const double *value;  /* node_count * n_outputs * max_classes, as stored (the file's or a copy) */
    const double *proba;  /* classifiers: the leaves' value rows as predict_proba gives them
                             (0 at inner nodes); == value when the file stores fractions */
    int32_t *top;         /* classifiers: argmax of each leaf's value row (first max) */
    int64_t max_depth;    /* the state's max_depth; -1 when absent */
    /* The inference layout (fast.c), built at load. */
    struct be_fnode *fast; /* node_count compact nodes, breadth-first, children adjacent */
    int32_t *fast_orig;    /* compact index -> node index */
    int32_t *fast_pos;     /* node index -> compact index */
    uint32_t depth;        /* edges on the longest root-to-leaf path */
} be_tree;

/* Trained trees: room for node_count records of BE_OWN_RECORD bytes (the
 * 56-byte layout, host order) in t->rec, owned by m; NULL when out of
 * memory.  be_tree_put_record fills record i. */
enum { BE_OWN_RECORD = 56 };
uint8_t *be_tree_own_records(brine_model *m, be_tree *t);
void be_tree_put_record(be_tree *t, size_t i, int64_t left, int64_t right, int64_t feature, double threshold,
                        double impurity, int64_t samples, double wsamples);
/* The children of node i from the compact layout (checked at load, owned
 * by the model): 0 for a leaf, else 1 with *left and *right set. */
int be_tree_kids(const be_tree *t, size_t i, int32_t *left, int32_t *right);
/* Node i's feature (-2 at leaves, sklearn's TREE_UNDEFINED) and threshold
 * (the record's float64) as the records hold them. */
int64_t be_tree_feature(const be_tree *t, size_t i);
double be_tree_threshold(const be_tree *t, size_t i);
/* Where NaN goes at node i: 1 left, 0 right (records without the field: 0). */
int be_tree_missing_left(const be_tree *t, size_t i);
/* The statistics of node i (has_stats only). */
double be_tree_impurity(const be_tree *t, size_t i);
int64_t be_tree_samples(const be_tree *t, size_t i);
double be_tree_wsamples(const be_tree *t, size_t i);

/* What the estimator around a Tree object says it must look like. */
typedef struct be_tree_spec {
    int classifier;
    size_t n_outputs;
    const size_t *n_classes; /* classifiers: classes per output */
    int64_t n_features;      /* input width */
    int fractions;           /* classifier values: 1 fractions (>= 1.4), 0 counts, -1 decide from the data */
    const char *field;       /* "tree_" or "estimators_[3].tree_", for messages */
} be_tree_spec;

/* Loads and validates a sklearn.tree._tree.Tree object: be_tree_open,
 * then be_tree_check. */
brine_status be_tree_load(brine_model *m, const bv *tree, const be_tree_spec *spec, be_tree **out, brine_error *err);
/* Memory be_tree_check needs besides the tree's own, grown as trees need
 * and reused by one thread; zero-initialised, freed with free(raw). */
typedef struct be_tree_scratch {
    struct be_raw_node *raw;
    size_t cap;
} be_tree_scratch;
/* The two halves of be_tree_load, so that a forest checks its trees on
 * several threads: be_tree_open reads the Tree object's fields and takes
 * all the memory the tree will need (from m, on one thread at a time);
 * be_tree_check then checks every node and builds what predicting reads,
 * writing only that tree's memory, so trees of one model may be checked at
 * once.  A tree is usable only after both succeed. */
brine_status be_tree_open(brine_model *m, const bv *tree, const be_tree_spec *spec, be_tree **out, brine_error *err);
brine_status be_tree_check(const brine_model *m, be_tree *t, const be_tree_spec *spec, be_tree_scratch *scratch,
                           brine_error *err);
/* be_tree_check of each non-NULL trees[i] (opened with spec), on up to
 * m->load_threads threads when they are large enough to gain from them;
 * messages name the tree "<list>[i].tree_".  On failure err is that of
 * the lowest i that failed, as one thread checking in order would say. */
brine_status be_trees_check(const brine_model *m, be_tree *const *trees, size_t n, const be_tree_spec *spec,
                            const char *list, brine_error *err);
/* Completes a tree built in memory (by training) whose records and values
 * are filled: what predicting needs beyond them, as be_tree_load does. */
brine_status be_tree_finish(brine_model *m, be_tree *t, const be_tree_spec *spec, brine_error *err);
/* BRINE_E_UNSUPPORTED unless t kept what writing it back needs. */
brine_status be_tree_savable(const brine_model *m, const be_tree *t, const char *field, brine_error *err);
/* Index of the leaf that row x (float32, model width) reaches. */
size_t be_tree_apply(const be_tree *t, const float *x);
/* numpy's pairwise sum of a contiguous row (np.add.reduce). */
double be_pairwise_sum(const double *a, size_t n);
/* A row of class counts as sklearn <= 1.3 predicts it: over their numpy
 * sum (a zero sum counts as 1), nc entries into out. */
void be_fraction_row(const double *row, size_t nc, double *out);
/* numpy.argmax of a row: the first maximum; a NaN wins at once. */
size_t be_argmax(const double *a, size_t n);
/* Whether classifier values are fractions: by version, else -1. */
int be_tree_fractions_by_version(const brine_model *m);

/* ------------------------------------------- the inference engine (fast.c) */

/* A node record as loading reads it, once: children (-1 at leaves), the
 * feature and be_fast_threshold of the threshold. */
typedef struct be_raw_node {
    int32_t left, right, feature;
    float thr;
} be_raw_node;

/* A compact node: children at next and next + 1; a leaf loops to itself
 * (next == its own index, thr +inf), so rows can walk in lockstep. */
typedef struct be_fnode {
    float thr;        /* be_fast_threshold of the node's float64 threshold */
    uint32_t feature;
    uint32_t next;
} be_fnode;

/* The largest float <= t (-inf below float's range, NaN for NaN): for every
 * float x, x <= t exactly when x <= be_fast_threshold(t). */
float be_fast_threshold(double t);
/* Reserves bytes of address space for the trees' per-node arrays (a hint:
 * failure only means be_bulk_alloc uses the arena). */
void be_bulk_reserve(brine_model *m, size_t bytes);
/* n * size zeroed bytes, 16-aligned, from the reservation, else the arena;
 * NULL on overflow or out of memory.  Freed with the model. */
void *be_bulk_alloc(brine_model *m, size_t n, size_t size);
/* Releases the reservation (brine_model_free). */
void be_bulk_free(brine_model *m);
/* Bytes a tree of n nodes takes in be_bulk_alloc, at most. */
size_t be_bulk_tree_bytes(size_t n, size_t n_outputs, size_t max_classes);
/* Adds to *total what the Tree object tree (its nodes array as loaded)
 * would take; nothing when it has no such array. */
void be_bulk_reserve_tree(size_t *total, const bv *tree, size_t n_outputs, size_t max_classes);
/* Takes t->fast, t->fast_orig and t->fast_pos (zeroed) from m:
 * BRINE_E_NOMEM when there is no memory for them. */
brine_status be_fast_alloc(brine_model *m, be_tree *t);
/* Fills t->fast, t->fast_orig, t->fast_pos and t->depth from raw (the
 * records as be_tree_check read and checked them one by one), checking on
 * the way that they form one tree rooted at node 0 (every other node has
 * exactly one parent and is reached from the root), so that walking it
 * always ends at a leaf within node_count steps; BRINE_E_FORMAT naming
 * field ("tree_", "estimators_[3].tree_") otherwise.  Writes only t's own
 * arrays, so it may run on any thread. */
brine_status be_fast_walk(const brine_model *m, be_tree *t, const be_raw_node *raw, const char *field,
                          brine_error *err);
/* Predicts with trees[0..n) over row blocks on in->n_threads threads: a
 * forest (1: means over trees, in tree order) or a single tree (0).  out
 * is already sized by the caller. */
brine_status be_engine_run(const brine_model *m, brine_method method, const be_input *in, be_tree *const *trees,
                           size_t n, int forest, brine_prediction *out, brine_error *err);

/* ------------------------------------------------- forests (forest.c) */

/* What a forest keeps of each member estimator besides its tree. */
typedef struct be_member {
    be_params params;     /* the member's own parameters (random_state an int) */
    int64_t max_features; /* its max_features_; -1 when absent */
} be_member;

typedef struct be_forest {
    be_tree **trees;         /* estimators_ in list order; a tree listed twice is loaded once */
    size_t n;
    const size_t *n_classes; /* classifiers: per output */
    be_member *members;      /* n entries */
} be_forest;

extern const be_family be_tree_family;
extern const be_family be_forest_family;
/* GradientBoostingClassifier / GradientBoostingRegressor (boosting.c). */
extern const be_family be_gb_family;
/* HistGradientBoostingClassifier / HistGradientBoostingRegressor (hist_gb.c). */
extern const be_family be_hgb_family;

/* ------------- linear models, scalers, pipelines (linear.c, preprocess.c, pipeline.c) */

/* A numeric array of up to 2 dimensions as float64, row-major (Fortran
 * order read as such), in the model's arena. */
typedef struct be_matrix {
    double *v;
    size_t rows, cols; /* 1-D and 0-D: one row */
    int ndim;
} be_matrix;

/* A Python float/int/bool or numpy numeric scalar as a double; 0 if not. */
int be_get_double(const bv *v, double *out);
/* Reads a numeric array of at most max_ndim dimensions; BRINE_E_FORMAT
 * naming field otherwise. */
brine_status be_read_matrix(brine_model *m, const bv *v, const char *field, int max_ndim, be_matrix *out,
                            brine_error *err);
/* BRINE_E_ARGUMENT for the first infinite (or, unless allow_nan, NaN) cell,
 * as sklearn's check_array refuses them. */
brine_status be_check_rows(const brine_model *m, const double *x, size_t cells, size_t n_cols, int allow_nan,
                           brine_error *err);
/* Keeps the constructor parameters of state in m->params (for inspect). */
brine_status be_keep_params(brine_model *m, const bv *state, brine_error *err);
/* Sets m->n_features_in to width, failing when the file said otherwise. */
brine_status be_check_width(brine_model *m, int64_t width, const char *field, brine_error *err);
/* One classes_ array (field names it in messages) into out (model.c). */
brine_status be_read_labels(brine_model *m, const bv *v, const char *field, be_classes *out, brine_error *err);
/* Output columns of method, or BE_NO_METHOD (model.c). */
size_t be_output_columns(const brine_model *m, brine_method method);
/* Loads the estimator object root as a model of its own at pipeline
 * nesting depth (model.c).  The one bound on nesting, for every
 * meta-estimator: a part deeper than BE_MAX_NESTING (pipelines, ensembles,
 * searches inside one another, or an estimator containing itself) is
 * BRINE_E_FORMAT. */
enum { BE_MAX_NESTING = 8 };
/* Loads v as a part of meta-estimator m (one level deeper), owned by m:
 * appended to m->subs, which must have room.  A failure's message is
 * prefixed "NAME: FIELD: " (field: "estimators_[2]", "init_", ...). */
brine_status be_load_part(brine_model *m, const bv *v, const char *field, brine_model **out, brine_error *err);
/* borrow: root's array bytes outlive the model (see brine_model.borrow);
 * load_threads: brine_model.load_threads (< 1 counts as 1). */
brine_status be_model_from_value(brine_model **out, const bv *root, int depth, int borrow, int load_threads,
                                brine_error *err);
/* Whether m or a part of it reads bytes of the file in place. */
int be_model_borrows(const brine_model *m);

extern const be_family be_linear_family;
extern const be_family be_preprocess_family;
extern const be_family be_pipeline_family;
/* TransformedTargetRegressor (target.c). */
extern const be_family be_target_family;

/* ------------------------------------------------- layouts (layout.c) */

enum { BE_GEN_12 = 12, BE_GEN_14 = 14 };  /* layout generations, see save.c */
enum { BE_KEEP_NAMES = 1, BE_KEEP_OOB = 2 }; /* optional keys whose place is verified */

/* One verified layout: an estimator class at one sklearn version. */
typedef struct be_layout {
    const char *version;                  /* written as _sklearn_version */
    const char *cls;                      /* short class name */
    int gen;                              /* BE_GEN_*: the shape of the fitted part */
    const char *const *params;            /* the estimator's own keys before its fitted part */
    const char *const *tree_params;       /* forests: those of members and template */
    const char *const *member_params;     /* forests: estimator_params */
    unsigned keeps;                       /* BE_KEEP_* */
    const char *evidence;                 /* what verified it */
} be_layout;

size_t be_layout_count(void);
const be_layout *be_layout_at(size_t i);
/* The row for class cls (short name) at version, or NULL. */
const be_layout *be_layout_find(const char *cls, const char *version);
/* The newest verified row of cls, or NULL. */
const be_layout *be_layout_newest(const char *cls);
/* Verified versions of cls, oldest first: up to max into out; the count. */
size_t be_layout_versions(const char *cls, const char **out, size_t max);
/* The layout to write: `requested`, else the model's own version when
 * verified and able to hold the model, else the newest verified one that
 * can (see be_layout_admits).  An unverified request fails with
 * BRINE_E_UNSUPPORTED listing the verified versions. */
brine_status be_layout_choose(const brine_model *m, const char *requested, const be_layout **out, brine_error *err);
/* Models written back verbatim: 1 when m's family has no save of its own. */
int be_model_verbatim(const brine_model *m);
/* Verbatim classes: whether the test suite has read and predicted with
 * files of class cls (short name) at version (sklearn 1.2.1 fits, real
 * files); and those versions, oldest first, as be_layout_versions. */
int be_read_checked(const char *cls, const char *version);
size_t be_read_checked_versions(const char *cls, const char **out, size_t max);
/* The versions brine vouches for, for m: its class's verified layouts, or
 * for verbatim classes the versions read and checked. */
size_t be_model_versions(const brine_model *m, const char **out, size_t max);
/* 1 when the estimator object looks fitted as sklearn's check_is_fitted
 * sees it (a Pipeline by its last step); 0 otherwise. */
int be_value_looks_fitted(const bv *root);

/* Refuses (BRINE_E_UNSUPPORTED) a model whose optional keys (feature names,
 * oob attributes) have no verified place in lay. */
brine_status be_layout_admits(const brine_model *m, const be_layout *lay, brine_error *err);

/* --------------------------------------------------- writing (save.c) */

struct be_save {
    bp_arena *a;
    const brine_model *m;
    const be_layout *lay;
    int failed;            /* an allocation failed: the graph is incomplete */
    const be_tree **tree_keys; /* Tree objects already built, so shared trees stay shared */
    bv **tree_vals;
    size_t ntrees, trees_cap;
    bv *node_dtype;        /* the node records' dtype, built once */
};

/* Builders: each returns NULL after an allocation failure and marks s. */
bv *be_s_str(be_save *s, const char *text);
bv *be_s_int(be_save *s, int64_t v);
bv *be_s_none(be_save *s);
bv *be_s_dict(be_save *s);
/* dict[key] = value (a NULL value only marks the failure). */
void be_s_set(be_save *s, bv *dict, const char *key, bv *value);
/* NEWOBJ(module.name, ()) with state: how sklearn pickles an estimator. */
bv *be_s_estimator(be_save *s, const char *module, const char *name, bv *state);
/* An int64 numpy scalar (np.intp). */
bv *be_s_intp_scalar(be_save *s, int64_t v);
/* A 1-D int64 array of n values. */
bv *be_s_intp_array(be_save *s, const int64_t *v, size_t n);
/* A float64 array of count values and the given shape. */
bv *be_s_f8_array(be_save *s, const double *v, int ndim, const int64_t *shape);
/* classes_ of one output, as the model read it. */
bv *be_s_labels(be_save *s, const be_classes *c);
/* feature_names_in_ (an object array of str). */
bv *be_s_feature_names(be_save *s);
/* The parameters `names` of an estimator of class cls: the model's copy in
 * params when it has one (old spellings sklearn removed are translated),
 * else cls's default, into dict. */
void be_s_params(be_save *s, bv *dict, const be_params *params, const char *const *names, const char *cls);
/* sklearn.tree._tree.Tree of the layout's version (built once per tree). */
bv *be_s_tree(be_save *s, const be_tree *t);
/* A tree estimator of class cls (short name) with its parameters, fitted
 * attributes and tree_.  member: 1 inside a forest, where classes_ are the
 * float indices 0.0 .. n-1 sklearn fits members on and there are no
 * feature names; 0 for the model itself. */
bv *be_s_tree_estimator(be_save *s, const char *cls, const be_params *params, int64_t max_features,
                        const be_tree *t, int member);
/* sklearn's default of parameter name for estimator class cls (short
 * name), allocated from a; NULL when out of memory. */
bv *be_param_default(bp_arena *a, const char *name, const char *cls);
/* The module that defines cls ("sklearn.tree._classes", ...). */
const char *be_class_module(const char *cls);
/* 1 when the model holds any oob_* attribute to write back. */
int be_has_oob(const brine_model *m);

/* ------------------- text input, encoders, composition (model.c, encoders.c) */

/* Families whose INVERSE_TRANSFORM fills brine_prediction.labels. */
enum { BE_FAM_INVERSE_LABELS = 0x100 };

/* CONVENTIONS' missing markers: NULL, "", "nan", "NaN", "NA" (blanks
 * around ignored). */
int be_cell_missing(const char *s);
/* A cell as a number: 1 and *out for numbers (NaN for missing markers),
 * 0 for other text. */
int be_cell_number(const char *s, double *out);
/* The input width method takes: inverse_width for INVERSE_TRANSFORM when
 * set, else n_features_in. */
size_t be_input_width(const brine_model *m, brine_method method);
/* Whether method fills brine_prediction.labels: INVERSE_TRANSFORM of
 * BE_FAM_INVERSE_LABELS families, TRANSFORM of models with text_out. */
int be_method_gives_labels(const brine_model *m, brine_method method);
/* Runs method of m on in, whose text (when not NULL) and xd hold the same
 * cells: models that take text get both; others get xd, after a check
 * that no cell is text (BRINE_E_ARGUMENT naming row and column).  *out as
 * brine_predict.  The hand-off used by pipelines and column transformers. */
brine_status be_predict_input(brine_prediction **out, const brine_model *m, brine_method method, const be_input *in,
                              brine_error *err);

/* OneHotEncoder, OrdinalEncoder, LabelEncoder (encoders.c). */
extern const be_family be_encoder_family;
/* ColumnTransformer, FeatureUnion (encoders.c). */
extern const be_family be_compose_family;
/* SimpleImputer (encoders.c). */
extern const be_family be_impute_family;
/* PolynomialFeatures, FunctionTransformer without a function (preprocess.c). */
extern const be_family be_shape_family;

/* ------------- clustering, decomposition, neural networks (cluster.c, mlp.c) */

/* KMeans, MiniBatchKMeans: predict (labels 0 .. k-1 as classes), transform. */
extern const be_family be_kmeans_family;
/* PCA, IncrementalPCA, TruncatedSVD, FastICA: transform. */
extern const be_family be_decomposition_family;
/* MLPClassifier, MLPRegressor. */
extern const be_family be_mlp_family;
/* Why module.name, a class sklearn gives no predict nor transform
 * (AgglomerativeClustering, DBSCAN, ...: fit_predict only), cannot be
 * predicted with; NULL for other classes. */
const char *be_no_method_reason(const char *module, const char *name);

/* ------------- SVMs and meta-estimators (svm.c, search.c) */

/* SVC, NuSVC, SVR, NuSVR, OneClassSVM (libsvm, dense). */
extern const be_family be_svm_family;
/* GridSearchCV, RandomizedSearchCV: every method is best_estimator_'s. */
extern const be_family be_search_family;
/* OneVsRestClassifier (binary and multiclass targets). */
extern const be_family be_ovr_family;
/* SelectKBest, VarianceThreshold: transform keeps the selected columns (search.c). */
extern const be_family be_select_family;
/* OneVsOneClassifier (search.c). */
extern const be_family be_ovo_family;

/* ------------- text vectorizers and sparse rows (text.c; linear.c's sparse path) */

/* Rows in CSR form, malloc-owned (be_csr_free).  Row r's values are
 * data[indptr[r] .. indptr[r + 1]) in columns indices[...], in storage
 * order (which sklearn's sums follow; not always ascending). */
typedef struct be_csr {
    size_t rows, cols, nnz;
    size_t *indptr;    /* rows + 1 */
    uint32_t *indices; /* nnz, each < cols */
    double *data;      /* nnz */
    int f32;           /* the values are float32 ones (a float32 dtype), widened */
} be_csr;

void be_csr_free(be_csr *x);
/* The rows densified into out[rows * cols]. */
void be_csr_dense(const be_csr *x, double *out);
/* out[r * k + c] = sum over row r's stored values, in storage order, of
 * value * w[col * k + c], from 0.0: scipy's csr @ dense (csr_matvecs), as
 * safe_sparse_dot(X, W) gives it for W of shape (cols, k) in C order. */
void be_csr_dot(const be_csr *x, const double *w, size_t k, double *out);
/* CountVectorizer, TfidfVectorizer (text documents), TfidfTransformer. */
extern const be_family be_text_family;
/* 1 when m's transform gives CSR rows (be_transform_csr). */
int be_gives_csr(const brine_model *m);
/* m's transform of in (documents in in->text, or TfidfTransformer's
 * numbers in in->xd) as CSR rows into *out. */
brine_status be_transform_csr(const brine_model *m, const be_input *in, be_csr *out, brine_error *err);
/* 1 when m takes CSR rows and gives CSR rows (a TfidfTransformer). */
int be_takes_csr(const brine_model *m);
/* A TfidfTransformer m applied to x in place (x: the step before's rows). */
brine_status be_csr_transform(const brine_model *m, be_csr *x, brine_error *err);
/* Runs method of m on CSR rows: linear models and TfidfTransformer take
 * them sparse; any other estimator gets them densified (float64) through
 * brine_predict.  *out as brine_predict's. */
brine_status be_predict_csr(brine_prediction **out, const brine_model *m, brine_method method, const be_csr *x,
                            int n_threads, brine_error *err);
/* OneHotEncoders with sparse output and ColumnTransformers whose
 * sparse_output_ is set give CSR rows too (encoders.c): whether m does,
 * and m's transform of in as CSR rows (be_transform_csr dispatches). */
int be_encoder_gives_csr(const brine_model *m);
brine_status be_encoder_csr(const brine_model *m, const be_input *in, be_csr *out, brine_error *err);
/* Linear models on CSR rows (linear.c): out sized as be_output_columns. */
brine_status be_linear_predict_csr(const brine_model *m, brine_method method, const be_csr *x, brine_prediction *out,
                                   brine_error *err);

/* ------------- meta-ensembles (ensemble.c) */

/* IsolationForest: score_samples, decision_function, predict (-1 / 1 as classes). */
extern const be_family be_iforest_family;
/* AdaBoostClassifier (SAMME, SAMME.R) and AdaBoostRegressor. */
extern const be_family be_adaboost_family;
/* BaggingClassifier, BaggingRegressor (feature subsets). */
extern const be_family be_bagging_family;
/* VotingClassifier (hard, soft), VotingRegressor. */
extern const be_family be_voting_family;
/* StackingClassifier, StackingRegressor. */
extern const be_family be_stacking_family;

/* ------------- neighbours and naive Bayes (neighbors.c, naive_bayes.c) */

/* KNeighborsClassifier, KNeighborsRegressor, NearestCentroid. */
extern const be_family be_neighbors_family;
/* GaussianNB, MultinomialNB, ComplementNB, BernoulliNB, CategoricalNB. */
extern const be_family be_nb_family;

#endif
