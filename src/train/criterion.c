/* criterion.c — impurity criteria as sklearn 1.2 computes them (TREES.md
 * §8): every sum in the same order, squares as products, log2 as
 * ln(x)/ln(2), the update direction chosen as sklearn chooses it.  MAE
 * keeps sklearn's incremental weighted medians (§8.6) literally, stale
 * buffer slots included. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train/train.h"

static const double EPS10 = 10 * 2.220446049250313e-16;

static double log2s(double x) { return log(x) / log(2.0); }

static double weight(const bt_criterion *c, int32_t i) { return c->w ? c->w[i] : 1.0; }

static double yv(const bt_criterion *c, int32_t i, size_t k) { return c->y[(size_t)i * c->n_outputs + k]; }

/* ------------------------------------------- weighted median (MAE) */

struct bt_wmed {
    double *v, *w; /* capacity n_rows; contents survive removals */
    size_t size;
    size_t k;
    double total, s;
};

static int wmed_init(bt_wmed *m, size_t cap) {
    m->v = calloc(cap ? cap : 1, sizeof *m->v);
    m->w = calloc(cap ? cap : 1, sizeof *m->w);
    m->size = m->k = 0;
    m->total = m->s = 0;
    return m->v && m->w ? 0 : -1;
}

static void wmed_free(bt_wmed *m) {
    free(m->v);
    free(m->w);
}

static void wmed_reset(bt_wmed *m) {
    m->size = m->k = 0;
    m->total = m->s = 0;
}

static double wmed_median(const bt_wmed *m) {
    if (m->s == m->total / 2.0) return (m->v[m->k] + m->v[m->k - 1]) / 2.0;
    if (m->s > m->total / 2.0) return m->v[m->k - 1];
    return 0.0;
}

static void wmed_push(bt_wmed *m, double v, double w) {
    double m0 = m->size ? wmed_median(m) : 0.0;
    size_t i = m->size;
    m->v[i] = v;
    m->w[i] = w;
    while (i != 0 && m->v[i] < m->v[i - 1]) {
        double tv = m->v[i], tw = m->w[i];
        m->v[i] = m->v[i - 1];
        m->w[i] = m->w[i - 1];
        m->v[i - 1] = tv;
        m->w[i - 1] = tw;
        i--;
    }
    m->size++;
    if (m->size == 1) {
        m->k = 1;
        m->total = w;
        m->s = w;
        return;
    }
    m->total += w;
    if (v < m0) {
        m->k++;
        m->s += w;
        while (m->k > 1 && m->s - m->w[m->k - 1] >= m->total / 2.0) {
            m->k--;
            m->s -= m->w[m->k];
        }
    } else {
        while (m->k < m->size && m->s < m->total / 2.0) {
            m->k++;
            m->s += m->w[m->k - 1];
        }
    }
}

static void wmed_after_remove(bt_wmed *m, double v, double w, double m0) {
    if (m->size == 0) {
        m->k = 0;
        m->total = m->s = 0;
        return;
    }
    if (m->size == 1) {
        m->k = 1;
        m->total -= w;
        m->s = m->total;
        return;
    }
    m->total -= w;
    if (v < m0) {
        m->k--;
        m->s -= w;
        while (m->k < m->size && m->s < m->total / 2.0) {
            m->k++;
            m->s += m->w[m->k - 1];
        }
    } else {
        while (m->k > 1 && m->s - m->w[m->k - 1] >= m->total / 2.0) {
            m->k--;
            m->s -= m->w[m->k];
        }
    }
}

static void wmed_delete_at(bt_wmed *m, size_t at) {
    for (size_t i = at; i + 1 < m->size; i++) {
        m->v[i] = m->v[i + 1];
        m->w[i] = m->w[i + 1];
    }
    m->size--;
}

static void wmed_remove(bt_wmed *m, double v, double w) {
    double m0 = m->size ? wmed_median(m) : 0.0;
    size_t at = m->size;
    for (size_t i = 0; i < m->size; i++)
        if (m->v[i] == v && m->w[i] == w) {
            at = i;
            break;
        }
    if (at == m->size) return; /* sklearn returns -1 and changes nothing */
    wmed_delete_at(m, at);
    wmed_after_remove(m, v, w, m0);
}

static int wmed_pop(bt_wmed *m, double *v, double *w) {
    if (!m->size) return -1;
    double m0 = wmed_median(m);
    *v = m->v[0];
    *w = m->w[0];
    wmed_delete_at(m, 0);
    wmed_after_remove(m, *v, *w, m0);
    return 0;
}

/* ----------------------------------------------------------- set-up */

int bt_criterion_init(bt_criterion *c, bt_criterion_kind kind, size_t n_outputs, const size_t *n_classes,
                      size_t n_rows, const double *y, const double *w, double wns) {
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->classification = kind == BT_GINI || kind == BT_ENTROPY;
    c->n_outputs = n_outputs;
    c->n_classes = n_classes;
    c->stride = 1;
    if (c->classification)
        for (size_t k = 0; k < n_outputs; k++)
            if (n_classes[k] > c->stride) c->stride = n_classes[k];
    c->y = y;
    c->w = w;
    c->wns = wns;
    size_t cells = n_outputs * c->stride;
    c->sum_total = calloc(cells, sizeof *c->sum_total);
    c->sum_left = calloc(cells, sizeof *c->sum_left);
    c->sum_right = calloc(cells, sizeof *c->sum_right);
    if (!c->sum_total || !c->sum_left || !c->sum_right) return -1;
    if (c->classification) {
        size_t cells_y = n_rows * n_outputs;
        if (!(c->yi = malloc((cells_y ? cells_y : 1) * sizeof *c->yi))) return -1;
        for (size_t i = 0; i < cells_y; i++) c->yi[i] = (int32_t)y[i];
        if (n_outputs == 1) {
            if (!(c->wy = malloc((n_rows ? n_rows : 1) * sizeof *c->wy))) return -1;
            for (size_t i = 0; i < n_rows; i++) c->wy[i] = (bt_wy){w ? w[i] : 1.0, c->yi[i]};
        }
    }
    if (kind != BT_MAE) return 0;
    c->left_med = calloc(n_outputs, sizeof *c->left_med);
    c->right_med = calloc(n_outputs, sizeof *c->right_med);
    c->node_medians = calloc(n_outputs, sizeof *c->node_medians);
    if (!c->left_med || !c->right_med || !c->node_medians) return -1;
    for (size_t k = 0; k < n_outputs; k++)
        if (wmed_init(&c->left_med[k], n_rows) || wmed_init(&c->right_med[k], n_rows)) return -1;
    return 0;
}

void bt_criterion_free(bt_criterion *c) {
    free(c->yi);
    free(c->wy);
    free(c->sum_total);
    free(c->sum_left);
    free(c->sum_right);
    for (size_t k = 0; c->left_med && k < c->n_outputs; k++) wmed_free(&c->left_med[k]);
    for (size_t k = 0; c->right_med && k < c->n_outputs; k++) wmed_free(&c->right_med[k]);
    free(c->left_med);
    free(c->right_med);
    free(c->node_medians);
    memset(c, 0, sizeof *c);
}

/* ------------------------------------------------------ bookkeeping */

static void mae_reset(bt_criterion *c, bt_wmed *from, bt_wmed *to) {
    for (size_t k = 0; k < c->n_outputs; k++) {
        size_t n = from[k].size;
        double v, w;
        for (size_t i = 0; i < n; i++)
            if (!wmed_pop(&from[k], &v, &w)) wmed_push(&to[k], v, w);
    }
}

void bt_crit_reset(bt_criterion *c) {
    c->pos = c->start;
    c->wl = 0.0;
    c->wr = c->wnn;
    if (c->kind == BT_MAE) {
        mae_reset(c, c->left_med, c->right_med);
        return;
    }
    size_t cells = c->n_outputs * c->stride;
    memset(c->sum_left, 0, cells * sizeof *c->sum_left);
    memcpy(c->sum_right, c->sum_total, cells * sizeof *c->sum_right);
}

static void reverse_reset(bt_criterion *c) {
    c->pos = c->end;
    c->wl = c->wnn;
    c->wr = 0.0;
    if (c->kind == BT_MAE) {
        mae_reset(c, c->right_med, c->left_med);
        return;
    }
    size_t cells = c->n_outputs * c->stride;
    memset(c->sum_right, 0, cells * sizeof *c->sum_right);
    memcpy(c->sum_left, c->sum_total, cells * sizeof *c->sum_left);
}

double bt_crit_node(bt_criterion *c, const int32_t *samples, size_t start, size_t end) {
    c->samples = samples;
    c->start = start;
    c->end = end;
    c->wnn = 0.0;
    size_t cells = c->n_outputs * c->stride;
    if (c->kind == BT_MAE) {
        for (size_t k = 0; k < c->n_outputs; k++) {
            wmed_reset(&c->left_med[k]);
            wmed_reset(&c->right_med[k]);
        }
        for (size_t p = start; p < end; p++) {
            int32_t i = samples[p];
            double w = weight(c, i);
            for (size_t k = 0; k < c->n_outputs; k++) wmed_push(&c->right_med[k], yv(c, i, k), w);
            c->wnn += w;
        }
        for (size_t k = 0; k < c->n_outputs; k++) c->node_medians[k] = wmed_median(&c->right_med[k]);
    } else if (c->classification) {
        memset(c->sum_total, 0, cells * sizeof *c->sum_total);
        for (size_t p = start; p < end; p++) {
            int32_t i = samples[p];
            double w = weight(c, i);
            for (size_t k = 0; k < c->n_outputs; k++) c->sum_total[k * c->stride + (size_t)c->yi[(size_t)i * c->n_outputs + k]] += w;
            c->wnn += w;
        }
    } else {
        memset(c->sum_total, 0, cells * sizeof *c->sum_total);
        c->sq_sum_total = 0.0;
        for (size_t p = start; p < end; p++) {
            int32_t i = samples[p];
            double w = weight(c, i);
            for (size_t k = 0; k < c->n_outputs; k++) {
                double y = yv(c, i, k), wy = w * y;
                c->sum_total[k] += wy;
                c->sq_sum_total += wy * y;
            }
            c->wnn += w;
        }
    }
    bt_crit_reset(c);
    return c->wnn;
}

/* Adds (sign +1) or subtracts (-1) sample i into sum_left. */
static void move_left(bt_criterion *c, int32_t i, double sign) {
    double w = weight(c, i);
    for (size_t k = 0; k < c->n_outputs; k++) {
        if (c->classification) {
            double *cell = &c->sum_left[k * c->stride + (size_t)c->yi[(size_t)i * c->n_outputs + k]];
            *cell = sign > 0 ? *cell + w : *cell - w;
        } else {
            double wy = w * yv(c, i, k);
            c->sum_left[k] = sign > 0 ? c->sum_left[k] + wy : c->sum_left[k] - wy;
        }
    }
    c->wl = sign > 0 ? c->wl + w : c->wl - w;
}

static void mae_move(bt_criterion *c, int32_t i, bt_wmed *from, bt_wmed *to, double sign) {
    double w = weight(c, i);
    for (size_t k = 0; k < c->n_outputs; k++) {
        wmed_remove(&from[k], yv(c, i, k), w);
        wmed_push(&to[k], yv(c, i, k), w);
    }
    c->wl = sign > 0 ? c->wl + w : c->wl - w;
}

/* The common case, one output of classes: the same additions as
 * move_left, without its loops and branches. */
static void update_classes1(bt_criterion *c, size_t new_pos) {
    const int32_t *s = c->samples;
    const bt_wy *wy = c->wy, *pay = c->pay ? c->pay - c->start : NULL;
    double *sl = c->sum_left, wl = c->wl;
    if (new_pos - c->pos <= c->end - new_pos) {
        for (size_t p = c->pos; p < new_pos; p++) {
            const bt_wy *r = pay ? &pay[p] : &wy[s[p]];
            sl[r->y] += r->w;
            wl += r->w;
        }
    } else {
        reverse_reset(c);
        wl = c->wl;
        for (size_t p = c->end; p-- > new_pos;) {
            const bt_wy *r = pay ? &pay[p] : &wy[s[p]];
            sl[r->y] -= r->w;
            wl -= r->w;
        }
    }
    c->wl = wl;
    c->wr = c->wnn - wl;
    for (size_t j = 0; j < c->stride; j++) c->sum_right[j] = c->sum_total[j] - sl[j];
    c->pos = new_pos;
}

void bt_crit_update(bt_criterion *c, size_t new_pos) {
    const int32_t *s = c->samples;
    if (c->classification && c->n_outputs == 1) {
        update_classes1(c, new_pos);
        return;
    }
    if (new_pos - c->pos <= c->end - new_pos) {
        for (size_t p = c->pos; p < new_pos; p++) {
            if (c->kind == BT_MAE) mae_move(c, s[p], c->right_med, c->left_med, 1);
            else move_left(c, s[p], 1);
        }
    } else {
        reverse_reset(c);
        for (size_t p = c->end; p-- > new_pos;) {
            if (c->kind == BT_MAE) mae_move(c, s[p], c->left_med, c->right_med, -1);
            else move_left(c, s[p], -1);
        }
    }
    c->wr = c->wnn - c->wl;
    if (c->kind != BT_MAE)
        for (size_t j = 0; j < c->n_outputs * c->stride; j++) c->sum_right[j] = c->sum_total[j] - c->sum_left[j];
    c->pos = new_pos;
}

/* --------------------------------------------------------- impurity */

static double gini(const bt_criterion *c, const double *sums, double wt) {
    double g = 0.0;
    for (size_t k = 0; k < c->n_outputs; k++) {
        double sq = 0.0;
        for (size_t cl = 0; cl < c->n_classes[k]; cl++) {
            double n = sums[k * c->stride + cl];
            sq += n * n;
        }
        g += 1.0 - sq / (wt * wt);
    }
    return g / (double)c->n_outputs;
}

static double entropy(const bt_criterion *c, const double *sums, double wt) {
    double e = 0.0;
    for (size_t k = 0; k < c->n_outputs; k++)
        for (size_t cl = 0; cl < c->n_classes[k]; cl++) {
            double n = sums[k * c->stride + cl];
            if (n > 0.0) {
                n /= wt;
                e -= n * log2s(n);
            }
        }
    return e / (double)c->n_outputs;
}

static double xlogy(double a, double b) { return a == 0.0 && !isnan(b) ? 0.0 : a * log(b); }

static double poisson_loss(const bt_criterion *c, size_t start, size_t end, const double *sums, double wt) {
    double loss = 0.0;
    for (size_t k = 0; k < c->n_outputs; k++) {
        if (sums[k] <= EPS10) return INFINITY;
        double mean = sums[k] / wt;
        for (size_t p = start; p < end; p++) {
            int32_t i = c->samples[p];
            double y = yv(c, i, k);
            loss += weight(c, i) * xlogy(y, y / mean);
        }
    }
    return loss / (wt * (double)c->n_outputs);
}

static double mae_range(const bt_criterion *c, size_t start, size_t end, const bt_wmed *meds, const double *fixed,
                        double wt) {
    double total = 0.0;
    for (size_t k = 0; k < c->n_outputs; k++) {
        double med = fixed ? fixed[k] : wmed_median(&meds[k]);
        for (size_t p = start; p < end; p++) {
            int32_t i = c->samples[p];
            total += fabs(yv(c, i, k) - med) * weight(c, i);
        }
    }
    return total / (wt * (double)c->n_outputs);
}

double bt_crit_node_impurity(bt_criterion *c) {
    switch (c->kind) {
    case BT_GINI: return gini(c, c->sum_total, c->wnn);
    case BT_ENTROPY: return entropy(c, c->sum_total, c->wnn);
    case BT_POISSON: return poisson_loss(c, c->start, c->end, c->sum_total, c->wnn);
    case BT_MAE: return mae_range(c, c->start, c->end, NULL, c->node_medians, c->wnn);
    default: break;
    }
    double imp = c->sq_sum_total / c->wnn;
    for (size_t k = 0; k < c->n_outputs; k++) {
        double m = c->sum_total[k] / c->wnn;
        imp -= m * m;
    }
    return imp / (double)c->n_outputs;
}

static void mse_children(bt_criterion *c, double *left, double *right) {
    double sql = 0.0;
    for (size_t p = c->start; p < c->pos; p++) {
        int32_t i = c->samples[p];
        double w = weight(c, i);
        for (size_t k = 0; k < c->n_outputs; k++) {
            double y = yv(c, i, k);
            sql += w * y * y;
        }
    }
    double sqr = c->sq_sum_total - sql;
    double il = sql / c->wl, ir = sqr / c->wr;
    for (size_t k = 0; k < c->n_outputs; k++) {
        double ml = c->sum_left[k] / c->wl, mr = c->sum_right[k] / c->wr;
        il -= ml * ml;
        ir -= mr * mr;
    }
    *left = il / (double)c->n_outputs;
    *right = ir / (double)c->n_outputs;
}

void bt_crit_children_impurity(bt_criterion *c, double *left, double *right) {
    switch (c->kind) {
    case BT_GINI:
        *left = gini(c, c->sum_left, c->wl);
        *right = gini(c, c->sum_right, c->wr);
        return;
    case BT_ENTROPY:
        *left = entropy(c, c->sum_left, c->wl);
        *right = entropy(c, c->sum_right, c->wr);
        return;
    case BT_POISSON:
        *left = poisson_loss(c, c->start, c->pos, c->sum_left, c->wl);
        *right = poisson_loss(c, c->pos, c->end, c->sum_right, c->wr);
        return;
    case BT_MAE:
        *left = mae_range(c, c->start, c->pos, c->left_med, NULL, c->wl);
        *right = mae_range(c, c->pos, c->end, c->right_med, NULL, c->wr);
        return;
    default: mse_children(c, left, right);
    }
}

/* gini() for one output, the same operations: (0.0 + (1.0 - sq / (W*W))) / 1.0
 * is 1.0 - sq / (W*W) exactly (1.0 - x is never -0.0). */
static double gini1(const double *sums, size_t n_classes, double wt) {
    double sq = 0.0;
    for (size_t cl = 0; cl < n_classes; cl++) sq += sums[cl] * sums[cl];
    return 1.0 - sq / (wt * wt);
}

double bt_crit_proxy(bt_criterion *c) {
    if (c->kind == BT_GINI && c->n_outputs == 1) {
        size_t nc = c->n_classes[0];
        return (-c->wr * gini1(c->sum_right, nc, c->wr)) - c->wl * gini1(c->sum_left, nc, c->wl);
    }
    if (c->kind == BT_MSE) {
        double pl = 0.0, pr = 0.0;
        for (size_t k = 0; k < c->n_outputs; k++) {
            pl += c->sum_left[k] * c->sum_left[k];
            pr += c->sum_right[k] * c->sum_right[k];
        }
        return pl / c->wl + pr / c->wr;
    }
    if (c->kind == BT_FRIEDMAN_MSE) {
        double tl = 0.0, tr = 0.0;
        for (size_t k = 0; k < c->n_outputs; k++) {
            tl += c->sum_left[k];
            tr += c->sum_right[k];
        }
        double d = c->wr * tl - c->wl * tr;
        return d * d / (c->wl * c->wr);
    }
    if (c->kind == BT_POISSON) {
        double pl = 0.0, pr = 0.0;
        for (size_t k = 0; k < c->n_outputs; k++) {
            if (c->sum_left[k] <= EPS10 || c->sum_right[k] <= EPS10) return -INFINITY;
            pl -= c->sum_left[k] * log2s(c->sum_left[k] / c->wl);
            pr -= c->sum_right[k] * log2s(c->sum_right[k] / c->wr);
        }
        return -pl - pr;
    }
    double l, r;
    bt_crit_children_impurity(c, &l, &r);
    return (-c->wr * r) - c->wl * l;
}

double bt_crit_improvement(bt_criterion *c, double parent, double left, double right) {
    if (c->kind == BT_FRIEDMAN_MSE) {
        double tl = 0.0, tr = 0.0;
        for (size_t k = 0; k < c->n_outputs; k++) {
            tl += c->sum_left[k];
            tr += c->sum_right[k];
        }
        double d = (c->wr * tl - c->wl * tr) / (double)c->n_outputs;
        return d * d / (c->wl * c->wr * c->wnn);
    }
    return (c->wnn / c->wns) * (parent - (c->wr / c->wnn * right) - (c->wl / c->wnn * left));
}

void bt_crit_node_value(bt_criterion *c, double *dest) {
    if (c->kind == BT_MAE) {
        memcpy(dest, c->node_medians, c->n_outputs * sizeof *dest);
        return;
    }
    if (!c->classification) {
        for (size_t k = 0; k < c->n_outputs; k++) dest[k] = c->sum_total[k] / c->wnn;
        return;
    }
    for (size_t k = 0; k < c->n_outputs; k++)
        for (size_t cl = 0; cl < c->stride; cl++) {
            double v = cl < c->n_classes[k] ? c->sum_total[k * c->stride + cl] : 0.0;
            dest[k * c->stride + cl] = c->fractions && cl < c->n_classes[k] ? v / c->wnn : v;
        }
}
