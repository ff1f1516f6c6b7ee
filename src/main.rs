use std::process::ExitCode;

// Polars and DuckDB allocate and free many short-lived buffers; mimalloc serves them faster
// than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    deskpulse::cli::main()
}
