//! The DuckDB session: canonical tables handed over as Arrow (duckdb-rs's `arrow(?)` scan,
//! `load`), the ledger and the views over it (`views`), and every KPI family and report table
//! of the catalogue run with the period as bind parameters (`catalogue`); and, for an ingest
//! into the ticket store, queries over its Parquet files (`parquet`).

mod catalogue;
mod load;
mod parquet;
mod views;

pub use views::{TicketColumns, TicketFacts};

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use duckdb::Connection;
use duckdb::vtab::arrow::ArrowVTab;
use polars::prelude::DataFrame;

use crate::interop;
use crate::model::ColumnType;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// DuckDB's message, said once: not a `source` too, which an error's chain would say again.
    #[error("DuckDB: {0}")]
    Duck(duckdb::Error),
    #[error(transparent)]
    Interop(#[from] interop::InteropError),
    #[error("DuckDB: {0}")]
    Open(String),
    #[error("query {query} ({origin}): {message}")]
    Query {
        query: String,
        origin: String,
        message: String,
    },
}

impl From<duckdb::Error> for EngineError {
    fn from(e: duckdb::Error) -> Self {
        EngineError::Duck(e)
    }
}

/// The instants a query may use as `$period_start`, `$period_end`, `$as_of` and `$backlog_at`
/// (the earlier of the period's end and as_of).
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub as_of: DateTime<Utc>,
}

impl Window {
    fn params(&self) -> BTreeMap<&'static str, DateTime<Utc>> {
        BTreeMap::from([
            ("period_start", self.start),
            ("period_end", self.end),
            ("as_of", self.as_of),
            ("backlog_at", self.end.min(self.as_of)),
        ])
    }
}

pub struct Engine {
    conn: Connection,
}

static MEMORY_LIMIT: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn memory_limit_error(limit: &str) -> String {
    format!("--memory-limit {limit}: not a size such as 2GiB or 500MB")
}

/// Caps the memory every engine of the run may hold (`--memory-limit`): DuckDB's size syntax,
/// such as `2GiB`. Beyond it DuckDB spills to a temporary directory. An engine is opened with
/// the limit here, so that a size DuckDB does not read stops the run before any export is.
pub fn limit_memory(limit: &str) -> Result<(), String> {
    let _ = MEMORY_LIMIT.set(limit.to_string());
    match Engine::new() {
        Ok(_) => Ok(()),
        Err(EngineError::Open(message)) => Err(message),
        Err(other) => Err(other.to_string()),
    }
}

impl Engine {
    /// An in-memory database that never loads or downloads an extension and cannot read files:
    /// the only data it sees is what deskpulse hands it.
    pub fn new() -> Result<Engine, EngineError> {
        Engine::open(None)
    }

    /// The same, except that it reads the Parquet files under `dir` (a ticket store), and no
    /// other file.
    pub fn with_files_under(dir: &Path) -> Result<Engine, EngineError> {
        Engine::open(Some(dir))
    }

    fn open(files_under: Option<&Path>) -> Result<Engine, EngineError> {
        let mut config = duckdb::Config::default()
            .enable_autoload_extension(false)?
            .with("autoinstall_known_extensions", "false")?
            .with("threads", crate::cores().to_string())?
            // A checkpoint of an in-memory database keeps nothing, but one fired now and then
            // between the parts of a store's tickets and stalled the run half a second
            // (docs/benchmarks.md): a threshold no run reaches.
            .with("checkpoint_threshold", "1TB")?;
        if let Some(limit) = MEMORY_LIMIT.get() {
            let spill =
                std::env::temp_dir().join(format!("deskpulse-spill-{}", std::process::id()));
            config = config
                .with("memory_limit", limit)
                .map_err(|_| EngineError::Open(memory_limit_error(limit)))?
                .with("temp_directory", spill.to_string_lossy())?;
        }
        if files_under.is_none() {
            config = config.enable_external_access(false)?;
        }
        let conn = Connection::open_in_memory_with_flags(config).map_err(|e| match MEMORY_LIMIT
            .get()
        {
            Some(limit) => EngineError::Open(format!("{} ({e})", memory_limit_error(limit))),
            None => EngineError::Duck(e),
        })?;
        if let Some(dir) = files_under {
            // Allowed before external access is switched off: once off, the list is fixed. A
            // pattern over the files names the directory as a pattern, its wildcards escaped.
            let names = [
                dir.to_string_lossy().into_owned(),
                crate::sql::glob_literal(dir),
            ];
            conn.execute_batch(&format!(
                "SET allowed_directories = [{}]; SET enable_external_access = false;",
                crate::sql::sql_list(&names)
            ))?;
        }
        // `arrow(?)` scans a record batch bound as its parameter: how frames reach DuckDB.
        conn.register_table_function::<ArrowVTab>("arrow")?;
        Ok(Engine { conn })
    }

    /// Stores a frame as table `name` with the canonical columns and types.
    pub fn load(
        &self,
        name: &str,
        frame: &DataFrame,
        columns: &[(&str, ColumnType)],
    ) -> Result<(), EngineError> {
        load::load_frame(&self.conn, name, frame, columns)
    }
}

/// A result's record batches: at least one, empty where no row is, so that its columns are
/// always named (an empty table's CSV still has a header).
fn collect_batches(result: duckdb::Arrow<'_>) -> Vec<arrow::array::RecordBatch> {
    let schema = result.get_schema();
    let batches: Vec<_> = result.collect();
    if batches.is_empty() {
        vec![arrow::array::RecordBatch::new_empty(schema)]
    } else {
        batches
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::sql_text;

    #[test]
    fn a_large_sorted_result_comes_back_sorted() {
        let engine = Engine::new().unwrap();
        engine
            .conn
            .execute_batch(
                "CREATE TABLE t AS SELECT printf('INC%07d', i) AS id FROM range(600000) r(i)
                 ORDER BY hash(i)",
            )
            .unwrap();
        let other = engine.conn.try_clone().unwrap();
        for conn in [&engine.conn, &other] {
            let ids: Vec<String> = conn
                .prepare("SELECT id FROM t WHERE id NOT LIKE '%7' ORDER BY id")
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            assert_eq!(ids.len(), 540000);
            let first_descent = ids.windows(2).position(|w| w[1] < w[0]);
            assert_eq!(first_descent, None);
        }
    }

    #[test]
    fn a_load_gives_duckdb_its_threads_back() {
        let engine = Engine::new().unwrap();
        let frame = DataFrame::new_infer_height(vec![polars::prelude::Column::new(
            "id".into(),
            (0..5000).map(|i| format!("INC{i}")).collect::<Vec<_>>(),
        )])
        .unwrap();
        engine
            .load("t", &frame, &[("id", ColumnType::Text)])
            .unwrap();
        let rows: i64 = engine
            .conn
            .query_row("SELECT count(DISTINCT id) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 5000);
        let threads: String = engine
            .conn
            .query_row("SELECT current_setting('threads')::VARCHAR", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(threads, crate::cores().to_string());
    }

    #[test]
    fn a_duckdb_error_says_its_message_once() {
        let engine = Engine::new().unwrap();
        let e = engine
            .conn
            .execute_batch("SELECT 1 FROM t_absent")
            .unwrap_err();
        let shown = format!("{:#}", anyhow::Error::from(EngineError::from(e)));
        assert_eq!(shown.matches("Catalog Error").count(), 1, "{shown}");
        assert!(!shown.contains("Unknown error code"), "{shown}");
    }

    #[test]
    fn any_text_survives_its_sql_quoting() {
        let engine = Engine::new().unwrap();
        let mut runner = proptest::test_runner::TestRunner::default();
        runner
            .run(&"(\\PC|'|\\$|--|/\\*|\\\\)*", |text| {
                let read: String =
                    engine
                        .conn
                        .query_row(&format!("SELECT {}", sql_text(&text)), [], |r| r.get(0))?;
                proptest::prop_assert_eq!(read, text);
                Ok(())
            })
            .unwrap();
    }
}
