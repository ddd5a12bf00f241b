/* sort.c — sklearn's introsort of a node's feature values together with
 * their sample indices (TREES.md §6.2).  Any other sort orders ties
 * differently, and the order of samples inside a node fixes the summation
 * order of every criterion, so this is copied operation for operation:
 * median-of-three pivot, three-way partition, recursion on the lower part
 * only (depth bounded by 2 log2 n, then heapsort). */
#include <math.h>
#include <string.h>

#include "train/train.h"

static void swap(float *v, int32_t *s, size_t i, size_t j) {
    float t = v[i];
    v[i] = v[j];
    v[j] = t;
    int32_t u = s[i];
    s[i] = s[j];
    s[j] = u;
}

static float median3(const float *v, size_t n) {
    float a = v[0], b = v[n / 2], c = v[n - 1];
    if (a < b) {
        if (b < c) return b;
        return a < c ? c : a;
    }
    if (b < c) return a < c ? a : c;
    return b;
}

static void sift_down(float *v, int32_t *s, size_t root, size_t end) {
    for (;;) {
        size_t child = 2 * root + 1, m = root;
        if (child < end && v[m] < v[child]) m = child;
        if (child + 1 < end && v[m] < v[child + 1]) m = child + 1;
        if (m == root) return;
        swap(v, s, root, m);
        root = m;
    }
}

static void heapsort(float *v, int32_t *s, size_t n) {
    for (size_t start = (n - 2) / 2 + 1; start-- > 0;) sift_down(v, s, start, n);
    for (size_t end = n - 1; end > 0; end--) {
        swap(v, s, 0, end);
        sift_down(v, s, 0, end);
    }
}

/* The recursion depth is bounded by maxd (2 log2 n < 128). */
static void introsort(float *v, int32_t *s, size_t n, int maxd) {
    while (n > 1) {
        if (maxd <= 0) {
            heapsort(v, s, n);
            return;
        }
        maxd--;
        float pivot = median3(v, n);
        size_t i = 0, l = 0, r = n;
        while (i < r) {
            if (v[i] < pivot) swap(v, s, i++, l++);
            else if (v[i] > pivot) swap(v, s, i, --r);
            else i++;
        }
        introsort(v, s, l, maxd);
        v += r;
        s += r;
        n -= r;
    }
}

void bt_sort(float *values, int32_t *samples, size_t n) {
    if (n == 0) return;
    int maxd = 2 * (int)(log((double)n) / log(2.0));
    introsort(values, samples, n, maxd);
}

/* ------------------------------------------------- order-free sorting */

/* A float's bits as an unsigned key in the same order (no NaN here;
 * callers keep -0.0 out, so equal floats have equal keys). */
static uint32_t float_key(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return (u & 0x80000000u) ? ~u : u | 0x80000000u;
}

static void insertion_sort(float *v, int32_t *s, bt_wy *pay, size_t n) {
    for (size_t i = 1; i < n; i++) {
        float x = v[i];
        int32_t y = s[i];
        bt_wy q = pay[i];
        size_t j = i;
        while (j > 0 && v[j - 1] > x) {
            v[j] = v[j - 1];
            s[j] = s[j - 1];
            pay[j] = pay[j - 1];
            j--;
        }
        v[j] = x;
        s[j] = y;
        pay[j] = q;
    }
}

void bt_sort_unordered(float *values, int32_t *samples, bt_wy *pay, size_t n, bt_sort_buf *buf) {
    if (n < 64) {
        insertion_sort(values, samples, pay, n);
        return;
    }
    uint32_t *key = buf->key, *key2 = buf->key2;
    int32_t *s2 = buf->samples2;
    bt_wy *src_p = pay, *dst_p = buf->pay2;
    size_t hist[3][2048];
    memset(hist, 0, sizeof hist);
    for (size_t i = 0; i < n; i++) {
        uint32_t k = key[i] = float_key(values[i]);
        hist[0][k & 2047]++;
        hist[1][(k >> 11) & 2047]++;
        hist[2][k >> 22]++;
    }
    int32_t *src_s = samples, *dst_s = s2;
    uint32_t *src_k = key, *dst_k = key2;
    for (int d = 0; d < 3; d++) {
        unsigned shift = 11u * (unsigned)d;
        uint32_t first = (src_k[0] >> shift) & 2047;
        if (hist[d][first] == n) continue; /* this digit is the same everywhere */
        size_t pos = 0;
        for (size_t b = 0; b < 2048; b++) {
            size_t c = hist[d][b];
            hist[d][b] = pos;
            pos += c;
        }
        for (size_t i = 0; i < n; i++) {
            size_t at = hist[d][(src_k[i] >> shift) & 2047]++;
            dst_k[at] = src_k[i];
            dst_s[at] = src_s[i];
            dst_p[at] = src_p[i];
        }
        bt_wy *tp = src_p;
        src_p = dst_p;
        dst_p = tp;
        uint32_t *tk = src_k;
        src_k = dst_k;
        dst_k = tk;
        int32_t *ts = src_s;
        src_s = dst_s;
        dst_s = ts;
    }
    if (src_s != samples) memcpy(samples, src_s, n * sizeof *samples);
    if (src_p != pay) memcpy(pay, src_p, n * sizeof *pay);
    for (size_t i = 0; i < n; i++) {
        uint32_t k = src_k[i], u = (k & 0x80000000u) ? k & 0x7fffffffu : ~k;
        memcpy(&values[i], &u, sizeof u);
    }
}
