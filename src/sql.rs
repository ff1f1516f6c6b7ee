//! SQL literals: how deskpulse writes a text, a list of texts or an instant into SQL it
//! generates (configuration macros, the columns of one value, the trend months). Values a
//! query file reads at run time are bound as parameters instead.

use chrono::{DateTime, Utc};

/// An instant as an SQL literal.
pub fn sql_instant(t: DateTime<Utc>) -> String {
    format!("TIMESTAMPTZ '{}'", t.format("%Y-%m-%d %H:%M:%S%.6f+00"))
}

/// A text as an SQL string literal.
pub fn sql_text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Texts as the items of an SQL `IN (...)` list; `NULL` (which nothing equals) when there are
/// none.
pub fn sql_list<S: AsRef<str>>(items: &[S]) -> String {
    if items.is_empty() {
        return "NULL".to_string();
    }
    items
        .iter()
        .map(|s| sql_text(s.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A path as a glob pattern that matches that path alone: DuckDB reads `[`, `*` and `?` in a
/// pattern as wildcards, and a store may be under a directory named `exports [2026]`.
pub fn glob_literal(path: &std::path::Path) -> String {
    path.to_string_lossy()
        .chars()
        .map(|c| match c {
            '[' | '*' | '?' => format!("[{c}]"),
            c => c.to_string(),
        })
        .collect()
}

/// The SQL literal of a column that holds one value in every row (a profile's default kind, the
/// source of a one-file run, `NULL` for a field the export leaves empty), for the column to be
/// written as a constant instead of handed over row by row; `None` for any other column.
pub fn constant_literal(column: &polars::prelude::Column) -> Option<String> {
    use polars::prelude::AnyValue;
    // DuckDB's in-memory tables store a NULL at its type's full width: on the million-ticket
    // export, seventeen empty fields were a tenth of its copy of the tickets.
    if !column.is_empty() && column.null_count() == column.len() {
        return Some("NULL".to_string());
    }
    let value = column.as_scalar_column()?.scalar().value().clone();
    Some(match value {
        AnyValue::String(s) => sql_text(s),
        AnyValue::StringOwned(s) => sql_text(&s),
        AnyValue::Boolean(b) => b.to_string(),
        AnyValue::Int32(v) => v.to_string(),
        AnyValue::Int64(v) => v.to_string(),
        AnyValue::UInt32(v) => v.to_string(),
        AnyValue::UInt64(v) => v.to_string(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_become_sql_literals() {
        assert_eq!(sql_list(&["a", "it's"]), "'a', 'it''s'");
        assert_eq!(sql_list::<&str>(&[]), "NULL");
    }

    #[test]
    fn columns_of_one_value_or_none_become_literals() {
        use polars::prelude::{Column, PlSmallStr, Scalar};
        let text = Column::new_scalar("k".into(), Scalar::from(PlSmallStr::from("o'clock")), 3);
        assert_eq!(constant_literal(&text).as_deref(), Some("'o''clock'"));
        let flag = Column::new_scalar("b".into(), Scalar::from(true), 3);
        assert_eq!(constant_literal(&flag).as_deref(), Some("true"));
        let none = Column::new_scalar(
            "n".into(),
            Scalar::null(polars::prelude::DataType::String),
            3,
        );
        assert_eq!(constant_literal(&none).as_deref(), Some("NULL"));
        let all_null = Column::new("m".into(), [None::<i64>, None, None]);
        assert_eq!(constant_literal(&all_null).as_deref(), Some("NULL"));
        let no_rows = Column::new("e".into(), Vec::<i64>::new());
        assert_eq!(constant_literal(&no_rows), None);
        let rows = Column::new("r".into(), ["a", "a", "a"]);
        assert_eq!(constant_literal(&rows), None);
        let some_null = Column::new("s".into(), [Some(1i64), None, None]);
        assert_eq!(constant_literal(&some_null), None);
    }
}
