//! The command line: clap definitions, and the mapping of outcomes to exit codes.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::Config;
use crate::kpi::KpiRow;
use crate::period::{PeriodKind, parse_date};
use crate::pipeline::{self, PeriodChoice, RunOptions, RunResult};
use crate::report;

/// Exit codes: what a CI job branches on.
pub mod exit {
    /// The run succeeded (and, for `check`, every threshold held).
    pub const OK: u8 = 0;
    /// `check`: at least one threshold was breached.
    pub const BREACHED: u8 = 1;
    /// Usage, configuration or input error: nothing was computed.
    pub const ERROR: u8 = 2;
}

#[derive(Debug, Parser)]
#[command(
    name = "deskpulse",
    version,
    about = "Service-desk KPIs from help-desk exports: MTTR, backlog, reopens, SLA, as HTML, Markdown and JSON",
    long_about = "deskpulse reads ticket exports (ServiceNow CSV or JSON, ...), computes the KPIs of its \
                  contract (docs/kpis.md) for a period, and writes reports. The same inputs, configuration \
                  and --as-of always give the same numbers.",
    after_help = "Examples:\n  deskpulse report sample_data\n  deskpulse report deskpulse.toml --period 2026-10 --out reports/2026-10\n  deskpulse kpis --config deskpulse.toml --period 2026-Q4 --format json"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Print errors only.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Also print each stage of the run and how long it took.
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// Threads for reading and computing (default: one per core). Outputs are the same bytes
    /// whatever the number.
    #[arg(short = 'j', long, global = true, value_name = "N")]
    pub threads: Option<std::num::NonZeroUsize>,
    /// Memory the SQL engine may hold, such as 2GiB; beyond it, it spills to a temporary
    /// directory. Reading the exports is not capped by it.
    #[arg(long, global = true, value_name = "SIZE")]
    pub memory_limit: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compute the KPIs and write report.html, report.md, kpis.json, ledger.csv, rejects.csv and manifest.json.
    Report(ReportArgs),
    /// Compute the KPIs and print them (table, JSON or CSV).
    Kpis(KpisArgs),
    /// Check the configuration's [thresholds]: exit 0 when all hold, 1 when any is breached.
    Check(CheckArgs),
    /// Add the period to a static site: its report, its kpis.json in the history, and a
    /// dashboard over every period.
    Publish(PublishArgs),
    /// Why a ticket counts as it does: its timeline, calendar, durations, SLA verdicts, the
    /// period each KPI counts it in, and the help desk's own figures.
    Explain(ExplainArgs),
    /// List the source profiles (built-in and your own) or print one, to start your own from.
    Profiles(ProfilesArgs),
    /// Add the configuration's exports to a ticket store (Parquet, one directory per source and
    /// month): files it holds already are skipped, later versions of its tickets replace older
    /// ones. `report --store` then reads the store instead of the exports.
    Ingest(IngestArgs),
    /// What a ticket store holds: its sources, tickets and months, and the files it read.
    Store(StoreArgs),
    /// What an export holds and how deskpulse reads it: its columns, sample values, the field
    /// each feeds, the formats that read its dates, unknown values, and a starter profile (TOML
    /// on stdout: `deskpulse inspect export.csv > profiles/mine.toml`).
    Inspect(InspectArgs),
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// A deskpulse.toml, a directory (its deskpulse.toml, else every export in it) or one export file.
    #[arg(value_name = "CONFIG_OR_DIR")]
    pub input: Option<PathBuf>,
    /// The configuration file (instead of CONFIG_OR_DIR).
    #[arg(short, long, value_name = "FILE", conflicts_with = "input")]
    pub config: Option<PathBuf>,
    /// The ticket store: a directory, made on the first ingest.
    #[arg(long, value_name = "DIR", required = true)]
    pub store: PathBuf,
    /// A directory of source profiles, as given to the report.
    #[arg(long, value_name = "DIR")]
    pub profiles: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct StoreArgs {
    #[command(subcommand)]
    pub action: StoreAction,
}

#[derive(Debug, Subcommand)]
pub enum StoreAction {
    /// Its sources, tickets and months of creation, and every file ingested.
    Info {
        /// The ticket store's directory.
        #[arg(value_name = "DIR")]
        store: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The export: CSV, JSON, NDJSON or a workbook (.xlsx, .ods, .xls), gzipped or not.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Its text encoding when it is not UTF-8 and has no byte-order mark (`windows-1252`).
    #[arg(long, value_name = "LABEL")]
    pub encoding: Option<String>,
    /// The worksheet of a workbook to read (default: the first).
    #[arg(long, value_name = "NAME")]
    pub sheet: Option<String>,
    /// A deskpulse.toml or its directory: its `profiles/` directory is tried too.
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// A directory of your own profiles (*.toml), tried with the built-in ones.
    #[arg(long, value_name = "DIR")]
    pub profiles: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExplainFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A deskpulse.toml, a directory (its deskpulse.toml, else every export in it) or one export file.
    #[arg(value_name = "CONFIG_OR_DIR")]
    pub input: PathBuf,
    /// The tickets' ids, as the help desk writes them.
    #[arg(value_name = "ID", required = true)]
    pub ids: Vec<String>,
    /// The period whose KPIs the ticket is explained for (as `report --period`).
    #[arg(short, long, value_name = "PERIOD")]
    pub period: Option<String>,
    /// First day of a custom period (as `report --from`).
    #[arg(long, value_name = "DATE", requires = "to", conflicts_with = "period")]
    pub from: Option<String>,
    /// Day after the last day of a custom period (exclusive).
    #[arg(long, value_name = "DATE", requires = "from")]
    pub to: Option<String>,
    /// The instant the KPIs are computed at; default: the period's end.
    #[arg(long, value_name = "INSTANT")]
    pub as_of: Option<String>,
    /// A directory of KPI SQL files, as given to the report.
    #[arg(long, value_name = "DIR")]
    pub queries: Option<PathBuf>,
    /// A directory of source profiles, as given to the report.
    #[arg(long, value_name = "DIR")]
    pub profiles: Option<PathBuf>,
    /// A ticket store to read the tickets from, as given to the report.
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,
    /// Output format.
    #[arg(short, long, value_enum, default_value = "text")]
    pub format: ExplainFormat,
}

#[derive(Debug, Args)]
pub struct ProfilesArgs {
    #[command(subcommand)]
    pub action: ProfilesAction,
    /// A deskpulse.toml or its directory: its `profiles/` directory is listed too.
    #[arg(short, long, value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,
    /// A directory of your own profiles (*.toml).
    #[arg(long, value_name = "DIR", global = true)]
    pub profiles: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ProfilesAction {
    /// Every profile: name, title, origin and the columns that detect it.
    List,
    /// A profile's TOML, as written.
    Show {
        /// The profile's name, as `profiles list` shows it.
        name: String,
    },
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// The site directory (created if needed).
    #[arg(long, value_name = "DIR")]
    pub site: PathBuf,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CheckFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output format.
    #[arg(short, long, value_enum, default_value = "text")]
    pub format: CheckFormat,
}

#[derive(Debug, Args)]
pub struct InputArgs {
    /// A deskpulse.toml, a directory (its deskpulse.toml, else every export in it) or one export file.
    #[arg(value_name = "CONFIG_OR_DIR")]
    pub input: Option<PathBuf>,
    /// The configuration file (instead of CONFIG_OR_DIR).
    #[arg(short, long, value_name = "FILE", conflicts_with = "input")]
    pub config: Option<PathBuf>,
    /// Period to report: 2026-10 (month), 2026-Q4, 2026-W44 (ISO week), 2026, or `previous` (the
    /// month before today). Default: the latest month with tickets in the inputs.
    #[arg(short, long, value_name = "PERIOD", conflicts_with_all = ["from", "to"])]
    pub period: Option<String>,
    /// First day of a custom period (YYYY-MM-DD, in the report's time zone).
    #[arg(long, value_name = "DATE", requires = "to")]
    pub from: Option<String>,
    /// Day after the last day of a custom period (exclusive).
    #[arg(long, value_name = "DATE", requires = "from")]
    pub to: Option<String>,
    /// The instant the KPIs are computed at; default: the period's end. Later events have not happened.
    #[arg(long, value_name = "INSTANT")]
    pub as_of: Option<String>,
    /// A directory of KPI SQL files that replace or add to the built-in ones.
    #[arg(long, value_name = "DIR")]
    pub queries: Option<PathBuf>,
    /// A directory of source profiles (*.toml) beside the built-in ones; one with a built-in's
    /// name replaces it. A `profiles/` directory next to the configuration is read as well.
    #[arg(long, value_name = "DIR")]
    pub profiles: Option<PathBuf>,
    /// Read the tickets from this ticket store (`deskpulse ingest --store`) instead of the
    /// configuration's exports.
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Directory to write the report into (created if needed).
    #[arg(short, long, value_name = "DIR", default_value = "deskpulse-report")]
    pub out: PathBuf,
    /// A previous period's kpis.json: the headline shows each figure's change against it.
    #[arg(long, value_name = "KPIS_JSON")]
    pub previous: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KpiFormat {
    Table,
    Json,
    Csv,
}

#[derive(Debug, Args)]
pub struct KpisArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output format.
    #[arg(short, long, value_enum, default_value = "table")]
    pub format: KpiFormat,
    /// Only rows of this dimension: all, priority, kind, service, assignment_group, category,
    /// or the trend's month and the backlog's age_bucket.
    #[arg(long, value_name = "DIMENSION")]
    pub dimension: Option<String>,
    /// A previous period's kpis.json: `--format json` gains the `changes` array that `report`
    /// writes, the figures that moved against it and why.
    #[arg(long, value_name = "KPIS_JSON")]
    pub previous: Option<PathBuf>,
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    install_panic_hook();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit::ERROR
            } else {
                exit::OK
            });
        }
    };
    if let Some(threads) = cli.threads {
        crate::use_threads(threads);
    }
    if let Some(limit) = &cli.memory_limit
        && let Err(message) = crate::engine::limit_memory(limit)
    {
        crate::log::say(&format!("deskpulse: error: {message}"));
        return ExitCode::from(exit::ERROR);
    }
    let quiet = cli.quiet;
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || dispatch(cli)));
    crate::log::done();
    match outcome {
        Ok(Ok(code)) => ExitCode::from(code),
        Ok(Err(e)) => {
            crate::log::say(&format!("deskpulse: error: {e:#}"));
            ExitCode::from(exit::ERROR)
        }
        Err(_) => {
            if !quiet {
                crate::log::say("deskpulse: the run was stopped by an internal error (see above)");
            }
            ExitCode::from(exit::ERROR)
        }
    }
}

/// A panic is a bug: say so in one line, without a backtrace.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        crate::log::done();
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown".to_string());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "deskpulse: internal error: {message}{at}. This is a bug; please report it with the command you ran."
        );
    }));
}

fn dispatch(cli: Cli) -> anyhow::Result<u8> {
    let quiet = cli.quiet;
    crate::log::set_level(if quiet {
        0
    } else if cli.verbose {
        2
    } else {
        1
    });
    match cli.command {
        Command::Report(args) => run_report(&args, quiet),
        Command::Publish(args) => run_publish(&args, quiet),
        Command::Profiles(args) => run_profiles(&args),
        Command::Check(args) => run_check(&args, quiet),
        Command::Kpis(args) => run_kpis(&args, quiet),
        Command::Explain(args) => run_explain(&args, quiet),
        Command::Inspect(args) => run_inspect(&args),
        Command::Ingest(args) => run_ingest(&args, quiet),
        Command::Store(args) => match &args.action {
            StoreAction::Info { store } => {
                print!("{}", crate::store::info(store)?);
                Ok(exit::OK)
            }
        },
    }
}

/// `deskpulse ingest --store`: the configuration's exports added to the store.
fn run_ingest(args: &IngestArgs, quiet: bool) -> anyhow::Result<u8> {
    let target = args.config.as_deref().or(args.input.as_deref());
    let config = Config::discover(target.unwrap_or(Path::new(".")))?;
    let profiles = pipeline::load_profiles(&config, args.profiles.as_deref())?;
    let outcome = crate::store::ingest(&args.store, &config, &profiles);
    crate::log::done();
    let message = match outcome? {
        crate::store::Ingest::Unchanged { files } => format!(
            "{}: unchanged; it holds every export given already ({files} files)",
            args.store.display()
        ),
        crate::store::Ingest::Added { files, tickets } => {
            if !quiet {
                say_inputs(&files);
            }
            format!(
                "{}: added {} files; it holds {tickets} tickets",
                args.store.display(),
                files.len()
            )
        }
    };
    if !quiet {
        crate::log::say(&format!("deskpulse: {message}"));
    }
    Ok(exit::OK)
}

/// `deskpulse inspect`: the analysis and a starter profile on stdout.
fn run_inspect(args: &InspectArgs) -> anyhow::Result<u8> {
    let encoding = match &args.encoding {
        Some(label) => Some(
            encoding_rs::Encoding::for_label(label.trim().as_bytes())
                .ok_or_else(|| anyhow::anyhow!("--encoding `{label}` is not an encoding's name"))?,
        ),
        None => None,
    };
    let loaded = load_profiles(args.config.as_deref(), args.profiles.as_deref())?;
    let profiles: Vec<_> = loaded.into_iter().map(|l| l.profile).collect();
    let shown = args.file.to_string_lossy();
    let options = crate::ingest::read::ReadOptions {
        encoding,
        backslash_escapes: false,
        sheet: args.sheet.as_deref(),
    };
    let text = crate::ingest::inspect::inspect(&args.file, &shown, options, &profiles)?;
    print!("{text}");
    Ok(exit::OK)
}

/// The built-in profiles with those of a configuration's `profiles/` and of `--profiles`.
fn load_profiles(
    config: Option<&std::path::Path>,
    profiles: Option<&std::path::Path>,
) -> anyhow::Result<Vec<crate::ingest::profile::Loaded>> {
    let mut dirs = Vec::new();
    if let Some(c) = config {
        let config = Config::discover(c)?;
        dirs = crate::pipeline::profile_dirs(&config, None);
    }
    if let Some(d) = profiles {
        dirs.push((d.to_path_buf(), false));
    }
    crate::ingest::profile::load(&dirs).map_err(anyhow::Error::msg)
}

/// `deskpulse explain`: each ticket as the run's ledger has it.
fn run_explain(args: &ExplainArgs, quiet: bool) -> anyhow::Result<u8> {
    let input = InputArgs {
        input: Some(args.input.clone()),
        config: None,
        period: args.period.clone(),
        from: args.from.clone(),
        to: args.to.clone(),
        as_of: args.as_of.clone(),
        queries: args.queries.clone(),
        profiles: args.profiles.clone(),
        store: args.store.clone(),
    };
    let result = compute(&input, quiet, Needs::Explain(&args.ids))?;
    let explanation = report::explain::build(&result, &args.ids).map_err(anyhow::Error::msg)?;
    let text = match args.format {
        ExplainFormat::Json => serde_json::to_string_pretty(&explanation)? + "\n",
        ExplainFormat::Text => {
            crate::log::printable(&report::explain::text(&explanation)).into_owned()
        }
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()?;
    Ok(exit::OK)
}

/// `--previous`: an earlier run's kpis.json, read before anything is computed.
fn load_previous(path: Option<&Path>) -> anyhow::Result<Option<crate::what_changed::PreviousDoc>> {
    path.map(crate::what_changed::PreviousDoc::load)
        .transpose()
        .map_err(anyhow::Error::msg)
}

/// `deskpulse report`: every output file of the period in `--out`.
fn run_report(args: &ReportArgs, quiet: bool) -> anyhow::Result<u8> {
    let previous = load_previous(args.previous.as_deref())?;
    let needs = match previous {
        Some(_) => Needs::Report,
        None => Needs::ReportAndPrevious,
    };
    let result = compute(&args.input, quiet, needs)?;
    let previous = previous.or_else(|| {
        result
            .previous
            .as_ref()
            .map(crate::what_changed::PreviousDoc::measured)
    });
    let changes = crate::what_changed::compare(&result, previous);
    let explain = explain_command(&args.input, &result);
    let written = report::write_report(&result, &args.out, &changes, &explain, None);
    crate::log::done();
    let written = written?;
    if !quiet {
        let html = written.iter().find(|p| p.ends_with("report.html"));
        crate::log::say(&format!(
            "deskpulse: wrote {} files to {}{}",
            written.len(),
            args.out.display(),
            html.map(|p| format!(" (open {})", p.display()))
                .unwrap_or_default()
        ));
    }
    Ok(exit::OK)
}

/// `deskpulse publish`: the period's report and history added to a static site.
fn run_publish(args: &PublishArgs, quiet: bool) -> anyhow::Result<u8> {
    let result = compute(&args.input, quiet, Needs::ReportAndPrevious)?;
    let explain = explain_command(&args.input, &result);
    let written = report::publish::publish(&result, &args.site, &explain);
    crate::log::done();
    let written = written?;
    if !quiet {
        crate::log::say(&format!(
            "deskpulse: published {} to {} ({} files; open {})",
            result.period.label(),
            args.site.display(),
            written.len(),
            args.site.join("index.html").display()
        ));
    }
    Ok(exit::OK)
}

/// `deskpulse profiles list|show`.
fn run_profiles(args: &ProfilesArgs) -> anyhow::Result<u8> {
    let loaded = load_profiles(args.config.as_deref(), args.profiles.as_deref())?;
    match &args.action {
        ProfilesAction::List => print!("{}", crate::ingest::profile_list::list(&loaded)),
        ProfilesAction::Show { name } => {
            print!(
                "{}",
                crate::ingest::profile_list::show(&loaded, name).map_err(anyhow::Error::msg)?
            )
        }
    }
    Ok(exit::OK)
}

/// `deskpulse check`: the thresholds judged; exit 1 when any is breached.
fn run_check(args: &CheckArgs, quiet: bool) -> anyhow::Result<u8> {
    let result = compute(&args.input, quiet, Needs::Kpis)?;
    let evaluations = crate::check::evaluate(&result)?;
    let breached = evaluations
        .iter()
        .filter(|e| e.status == crate::check::Status::Breached)
        .count();
    let mut stdout = std::io::stdout().lock();
    match args.format {
        CheckFormat::Json => {
            let tz = result.period.timezone;
            let doc = serde_json::json!({
                "period": result.period.label(),
                "as_of": crate::period::format_instant(result.as_of, tz),
                "breached": breached,
                "thresholds": evaluations,
            });
            writeln!(stdout, "{}", serde_json::to_string_pretty(&doc)?)?;
        }
        CheckFormat::Text => {
            for e in &evaluations {
                let unit = result
                    .catalogue
                    .meta(&e.kpi)
                    .map(|m| m.unit.as_str())
                    .unwrap_or("");
                if e.status == crate::check::Status::Breached || !quiet {
                    let line = crate::check::line(e, unit);
                    writeln!(stdout, "{}", crate::log::printable(&line))?;
                }
            }
            if !quiet {
                crate::log::say(&format!(
                    "deskpulse: {} of {} thresholds breached for {}",
                    breached,
                    evaluations.len(),
                    result.period.label()
                ));
            }
        }
    }
    Ok(if breached > 0 {
        exit::BREACHED
    } else {
        exit::OK
    })
}

/// `deskpulse kpis`: the KPI rows on stdout.
fn run_kpis(args: &KpisArgs, quiet: bool) -> anyhow::Result<u8> {
    if args.previous.is_some() && !matches!(args.format, KpiFormat::Json) {
        anyhow::bail!(
            "--previous: the changes against a previous period are written with --format json"
        );
    }
    let previous = load_previous(args.previous.as_deref())?;
    // the spike's drivers and the problem candidates are report tables
    let needs = match previous {
        Some(_) => Needs::Report,
        None => Needs::Kpis,
    };
    let result = compute(&args.input, quiet, needs)?;
    let changes = previous.map(|p| crate::what_changed::compare(&result, Some(p)));
    if let Some(dimension) = &args.dimension {
        known_dimension(dimension, &result.kpis)?;
    }
    let mut stdout = std::io::stdout().lock();
    let rows: Vec<&KpiRow> = result
        .kpis
        .iter()
        .filter(|r| args.dimension.as_deref().is_none_or(|d| r.dimension == d))
        .collect();
    let text = match args.format {
        KpiFormat::Json => report::kpis_json(&result, changes.as_ref()),
        KpiFormat::Table => crate::log::printable(&kpi_table(&rows, &result)).into_owned(),
        KpiFormat::Csv => kpi_csv(&rows)?,
    };
    stdout.write_all(text.as_bytes())?;
    stdout.flush()?;
    Ok(exit::OK)
}

/// `--dimension` names one the KPI rows have: a misspelt or unmapped one would print an empty
/// table and exit 0.
fn known_dimension(dimension: &str, kpis: &[KpiRow]) -> anyhow::Result<()> {
    let mut known: Vec<&str> = kpis.iter().map(|r| r.dimension.as_str()).collect();
    known.sort_unstable();
    known.dedup();
    if known.contains(&dimension) {
        return Ok(());
    }
    anyhow::bail!(
        "--dimension {dimension}: no KPI row has it; these exports give {}",
        known.join(", ")
    )
}

fn load_config(args: &InputArgs) -> anyhow::Result<Config> {
    if args.store.is_some() && args.input.is_none() && args.config.is_none() {
        // The tickets come from the store; the report's settings are the defaults.
        return Ok(Config::parse("", None, PathBuf::from("."))?);
    }
    Ok(Config::discover(config_target(args))?)
}

/// The configuration, directory or export a run reads, as given.
fn config_target(args: &InputArgs) -> &Path {
    match (&args.config, &args.input) {
        (Some(c), _) => c,
        (None, Some(i)) => i,
        (None, None) => Path::new("."),
    }
}

/// The command a report prints beside each listed ticket to explain it.
fn explain_command(args: &InputArgs, result: &RunResult) -> report::explain::ExplainCommand {
    let inputs = report::explain::RunInputs {
        input: config_target(args),
        queries: args.queries.as_deref(),
        profiles: args.profiles.as_deref(),
        store: args.store.as_deref(),
    };
    report::explain::ExplainCommand::new(&inputs, &result.period, result.as_of)
}

fn period_choice(args: &InputArgs) -> anyhow::Result<PeriodChoice> {
    if let (Some(from), Some(to)) = (&args.from, &args.to) {
        return Ok(PeriodChoice::Range {
            from: parse_date(from, "--from").map_err(anyhow::Error::msg)?,
            to: parse_date(to, "--to").map_err(anyhow::Error::msg)?,
        });
    }
    Ok(match args.period.as_deref() {
        None => PeriodChoice::Latest,
        Some("previous") => PeriodChoice::Previous,
        Some(p) => {
            PeriodChoice::Named(PeriodKind::parse(p).map_err(|e| anyhow::anyhow!("--period: {e}"))?)
        }
    })
}

/// What a command needs of a run besides the KPIs.
#[derive(Clone, Copy)]
enum Needs<'a> {
    Kpis,
    /// The report's tables.
    Report,
    /// The report's tables and the previous period from the same inputs.
    ReportAndPrevious,
    /// The explained tickets' ledger rows and histories.
    Explain(&'a [String]),
}

fn compute(args: &InputArgs, quiet: bool, needs: Needs<'_>) -> anyhow::Result<RunResult> {
    let config = load_config(args)?;
    let options = RunOptions {
        period: period_choice(args)?,
        as_of: args.as_of.clone(),
        queries: args.queries.clone(),
        profiles: args.profiles.clone(),
        store: args.store.clone(),
        report: !matches!(needs, Needs::Kpis | Needs::Explain(_)),
        previous: matches!(needs, Needs::ReportAndPrevious),
        explain: match needs {
            Needs::Explain(ids) => ids.to_vec(),
            _ => Vec::new(),
        },
    };
    let result = pipeline::run(config, &options);
    crate::log::done();
    let result = result?;
    if !quiet {
        say_inputs(&result.inputs);
        if let Some(note) = &result.period_note {
            crate::log::say(&format!("deskpulse: note: {note}"));
        }
        if let Some(note) = &result.empty_period_note {
            crate::log::say(&format!("deskpulse: warning: {note}"));
        }
        for warning in &result.quality.warnings {
            crate::log::say(&format!("deskpulse: warning: {warning}"));
        }
    }
    Ok(result)
}

/// One line per file read: its rows, and how its profile was chosen.
fn say_inputs(inputs: &[crate::ingest::InputReport]) {
    for input in inputs {
        crate::log::say(&format!(
            "deskpulse: {}: {} rows, {} accepted, {} rejected ({})",
            input.path, input.rows, input.accepted, input.rejected, input.profile_reason
        ));
    }
}

/// Where an `age_bucket` row goes among its buckets, youngest first (other rows: 0).
fn age_rank(row: &KpiRow) -> usize {
    match row.dimension.as_str() {
        "age_bucket" => crate::model::AGE_BUCKETS
            .iter()
            .position(|b| *b == row.key)
            .unwrap_or(crate::model::AGE_BUCKETS.len()),
        _ => 0,
    }
}

fn kpi_table(rows: &[&KpiRow], result: &RunResult) -> String {
    // Files keep the contract's order; a person reads age buckets youngest first.
    let mut rows = rows.to_vec();
    rows.sort_by_key(|r| (&r.kpi, &r.stat, &r.dimension, age_rank(r)));
    let header = ["kpi", "stat", "dimension", "key", "value", "n", "missing"];
    // An age bucket's row counts the open tickets of that age.
    let unit = |row: &KpiRow| match row.dimension.as_str() {
        "age_bucket" => "count".to_string(),
        _ => result
            .catalogue
            .meta(&row.kpi)
            .map(|m| m.unit.clone())
            .unwrap_or_default(),
    };
    let cells: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
            [
                r.kpi.clone(),
                r.stat.clone(),
                r.dimension.clone(),
                r.key.chars().filter(|c| !c.is_control()).collect(),
                report::format::value(r.value, &unit(r)),
                r.n.to_string(),
                r.missing.to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = format!(
        "{} · period {} · as of {}\n",
        result.config.report.title,
        result.period.label(),
        crate::period::format_instant(result.as_of, result.period.timezone)
    );
    let line = |cols: &[String]| -> String {
        let mut s = String::new();
        for (i, c) in cols.iter().enumerate() {
            let pad = widths[i] - c.chars().count();
            if i >= 4 {
                s.push_str(&" ".repeat(pad));
                s.push_str(c);
            } else {
                s.push_str(c);
                s.push_str(&" ".repeat(pad));
            }
            s.push_str(if i + 1 < cols.len() { "  " } else { "\n" });
        }
        s
    };
    out.push_str(&line(&header.map(String::from)));
    for row in &cells {
        out.push_str(&line(row));
    }
    out
}

fn kpi_csv(rows: &[&KpiRow]) -> anyhow::Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(KpiRow::COLUMNS)?;
    let num = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    for r in rows {
        w.write_record([
            r.kpi.clone(),
            r.stat.clone(),
            r.dimension.clone(),
            report::files::neutralize(&r.key).into_owned(),
            num(r.value),
            r.n.to_string(),
            r.missing.to_string(),
            num(r.numerator),
            num(r.denominator),
        ])?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}
