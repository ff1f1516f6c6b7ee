//! The ledger and the views over it: the `tickets` table and view, the `ledger` view (its query
//! with the window's instants written in), `ledger_keyed`, `ledger_keys` and `ledger_dims`, and
//! the facts the families' `runs_if` conditions read.

use polars::prelude::DataFrame;

use super::catalogue::{param_value, query_error};
use super::{Engine, EngineError, Window, load::load_frame};
use crate::model::{self, ColumnType, DIMENSIONS, NONE_KEY};
use crate::queries::QueryFile;
use crate::sql::{sql_instant, sql_list, sql_text};

impl Engine {
    /// Defines the configuration's macros, and says what the exports hold for the families'
    /// `runs_if` conditions: `has_values(column)` (some ticket has a value in that canonical
    /// column) and `has_kind(kind)` (some ticket is of that kind), judged on the exports as
    /// read, before the events after as_of are taken out.
    pub fn define_facts(&self, tickets: &DataFrame, macros: &str) -> Result<(), EngineError> {
        self.conn.execute_batch(macros)?;
        let mut columns = model::ticket_columns();
        columns.extend(crate::ticket_clocks::clock_columns());
        let height = tickets.height();
        let with_values: Vec<String> = columns
            .iter()
            .filter(|(c, _)| {
                tickets
                    .column(c)
                    .is_ok_and(|col| height > 0 && col.null_count() < height)
            })
            .map(|(c, _)| c.to_string())
            .collect();
        let kinds: Vec<String> = match tickets.column("kind") {
            Ok(kind) if height > 0 => kind
                .unique()
                .and_then(|u| u.cast(&polars::prelude::DataType::String))
                .map_err(|e| EngineError::Open(e.to_string()))?
                .str()
                .map_err(|e| EngineError::Open(e.to_string()))?
                .iter()
                .flatten()
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        };
        // `x IN (NULL)` is NULL, not false, and typed NULL: with nothing to match, say false.
        let one_of = |arg: &str, items: &[String]| match items.is_empty() {
            true => "false".to_string(),
            false => format!("{arg} IN ({})", sql_list(items)),
        };
        self.conn.execute_batch(&format!(
            "CREATE OR REPLACE MACRO has_values(name) AS {};
             CREATE OR REPLACE MACRO has_kind(kind) AS {};",
            one_of("name", &with_values),
            one_of("kind", &kinds)
        ))?;
        Ok(())
    }

    /// Hands the tickets to DuckDB and defines the ledger over them: `tickets` (every canonical
    /// ticket column, typed NULL where no ticket has a value; `derived` columns are SQL over the
    /// others), the `ledger` view (its query, with the window's instants written in), and
    /// besides it `ledger_keyed`, `ledger_keys` and `ledger_dims` (see [`dimension_sql`]).
    ///
    /// The ledger is a view, not a table: a KPI query reads a handful of its forty-odd columns,
    /// and storing all of them for a million tickets took longer than every query together.
    pub fn build_ledger(
        &self,
        query: &QueryFile,
        window: &Window,
        tickets: &DataFrame,
        derived: &[(&str, String)],
    ) -> Result<(), EngineError> {
        let body = inline_params(query, window)?;
        let sql = format!("CREATE OR REPLACE VIEW ledger AS\n{body}");
        let mut columns = model::ticket_columns();
        columns.extend(crate::macros::derived_columns());
        columns.extend(crate::ticket_clocks::clock_columns());
        columns.extend(crate::known::columns());
        // Columns written into the view rather than stored: derived ones, and those that hold
        // one value throughout.
        let mut computed: Vec<(&str, String)> = derived.to_vec();
        for (c, _) in &columns {
            if let Some(value) = tickets.column(c).ok().and_then(constant_literal) {
                computed.push((c, value));
            }
        }
        let stored: Vec<(&str, ColumnType)> = columns
            .iter()
            .filter(|(c, _)| !computed.iter().any(|(d, _)| d == c))
            .cloned()
            .collect();
        {
            let _t = crate::log::stage("tickets table");
            load_frame(&self.conn, "__ticket_values", tickets, &stored)?;
        }
        let select: Vec<String> = columns
            .iter()
            .map(|(c, t)| match computed.iter().find(|(d, _)| d == c) {
                Some((_, sql)) => format!("CAST({sql} AS {0}) AS \"{c}\"", t.sql_type()),
                None => format!("\"{c}\""),
            })
            .collect();
        self.conn.execute_batch(&format!(
            "CREATE OR REPLACE VIEW tickets AS SELECT {} FROM __ticket_values",
            select.join(", ")
        ))?;
        self.conn
            .execute_batch(&sql)
            .map_err(|e| query_error(query, e))?;
        let _t = crate::log::stage("ledger keys");
        self.conn.execute_batch(&dimension_sql())?;
        Ok(())
    }
}

/// The views and macros KPI queries group by dimension with:
/// - `ledger_dims`: every ledger row once per dimension, with the key it has there (`all`, its
///   value, or `(none)`): the simplest to write a query against;
/// - `ledger_keyed`: the ledger with one `dim_<dimension>` column per dimension (the key), to
///   `GROUP BY GROUPING SETS ((), (dim_priority), ...)` in one pass, with
///   `dimension_name(...)` and `dimension_key(...)` naming each grouping's rows;
/// - `ledger_keys`: each distinct combination of those keys and the columns KPIs scope their
///   tickets by (kind, is_service, is_cancelled, the SLA targets), a few hundred rows where the
///   ledger has millions. A family aggregates only its cohort's tickets and adds these rows
///   (`UNION ALL BY NAME`) so that its breakdown still lists every key of its scope;
fn dimension_sql() -> String {
    let dim = |d: &str| format!("dim_{d}");
    let names: Vec<String> = std::iter::once("'all'".to_string())
        .chain(DIMENSIONS.iter().map(|d| format!("'{d}'")))
        .collect();
    let keys: Vec<String> = std::iter::once("'all'".to_string())
        .chain(
            DIMENSIONS
                .iter()
                .map(|d| format!("coalesce(CAST({d} AS VARCHAR), '{NONE_KEY}')")),
        )
        .collect();
    let keyed: Vec<String> = DIMENSIONS
        .iter()
        .map(|d| format!("coalesce(CAST({d} AS VARCHAR), '{NONE_KEY}') AS {}", dim(d)))
        .collect();
    let args: Vec<String> = DIMENSIONS.iter().map(|d| dim(d)).collect();
    // `category` came after the contract's four: a user's query written with four arguments
    // still runs (its rows have no category, so the argument is NULL anyway)
    let params: Vec<String> = DIMENSIONS
        .iter()
        .map(|d| match *d {
            "category" => format!("{} := NULL", dim(d)),
            _ => dim(d),
        })
        .collect();
    let mut raw: Vec<&str> = DIMENSIONS.to_vec();
    if !raw.contains(&"kind") {
        raw.push("kind");
    }
    let name_cases: Vec<String> = DIMENSIONS
        .iter()
        .map(|d| format!("WHEN {} IS NOT NULL THEN '{d}'", dim(d)))
        .collect();
    format!(
        "CREATE OR REPLACE VIEW ledger_dims AS SELECT *, unnest([{names}]) AS dimension, unnest([{keys}]) AS key FROM ledger;
         CREATE OR REPLACE VIEW ledger_keyed AS SELECT *, {keyed} FROM ledger;
         CREATE OR REPLACE TABLE ledger_keys AS
             SELECT {keyed}, kind, is_service, is_cancelled, sla_response_target, sla_resolution_target
             FROM (SELECT DISTINCT {raw}, is_service, is_cancelled,
                          sla_response_target, sla_resolution_target FROM ledger);
         CREATE OR REPLACE MACRO dimension_name({params}) AS CASE {cases} ELSE 'all' END;
         CREATE OR REPLACE MACRO dimension_key({params}) AS coalesce({args}, 'all');",
        names = names.join(", "),
        keys = keys.join(", "),
        keyed = keyed.join(", "),
        args = args.join(", "),
        params = params.join(", "),
        cases = name_cases.join(" "),
        raw = raw.join(", "),
    )
}

/// The SQL literal of a column that holds one value in every row (a profile's default kind, the
/// source of a one-file run), for the column to be written as a constant instead of handed over
/// row by row; `None` for any other column.
fn constant_literal(column: &polars::prelude::Column) -> Option<String> {
    use polars::prelude::AnyValue;
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

/// A query's text with each `$name` parameter written as the instant it stands for, for a view
/// (which cannot have parameters). sqlparser's tokenizer, in DuckDB's dialect, finds them: a `$`
/// in a string, a quoted name or a comment is text, not a parameter.
fn inline_params(query: &QueryFile, window: &Window) -> Result<String, EngineError> {
    use sqlparser::dialect::DuckDbDialect;
    use sqlparser::tokenizer::{Location, Token, Tokenizer};
    let sql = query.sql.as_str();
    let tokens = Tokenizer::new(&DuckDbDialect {}, sql)
        .tokenize_with_location()
        .map_err(|e| EngineError::Query {
            query: query.id.clone(),
            origin: query.origin.clone(),
            message: e.to_string(),
        })?;
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(sql.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    // Locations count lines and characters from 1.
    let offset = |at: Location| -> usize {
        let line = line_starts[(at.line as usize).saturating_sub(1)];
        sql[line..]
            .char_indices()
            .nth((at.column as usize).saturating_sub(1))
            .map_or(sql.len(), |(i, _)| line + i)
    };
    let mut out = String::with_capacity(sql.len());
    let mut copied = 0;
    for token in tokens {
        let Token::Placeholder(placeholder) = &token.token else {
            continue;
        };
        let Some(name) = placeholder.strip_prefix('$') else {
            continue;
        };
        let start = offset(token.span.start);
        out.push_str(&sql[copied..start]);
        out.push_str(&sql_instant(param_value(query, name, window)?));
        copied = start + placeholder.len();
    }
    out.push_str(&sql[copied..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;
    use polars::prelude::{Column, PlSmallStr, Scalar};

    #[test]
    fn parameters_are_written_in_where_the_tokenizer_finds_them() {
        let window = Window {
            start: DateTime::from_timestamp(1_790_000_000, 0).unwrap(),
            end: DateTime::from_timestamp(1_792_600_000, 0).unwrap(),
            as_of: DateTime::from_timestamp(1_792_600_000, 0).unwrap(),
        };
        let query = |sql: &str| QueryFile {
            id: "ledger".to_string(),
            sql: sql.to_string(),
            origin: "test".to_string(),
            runs_if: None,
        };
        let sql = "SELECT 'costs $as_of' AS \"$as_of\", é, -- until $as_of\n\
                   /* $period_start */ 'ü' AS x FROM t WHERE at <= $as_of\n  AND at>=$period_start;";
        let inlined = inline_params(&query(sql), &window).unwrap();
        let as_of = sql_instant(window.as_of);
        let start = sql_instant(window.start);
        assert_eq!(
            inlined,
            format!(
                "SELECT 'costs $as_of' AS \"$as_of\", é, -- until $as_of\n\
                 /* $period_start */ 'ü' AS x FROM t WHERE at <= {as_of}\n  AND at>={start};"
            )
        );
        let unknown = inline_params(&query("SELECT $yesterday"), &window).unwrap_err();
        assert!(unknown.to_string().contains("$period_start"), "{unknown}");
    }

    #[test]
    fn columns_of_one_value_become_literals() {
        let text = Column::new_scalar("k".into(), Scalar::from(PlSmallStr::from("o'clock")), 3);
        assert_eq!(constant_literal(&text).as_deref(), Some("'o''clock'"));
        let flag = Column::new_scalar("b".into(), Scalar::from(true), 3);
        assert_eq!(constant_literal(&flag).as_deref(), Some("true"));
        let none = Column::new_scalar(
            "n".into(),
            Scalar::null(polars::prelude::DataType::String),
            3,
        );
        assert_eq!(constant_literal(&none), None);
        let rows = Column::new("r".into(), ["a", "a", "a"]);
        assert_eq!(constant_literal(&rows), None);
    }
}
