//! One run, in one direction: configuration → ingest → clocks → DuckDB (the ledger, the KPI
//! families and the report's tables) → results that every output is written from.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use polars::prelude::*;

use crate::config::Config;
use crate::costs;
use crate::engine::{Engine, TicketColumns, TicketFacts, Window};
use crate::ingest::{self, Ingested, InputReport};
use crate::kpi::KpiRow;
use crate::macros;
use crate::model;
use crate::period::{self, Period, PeriodKind};
use crate::quality::{self, Quality};
use crate::queries::{self, Catalogue, QueryFile};
use crate::store::StoredTickets;
use crate::table::Tables;
use crate::ticket_clocks;

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
    /// Whether the run computes the tables a report shows besides the KPIs (the period's
    /// tickets for `ledger.csv`, breach lists, reconciliation, ...; `queries/tables/`).
    pub report: bool,
    /// Whether the run measures the period before too, when the inputs hold it, for the
    /// report's changes (`report` without `--previous`, and `publish`).
    pub previous: bool,
    /// A ticket store (`deskpulse ingest --store`) to read the tickets from, instead of the
    /// configuration's exports.
    pub store: Option<PathBuf>,
    /// Ticket ids whose ledger rows and histories the run computes (`explain`), in the tables
    /// [`queries::EXPLAIN_TABLES`]; an id no export has is an error.
    pub explain: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Ingest(#[from] ingest::IngestError),
    #[error(transparent)]
    Engine(#[from] crate::engine::EngineError),
    #[error(transparent)]
    Catalogue(#[from] crate::queries::CatalogueError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
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
    /// Said on stderr and at the top of the report when no ticket was created or resolved in
    /// the period: what range the inputs do hold.
    pub empty_period_note: Option<String>,
    pub as_of: DateTime<Utc>,
    /// When the first ticket of the inputs was created.
    pub created_from: Option<DateTime<Utc>>,
    pub kpis: Vec<KpiRow>,
    /// The KPIs of the period before, measured from the same inputs (see
    /// [`RunOptions::previous`]).
    pub previous: Option<PeriodKpis>,
    pub inputs: Vec<InputReport>,
    pub catalogue: Catalogue,
    pub quality: Quality,
    /// The tables the run computed (see [`RunOptions::report`]).
    pub tables: Tables,
    /// Every file the run took as input, by canonical path: no output may replace one.
    pub input_files: Vec<PathBuf>,
}

/// The KPI rows of one period.
pub struct PeriodKpis {
    pub period: Period,
    pub kpis: Vec<KpiRow>,
}

/// One run, stage by stage: ingest, clocks, engine; the outputs are written from its result.
pub fn run(config: Config, options: &RunOptions) -> Result<RunResult, RunError> {
    let catalogue = Catalogue::load(
        options
            .queries
            .as_deref()
            .or(config.report.queries.as_deref()),
    )?;
    let mut ingested = read_inputs(&config, options)?;
    if !options.explain.is_empty() {
        tickets_to_explain_exist(&ingested.tickets, options)?;
    }
    let created_span = created_span(&ingested.tickets.columns(&["created_at"])?)?;
    let (period, period_note) = choose_period(&config, options, created_span)?;
    let as_of = match &options.as_of {
        Some(text) => period::parse_as_of(text, period.timezone)
            .map_err(|e| RunError::Usage(format!("--as-of: {e}")))?,
        None => period.end,
    };
    // The period before first, so that the run's period is the tickets' last use: they are
    // freed once DuckDB holds them, before its queries and the report's tables run.
    let previous = match options.previous && holds_period(created_span, &period.previous()) {
        true => Some(measure_previous(
            &config,
            &catalogue,
            &mut ingested,
            &period,
        )?),
        false => None,
    };
    let (engine, kpis) = measure(&config, &catalogue, &mut ingested, &period, as_of, true)?;
    thresholds_name_kpis(&config, &catalogue, &kpis)?;
    let empty_period_note = empty_period_note(&kpis, created_span, &period);
    if !options.explain.is_empty() {
        load_explain_ids(&engine, &options.explain)?;
    }
    let window = Window {
        start: period.start,
        end: period.end,
        as_of,
    };
    let tables = engine.run_tables(&tables_to_run(&catalogue, options), &window)?;
    drop(engine);

    let Ingested {
        inputs,
        sources_with_history,
        ..
    } = ingested;
    let quality = quality::assess(&tables, &inputs, &sources_with_history, &catalogue, &kpis);
    let input_files = files_read(&config, options, &inputs);
    Ok(RunResult {
        config,
        period,
        period_note,
        empty_period_note,
        as_of,
        created_from: created_span.map(|(first, _)| first),
        kpis,
        previous,
        inputs,
        catalogue,
        quality,
        tables,
        input_files,
    })
}

/// The ids `deskpulse explain` asks for are tickets of the run, else a usage error.
fn tickets_to_explain_exist(tickets: &Tickets, options: &RunOptions) -> Result<(), RunError> {
    let read_from = match &options.store {
        Some(store) => format!("the store {}", store.display()),
        None => "these exports".to_string(),
    };
    tickets_exist(&tickets.columns(&["id"])?, &options.explain, &read_from)
}

/// The KPIs of the period before `period`, measured at its end from the same inputs.
fn measure_previous(
    config: &Config,
    catalogue: &Catalogue,
    ingested: &mut Ingested<Tickets>,
    period: &Period,
) -> Result<PeriodKpis, RunError> {
    let _s = crate::log::stage("previous period");
    let period = period.previous();
    let (_, kpis) = measure(config, catalogue, ingested, &period, period.end, false)?;
    Ok(PeriodKpis { period, kpis })
}

/// The ids to explain, once each, as the table `explain_ids` the explain tables read.
fn load_explain_ids(engine: &Engine, explain: &[String]) -> Result<(), RunError> {
    let mut ids = explain.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let ids = DataFrame::new_infer_height(vec![Column::new("id".into(), ids)])?;
    engine.load("explain_ids", &ids, &[("id", model::ColumnType::Text)])?;
    Ok(())
}

/// The catalogue's tables this run needs: the data-quality account's always, the explain
/// tables under `explain`, the rest for a report. The ledger's rows, a row for every ticket of
/// the period, are by far the largest result: they come last, so that they are not held while
/// the other tables' queries take their working memory. From a store of ten million tickets,
/// the report peaked at 4.5 GiB with them held, 3.75 GiB with them last.
fn tables_to_run<'a>(catalogue: &'a Catalogue, options: &RunOptions) -> Vec<&'a QueryFile> {
    let explaining = !options.explain.is_empty();
    let mut tables: Vec<&QueryFile> = catalogue
        .tables
        .iter()
        .filter(|t| {
            let id = t.id.as_str();
            queries::QUALITY_TABLES.contains(&id)
                || if queries::EXPLAIN_TABLES.contains(&id) {
                    explaining
                } else {
                    options.report
                }
        })
        .collect();
    tables.sort_by_key(|t| t.id == queries::LEDGER_ROWS);
    tables
}

/// The clocks and the engine for one period, measured at `as_of`: the engine (its ledger and
/// views, for the report's tables) and the catalogue's KPI rows. The run's `last` measure
/// frees the tickets and status changes it read once DuckDB holds them, before the queries
/// run.
fn measure(
    config: &Config,
    catalogue: &Catalogue,
    ingested: &mut Ingested<Tickets>,
    period: &Period,
    as_of: DateTime<Utc>,
    last: bool,
) -> Result<(Engine, Vec<KpiRow>), RunError> {
    let business_minutes_only =
        InputReport::sources_where(&ingested.inputs, |i| i.first_response_business_only);
    let facts = ticket_clocks::SourceFacts {
        with_history: &ingested.sources_with_history,
        with_first_response: &ingested.sources_with_first_response,
        business_minutes_only: &business_minutes_only,
    };
    let engine = Engine::new()?;
    let status_changes = for_this_use(&mut ingested.status_changes, last);
    let issues = for_this_use(&mut ingested.issues, last);
    load_tables(&engine, config, period, status_changes.clone(), issues)?;
    let macros = [
        macros::config_macros(config),
        macros::reconciliation_macros(config, &ingested.inputs),
        costs::macros(&config.costs),
        trend_month_macro(period),
    ];
    let mut derived = vec![("repeat_key", macros::repeat_key_sql(&config.repeat.key))];
    if ticket_clocks::business_is_calendar(config, &facts) {
        derived.extend(macros::calendar_business_sql());
    }
    let mut constants = ingested.tickets.constants();
    constants.extend(ticket_clocks::constant_columns(config, &facts));
    let columns = engine.create_tickets(&derived, &constants)?;
    let parts = match last {
        true => ingested.tickets.take_parts(),
        false => ingested.tickets.parts(),
    };
    let held = hand_over_tickets(
        &engine,
        config,
        parts,
        status_changes,
        &facts,
        as_of,
        &columns,
    )?;
    engine.define_facts(&held, &macros.join("\n"))?;
    let window = Window {
        start: period.start,
        end: period.end,
        as_of,
    };
    {
        let _s = crate::log::stage("ledger");
        engine.build_ledger(&catalogue.ledger, &window, &columns)?;
    }
    let runnable = engine.runnable(catalogue)?;
    let kpis = {
        let _s = crate::log::stage("KPI queries");
        engine.run_catalogue(catalogue, &runnable, &window)?
    };
    Ok((engine, kpis))
}

/// A table of the run for one measure: the run's own on its `last` use, so that it is freed
/// with the measure's copy, else a copy (which shares its buffers).
fn for_this_use(table: &mut DataFrame, last: bool) -> DataFrame {
    match last {
        true => std::mem::replace(table, DataFrame::empty()),
        false => table.clone(),
    }
}

/// Computes the clocks of each part of the tickets, at `as_of` and from the status changes,
/// and hands the part to DuckDB (as `columns` says); what the tickets hold, for the families'
/// `runs_if` conditions.
fn hand_over_tickets(
    engine: &Engine,
    config: &Config,
    parts: TicketParts<'_>,
    status_changes: DataFrame,
    facts: &ticket_clocks::SourceFacts,
    as_of: DateTime<Utc>,
    columns: &TicketColumns,
) -> Result<TicketFacts, RunError> {
    let histories = ticket_clocks::Histories::of(&status_changes, config, facts)?;
    let mut held = TicketFacts::default();
    for tickets in parts {
        let tickets = tickets?;
        let tickets = {
            let _s = crate::log::stage("business clocks and SLAs");
            let clocks = ticket_clocks::compute(&tickets, &histories, config, facts, as_of)?;
            tickets.hstack(clocks.columns())?
        };
        held.observe(&tickets)?;
        let tickets = crate::known::as_known_at(tickets, as_of)?;
        engine.add_tickets(columns, &tickets)?;
    }
    Ok(held)
}

/// Every id asked for is some ticket's; else an error naming the ids closest to it, and what
/// the tickets were read from (`read_from`).
fn tickets_exist(tickets: &DataFrame, ids: &[String], read_from: &str) -> Result<(), RunError> {
    let known: Vec<&str> = tickets.column("id")?.str()?.iter().flatten().collect();
    for id in ids {
        if known.contains(&id.as_str()) {
            continue;
        }
        let mut near: Vec<(usize, &str)> = known
            .iter()
            .map(|k| (strsim::levenshtein(id, k), *k))
            .collect();
        near.sort_unstable();
        near.dedup();
        let near: Vec<&str> = near.iter().take(3).map(|(_, k)| *k).collect();
        return Err(RunError::Usage(format!(
            "no ticket {id} in {read_from}; the nearest ids are {}",
            near.join(", ")
        )));
    }
    Ok(())
}

/// Whether the inputs hold a whole period: some ticket was created on its first day or before
/// (exports that start on the 1st hold that month). A period the exports begin inside of would
/// compare a part with a whole.
fn holds_period(created: Option<Span>, period: &Period) -> bool {
    created
        .is_some_and(|(first, _)| period::local_date(first, period.timezone) <= period.first_date)
}

/// The configuration, the exports and their related files, and every file in the directories of
/// the user's queries, profiles and templates, each by its canonical path (symlinks resolved).
fn files_read(config: &Config, options: &RunOptions, inputs: &[InputReport]) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = config.path.iter().cloned().collect();
    files.extend(
        config
            .report
            .commentary
            .iter()
            .map(|(path, _)| path.clone()),
    );
    files.extend(inputs.iter().flat_map(|i| i.files.iter().cloned()));
    files.extend(
        options
            .store
            .iter()
            .map(|store| store.join(crate::store::MANIFEST)),
    );
    let dirs = profile_dirs(config, options.profiles.as_deref())
        .into_iter()
        .map(|(dir, _)| dir)
        .chain(options.queries.clone().or(config.report.queries.clone()))
        .chain(config.report.templates.clone());
    for dir in dirs {
        files.extend(files_under(&dir, 2));
    }
    let mut canonical: Vec<PathBuf> = files.iter().filter_map(|f| f.canonicalize().ok()).collect();
    canonical.sort();
    canonical.dedup();
    canonical
}

/// The files in `dir` and, `depth` levels down, in its subdirectories (`queries/tables/`).
fn files_under(dir: &Path, depth: usize) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files = Vec::new();
    for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
        if path.is_dir() {
            if depth > 1 {
                files.extend(files_under(&path, depth - 1));
            }
        } else {
            files.push(path);
        }
    }
    files
}

/// Every `[thresholds]` entry names a KPI of the catalogue or one a user's family computed: a
/// misspelt one would otherwise go unnoticed under `kpis` and `report`.
fn thresholds_name_kpis(
    config: &Config,
    catalogue: &Catalogue,
    kpis: &[KpiRow],
) -> Result<(), RunError> {
    let unknown: Vec<&str> = config
        .thresholds
        .keys()
        .filter(|kpi| catalogue.meta(kpi).is_none() && !kpis.iter().any(|r| &r.kpi == *kpi))
        .map(String::as_str)
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    let mut known: Vec<&str> = catalogue.kpis.keys().map(String::as_str).collect();
    known.sort_unstable();
    Err(RunError::Usage(format!(
        "[thresholds] {}: no KPI of that name; the catalogue's KPIs are {}",
        unknown.join(", "),
        known.join(", ")
    )))
}

/// The tickets of the run: from the store when one is given, else every export of the
/// configuration, through the profiles it may use.
fn read_inputs(config: &Config, options: &RunOptions) -> Result<Ingested<Tickets>, RunError> {
    if let Some(store) = &options.store {
        let _s = crate::log::stage("read the ticket store");
        if !config.sources.is_empty() {
            crate::log::note(&format!(
                "the tickets are read from the store {}; the configuration's [[sources]] are \
                 not (`deskpulse ingest` adds them to it)",
                store.display()
            ));
        }
        let stored = crate::store::load(store)?;
        let missing = not_in_store(config, &stored.inputs);
        if !missing.is_empty() {
            crate::log::note(&format!(
                "warning: [[sources]] names exports that are not in the store, so not in this \
                 run (`deskpulse ingest` adds them): {}",
                missing.join(", ")
            ));
        }
        return Ok(stored.map_tickets(Tickets::Stored));
    }
    let _s = crate::log::stage("ingest");
    let profiles = load_profiles(config, options.profiles.as_deref())?;
    Ok(ingest::ingest(config, &profiles)?.map_tickets(Tickets::Read))
}

/// The run's tickets: the exports' frame, or a store's files, read a part at a time so that
/// the history is never held twice, as a frame and as DuckDB's table.
pub enum Tickets {
    Read(DataFrame),
    Stored(StoredTickets),
}

impl Tickets {
    /// Those columns of every ticket.
    fn columns(&self, names: &[&str]) -> Result<DataFrame, RunError> {
        Ok(match self {
            Tickets::Read(tickets) => tickets.select(names.iter().copied())?,
            Tickets::Stored(stored) => stored.columns(names)?,
        })
    }

    /// The canonical columns that hold one value in every ticket, as SQL literals, for DuckDB
    /// to be given as constants rather than stored row by row: from the exports, those of one
    /// value as read (the source of a one-file run, a profile's default kind, a field the
    /// exports leave empty); from a store, the fields no stored ticket has a value in. An event
    /// as_of may hide ([`crate::known::EVENTS`]) is one only where it is empty throughout.
    fn constants(&self) -> Vec<(&'static str, String)> {
        let canonical = model::ticket_columns().into_iter().map(|(c, _)| c);
        match self {
            Tickets::Read(tickets) => canonical
                .filter_map(|c| {
                    let value = crate::sql::constant_literal(tickets.column(c).ok()?)?;
                    let hidden_later = crate::known::EVENTS.contains(&c) && value != "NULL";
                    (!hidden_later).then_some((c, value))
                })
                .collect(),
            Tickets::Stored(stored) => canonical
                .filter(|c| !stored.is_filled(c))
                .map(|c| (c, "NULL".to_string()))
                .collect(),
        }
    }

    /// The tickets, a part at a time (at least one part, perhaps empty).
    fn parts(&self) -> TicketParts<'_> {
        match self {
            Tickets::Read(tickets) => in_parts(tickets.clone()),
            Tickets::Stored(stored) => Box::new(stored.parts().map(|p| Ok(p?))),
        }
    }

    /// [`Tickets::parts`] for the run's last use of the tickets: those read from the exports
    /// are handed over and not kept, so that they are freed once DuckDB holds them.
    fn take_parts(&mut self) -> TicketParts<'_> {
        match self {
            Tickets::Read(tickets) => in_parts(std::mem::replace(tickets, DataFrame::empty())),
            Tickets::Stored(_) => self.parts(),
        }
    }
}

/// The tickets read from the exports, a part at a time ([`parts_of`]).
fn in_parts<'a>(tickets: DataFrame) -> TicketParts<'a> {
    Box::new(parts_of(tickets).into_iter().map(|mut part| {
        part.rechunk_mut_par();
        Ok(part)
    }))
}

/// The tickets' pieces (the stretches of an export read a stretch at a time, the files of a
/// source) joined into parts of at least [`PART_ROWS`] tickets, each made one piece only when
/// its turn comes, so that the tickets are never copied whole and each part is freed once
/// handed over. A frame of one piece is one part, as it is.
fn parts_of(frame: DataFrame) -> Vec<DataFrame> {
    let Some(first) = frame.columns().iter().find_map(Column::as_series) else {
        return vec![frame];
    };
    let mut bounds = vec![0];
    let mut rows = 0;
    for length in first.chunk_lengths() {
        rows += length;
        if rows - bounds.last().expect("not empty") >= PART_ROWS {
            bounds.push(rows);
        }
    }
    if *bounds.last().expect("not empty") < rows {
        bounds.push(rows);
    }
    if bounds.len() <= 2 {
        return vec![frame];
    }
    bounds
        .windows(2)
        .map(|w| frame.slice(w[0] as i64, w[1] - w[0]))
        .collect()
}

/// The fewest tickets a part of those read from the exports holds (but the last): DuckDB
/// appends a small part at a higher cost per row (docs/benchmarks.md).
const PART_ROWS: usize = 500_000;

/// The run's tickets, a part at a time.
type TicketParts<'a> = Box<dyn Iterator<Item = Result<DataFrame, RunError>> + 'a>;

/// The exports of the configuration that no file of the store was read under the name of
/// (a re-export saved under the same name is `name (2)` there). By name only: an export
/// changed since it was ingested is not seen.
fn not_in_store(config: &Config, stored: &[InputReport]) -> Vec<String> {
    let stored: Vec<&str> = stored.iter().map(|i| i.path.as_str()).collect();
    not_held(ingest::export_names(config), &stored)
}

/// The names of `exports` that no stored file was shown under, itself or numbered.
fn not_held(exports: Vec<String>, stored: &[&str]) -> Vec<String> {
    // A name the export really has that looks numbered (`export (2)`) is held as it is too.
    let held: std::collections::BTreeSet<&str> = stored
        .iter()
        .flat_map(|path| [*path, ingest::name_before_numbering(path)])
        .collect();
    exports
        .into_iter()
        .filter(|name| !held.contains(name.as_str()))
        .collect()
}

/// The built-in profiles, the configuration's own and those of `--profiles` (`extra`).
pub fn load_profiles(
    config: &Config,
    extra: Option<&Path>,
) -> Result<Vec<ingest::profile::Profile>, RunError> {
    Ok(ingest::profile::load(&profile_dirs(config, extra))
        .map_err(ingest::IngestError::Source)?
        .into_iter()
        .map(|l| l.profile)
        .collect())
}

/// The period the user chose, and what to tell them when they did not name it.
fn choose_period(
    config: &Config,
    options: &RunOptions,
    created: Option<Span>,
) -> Result<(Period, Option<String>), RunError> {
    let tz = config.report.timezone;
    let (kind, note) = match &options.period {
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
            let note = format!("--period previous: the month before today ({today}), {k}");
            (k, Some(note))
        }
        PeriodChoice::Latest => {
            let latest = created.map(|(_, last)| last).ok_or_else(|| {
                RunError::Usage(
                    "the inputs hold no ticket with a creation time; give --period".to_string(),
                )
            })?;
            let k = PeriodKind::month_of(period::local_date(latest, tz));
            let note = format!(
                "no --period given: reporting {k}, the latest calendar month with tickets in the inputs"
            );
            (k, Some(note))
        }
    };
    Ok((Period::new(kind, tz).map_err(RunError::Usage)?, note))
}

/// Hands DuckDB the tables besides the tickets: status history, SLA policies, trend months,
/// cost rates and fixed costs, and the ingest issues.
fn load_tables(
    engine: &Engine,
    config: &Config,
    period: &Period,
    status_changes: DataFrame,
    issues: DataFrame,
) -> Result<(), RunError> {
    let _s = crate::log::stage("hand tables to DuckDB");
    engine.load(
        "status_changes",
        &status_changes,
        &model::status_change_columns(),
    )?;
    engine.load(
        "sla_policy",
        &ticket_clocks::policy_table(config)?,
        &ticket_clocks::policy_columns(),
    )?;
    engine.load("trend_months", &trend_months(period)?, &TREND_MONTH_COLUMNS)?;
    engine.load(
        "cost_rates",
        &costs::rate_table(&config.costs)?,
        &costs::rate_columns(),
    )?;
    engine.load(
        "service_costs",
        &costs::service_cost_table(&config.costs, period)?,
        &costs::service_cost_columns(),
    )?;
    engine.load("ingest_issues", &issues, &model::issue_columns())?;
    engine.load(
        "report_breakdowns",
        &breakdown_table(&config.report.breakdowns)?,
        &BREAKDOWN_TABLE_COLUMNS,
    )?;
    Ok(())
}

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

const BREAKDOWN_TABLE_COLUMNS: [(&str, model::ColumnType); 2] = [
    ("position", model::ColumnType::Int),
    ("name", model::ColumnType::Text),
];

/// `[report] breakdowns` in their order, for queries/tables/breakdowns.sql.
fn breakdown_table(names: &[String]) -> PolarsResult<DataFrame> {
    DataFrame::new(
        names.len(),
        vec![
            Column::new(
                "position".into(),
                (0..names.len() as i64).collect::<Vec<_>>(),
            ),
            Column::new("name".into(), names.to_vec()),
        ],
    )
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
        crate::sql::sql_instant(
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

/// A first and a last instant.
type Span = (DateTime<Utc>, DateTime<Utc>);

/// The first and the last creation instant among the tickets read.
fn created_span(tickets: &DataFrame) -> Result<Option<Span>, RunError> {
    let span = tickets
        .clone()
        .lazy()
        .select([
            col("created_at").min().cast(DataType::Int64).alias("first"),
            col("created_at").max().cast(DataType::Int64).alias("last"),
        ])
        .collect()?;
    let instant = |name: &str| -> Result<Option<DateTime<Utc>>, RunError> {
        let v = span.column(name)?.i64()?.get(0);
        Ok(v.and_then(DateTime::<Utc>::from_timestamp_micros))
    };
    Ok(instant("first")?.zip(instant("last")?))
}

/// A plain word when the period holds no activity at all (a month before the exports begin, or
/// one they were not yet refreshed for): every KPI is then empty for that reason, not because
/// the exports lack a field.
fn empty_period_note(kpis: &[KpiRow], created: Option<Span>, period: &Period) -> Option<String> {
    let total = |kpi: &str| {
        kpis.iter()
            .find(|r| r.kpi == kpi && r.dimension == "all")
            .map(|r| r.value.unwrap_or(0.0))
    };
    // Without the volume family's rows (a user's catalogue), there is nothing to go by.
    let created_in_period = total("tickets_created")?;
    if created_in_period > 0.0 || total("tickets_resolved").unwrap_or(0.0) > 0.0 {
        return None;
    }
    let label = period.label();
    let held = match created {
        Some((first, last)) => format!(
            "they hold tickets created from {} to {}",
            period::local_date(first, period.timezone),
            period::local_date(last, period.timezone)
        ),
        None => "they hold no ticket with a creation time".to_string(),
    };
    Some(format!(
        "the inputs hold no ticket created or resolved in {label}; {held}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_runs_the_ledgers_rows_last_and_every_table_once() {
        let catalogue = Catalogue::load(None).unwrap();
        let options = RunOptions {
            period: PeriodChoice::Latest,
            as_of: None,
            queries: None,
            profiles: None,
            report: true,
            previous: false,
            store: None,
            explain: Vec::new(),
        };
        let run: Vec<&str> = tables_to_run(&catalogue, &options)
            .iter()
            .map(|t| t.id.as_str())
            .collect();
        assert_eq!(run.last(), Some(&queries::LEDGER_ROWS));
        let mut expected: Vec<&str> = catalogue
            .tables
            .iter()
            .map(|t| t.id.as_str())
            .filter(|id| !queries::EXPLAIN_TABLES.contains(id))
            .collect();
        let mut sorted = run.clone();
        sorted.sort_unstable();
        expected.sort_unstable();
        assert_eq!(sorted, expected);
    }

    #[test]
    fn pieces_join_into_parts_of_every_row_in_order() {
        let piece = |from: u32, rows: u32| {
            let id = Column::new("id".into(), (from..from + rows).collect::<Vec<_>>());
            let desk = Scalar::new(DataType::String, AnyValue::StringOwned("desk".into()));
            let source = Column::new_scalar("source".into(), desk, rows as usize);
            DataFrame::new(rows as usize, vec![id, source]).unwrap()
        };
        let sizes = [300_000, 300_000, 100_000, 600_000, 10];
        let mut frame = piece(0, 0);
        let mut from = 0;
        for rows in sizes {
            frame.vstack_mut_owned(piece(from, rows)).unwrap();
            from += rows;
        }
        let parts = parts_of(frame);
        let heights: Vec<usize> = parts.iter().map(DataFrame::height).collect();
        assert_eq!(heights, [600_000, 700_000, 10]);
        let ids: Vec<u32> = parts
            .iter()
            .flat_map(|p| {
                p.column("id")
                    .unwrap()
                    .u32()
                    .unwrap()
                    .into_no_null_iter()
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(ids, (0..from).collect::<Vec<_>>());
        assert_eq!(
            parts_of(piece(0, 700_000)).len(),
            1,
            "one piece is one part"
        );
        assert_eq!(parts_of(piece(0, 0)).len(), 1, "an empty frame is one part");
    }

    #[test]
    fn exports_held_under_their_name_or_a_numbered_one_are_not_missing() {
        let exports = ["exports/a.csv", "exports/export (2)", "exports/b.csv"]
            .map(String::from)
            .to_vec();
        let stored = ["exports/a.csv", "exports/a.csv (2)", "exports/export (2)"];
        assert_eq!(not_held(exports.clone(), &stored), ["exports/b.csv"]);
        assert_eq!(not_held(exports, &["exports/b.csv (3)"]).len(), 2);
    }
}
