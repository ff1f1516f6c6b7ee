//! Result tables: what the engine hands on after running a query, as Arrow record batches by
//! the query's name, and the readers that take a column out of them as plain Rust values.

use std::collections::BTreeMap;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, Int64Type};

/// The results of the queries in `queries/tables/`, by name.
#[derive(Debug, Default)]
pub struct Tables(BTreeMap<String, Vec<RecordBatch>>);

impl Tables {
    pub fn insert(&mut self, name: &str, batches: Vec<RecordBatch>) {
        self.0.insert(name.to_string(), batches);
    }

    /// A table's batches; none for a table the run did not compute.
    pub fn get(&self, name: &str) -> &[RecordBatch] {
        self.0.get(name).map_or(&[], Vec::as_slice)
    }
}

fn named<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a dyn Array, String> {
    batch
        .schema()
        .index_of(name)
        .map(|i| batch.column(i).as_ref())
        .map_err(|_| format!("its result has no column `{name}`"))
}

/// A result column as text (any type is cast).
pub fn column_strings(batch: &RecordBatch, name: &str) -> Result<Vec<Option<String>>, String> {
    let a =
        cast(named(batch, name)?, &DataType::Utf8).map_err(|e| format!("column `{name}`: {e}"))?;
    let a = a.as_string::<i32>();
    Ok((0..a.len())
        .map(|i| (!a.is_null(i)).then(|| a.value(i).to_string()))
        .collect())
}

/// A result column as flags.
pub fn column_bool(batch: &RecordBatch, name: &str) -> Result<Vec<Option<bool>>, String> {
    let a = cast(named(batch, name)?, &DataType::Boolean)
        .map_err(|e| format!("column `{name}`: {e}"))?;
    Ok(a.as_boolean().iter().collect())
}

/// A result column as doubles.
pub fn column_f64(batch: &RecordBatch, name: &str) -> Result<Vec<Option<f64>>, String> {
    let a = cast(named(batch, name)?, &DataType::Float64)
        .map_err(|e| format!("column `{name}`: {e}"))?;
    let a = a.as_primitive::<Float64Type>();
    Ok((0..a.len())
        .map(|i| (!a.is_null(i)).then(|| a.value(i)))
        .collect())
}

/// A result column as whole numbers.
pub fn column_i64(batch: &RecordBatch, name: &str) -> Result<Vec<Option<i64>>, String> {
    let a =
        cast(named(batch, name)?, &DataType::Int64).map_err(|e| format!("column `{name}`: {e}"))?;
    let a = a.as_primitive::<Int64Type>();
    Ok((0..a.len())
        .map(|i| (!a.is_null(i)).then(|| a.value(i)))
        .collect())
}
