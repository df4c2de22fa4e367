//! How the process uses memory.

/// glibc's malloc gives each thread that allocates its own arena, up to eight per core, and an
/// arena keeps the memory freed into it. Here a dozen threads (workers, the blocking threads that
/// run SQLite, the writer) each grew an arena to their own peak, and the resident size followed:
/// 61 MB at the end of a benchmark run, against 52 MB with two arenas at the same throughput
/// (bench/RESULTS.md). Small allocations still go through each thread's lock-free cache.
pub const MALLOC_ARENAS: i32 = 2;

/// Bounds malloc's arenas. Call first thing in `main`, before any thread starts.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn bound_malloc_arenas() {
    // SAFETY: mallopt only sets a tunable of the allocator; called before any other thread
    // exists, nothing can be allocating concurrently. Its return value (1 on success) is not
    // worth failing start-up for: the default is merely larger.
    #[expect(unsafe_code)]
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, MALLOC_ARENAS);
    }
}

/// Other allocators bound themselves.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn bound_malloc_arenas() {}
