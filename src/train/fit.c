/* fit.c — what sklearn 1.2's fit methods do around the tree builders
 * (TREES.md §2, §3): resolving min_samples_*, max_features and
 * min_weight_leaf, class weights, the forest's seed chain (one draw per
 * tree, all before any tree grows), bootstrap counts from a fresh
 * RandomState(seed), and the trees of a forest grown on several threads.
 * Each tree depends only on its seed, so threads change nothing. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "estimators/estimator.h"
#include "io/error.h"
#include "io/threads.h"
#include "pickle/value.h"
#include "train/train.h"

/* --------------------------------------------------------- resolving */

static size_t resolve_max_features(const bt_config *cfg, size_t n_features) {
    switch (cfg->mf_kind) {
    case BT_MF_SQRT: return (size_t)fmax(1.0, floor(sqrt((double)n_features)));
    case BT_MF_LOG2: return (size_t)fmax(1.0, floor(log2((double)n_features)));
    case BT_MF_AUTO: return cfg->classifier ? (size_t)fmax(1.0, floor(sqrt((double)n_features))) : n_features;
    case BT_MF_INT: return (size_t)cfg->mf_int;
    case BT_MF_FLOAT: return (size_t)fmax(1.0, floor(cfg->mf_float * (double)n_features));
    default: return n_features;
    }
}

/* The builder's limits for one tree fitted on d with weights w. */
static bt_build_params build_params(const bt_config *cfg, const bt_data *d, const double *w) {
    bt_build_params p;
    double n = (double)d->n_rows;
    p.max_depth = cfg->max_depth < 0 ? 2147483647 : cfg->max_depth;
    p.min_samples_leaf = cfg->msl_float ? (size_t)ceil(cfg->msl_f * n) : (size_t)cfg->msl;
    size_t mss = cfg->mss_float ? (size_t)fmax(2.0, ceil(cfg->mss_f * n)) : (size_t)cfg->mss;
    p.min_samples_split = mss > 2 * p.min_samples_leaf ? mss : 2 * p.min_samples_leaf;
    p.min_weight_leaf = cfg->min_weight_fraction_leaf * (w ? be_pairwise_sum(w, d->n_rows) : n);
    p.max_leaf_nodes = cfg->max_leaf_nodes;
    p.min_impurity_decrease = cfg->min_impurity_decrease;
    return p;
}

/* ------------------------------------------------------ class weights */

static int label_matches(const bv *key, const brine_label *l) {
    if (l->kind == BRINE_LABEL_STR)
        return key->kind == BRINE_STR && key->u.s.n == l->len && !memcmp(key->u.s.p, l->s, l->len);
    double x = l->kind == BRINE_LABEL_FLOAT ? l->f : (double)l->i;
    if (key->kind == BRINE_INT || key->kind == BRINE_BOOL) {
        if (l->kind == BRINE_LABEL_FLOAT) return x == (double)key->u.i;
        return l->i == key->u.i;
    }
    return key->kind == BRINE_FLOAT && key->u.f == x;
}

static double number(const bv *v) { return v->kind == BRINE_FLOAT ? v->u.f : (double)v->u.i; }

/* Per-class factors of output k from a {label: weight} dict
 * (compute_class_weight). */
static brine_status dict_factors(const bt_config *cfg, const bv *dict, const bt_data *d, size_t k, double *f,
                                 brine_error *err) {
    size_t nc = d->n_classes[k], matched = 0, missing = 0;
    for (size_t c = 0; c < nc; c++) {
        f[c] = 1.0;
        int found = 0;
        for (size_t e = 0; e < dict->u.seq.n && !found; e++)
            if (label_matches(dict->u.seq.items[2 * e], &d->classes[k][c])) {
                f[c] = number(dict->u.seq.items[2 * e + 1]);
                found = 1;
            }
        if (found) matched++;
        else missing++;
    }
    if (missing && matched != dict->u.seq.n)
        return bi_fail(err, BRINE_E_ARGUMENT, -1, "%s: class_weight names labels that are not classes of output %zu",
                       cfg->cls, k);
    return BRINE_OK;
}

/* Balanced factors n / (n_classes * count) over rows idx (all rows when
 * idx is NULL); absent classes get 0, as the subsample rule zeroes them. */
static void balanced_factors(const bt_data *d, size_t k, const int64_t *idx, size_t n_idx, double *f) {
    size_t nc = d->n_classes[k], present = 0;
    size_t n = idx ? n_idx : d->n_rows;
    double *count = f; /* counted in place, then turned into factors */
    for (size_t c = 0; c < nc; c++) count[c] = 0.0;
    for (size_t r = 0; r < n; r++) count[(size_t)d->y[(size_t)(idx ? idx[r] : (int64_t)r) * d->n_outputs + k]] += 1.0;
    for (size_t c = 0; c < nc; c++) present += count[c] > 0.0;
    for (size_t c = 0; c < nc; c++)
        f[c] = count[c] > 0.0 ? (double)n / ((double)present * count[c]) : 0.0;
}

/* compute_sample_weight(class_weight, y[, indices]) into out (n_rows). */
static brine_status class_sample_weight(const bt_config *cfg, const bt_data *d, const int64_t *idx, size_t n_idx,
                                        double *out, brine_error *err) {
    size_t max_nc = 1;
    for (size_t k = 0; k < d->n_outputs; k++)
        if (d->n_classes[k] > max_nc) max_nc = d->n_classes[k];
    double *f = malloc(max_nc * sizeof *f);
    if (!f) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    brine_status st = BRINE_OK;
    const bv *cw = cfg->class_weight;
    if (cfg->cw_kind == BT_CW_DICT && d->n_outputs > 1 && (cw->kind != BRINE_LIST || cw->u.seq.n != d->n_outputs))
        st = bi_fail(err, BRINE_E_ARGUMENT, -1, "%s: with %zu outputs, class_weight must be a list of %zu dicts",
                     cfg->cls, d->n_outputs, d->n_outputs);
    if (cfg->cw_kind == BT_CW_DICT && d->n_outputs == 1 && cw->kind == BRINE_LIST)
        st = bi_fail(err, BRINE_E_ARGUMENT, -1, "%s: with one output, class_weight must be a dict", cfg->cls);
    for (size_t k = 0; !st && k < d->n_outputs; k++) {
        if (cfg->cw_kind == BT_CW_DICT)
            st = dict_factors(cfg, d->n_outputs > 1 ? cw->u.seq.items[k] : cw, d, k, f, err);
        else balanced_factors(d, k, idx, n_idx, f);
        for (size_t i = 0; !st && i < d->n_rows; i++) {
            double v = f[(size_t)d->y[i * d->n_outputs + k]];
            out[i] = k ? out[i] * v : v;
        }
    }
    free(f);
    return st;
}

/* ------------------------------------------------------------ a tree */

/* Whether the fit's sums come out the same in any summation order: class
 * counts of integer weights (bootstrap counts, integer user weights) are
 * exact below 2^53.  Then ties may be sorted in any order (the trees are
 * the same; test_train.py checks it against sklearn), and a radix sort
 * replaces the introsort. */
static int order_free(const bt_config *cfg, const bt_data *d, const double *w) {
    if (!cfg->classifier || d->negative_zero) return 0;
    double total = 0.0;
    for (size_t i = 0; w && i < d->n_rows; i++) {
        if (w[i] != floor(w[i])) return 0;
        total += fabs(w[i]);
    }
    return total < 9007199254740992.0;
}

static brine_status grow(const bt_config *cfg, const bt_data *d, const double *w, bt_mt *rs, size_t max_features,
                         bt_tree *out, brine_error *err) {
    double wns = 0.0;
    for (size_t i = 0; i < d->n_rows; i++) wns += w ? w[i] : 1.0;
    bt_criterion crit;
    bt_splitter sp;
    memset(&sp, 0, sizeof sp);
    bt_build_params p = build_params(cfg, d, w);
    int rc = bt_criterion_init(&crit, cfg->criterion, d->n_outputs, d->n_classes, d->n_rows, d->y, w, wns);
    crit.fractions = cfg->classifier && cfg->version >= 10400;
    if (!rc)
        rc = bt_splitter_init(&sp, &crit, d->xt, d->n_rows, d->n_features, w, cfg->random_splitter, max_features,
                              p.min_samples_leaf, p.min_weight_leaf, order_free(cfg, d, w), rs);
    brine_status st = BRINE_OK;
    if (!rc && sp.n_samples == 0)
        st = bi_fail(err, BRINE_E_ARGUMENT, -1, "%s: every sample weight is zero", cfg->cls);
    else if (!rc && bt_build(out, &sp, &p))
        rc = -1;
    if (rc) st = bi_fail(err, BRINE_E_NOMEM, -1, "out of memory growing a tree");
    bt_splitter_free(&sp);
    bt_criterion_free(&crit);
    return st;
}

static uint32_t fresh_seed(void) {
    uint32_t s = 0;
    if (getentropy(&s, sizeof s)) s = (uint32_t)getpid() ^ (uint32_t)(uintptr_t)&s;
    return s;
}

static brine_status fit_tree(const bt_config *cfg, const bt_data *d, bt_fitted *out, brine_error *err) {
    double *w = NULL;
    brine_status st = BRINE_OK;
    if (cfg->cw_kind != BT_CW_NONE) {
        if (!(w = malloc(d->n_rows * sizeof *w))) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
        st = class_sample_weight(cfg, d, NULL, 0, w, err);
        for (size_t i = 0; !st && d->sample_weight && i < d->n_rows; i++) w[i] = d->sample_weight[i] * w[i];
    }
    bt_mt rs;
    bt_mt_seed(&rs, cfg->random_state >= 0 ? (uint32_t)cfg->random_state : fresh_seed());
    out->n_trees = 1;
    out->trees = calloc(1, sizeof *out->trees);
    if (!st && !out->trees) st = bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    if (!st) st = grow(cfg, d, w ? w : d->sample_weight, &rs, out->max_features, &out->trees[0], err);
    free(w);
    return st;
}

/* ----------------------------------------------------------- forests */

typedef struct forest_job {
    const bt_config *cfg;
    const bt_data *d;
    const double *w;     /* forest-level weights (user x class), or NULL */
    bt_fitted *out;
    pthread_mutex_t lock;
    size_t next, done;
    brine_status st;
    brine_error err;
    bt_progress_fn progress;
    void *ctx;
} forest_job;

/* Member t: bootstrap weights from RandomState(seed), then the tree from
 * another RandomState(seed). */
static brine_status fit_member(forest_job *job, size_t t, brine_error *err) {
    const bt_config *cfg = job->cfg;
    const bt_data *d = job->d;
    bt_fitted *out = job->out;
    uint32_t seed = (uint32_t)out->seeds[t];
    double *w = NULL;
    int64_t *idx = NULL;
    brine_status st = BRINE_OK;
    if (cfg->bootstrap) {
        size_t n_boot = (size_t)out->n_samples_bootstrap;
        w = malloc(d->n_rows * sizeof *w);
        idx = malloc((n_boot ? n_boot : 1) * sizeof *idx);
        double *counts = calloc(d->n_rows, sizeof *counts);
        if (!w || !idx || !counts) {
            free(counts);
            st = bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
            goto done;
        }
        bt_mt boot;
        bt_mt_seed(&boot, seed);
        for (size_t r = 0; r < n_boot; r++) counts[idx[r] = bt_mt_randint(&boot, 0, (int64_t)d->n_rows)] += 1.0;
        for (size_t i = 0; i < d->n_rows; i++) w[i] = (job->w ? job->w[i] : 1.0) * counts[i];
        free(counts);
        if (cfg->cw_kind == BT_CW_SUBSAMPLE) {
            double *cw = malloc(d->n_rows * sizeof *cw);
            if (!cw) st = bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
            else st = class_sample_weight(cfg, d, idx, n_boot, cw, err);
            for (size_t i = 0; !st && i < d->n_rows; i++) w[i] *= cw[i];
            free(cw);
        }
    }
    bt_mt rs;
    bt_mt_seed(&rs, seed);
    if (!st) st = grow(cfg, d, cfg->bootstrap ? w : job->w, &rs, out->max_features, &out->trees[t], err);
done:
    free(w);
    free(idx);
    return st;
}

static void *forest_worker(void *arg) {
    forest_job *job = arg;
    for (;;) {
        pthread_mutex_lock(&job->lock);
        size_t t = job->st ? job->out->n_trees : job->next++;
        pthread_mutex_unlock(&job->lock);
        if (t >= job->out->n_trees) return NULL;
        brine_error err = {0};
        brine_status st = fit_member(job, t, &err);
        pthread_mutex_lock(&job->lock);
        if (st && !job->st) {
            job->st = st;
            job->err = err;
        }
        job->done++;
        if (!st && job->progress) job->progress(job->ctx, job->done, job->out->n_trees);
        pthread_mutex_unlock(&job->lock);
    }
}

static size_t thread_count(const bt_config *cfg) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1) cores = 1;
    int64_t n = cfg->n_jobs == 0 ? 1 : cfg->n_jobs > 0 ? cfg->n_jobs : cores + 1 + cfg->n_jobs;
    if (n < 1) n = 1;
    if ((size_t)n > (size_t)cfg->n_estimators) n = cfg->n_estimators;
    return (size_t)n;
}

static brine_status bootstrap_size(const bt_config *cfg, size_t n, int64_t *out, brine_error *err) {
    *out = -1;
    if (!cfg->bootstrap) {
        if (cfg->ms_kind != BT_MS_NONE)
            return bi_fail(err, BRINE_E_ARGUMENT, -1, "%s: max_samples needs bootstrap=True", cfg->cls);
        return BRINE_OK;
    }
    if (cfg->ms_kind == BT_MS_NONE) *out = (int64_t)n;
    else if (cfg->ms_kind == BT_MS_INT) *out = cfg->ms_int;
    else *out = (int64_t)nearbyint((double)n * cfg->ms_float); /* Python's round: half to even */
    if (cfg->ms_kind == BT_MS_INT && (uint64_t)cfg->ms_int > n)
        return bi_fail(err, BRINE_E_ARGUMENT, -1, "%s: max_samples must be <= n_samples=%zu but got value %lld",
                       cfg->cls, n, (long long)cfg->ms_int);
    if (*out < 1 && cfg->version >= 10400) *out = 1;
    if (*out < 1)
        return bi_fail(err, BRINE_E_ARGUMENT, -1, "%s: max_samples=%g draws no sample from %zu rows", cfg->cls,
                       cfg->ms_float, n);
    return BRINE_OK;
}

static brine_status fit_forest(const bt_config *cfg, const bt_data *d, bt_fitted *out, bt_progress_fn progress,
                               void *ctx, brine_error *err) {
    brine_status st = bootstrap_size(cfg, d->n_rows, &out->n_samples_bootstrap, err);
    if (st) return st;
    out->n_trees = (size_t)cfg->n_estimators;
    out->trees = calloc(out->n_trees, sizeof *out->trees);
    out->seeds = calloc(out->n_trees, sizeof *out->seeds);
    if (!out->trees || !out->seeds) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    bt_mt rs;
    bt_mt_seed(&rs, cfg->random_state >= 0 ? (uint32_t)cfg->random_state : fresh_seed());
    for (size_t t = 0; t < out->n_trees; t++) out->seeds[t] = bt_mt_randint(&rs, 0, 2147483647);
    /* Forest-level weights: the user's times "balanced" or dict class
     * weights ("balanced_subsample" without bootstrap is "balanced"). */
    double *w = NULL;
    int forest_cw = cfg->cw_kind == BT_CW_BALANCED || cfg->cw_kind == BT_CW_DICT ||
                    (cfg->cw_kind == BT_CW_SUBSAMPLE && !cfg->bootstrap);
    if (forest_cw) {
        bt_config c2 = *cfg;
        if (c2.cw_kind == BT_CW_SUBSAMPLE) c2.cw_kind = BT_CW_BALANCED;
        if (!(w = malloc(d->n_rows * sizeof *w))) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
        st = class_sample_weight(&c2, d, NULL, 0, w, err);
        for (size_t i = 0; !st && d->sample_weight && i < d->n_rows; i++) w[i] = d->sample_weight[i] * w[i];
    }
    forest_job job = {.cfg = cfg, .d = d, .w = w ? w : d->sample_weight, .out = out, .progress = progress, .ctx = ctx};
    pthread_mutex_init(&job.lock, NULL);
    /* The workers share one job, a queue of trees. */
    if (!st) bi_run_jobs(forest_worker, &job, 0, thread_count(cfg));
    pthread_mutex_destroy(&job.lock);
    free(w);
    if (!st && job.st) {
        if (err) *err = job.err;
        st = job.st;
    }
    return st;
}

/* ------------------------------------------------------------ checks */

static brine_status check_targets(const bt_config *cfg, const bt_data *d, brine_error *err) {
    if (cfg->criterion != BT_POISSON) return BRINE_OK;
    double sum = 0.0;
    for (size_t i = 0; i < d->n_rows * d->n_outputs; i++) {
        if (d->y[i] < 0)
            return bi_fail(err, BRINE_E_ARGUMENT, -1,
                           "%s: some value(s) of y are negative which is not allowed for Poisson regression", cfg->cls);
        sum += d->y[i];
    }
    if (!(sum > 0))
        return bi_fail(err, BRINE_E_ARGUMENT, -1,
                       "%s: sum of y is not positive which is necessary for Poisson regression", cfg->cls);
    return BRINE_OK;
}

brine_status bt_fit(const bt_config *cfg, const bt_data *d, bt_fitted *out, bt_progress_fn progress, void *ctx,
                    brine_error *err) {
    memset(out, 0, sizeof *out);
    out->n_samples_bootstrap = -1;
    if (d->n_rows < 1 || d->n_features < 1 || d->n_outputs < 1)
        return bi_fail(err, BRINE_E_ARGUMENT, -1, "%s: the training data has %zu rows and %zu features", cfg->cls,
                       d->n_rows, d->n_features);
    if (d->n_rows > INT32_MAX) return bi_fail(err, BRINE_E_LIMIT, -1, "%s: more than 2^31 - 1 rows", cfg->cls);
    out->max_features = resolve_max_features(cfg, d->n_features);
    if (out->max_features < 1 || out->max_features > d->n_features)
        return bi_fail(err, BRINE_E_ARGUMENT, -1, "%s: max_features must be in (0, n_features=%zu]", cfg->cls,
                       d->n_features);
    brine_status st = check_targets(cfg, d, err);
    if (st) return st;
    if (!cfg->forest) {
        st = fit_tree(cfg, d, out, err);
        if (!st && progress) progress(ctx, 1, 1);
        return st;
    }
    return fit_forest(cfg, d, out, progress, ctx, err);
}

void bt_fitted_free(bt_fitted *f) {
    for (size_t t = 0; f->trees && t < f->n_trees; t++) bt_tree_free(&f->trees[t]);
    free(f->trees);
    free(f->seeds);
    memset(f, 0, sizeof *f);
}
