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
 * A model owns all of its memory (an arena); it never points into the
 * brine_file it came from, so the file may be freed right after loading. */
#ifndef BRINE_ESTIMATORS_ESTIMATOR_H
#define BRINE_ESTIMATORS_ESTIMATOR_H

#include <stddef.h>
#include <stdint.h>

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
};

/* What a family's predict receives: X already converted to float32 (as
 * sklearn converts it) and checked for the model's width and finiteness. */
typedef struct be_input {
    const float *x; /* n_rows * n_cols, row-major */
    size_t n_rows, n_cols;
} be_input;

struct be_family {
    const char *name; /* "tree", "forest" */
    /* Reads the estimator's state into m->impl and the common fields. */
    brine_status (*load)(brine_model *m, const bv *state, brine_error *err);
    /* Fills out (already sized by be_output_columns) for the method. */
    brine_status (*predict)(const brine_model *m, brine_method method, const be_input *in, brine_prediction *out,
                            brine_error *err);
};

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

/* 1 when the version parsed from _sklearn_version is >= major.minor.patch;
 * 0 when lower; -1 when unknown. */
int be_version_at_least(const brine_model *m, int major, int minor, int patch);

/* --------------------------------------------------------- trees (tree.c) */

typedef struct be_node {
    double threshold;
    int32_t left, right; /* -1 for leaves */
    int32_t feature;
    uint8_t missing_left; /* NaN goes left (sklearn >= 1.3 records) */
} be_node;

typedef struct be_tree {
    size_t node_count;
    size_t n_outputs;
    size_t max_classes;   /* last dimension of value */
    int64_t n_features;   /* the Tree's own n_features */
    const size_t *n_classes; /* classifiers: per output (borrowed) */
    int has_missing;      /* records carry missing_go_to_left */
    be_node *nodes;
    double *value;        /* node_count * n_outputs * max_classes, as stored */
    double *proba;        /* classifiers: value rows as predict_proba gives them */
    int32_t *top;         /* classifiers: argmax of each value row (first max) */
} be_tree;

/* What the estimator around a Tree object says it must look like. */
typedef struct be_tree_spec {
    int classifier;
    size_t n_outputs;
    const size_t *n_classes; /* classifiers: classes per output */
    int64_t n_features;      /* input width */
    int fractions;           /* classifier values: 1 fractions (>= 1.4), 0 counts, -1 decide from the data */
    const char *field;       /* "tree_" or "estimators_[3].tree_", for messages */
} be_tree_spec;

/* Loads and validates a sklearn.tree._tree.Tree object. */
brine_status be_tree_load(brine_model *m, const bv *tree, const be_tree_spec *spec, be_tree **out, brine_error *err);
/* Index of the leaf that row x (float32, model width) reaches. */
size_t be_tree_apply(const be_tree *t, const float *x);
/* numpy's pairwise sum of a contiguous row (np.add.reduce). */
double be_pairwise_sum(const double *a, size_t n);
/* numpy.argmax of a row: the first maximum; a NaN wins at once. */
size_t be_argmax(const double *a, size_t n);
/* Whether classifier values are fractions: by version, else -1. */
int be_tree_fractions_by_version(const brine_model *m);

/* ------------------------------------------------- forests (forest.c) */

typedef struct be_forest {
    be_tree **trees;         /* estimators_ in list order; a tree listed twice is loaded once */
    size_t n;
    const size_t *n_classes; /* classifiers: per output */
} be_forest;

extern const be_family be_tree_family;
extern const be_family be_forest_family;

#endif
