//! Parquet in and out, for the ticket store: DuckDB's own reader and writer (its `parquet`
//! extension, compiled in), on a session opened with [`Engine::with_files_under`].

use std::path::Path;

use arrow::array::RecordBatch;

use super::{Engine, EngineError};
use crate::sql::sql_text;

impl Engine {
    /// Writes the rows of `select` as zstd-compressed Parquet under `dir`: one directory per
    /// value of the `partition_by` columns (Hive layout, `source=servicenow/created_month=2026-10/`,
    /// values percent-encoded), or, with none, the single file `dir/data_0.parquet` (`dir` must
    /// then exist).
    pub fn write_parquet(
        &self,
        select: &str,
        dir: &Path,
        partition_by: &[&str],
    ) -> Result<(), EngineError> {
        let (target, partitions) = if partition_by.is_empty() {
            (dir.join("data_0.parquet"), String::new())
        } else {
            let quoted: Vec<String> = partition_by.iter().map(|c| format!("\"{c}\"")).collect();
            (
                dir.to_path_buf(),
                // Written part by part: each part adds its partitions to the directory.
                format!(
                    ", PARTITION_BY ({}), OVERWRITE_OR_IGNORE",
                    quoted.join(", ")
                ),
            )
        };
        self.conn.execute_batch(&format!(
            "COPY ({select}) TO {} (FORMAT parquet, COMPRESSION zstd{partitions})",
            sql_text(&target.to_string_lossy())
        ))?;
        Ok(())
    }

    /// The rows of `select` (see [`super::collect_batches`]).
    pub fn query(&self, select: &str) -> Result<Vec<RecordBatch>, EngineError> {
        let mut statement = self.conn.prepare(select)?;
        Ok(super::collect_batches(statement.query_arrow([])?))
    }
}
