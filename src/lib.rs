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
pub mod table;
pub mod ticket_clocks;

/// How many threads a task split among cores uses: one per core.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
