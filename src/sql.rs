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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_become_sql_literals() {
        assert_eq!(sql_list(&["a", "it's"]), "'a', 'it''s'");
        assert_eq!(sql_list::<&str>(&[]), "NULL");
    }
}
