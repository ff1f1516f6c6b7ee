//! One run: configuration → ingest → DuckDB (ledger and KPI families) → results that every
//! output (JSON, reports, ledger, checks) is written from.

use chrono::{DateTime, Utc};
use polars::prelude::*;

use crate::aside::{self, Aside};
use crate::config::Config;
use crate::costs;
use crate::engine::{Engine, Window};
use crate::ingest::{self, Ingested, InputReport};
use crate::kpi::KpiRow;
use crate::ledger;
use crate::model;
use crate::period::{self, Period, PeriodKind};
use crate::quality::{self, Quality};
use crate::queries::{self, Catalogue};

/// How the user chose the period.
#[derive(Debug, Clone)]
pub enum PeriodChoice {
    /// `--period 2026-10` (or a quarter, week, year).
    Named(PeriodKind),
    /// `--period previous`: the calendar month before today.
    Previous,
    /// `--from/--to`.
    Range {
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    },
    /// No period given: the latest calendar month that has tickets.
    Latest,
}

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub period: PeriodChoice,
    pub as_of: Option<String>,
    pub queries: Option<std::path::PathBuf>,
    /// A directory of source profiles beside the built-in ones (and the configuration's own
    /// `profiles/`).
    pub profiles: Option<std::path::PathBuf>,
    /// Whether the run writes the per-ticket ledger (which shows every field).
    pub ledger: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Ingest(#[from] ingest::IngestError),
    #[error(transparent)]
    Engine(#[from] crate::engine::EngineError),
    #[error(transparent)]
    Catalogue(#[from] crate::queries::CatalogueError),
    #[error("{0}")]
    Usage(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<PolarsError> for RunError {
    fn from(e: PolarsError) -> Self {
        RunError::Internal(e.to_string())
    }
}

pub struct RunResult {
    pub config: Config,
    pub period: Period,
    /// Said on stderr and in the report when the period was not given explicitly.
    pub period_note: Option<String>,
    pub as_of: DateTime<Utc>,
    pub kpis: Vec<KpiRow>,
    pub inputs: Vec<InputReport>,
    pub catalogue: Catalogue,
    pub quality: Quality,
    pub issues: DataFrame,
    pub engine: Engine,
    /// Text kept beside DuckDB, when the run writes the ledger.
    pub aside: Option<Aside>,
    /// The ledger's CSV, in pieces, when the run writes the ledger.
    pub ledger_csv: Option<Vec<Vec<u8>>>,
}

impl RunResult {
    /// The instants the run's queries were bound to.
    pub fn window(&self) -> Window {
        Window {
            start: self.period.start,
            end: self.period.end,
            as_of: self.as_of,
        }
    }

    /// Ends a run whose outputs are written. Closing DuckDB frees its tables one block at a
    /// time (a fifth of a second on a million tickets) just before the process exits and the
    /// system takes all its memory back at once; so the run is closed only when DuckDB has
    /// spilled to temporary files, which closing removes.
    pub fn leave(self) {
        if self.engine.spilled() {
            drop(self);
        } else {
            std::mem::forget(self);
        }
    }
}

/// DuckDB, opened on another thread while the exports are read. A run that fails before it
/// needs the engine still waits for it: a process must not exit while DuckDB is starting.
struct Opening(Option<std::thread::JoinHandle<Result<Engine, crate::engine::EngineError>>>);

impl Opening {
    fn start() -> Opening {
        Opening(Some(std::thread::spawn(|| {
            let _s = crate::log::background_stage("open DuckDB");
            Engine::new()
        })))
    }

    fn finish(mut self) -> Result<Engine, crate::engine::EngineError> {
        self.0
            .take()
            .expect("finished once")
            .join()
            .expect("opening DuckDB does not panic")
    }
}

impl Drop for Opening {
    fn drop(&mut self) {
        if let Some(handle) = self.0.take() {
            let _ = handle.join();
        }
    }
}

pub fn run(config: Config, options: &RunOptions) -> Result<RunResult, RunError> {
    let tz = config.report.timezone;
    let catalogue = Catalogue::load(
        options
            .queries
            .as_deref()
            .or(config.report.queries.as_deref()),
    )?;
    let opening = Opening::start();
    let Ingested {
        tickets,
        status_changes,
        issues,
        inputs,
        sources_with_history,
        sources_with_first_response,
        later,
    } = {
        let _s = crate::log::stage("ingest");
        let profiles: Vec<ingest::profile::Profile> =
            ingest::profile::load(&profile_dirs(&config, options.profiles.as_deref()))
                .map_err(ingest::IngestError::Source)?
                .into_iter()
                .map(|l| l.profile)
                .collect();
        ingest::ingest(
            &config,
            &profiles,
            &skip_fields(&config, &catalogue, options),
            &read_later(&config, &catalogue, options),
        )?
    };

    let (kind, period_note) = match &options.period {
        PeriodChoice::Named(k) => (*k, None),
        PeriodChoice::Range { from, to } => (
            PeriodKind::Range {
                from: *from,
                to: *to,
            },
            None,
        ),
        PeriodChoice::Previous => {
            let today = period::local_date(Utc::now(), tz);
            let k = period::previous_month(today);
            (
                k,
                Some(format!(
                    "--period previous: the month before today ({today}), {k}"
                )),
            )
        }
        PeriodChoice::Latest => {
            let latest = latest_created(&tickets)?.ok_or_else(|| {
                RunError::Usage(
                    "the inputs hold no ticket with a creation time; give --period".to_string(),
                )
            })?;
            let k = PeriodKind::month_of(period::local_date(latest, tz));
            (
                k,
                Some(format!(
                    "no --period given: reporting {k}, the latest calendar month with tickets in the inputs"
                )),
            )
        }
    };
    let period = Period::new(kind, tz).map_err(RunError::Usage)?;
    let as_of = match &options.as_of {
        Some(text) => {
            period::parse_as_of(text, tz).map_err(|e| RunError::Usage(format!("--as-of: {e}")))?
        }
        None => period.end,
    };
    let window = Window {
        start: period.start,
        end: period.end,
        as_of,
    };

    let facts = ledger::SourceFacts {
        with_history: &sources_with_history,
        with_first_response: &sources_with_first_response,
    };
    let tickets = {
        let _s = crate::log::stage("business clocks and SLAs");
        let clocks = ledger::compute(&tickets, &status_changes, &config, &facts, as_of)?;
        tickets.hstack(clocks.columns())?
    };
    let engine = opening.finish()?;
    {
        let _s = crate::log::stage("hand tickets and history to DuckDB");
        engine.load(
            "status_changes",
            &status_changes,
            &model::status_change_columns(),
        )?;
        engine.load(
            "sla_policy",
            &ledger::policy_table(&config)?,
            &ledger::policy_columns(),
        )?;
        engine.load(
            "trend_months",
            &trend_months(&period)?,
            &TREND_MONTH_COLUMNS,
        )?;
        engine.load(
            "cost_rates",
            &costs::rate_table(&config.costs)?,
            &costs::rate_columns(),
        )?;
        engine.load(
            "service_costs",
            &costs::service_cost_table(&config.costs, &period)?,
            &costs::service_cost_columns(),
        )?;
    }
    drop(status_changes);
    let macros = format!(
        "{}\n{}\n{}",
        ledger::config_macros(&config),
        costs::macros(&config.costs),
        trend_month_macro(&period)
    );
    engine.define_facts(&tickets, &macros)?;
    let mut tickets = crate::known::at(tickets, as_of)?;
    let runnable = engine.runnable(&catalogue)?;
    let mut derived = vec![("repeat_key", ledger::repeat_key_sql(&config.repeat.key))];
    if ledger::business_is_calendar(&config, &facts) {
        derived.extend(ledger::calendar_business_sql());
    }
    // The built-in ledger only passes the columns nothing computes with through (a ledger of
    // the user's own may compute with any of them).
    let derived_sql: Vec<&str> = derived.iter().map(|(_, sql)| sql.as_str()).collect();
    let named = |c: &str| computes_with(&catalogue, &runnable, &macros, &derived_sql, c);
    // Columns of the ledger that nothing computes with and no output shows: not stored.
    let mut unused: Vec<String> = Vec::new();
    if !options.ledger {
        unused.extend(
            skip_fields(&config, &catalogue, options)
                .iter()
                .map(|f| f.to_string()),
        );
        if catalogue.ledger.origin == "built-in" {
            unused.extend(
                aside::SHOWN_ONLY
                    .iter()
                    .chain(&["id", aside::POSITION, "paused_us"])
                    .filter(|c| !named(c))
                    .map(|c| c.to_string()),
            );
        }
    }
    // When the ledger is written, the text it only shows is kept aside (see `aside`).
    let aside =
        if options.ledger && catalogue.ledger.origin == "built-in" && !named(aside::POSITION) {
            let columns: Vec<&str> = aside::SHOWN_ONLY
                .iter()
                .copied()
                .filter(|c| !named(c))
                .collect();
            Some(Aside::split(&mut tickets, &columns, later)?)
        } else if later.is_empty() {
            None
        } else {
            return Err(RunError::Internal(
                "text left to read later, in a run that does not keep it aside".to_string(),
            ));
        };
    {
        let _s = crate::log::stage("ledger");
        engine.build_ledger(&catalogue.ledger, &window, &tickets, &derived, &unused)?;
    }
    drop(tickets);
    let ledger_conn = options.ledger.then(|| engine.connection()).transpose()?;
    let (kpis, ledger_csv) = std::thread::scope(|scope| {
        // The ledger to write is computed beside the KPI queries (see `report::ledger_file`).
        let ledger = ledger_conn.map(|conn| {
            let (aside, window) = (aside.as_ref(), &window);
            scope.spawn(move || crate::report::ledger_file::csv(aside, &conn, window))
        });
        let kpis = {
            let _s = crate::log::stage("KPI queries");
            engine.run_catalogue(&catalogue, &runnable, &window)
        };
        let ledger = ledger.map(|h| h.join().expect("the ledger's CSV does not panic"));
        (kpis, ledger.transpose())
    });
    let (kpis, ledger_csv) = (kpis?, ledger_csv?);
    engine.keep_result_order()?;
    let quality = {
        let _s = crate::log::stage("data quality");
        quality::assess(
            &engine,
            &issues,
            &inputs,
            &sources_with_history,
            &catalogue,
            &kpis,
        )?
    };
    Ok(RunResult {
        config,
        period,
        period_note,
        as_of,
        kpis,
        inputs,
        catalogue,
        quality,
        issues,
        engine,
        aside,
        ledger_csv,
    })
}

/// Fields not read from the exports: not core, and neither shown (no ledger written), named by a
/// KPI query, nor used by the configuration.
/// Where a run looks for profiles besides the built-in ones: the configuration's `profiles/`
/// (if there is one), then the directory given on the command line (which must exist).
pub fn profile_dirs(
    config: &Config,
    extra: Option<&std::path::Path>,
) -> Vec<(std::path::PathBuf, bool)> {
    let mut dirs = Vec::new();
    if config.path.is_some() {
        dirs.push((config.base_dir.join(ingest::profile::USER_DIR), true));
    }
    if let Some(dir) = extra {
        dirs.push((dir.to_path_buf(), false));
    }
    dirs
}

fn skip_fields(config: &Config, catalogue: &Catalogue, options: &RunOptions) -> Vec<&'static str> {
    let stands_in = |f: &str| {
        model::STAND_INS
            .iter()
            .any(|(field, stand_in)| *stand_in == f && catalogue.mentions(field, &[]))
    };
    let needed = |f: &str| {
        model::CORE_FIELDS.contains(&f)
            || options.ledger
            || catalogue.mentions(f, &[])
            || config.repeat.key.iter().any(|k| k == f)
            || stands_in(f)
    };
    model::canonical_fields()
        .into_iter()
        .filter(|f| !needed(f))
        .collect()
}

/// Whether anything computes with a ticket column: a family (those `runs` says run; every one
/// where it is empty), a configuration macro or a derived column's SQL.
fn computes_with(
    catalogue: &Catalogue,
    runs: &[bool],
    macros: &str,
    derived: &[&str],
    column: &str,
) -> bool {
    catalogue.mentions(column, runs)
        || queries::mentions(macros, column)
        || derived.iter().any(|sql| queries::mentions(sql, column))
}

/// The text fields read only for the ledger's rows (see `ingest::later`): in a run that writes
/// the built-in ledger, those no family (run or not), no configuration macro and no derived
/// column names, so that they are sure to be kept aside (see `aside`), which they are filled
/// in by.
fn read_later(config: &Config, catalogue: &Catalogue, options: &RunOptions) -> Vec<&'static str> {
    if !options.ledger || catalogue.ledger.origin != "built-in" {
        return Vec::new();
    }
    let macros = format!(
        "{}\n{}",
        ledger::config_macros(config),
        costs::macros(&config.costs)
    );
    let derived: Vec<String> = std::iter::once(ledger::repeat_key_sql(&config.repeat.key))
        .chain(ledger::calendar_business_sql().map(|(_, sql)| sql))
        .collect();
    let derived: Vec<&str> = derived.iter().map(String::as_str).collect();
    let anywhere = |c: &str| computes_with(catalogue, &[], &macros, &derived, c);
    // The kept-aside file and row find a ticket's text.
    if anywhere(aside::POSITION) || anywhere("source_file") {
        return Vec::new();
    }
    aside::READ_LATER
        .iter()
        .copied()
        .filter(|c| !anywhere(c))
        .collect()
}

const TREND_MONTH_COLUMNS: [(&str, model::ColumnType); 3] = [
    ("month", model::ColumnType::Text),
    ("month_start", model::ColumnType::Timestamp),
    ("month_end", model::ColumnType::Timestamp),
];

/// The twelve calendar months up to the period's end, with their local boundaries in UTC.
fn trend_months(period: &Period) -> PolarsResult<DataFrame> {
    let bounds = trend_bounds(period);
    let utc = DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC));
    DataFrame::new(
        bounds.len(),
        vec![
            Column::new(
                "month".into(),
                bounds.iter().map(|b| b.0.clone()).collect::<Vec<_>>(),
            ),
            Column::new(
                "month_start".into(),
                bounds.iter().map(|b| b.1).collect::<Vec<_>>(),
            )
            .cast(&utc)?,
            Column::new(
                "month_end".into(),
                bounds.iter().map(|b| b.2).collect::<Vec<_>>(),
            )
            .cast(&utc)?,
        ],
    )
}

/// `trend_month(t)`: the trend month (`2026-10`) an instant falls in, null outside the twelve.
/// A chain of comparisons with constants: a range join of every ticket with `trend_months`
/// would sort them all.
fn trend_month_macro(period: &Period) -> String {
    let at = |us: i64| {
        crate::engine::sql_instant(
            DateTime::<Utc>::from_timestamp_micros(us).expect("a month boundary is in range"),
        )
    };
    let bounds = trend_bounds(period);
    let mut cases = String::new();
    if let Some(first) = bounds.first() {
        cases.push_str(&format!(" WHEN t < {} THEN NULL", at(first.1)));
    }
    for (month, _, end) in &bounds {
        cases.push_str(&format!(" WHEN t < {} THEN '{month}'", at(*end)));
    }
    format!("CREATE OR REPLACE MACRO trend_month(t) AS CASE{cases} END;")
}

/// Each trend month's name and local boundaries, in microseconds since the epoch.
fn trend_bounds(period: &Period) -> Vec<(String, i64, i64)> {
    let tz = period.timezone;
    let last = period::local_date(period.end - chrono::Duration::microseconds(1), tz);
    let mut months = vec![PeriodKind::month_of(last)];
    for _ in 1..12 {
        let previous = months.last().expect("not empty").previous();
        months.push(previous);
    }
    months.reverse();
    months
        .iter()
        .map(|m| {
            let (first, next) = m.dates();
            (
                m.to_string(),
                period::local_midnight(first, tz).timestamp_micros(),
                period::local_midnight(next, tz).timestamp_micros(),
            )
        })
        .collect()
}

fn latest_created(tickets: &DataFrame) -> Result<Option<DateTime<Utc>>, RunError> {
    let max = tickets
        .clone()
        .lazy()
        .select([col("created_at").max().cast(DataType::Int64)])
        .collect()?;
    let v = max.column("created_at")?.i64()?.get(0);
    Ok(v.and_then(DateTime::<Utc>::from_timestamp_micros))
}
