//! Loading a Polars frame into a DuckDB table, through duckdb-rs's public `arrow(?)` scan.

use arrow::array::RecordBatch;
use duckdb::Connection;
use duckdb::vtab::arrow::ArrowBatchRegistration;
use polars::prelude::DataFrame;

use super::EngineError;
use crate::interop;
use crate::model::ColumnType;

/// Stores a frame as table `name`, with the given columns cast to their canonical types; a
/// column the frame lacks, or in which no row has a value, is a typed NULL.
pub(super) fn load_frame(
    conn: &Connection,
    name: &str,
    frame: &DataFrame,
    columns: &[(&str, ColumnType)],
) -> Result<(), EngineError> {
    create_table(conn, name, columns)?;
    insert_frame(conn, name, frame, columns)
}

/// Creates (or empties) table `name` with the given columns and types.
pub(super) fn create_table(
    conn: &Connection,
    name: &str,
    columns: &[(&str, ColumnType)],
) -> Result<(), EngineError> {
    let definition: Vec<String> = columns
        .iter()
        .map(|(c, t)| format!("\"{c}\" {}", t.sql_type()))
        .collect();
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TABLE \"{name}\" ({})",
        definition.join(", ")
    ))?;
    Ok(())
}

/// Adds a frame's rows to table `name` (of `columns`), each column cast to its canonical type; a
/// column the frame lacks, or in which no row has a value, is a typed NULL.
///
/// duckdb-rs's `arrow(?)` scan converts a batch on the thread that runs the query, so the
/// frame is inserted in parts, one per core, each from a connection of its own: storing a
/// million tickets went from 0.62 s to under 0.4 s (docs/benchmarks.md).
pub(super) fn insert_frame(
    conn: &Connection,
    name: &str,
    frame: &DataFrame,
    columns: &[(&str, ColumnType)],
) -> Result<(), EngineError> {
    let height = frame.height();
    let present: Vec<&str> = columns
        .iter()
        .map(|(c, _)| *c)
        .filter(|c| {
            frame
                .column(c)
                .is_ok_and(|col| height == 0 || col.null_count() < height)
        })
        .collect();
    let select: Vec<String> = columns
        .iter()
        .map(|(c, t)| {
            let value = if present.contains(c) {
                format!("\"{c}\"")
            } else {
                "NULL".into()
            };
            format!("CAST({value} AS {})", t.sql_type())
        })
        .collect();
    if present.is_empty() {
        let insert = format!(
            "INSERT INTO \"{name}\" SELECT {} FROM range(?)",
            select.join(", ")
        );
        conn.execute(&insert, [height as i64])?;
        return Ok(());
    }
    let ordered = frame
        .select(present.iter().copied())
        .map_err(|e| EngineError::Query {
            query: name.to_string(),
            origin: "canonical table".to_string(),
            message: e.to_string(),
        })?;
    let (_, batches) = interop::to_record_batches(&ordered)?;
    let insert = format!(
        "INSERT INTO \"{name}\" SELECT {} FROM arrow(?)",
        select.join(", ")
    );
    insert_in_parts(conn, &insert, &batches)
}

/// Runs `insert` (whose parameter is the batch for `arrow(?)`) over the batches' rows in parts,
/// one per core, each part on a connection of its own; DuckDB runs them on those connections'
/// threads alone, and its own threads come back after.
fn insert_in_parts(
    conn: &Connection,
    insert: &str,
    batches: &[RecordBatch],
) -> Result<(), EngineError> {
    let parts = parts_of(batches, crate::cores());
    let connections = (0..parts.len())
        .map(|_| conn.try_clone())
        .collect::<Result<Vec<_>, _>>()?;
    // Each part's query scans on one thread. A worker thread of DuckDB's own would take one
    // part's scan and leave that part's connection polling for a task on a busy core (a query's
    // result waits only for a blocked task, not for one another thread runs), so DuckDB keeps
    // none while the parts run.
    conn.execute_batch("SET threads = 1")?;
    let inserted = std::thread::scope(|scope| {
        let handles: Vec<_> = connections
            .into_iter()
            .zip(parts)
            .map(|(part_conn, part)| {
                scope.spawn(move || -> Result<(), EngineError> {
                    let mut statement = part_conn.prepare(insert)?;
                    for batch in part {
                        statement.execute([&ArrowBatchRegistration::new(batch)])?;
                    }
                    Ok(())
                })
            })
            .collect();
        handles
            .into_iter()
            .try_for_each(|h| h.join().expect("storing a part does not panic"))
    });
    conn.execute_batch(&format!("SET threads = {}", crate::cores()))?;
    inserted
}

/// The batches' rows in `n` parts of about the same size (zero-copy slices).
fn parts_of(batches: &[RecordBatch], n: usize) -> Vec<Vec<RecordBatch>> {
    let total: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let per_part = total.div_ceil(n.max(1)).max(1);
    let mut parts: Vec<Vec<RecordBatch>> = vec![Vec::new()];
    let mut room = per_part;
    for batch in batches {
        let mut at = 0;
        while at < batch.num_rows() {
            if room == 0 {
                parts.push(Vec::new());
                room = per_part;
            }
            let len = room.min(batch.num_rows() - at);
            parts
                .last_mut()
                .expect("not empty")
                .push(batch.slice(at, len));
            at += len;
            room -= len;
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_keep_every_row_in_order() {
        use arrow::array::{AsArray, Int64Array};
        use arrow::datatypes::{DataType, Field, Int64Type, Schema};
        let schema =
            std::sync::Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
        let batch = |from: i64, to: i64| {
            let values: Int64Array = (from..to).collect();
            RecordBatch::try_new(schema.clone(), vec![std::sync::Arc::new(values)]).unwrap()
        };
        let batches = [batch(0, 5), batch(5, 6), batch(6, 11)];
        for n in 1..=4 {
            let parts = parts_of(&batches, n);
            assert!(parts.len() <= n, "{n} parts at most");
            let rows: Vec<i64> = parts
                .iter()
                .flatten()
                .flat_map(|b| b.column(0).as_primitive::<Int64Type>().values().to_vec())
                .collect();
            assert_eq!(rows, (0..11).collect::<Vec<_>>(), "{n} parts");
            let sizes: Vec<usize> = parts
                .iter()
                .map(|p| p.iter().map(|b| b.num_rows()).sum())
                .collect();
            assert!(sizes.iter().all(|s| *s <= 11usize.div_ceil(n)), "{sizes:?}");
            assert!(parts.iter().flatten().all(|b| b.num_rows() > 0));
        }
    }
}
