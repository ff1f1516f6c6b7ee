//! Text that the written ledger shows as the exports had it and that no query computes with (a
//! ticket's title, requester, assignee, ...). In a run that writes the ledger, it stays in the
//! ingested frame instead of going into DuckDB: storing it for a million tickets took 0.2 s,
//! two thirds of the time of all the KPI queries, for the tenth of them the ledger shows.
//!
//! While the text is kept aside, DuckDB's `source_row` column holds each ticket's position in
//! this frame. Rows a query returns get their text, and their real source row, back by that
//! position ([`Aside::fill`]). Text a CSV export can give again ([`READ_LATER`]) is not even
//! read at ingest: it is read from the export for the rows a result shows (`ingest::later`).

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::{Field, Schema, UInt64Type};
use polars::prelude::*;

use crate::ingest::later::LaterColumns;
use crate::interop;

/// The column whose place in DuckDB holds the ticket's position while text is kept aside.
pub const POSITION: &str = "source_row";

/// Columns the built-in ledger shows as they are and no built-in query or report section
/// computes with: what may be kept aside.
pub const SHOWN_ONLY: [&str; 9] = [
    "title",
    "raw_status",
    "ci",
    "category",
    "assignee",
    "requester",
    "channel",
    "problem_id",
    "source_file",
];

/// Text fields among [`SHOWN_ONLY`] that a CSV export can give later, for the rows a result
/// shows (see `ingest::later`).
pub const READ_LATER: [&str; 6] = [
    "title",
    "category",
    "assignee",
    "requester",
    "channel",
    "problem_id",
];

/// The kept-aside columns of every ticket, with each ticket's real source row.
pub struct Aside {
    frame: DataFrame,
    /// Per file, columns left to read for the rows a result shows.
    later: BTreeMap<String, LaterColumns>,
}

impl Aside {
    /// Moves `columns` (those of them the tickets have) and the source row out of `tickets`,
    /// and puts each ticket's position where its source row was.
    pub fn split(
        tickets: &mut DataFrame,
        columns: &[&str],
        later: BTreeMap<String, LaterColumns>,
    ) -> PolarsResult<Aside> {
        let height = tickets.height();
        let mut kept = Vec::with_capacity(columns.len() + 1);
        for c in columns.iter().chain([&POSITION]) {
            if tickets.get_column_index(c).is_some() {
                kept.push(tickets.drop_in_place(c)?);
            }
        }
        let position = UInt64Chunked::from_vec(POSITION.into(), (0..height as u64).collect());
        tickets.with_column(position.into_column())?;
        Ok(Aside {
            frame: DataFrame::new(height, kept)?,
            later,
        })
    }

    /// `batches` (a query's result) with every kept-aside column they have filled in from each
    /// row's position. A result that has such a column must have the position beside it.
    pub fn fill(&self, batches: Vec<RecordBatch>) -> Result<Vec<RecordBatch>, String> {
        let Some(schema) = batches.first().map(RecordBatch::schema) else {
            return Ok(batches);
        };
        let wanted: Vec<&str> = schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .filter(|name| self.frame.get_column_index(name).is_some())
            .collect();
        if wanted.is_empty() {
            return Ok(batches);
        }
        if schema.column_with_name(POSITION).is_none() {
            return Err(format!(
                "a query read {} without `{POSITION}`, which finds it",
                wanted.join(", ")
            ));
        }
        let mut positions: Vec<Option<IdxSize>> = Vec::new();
        for batch in &batches {
            let column = batch
                .column_by_name(POSITION)
                .and_then(|c| c.as_primitive_opt::<UInt64Type>())
                .ok_or_else(|| format!("`{POSITION}` is not a position"))?;
            for p in column.iter() {
                positions.push(
                    p.map(IdxSize::try_from)
                        .transpose()
                        .map_err(|e| e.to_string())?,
                );
            }
        }
        let at = IdxCa::from_iter_options("position".into(), positions.into_iter());
        let mut taken = self
            .frame
            .select(wanted.iter().copied())
            .and_then(|f| f.take(&at))
            .map_err(|e| e.to_string())?;
        self.read_later(&mut taken, &at)
            .map_err(|e| e.to_string())?;
        let (taken_schema, taken) =
            interop::to_record_batches(&taken).map_err(|e| e.to_string())?;
        let taken =
            arrow::compute::concat_batches(&taken_schema, &taken).map_err(|e| e.to_string())?;
        let mut offset = 0;
        batches
            .into_iter()
            .map(|batch| {
                let rows = batch.num_rows();
                let mut fields: Vec<Field> = Vec::with_capacity(batch.num_columns());
                let mut columns: Vec<ArrayRef> = Vec::with_capacity(batch.num_columns());
                for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
                    match taken.column_by_name(field.name()) {
                        Some(text) => {
                            let text = text.slice(offset, rows);
                            fields.push(Field::new(field.name(), text.data_type().clone(), true));
                            columns.push(text);
                        }
                        None => {
                            fields.push(field.as_ref().clone());
                            columns.push(column.clone());
                        }
                    }
                }
                offset += rows;
                RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
                    .map_err(|e| e.to_string())
            })
            .collect()
    }
}

impl Aside {
    /// Fills in the columns of `taken` (a result's rows, at positions `at`: kept-aside columns
    /// and real source rows) that a file left to read later, from each row's file and row.
    /// Rows of other files keep the values the frame had for them. (Text is read later only
    /// where the file is kept aside too.)
    fn read_later(&self, taken: &mut DataFrame, at: &IdxCa) -> PolarsResult<()> {
        let names: Vec<&str> = self
            .later
            .values()
            .flat_map(LaterColumns::fields)
            .filter(|f| taken.get_column_index(f).is_some())
            .collect::<std::collections::BTreeSet<&str>>()
            .into_iter()
            .collect();
        if names.is_empty() {
            return Ok(());
        }
        let n = taken.height();
        let files = self.frame.column("source_file")?.take(at)?;
        let files: Vec<Option<&str>> = files.str()?.iter().collect();
        let rows = self.frame.column(POSITION)?.take(at)?;
        let rows: Vec<Option<u64>> = rows.u64()?.iter().collect();
        let mut combined = taken.select(names.iter().copied())?;
        let mut source: Vec<IdxSize> = (0..n as IdxSize).collect();
        let mut next = n as IdxSize;
        for (file, later) in &self.later {
            let idx: Vec<usize> = (0..n)
                .filter(|&i| files[i] == Some(file.as_str()))
                .collect();
            if idx.is_empty() {
                continue;
            }
            let values = later.read(&idx.iter().map(|&i| rows[i]).collect::<Vec<_>>())?;
            let part = DataFrame::new(
                idx.len(),
                names
                    .iter()
                    .map(|name| {
                        values.column(name).cloned().unwrap_or_else(|_| {
                            Column::full_null((*name).into(), idx.len(), &DataType::String)
                        })
                    })
                    .collect(),
            )?;
            combined.vstack_mut_owned(part)?;
            for (k, &i) in idx.iter().enumerate() {
                source[i] = next + k as IdxSize;
            }
            next += idx.len() as IdxSize;
        }
        let filled = combined.take(&IdxCa::from_vec("at".into(), source))?;
        for column in filled.into_columns() {
            taken.with_column(column)?;
        }
        Ok(())
    }
}

/// A ledger query's rows as shown: the text kept aside (if any) filled in, real source rows back.
pub fn shown(aside: Option<&Aside>, batches: Vec<RecordBatch>) -> Result<Vec<RecordBatch>, String> {
    match aside {
        Some(aside) => aside.fill(batches),
        None => Ok(batches),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{StringArray, UInt64Array};

    fn tickets() -> DataFrame {
        df!(
            "id" => ["A", "B", "C"],
            "title" => [Some("printer jam"), None, Some("vpn down")],
            "source_row" => [2u64, 3, 5],
        )
        .unwrap()
    }

    fn result(ids: &[&str], titles: usize, positions: &[Option<u64>]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", arrow::datatypes::DataType::Utf8, true),
            Field::new("title", arrow::datatypes::DataType::Utf8, true),
            Field::new(POSITION, arrow::datatypes::DataType::UInt64, true),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(ids.to_vec())),
                Arc::new(StringArray::from(vec![None::<&str>; titles])),
                Arc::new(UInt64Array::from(positions.to_vec())),
            ],
        )
        .unwrap()
    }

    fn text(batch: &RecordBatch, name: &str) -> Vec<Option<String>> {
        crate::engine::column_strings(batch, name).unwrap()
    }

    #[test]
    fn split_leaves_positions_and_fill_gives_text_and_rows_back() {
        let mut t = tickets();
        let aside = Aside::split(&mut t, &["title", "assignee"], BTreeMap::new()).unwrap();
        assert_eq!(t.get_column_names(), ["id", "source_row"]);
        let positions: Vec<Option<u64>> = t
            .column("source_row")
            .unwrap()
            .u64()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(positions, [Some(0), Some(1), Some(2)]);

        // Two batches, in another order than the frame's: each row finds its own ticket.
        let filled = aside
            .fill(vec![
                result(&["C", "A"], 2, &[Some(2), Some(0)]),
                result(&["B"], 1, &[Some(1)]),
            ])
            .unwrap();
        assert_eq!(
            text(&filled[0], "title"),
            [Some("vpn down".into()), Some("printer jam".into())]
        );
        assert_eq!(text(&filled[1], "title"), [None]);
        assert_eq!(text(&filled[0], "id"), [Some("C".into()), Some("A".into())]);
        assert_eq!(
            crate::engine::column_i64(&filled[0], POSITION).unwrap(),
            [Some(5), Some(2)]
        );
        assert_eq!(
            crate::engine::column_i64(&filled[1], POSITION).unwrap(),
            [Some(3)]
        );
    }

    #[test]
    fn a_result_without_positions_is_refused_and_one_without_aside_text_is_left_alone() {
        let mut t = tickets();
        let aside = Aside::split(&mut t, &["title"], BTreeMap::new()).unwrap();
        let batch = result(&["A"], 1, &[Some(0)]);
        let no_position = batch.project(&[0, 1]).unwrap();
        assert!(aside.fill(vec![no_position]).unwrap_err().contains("title"));
        let ids_only = batch.project(&[0]).unwrap();
        let same = aside.fill(vec![ids_only.clone()]).unwrap();
        assert_eq!(same, [ids_only]);
    }
}
