// Counting wrappers around glibc's allocator, linked into the benchmark
// executable only. The executable's definitions of malloc & co. take
// precedence over libc's for the whole process (including the Swift runtime
// and libsodium), and forward to glibc's exported __libc_* entry points, so
// the allocator itself is unchanged. While counting is on, each allocation
// costs one relaxed atomic increment more; while it is off (during timing),
// one well-predicted branch. free() is not wrapped (it is glibc's own).
// ss_heap_in_use() reads glibc's own bookkeeping (mallinfo2) for the bytes
// in use, for the memory-per-connection figure.
//
// Elsewhere (macOS, musl) nothing is replaced and the counter reports
// itself inactive; the benchmark then prints "n/a" for allocations.

#include "CMallocCounter.h"

#if defined(__linux__) && defined(__GLIBC__)

#include <errno.h>
#include <malloc.h>
#include <stddef.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);

static uint64_t allocations;
static int counting;

static inline void counted(void) {
    if (__builtin_expect(__atomic_load_n(&counting, __ATOMIC_RELAXED), 0)) {
        __atomic_fetch_add(&allocations, 1, __ATOMIC_RELAXED);
    }
}

void *malloc(size_t size) {
    counted();
    return __libc_malloc(size);
}

void *calloc(size_t count, size_t size) {
    counted();
    return __libc_calloc(count, size);
}

void *realloc(void *pointer, size_t size) {
    void *result = __libc_realloc(pointer, size);
    // Growing in place is not an allocation; a new block (or a first one) is.
    if (result != NULL && result != pointer) counted();
    return result;
}

static int is_valid_alignment(size_t alignment) {
    return alignment != 0 && (alignment & (alignment - 1)) == 0;
}

int posix_memalign(void **out, size_t alignment, size_t size) {
    if (!is_valid_alignment(alignment) || alignment % sizeof(void *) != 0) return EINVAL;
    counted();
    void *result = __libc_memalign(alignment, size);
    if (result == NULL) return ENOMEM;
    *out = result;
    return 0;
}

void *aligned_alloc(size_t alignment, size_t size) {
    if (!is_valid_alignment(alignment)) {
        errno = EINVAL;
        return NULL;
    }
    counted();
    return __libc_memalign(alignment, size);
}

void *memalign(size_t alignment, size_t size) {
    counted();
    return __libc_memalign(alignment, size);
}

uint64_t ss_malloc_count(void) {
    return __atomic_load_n(&allocations, __ATOMIC_RELAXED);
}

void ss_malloc_counting(int on) {
    __atomic_store_n(&counting, on != 0, __ATOMIC_RELAXED);
}

int ss_malloc_counter_is_active(void) { return 1; }

uint64_t ss_heap_in_use(void) {
    struct mallinfo2 info = mallinfo2();
    return (uint64_t)info.uordblks + (uint64_t)info.hblkhd;
}

#else

uint64_t ss_malloc_count(void) { return 0; }
void ss_malloc_counting(int on) { (void)on; }
int ss_malloc_counter_is_active(void) { return 0; }
uint64_t ss_heap_in_use(void) { return 0; }

#endif
