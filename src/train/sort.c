/* sort.c — sklearn's introsort of a node's feature values together with
 * their sample indices (TREES.md §6.2).  Any other sort orders ties
 * differently, and the order of samples inside a node fixes the summation
 * order of every criterion, so this is copied operation for operation:
 * median-of-three pivot, three-way partition, recursion on the lower part
 * only (depth bounded by 2 log2 n, then heapsort). */
#include <math.h>

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
