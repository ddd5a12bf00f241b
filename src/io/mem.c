/* mem.c — large blocks on huge pages (see mem.h). */
#include "mem.h"

#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

void *bi_huge_map(size_t size) {
#ifndef BI_SANITIZED
    if (size < BI_HUGE_MIN) return NULL;
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, size, MADV_HUGEPAGE); /* a hint; without it the mapping still works */
#endif
    return p;
#else
    (void)size;
    return NULL;
#endif
}

void *bi_populated_map(size_t size) {
#ifndef BI_SANITIZED
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
#else
    (void)size;
    return NULL;
#endif
}

void bi_huge_advise(void *p, size_t size) {
#if !defined(BI_SANITIZED) && defined(MADV_HUGEPAGE)
    if (!p || size < BI_HUGE_MIN) return;
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0) return;
    uintptr_t mask = (uintptr_t)page - 1, start = ((uintptr_t)p + mask) & ~mask,
              end = ((uintptr_t)p + size) & ~mask;
    if (end > start) madvise((void *)start, end - start, MADV_HUGEPAGE);
#else
    (void)p;
    (void)size;
#endif
}

void bi_unmap(void *p, size_t size) {
    if (p) munmap(p, size);
}
