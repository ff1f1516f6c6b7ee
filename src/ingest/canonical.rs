//! The canonical tables as Polars holds them: each canonical column type's Polars type, and
//! an empty table of given columns.

use polars::prelude::*;

use crate::model::ColumnType;

/// Instants: microseconds in UTC.
pub fn utc_type() -> DataType {
    DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
}

/// The Polars type of a canonical column.
pub fn polars_type(t: ColumnType) -> DataType {
    match t {
        ColumnType::Text | ColumnType::Choice(_) => DataType::String,
        ColumnType::Timestamp => utc_type(),
        ColumnType::Count => DataType::UInt32,
        ColumnType::Float => DataType::Float64,
        ColumnType::Bool => DataType::Boolean,
        ColumnType::Row => DataType::UInt64,
        ColumnType::Int => DataType::Int64,
        ColumnType::Code => DataType::UInt32,
    }
}

/// An empty frame with the canonical columns, for sources that contribute nothing.
pub fn empty_frame(columns: &[(&str, ColumnType)]) -> DataFrame {
    let cols: Vec<Column> = columns
        .iter()
        .map(|(n, t)| Column::new_empty((*n).into(), &polars_type(*t)))
        .collect();
    DataFrame::new(0, cols).expect("empty frame")
}
