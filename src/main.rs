use std::process::ExitCode;

// Polars and DuckDB allocate and free many short-lived buffers; mimalloc serves them faster
// than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    without_huge_pages();
    deskpulse::cli::main()
}

/// A run touches each buffer once and briefly. Transparent huge pages make the kernel zero
/// 2 MiB at the first touch of any byte in them: on a million tickets that was a sixth of the
/// run's time and 80 MiB of its peak memory, for no gain in a process this short.
#[cfg(target_os = "linux")]
fn without_huge_pages() {
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and changes only this process's policy;
    // a kernel without it returns an error, which leaves the default.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

#[cfg(not(target_os = "linux"))]
fn without_huge_pages() {}
