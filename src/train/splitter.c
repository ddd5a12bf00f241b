/* splitter.c — sklearn's dense best and random splitters (TREES.md §4,
 * §6, §7).  The samples[] and features[] arrays persist across nodes and
 * are permuted exactly as sklearn permutes them: feature draws index into
 * features[], and the order of samples inside a node fixes the criteria's
 * summation order.  Feature values are float32 and the constant test adds
 * FEATURE_THRESHOLD in float32. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train/train.h"

static const float FEATURE_THRESHOLD = 1e-7f;

/* A float32 sum rounded to float32 even where the compiler could keep
 * excess precision. */
static float f32_add(float a, float b) {
    volatile float s = a + b;
    return s;
}

int bt_splitter_init(bt_splitter *sp, bt_criterion *crit, const float *xt, size_t n_rows, size_t n_features,
                     const double *w, int random, size_t max_features, size_t min_samples_leaf,
                     double min_weight_leaf, int order_free, bt_mt *rs) {
    memset(sp, 0, sizeof *sp);
    sp->rand_r_state = (uint32_t)bt_mt_randint(rs, 0, BT_RAND_R_MAX);
    sp->crit = crit;
    sp->xt = xt;
    sp->n_rows = n_rows;
    sp->n_features = n_features;
    sp->random = random;
    sp->max_features = max_features;
    sp->min_samples_leaf = min_samples_leaf;
    sp->min_weight_leaf = min_weight_leaf;
    sp->samples = malloc((n_rows ? n_rows : 1) * sizeof *sp->samples);
    sp->features = malloc((n_features ? n_features : 1) * sizeof *sp->features);
    sp->constant_features = calloc(n_features ? n_features : 1, sizeof *sp->constant_features);
    sp->xf = calloc(n_rows ? n_rows : 1, sizeof *sp->xf);
    if (!sp->samples || !sp->features || !sp->constant_features || !sp->xf) return -1;
    sp->order_free = order_free && !random && crit->wy; /* one output of classes */
    if (sp->order_free) {
        size_t cap = n_rows ? n_rows : 1;
        sp->sort_buf.key = malloc(cap * sizeof *sp->sort_buf.key);
        sp->sort_buf.key2 = malloc(cap * sizeof *sp->sort_buf.key2);
        sp->sort_buf.samples2 = malloc(cap * sizeof *sp->sort_buf.samples2);
        sp->sort_buf.pay2 = malloc(cap * sizeof *sp->sort_buf.pay2);
        sp->pay = malloc(cap * sizeof *sp->pay);
        if (!sp->sort_buf.key || !sp->sort_buf.key2 || !sp->sort_buf.samples2 || !sp->sort_buf.pay2 || !sp->pay)
            return -1;
    }
    size_t j = 0;
    for (size_t i = 0; i < n_rows; i++)
        if (!w || w[i] != 0.0) sp->samples[j++] = (int32_t)i;
    sp->n_samples = j;
    for (size_t f = 0; f < n_features; f++) sp->features[f] = f;
    return 0;
}

void bt_splitter_free(bt_splitter *sp) {
    free(sp->samples);
    free(sp->features);
    free(sp->constant_features);
    free(sp->xf);
    free(sp->sort_buf.key);
    free(sp->sort_buf.key2);
    free(sp->sort_buf.samples2);
    free(sp->sort_buf.pay2);
    free(sp->pay);
    memset(sp, 0, sizeof *sp);
}

static void swap_features(size_t *f, size_t a, size_t b) {
    size_t t = f[a];
    f[a] = f[b];
    f[b] = t;
}

static void swap_samples(int32_t *s, size_t a, size_t b) {
    int32_t t = s[a];
    s[a] = s[b];
    s[b] = t;
}

/* The final partition by X[s, feature] (widened) <= threshold. */
static void partition(bt_splitter *sp, size_t start, size_t end, size_t feature, double thr) {
    const float *col = sp->xt + feature * sp->n_rows;
    size_t p = start, e = end;
    while (p < e) {
        if ((double)col[sp->samples[p]] <= thr) p++;
        else swap_samples(sp->samples, p, --e);
    }
}

/* Every candidate position of the sorted feature f (best splitter). */
static void scan_positions(bt_splitter *sp, size_t start, size_t end, size_t f, double *best_proxy, bt_split *best) {
    bt_criterion *c = sp->crit;
    const float *xf = sp->xf;
    if (sp->order_free) c->pay = sp->pay; /* in step with samples until the scan ends */
    bt_crit_reset(c);
    size_t p = start;
    while (p < end) {
        while (p + 1 < end && xf[p + 1] <= f32_add(xf[p], FEATURE_THRESHOLD)) p++;
        p++;
        if (p >= end) break;
        if (p - start < sp->min_samples_leaf || end - p < sp->min_samples_leaf) continue;
        bt_crit_update(c, p);
        if (c->wl < sp->min_weight_leaf || c->wr < sp->min_weight_leaf) continue;
        double q = bt_crit_proxy(c);
        if (q > *best_proxy) {
            *best_proxy = q;
            double thr = (double)xf[p - 1] / 2.0 + (double)xf[p] / 2.0;
            if (thr == (double)xf[p] || thr == INFINITY || thr == -INFINITY) thr = (double)xf[p - 1];
            best->pos = p;
            best->feature = f;
            best->threshold = thr;
        }
    }
    c->pay = NULL;
}

/* The random splitter's pass over feature f: values into xf, their
 * minimum and maximum (sklearn's "elif": a new minimum is never also tested
 * as a maximum). */
static void random_values(bt_splitter *sp, size_t start, size_t end, size_t f, float *mn_out, float *mx_out) {
    const float *col = sp->xt + f * sp->n_rows;
    float *xf = sp->xf;
    const int32_t *s = sp->samples;
    float mn = col[s[start]], mx = mn;
    xf[start] = mn;
    for (size_t p = start + 1; p < end; p++) {
        float v = col[s[p]];
        xf[p] = v;
        if (v < mn) mn = v;
        else if (v > mx) mx = v;
    }
    *mn_out = mn;
    *mx_out = mx;
}

/* One uniform threshold between mn and mx, the partition it gives, and
 * its proxy against the best so far. */
static void random_threshold(bt_splitter *sp, size_t start, size_t end, size_t f, float mn, float mx,
                             double *best_proxy, bt_split *best) {
    float *xf = sp->xf;
    int32_t *s = sp->samples;
    double thr = bt_rand_uniform((double)mn, (double)mx, &sp->rand_r_state);
    if (thr == (double)mx) thr = (double)mn;
    size_t p = start, e = end;
    while (p < e) {
        if ((double)xf[p] <= thr) {
            p++;
        } else {
            e--;
            float t = xf[p];
            xf[p] = xf[e];
            xf[e] = t;
            swap_samples(s, p, e);
        }
    }
    size_t pos = e;
    if (pos - start < sp->min_samples_leaf || end - pos < sp->min_samples_leaf) return;
    bt_criterion *c = sp->crit;
    bt_crit_reset(c);
    bt_crit_update(c, pos);
    if (c->wl < sp->min_weight_leaf || c->wr < sp->min_weight_leaf) return;
    double q = bt_crit_proxy(c);
    if (q > *best_proxy) {
        *best_proxy = q;
        best->pos = pos;
        best->feature = f;
        best->threshold = thr;
    }
}

void bt_node_split(bt_splitter *sp, size_t start, size_t end, double impurity, bt_split *out, size_t *n_constant) {
    size_t *features = sp->features;
    size_t n_known = *n_constant, n_total = n_known;
    size_t f_i = sp->n_features, n_visited = 0, n_found = 0, n_drawn = 0;
    size_t current = (size_t)-1;
    bt_split best = {end, 0, 0.0, -INFINITY, INFINITY, INFINITY};
    double best_proxy = -INFINITY;
    while (f_i > n_total && (n_visited < sp->max_features || n_visited <= n_found + n_drawn)) {
        n_visited++;
        size_t j = bt_rand_int(n_drawn, f_i - n_found, &sp->rand_r_state);
        if (j < n_known) {
            swap_features(features, n_drawn++, j);
            continue;
        }
        j += n_found;
        size_t f = current = features[j];
        int constant;
        float mn = 0, mx = 0;
        if (sp->random) {
            random_values(sp, start, end, f, &mn, &mx);
            constant = mx <= f32_add(mn, FEATURE_THRESHOLD);
        } else {
            const float *col = sp->xt + f * sp->n_rows;
            if (sp->order_free) {
                const bt_wy *wy = sp->crit->wy;
                for (size_t p = start; p < end; p++) {
                    int32_t i = sp->samples[p];
                    sp->xf[p] = col[i];
                    sp->pay[p - start] = wy[i];
                }
                bt_sort_unordered(sp->xf + start, sp->samples + start, sp->pay, end - start, &sp->sort_buf);
            } else {
                for (size_t p = start; p < end; p++) sp->xf[p] = col[sp->samples[p]];
                bt_sort(sp->xf + start, sp->samples + start, end - start);
            }
            constant = sp->xf[end - 1] <= f32_add(sp->xf[start], FEATURE_THRESHOLD);
        }
        if (constant) {
            swap_features(features, j, n_total);
            n_found++;
            n_total++;
            continue;
        }
        swap_features(features, --f_i, j);
        if (sp->random) random_threshold(sp, start, end, f, mn, mx, &best_proxy, &best);
        else scan_positions(sp, start, end, f, &best_proxy, &best);
    }
    if (best.pos < end) {
        if (!sp->random || current != best.feature) partition(sp, start, end, best.feature, best.threshold);
        bt_criterion *c = sp->crit;
        bt_crit_reset(c);
        bt_crit_update(c, best.pos);
        bt_crit_children_impurity(c, &best.impurity_left, &best.impurity_right);
        best.improvement = bt_crit_improvement(c, impurity, best.impurity_left, best.impurity_right);
    }
    memcpy(features, sp->constant_features, n_known * sizeof *features);
    memcpy(sp->constant_features + n_known, features + n_known, n_found * sizeof *features);
    *out = best;
    *n_constant = n_total;
}
