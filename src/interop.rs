//! The hand-off from Polars to arrow-rs (which DuckDB speaks): the Arrow C Data Interface.
//! Both sides lay out `ArrowArray` and `ArrowSchema` as the C standard does, so arrays move
//! across without a copy and ownership follows the release callback. This is the only module
//! that touches both libraries' array types.

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, make_array};
use arrow::datatypes::{Field, Schema};
use arrow::ffi::{FFI_ArrowArray, FFI_ArrowSchema, from_ffi};
use polars::prelude::{CompatLevel, DataFrame};

#[derive(Debug, thiserror::Error)]
#[error("handing a table between Polars and Arrow failed: {0}")]
pub struct InteropError(String);

/// Converts a frame into its Arrow schema and record batches, one per chunk, without copying
/// column data.
pub fn to_record_batches(
    frame: &DataFrame,
) -> Result<(Arc<Schema>, Vec<RecordBatch>), InteropError> {
    let mut frame = frame.clone();
    frame.align_chunks_par();
    let mut fields = Vec::with_capacity(frame.width());
    for column in frame.columns() {
        let field = column.field().to_arrow(CompatLevel::newest());
        let c_schema = polars_arrow::ffi::export_field_to_c(&field);
        // SAFETY: see below; the same struct layout on both sides.
        let ffi_schema = unsafe {
            std::mem::transmute::<polars_arrow::ffi::ArrowSchema, FFI_ArrowSchema>(c_schema)
        };
        fields.push(Field::try_from(&ffi_schema).map_err(|e| InteropError(e.to_string()))?);
    }
    let schema = Arc::new(Schema::new(fields));
    let mut batches = Vec::new();
    for chunk in frame.iter_chunks(CompatLevel::newest(), false) {
        let mut fields = Vec::with_capacity(chunk.arrays().len());
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(chunk.arrays().len());
        for (field, array) in chunk.schema().iter_values().zip(chunk.arrays()) {
            let c_schema = polars_arrow::ffi::export_field_to_c(field);
            let c_array = polars_arrow::ffi::export_array_to_c(array.clone());
            // SAFETY: polars-arrow and arrow-rs both define these structs as the C Data
            // Interface's `struct ArrowSchema` / `struct ArrowArray` (#[repr(C)], same fields),
            // and the exported values are valid and unreleased; arrow-rs takes ownership and
            // calls the release callback when the last array referencing them is dropped.
            let (ffi_schema, ffi_array) = unsafe {
                (
                    std::mem::transmute::<polars_arrow::ffi::ArrowSchema, FFI_ArrowSchema>(
                        c_schema,
                    ),
                    std::mem::transmute::<polars_arrow::ffi::ArrowArray, FFI_ArrowArray>(c_array),
                )
            };
            let arrow_field =
                Field::try_from(&ffi_schema).map_err(|e| InteropError(e.to_string()))?;
            // SAFETY: the schema describes the array exported just above.
            let data = unsafe { from_ffi(ffi_array, &ffi_schema) }
                .map_err(|e| InteropError(e.to_string()))?;
            fields.push(arrow_field);
            arrays.push(make_array(data));
        }
        let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
            .map_err(|e| InteropError(e.to_string()))?;
        batches.push(
            batch
                .with_schema(schema.clone())
                .map_err(|e| InteropError(e.to_string()))?,
        );
    }
    Ok((schema, batches))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{DataType, TimeUnit, TimestampMicrosecondType, UInt32Type};
    use polars::prelude::*;

    #[test]
    fn an_empty_frame_keeps_its_schema() {
        let df = df!("id" => Vec::<String>::new()).unwrap();
        let (schema, batches) = to_record_batches(&df).unwrap();
        assert_eq!(schema.field(0).name(), "id");
        assert!(batches.iter().all(|b| b.num_rows() == 0));
    }

    #[test]
    fn strings_timestamps_and_nulls_cross_over() {
        let df = df!(
            "id" => &[Some("INC1"), None, Some("INC3")],
            "n" => &[Some(1u32), Some(2), None],
        )
        .unwrap()
        .lazy()
        .with_column(
            lit(1_700_000_000_000_000i64)
                .cast(polars::prelude::DataType::Datetime(
                    polars::prelude::TimeUnit::Microseconds,
                    Some(polars::prelude::TimeZone::UTC),
                ))
                .alias("at"),
        )
        .collect()
        .unwrap();
        let (schema, batches) = to_record_batches(&df).unwrap();
        assert_eq!(schema.fields().len(), 3);
        assert_eq!(batches.len(), 1);
        let b = &batches[0];
        assert_eq!(b.num_rows(), 3);
        let ids = b.column(0);
        assert!(ids.is_null(1));
        let id0 = match ids.data_type() {
            DataType::Utf8View => ids.as_string_view().value(0).to_string(),
            DataType::LargeUtf8 => ids.as_string::<i64>().value(0).to_string(),
            other => panic!("unexpected string type {other}"),
        };
        assert_eq!(id0, "INC1");
        assert_eq!(b.column(1).as_primitive::<UInt32Type>().value(1), 2);
        assert!(b.column(1).is_null(2));
        assert_eq!(
            b.schema().field(2).data_type(),
            &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
        );
        assert_eq!(
            b.column(2)
                .as_primitive::<TimestampMicrosecondType>()
                .value(0),
            1_700_000_000_000_000
        );
    }
}
