//! deskpulse: help-desk exports in, trustworthy service KPIs and reports out.
//!
//! The pipeline runs in one direction: [`ingest`] reads exports through declarative profiles
//! into the canonical tables of [`model`]; [`engine`] hands them to DuckDB through Arrow
//! ([`interop`]) and runs the SQL of [`queries`]; [`report`] writes what came out.

pub mod check;
pub mod cli;
pub mod clock;
pub mod config;
pub mod costs;
pub mod digest;
pub mod engine;
pub mod ingest;
pub mod interop;
pub mod known;
pub mod kpi;
pub mod log;
pub mod macros;
pub mod model;
pub mod period;
pub mod pipeline;
pub mod previous_run;
pub mod quality;
pub mod queries;
pub mod report;
pub mod sql;
pub mod store;
pub mod swap;
pub mod table;
pub mod ticket_clocks;
pub mod what_changed;

static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();

/// How many threads a task split among cores uses: one per core, or what `--threads` says.
pub fn cores() -> usize {
    *THREADS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// A size a variable of the environment may set for a run (`DESKPULSE_PART_ROWS`, ...): its
/// whole number above 0, else `default` when it is not set; else why not, naming the `unit`
/// and an `example`.
pub fn size_from_env(
    var: &str,
    default: usize,
    unit: &str,
    example: usize,
) -> Result<usize, String> {
    let refused = |shown: &str| format!("{var}={shown}: not a number of {unit} such as {example}");
    match std::env::var(var) {
        Err(std::env::VarError::NotPresent) => Ok(default),
        Err(std::env::VarError::NotUnicode(text)) => Err(refused(&text.to_string_lossy())),
        Ok(text) => match text.trim().parse() {
            Ok(0) | Err(_) => Err(refused(&text)),
            Ok(size) => Ok(size),
        },
    }
}

/// Caps every thread pool of the run (deskpulse's, Polars', DuckDB's) at `n`. Call it first,
/// before any of them starts.
pub fn use_threads(n: std::num::NonZeroUsize) {
    // SAFETY: called from `cli::main` before the run starts a thread, so nothing reads the
    // environment concurrently; Polars reads the variable when its pool is first built.
    unsafe { std::env::set_var("POLARS_MAX_THREADS", n.to_string()) };
    let _ = THREADS.set(n.get());
}
