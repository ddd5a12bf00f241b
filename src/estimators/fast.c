/* fast.c — the inference engine of trees and forests.
 *
 * At load each tree gets a compact copy of its nodes (be_fnode, 12 bytes):
 * breadth-first so the top levels share cache lines, children adjacent so a
 * decision is one add, the float64 threshold t replaced by the largest float
 * t32 <= t.  Every input x is a float (sklearn converts X to float32), and
 * for a float x:  x <= t  =>  x is a float not above t  =>  x <= t32; and
 * x <= t32 <= t.  So `x <= t32` decides exactly as sklearn's
 * `(double)x <= t`, also for t beyond float's range (t32 = FLT_MAX or -inf)
 * and NaN thresholds (t32 NaN: both sides false).  A NaN *input* takes the
 * side its node records (sklearn >= 1.3), which the compact nodes do not
 * keep: blocks holding a NaN walk the loaded nodes (be_tree_apply).
 *
 * Prediction runs over blocks of rows: for each tree in estimator order,
 * all rows of the block find their leaf (LANES rows walk in lockstep, so
 * their memory loads overlap), then each row adds that leaf's row.  Every
 * output row therefore sums its trees in sklearn's order whatever the block
 * or thread, and is bit-identical to the row-by-row path.  Threads take
 * contiguous ranges of blocks; they share only the read-only model and
 * write disjoint output rows. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "estimators/estimator.h"
#include "io/error.h"
#include "io/mem.h"
#include "io/threads.h"

/* Most rows per block, the unit of work of a thread (and of the scratch
 * that predict of a classifier forest needs). */
#define BLOCK_ROWS 16384
/* Fewest rows worth a thread of their own. */
#define MIN_SHARE 256
/* Rows that walk a group of trees together: with 20 features 80 KiB. */
#define SLICE_ROWS 4096
/* Compact nodes of one group of trees: half of a common L2. */
#define GROUP_BYTES ((size_t)512 * 1024)
/* Rows walking one tree in lockstep (fast_leaves spells out each lane):
 * 16 overlap more loads than 8 (85 against 96 ms for the bench's batch),
 * though the group waits for its deepest row. */
#define LANES 16
/* Trees one row walks in lockstep when it has no rows to walk beside. */
#define TREE_LANES 16

/* ------------------------------------------------------ bulk memory */

/* A forest's per-node arrays are most of a model; they come from one
 * block on huge pages (io/mem.h) where the model is large enough, else
 * from the arena.  Above BULK_MAX (a hostile class count, say) a block is
 * not attempted and the arena serves, failing where the real allocation
 * would. */
#define BULK_MAX ((size_t)1 << 40)

size_t be_bulk_tree_bytes(size_t n, size_t n_outputs, size_t max_classes) {
    /* compact nodes and both maps; a copy of the records (64 bytes at most)
     * and of the values when the file is not kept; probabilities and
     * labels; each rounded up to 16 bytes.  Only what is used is touched. */
    size_t per = sizeof(be_fnode) + 2 * 4 + 64 + n_outputs * (2 * max_classes * 8 + 4);
    return n * per + 10 * 16;
}

void be_bulk_reserve(brine_model *m, size_t bytes) {
    if (m->bulk || bytes > BULK_MAX) return;
    m->bulk = bi_huge_map(bytes);
    m->bulk_size = m->bulk ? bytes : 0;
    m->bulk_used = 0;
}

void be_bulk_reserve_tree(size_t *total, const bv *tree, size_t n_outputs, size_t max_classes) {
    const bv *state = tree && tree->kind == BRINE_OBJECT ? tree->u.obj.state : NULL;
    const bv_array *nodes = state && state->kind == BRINE_DICT ? be_array(bv_dict_get(state, "nodes")) : NULL;
    /* The records are in memory already, so this is a small multiple of
     * what the file holds, never a count the file merely claims. */
    if (!nodes || nodes->count < 0 || !nodes->data) return;
    size_t add = be_bulk_tree_bytes((size_t)nodes->count, n_outputs, max_classes);
    *total = add > SIZE_MAX / 4 - *total ? SIZE_MAX / 4 : *total + add;
}

void *be_bulk_alloc(brine_model *m, size_t n, size_t size) {
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) return NULL;
    total = total ? (total + 15) & ~(size_t)15 : 16;
    if (m->bulk && total <= m->bulk_size - m->bulk_used) {
        void *p = (uint8_t *)m->bulk + m->bulk_used; /* fresh anonymous pages are zero */
        m->bulk_used += total;
        return p;
    }
    return be_alloc(m, n, size);
}

void be_bulk_free(brine_model *m) {
    bi_unmap(m->bulk, m->bulk_size);
    m->bulk = NULL;
}

/* ------------------------------------------------------------- layout */

float be_fast_threshold(double t) {
    if (isnan(t)) return (float)t;
    float f = (float)t; /* nearest; may round up, or overflow to +inf */
    if ((double)f > t) {
        /* One float down (nextafterf toward -inf, without the call): the
         * bits of a positive float (+inf included) step down by one, those
         * of a negative one up; zero steps to the smallest negative. */
        uint32_t b;
        memcpy(&b, &f, sizeof b);
        b = f == 0.0f ? 0x80000001u : f > 0.0f ? b - 1 : b + 1;
        memcpy(&f, &b, sizeof f);
    }
    return f;
}

brine_status be_fast_alloc(brine_model *m, be_tree *t) {
    size_t n = t->node_count;
    t->fast = be_bulk_alloc(m, n, sizeof *t->fast);
    t->fast_orig = be_bulk_alloc(m, n, sizeof *t->fast_orig);
    t->fast_pos = be_bulk_alloc(m, n, sizeof *t->fast_pos);
    if (!t->fast || !t->fast_orig || !t->fast_pos) return BRINE_E_NOMEM;
    return BRINE_OK;
}

/* The node index of the node placed before compact position c whose
 * children sit at compact position p (an error's words only). */
static int32_t earlier_parent(const be_tree *t, size_t c, uint32_t p) {
    uint32_t pair = p - !(p & 1); /* left children sit at odd positions */
    for (size_t k = 0; k < c; k++)
        if (t->fast[k].next == pair && pair != k) return t->fast_orig[k];
    return -1;
}

brine_status be_fast_walk(const brine_model *m, be_tree *t, const be_raw_node *raw, const char *field,
                          brine_error *err) {
    size_t n = t->node_count;
    /* Breadth-first from the root, placing each node where it is reached:
     * a node reached twice has two parents (or closes a cycle), and a node
     * never reached hangs off no root, so after the walk every node sits
     * exactly once.  raw holds the records as checked one by one (children
     * in 1..n-1 and distinct, or both -1; features in range).  fast_pos
     * starts zeroed and gets a node's place when it is reached; no child is
     * node 0, so a child whose place is not 0 was reached before. */
    brine_status st = BRINE_OK;
    size_t placed = 1, level_end = 1;
    uint32_t depth = 0;
    t->fast_orig[0] = 0;
    t->fast_pos[0] = 0;
    for (size_t c = 0; c < placed; c++) {
        if (c == level_end) { /* the nodes of the next level start here */
            depth++;
            level_end = placed;
        }
        const be_raw_node *q = &raw[t->fast_orig[c]];
        if (q->left < 0) {
            t->fast[c] = (be_fnode){INFINITY, 0, (uint32_t)c};
            continue;
        }
        const int32_t kids[2] = {q->left, q->right};
        for (int k = 0; k < 2; k++) {
            if (t->fast_pos[kids[k]])
                return be_fail(err, m, "%s.nodes[%d] has two parents (nodes[%d] and nodes[%d])", field, kids[k],
                               earlier_parent(t, c, (uint32_t)t->fast_pos[kids[k]]), t->fast_orig[c]);
            t->fast_pos[kids[k]] = (int32_t)(placed + (size_t)k);
        }
        /* Both children were unplaced and differ, so placed + 2 <= n. */
        t->fast[c] = (be_fnode){q->thr, (uint32_t)q->feature, (uint32_t)placed};
        t->fast_orig[placed] = kids[0];
        t->fast_orig[placed + 1] = kids[1];
        placed += 2;
    }
    if (placed != n)
        st = be_fail(err, m, "%s: %zu of its %zu nodes are not reached from the root (a cycle or a detached part)",
                     field, n - placed, n);
    t->depth = depth;
    return st;
}

/* ---------------------------------------------------------- leaf finding */

/* One step of one lane: to the child the row's value picks (a leaf stays). */
#define STEP(k)                                                                              \
    do {                                                                                     \
        const be_fnode *q_ = &nd[a##k];                                                      \
        a##k = q_->next + (uint32_t)!(x##k[q_->feature] <= q_->thr);                          \
    } while (0)

/* The lanes' rows, nodes and leaf checks, spelled out for LANES == 16. */
#define EACH_LANE(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7) M(8) M(9) M(10) M(11) M(12) M(13) M(14) M(15)
_Static_assert(LANES == 16, "EACH_LANE names one lane per row of a group");
#define LANE_ROW(k) const float *x##k = x + (r + k) * stride;
#define LANE_START(k) uint32_t a##k = 0;
#define LANE_STEP(k) STEP(k);
#define LANE_ON_LEAF(k) &&nd[a##k].next == a##k
#define LANE_LEAF(k) leaf[r + k] = orig[a##k];

/* Leaves (node indices) of rows x[0..n) through the compact nodes: LANES
 * rows in lockstep, in registers, until all stand on leaves. */
static void fast_leaves(const be_tree *t, const float *x, size_t n, size_t stride, int32_t *leaf) {
    const be_fnode *nd = t->fast;
    const int32_t *orig = t->fast_orig;
    size_t r = 0;
    for (; r + LANES <= n; r += LANES) {
        EACH_LANE(LANE_ROW)
        EACH_LANE(LANE_START)
        for (uint32_t d = 0; d < t->depth; d += 2) {
            EACH_LANE(LANE_STEP)
            EACH_LANE(LANE_STEP)
            /* A lane on a leaf has next == its index; stop when all do. */
            if (1 EACH_LANE(LANE_ON_LEAF)) break;
        }
        EACH_LANE(LANE_LEAF)
    }
    for (; r < n; r++) {
        const float *xr = x + r * stride;
        uint32_t at = 0;
        while (nd[at].next != at) at = nd[at].next + (uint32_t)!(xr[nd[at].feature] <= nd[at].thr);
        leaf[r] = orig[at];
    }
}

static void exact_leaves(const be_tree *t, const float *x, size_t n, size_t stride, int32_t *leaf) {
    for (size_t r = 0; r < n; r++) leaf[r] = (int32_t)be_tree_apply(t, x + r * stride);
}

/* ------------------------------------------------------------- a block */

typedef struct job {
    const brine_model *m;
    brine_method method;
    const be_input *in;
    be_tree *const *trees;
    size_t n;
    int forest;
    brine_prediction *out;
    size_t cols;       /* classes over all outputs (classifiers) */
    size_t block;      /* rows per block */
    size_t b0, b1;     /* this worker's blocks */
    int32_t *leaf;     /* SLICE_ROWS scratch */
    double *acc;       /* block * cols scratch (forest predict of classifiers) */
} job;

static int has_nan(const float *x, size_t cells) {
    int any = 0;
    for (size_t i = 0; i < cells; i++) any |= x[i] != x[i];
    return any;
}

static void leaves_of(const job *j, const be_tree *t, const float *x, size_t rows, int exact) {
    if (exact) exact_leaves(t, x, rows, j->in->n_cols, j->leaf);
    else fast_leaves(t, x, rows, j->in->n_cols, j->leaf);
}

/* A single tree's answer for each row: its leaf's row, label or value. */
static void tree_slice(const job *j, size_t r0, size_t rows, int exact) {
    const be_tree *t = j->trees[0];
    brine_prediction *out = j->out;
    size_t no = t->n_outputs, mc = t->max_classes;
    leaves_of(j, t, j->in->x + r0 * j->in->n_cols, rows, exact);
    for (size_t r = 0; r < rows; r++) {
        size_t leaf = (size_t)j->leaf[r], row = r0 + r;
        if (j->method == BRINE_METHOD_APPLY) {
            out->indices[row] = (int64_t)leaf;
        } else if (j->method == BRINE_METHOD_PREDICT_PROBA) {
            double *dst = out->values + row * out->n_columns;
            for (size_t k = 0; k < no; k++) {
                memcpy(dst, t->proba + (leaf * no + k) * mc, t->n_classes[k] * sizeof *dst);
                dst += t->n_classes[k];
            }
        } else {
            for (size_t k = 0; k < no; k++) {
                if (j->m->cls->classifier) out->indices[row * no + k] = t->top[leaf * no + k];
                else out->values[row * no + k] = t->value[(leaf * no + k) * mc];
            }
        }
    }
}

static void tree_block(const job *j, size_t r0, size_t rows, int exact) {
    for (size_t s = 0; s < rows; s += SLICE_ROWS) tree_slice(j, r0 + s, rows - s < SLICE_ROWS ? rows - s : SLICE_ROWS, exact);
}

/* What tree e's leaves (j->leaf, rows r0.. of out, n rows) add to the
 * block's answer: its leaf index (apply), its value (regressors) or its
 * probability row (classifiers) into acc, whose row 0 is output row r0. */
static void add_tree(const job *j, size_t e, size_t r0, size_t n, const int32_t *leaf, double *acc) {
    const be_tree *t = j->trees[e];
    size_t no = t->n_outputs, mc = t->max_classes;
    if (j->method == BRINE_METHOD_APPLY) {
        for (size_t r = 0; r < n; r++) j->out->indices[(r0 + r) * j->n + e] = leaf[r];
    } else if (!j->m->cls->classifier) {
        for (size_t r = 0; r < n; r++)
            for (size_t k = 0; k < no; k++) acc[r * no + k] += t->value[((size_t)leaf[r] * no + k) * mc];
    } else {
        const size_t *nc = t->n_classes;
        for (size_t r = 0; r < n; r++) {
            double *dst = acc + r * j->cols;
            const double *p = t->proba + (size_t)leaf[r] * no * mc;
            for (size_t k = 0; k < no; k++, p += mc) {
                for (size_t c = 0; c < nc[k]; c++) dst[c] += p[c];
                dst += nc[k];
            }
        }
    }
}

/* Leaves of one row in trees[0..n) (n <= TREE_LANES), the trees walked in
 * lockstep: a row alone has no other rows to overlap its memory loads
 * with, but its trees are independent. */
static void tree_lanes(be_tree *const *trees, size_t n, const float *x, int32_t *leaf) {
    const be_fnode *nd[TREE_LANES];
    uint32_t at[TREE_LANES] = {0}, depth = 0;
    for (size_t k = 0; k < n; k++) {
        nd[k] = trees[k]->fast;
        if (trees[k]->depth > depth) depth = trees[k]->depth;
    }
    for (uint32_t d = 0; d < depth; d++) {
        uint32_t moved = 0;
        for (size_t k = 0; k < n; k++) {
            const be_fnode *q = &nd[k][at[k]];
            uint32_t to = q->next + (uint32_t)!(x[q->feature] <= q->thr);
            moved |= to ^ at[k];
            at[k] = to;
        }
        if (!moved) break;
    }
    for (size_t k = 0; k < n; k++) leaf[k] = trees[k]->fast_orig[at[k]];
}

/* A few rows: each row's leaves in all trees first (TREE_LANES trees at a
 * time), then added in tree order; the adds' loads are independent. */
static void few_rows(const job *j, size_t r0, size_t rows, double *acc, size_t w) {
    const float *x = j->in->x + r0 * j->in->n_cols;
    for (size_t r = 0; r < rows; r++) {
        for (size_t e0 = 0; e0 < j->n; e0 += SLICE_ROWS) {
            size_t m = j->n - e0 < SLICE_ROWS ? j->n - e0 : SLICE_ROWS;
            for (size_t k = 0; k < m; k += TREE_LANES)
                tree_lanes(j->trees + e0 + k, m - k < TREE_LANES ? m - k : TREE_LANES, x + r * j->in->n_cols,
                           j->leaf + k);
            for (size_t k = 0; k < m; k++) add_tree(j, e0 + k, r0 + r, 1, j->leaf + k, acc ? acc + r * w : NULL);
        }
    }
}

/* The trees over a block, tiled: a group of trees whose compact nodes fit
 * in L2 meets slices of rows that fit beside them, so neither is fetched
 * from memory again and again.  Groups go in estimator order, so each row
 * still adds its trees in sklearn's order.  acc: the block's sums, width w. */
static void all_trees(const job *j, size_t r0, size_t rows, int exact, double *acc, size_t w) {
    const float *x = j->in->x + r0 * j->in->n_cols;
    size_t stride = j->in->n_cols;
    if (rows < LANES && !exact) {
        few_rows(j, r0, rows, acc, w);
        return;
    }
    for (size_t g0 = 0, g1; g0 < j->n; g0 = g1) {
        size_t bytes = 0;
        for (g1 = g0; g1 < j->n && (g1 == g0 || bytes < GROUP_BYTES); g1++)
            bytes += j->trees[g1]->node_count * (sizeof(be_fnode) + sizeof(int32_t));
        for (size_t s = 0; s < rows; s += SLICE_ROWS) {
            size_t n = rows - s < SLICE_ROWS ? rows - s : SLICE_ROWS;
            for (size_t e = g0; e < g1; e++) {
                leaves_of(j, j->trees[e], x + s * stride, n, exact);
                add_tree(j, e, r0 + s, n, j->leaf, acc ? acc + s * w : NULL);
            }
        }
    }
}

static void forest_block(const job *j, size_t r0, size_t rows, int exact) {
    brine_prediction *out = j->out;
    size_t no = j->m->n_outputs;
    const double n = (double)j->n;
    if (j->method == BRINE_METHOD_APPLY) {
        all_trees(j, r0, rows, exact, NULL, 0);
    } else if (!j->m->cls->classifier) {
        double *acc = out->values + r0 * no;
        all_trees(j, r0, rows, exact, acc, no);
        for (size_t i = 0; i < rows * no; i++) acc[i] /= n;
    } else if (j->method == BRINE_METHOD_PREDICT_PROBA) {
        double *acc = out->values + r0 * j->cols;
        all_trees(j, r0, rows, exact, acc, j->cols);
        for (size_t i = 0; i < rows * j->cols; i++) acc[i] /= n;
    } else {
        memset(j->acc, 0, rows * j->cols * sizeof *j->acc);
        all_trees(j, r0, rows, exact, j->acc, j->cols);
        for (size_t i = 0; i < rows * j->cols; i++) j->acc[i] /= n;
        const size_t *nc = j->trees[0]->n_classes;
        for (size_t r = 0; r < rows; r++) {
            const double *row = j->acc + r * j->cols;
            for (size_t k = 0; k < no; k++) {
                out->indices[(r0 + r) * no + k] = (int64_t)be_argmax(row, nc[k]);
                row += nc[k];
            }
        }
    }
}

static void *work(void *arg) {
    const job *j = arg;
    const be_input *in = j->in;
    for (size_t b = j->b0; b < j->b1; b++) {
        size_t r0 = b * j->block, rows = in->n_rows - r0 < j->block ? in->n_rows - r0 : j->block;
        /* NaN reached the model only if it routes missing values; such a
         * block takes the exact path, which knows each node's side. */
        int exact = in->reference || (j->m->allow_nan && has_nan(in->x + r0 * in->n_cols, rows * in->n_cols));
        for (size_t e = 0; !exact && e < j->n; e++) exact = !j->trees[e]->fast;
        if (j->forest) forest_block(j, r0, rows, exact);
        else tree_block(j, r0, rows, exact);
    }
    return NULL;
}

/* ------------------------------------------------------------- threads */

static brine_status engine_run(const brine_model *m, brine_method method, const be_input *in, be_tree *const *trees,
                               size_t n, int forest, brine_prediction *out, brine_error *err);

/* predict_log_proba is sklearn's np.log(predict_proba(X)) (-inf for 0). */
brine_status be_engine_run(const brine_model *m, brine_method method, const be_input *in, be_tree *const *trees,
                           size_t n, int forest, brine_prediction *out, brine_error *err) {
    if (method != BRINE_METHOD_PREDICT_LOG_PROBA) return engine_run(m, method, in, trees, n, forest, out, err);
    brine_status st = engine_run(m, BRINE_METHOD_PREDICT_PROBA, in, trees, n, forest, out, err);
    for (size_t i = 0; !st && i < out->n_rows * out->n_columns; i++) out->values[i] = log(out->values[i]);
    return st;
}

static brine_status engine_run(const brine_model *m, brine_method method, const be_input *in, be_tree *const *trees,
                               size_t n, int forest, brine_prediction *out, brine_error *err) {
    /* Threads get equal shares of at least MIN_SHARE rows, cut in blocks. */
    size_t nt = in->n_threads > 1 ? (size_t)in->n_threads : 1;
    if (nt > (in->n_rows + MIN_SHARE - 1) / MIN_SHARE) nt = (in->n_rows + MIN_SHARE - 1) / MIN_SHARE;
    if (nt < 1) nt = 1;
    size_t block = (in->n_rows + nt - 1) / nt;
    if (block > BLOCK_ROWS) block = BLOCK_ROWS;
    if (block < 1) block = 1;
    size_t blocks = (in->n_rows + block - 1) / block;
    if (nt > blocks) nt = blocks ? blocks : 1;
    size_t cols = 0;
    for (size_t k = 0; m->classes && k < m->n_outputs; k++) cols += m->classes[k].n;
    job *jobs = calloc(nt, sizeof *jobs);
    brine_status st = BRINE_OK;
    if (!jobs) {
        st = bi_fail(err, BRINE_E_NOMEM, -1, "out of memory for %zu threads", nt);
        goto done;
    }
    /* Scratch is allocated before any thread starts, so no worker fails. */
    for (size_t w = 0; w < nt; w++) {
        jobs[w] = (job){m, method, in, trees, n, forest, out, cols, block, blocks * w / nt, blocks * (w + 1) / nt,
                        NULL, NULL};
        jobs[w].leaf = malloc(SLICE_ROWS * sizeof *jobs[w].leaf);
        jobs[w].acc = malloc(block * (cols ? cols : 1) * sizeof *jobs[w].acc);
        if (!jobs[w].leaf || !jobs[w].acc) {
            st = bi_fail(err, BRINE_E_NOMEM, -1, "out of memory for prediction scratch");
            goto done;
        }
    }
    bi_run_jobs(work, jobs, sizeof *jobs, nt);
done:
    for (size_t w = 0; jobs && w < nt; w++) {
        free(jobs[w].leaf);
        free(jobs[w].acc);
    }
    free(jobs);
    return st;
}
