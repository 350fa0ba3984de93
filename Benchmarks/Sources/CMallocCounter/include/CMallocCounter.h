#ifndef SECURESTREAMS_BENCHMARKS_CMALLOCCOUNTER_H
#define SECURESTREAMS_BENCHMARKS_CMALLOCCOUNTER_H

#include <stdint.h>

/// Number of allocations (malloc, calloc, realloc of NULL or to a new block,
/// posix_memalign, aligned_alloc, memalign) made by the whole process while
/// counting was on. Only meaningful when ss_malloc_counter_is_active() returns 1.
uint64_t ss_malloc_count(void);

/// Turns counting on (nonzero) or off (0). Off by default, so timed code
/// pays one predictable branch per allocation, not an atomic increment.
void ss_malloc_counting(int on);

/// 1 when this build replaces the malloc family with counting wrappers
/// (Linux with glibc), 0 elsewhere.
int ss_malloc_counter_is_active(void);

#endif
