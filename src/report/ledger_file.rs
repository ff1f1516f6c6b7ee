//! The written ledger, `ledger.csv`: the tickets behind this period's figures, one row each
//! with every ledger column, ordered by source and id (those created, resolved or closed in the
//! period, and those open at its end). A run that writes it computes it beside the KPI queries:
//! while DuckDB hands its rows over on one thread and Rust orders and formats them, DuckDB's
//! other thread has the families to work on.

use arrow::array::RecordBatch;

use super::files::{csv_pieces_of_rows, rows_of};
use crate::aside::{self, Aside};
use crate::engine::{EngineError, Window, query_batches};

/// The ledger as CSV pieces (see [`super::files::csv_pieces`]), on a connection of its own.
pub fn csv(
    aside: Option<&Aside>,
    conn: &duckdb::Connection,
    window: &Window,
) -> Result<Vec<Vec<u8>>, EngineError> {
    let fail = |message: String| EngineError::Query {
        query: "ledger.csv".to_string(),
        origin: "built-in".to_string(),
        message,
    };
    let query = crate::queries::QueryFile {
        id: "ledger.csv".to_string(),
        sql: LEDGER_CSV_SQL.to_string(),
        origin: "built-in".to_string(),
        runs_if: None,
    };
    let batches = {
        let _s = crate::log::background_stage("ledger.csv: query");
        let batches = query_batches(conn, &query, window)?;
        aside::shown(aside, batches).map_err(fail)?
    };
    let _s = crate::log::background_stage("ledger.csv: format");
    let rows = ledger_order(&batches).map_err(fail)?;
    csv_pieces_of_rows(&batches, &rows).map_err(fail)
}

/// The ledger's rows as (batch, row), ordered by source and id; the same id twice in a source
/// (from two files) by file and row, so that every run writes them in one order. Sorting here
/// rather than in the query spares DuckDB moving every column of every row through its sort.
fn ledger_order(batches: &[RecordBatch]) -> Result<Vec<(usize, usize)>, String> {
    use arrow::compute::SortOptions;
    use arrow::row::{RowConverter, SortField};
    let Some(first) = batches.first() else {
        return Ok(Vec::new());
    };
    let mut at = Vec::new();
    for name in ["source", "id", "source_file", "source_row"] {
        match first.schema().index_of(name) {
            Ok(i) => at.push(i),
            Err(_) if name == "source" || name == "id" => {
                return Err(format!("the ledger has no `{name}` column to order it by"));
            }
            Err(_) => {}
        }
    }
    let ascending = SortOptions {
        descending: false,
        nulls_first: false,
    };
    // Keys as byte strings that compare as the columns do: one comparison of bytes per pair.
    let converter = RowConverter::new(
        at.iter()
            .map(|&i| {
                SortField::new_with_options(first.schema().field(i).data_type().clone(), ascending)
            })
            .collect(),
    )
    .map_err(|e| e.to_string())?;
    let mut keys = converter.empty_rows(0, 0);
    for batch in batches {
        let columns: Vec<_> = at.iter().map(|&i| batch.column(i).clone()).collect();
        converter
            .append(&mut keys, &columns)
            .map_err(|e| e.to_string())?;
    }
    let mut order: Vec<usize> = (0..keys.num_rows()).collect();
    order.sort_by(|&a, &b| keys.row(a).cmp(&keys.row(b)));
    let place = rows_of(batches);
    Ok(order.into_iter().map(|i| place[i]).collect())
}

const LEDGER_CSV_SQL: &str = "
SELECT * FROM ledger
WHERE (created_at >= $period_start AND created_at < $period_end)
   OR (resolved_at >= $period_start AND resolved_at < $period_end)
   OR (closed_at >= $period_start AND closed_at < $period_end)
   OR (created_at < $backlog_at
       AND NOT coalesce(resolved_at <= $backlog_at, false)
       AND NOT coalesce(closed_at <= $backlog_at, false))";

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{ArrayRef, StringArray, UInt64Array};
    use arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;

    type Row = (&'static str, &'static str, &'static str, u64);

    fn batch(rows: &[Row]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("source", DataType::Utf8, true),
            Field::new("id", DataType::Utf8, true),
            Field::new("source_file", DataType::Utf8, true),
            Field::new("source_row", DataType::UInt64, true),
        ]));
        let text = |f: fn(&Row) -> &'static str| -> ArrayRef {
            Arc::new(StringArray::from(rows.iter().map(f).collect::<Vec<_>>()))
        };
        let row: ArrayRef = Arc::new(UInt64Array::from(
            rows.iter().map(|r| r.3).collect::<Vec<_>>(),
        ));
        RecordBatch::try_new(
            schema,
            vec![text(|r| r.0), text(|r| r.1), text(|r| r.2), row],
        )
        .unwrap()
    }

    #[test]
    fn the_ledger_is_ordered_by_source_and_id_then_file_and_row() {
        let batches = [
            batch(&[
                ("zendesk", "7", "z.csv", 2),
                ("jsm", "HD-2", "b.csv", 9),
                ("jsm", "HD-10", "b.csv", 3),
            ]),
            batch(&[("jsm", "HD-2", "a.csv", 40), ("jsm", "HD-2", "b.csv", 4)]),
        ];
        assert_eq!(
            ledger_order(&batches).unwrap(),
            [(0, 2), (1, 0), (1, 1), (0, 1), (0, 0)]
        );
        let no_id = batches[0].project(&[0]).unwrap();
        assert!(ledger_order(&[no_id]).unwrap_err().contains("`id`"));
    }
}
