//! Ingest: exports in, canonical tables out (`tickets`, `status_changes`, `ingest_issues`),
//! with a per-file account of every row.

pub mod bytes;
pub mod canonical;
mod durations;
pub mod field_count;
pub mod inspect;
mod issues;
pub mod json;
mod json_stream;
pub mod normalize;
pub mod profile;
pub mod profile_list;
pub mod read;
pub mod spreadsheet;
pub mod timestamps;
mod zone;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::config::{Config, SourceConfig};
use crate::model;
use canonical::empty_frame;
use normalize::{FileContext, normalize};
use profile::{Mapping, Profile};

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{file}: {message}")]
    Unreadable { file: String, message: String },
    #[error("{0}")]
    Source(String),
    #[error("internal error while normalising: {0}")]
    Internal(String),
}

impl From<PolarsError> for IngestError {
    fn from(e: PolarsError) -> Self {
        IngestError::Internal(e.to_string())
    }
}

/// What one input file contributed. A ticket store keeps it whole (`store::StoredInput`):
/// `kpis.json` shows the fields not skipped.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct InputReport {
    pub path: String,
    /// The files read for it (the export, then its related files), as the run opened them.
    #[serde(skip)]
    pub files: Vec<PathBuf>,
    /// The tickets' `source`: the source's `name`, or its profile's.
    pub source: String,
    pub profile: String,
    /// Why this profile was used (named in the configuration, or which columns matched).
    pub profile_reason: String,
    pub sha256: String,
    pub format: String,
    pub encoding: String,
    pub timestamp_format: Option<String>,
    pub timezone: String,
    /// Data rows in the file.
    pub rows: u64,
    /// Rows that became tickets, or history rows of an event log.
    pub accepted: u64,
    pub rejected: u64,
    pub tickets: u64,
    /// History rows (event logs only).
    pub history_rows: u64,
    pub event_log: bool,
    /// Whether the export has a first-response time (without one, no response SLA exists).
    pub first_response: bool,
    /// Whether that first response is created + the help desk's own reply time, for want of a
    /// first-reply timestamp in the export.
    pub first_response_derived: bool,
    /// Whether the close time is created + the help desk's own time to close, for want of a
    /// close column (ServiceNow's `calendar_duration`).
    #[serde(skip)]
    pub close_derived: bool,
    /// Whether the export gives the first reply only as the help desk's business minutes: no
    /// instant and no calendar reply time (a Zendesk CSV trimmed to its business columns).
    #[serde(skip)]
    pub first_response_business_only: bool,
    /// Whether some ticket of the file has a reopen count (judged on the file as read, not on
    /// the tickets of the period).
    #[serde(skip)]
    pub reopen_count: bool,
    /// What the data-quality account says of this file besides its rows.
    #[serde(skip)]
    pub notes: Vec<String>,
}

impl InputReport {
    /// The sources of the `inputs` that `flag` holds for, each once, in order.
    pub fn sources_where(
        inputs: &[InputReport],
        flag: impl Fn(&InputReport) -> bool,
    ) -> BTreeSet<&str> {
        inputs
            .iter()
            .filter(|i| flag(i))
            .map(|i| i.source.as_str())
            .collect()
    }
}

/// The canonical tables of a run's inputs; the tickets as a frame (`T`), or where a run
/// reads them from (a store's files).
pub struct Ingested<T = DataFrame> {
    pub tickets: T,
    pub status_changes: DataFrame,
    pub issues: DataFrame,
    pub inputs: Vec<InputReport>,
    /// Sources (profiles) whose files carried status history.
    pub sources_with_history: BTreeSet<String>,
    /// Sources (profiles) whose files have a first-response column.
    pub sources_with_first_response: BTreeSet<String>,
}

impl<T> Ingested<T> {
    /// The same tables, the tickets as `f` makes them.
    pub fn map_tickets<U>(self, f: impl FnOnce(T) -> U) -> Ingested<U> {
        Ingested {
            tickets: f(self.tickets),
            status_changes: self.status_changes,
            issues: self.issues,
            inputs: self.inputs,
            sources_with_history: self.sources_with_history,
            sources_with_first_response: self.sources_with_first_response,
        }
    }
}

impl Ingested {
    /// Nothing read yet.
    pub fn empty() -> Ingested {
        Ingested {
            tickets: empty_frame(&model::ticket_columns()),
            status_changes: empty_frame(&model::status_change_columns()),
            issues: empty_frame(&model::issue_columns()),
            inputs: Vec::new(),
            sources_with_history: BTreeSet::new(),
            sources_with_first_response: BTreeSet::new(),
        }
    }
}

/// Reads every source of the configuration, every canonical field its profile maps.
pub fn ingest(config: &Config, profiles: &[Profile]) -> Result<Ingested, IngestError> {
    combine(Ingested::empty(), read_new(config, profiles, &[])?)
}

/// The exports the configuration names, as reports show them; a pattern that matches nothing
/// names none.
pub fn export_names(config: &Config) -> Vec<String> {
    config
        .sources
        .iter()
        .enumerate()
        .flat_map(|(i, source)| expand(source, i, &config.base_dir).unwrap_or_default())
        .map(|path| shown_path(&path, &config.base_dir))
        .collect()
}

/// One export as read: its canonical tables and its account.
pub struct FileRead {
    pub tables: normalize::Normalized,
    pub report: InputReport,
}

/// Reads the exports of the configuration whose bytes none of the files `before` had, each
/// shown under a name none of them has.
pub fn read_new(
    config: &Config,
    profiles: &[Profile],
    before: &[InputReport],
) -> Result<Vec<FileRead>, IngestError> {
    if config.sources.is_empty() {
        // A configuration for runs from a ticket store may name none.
        return Err(IngestError::Source(
            "no [[sources]]: name at least one export (`[[sources]]` with `path = ...`)"
                .to_string(),
        ));
    }
    let seen: HashMap<String, String> = before
        .iter()
        .map(|i| (i.sha256.clone(), i.path.clone()))
        .collect();
    let mut names: Vec<String> = before.iter().map(|i| i.path.clone()).collect();
    let mut files = Vec::new();
    let mut read_by = HashMap::new();
    for (i, source) in config.sources.iter().enumerate() {
        for path in expand(source, i, &config.base_dir)? {
            let shown = shown_path(&path, &config.base_dir);
            if !first_reading(&mut read_by, &path, &shown, i)? {
                continue;
            }
            let shown = unique_name(shown, &names);
            if let Some((tables, report)) =
                ingest_file(&path, &shown, source, config, profiles, &seen)?
            {
                names.push(shown);
                files.push(FileRead { tables, report });
            }
        }
    }
    Ok(files)
}

/// The tables of files read before (`held`) and of the files read after them, as one ingest
/// of them all: export slices merged, the files' accounts in order.
pub fn combine(held: Ingested, files: Vec<FileRead>) -> Result<Ingested, IngestError> {
    // Each file's frames alone where nothing was read before.
    let (mut tickets, mut history, mut issues) = match held.inputs.is_empty() {
        true => (Vec::new(), Vec::new(), Vec::new()),
        false => (
            vec![held.tickets],
            vec![held.status_changes.lazy()],
            vec![held.issues.lazy()],
        ),
    };
    let mut inputs = held.inputs;
    let mut sources_with_history = held.sources_with_history;
    let mut sources_with_first_response = held.sources_with_first_response;
    for FileRead { tables, report } in files {
        if let Some(h) = tables.history {
            sources_with_history.insert(report.source.clone());
            history.push(h.lazy());
        }
        if report.first_response {
            sources_with_first_response.insert(report.source.clone());
        }
        tickets.push(tables.tickets);
        issues.push(tables.issues.lazy());
        inputs.push(report);
    }
    let union = |frames: Vec<LazyFrame>,
                 columns: &[(&str, model::ColumnType)]|
     -> PolarsResult<DataFrame> {
        if frames.is_empty() {
            Ok(empty_frame(columns))
        } else {
            concat(frames, UnionArgs::default())?.collect()
        }
    };
    let tickets = match tickets.is_empty() {
        true => empty_frame(&model::ticket_columns()),
        false => stacked(tickets)?,
    };
    let mut status_changes = union(history, &model::status_change_columns())?;
    if several_files(&inputs) {
        // the same update, exported in two overlapping slices, is one status change
        status_changes = status_changes.unique_stable(None, UniqueKeepStrategy::First, None)?;
    }
    let issues = union(issues, &model::issue_columns())?;
    let t = crate::log::stage("tickets in several files");
    let (tickets, issues) = merge_slices(tickets, issues, &mut inputs)?;
    drop(t);
    Ok(Ingested {
        tickets,
        status_changes,
        issues,
        inputs,
        sources_with_history,
        sources_with_first_response,
    })
}

/// Reads one export and its related files into its canonical tables and its account; `None`
/// when a file read before had the same bytes.
fn ingest_file(
    path: &Path,
    shown: &str,
    source: &SourceConfig,
    config: &Config,
    profiles: &[Profile],
    seen: &HashMap<String, String>,
) -> Result<Option<(normalize::Normalized, InputReport)>, IngestError> {
    let mut export = {
        let _s = crate::log::stage(format!("{shown}: read, hash and decode"));
        let options = read::ReadOptions {
            encoding: source.encoding,
            backslash_escapes: source.backslash_escapes,
            sheet: source.sheet.as_deref(),
        };
        read::open(path, shown, options)?
    };
    if !seen.is_empty()
        && let Some(first) = seen.get(&export.sha256())
    {
        crate::log::note(&format!(
            "{shown}: already read, as {first} (the same bytes); skipped"
        ));
        return Ok(None);
    }
    let mut files = vec![path.to_path_buf()];
    files.extend(join_related(&mut export, source, shown)?);
    let header = export.header().clone();
    let (profile, reason, mapping) = choose_mapping(profiles, source, &header, shown)?;
    let mut wanted: Vec<usize> = mapping.fields.values().copied().collect();
    if let Some((seq, at)) = mapping.event_log {
        wanted.extend([seq, at]);
    }
    let timezone = source
        .timezone
        .or(mapping.timezone)
        .unwrap_or(config.report.timezone);
    let source_name = source.name.clone().unwrap_or_else(|| profile.name.clone());
    let ctx = FileContext {
        source: &source_name,
        shown,
        timezone,
        mapping: &mapping,
        header: &header,
    };
    let rows = match in_stretches(&export, &wanted, &ctx)? {
        Some(normalized) => Rows::Normalized(normalized),
        None => {
            let _s = crate::log::stage(format!("{shown}: parse {} columns", wanted.len()));
            Rows::Read(read::read_columns(&mut export, &wanted, &mapping.nulls)?)
        }
    };
    let facts = FileFacts {
        files,
        sha256: export.sha256(),
        format: export.format(),
        encoding: export.encoding.to_string(),
    };
    drop(export);
    if source.timezone.is_none() && mapping.timezone_unstated {
        crate::log::note(&format!(
            "warning: {shown}: a `{}` export writes local times without saying their zone; read \
             as {} ([report] timezone): set `timezone` in its [[sources]] entry",
            profile.name,
            timezone.name()
        ));
    }
    let normalized = match rows {
        Rows::Normalized(normalized) => normalized,
        Rows::Read(raw) => {
            normalize(raw, &ctx).map_err(|e| IngestError::Internal(format!("{shown}: {e}")))?
        }
    };
    let report = input_report(facts, &ctx, (&profile.name, reason), &normalized);
    for note in &report.notes {
        crate::log::note(&format!("{shown}: {note}"));
    }
    Ok(Some((normalized, report)))
}

/// A file's rows: normalised as they were read, or read to be normalised.
enum Rows {
    Normalized(normalize::Normalized),
    Read(read::RawFrame),
}

/// A long CSV export's tables, read and normalised a stretch at a time so that neither its
/// text nor its parse is ever held whole ([`normalize::InStretches`]); `None` when it is to be
/// read whole: it is short, or its stretches cannot be read alone.
fn in_stretches(
    export: &read::ExportFile,
    wanted: &[usize],
    ctx: &FileContext,
) -> Result<Option<normalize::Normalized>, IngestError> {
    if export.stretch.is_none() {
        return Ok(None);
    }
    let shown = ctx.shown;
    let _s = crate::log::stage(format!(
        "{shown}: parse and normalise {} columns a stretch at a time",
        wanted.len()
    ));
    let internal = |e: PolarsError| IngestError::Internal(format!("{shown}: {e}"));
    let mut stretches = normalize::InStretches::new(ctx);
    let read = read::read_stretches(export, wanted, &ctx.mapping.nulls, |raw| {
        stretches.add(raw).map_err(internal)
    })?;
    let why = match read {
        read::Stretched::Irregular(why) => why,
        read::Stretched::Declined => stretches.declined(),
        read::Stretched::Read => match stretches.finish().map_err(internal)? {
            Ok(normalized) => return Ok(Some(normalized)),
            Err(why) => why,
        },
    };
    crate::log::detail(&format!(
        "{shown}: read whole, its stretches not alone: {why}"
    ));
    Ok(None)
}

/// What reading a file found out about it besides its rows.
struct FileFacts {
    /// The export, then its related files.
    files: Vec<PathBuf>,
    sha256: String,
    format: String,
    encoding: String,
}

/// Joins the records of the source's related files (Zendesk's ticket metrics, ...) to the
/// export's; the files read, in order.
fn join_related(
    export: &mut read::ExportFile,
    source: &SourceConfig,
    shown: &str,
) -> Result<Vec<PathBuf>, IngestError> {
    if source.related.is_empty() {
        return Ok(Vec::new());
    }
    let mut files = Vec::new();
    let mut related = Vec::new();
    for pattern in &source.related {
        let related_at = format!("related of {shown}");
        for path in expand_pattern(pattern, &pattern.to_string_lossy(), &related_at)? {
            let shown_related = path.to_string_lossy().to_string();
            related.extend(json::related_records(
                &path,
                &shown_related,
                source.encoding,
            )?);
            files.push(path);
        }
    }
    export
        .join_related(related)
        .map_err(|message| IngestError::Unreadable {
            file: shown.to_string(),
            message,
        })?;
    Ok(files)
}

/// The profile that reads the header (the one named, or the one detected), why, and its
/// mapping of the header's columns; an error that says which profile would fit when the one
/// named does not.
fn choose_mapping<'p>(
    profiles: &'p [Profile],
    source: &SourceConfig,
    header: &profile::HeaderIndex,
    shown: &str,
) -> Result<(&'p Profile, String, Mapping), IngestError> {
    let (profile, reason) =
        profile::choose(profiles, &source.profile, header, shown).map_err(|message| {
            if source.profile == "auto" {
                IngestError::Unreadable {
                    file: shown.to_string(),
                    message: message
                        .trim_start_matches(&format!("{shown}: "))
                        .to_string(),
                }
            } else {
                IngestError::Source(message)
            }
        })?;
    let mapping = Mapping::build(profile, source, header, shown).map_err(|message| {
        let fits = (source.profile != "auto")
            .then(|| profile::choose(profiles, "auto", header, shown).ok())
            .flatten()
            .filter(|(p, _)| p.name != profile.name);
        IngestError::Source(match fits {
            Some((p, _)) => format!(
                "{message}; the header is that of a `{0}` export (profile = \"{0}\", or leave \
                 `profile` out to have it detected)",
                p.name
            ),
            None => message,
        })
    })?;
    Ok((profile, reason, mapping))
}

/// A file's account: what it held, what was read of it, and the notes a reader of the report
/// needs (repeated rows, a derived close time, columns the profile reads twice).
fn input_report(
    facts: FileFacts,
    ctx: &FileContext,
    (profile, profile_reason): (&str, String),
    normalized: &normalize::Normalized,
) -> InputReport {
    let mapping = ctx.mapping;
    let has = |f: &str| mapping.fields.contains_key(f);
    let first_response_derived = normalize::derives_first_response(&has);
    let mut report = InputReport {
        files: facts.files,
        path: ctx.shown.to_string(),
        source: ctx.source.to_string(),
        profile: profile.to_string(),
        profile_reason,
        sha256: facts.sha256,
        format: facts.format,
        encoding: facts.encoding,
        timestamp_format: normalized.timestamp_format.clone(),
        timezone: ctx.timezone.name().to_string(),
        rows: normalized.rows,
        accepted: normalized.rows - normalized.rejected,
        rejected: normalized.rejected,
        tickets: normalized.tickets.height() as u64,
        history_rows: normalized.history.as_ref().map_or(0, |h| h.height() as u64),
        event_log: normalized.history.is_some(),
        first_response: has("first_response_at") || first_response_derived,
        first_response_derived,
        first_response_business_only: !has("first_response_at")
            && !first_response_derived
            && has("reported_first_response_business_minutes"),
        reopen_count: normalized
            .tickets
            .column("reopen_count")
            .is_ok_and(|c| c.null_count() < c.len()),
        close_derived: normalize::derives_close(&has),
        notes: mapping.repeated_columns(ctx.header),
    };
    let merged_rows = report.accepted - report.tickets;
    if mapping.rows_repeat_tickets && merged_rows > 0 {
        report.notes.push(format!(
            "{merged_rows} rows repeat the ticket of an earlier row (the export writes a row per \
             value of an attribute): each ticket is read once, from its first row"
        ));
    }
    if report.close_derived {
        report.notes.push(format!(
            "no close column: a ticket's close time is its creation + `{}`, the help desk's own \
             time from opening to close",
            ctx.header.names()[mapping.fields["reported_close_minutes"]]
        ));
    }
    report
}

/// A file's name as reports show it, made unique among the files read before: a monthly export
/// saved under the same name each month is `incidents.csv`, then `incidents.csv (2)`.
fn unique_name(shown: String, names: &[String]) -> String {
    let taken = |name: &str| names.iter().any(|n| n == name);
    if !taken(&shown) {
        return shown;
    }
    (2..)
        .map(|n| format!("{shown} ({n})"))
        .find(|name| !taken(name))
        .expect("some number is free")
}

/// The name a file was shown under before [`unique_name`] numbered it: `incidents.csv` for
/// `incidents.csv (2)`; any other name as it is (`x (1)`: the numbers start at 2).
pub fn name_before_numbering(shown: &str) -> &str {
    match shown.rsplit_once(" (") {
        Some((name, n))
            if n.strip_suffix(')')
                .and_then(|n| n.parse::<u32>().ok())
                .is_some_and(|n| n >= 2) =>
        {
            name
        }
        _ => shown,
    }
}

/// Whether the run reads `path` for the first time: the same file again through a symbolic
/// link of the same source is read once; a file that two sources name is an error (read twice,
/// every ticket would be a duplicate of itself).
fn first_reading(
    read_by: &mut HashMap<PathBuf, usize>,
    path: &Path,
    shown: &str,
    source: usize,
) -> Result<bool, IngestError> {
    let real = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    match read_by.insert(real, source) {
        None => Ok(true),
        Some(first) if first == source => Ok(false),
        Some(first) => Err(IngestError::Source(format!(
            "{shown} is named by [[sources]] #{} and #{}: a file belongs to one source",
            first + 1,
            source + 1
        ))),
    }
}

/// The files a source names: its glob, sorted, or an error that says nothing matched.
fn expand(
    source: &SourceConfig,
    index: usize,
    base_dir: &Path,
) -> Result<Vec<PathBuf>, IngestError> {
    let at = format!("[[sources]] #{} (path = \"{}\")", index + 1, source.pattern);
    if source.resolved_pattern.is_file() {
        return Ok(vec![source.resolved_pattern.clone()]);
    }
    if !source.pattern.contains(['*', '?', '[']) {
        return Err(IngestError::Unreadable {
            file: source.resolved_pattern.to_string_lossy().to_string(),
            message: format!("no such file (named by {at})"),
        });
    }
    // Only the configured pattern is one: the directory it is relative to is a path, whatever
    // characters its name holds (`exports [q4]/`).
    let pattern = if Path::new(&source.pattern).is_absolute() {
        PathBuf::from(&source.pattern)
    } else {
        PathBuf::from(glob::Pattern::escape(&base_dir.to_string_lossy())).join(&source.pattern)
    };
    expand_pattern(&pattern, &source.resolved_pattern.to_string_lossy(), &at)
}

/// The files a pattern names, sorted; errors show it as `shown`, and say who named it (`at`). A
/// path that is a file is that file, even when its name holds `[`, `]`, `*` or `?`.
fn expand_pattern(resolved: &Path, shown: &str, at: &str) -> Result<Vec<PathBuf>, IngestError> {
    let pattern = resolved.to_string_lossy().to_string();
    if resolved.is_file() {
        return Ok(vec![resolved.to_path_buf()]);
    }
    let is_glob = pattern.contains(['*', '?', '[']);
    if !is_glob {
        return Err(IngestError::Unreadable {
            file: shown.to_string(),
            message: format!("no such file (named by {at})"),
        });
    }
    let mut files = glob_files(&pattern)
        .map_err(|e| IngestError::Source(format!("{at}: not a valid pattern: {e}")))?;
    files.sort();
    if files.is_empty() {
        return Err(IngestError::Unreadable {
            file: shown.to_string(),
            message: format!("no file matches this pattern (named by {at})"),
        });
    }
    Ok(files)
}

/// The files a glob pattern matches: a walk from the pattern's literal directory that follows
/// symbolic links but never round a loop (the `glob` crate went round one 41 times, and never
/// finished two).
fn glob_files(pattern: &str) -> Result<Vec<PathBuf>, glob::PatternError> {
    let matcher = glob::Pattern::new(pattern)?;
    let options = glob::MatchOptions {
        require_literal_separator: true,
        ..glob::MatchOptions::new()
    };
    let components: Vec<&str> = pattern.split('/').collect();
    let literal = components
        .iter()
        .take_while(|c| !c.contains(['*', '?', '[']))
        .count();
    let root = components[..literal].join("/");
    let (root, relative) = match root.as_str() {
        "" if pattern.starts_with('/') => ("/".to_string(), false),
        "" => (".".to_string(), true),
        _ => (root, false),
    };
    let depth = if pattern.contains("**") {
        usize::MAX
    } else {
        components.len() - literal
    };
    let files = walkdir::WalkDir::new(&root)
        .follow_links(true)
        .max_depth(depth)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| match relative {
            true => e.path().strip_prefix(".").unwrap_or(e.path()).to_path_buf(),
            false => e.into_path(),
        })
        .filter(|p| matcher.matches_path_with(p, options))
        .collect();
    Ok(files)
}

/// A path as reports show it: relative to the configuration's directory when it lies inside it.
fn shown_path(path: &Path, base: &Path) -> String {
    let rel = path.strip_prefix(base).unwrap_or(path);
    rel.to_string_lossy().replace('\\', "/")
}

/// Export slices overlap: a ticket open in September's file and resolved in October's is one
/// ticket. Where a source's files repeat an id, the later version is kept: the one updated
/// later (`updated_at`), else, where the versions carry no update time, the one in the later
/// file. Each older version is kept in the issues as replaced, and the file that held it is
/// told so; rows read stay accepted.
fn merge_slices(
    tickets: DataFrame,
    issues: DataFrame,
    inputs: &mut [InputReport],
) -> Result<(DataFrame, DataFrame), IngestError> {
    if !several_files(inputs) {
        return Ok((tickets, issues));
    }
    let Some(repeated) = with_repeated_ids(&tickets)? else {
        return Ok((tickets, issues));
    };
    let positions: Vec<IdxSize> = (0..tickets.height() as IdxSize).collect();
    let positions = IdxCa::from_vec(POSITION.into(), positions).filter(&repeated)?;
    let mut versions = tickets.filter(&repeated)?;
    versions.with_column(positions.into_column())?;
    let order: Vec<String> = inputs.iter().map(|i| i.path.clone()).collect();
    let file_order = col("source_file").replace_strict(
        lit(Series::new("file".into(), order.clone())),
        lit(Series::new(
            "order".into(),
            (0..order.len() as u32).collect::<Vec<_>>(),
        )),
        None,
        Some(DataType::UInt32),
    );
    let latest_first = versions
        .lazy()
        .with_column(file_order.alias(FILE_ORDER))
        .sort(
            ["source", "id", "updated_at", FILE_ORDER],
            SortMultipleOptions::default()
                .with_order_descending_multi([false, false, true, true])
                .with_nulls_last(true)
                .with_maintain_order(true),
        )
        .with_column(
            col("id")
                .is_first_distinct()
                .over([col("source")])?
                .alias(KEPT),
        )
        .collect()?;
    let kept = latest_first
        .clone()
        .lazy()
        .filter(col(KEPT))
        .select([col(POSITION)])
        .collect()?;
    let replaced = latest_first.lazy().filter(col(KEPT).not()).collect()?;
    tell_files_of_replaced(&replaced, inputs)?;
    let replaced_issues = replaced.lazy().select([
        col("source_file"),
        col("source_row"),
        lit("id").alias("column"),
        col("id").alias("value"),
        lit(REPLACED_PROBLEM).alias("problem"),
        lit(model::ACTION_ROW_REPLACED).alias("action"),
    ]);
    let issues = concat([issues.lazy(), replaced_issues], UnionArgs::default())?.collect()?;
    // One filter of the stacked tickets, so that each is where its file had it, the columns of
    // one value stay one value, and the files' pieces stay pieces.
    let mut keep: Vec<bool> = repeated.iter().map(|r| r != Some(true)).collect();
    for position in kept.column(POSITION)?.idx()?.into_no_null_iter() {
        keep[position as usize] = true;
    }
    let tickets = tickets.filter(&BooleanChunked::from_slice("keep".into(), &keep))?;
    Ok((tickets, issues))
}

/// The rows whose id another row has too, if any: of one source, and perhaps of another, in
/// which case the row is the only version of its ticket in its source, and kept. A window over
/// source and id held every row's group: 2.2 GiB on ten million tickets.
fn with_repeated_ids(tickets: &DataFrame) -> PolarsResult<Option<BooleanChunked>> {
    let later = (tickets.clone().lazy())
        .select([col("id").is_first_distinct().not().alias("later")])
        .collect()?;
    let later = later.column("later")?.bool()?;
    if !later.any() {
        return Ok(None);
    }
    let ids = tickets.column("id")?.filter(later)?;
    let repeated = col("id").is_in(lit(ids.take_materialized_series()).implode(false), false);
    let repeated = (tickets.clone().lazy())
        .select([repeated.alias("repeated")])
        .collect()?;
    Ok(Some(repeated.column("repeated")?.bool()?.clone()))
}

/// Frames of the same columns one after the other. A column that is one and the same value in
/// every frame (the source's name, its kind, a field no export fills) stays that one value,
/// as in a single file's tickets, rather than being written out for every row: it takes no
/// memory, and the run gives it to DuckDB as a constant (`Tickets::constants` in the pipeline).
fn stacked(frames: Vec<DataFrame>) -> PolarsResult<DataFrame> {
    let height = frames.iter().map(DataFrame::height).sum();
    let order: Vec<PlSmallStr> = frames[0].get_column_names_owned();
    let same_everywhere = |column: &Column| {
        let value = column.as_scalar_column()?.scalar();
        frames
            .iter()
            .all(|frame| {
                frame
                    .column(column.name())
                    .ok()
                    .and_then(Column::as_scalar_column)
                    .is_some_and(|other| other.scalar() == value)
            })
            .then(|| Column::new_scalar(column.name().clone(), value.clone(), height))
    };
    let constants: Vec<Column> = frames[0]
        .columns()
        .iter()
        .filter_map(same_everywhere)
        .collect();
    let names: Vec<PlSmallStr> = constants.iter().map(|c| c.name().clone()).collect();
    let rest: Vec<LazyFrame> = frames
        .into_iter()
        .map(|frame| frame.drop_many(names.iter().cloned()).lazy())
        .collect();
    let mut stacked = concat(rest, UnionArgs::default())?.collect()?;
    for constant in constants {
        stacked.with_column(constant)?;
    }
    stacked.select(order)
}

/// Whether some source reads more than one file.
fn several_files(inputs: &[InputReport]) -> bool {
    let mut files_per_source: HashMap<&str, usize> = HashMap::new();
    for input in inputs {
        *files_per_source.entry(input.source.as_str()).or_default() += 1;
    }
    files_per_source.values().any(|n| *n > 1)
}

const FILE_ORDER: &str = "__file_order";
const KEPT: &str = "__kept";
const POSITION: &str = "__position";
const REPLACED_PROBLEM: &str = "an older version of a ticket another file of the source has again: \
     the version updated last (or, with no update time, the later file's) is kept";

/// Each file whose rows were replaced has fewer tickets, and says how many.
fn tell_files_of_replaced(
    replaced: &DataFrame,
    inputs: &mut [InputReport],
) -> Result<(), IngestError> {
    let counts = issues::count_by_file(replaced, "source_file")?;
    for input in inputs.iter_mut() {
        if let Some(n) = counts.get(&input.path) {
            input.tickets -= n;
            input.notes.push(format!(
                "{n} of its tickets are in another file of source `{}` in a later version, \
                 which is kept (the one updated last, or the later file's where the versions \
                 have no update time)",
                input.source
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_numbered_name_gives_back_the_name_it_numbered() {
        let mut names: Vec<String> = Vec::new();
        for shown in [
            "incidents.csv",
            "incidents.csv",
            "incidents.csv",
            "a (b).csv",
            "x (1)",
        ] {
            let numbered = unique_name(shown.to_string(), &names);
            assert_eq!(name_before_numbering(&numbered), shown, "{numbered}");
            names.push(numbered);
        }
        assert_eq!(names[2], "incidents.csv (3)");
        assert_eq!(
            name_before_numbering("report (final).csv"),
            "report (final).csv"
        );
    }
}
