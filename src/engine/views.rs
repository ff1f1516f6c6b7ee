//! The ledger and the views over it: the `tickets` table and view, the `ledger` view (its query
//! with the window's instants written in), `ledger_keyed`, `ledger_keys` and `ledger_dims`, and
//! the facts the families' `runs_if` conditions read.

use std::collections::BTreeSet;

use polars::prelude::DataFrame;

use super::catalogue::{param_value, query_error};
use super::load::{create_table, insert_frame};
use super::{Engine, EngineError, Window};
use crate::model::{self, ColumnType, DIMENSIONS, NONE_KEY};
use crate::queries::QueryFile;
use crate::sql::{sql_instant, sql_list};

/// What the tickets hold, for the families' `runs_if` conditions: the canonical and clock
/// columns in which some ticket has a value, and the kinds of ticket; gathered part by part.
#[derive(Default)]
pub struct TicketFacts {
    with_values: BTreeSet<&'static str>,
    kinds: BTreeSet<String>,
}

impl TicketFacts {
    /// Adds what `tickets`, a part of the run's tickets, hold.
    pub fn observe(&mut self, tickets: &DataFrame) -> Result<(), EngineError> {
        let height = tickets.height();
        if height == 0 {
            return Ok(());
        }
        let mut columns = model::ticket_columns();
        columns.extend(crate::ticket_clocks::clock_columns());
        self.with_values.extend(
            columns
                .iter()
                .map(|(c, _)| *c)
                .filter(|c| tickets.column(c).is_ok_and(|col| col.null_count() < height)),
        );
        if let Ok(kind) = tickets.column("kind") {
            let polars = |e: polars::prelude::PolarsError| EngineError::Open(e.to_string());
            let kinds = kind
                .unique()
                .and_then(|u| u.cast(&polars::prelude::DataType::String))
                .map_err(polars)?;
            let kinds = kinds.str().map_err(polars)?;
            self.kinds
                .extend(kinds.iter().flatten().map(str::to_string));
        }
        Ok(())
    }
}

/// The ticket columns written into the `tickets` view as SQL rather than stored: derived ones,
/// and those that hold one value throughout.
pub struct TicketColumns {
    computed: Vec<(&'static str, String)>,
}

impl TicketColumns {
    fn all() -> Vec<(&'static str, ColumnType)> {
        let mut columns = model::ticket_columns();
        columns.extend(crate::macros::derived_columns());
        columns.extend(crate::ticket_clocks::clock_columns());
        columns.extend(crate::known::columns());
        columns
    }

    fn stored(&self) -> Vec<(&'static str, ColumnType)> {
        Self::all()
            .into_iter()
            .filter(|(c, _)| !self.computed.iter().any(|(d, _)| d == c))
            .collect()
    }
}

impl Engine {
    /// Defines the configuration's macros, and says what the tickets hold for the families'
    /// `runs_if` conditions: `has_values(column)` (some ticket has a value in that canonical
    /// column) and `has_kind(kind)` (some ticket is of that kind), judged on the tickets as
    /// read (`facts`), before the events after as_of are taken out.
    pub fn define_facts(&self, facts: &TicketFacts, macros: &str) -> Result<(), EngineError> {
        self.conn.execute_batch(macros)?;
        let with_values: Vec<String> = facts.with_values.iter().map(|c| c.to_string()).collect();
        let kinds: Vec<String> = facts.kinds.iter().cloned().collect();
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

    /// Creates the table the tickets are handed to DuckDB in, part by part ([`Engine::add_tickets`]):
    /// every canonical ticket column but those written into the `tickets` view as SQL, `derived`
    /// ones and `constants`, those that hold one value in every ticket (as SQL literals).
    pub fn create_tickets(
        &self,
        derived: &[(&'static str, String)],
        constants: &[(&'static str, String)],
    ) -> Result<TicketColumns, EngineError> {
        let computed = derived.iter().chain(constants).cloned().collect();
        let columns = TicketColumns { computed };
        create_table(&self.conn, TICKET_VALUES, &columns.stored())?;
        Ok(columns)
    }

    /// Hands DuckDB a part of the tickets, with the clock columns and those of [`crate::known`].
    pub fn add_tickets(
        &self,
        columns: &TicketColumns,
        tickets: &DataFrame,
    ) -> Result<(), EngineError> {
        let _t = crate::log::stage("tickets table");
        insert_frame(&self.conn, TICKET_VALUES, tickets, &columns.stored())
    }

    /// Defines the ledger over the tickets handed over: the `tickets` view (every canonical
    /// ticket column, typed NULL where no ticket has a value), the `ledger` view (its query,
    /// with the window's instants written in), and besides it `ledger_keyed`, `ledger_keys` and
    /// `ledger_dims` (see [`dimension_sql`]).
    ///
    /// The ledger is a view, not a table: a KPI query reads a handful of its forty-odd columns,
    /// and storing all of them for a million tickets took longer than every query together.
    pub fn build_ledger(
        &self,
        query: &QueryFile,
        window: &Window,
        columns: &TicketColumns,
    ) -> Result<(), EngineError> {
        let body = inline_params(query, window)?;
        let sql = format!("CREATE OR REPLACE VIEW ledger AS\n{body}");
        let select: Vec<String> = TicketColumns::all()
            .iter()
            .map(
                |(c, t)| match columns.computed.iter().find(|(d, _)| d == c) {
                    Some((_, sql)) => format!("CAST({sql} AS {0}) AS \"{c}\"", t.sql_type()),
                    None => format!("\"{c}\""),
                },
            )
            .collect();
        self.conn.execute_batch(&format!(
            "CREATE OR REPLACE VIEW tickets AS SELECT {} FROM {TICKET_VALUES}",
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

/// The table of the stored ticket columns, under the `tickets` view.
const TICKET_VALUES: &str = "__ticket_values";

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
}
