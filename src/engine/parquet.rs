//! Queries over the ticket store's Parquet files, for an ingest to find the files it touches:
//! DuckDB's own reader (its `parquet` extension, compiled in), on a session opened with
//! [`Engine::with_files_under`].

use arrow::array::RecordBatch;

use super::{Engine, EngineError};

impl Engine {
    /// The rows of `select` (see [`super::collect_batches`]).
    pub fn query(&self, select: &str) -> Result<Vec<RecordBatch>, EngineError> {
        let mut statement = self.conn.prepare(select)?;
        Ok(super::collect_batches(statement.query_arrow([])?))
    }
}
