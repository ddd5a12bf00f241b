/* mem.h — large blocks on huge pages.
 *
 * Faulting in fresh memory 4 KiB at a time costs about as much as filling
 * it (tens of milliseconds for a 100 MB model on a virtual machine).  A
 * block from bi_huge_map is one anonymous mapping advised to use 2 MiB
 * pages where the kernel allows, so it faults in 512 times less often.
 * Small blocks, and sanitizer builds (where ASan should see one allocation
 * per array), get NULL: the caller then uses malloc. */
#ifndef BRINE_IO_MEM_H
#define BRINE_IO_MEM_H

#include <stddef.h>

/* BI_SANITIZED: an AddressSanitizer build, where allocators keep one
 * allocation per object so ASan sees overflows between them. */
#if defined(__SANITIZE_ADDRESS__)
#define BI_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BI_SANITIZED 1
#endif
#endif

/* Blocks below this are not worth a mapping of their own. */
#define BI_HUGE_MIN ((size_t)4 << 20)

/* size zeroed, writable bytes (page-aligned), or NULL when size is below
 * BI_HUGE_MIN, the build has a sanitizer, or mapping fails. */
void *bi_huge_map(size_t size);
/* Advises the whole pages inside [p, p + size) of a block that malloc or
 * realloc gave (a large one is a mapping of its own) to use huge pages; a
 * hint, nothing when size is below BI_HUGE_MIN or under a sanitizer. */
void bi_huge_advise(void *p, size_t size);
/* size zeroed, writable bytes whose pages are all faulted in by this one
 * call (MAP_POPULATE), or NULL under a sanitizer or when mapping fails.  A
 * page fault cost ~11 us on the benchmark VM and populating ~1 us a page,
 * so a block that will be written anyway (an arena's next chunk) is cheaper
 * mapped this way. */
void *bi_populated_map(size_t size);
/* Releases a block from bi_huge_map or bi_populated_map (NULL is ignored). */
void bi_unmap(void *p, size_t size);

#endif
