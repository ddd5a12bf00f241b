/* train.h — growing scikit-learn trees and forests in C, bit for bit.
 *
 * Everything here follows ../shared/TREES.md (sklearn 1.2.1 first, later
 * versions where §10 says results change): numpy's legacy RandomState and
 * the tree's own xorshift generator (rng.c), the introsort whose tie order
 * feeds every sum (sort.c), the criteria (criterion.c), the best and random
 * splitters (splitter.c), the depth-first and best-first builders
 * (builder.c), and the estimators' fit logic around them (fit.c).  The
 * public entry point is brine_train (api.c). */
#ifndef BRINE_TRAIN_TRAIN_H
#define BRINE_TRAIN_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "brine.h"

/* ------------------------------------------------------------ rng.c */

/* numpy.random.RandomState (MT19937, legacy streams). */
typedef struct bt_mt {
    uint32_t key[624];
    int pos;
} bt_mt;

void bt_mt_seed(bt_mt *mt, uint32_t seed);
uint32_t bt_mt_next32(bt_mt *mt);
/* randint(low, high): high exclusive, masked rejection as numpy's legacy path. */
int64_t bt_mt_randint(bt_mt *mt, int64_t low, int64_t high);
/* random_sample(): 53-bit double in [0, 1). */
double bt_mt_random_sample(bt_mt *mt);

enum { BT_RAND_R_MAX = 0x7FFFFFFF };
/* sklearn's our_rand_r, rand_int and rand_uniform over a 32-bit state. */
uint32_t bt_rand_r(uint32_t *state);
size_t bt_rand_int(size_t low, size_t high, uint32_t *state);
double bt_rand_uniform(double low, double high, uint32_t *state);

/* ----------------------------------------------------------- sort.c */

/* sklearn's introsort of (values, samples) together, ties as sklearn. */
void bt_sort(float *values, int32_t *samples, size_t n);

/* A row's weight and class, kept together (one cache miss, not two). */
typedef struct bt_wy {
    double w;
    int64_t y;
} bt_wy;

/* Scratch for bt_sort_unordered: n_rows entries each. */
typedef struct bt_sort_buf {
    uint32_t *key, *key2;
    int32_t *samples2;
    bt_wy *pay2;
} bt_sort_buf;

/* Sorts (values, samples) ascending in O(n) with ties in no particular
 * order: only for fits whose sums are exact whatever the order (class
 * counts of integer weights), where the trees come out the same.  values
 * must hold no NaN and no -0.0.  pay (n entries) moves with the samples. */
void bt_sort_unordered(float *values, int32_t *samples, bt_wy *pay, size_t n, bt_sort_buf *buf);

/* ------------------------------------------------------ criterion.c */

typedef enum bt_criterion_kind {
    BT_GINI,
    BT_ENTROPY,
    BT_MSE,
    BT_FRIEDMAN_MSE,
    BT_POISSON,
    BT_MAE
} bt_criterion_kind;

typedef struct bt_wmed bt_wmed; /* a weighted median calculator (MAE) */

typedef struct bt_criterion {
    bt_criterion_kind kind;
    int classification;
    size_t n_outputs;
    const size_t *n_classes; /* classification: per output */
    size_t stride;           /* entries per output in the sums: max_n_classes, or 1 */
    const double *y;         /* n_rows * n_outputs (class indices as doubles) */
    int32_t *yi;             /* classification: y as ints, the same layout */
    bt_wy *wy;               /* one output of classes: each row's weight and class */
    const bt_wy *pay;        /* when set, wy of samples[p] is pay[p - start]: the split
                                scan of a sorted feature reads it in order */
    const double *w;         /* n_rows, or NULL for unit weights */
    const int32_t *samples;
    size_t start, end, pos;
    double wnn, wl, wr, wns;
    double sq_sum_total;
    double *sum_total, *sum_left, *sum_right; /* n_outputs * stride */
    bt_wmed *left_med, *right_med;            /* MAE: n_outputs each */
    double *node_medians;
    int fractions;           /* node_value gives class fractions (sklearn >= 1.4) */
} bt_criterion;

/* 0, or -1 when out of memory.  n_rows sizes the MAE buffers. */
int bt_criterion_init(bt_criterion *c, bt_criterion_kind kind, size_t n_outputs, const size_t *n_classes,
                      size_t n_rows, const double *y, const double *w, double wns);
void bt_criterion_free(bt_criterion *c);
/* The node samples[start:end): sums and weight; returns wnn. */
double bt_crit_node(bt_criterion *c, const int32_t *samples, size_t start, size_t end);
void bt_crit_reset(bt_criterion *c);
void bt_crit_update(bt_criterion *c, size_t new_pos);
double bt_crit_node_impurity(bt_criterion *c);
void bt_crit_children_impurity(bt_criterion *c, double *left, double *right);
double bt_crit_proxy(bt_criterion *c);
double bt_crit_improvement(bt_criterion *c, double parent, double left, double right);
/* n_outputs * stride values of the node. */
void bt_crit_node_value(bt_criterion *c, double *dest);

/* ------------------------------------------------------- splitter.c */

typedef struct bt_split {
    size_t pos;
    size_t feature;
    double threshold;
    double improvement;
    double impurity_left, impurity_right;
} bt_split;

typedef struct bt_splitter {
    bt_criterion *crit;
    const float *xt;       /* feature-major X: xt[f * n_rows + i] */
    size_t n_rows, n_features;
    int random;            /* splitter="random" */
    size_t max_features;
    size_t min_samples_leaf;
    double min_weight_leaf;
    uint32_t rand_r_state;
    int32_t *samples;      /* rows with non-zero weight */
    size_t n_samples;
    size_t *features, *constant_features;
    float *xf;             /* n_rows scratch */
    int order_free;        /* sums are exact in any order: bt_sort_unordered may sort */
    bt_sort_buf sort_buf;
    bt_wy *pay;            /* order_free: wy of the node's samples, in their order */
} bt_splitter;

/* 0, or -1 when out of memory.  Draws the rand_r seed from rs first. */
int bt_splitter_init(bt_splitter *sp, bt_criterion *crit, const float *xt, size_t n_rows, size_t n_features,
                     const double *w, int random, size_t max_features, size_t min_samples_leaf,
                     double min_weight_leaf, int order_free, bt_mt *rs);
void bt_splitter_free(bt_splitter *sp);
/* Best split of [start,end) (the criterion already set on it); updates
 * *n_constant. */
void bt_node_split(bt_splitter *sp, size_t start, size_t end, double impurity, bt_split *out, size_t *n_constant);

/* -------------------------------------------------------- builder.c */

/* A grown tree, in sklearn's node order. */
typedef struct bt_tree {
    size_t node_count, cap;
    int64_t *left, *right, *feature;
    double *threshold, *impurity, *weighted_n;
    int64_t *n_node_samples;
    double *value;         /* node_count * n_outputs * stride */
    size_t value_stride;   /* n_outputs * stride */
    int64_t max_depth;     /* deepest level reached */
} bt_tree;

typedef struct bt_build_params {
    int64_t max_depth;
    size_t min_samples_split, min_samples_leaf;
    double min_weight_leaf;
    int64_t max_leaf_nodes;  /* -1: depth first */
    double min_impurity_decrease;
} bt_build_params;

/* 0, or -1 when out of memory. */
int bt_build(bt_tree *t, bt_splitter *sp, const bt_build_params *p);
void bt_tree_free(bt_tree *t);

/* --------------------------------------------------------- params.c */

enum { BT_MF_NONE, BT_MF_SQRT, BT_MF_LOG2, BT_MF_INT, BT_MF_FLOAT, BT_MF_AUTO };
enum { BT_CW_NONE, BT_CW_BALANCED, BT_CW_SUBSAMPLE, BT_CW_DICT };
enum { BT_MS_NONE, BT_MS_INT, BT_MS_FLOAT };

struct brine_value;

/* What the estimator's parameters ask for, validated as sklearn validates
 * them.  Integer-or-float parameters keep which one was given: sklearn
 * treats min_samples_leaf=1 and 1.0 differently. */
typedef struct bt_config {
    const char *cls;      /* short class name */
    int classifier, forest, extra;
    int version;          /* behaviour to reproduce: major*10000 + minor*100 + patch */
    bt_criterion_kind criterion;
    int random_splitter;
    int64_t max_depth;    /* -1: None */
    int mss_float, msl_float;
    int64_t mss, msl;
    double mss_f, msl_f;
    double min_weight_fraction_leaf;
    int mf_kind;
    int64_t mf_int;
    double mf_float;
    int64_t max_leaf_nodes; /* -1: None */
    double min_impurity_decrease;
    int cw_kind;
    const struct brine_value *class_weight; /* BT_CW_DICT: a dict, or a list of dicts */
    int64_t n_estimators;
    int bootstrap;
    int ms_kind;
    int64_t ms_int;
    double ms_float;
    int64_t random_state; /* -1: None */
    int64_t n_jobs;       /* 0: None */
} bt_config;

/* The estimator classes brine trains, with their short aliases. */
typedef struct bt_estimator {
    const char *cls;
    const char *alias;
    int classifier, forest, extra;
} bt_estimator;

size_t bt_estimator_count(void);
const bt_estimator *bt_estimator_at(size_t i);
/* By class name or alias (case-sensitive), or NULL. */
const bt_estimator *bt_estimator_find(const char *name);

/* Names of the estimator's constructor parameters at version, in sklearn's
 * order (NULL-terminated). */
const char *const *bt_param_names(const bt_estimator *e, int version);
/* Checks one parsed parameter value and records it in cfg. */
brine_status bt_config_set(bt_config *cfg, const char *name, const struct brine_value *v, brine_error *err);
/* Defaults of e at version. */
void bt_config_defaults(bt_config *cfg, const bt_estimator *e, int version);

/* ------------------------------------------------------------ fit.c */

/* The training data as the fit sees it. */
typedef struct bt_data {
    const float *xt;              /* feature-major float32: xt[f * n_rows + i] */
    size_t n_rows, n_features, n_outputs;
    const double *y;              /* n_rows * n_outputs; classifiers: class indices */
    const size_t *n_classes;      /* classifiers: per output */
    const brine_label *const *classes; /* classifiers: each output's sorted labels */
    const double *sample_weight;  /* the user's, or NULL */
    int negative_zero;            /* some X value is -0.0 in float32 */
} bt_data;

typedef struct bt_fitted {
    bt_tree *trees;               /* n_trees, in estimators_ order */
    size_t n_trees;
    int64_t *seeds;               /* forests: each member's random_state */
    size_t max_features;          /* max_features_ */
    int64_t n_samples_bootstrap;  /* -1 without bootstrap */
} bt_fitted;

typedef void (*bt_progress_fn)(void *ctx, size_t done, size_t total);

brine_status bt_fit(const bt_config *cfg, const bt_data *d, bt_fitted *out, bt_progress_fn progress, void *ctx,
                    brine_error *err);
void bt_fitted_free(bt_fitted *f);

#endif
