/* builder.c — sklearn's two tree builders (TREES.md §5): depth-first with
 * a LIFO stack (node ids in pre-order) and best-first with a frontier
 * driven by libstdc++'s push_heap/pop_heap, whose tie-breaking decides
 * which of two equally good leaves is expanded first. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train/train.h"

static const double EPSILON = 2.220446049250313e-16;

void bt_tree_free(bt_tree *t) {
    free(t->left);
    free(t->right);
    free(t->feature);
    free(t->threshold);
    free(t->impurity);
    free(t->weighted_n);
    free(t->n_node_samples);
    free(t->value);
    memset(t, 0, sizeof *t);
}

static int grow(void **p, size_t cap, size_t size) {
    void *q = realloc(*p, cap * size);
    if (!q) return -1;
    *p = q;
    return 0;
}

static int tree_reserve(bt_tree *t) {
    if (t->node_count < t->cap) return 0;
    size_t cap = t->cap ? 2 * t->cap : 64;
    if (grow((void **)&t->left, cap, sizeof *t->left) || grow((void **)&t->right, cap, sizeof *t->right) ||
        grow((void **)&t->feature, cap, sizeof *t->feature) ||
        grow((void **)&t->threshold, cap, sizeof *t->threshold) ||
        grow((void **)&t->impurity, cap, sizeof *t->impurity) ||
        grow((void **)&t->weighted_n, cap, sizeof *t->weighted_n) ||
        grow((void **)&t->n_node_samples, cap, sizeof *t->n_node_samples) ||
        grow((void **)&t->value, cap * t->value_stride, sizeof *t->value))
        return -1;
    t->cap = cap;
    return 0;
}

static void make_leaf(bt_tree *t, size_t id) {
    t->left[id] = t->right[id] = -1;
    t->feature[id] = -2;
    t->threshold[id] = -2.0;
}

/* Appends a node (sklearn's Tree._add_node) and stores its value; the id,
 * or -1 when out of memory. */
static int64_t add_node(bt_tree *t, bt_splitter *sp, int64_t parent, int is_left, int is_leaf, const bt_split *split,
                        double impurity, size_t n, double wnn) {
    if (tree_reserve(t)) return -1;
    size_t id = t->node_count++;
    if (parent >= 0) {
        if (is_left) t->left[parent] = (int64_t)id;
        else t->right[parent] = (int64_t)id;
    }
    if (is_leaf) {
        make_leaf(t, id);
    } else {
        t->left[id] = t->right[id] = -1; /* set when the children are added */
        t->feature[id] = (int64_t)split->feature;
        t->threshold[id] = split->threshold;
    }
    t->impurity[id] = impurity;
    t->n_node_samples[id] = (int64_t)n;
    t->weighted_n[id] = wnn;
    bt_crit_node_value(sp->crit, t->value + id * t->value_stride);
    return (int64_t)id;
}

static int early_leaf(const bt_build_params *p, size_t depth, size_t n, double wnn) {
    return (int64_t)depth >= p->max_depth || n < p->min_samples_split || n < 2 * p->min_samples_leaf ||
           wnn < 2 * p->min_weight_leaf;
}

/* ------------------------------------------------------- depth first */

typedef struct stack_rec {
    size_t start, end, depth;
    int64_t parent;
    int is_left;
    double impurity;
    size_t n_constant;
} stack_rec;

static int build_depth_first(bt_tree *t, bt_splitter *sp, const bt_build_params *p) {
    size_t cap = 64, top = 0;
    stack_rec *stack = malloc(cap * sizeof *stack);
    if (!stack) return -1;
    stack[top++] = (stack_rec){0, sp->n_samples, 0, -1, 0, INFINITY, 0};
    int first = 1, rc = 0;
    while (top > 0) {
        stack_rec r = stack[--top];
        size_t n = r.end - r.start;
        double wnn = bt_crit_node(sp->crit, sp->samples, r.start, r.end);
        int leaf = early_leaf(p, r.depth, n, wnn);
        double impurity = r.impurity;
        if (first) {
            impurity = bt_crit_node_impurity(sp->crit);
            first = 0;
        }
        leaf = leaf || impurity <= EPSILON;
        bt_split split = {r.end, 0, 0.0, -INFINITY, INFINITY, INFINITY};
        size_t n_constant = r.n_constant;
        if (!leaf) {
            bt_node_split(sp, r.start, r.end, impurity, &split, &n_constant);
            leaf = split.pos >= r.end || split.improvement + EPSILON < p->min_impurity_decrease;
        }
        int64_t id = add_node(t, sp, r.parent, r.is_left, leaf, &split, impurity, n, wnn);
        if (id < 0) {
            rc = -1;
            break;
        }
        if ((int64_t)r.depth > t->max_depth) t->max_depth = (int64_t)r.depth;
        if (leaf) continue;
        if (top + 2 > cap) {
            stack_rec *bigger = realloc(stack, 2 * cap * sizeof *stack);
            if (!bigger) {
                rc = -1;
                break;
            }
            stack = bigger;
            cap *= 2;
        }
        stack[top++] = (stack_rec){split.pos, r.end, r.depth + 1, id, 0, split.impurity_right, n_constant};
        stack[top++] = (stack_rec){r.start, split.pos, r.depth + 1, id, 1, split.impurity_left, n_constant};
    }
    free(stack);
    return rc;
}

/* -------------------------------------------------------- best first */

typedef struct frontier_rec {
    int64_t id;
    size_t start, end, pos, depth;
    int is_leaf;
    double impurity, impurity_left, impurity_right, improvement;
} frontier_rec;

static int less(const frontier_rec *a, const frontier_rec *b) { return a->improvement < b->improvement; }

/* std::__push_heap: the value climbs from hole while its parent is less. */
static void heap_climb(frontier_rec *h, size_t hole, frontier_rec value) {
    while (hole > 0) {
        size_t parent = (hole - 1) / 2;
        if (!less(&h[parent], &value)) break;
        h[hole] = h[parent];
        hole = parent;
    }
    h[hole] = value;
}

/* std::pop_heap on h[0..m): the maximum moves to h[m-1]. */
static void heap_pop(frontier_rec *h, size_t m) {
    if (m < 2) return;
    size_t last = m - 1, len = last;
    frontier_rec value = h[last];
    h[last] = h[0];
    size_t hole = 0, child = 0;
    while (len > 0 && child < (len - 1) / 2) {
        child = 2 * child + 2;
        if (less(&h[child], &h[child - 1])) child--;
        h[hole] = h[child];
        hole = child;
    }
    if ((len & 1) == 0 && len >= 2 && child == (len - 2) / 2) {
        child = 2 * child + 1;
        h[hole] = h[child];
        hole = child;
    }
    heap_climb(h, hole, value);
}

static int add_split_node(bt_tree *t, bt_splitter *sp, const bt_build_params *p, size_t start, size_t end,
                          double impurity, int is_first, int is_left, int64_t parent, size_t depth,
                          frontier_rec *res) {
    size_t n = end - start;
    double wnn = bt_crit_node(sp->crit, sp->samples, start, end);
    if (is_first) impurity = bt_crit_node_impurity(sp->crit);
    int leaf = early_leaf(p, depth, n, wnn) || impurity <= EPSILON;
    bt_split split = {end, 0, 0.0, -INFINITY, INFINITY, INFINITY};
    if (!leaf) {
        size_t n_constant = 0; /* best first never carries constants down */
        bt_node_split(sp, start, end, impurity, &split, &n_constant);
        leaf = split.pos >= end || split.improvement + EPSILON < p->min_impurity_decrease;
    }
    int64_t id = add_node(t, sp, parent, is_left, leaf, &split, impurity, n, wnn);
    if (id < 0) return -1;
    *res = (frontier_rec){id, start, end, leaf ? end : split.pos, depth, leaf, impurity,
                          leaf ? impurity : split.impurity_left, leaf ? impurity : split.impurity_right,
                          leaf ? 0.0 : split.improvement};
    return 0;
}

static int frontier_push(frontier_rec **h, size_t *m, size_t *cap, frontier_rec r) {
    if (*m == *cap) {
        size_t c = *cap ? 2 * *cap : 64;
        frontier_rec *bigger = realloc(*h, c * sizeof **h);
        if (!bigger) return -1;
        *h = bigger;
        *cap = c;
    }
    heap_climb(*h, (*m)++, r);
    return 0;
}

static int build_best_first(bt_tree *t, bt_splitter *sp, const bt_build_params *p) {
    frontier_rec *heap = NULL, rec, l, r;
    size_t m = 0, cap = 0;
    int64_t max_split = p->max_leaf_nodes - 1;
    int rc = add_split_node(t, sp, p, 0, sp->n_samples, INFINITY, 1, 1, -1, 0, &rec);
    if (!rc) rc = frontier_push(&heap, &m, &cap, rec);
    while (!rc && m > 0) {
        heap_pop(heap, m);
        rec = heap[--m];
        if (rec.is_leaf || max_split <= 0) {
            make_leaf(t, (size_t)rec.id);
        } else {
            max_split--;
            rc = add_split_node(t, sp, p, rec.start, rec.pos, rec.impurity_left, 0, 1, rec.id, rec.depth + 1, &l);
            if (!rc) rc = add_split_node(t, sp, p, rec.pos, rec.end, rec.impurity_right, 0, 0, rec.id, rec.depth + 1, &r);
            if (!rc) rc = frontier_push(&heap, &m, &cap, l);
            if (!rc) rc = frontier_push(&heap, &m, &cap, r);
        }
        if ((int64_t)rec.depth > t->max_depth) t->max_depth = (int64_t)rec.depth;
    }
    free(heap);
    return rc;
}

int bt_build(bt_tree *t, bt_splitter *sp, const bt_build_params *p) {
    memset(t, 0, sizeof *t);
    t->value_stride = sp->crit->n_outputs * sp->crit->stride;
    t->max_depth = -1;
    int rc = p->max_leaf_nodes < 0 ? build_depth_first(t, sp, p) : build_best_first(t, sp, p);
    if (!rc && t->max_depth < 0) t->max_depth = 0;
    return rc;
}
