//! `deskpulse.toml`: the serde model of the configuration and its validation.
//!
//! Every section of the contract is parsed and checked here, including the ones that later
//! stages use (calendars, SLA, repeat, changes, costs, thresholds), so that a configuration
//! written today keeps working and a typo is reported at once with the key that is wrong.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono_tz::Tz;
use serde::Deserialize;

use crate::clock::calendar::{CalendarSpec, parse_calendar};
use crate::clock::duration::BusinessDuration;
use crate::model::{self, StatusClass};

/// The name of the configuration file looked for in a directory.
pub const CONFIG_FILE_NAME: &str = "deskpulse.toml";

/// Extensions of files taken as exports when a directory without a configuration is given.
pub const EXPORT_EXTENSIONS: &[&str] = &[
    "csv", "json", "ndjson", "jsonl", "gz", "xlsx", "xls", "xlsb", "ods",
];

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("{0}")]
    Input(String),
}

/// A validated configuration, with paths resolved against the file it came from.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file the configuration was read from, or `None` when it was derived from a directory
    /// or a single export.
    pub path: Option<PathBuf>,
    /// Directory that relative paths in the configuration are resolved against.
    pub base_dir: PathBuf,
    pub report: ReportSettings,
    pub sources: Vec<SourceConfig>,
    pub calendars: BTreeMap<String, CalendarSpec>,
    pub sla: SlaSettings,
    pub repeat: RepeatSettings,
    pub changes: ChangeSettings,
    pub costs: CostSettings,
    pub thresholds: BTreeMap<String, Threshold>,
    pub what_changed: WhatChangedSettings,
    /// The configuration text exactly as read, for the manifest's hash.
    pub raw_text: String,
}

#[derive(Debug, Clone)]
pub struct ReportSettings {
    pub title: String,
    pub timezone: Tz,
    pub currency: String,
    /// A figure resting on fewer tickets than this is shown as a small number: greyed, with its
    /// n, and without a better/worse mark on its change.
    pub min_tickets: u64,
    /// `[report] breakdowns`: the ticket columns the report breaks the period's tickets down
    /// by, beside the KPIs' own dimensions.
    pub breakdowns: Vec<String>,
    /// `[report] commentary`: a file of the service manager's own words, shown beneath the
    /// summary, and its text.
    pub commentary: Option<(PathBuf, String)>,
    /// A directory of KPI SQL files that take precedence over the built-in ones.
    pub queries: Option<PathBuf>,
    /// A directory of templates that take precedence over the built-in ones.
    pub templates: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct SourceConfig {
    /// The pattern as written (relative to the configuration), for messages.
    pub pattern: String,
    /// Resolved pattern (absolute, or relative to the working directory).
    pub resolved_pattern: PathBuf,
    pub profile: String,
    pub timezone: Option<Tz>,
    pub kind: Option<String>,
    pub columns: BTreeMap<String, String>,
    pub values: BTreeMap<String, BTreeMap<String, String>>,
    /// A strftime format that overrides the profile's list of timestamp formats.
    pub timestamp_format: Option<String>,
    /// The files' text encoding, when they are not UTF-8 and carry no byte-order mark.
    pub encoding: Option<&'static encoding_rs::Encoding>,
    /// Whether a CSV export escapes a quote inside a quoted field with a backslash (`\"`)
    /// rather than doubling it (`escape = "\\"`).
    pub backslash_escapes: bool,
    /// The worksheet of a workbook export to read (default: the first).
    pub sheet: Option<String>,
    /// What the tickets' `source` says (default: the profile's name); two sources with the same
    /// name share one id space.
    pub name: Option<String>,
    /// Files of records that describe this source's tickets (Zendesk `ticket_metrics`), joined
    /// on `ticket_id`; resolved patterns.
    pub related: Vec<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct SlaSettings {
    pub pause: Vec<StatusClass>,
    pub calendar: String,
    pub policies: BTreeMap<String, SlaPolicy>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SlaPolicy {
    pub response: Option<BusinessDuration>,
    pub resolution: Option<BusinessDuration>,
    pub calendar: String,
}

#[derive(Debug, Clone)]
pub struct RepeatSettings {
    pub key: Vec<String>,
    pub window_days: u32,
}

#[derive(Debug, Clone)]
pub struct ChangeSettings {
    pub failure_window_days: u32,
}

/// `[what_changed]`: when the report's "What changed" section names a move or a spike.
#[derive(Debug, Clone, PartialEq)]
pub struct WhatChangedSettings {
    /// A headline figure moved when it changed by at least this many percent of its previous
    /// value.
    pub min_change_pct: f64,
    /// ... with at least this many tickets behind it in both periods (the larger count, for a
    /// count). Defaults to `[report] min_tickets`.
    pub min_tickets: u64,
    /// The trailing months a volume spike is judged against.
    pub spike_months: u32,
    /// A month is a spike above the trailing median plus this many median absolute deviations.
    pub spike_mads: f64,
}

#[derive(Debug, Clone, Default)]
pub struct CostSettings {
    pub default_hourly_rate: Option<f64>,
    pub group_rates: BTreeMap<String, f64>,
    pub monthly_service_costs: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub stat: String,
    pub dimension: String,
    /// One key of the dimension; `None` holds the limit for every key (`all` for `all`).
    pub key: Option<String>,
}

impl Threshold {
    /// Whether a value is within the limits.
    pub fn holds(&self, v: f64) -> bool {
        !(self.min.is_some_and(|m| v < m) || self.max.is_some_and(|m| v > m))
    }

    /// Whether a value lies within a tenth of a limit: one that holds it is at risk of missing
    /// it next period.
    pub fn near_limit(&self, v: f64) -> bool {
        let near = |limit: f64| (v - limit).abs() <= limit.abs() / 10.0;
        self.min.is_some_and(near) || self.max.is_some_and(near)
    }
}

// ---- raw serde model -------------------------------------------------------------------------

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    report: RawReport,
    #[serde(default)]
    sources: Vec<RawSource>,
    #[serde(default)]
    calendars: BTreeMap<String, RawCalendar>,
    #[serde(default)]
    sla: Option<toml::Table>,
    #[serde(default)]
    repeat: RawRepeat,
    #[serde(default)]
    changes: RawChanges,
    #[serde(default)]
    costs: RawCosts,
    #[serde(default)]
    thresholds: BTreeMap<String, RawThreshold>,
    #[serde(default)]
    what_changed: RawWhatChanged,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawReport {
    title: Option<String>,
    timezone: Option<String>,
    currency: Option<String>,
    min_tickets: Option<u64>,
    breakdowns: Option<Vec<String>>,
    commentary: Option<String>,
    queries: Option<String>,
    templates: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    path: String,
    #[serde(default)]
    profile: Option<String>,
    #[serde(default)]
    timezone: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    columns: BTreeMap<String, String>,
    #[serde(default)]
    values: BTreeMap<String, BTreeMap<String, String>>,
    #[serde(default)]
    timestamp_format: Option<String>,
    #[serde(default)]
    encoding: Option<String>,
    #[serde(default)]
    escape: Option<String>,
    #[serde(default)]
    sheet: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    related: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCalendar {
    timezone: String,
    #[serde(default)]
    hours: BTreeMap<String, String>,
    #[serde(default)]
    holidays: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    response: Option<String>,
    resolution: Option<String>,
    calendar: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRepeat {
    key: Option<Vec<String>>,
    window_days: Option<u32>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawChanges {
    failure_window_days: Option<u32>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawWhatChanged {
    min_change_pct: Option<f64>,
    min_tickets: Option<u64>,
    spike_months: Option<u32>,
    spike_mads: Option<f64>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCosts {
    default_hourly_rate: Option<f64>,
    #[serde(default)]
    group_rates: BTreeMap<String, f64>,
    #[serde(default)]
    monthly_service_costs: BTreeMap<String, f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawThreshold {
    min: Option<f64>,
    max: Option<f64>,
    stat: Option<String>,
    dimension: Option<String>,
    key: Option<String>,
}

// ---- loading ---------------------------------------------------------------------------------

impl Config {
    /// Loads the configuration for what a user points deskpulse at: a `deskpulse.toml`, a
    /// directory (its `deskpulse.toml`, else every export in it), or a single export file.
    pub fn discover(target: &Path) -> Result<Config, ConfigError> {
        if target.is_dir() {
            let file = target.join(CONFIG_FILE_NAME);
            if file.is_file() {
                return Config::load(&file);
            }
            return Config::for_directory(target);
        }
        if !target.exists() {
            return Err(ConfigError::Input(format!(
                "{}: no such file or directory (expected a {CONFIG_FILE_NAME}, a directory of exports or an export file)",
                target.display()
            )));
        }
        let is_toml = target
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
        if is_toml {
            Config::load(target)
        } else {
            Config::for_export(target)
        }
    }

    /// Reads and validates a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Config::parse(&text, Some(path.to_path_buf()), base_dir)
    }

    /// Parses configuration text; `base_dir` resolves relative source paths.
    pub fn parse(
        text: &str,
        path: Option<PathBuf>,
        base_dir: PathBuf,
    ) -> Result<Config, ConfigError> {
        let shown = path
            .clone()
            .unwrap_or_else(|| PathBuf::from(CONFIG_FILE_NAME));
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: shown.clone(),
            message: e.to_string().trim_end().to_string(),
        })?;
        let invalid = |message: String| ConfigError::Invalid {
            path: shown.clone(),
            message,
        };
        let mut config = validate(raw, &base_dir).map_err(invalid)?;
        config.path = path;
        config.base_dir = base_dir;
        config.raw_text = text.to_string();
        Ok(config)
    }

    /// A configuration for a directory without `deskpulse.toml`: every export in it, each with
    /// its profile detected.
    fn for_directory(dir: &Path) -> Result<Config, ConfigError> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|source| ConfigError::Read {
                path: dir.to_path_buf(),
                source,
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && is_export_file(p))
            .collect();
        files.sort();
        skip_previous_outputs(dir, &mut files);
        if files.is_empty() {
            return Err(ConfigError::Input(format!(
                "{}: no {CONFIG_FILE_NAME} and no exports (.csv, .json, .ndjson, .jsonl, .gz, .xlsx) in this directory",
                dir.display()
            )));
        }
        let text = synthesized_config(
            files
                .iter()
                .map(|f| f.file_name().unwrap_or_default().to_string_lossy()),
        );
        Config::parse(&text, None, dir.to_path_buf())
    }

    fn for_export(file: &Path) -> Result<Config, ConfigError> {
        let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
        let name = file.file_name().unwrap_or_default().to_string_lossy();
        let text = synthesized_config(std::iter::once(name));
        Config::parse(&text, None, dir)
    }

    /// The calendar a priority's SLA runs on (the policy's, else `[sla] calendar`).
    pub fn calendar_for_priority(&self, priority: &str) -> &str {
        self.sla
            .policies
            .get(priority)
            .map(|p| p.calendar.as_str())
            .unwrap_or(self.sla.calendar.as_str())
    }
}

/// Drops from `files` what a previous run wrote into `dir` (its manifest lists them), saying so
/// once: `report DIR --out DIR` must not read its own outputs as exports the next time.
fn skip_previous_outputs(dir: &Path, files: &mut Vec<PathBuf>) {
    let outputs = crate::previous_run::previous_outputs(dir);
    let before = files.len();
    files.retain(|f| {
        let name = f.file_name().unwrap_or_default().to_string_lossy();
        !outputs.iter().any(|o| *o == name)
    });
    if files.len() < before {
        crate::log::note(&format!(
            "{}: skipped {} files a previous deskpulse run wrote here (listed in its {}); \
             they are not exports",
            dir.display(),
            before - files.len(),
            crate::previous_run::MANIFEST,
        ));
    }
}

fn is_export_file(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXPORT_EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

fn synthesized_config<'a>(files: impl Iterator<Item = std::borrow::Cow<'a, str>>) -> String {
    let mut text = String::new();
    for f in files {
        // TOML's own quoting: a file name may hold quotes, backslashes or line breaks
        let path = toml::Value::String(f.into_owned());
        text.push_str(&format!("[[sources]]\npath = {path}\n\n"));
    }
    text
}

fn parse_tz(value: &str, key: &str) -> Result<Tz, String> {
    Tz::from_str(value).map_err(|_| {
        format!("{key}: unknown time zone `{value}` (expected an IANA name such as `Europe/Amsterdam` or `UTC`)")
    })
}

fn read_commentary(path: PathBuf) -> Result<(PathBuf, String), String> {
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok((path, text)),
        Err(e) => Err(format!(
            "[report] commentary: cannot read {}: {e}",
            path.display()
        )),
    }
}

/// The ticket columns a report can break the period down by (queries/tables/breakdowns.sql
/// names each).
pub const BREAKDOWN_COLUMNS: [&str; 7] = [
    "category",
    "assignee",
    "channel",
    "requester",
    "ci",
    "service",
    "assignment_group",
];

/// `[report] breakdowns`, by default category, assignee and channel.
fn breakdowns(given: Option<Vec<String>>) -> Result<Vec<String>, String> {
    let Some(given) = given else {
        return Ok(BREAKDOWN_COLUMNS[..3]
            .iter()
            .map(|c| c.to_string())
            .collect());
    };
    let mut seen = Vec::new();
    for name in given {
        if !BREAKDOWN_COLUMNS.contains(&name.as_str()) {
            return Err(format!(
                "[report] breakdowns: `{name}` is not a column to break tickets down by; use {}",
                BREAKDOWN_COLUMNS.join(", ")
            ));
        }
        if !seen.contains(&name) {
            seen.push(name);
        }
    }
    Ok(seen)
}

fn validate_what_changed(
    raw: RawWhatChanged,
    min_tickets: u64,
) -> Result<WhatChangedSettings, String> {
    let settings = WhatChangedSettings {
        min_change_pct: raw.min_change_pct.unwrap_or(10.0),
        min_tickets: raw.min_tickets.unwrap_or(min_tickets),
        spike_months: raw.spike_months.unwrap_or(6),
        spike_mads: raw.spike_mads.unwrap_or(3.0),
    };
    if !(settings.min_change_pct.is_finite() && settings.min_change_pct >= 0.0) {
        return Err("[what_changed] min_change_pct: a percentage, 0 or more (default 10)".into());
    }
    if !(3..=11).contains(&settings.spike_months) {
        return Err("[what_changed] spike_months: from 3 to 11 (default 6)".to_string());
    }
    if !(settings.spike_mads.is_finite() && settings.spike_mads >= 0.0) {
        return Err("[what_changed] spike_mads: a number, 0 or more (default 3)".to_string());
    }
    Ok(settings)
}

/// Below this many tickets, a median or a percentage moves by chance more than by performance.
pub const DEFAULT_MIN_TICKETS: u64 = 20;

fn validate(raw: RawConfig, base_dir: &Path) -> Result<Config, String> {
    let report = validate_report(raw.report, base_dir)?;
    let sources = raw
        .sources
        .into_iter()
        .enumerate()
        .map(|(i, s)| validate_source(i, s, base_dir))
        .collect::<Result<Vec<_>, _>>()?;
    let calendars = validate_calendars(raw.calendars)?;
    let calendar_exists = |name: &str| name == "24x7" || calendars.contains_key(name);
    let sla = validate_sla(raw.sla, &calendar_exists)?;
    let repeat = validate_repeat(raw.repeat)?;
    let changes = ChangeSettings {
        failure_window_days: raw.changes.failure_window_days.unwrap_or(7),
    };
    let what_changed = validate_what_changed(raw.what_changed, report.min_tickets)?;
    let costs = validate_costs(raw.costs)?;
    let thresholds = raw
        .thresholds
        .into_iter()
        .map(|(kpi, t)| validate_threshold(&kpi, t).map(|t| (kpi, t)))
        .collect::<Result<BTreeMap<_, _>, _>>()?;

    Ok(Config {
        path: None,
        base_dir: PathBuf::new(),
        report,
        sources,
        calendars,
        sla,
        repeat,
        changes,
        what_changed,
        costs,
        thresholds,
        raw_text: String::new(),
    })
}

/// `[report]`, with its defaults and its files resolved against the configuration's directory.
fn validate_report(raw: RawReport, base_dir: &Path) -> Result<ReportSettings, String> {
    Ok(ReportSettings {
        title: raw.title.unwrap_or_else(|| "IT service KPIs".to_string()),
        timezone: match &raw.timezone {
            Some(tz) => parse_tz(tz, "[report] timezone")?,
            None => Tz::UTC,
        },
        currency: raw.currency.unwrap_or_else(|| "EUR".to_string()),
        min_tickets: raw.min_tickets.unwrap_or(DEFAULT_MIN_TICKETS),
        breakdowns: breakdowns(raw.breakdowns)?,
        commentary: match raw.commentary {
            Some(file) => Some(read_commentary(base_dir.join(file))?),
            None => None,
        },
        queries: raw.queries.map(|q| base_dir.join(q)),
        templates: raw.templates.map(|t| base_dir.join(t)),
    })
}

/// The `[calendars.NAME]` tables; `24x7` is built in.
fn validate_calendars(
    raw: BTreeMap<String, RawCalendar>,
) -> Result<BTreeMap<String, CalendarSpec>, String> {
    let mut calendars = BTreeMap::new();
    for (name, cal) in raw {
        if name == "24x7" {
            return Err("[calendars.24x7]: `24x7` is built in and cannot be redefined".to_string());
        }
        let tz = parse_tz(&cal.timezone, &format!("[calendars.{name}] timezone"))?;
        let spec = parse_calendar(&name, tz, &cal.hours, &cal.holidays)
            .map_err(|e| format!("[calendars.{name}] {e}"))?;
        calendars.insert(name, spec);
    }
    Ok(calendars)
}

/// `[repeat]`: a key of canonical fields (the configuration item by default) and a window.
fn validate_repeat(raw: RawRepeat) -> Result<RepeatSettings, String> {
    let repeat = RepeatSettings {
        key: raw.key.unwrap_or_else(|| vec!["ci".to_string()]),
        window_days: raw.window_days.unwrap_or(30),
    };
    if repeat.key.is_empty() {
        return Err("[repeat] key: name at least one field (default [\"ci\"])".to_string());
    }
    for k in &repeat.key {
        if !model::is_canonical_field(k) {
            return Err(format!(
                "[repeat] key: `{k}` is not a canonical field (one of {})",
                model::canonical_fields().join(", ")
            ));
        }
    }
    Ok(repeat)
}

/// One `[[sources]]` entry, checked, with its paths resolved against the configuration's
/// directory.
fn validate_source(i: usize, s: RawSource, base_dir: &Path) -> Result<SourceConfig, String> {
    let at = format!("[[sources]] #{} (path = \"{}\")", i + 1, s.path);
    check_source_path(&at, &s.path)?;
    let timezone = match &s.timezone {
        Some(tz) => Some(parse_tz(tz, &format!("{at} timezone"))?),
        None => None,
    };
    check_source_fields(&at, &s)?;
    check_source_name(&at, s.name.as_deref())?;
    let encoding = s
        .encoding
        .as_deref()
        .map(|label| source_encoding(&at, label))
        .transpose()?;
    let backslash_escapes = backslash_escapes(&at, s.escape.as_deref())?;
    if let Some(format) = &s.timestamp_format {
        check_timestamp_format(format)
            .map_err(|problem| format!("{at}: timestamp_format `{format}` {problem}"))?;
    }
    let resolve = |path: &str| match Path::new(path).is_absolute() {
        true => PathBuf::from(path),
        false => base_dir.join(path),
    };
    Ok(SourceConfig {
        name: s.name,
        encoding,
        backslash_escapes,
        sheet: s.sheet,
        related: s.related.iter().map(|r| resolve(r)).collect(),
        resolved_pattern: resolve(&s.path),
        pattern: s.path,
        profile: s.profile.unwrap_or_else(|| "auto".to_string()),
        timezone,
        kind: s.kind,
        columns: s.columns,
        values: s.values,
        timestamp_format: s.timestamp_format,
    })
}

/// A source's path names a file (or a pattern of files), never a URL.
fn check_source_path(at: &str, path: &str) -> Result<(), String> {
    if path.trim().is_empty() {
        return Err(format!("{at}: `path` is empty"));
    }
    if let Some((scheme, _)) = path.split_once("://")
        && scheme.len() > 1
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    {
        return Err(format!(
            "{at}: `path` is a URL; deskpulse reads files only (it never fetches anything): \
             download the export and name the file"
        ));
    }
    Ok(())
}

/// A source's kind, `[sources.columns]` and `[sources.values]` name canonical fields and
/// values.
fn check_source_fields(at: &str, s: &RawSource) -> Result<(), String> {
    if let Some(kind) = &s.kind
        && !model::Kind::NAMES.contains(&kind.as_str())
    {
        return Err(format!(
            "{at}: kind `{kind}` is not one of {}",
            model::Kind::NAMES.join(", ")
        ));
    }
    for field in s.columns.keys() {
        if !model::is_canonical_field(field) {
            return Err(format!(
                "{at}: [sources.columns] names `{field}`, which is not a canonical field (one of {})",
                model::canonical_fields().join(", ")
            ));
        }
    }
    for (field, map) in &s.values {
        let Some(allowed) = model::allowed_values(field) else {
            return Err(format!(
                "{at}: [sources.values.{field}]: `{field}` has no value map (maps exist for {})",
                model::MAPPED_FIELDS.join(", ")
            ));
        };
        for (from, to) in map {
            if !allowed.contains(&to.as_str()) {
                return Err(format!(
                    "{at}: [sources.values.{field}] maps \"{from}\" to \"{to}\", which is not one of {}",
                    allowed.join(", ")
                ));
            }
        }
    }
    Ok(())
}

/// A source's name is a word: it is the tickets' `source`, a key in the report's tables and a
/// directory's name in a ticket store.
fn check_source_name(at: &str, name: Option<&str>) -> Result<(), String> {
    match name {
        Some(name)
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') =>
        {
            Err(format!(
                "{at}: name \"{name}\" must be letters, digits, `_` or `-`"
            ))
        }
        _ => Ok(()),
    }
}

/// The encoding a source declares, by its WHATWG label.
fn source_encoding(at: &str, label: &str) -> Result<&'static encoding_rs::Encoding, String> {
    encoding_rs::Encoding::for_label(label.trim().as_bytes()).ok_or_else(|| {
        format!(
            "{at}: encoding `{label}` is not an encoding; name one as the WHATWG Encoding \
             Standard does: windows-1252, iso-8859-15, utf-16le, shift_jis, gbk, ..."
        )
    })
}

/// Whether a source's CSV escapes a quote with a backslash (`escape = "\\"`) rather than by
/// doubling it.
fn backslash_escapes(at: &str, escape: Option<&str>) -> Result<bool, String> {
    match escape {
        None | Some("\"") => Ok(false),
        Some("\\") => Ok(true),
        Some(other) => Err(format!(
            "{at}: escape `{other}` is not a CSV escape; the one exports use besides a doubled \
             quote is a backslash: escape = \"\\\\\""
        )),
    }
}

/// Whether a format names an hour with its minute (and seconds only with an hour, a 12-hour
/// clock only with AM or PM). Polars refuses any other with an error; chrono would read such a
/// time as midnight, losing the hour the format names.
pub fn names_whole_times(items: &[chrono::format::Item<'_>]) -> bool {
    use chrono::format::{Fixed, Item, Numeric};
    let has = |field: fn(&Item<'_>) -> bool| items.iter().any(field);
    let hour = has(|i| matches!(i, Item::Numeric(Numeric::Hour | Numeric::Hour12, _)));
    let minute = has(|i| matches!(i, Item::Numeric(Numeric::Minute, _)));
    let second = has(|i| matches!(i, Item::Numeric(Numeric::Second, _)));
    let twelve_hour = has(|i| matches!(i, Item::Numeric(Numeric::Hour12, _)));
    let am_pm = has(|i| matches!(i, Item::Fixed(Fixed::LowerAmPm | Fixed::UpperAmPm)));
    hour == minute && (hour || !second) && twelve_hour == am_pm
}

/// A `timestamp_format` must be a strftime pattern chrono can read and name at least a date;
/// otherwise every row would be rejected for its dates rather than the configuration refused.
fn check_timestamp_format(format: &str) -> Result<(), String> {
    use chrono::format::{Item, StrftimeItems};
    let items: Vec<Item> = StrftimeItems::new(format).collect();
    if items.iter().any(|i| matches!(i, Item::Error)) {
        return Err("is not a strftime pattern (write e.g. `%d/%m/%Y %H:%M`)".to_string());
    }
    if !names_whole_times(&items) {
        return Err(
            "names an hour without its minute, seconds without an hour, or a 12-hour \
             clock without AM or PM (write e.g. `%d/%m/%Y %H:%M`)"
                .to_string(),
        );
    }
    let names_a_date = [
        "%Y", "%y", "%d", "%e", "%j", "%F", "%D", "%x", "%c", "%s", "%+",
    ]
    .iter()
    .any(|f| format.contains(f));
    if !names_a_date {
        return Err("names no date (write e.g. `%d/%m/%Y %H:%M`)".to_string());
    }
    Ok(())
}

/// `[costs]`: every rate and monthly cost a non-negative number.
fn validate_costs(raw: RawCosts) -> Result<CostSettings, String> {
    let costs = CostSettings {
        default_hourly_rate: raw.default_hourly_rate,
        group_rates: raw.group_rates,
        monthly_service_costs: raw.monthly_service_costs,
    };
    let money = costs
        .default_hourly_rate
        .iter()
        .map(|r| ("default_hourly_rate".to_string(), *r))
        .chain(
            costs
                .group_rates
                .iter()
                .map(|(k, v)| (format!("group_rates.\"{k}\""), *v)),
        )
        .chain(
            costs
                .monthly_service_costs
                .iter()
                .map(|(k, v)| (format!("monthly_service_costs.\"{k}\""), *v)),
        );
    for (key, value) in money {
        if !value.is_finite() || value < 0.0 {
            return Err(format!(
                "[costs] {key} = {value}: must be a non-negative number"
            ));
        }
    }
    Ok(costs)
}

/// One `[thresholds]` entry: a bound or two, on a stat and dimension deskpulse computes.
fn validate_threshold(kpi: &str, t: RawThreshold) -> Result<Threshold, String> {
    if t.min.is_none() && t.max.is_none() {
        return Err(format!("[thresholds] {kpi}: give `min`, `max` or both"));
    }
    for (name, bound) in [("min", t.min), ("max", t.max)] {
        if bound.is_some_and(|b| !b.is_finite()) {
            // `nan` compares false with everything: such a threshold could never be breached
            return Err(format!(
                "[thresholds] {kpi}: {name} = {} is not a number a value can be held to",
                bound.unwrap_or_default()
            ));
        }
    }
    if let (Some(lo), Some(hi)) = (t.min, t.max)
        && lo > hi
    {
        return Err(format!("[thresholds] {kpi}: min {lo} is above max {hi}"));
    }
    let stat = t.stat.unwrap_or_else(|| "value".to_string());
    if !["value", "mean", "median", "p90"].contains(&stat.as_str()) {
        return Err(format!(
            "[thresholds] {kpi}: stat `{stat}` is not one of value, mean, median, p90"
        ));
    }
    let dimension = t.dimension.unwrap_or_else(|| "all".to_string());
    if dimension != "all" && !model::DIMENSIONS.contains(&dimension.as_str()) {
        return Err(format!(
            "[thresholds] {kpi}: dimension `{dimension}` is not one of all, {}",
            model::DIMENSIONS.join(", ")
        ));
    }
    let key = if dimension == "all" {
        Some("all".to_string())
    } else {
        t.key
    };
    Ok(Threshold {
        min: t.min,
        max: t.max,
        stat,
        dimension,
        key,
    })
}

fn validate_sla(
    raw: Option<toml::Table>,
    calendar_exists: &dyn Fn(&str) -> bool,
) -> Result<SlaSettings, String> {
    let mut settings = SlaSettings {
        pause: vec![StatusClass::WaitCustomer, StatusClass::WaitThirdParty],
        calendar: "24x7".to_string(),
        policies: BTreeMap::new(),
    };
    let Some(table) = raw else {
        return Ok(settings);
    };
    for (key, value) in table {
        match key.as_str() {
            "pause" => {
                let list: Vec<String> = value
                    .try_into()
                    .map_err(|e| format!("[sla] pause: expected a list of status classes ({e})"))?;
                settings.pause = list
                    .iter()
                    .map(|s| StatusClass::from_str(s).map_err(|e| format!("[sla] pause: {e}")))
                    .collect::<Result<_, _>>()?;
            }
            "calendar" => {
                let name: String = value
                    .try_into()
                    .map_err(|e| format!("[sla] calendar: expected a calendar name ({e})"))?;
                settings.calendar = name;
            }
            p if model::allowed_values("priority").is_some_and(|a| a.contains(&p)) => {
                settings
                    .policies
                    .insert(p.to_string(), sla_policy(p, value)?);
            }
            other => {
                return Err(format!(
                    "[sla]: unknown key `{other}` (expected `pause`, `calendar` or a priority table [sla.P1] .. [sla.P5])"
                ));
            }
        }
    }
    sla_calendars_exist(&mut settings, calendar_exists)?;
    Ok(settings)
}

/// `[sla.P1]` .. `[sla.P5]`: at least one target, each a business duration.
fn sla_policy(p: &str, value: toml::Value) -> Result<SlaPolicy, String> {
    let policy: RawPolicy = value.try_into().map_err(|e| format!("[sla.{p}]: {e}"))?;
    let parse = |v: &Option<String>, what: &str| -> Result<Option<BusinessDuration>, String> {
        v.as_deref()
            .map(|s| BusinessDuration::from_str(s).map_err(|e| format!("[sla.{p}] {what}: {e}")))
            .transpose()
    };
    let response = parse(&policy.response, "response")?;
    let resolution = parse(&policy.resolution, "resolution")?;
    if response.is_none() && resolution.is_none() {
        return Err(format!(
            "[sla.{p}]: give a `response` target, a `resolution` target or both"
        ));
    }
    Ok(SlaPolicy {
        response,
        resolution,
        calendar: policy.calendar.unwrap_or_default(),
    })
}

/// The calendar `[sla]` names exists, and so does each policy's; a policy without one takes
/// `[sla]`'s.
fn sla_calendars_exist(
    settings: &mut SlaSettings,
    calendar_exists: &dyn Fn(&str) -> bool,
) -> Result<(), String> {
    if !calendar_exists(&settings.calendar) {
        return Err(format!(
            "[sla] calendar = \"{}\": no such calendar (define [calendars.{}] or use \"24x7\")",
            settings.calendar, settings.calendar
        ));
    }
    let default_calendar = settings.calendar.clone();
    for (p, policy) in settings.policies.iter_mut() {
        if policy.calendar.is_empty() {
            policy.calendar = default_calendar.clone();
        } else if !calendar_exists(&policy.calendar) {
            return Err(format!(
                "[sla.{p}] calendar = \"{}\": no such calendar (define [calendars.{}] or use \"24x7\")",
                policy.calendar, policy.calendar
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, None, PathBuf::from("/cfg"))
    }

    #[test]
    fn breakdowns_default_to_category_assignee_channel_and_name_the_valid_columns() {
        let source = "[[sources]]\npath = \"a.csv\"\n";
        let config = parse(source).unwrap();
        assert_eq!(
            config.report.breakdowns,
            ["category", "assignee", "channel"]
        );
        let given = format!("[report]\nbreakdowns = [\"ci\", \"ci\", \"service\"]\n{source}");
        assert_eq!(parse(&given).unwrap().report.breakdowns, ["ci", "service"]);
        let wrong = format!("[report]\nbreakdowns = [\"colour\"]\n{source}");
        let err = parse(&wrong).unwrap_err().to_string();
        assert!(
            err.contains("`colour` is not a column") && err.contains("requester"),
            "{err}"
        );
    }

    const CONTRACT_EXAMPLE: &str = r#"
[report]
title = "IT service KPIs"
timezone = "Europe/Amsterdam"
currency = "EUR"

[[sources]]
path = "exports/incidents.csv"
profile = "servicenow"
timezone = "UTC"

[[sources]]
path = "exports/change_request.csv"
profile = "servicenow"
kind = "change"
[sources.columns]
change_outcome = "u_substate"
[sources.values.change_outcome]
"All Changes Completed" = "successful"
"Partial Change Completed" = "successful_with_issues"
"Change Unsuccessful-Rolled Back" = "unsuccessful"
"Change Cancelled - Will Not Be Performed" = "cancelled"

[calendars.office]
timezone = "Europe/Amsterdam"
hours = { mon = "08:00-18:00", tue = "08:00-18:00", wed = "08:00-18:00", thu = "08:00-18:00", fri = "08:00-17:00" }
holidays = ["2026-12-25", "2026-12-26"]

[sla]
pause = ["wait_customer", "wait_third_party"]
calendar = "office"
[sla.P1]
response = "15m"
resolution = "4h"
calendar = "24x7"
[sla.P3]
response = "4h"
resolution = "3d"
calendar = "office"

[repeat]
key = ["ci"]
window_days = 30

[changes]
failure_window_days = 7

[costs]
default_hourly_rate = 55.0
group_rates = { "Service Desk" = 42.0, "Network" = 70.0 }
monthly_service_costs = { "Email" = 12000.0, "VPN" = 3500.0 }

[thresholds]
sla_resolution_met_pct = { min = 90.0 }
mttr_hours = { max = 24.0, stat = "median" }
"#;

    #[test]
    fn contract_example_parses() {
        let c = parse(CONTRACT_EXAMPLE).unwrap();
        assert_eq!(c.report.timezone, chrono_tz::Europe::Amsterdam);
        assert_eq!(c.sources.len(), 2);
        assert_eq!(
            c.sources[0].resolved_pattern,
            PathBuf::from("/cfg/exports/incidents.csv")
        );
        assert_eq!(c.sources[1].kind.as_deref(), Some("change"));
        assert_eq!(c.sources[1].columns["change_outcome"], "u_substate");
        assert_eq!(
            c.sla.policies["P3"].resolution.unwrap().minutes(),
            3 * 24 * 60
        );
        assert_eq!(c.sla.policies["P1"].calendar, "24x7");
        assert_eq!(c.calendar_for_priority("P2"), "office");
        assert_eq!(c.thresholds["mttr_hours"].stat, "median");
        assert_eq!(c.thresholds["sla_resolution_met_pct"].min, Some(90.0));
        assert_eq!(c.costs.group_rates["Network"], 70.0);
        assert!(c.calendars.contains_key("office"));
    }

    #[test]
    fn a_source_escapes_quotes_by_doubling_or_by_a_backslash_only() {
        let escapes = |value: &str| {
            parse(&format!(
                "[[sources]]\npath = \"a.csv\"\nescape = '{value}'\n"
            ))
            .map(|c| c.sources[0].backslash_escapes)
            .map_err(|e| e.to_string())
        };
        assert_eq!(escapes("\\"), Ok(true));
        assert_eq!(escapes("\""), Ok(false));
        let err = escapes("^").unwrap_err();
        assert!(err.contains("escape `^` is not a CSV escape"), "{err}");
        let url = parse("[[sources]]\npath = \"https://example.com/a.csv\"\n").unwrap_err();
        assert!(url.to_string().contains("is a URL"), "{url}");
    }

    #[test]
    fn typo_in_a_key_is_named() {
        let err = parse("[report]\ntimezon = \"UTC\"\n[[sources]]\npath = \"a.csv\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("timezon"), "{err}");
    }

    #[test]
    fn unknown_time_zone_is_named() {
        let err =
            parse("[report]\ntimezone = \"Europe/Amsterdm\"\n[[sources]]\npath = \"a.csv\"\n")
                .unwrap_err()
                .to_string();
        assert!(
            err.contains("Europe/Amsterdm") && err.contains("[report] timezone"),
            "{err}"
        );
    }

    #[test]
    fn value_map_to_unknown_class_is_rejected() {
        let err = parse(
            "[[sources]]\npath = \"a.csv\"\n[sources.values.status]\n\"Parked\" = \"parked\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("parked") && err.contains("wait_customer"),
            "{err}"
        );
    }

    #[test]
    fn sla_policy_needs_known_calendar() {
        let err = parse(
            "[[sources]]\npath = \"a.csv\"\n[sla.P1]\nresolution = \"4h\"\ncalendar = \"office\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("no such calendar"), "{err}");
    }

    #[test]
    fn sla_unknown_priority_is_rejected() {
        let err = parse("[[sources]]\npath = \"a.csv\"\n[sla.P7]\nresolution = \"4h\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("P7"), "{err}");
    }

    #[test]
    fn threshold_needs_a_bound() {
        let err = parse(
            "[[sources]]\npath = \"a.csv\"\n[thresholds]\nmttr_hours = { stat = \"median\" }\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("min") && err.contains("mttr_hours"), "{err}");
    }

    #[test]
    fn a_threshold_of_nan_or_infinity_is_refused() {
        // regression: `max = nan` was accepted and could never be breached
        for bound in ["max = nan", "min = -inf", "max = inf"] {
            let err = parse(&format!(
                "[[sources]]\npath = \"a.csv\"\n[thresholds]\nmttr_hours = {{ {bound} }}\n"
            ))
            .unwrap_err()
            .to_string();
            assert!(
                err.contains("mttr_hours") && err.contains("not a number"),
                "{err}"
            );
        }
    }

    #[test]
    fn a_timestamp_format_that_is_no_pattern_is_refused() {
        // regression: an invalid pattern rejected every row instead of the configuration
        for format in ["%Q-%m", "%d/%m/%", "hello", "%d/%m/%Y %H", "%d/%m/%Y %I:%M"] {
            let err = parse(&format!(
                "[[sources]]\npath = \"a.csv\"\ntimestamp_format = \"{format}\"\n"
            ))
            .unwrap_err()
            .to_string();
            assert!(
                err.contains("timestamp_format") && err.contains(format),
                "{err}"
            );
        }
        assert!(
            parse("[[sources]]\npath = \"a.csv\"\ntimestamp_format = \"%d/%m/%Y %H:%M\"\n").is_ok()
        );
    }

    #[test]
    fn no_sources_is_a_configuration_for_a_ticket_store() {
        // Runs from exports refuse it (tests/suite/store.rs); runs from a store read none.
        assert!(parse("[report]\ntitle = \"x\"\n").is_ok());
    }
}
