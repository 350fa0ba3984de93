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

/// Heap bytes in use now, from glibc's mallinfo2(): bytes in allocated
/// chunks of the main arena (uordblks, chunk headers included) plus bytes
/// in mmapped blocks (hblkhd). Single-threaded use only (other threads'
/// arenas are not counted); 0 where ss_malloc_counter_is_active() is 0.
uint64_t ss_heap_in_use(void);

#endif
