//! The DuckDB session: canonical tables handed over as Arrow (duckdb-rs's `arrow(?)` scan), the
//! ledger built by SQL, and every KPI family and report table of the catalogue run with the
//! period as bind parameters.

use std::collections::BTreeMap;

use arrow::array::RecordBatch;
use chrono::{DateTime, SecondsFormat, Utc};
use duckdb::vtab::arrow::{ArrowBatchRegistration, ArrowVTab};
use duckdb::{Connection, ToSql};
use polars::prelude::DataFrame;

use crate::interop;
use crate::kpi::KpiRow;
use crate::model::{self, ColumnType, DIMENSIONS, NONE_KEY};
use crate::queries::{Catalogue, QueryFile};
use crate::sql::{sql_instant, sql_list, sql_text};
use crate::table::{Tables, column_f64, column_i64, column_strings};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("DuckDB: {0}")]
    Duck(#[from] duckdb::Error),
    #[error(transparent)]
    Interop(#[from] interop::InteropError),
    #[error("DuckDB: {0}")]
    Open(String),
    #[error("query {query} ({origin}): {message}")]
    Query {
        query: String,
        origin: String,
        message: String,
    },
}

/// The instants a query may use as `$period_start`, `$period_end`, `$as_of` and `$backlog_at`
/// (the earlier of the period's end and as_of).
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub as_of: DateTime<Utc>,
}

impl Window {
    fn params(&self) -> BTreeMap<&'static str, DateTime<Utc>> {
        BTreeMap::from([
            ("period_start", self.start),
            ("period_end", self.end),
            ("as_of", self.as_of),
            ("backlog_at", self.end.min(self.as_of)),
        ])
    }
}

pub struct Engine {
    conn: Connection,
}

impl Engine {
    /// An in-memory database that never loads or downloads an extension and cannot read files:
    /// the only data it sees is what deskpulse hands it.
    pub fn new() -> Result<Engine, EngineError> {
        let config = duckdb::Config::default()
            .enable_autoload_extension(false)?
            .with("autoinstall_known_extensions", "false")?
            .enable_external_access(false)?;
        let conn = Connection::open_in_memory_with_flags(config)?;
        // `arrow(?)` scans a record batch bound as its parameter: how frames reach DuckDB.
        conn.register_table_function::<ArrowVTab>("arrow")?;
        Ok(Engine { conn })
    }

    /// Stores a frame as table `name` with the canonical columns and types.
    pub fn load(
        &self,
        name: &str,
        frame: &DataFrame,
        columns: &[(&str, ColumnType)],
    ) -> Result<(), EngineError> {
        store(&self.conn, name, frame, columns)
    }

    /// Defines the configuration's macros, and says what the exports hold for the families'
    /// `runs_if` conditions: `has_values(column)` (some ticket has a value in that canonical
    /// column) and `has_kind(kind)` (some ticket is of that kind). Known before the tickets are
    /// stored, so that a column that only families which will not run read need not be stored.
    pub fn define_facts(&self, tickets: &DataFrame, macros: &str) -> Result<(), EngineError> {
        self.conn.execute_batch(macros)?;
        let mut columns = model::ticket_columns();
        columns.extend(crate::clock::tickets::clock_columns());
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
        self.conn.execute_batch(&format!(
            "CREATE OR REPLACE MACRO has_values(name) AS name IN ({});
             CREATE OR REPLACE MACRO has_kind(kind) AS kind IN ({});",
            sql_list(&with_values),
            sql_list(&kinds)
        ))?;
        Ok(())
    }

    /// Which families can measure anything (their `runs_if` holds, or they have none), in the
    /// catalogue's order; the others are named at `-v`.
    pub fn runnable(&self, catalogue: &Catalogue) -> Result<Vec<bool>, EngineError> {
        let mut runs = Vec::with_capacity(catalogue.families.len());
        for family in &catalogue.families {
            let run = self.runs(family)?;
            if !run {
                crate::log::detail(&format!(
                    "query {}: not run: its data is not there ({})",
                    family.id,
                    family.runs_if.as_deref().unwrap_or_default()
                ));
            }
            runs.push(run);
        }
        Ok(runs)
    }

    /// Hands the tickets to DuckDB and defines the ledger over them: `tickets` (every canonical
    /// ticket column; the columns no ticket has a value in are typed nulls, not stored;
    /// `derived` columns are SQL over the others), the
    /// `ledger` view (its query, with the window's instants written in), and besides it
    /// `ledger_keyed`, `ledger_keys` and `ledger_dims` (see [`dimension_sql`]).
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
        columns.extend(crate::clock::tickets::clock_columns());
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
            store(&self.conn, "__ticket_values", tickets, &stored)?;
        }
        let select: Vec<String> = columns
            .iter()
            .map(|(c, t)| match computed.iter().find(|(d, _)| d == c) {
                Some((_, sql)) => format!("CAST({sql} AS {0}) AS \"{c}\"", t.sql_type()),
                None if stored.iter().any(|(s, _)| s == c) => format!("\"{c}\""),
                None => format!("CAST(NULL AS {0}) AS \"{c}\"", t.sql_type()),
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

    /// Runs every family of the catalogue; rows come back in the contract's order.
    ///
    /// Families are independent, and most are too small for DuckDB to keep both of its threads
    /// busy, so two connections take them in turn, each the next family not yet taken. The
    /// order they finish in does not matter: rows are sorted.
    pub fn run_catalogue(
        &self,
        catalogue: &Catalogue,
        runnable: &[bool],
        window: &Window,
    ) -> Result<Vec<KpiRow>, EngineError> {
        let next = std::sync::atomic::AtomicUsize::new(0);
        let families: Vec<&QueryFile> = catalogue
            .families
            .iter()
            .zip(runnable)
            .filter(|(_, run)| **run)
            .map(|(family, _)| family)
            .collect();
        let families = &families;
        let work = |conn: &Connection| -> Result<Vec<KpiRow>, EngineError> {
            let mut rows = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(family) = families.get(i) else {
                    return Ok(rows);
                };
                let _t = crate::log::stage(format!("query {}", family.id));
                rows.extend(family_rows(conn, family, window)?);
            }
        };
        let second = self.conn.try_clone()?;
        let (mine, theirs) = std::thread::scope(|scope| {
            let work = &work;
            let helper = scope.spawn(move || work(&second));
            let mine = work(&self.conn);
            (mine, helper.join().expect("a KPI worker does not panic"))
        });
        let mut rows = mine?;
        rows.extend(theirs?);
        rows.sort_by(KpiRow::contract_order);
        Ok(rows)
    }

    /// Whether a family can measure anything: its `runs_if` holds (or it has none).
    fn runs(&self, family: &QueryFile) -> Result<bool, EngineError> {
        let Some(condition) = &family.runs_if else {
            return Ok(true);
        };
        self.conn
            .query_row(
                &format!("SELECT coalesce(CAST(({condition}) AS BOOLEAN), false)"),
                [],
                |r| r.get::<_, bool>(0),
            )
            .map_err(|e| EngineError::Query {
                query: family.id.clone(),
                origin: format!("{} (runs_if)", family.origin),
                message: e.to_string(),
            })
    }

    /// Runs each query of `tables` and keeps its result under the query's name.
    pub fn run_tables(
        &self,
        tables: &[&QueryFile],
        window: &Window,
    ) -> Result<Tables, EngineError> {
        let mut out = Tables::default();
        for query in tables {
            let _t = crate::log::stage(format!("table {}", query.id));
            out.insert(&query.id, query_batches(&self.conn, query, window)?);
        }
        Ok(out)
    }
}

/// Stores a frame as table `name`, with the given columns cast to their canonical types; a
/// column the frame lacks, or in which no row has a value, is a typed NULL.
///
/// duckdb-rs's `arrow(?)` scan converts a batch on the thread that runs the query, so the
/// frame is inserted in parts, one per core, each from a connection of its own: that halves
/// the time storing a million tickets takes (0.62 s to 0.3 s, docs/benchmarks.md).
fn store(
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
    let definition: Vec<String> = columns
        .iter()
        .map(|(c, t)| format!("\"{c}\" {}", t.sql_type()))
        .collect();
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TABLE \"{name}\" ({})",
        definition.join(", ")
    ))?;
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
    let parts = parts_of(&batches, crate::cores());
    let connections = (0..parts.len())
        .map(|_| conn.try_clone())
        .collect::<Result<Vec<_>, _>>()?;
    std::thread::scope(|scope| {
        let handles: Vec<_> = connections
            .into_iter()
            .zip(parts)
            .map(|(part_conn, part)| {
                let insert = &insert;
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
    })
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
         CREATE OR REPLACE MACRO dimension_name({args}) AS CASE {cases} ELSE 'all' END;
         CREATE OR REPLACE MACRO dimension_key({args}) AS coalesce({args}, 'all');",
        names = names.join(", "),
        keys = keys.join(", "),
        keyed = keyed.join(", "),
        args = args.join(", "),
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

fn query_error(query: &QueryFile, e: duckdb::Error) -> EngineError {
    EngineError::Query {
        query: query.id.clone(),
        origin: query.origin.clone(),
        message: e.to_string(),
    }
}

/// A query file's batches, run on `conn` with the window's parameters bound.
fn query_batches(
    conn: &Connection,
    query: &QueryFile,
    window: &Window,
) -> Result<Vec<RecordBatch>, EngineError> {
    let mut stmt = conn
        .prepare(&query.sql)
        .map_err(|e| query_error(query, e))?;
    let params = bind_params(query, &stmt, window)?;
    let named: Vec<(&str, &dyn ToSql)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v as &dyn ToSql))
        .collect();
    let result = stmt
        .query_arrow(named.as_slice())
        .map_err(|e| query_error(query, e))?;
    let schema = result.get_schema();
    let batches: Vec<RecordBatch> = result.collect();
    // An empty result still names its columns (its CSV has a header).
    Ok(if batches.is_empty() {
        vec![RecordBatch::new_empty(schema)]
    } else {
        batches
    })
}

/// A KPI family's rows, run on `conn`.
fn family_rows(
    conn: &Connection,
    query: &QueryFile,
    window: &Window,
) -> Result<Vec<KpiRow>, EngineError> {
    let mut rows = Vec::new();
    for batch in &query_batches(conn, query, window)? {
        rows.extend(kpi_rows(query, batch)?);
    }
    Ok(rows)
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

/// The value of a named parameter, or an error that lists the names a query may use.
fn param_value(
    query: &QueryFile,
    name: &str,
    window: &Window,
) -> Result<DateTime<Utc>, EngineError> {
    let available = window.params();
    available
        .get(name)
        .copied()
        .ok_or_else(|| EngineError::Query {
            query: query.id.clone(),
            origin: query.origin.clone(),
            message: format!(
                "uses parameter ${name}; a query may use {}",
                available
                    .keys()
                    .map(|k| format!("${k}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
}

/// Binds the named parameters a statement uses, and only those.
fn bind_params(
    query: &QueryFile,
    stmt: &duckdb::Statement<'_>,
    window: &Window,
) -> Result<Vec<(String, String)>, EngineError> {
    let mut out = Vec::new();
    for i in 1..=stmt.parameter_count() {
        let name = stmt.parameter_name(i).map_err(|e| query_error(query, e))?;
        let value = param_value(query, &name, window)?;
        out.push((name, value.to_rfc3339_opts(SecondsFormat::Micros, true)));
    }
    Ok(out)
}

const RESULT_COLUMNS: &[&str] = &[
    "kpi",
    "stat",
    "dimension",
    "key",
    "value",
    "n",
    "missing",
    "numerator",
    "denominator",
];

fn kpi_rows(query: &QueryFile, batch: &RecordBatch) -> Result<Vec<KpiRow>, EngineError> {
    let fail = |message: String| EngineError::Query {
        query: query.id.clone(),
        origin: query.origin.clone(),
        message,
    };
    let missing_column = |e: String| {
        fail(format!(
            "{e}; a KPI query returns the columns {}",
            RESULT_COLUMNS.join(", ")
        ))
    };
    let text = |name: &str| column_strings(batch, name).map_err(missing_column);
    let float = |name: &str| column_f64(batch, name).map_err(missing_column);
    let int = |name: &str| column_i64(batch, name).map_err(missing_column);
    let (kpi, stat, dimension, key) = (
        text("kpi")?,
        text("stat")?,
        text("dimension")?,
        text("key")?,
    );
    let (value, numerator, denominator) =
        (float("value")?, float("numerator")?, float("denominator")?);
    let (n, missing) = (int("n")?, int("missing")?);
    let mut rows = Vec::with_capacity(batch.num_rows());
    for i in 0..batch.num_rows() {
        let required = |v: &Option<String>, name: &str| {
            v.clone()
                .ok_or_else(|| fail(format!("a row has no `{name}`")))
        };
        let dim = required(&dimension[i], "dimension")?;
        if dim.is_empty() || !dim.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            return Err(fail(format!(
                "dimension `{dim}` is not a name (all, {}, or a lower-case name of the query's own)",
                model::DIMENSIONS.join(", ")
            )));
        }
        rows.push(KpiRow {
            kpi: required(&kpi[i], "kpi")?,
            stat: required(&stat[i], "stat")?,
            dimension: dim,
            key: required(&key[i], "key")?,
            value: value[i].filter(|v| v.is_finite()),
            n: n[i].unwrap_or(0).max(0) as u64,
            missing: missing[i].unwrap_or(0).max(0) as u64,
            numerator: numerator[i],
            denominator: denominator[i],
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::{Column, PlSmallStr, Scalar};

    #[test]
    fn a_large_sorted_result_comes_back_sorted() {
        let engine = Engine::new().unwrap();
        engine
            .conn
            .execute_batch(
                "CREATE TABLE t AS SELECT printf('INC%07d', i) AS id FROM range(600000) r(i)
                 ORDER BY hash(i)",
            )
            .unwrap();
        let other = engine.conn.try_clone().unwrap();
        for conn in [&engine.conn, &other] {
            let ids: Vec<String> = conn
                .prepare("SELECT id FROM t WHERE id NOT LIKE '%7' ORDER BY id")
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            assert_eq!(ids.len(), 540000);
            let first_descent = ids.windows(2).position(|w| w[1] < w[0]);
            assert_eq!(first_descent, None);
        }
    }

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

    #[test]
    fn any_text_survives_its_sql_quoting() {
        let engine = Engine::new().unwrap();
        let mut runner = proptest::test_runner::TestRunner::default();
        runner
            .run(&"(\\PC|'|\\$|--|/\\*|\\\\)*", |text| {
                let read: String =
                    engine
                        .conn
                        .query_row(&format!("SELECT {}", sql_text(&text)), [], |r| r.get(0))?;
                proptest::prop_assert_eq!(read, text);
                Ok(())
            })
            .unwrap();
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
