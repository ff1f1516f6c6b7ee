//! Running the catalogue: which families can measure anything, the families themselves (their
//! rows read as KPI rows), and the report's tables.

use arrow::array::RecordBatch;
use chrono::{DateTime, SecondsFormat, Utc};
use duckdb::{Connection, ToSql};

use super::{Engine, EngineError, Window};
use crate::kpi::KpiRow;
use crate::model;
use crate::queries::{Catalogue, QueryFile};
use crate::table::{Tables, column_f64, column_i64, column_strings};

impl Engine {
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

pub(super) fn query_error(query: &QueryFile, e: duckdb::Error) -> EngineError {
    EngineError::Query {
        query: query.id.clone(),
        origin: query.origin.clone(),
        message: e.to_string(),
    }
}

/// A query file's batches, run on `conn` with the window's parameters bound.
pub(super) fn query_batches(
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
    Ok(super::collect_batches(result))
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

/// The value of a named parameter, or an error that lists the names a query may use.
pub(super) fn param_value(
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

fn kpi_rows(query: &QueryFile, batch: &RecordBatch) -> Result<Vec<KpiRow>, EngineError> {
    let fail = |message: String| EngineError::Query {
        query: query.id.clone(),
        origin: query.origin.clone(),
        message,
    };
    let missing_column = |e: String| {
        fail(format!(
            "{e}; a KPI query returns the columns {}",
            KpiRow::COLUMNS.join(", ")
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
