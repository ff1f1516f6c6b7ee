//! One file's columns → canonical tickets, status history and ingest issues, as Polars
//! expressions. Every row ends as a ticket (or a history row) or as a rejected row with its
//! reason; every value that cannot be true is nulled and reported.

use std::collections::BTreeMap;

use chrono_tz::Tz;
use polars::prelude::*;

use super::canonical::{polars_type, utc_type};
use super::durations::{minutes, unit_name};
use super::field_count::MalformedRow;
use super::issues::{IssueRule, issue_frame, issue_table, malformed_frame};
use super::profile::{HeaderIndex, Mapping, Unit, ValueReading, read_value};
use super::read::{ROW_COLUMN, RawFrame, column_name};
use super::timestamps::{
    also_written_in, choose_format, formats_in_shown_order, naive, naive_any, plausible_from,
    plausible_until, reads_none,
};
use super::zone::to_utc;
use crate::clock::duration::LONGEST;
use crate::model::{self, ACTION_ROW_REJECTED, ACTION_VALUE_NULLED};

/// What the normaliser needs to know about the file besides its rows.
pub struct FileContext<'a> {
    pub source: &'a str,
    pub shown: &'a str,
    pub timezone: Tz,
    pub mapping: &'a Mapping,
    pub header: &'a HeaderIndex,
}

pub struct Normalized {
    pub tickets: DataFrame,
    pub history: Option<DataFrame>,
    pub issues: DataFrame,
    pub rows: u64,
    pub rejected: u64,
    pub timestamp_format: Option<String>,
}

const SEQ_RAW: &str = "__seq_raw";
const UPDATED_RAW: &str = "__updated_raw";
const SEQ: &str = "__seq";
const UPDATED: &str = "__updated_at";
const REJECT: &str = "__reject";
const RAW_SUFFIX: &str = "__raw";
const NAIVE_SUFFIX: &str = "__naive";
const DATE_TEXT_SUFFIX: &str = "__date_text";

fn zoned_name(field: &str) -> String {
    format!("{field}__zoned")
}

fn raw(field: &str) -> String {
    format!("{field}{RAW_SUFFIX}")
}

/// A timestamp column's text as its formats read it: the source text with the export's date
/// words in English (see [`Mapping::date_words`]); the source text itself stays for messages.
fn date_text(field: &str) -> String {
    format!("{field}{DATE_TEXT_SUFFIX}")
}

fn null_text() -> Expr {
    lit(NULL).cast(DataType::String)
}

impl FileContext<'_> {
    /// Whether the export has a column for a canonical field.
    fn has(&self, field: &str) -> bool {
        self.mapping.fields.contains_key(field)
    }

    /// The export's own name for a canonical field's column, for messages.
    fn label(&self, field: &str) -> String {
        self.mapping
            .fields
            .get(field)
            .map(|i| self.header.names()[*i].clone())
            .unwrap_or_else(|| field.to_string())
    }
}

/// Timestamp formats: the file's own (`None` where no value says), the one its columns are
/// read in by default, and for each timestamp field the formats that read it.
type Formats = (Option<String>, String, BTreeMap<&'static str, Vec<String>>);

/// A reason to reject a row: when, which column, the value to show, and what is wrong.
type Reason = (Expr, String, Expr, String);

/// A file's rows → its tickets, history and issues, step by step: the columns staged under
/// canonical names (1), whether it is an event log (2), its timestamp formats (3), typed (4),
/// rejected rows set aside (5), duplicates (6), impossible values nulled (7), the canonical
/// tables (8).
pub fn normalize(raw_frame: RawFrame, ctx: &FileContext) -> PolarsResult<Normalized> {
    let RawFrame {
        frame,
        malformed,
        rows,
    } = raw_frame;
    let staged = staged_columns(frame, &malformed, ctx.mapping)?;
    let decisions = decide(&staged, &id_counts(&staged)?, ctx, false)?;
    if let Some(note) = &decisions.note {
        crate::log::note(note);
    }
    let mut tables = typed_tables(staged, &malformed, rows, ctx, &decisions, false)?;
    // One piece: those of rows that were filtered come in the reader's many small pieces, which
    // take more memory, and which DuckDB takes more slowly, than one. The run joins the pieces
    // of several files into parts of its own (`parts_of` in the pipeline), so that the tickets
    // of many files are never copied whole.
    tables.tickets.rechunk_mut_par();
    Ok(tables)
}

/// What [`normalize`] decides on a file's whole columns before it types a row (steps 2 and 3).
struct Decisions {
    event_log: bool,
    check_duplicates: bool,
    formats: Formats,
    /// What the user is told of the formats (see [`timestamp_formats`]).
    note: Option<String>,
}

/// The decisions on the staged rows; `event_log` where the file is known to be one whatever
/// these rows' ids (an earlier stretch of it repeated ids).
fn decide(
    staged: &DataFrame,
    ids: &Ids,
    ctx: &FileContext,
    event_log: bool,
) -> PolarsResult<Decisions> {
    let m = ctx.mapping;
    // An event log repeats ticket ids; a list export that merely has the columns does not.
    let repeated = ids.distinct < ids.n;
    let event_log = event_log || (m.event_log.is_some() && repeated);
    let (formats, note) = timestamp_formats(staged, ctx, event_log)?;
    Ok(Decisions {
        event_log,
        // `52 267` and `52267` are one ticket: the raw ids cannot tell that a list repeats none
        check_duplicates: repeated || m.id_digit_groups || m.rows_repeat_tickets,
        formats,
        note,
    })
}

/// Steps 4 to 8 of [`normalize`], on the decisions taken. An event log's tickets keep their
/// rows' sequence where `stretch` says the rows are a stretch of the file: the ticket is the
/// last of the stretches' last rows ([`InStretches::finish`]).
fn typed_tables(
    staged: DataFrame,
    malformed: &[MalformedRow],
    rows: u64,
    ctx: &FileContext,
    decisions: &Decisions,
    stretch: bool,
) -> PolarsResult<Normalized> {
    let Decisions {
        event_log,
        check_duplicates,
        formats: (format, fmt, formats),
        ..
    } = decisions;
    let event_log = *event_log;
    let reasons = rejection_reasons(ctx, formats, fmt, event_log);
    let (typed, mut rules) = typed_rows(staged, ctx, formats, fmt, event_log, &reasons)?;

    let mut issue_frames = Vec::new();
    let mut accepted = without_rejected(typed, &reasons, ctx, &mut issue_frames)?;
    if !malformed.is_empty() {
        issue_frames.push(malformed_frame(malformed, ctx.shown, ctx.header.names())?.lazy());
    }
    // A list export has each ticket once (an event log has it many times).
    if *check_duplicates && !event_log {
        accepted = without_duplicates(accepted.collect()?, ctx, &mut issue_frames)?.lazy();
    }
    let (more_rules, nulled_before_creation) = impossible_values(ctx, formats);
    rules.extend(more_rules);
    let any_nulled = values_set_aside(&accepted, rules, ctx, &mut issue_frames)?;
    let (issues, rejected) = issue_table(issue_frames)?;
    let (tickets, history) = canonical_tables(
        accepted,
        &nulled_before_creation,
        any_nulled,
        ctx,
        (event_log, stretch),
    )?;
    Ok(Normalized {
        tickets,
        history,
        issues,
        rows,
        rejected,
        timestamp_format: format.clone(),
    })
}

/// A file normalised a stretch of rows at a time (see [`super::read::read_stretches`]), as
/// [`normalize`] does it whole, so that the file's text is never held whole: each stretch is
/// staged, decided on and typed, and its text dropped.
///
/// The decisions of step 2 and 3 are a file's, not a stretch's; a stretch is taken only where
/// they are the same as the first stretch's and, in a list, it repeats no id. No id of a list
/// may be in two stretches either: where the ids go on rising (or falling) from stretch to
/// stretch, none is; otherwise the tickets' ids are checked once every stretch is read. The
/// file's decisions are then those too, and every row ends as it would in the whole file. An
/// event log is one from its first stretch on, whose ids repeat, and a ticket's rows may lie in
/// several stretches: its row is found over them. Where a stretch is not taken, the file is
/// read whole.
pub struct InStretches<'a> {
    ctx: &'a FileContext<'a>,
    decisions: Option<Decisions>,
    /// Whether the ids seen so far may rise, and may fall, from row to row: if neither, an id
    /// may be in two stretches.
    may_rise: bool,
    may_fall: bool,
    last_id: Option<String>,
    parts: Vec<Normalized>,
    /// Why the last stretch was not taken.
    declined: &'static str,
}

impl<'a> InStretches<'a> {
    pub fn new(ctx: &'a FileContext<'a>) -> Self {
        InStretches {
            ctx,
            decisions: None,
            may_rise: true,
            may_fall: true,
            last_id: None,
            parts: Vec::new(),
            declined: "",
        }
    }

    /// Why a stretch was not taken, for the user.
    pub fn declined(&self) -> &'static str {
        self.declined
    }

    /// Normalises the next stretch's rows: `false`, and nothing kept, when the file is to be
    /// read whole.
    pub fn add(&mut self, raw_frame: RawFrame) -> PolarsResult<bool> {
        let RawFrame {
            frame,
            malformed,
            rows,
        } = raw_frame;
        let staged = staged_columns(frame, &malformed, self.ctx.mapping)?;
        let ids = id_counts(&staged)?;
        let event_log = self.decisions.as_ref().is_some_and(|d| d.event_log);
        let decisions = decide(&staged, &ids, self.ctx, event_log)?;
        if let Some(why) = self.differs(&decisions, ids) {
            self.declined = why;
            return Ok(false);
        }
        let decisions = self.decisions.get_or_insert(decisions);
        let mut part = typed_tables(staged, &malformed, rows, self.ctx, decisions, true)?;
        // One piece a stretch, which DuckDB takes in and the run frees a stretch at a time.
        part.tickets.rechunk_mut_par();
        self.parts.push(part);
        Ok(true)
    }

    /// Why a stretch of these decisions and ids cannot be taken, if it cannot.
    fn differs(&mut self, decisions: &Decisions, ids: Ids) -> Option<&'static str> {
        if let Some(first) = &self.decisions {
            if first.event_log != decisions.event_log {
                return Some("its first stretch repeats no id where a later one does");
            }
            if first.formats != decisions.formats {
                return Some("its timestamps read otherwise in a later stretch than in the first");
            }
        }
        if decisions.event_log {
            return None;
        }
        if decisions.check_duplicates {
            return Some("a stretch repeats an id (or the profile merges a ticket's rows)");
        }
        self.follow_ids(ids);
        None
    }

    /// Follows the file's ids, this stretch's after those before: whether they still rise (or
    /// fall) from row to row, and so repeat none.
    fn follow_ids(&mut self, ids: Ids) {
        let Some((first, last)) = ids.ends else {
            return;
        };
        let after = self.last_id.as_ref();
        self.may_rise &= ids.rising && after.is_none_or(|before| *before < first);
        self.may_fall &= ids.falling && after.is_none_or(|before| *before > first);
        self.last_id = Some(last);
    }

    /// The file's tables: the stretches' one after the other; else why they are not the whole
    /// file's.
    pub fn finish(self) -> PolarsResult<Result<Normalized, &'static str>> {
        let Some(first) = self.parts.first() else {
            return Ok(Err("no stretch holds a row"));
        };
        // Said once, for the file: the first stretch's dates are the file's first.
        if let Some(note) = self.decisions.as_ref().and_then(|d| d.note.as_ref()) {
            crate::log::note(note);
        }
        let timestamp_format = first.timestamp_format.clone();
        let (mut tickets, mut history, mut issues) = (Vec::new(), Vec::new(), Vec::new());
        let (mut rows, mut rejected) = (0, 0);
        for part in self.parts {
            tickets.push(part.tickets);
            history.extend(part.history.map(DataFrame::lazy));
            issues.push(part.issues.lazy());
            rows += part.rows;
            rejected += part.rejected;
        }
        let mut tickets = super::stacked(tickets)?;
        let event_log = !history.is_empty();
        let ids_in_order = self.may_rise || self.may_fall;
        if !event_log && !ids_in_order && ids_repeat(&tickets)? {
            return Ok(Err("a ticket id is in two of its stretches"));
        }
        if event_log {
            tickets = each_tickets_last_row(tickets.lazy(), "source_row")?
                .drop(by_name([SEQ], true, false))
                .collect()?;
            tickets.rechunk_mut_par();
        }
        let history = match event_log {
            true => Some(concat(history, UnionArgs::default())?.collect()?),
            false => None,
        };
        Ok(Ok(Normalized {
            tickets,
            history,
            issues: concat(issues, UnionArgs::default())?.collect()?,
            rows,
            rejected,
            timestamp_format,
        }))
    }
}

/// Whether some id is on two of the tickets (none is null: a row without one is rejected). A
/// whole read that finds one rejects the later rows as duplicates, so a list's stretches, each
/// of which repeats none, make the whole file's tickets only where no id is on two of them.
fn ids_repeat(tickets: &DataFrame) -> PolarsResult<bool> {
    Ok(tickets.column("id")?.n_unique()? < tickets.height())
}

/// Step 1 of [`normalize`]: the source columns under canonical names, the malformed rows left
/// out; null markers were recognised while reading.
fn staged_columns(
    frame: DataFrame,
    malformed: &[MalformedRow],
    m: &Mapping,
) -> PolarsResult<DataFrame> {
    let mut select = vec![col(ROW_COLUMN)];
    for (field, idx) in &m.fields {
        select.push(col(column_name(*idx)).alias(raw(field)));
        if model::TIMESTAMP_FIELDS.contains(&field.as_str()) {
            select.push(col(column_name(*idx)).alias(date_text(field)));
        }
    }
    if let Some((seq, at)) = m.event_log {
        select.push(col(column_name(seq)).alias(SEQ_RAW));
        select.push(col(column_name(at)).alias(UPDATED_RAW));
        select.push(col(column_name(at)).alias(date_text(UPDATED)));
    }
    let mut lf = frame.lazy();
    if !malformed.is_empty() {
        let bad = Series::new(
            "malformed".into(),
            malformed.iter().map(|r| r.row).collect::<Vec<u64>>(),
        );
        lf = lf.filter(col(ROW_COLUMN).is_in(lit(bad).implode(false), false).not());
    }
    dates_in_english(lf.select(select).collect()?, m)
}

/// Steps 4 and 5 of [`normalize`]: the typed columns beside their source text, the timestamps
/// in UTC (a placeholder date null), and each row's rejection code (0: accepted; else the
/// first of `reasons` that holds, counted from 1); with the rules that set a value aside.
fn typed_rows(
    staged: DataFrame,
    ctx: &FileContext,
    formats: &BTreeMap<&'static str, Vec<String>>,
    fmt: &str,
    event_log: bool,
    reasons: &[Reason],
) -> PolarsResult<(DataFrame, Vec<IssueRule>)> {
    let (typed, rules, zone_names) = typed_columns(&staged, ctx, formats, fmt, event_log)?;
    // Naive → UTC (ambiguous: first occurrence; gap: null), then placeholders out; the naive
    // parse is kept to tell a bad format from a DST gap.
    let zoned: Vec<Expr> = zone_names
        .iter()
        .map(|f| to_utc(col(naive_name(f).as_str()), ctx.timezone).alias(zoned_name(f)))
        .collect();
    let plausible: Vec<Expr> = zone_names
        .iter()
        .map(|f| {
            let utc = col(zoned_name(f).as_str());
            let implausible = utc
                .clone()
                .lt(plausible_from())
                .or(utc.clone().gt_eq(plausible_until()));
            when(implausible)
                .then(lit(NULL).cast(utc_type()))
                .otherwise(utc)
                .alias(*f)
        })
        .collect();
    let mut code = lit(0u32);
    for (i, (cond, ..)) in reasons.iter().enumerate().rev() {
        code = when(cond.clone()).then(lit(i as u32 + 1)).otherwise(code);
    }
    let typed = staged
        .lazy()
        .select(typed)
        .with_columns(zoned)
        .with_columns(plausible)
        .with_column(code.alias(REJECT))
        .collect()?;
    Ok((typed, rules))
}

/// Step 5 of [`normalize`]: each rejected row as an issue, with its first reason; the rows
/// that remain, left lazy so that the steps after it copy only the columns they keep: a
/// filtered copy of every typed column took the million-ticket export, with a hundred rows
/// rejected, to 1.4 GB where it peaks at 0.85 GB without them.
fn without_rejected(
    typed: DataFrame,
    reasons: &[Reason],
    ctx: &FileContext,
    issue_frames: &mut Vec<LazyFrame>,
) -> PolarsResult<LazyFrame> {
    let reject_counts = counts(
        &typed.clone().lazy(),
        (1..=reasons.len())
            .map(|k| col(REJECT).eq(lit(k as u32)))
            .collect(),
    )?;
    for (k, (_, column, value, problem)) in reasons.iter().enumerate() {
        if reject_counts[k] > 0 {
            issue_frames.push(issue_frame(
                typed
                    .clone()
                    .lazy()
                    .filter(col(REJECT).eq(lit(k as u32 + 1))),
                ctx.shown,
                column,
                value.clone(),
                problem,
                ACTION_ROW_REJECTED,
            ));
        }
    }
    Ok(match reject_counts.iter().any(|n| *n > 0) {
        true => typed.lazy().filter(col(REJECT).eq(lit(0u32))),
        false => typed.lazy(),
    })
}

/// Step 6 of [`normalize`]: each ticket from its first row. The rows of one ticket in an
/// export that writes a row per value of an attribute are counted by the caller; any other
/// repeated id is an issue.
fn without_duplicates(
    accepted: DataFrame,
    ctx: &FileContext,
    issue_frames: &mut Vec<LazyFrame>,
) -> PolarsResult<DataFrame> {
    let first = accepted
        .clone()
        .lazy()
        .select([col("id").is_first_distinct().alias("first")])
        .collect()?;
    let first = first.column("first")?.bool()?.clone();
    if ctx.mapping.rows_repeat_tickets {
        return accepted.filter(&first);
    }
    if first.sum().unwrap_or(0) as usize == accepted.height() {
        return Ok(accepted);
    }
    let dups = accepted.filter(&!&first)?;
    issue_frames.push(issue_frame(
        dups.lazy(),
        ctx.shown,
        &ctx.label("id"),
        col("id"),
        "duplicate ticket id: an earlier row has it and is kept",
        ACTION_ROW_REJECTED,
    ));
    accepted.filter(&first)
}

/// Step 7 of [`normalize`]: an issue for each value a rule sets aside; whether any is.
fn values_set_aside(
    accepted: &LazyFrame,
    rules: Vec<IssueRule>,
    ctx: &FileContext,
    issue_frames: &mut Vec<LazyFrame>,
) -> PolarsResult<bool> {
    let rule_counts = counts(accepted, rules.iter().map(|r| r.when.clone()).collect())?;
    for (rule, n) in rules.into_iter().zip(&rule_counts) {
        if *n > 0 {
            issue_frames.push(issue_frame(
                accepted.clone().filter(rule.when),
                ctx.shown,
                &rule.column,
                rule.value,
                &rule.problem,
                rule.action,
            ));
        }
    }
    Ok(rule_counts.iter().any(|n| *n > 0))
}

/// Step 1 of [`normalize`], where the export writes dates in words of its own language.
fn dates_in_english(mut staged: DataFrame, m: &Mapping) -> PolarsResult<DataFrame> {
    if m.date_words.is_empty() {
        return Ok(staged);
    }
    let names: Vec<PlSmallStr> = staged
        .get_column_names()
        .into_iter()
        .filter(|n| n.ends_with(DATE_TEXT_SUFFIX))
        .cloned()
        .collect();
    for name in names {
        let english = m.date_words.column_to_english(staged.column(&name)?)?;
        staged.with_column(english)?;
    }
    Ok(staged)
}

/// Step 3 of [`normalize`]: the file's timestamp format, and each timestamp column's; a note
/// for the user where the profile's order of day and month was taken, no date telling it.
fn timestamp_formats(
    staged: &DataFrame,
    ctx: &FileContext,
    event_log: bool,
) -> PolarsResult<(Formats, Option<String>)> {
    let mut ts_raw: Vec<String> = model::TIMESTAMP_FIELDS
        .iter()
        .filter(|f| ctx.has(f))
        .map(|f| date_text(f))
        .collect();
    if event_log {
        ts_raw.push(date_text(UPDATED));
    }
    let (profile_formats, note) =
        formats_in_shown_order(staged, &ts_raw, &ctx.mapping.formats, ctx.shown)?;
    let format = choose_format(staged, &ts_raw, &profile_formats)?;
    let fmt = format.clone().unwrap_or_else(|| profile_formats[0].clone());
    // A column the file's format reads none of is written in a format of its own (Jira writes
    // `Created` as `25/Feb/26 10:17 PM` and the first-response chart date as ISO).
    let mut formats: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for field in model::TIMESTAMP_FIELDS.iter().filter(|f| ctx.has(f)) {
        let own = if reads_none(staged, &date_text(field), &fmt)? {
            choose_format(staged, &[date_text(field)], &profile_formats)?
        } else {
            None
        };
        let primary = own.unwrap_or_else(|| fmt.clone());
        let mut read_by = vec![primary.clone()];
        read_by.extend(also_written_in(
            staged,
            &date_text(field),
            &primary,
            &profile_formats,
        )?);
        formats.insert(field, read_by);
    }
    Ok(((format, fmt, formats), note))
}

/// Step 4 of [`normalize`]: every mapped column typed (and its source text kept beside it for
/// messages), the rules that set a value aside, and the timestamp columns to put in UTC.
fn typed_columns(
    staged: &DataFrame,
    ctx: &FileContext,
    formats: &BTreeMap<&'static str, Vec<String>>,
    fmt: &str,
    event_log: bool,
) -> PolarsResult<(Vec<Expr>, Vec<IssueRule>, Vec<&'static str>)> {
    let id = match ctx.mapping.id_digit_groups {
        true => without_digit_groups(text(staged, &raw("id"))?),
        false => text(staged, &raw("id"))?,
    };
    let mut typed = Typed {
        exprs: vec![col(ROW_COLUMN), id.alias("id")],
        rules: Vec::new(),
    };
    for field in model::TEXT_FIELDS.iter().filter(|f| ctx.has(f)) {
        if !model::MAPPED_FIELDS.contains(field) {
            typed.exprs.push(text(staged, &raw(field))?.alias(*field));
        }
    }
    for field in model::MAPPED_FIELDS.iter().filter(|f| ctx.has(f)) {
        typed.mapped(staged, ctx, field)?;
    }
    let mut zone_names: Vec<&str> = Vec::new();
    for field in model::TIMESTAMP_FIELDS.iter().filter(|f| ctx.has(f)) {
        let read = naive_any(text(staged, &date_text(field))?, &formats[field]);
        typed.exprs.push(read.alias(naive_name(field)));
        typed.exprs.push(col(raw(field).as_str()));
        zone_names.push(field);
    }
    if event_log {
        typed.exprs.extend([
            naive(text(staged, &date_text(UPDATED))?, fmt).alias(naive_name(UPDATED)),
            text(staged, SEQ_RAW)?.cast(DataType::UInt64).alias(SEQ),
            col(SEQ_RAW),
            col(UPDATED_RAW),
        ]);
        zone_names.push(UPDATED);
    }
    for field in model::COUNT_FIELDS.iter().filter(|f| ctx.has(f)) {
        let count = text(staged, &raw(field))?.cast(DataType::UInt32);
        typed.read_or_null(ctx, field, count, "not a count (a whole number, 0 or more)");
    }
    let durations = std::iter::once("labor_minutes").chain(model::REPORTED_FIELDS.iter().copied());
    for field in durations.filter(|f| ctx.has(f)) {
        let unit = ctx
            .mapping
            .units
            .get(field)
            .copied()
            .unwrap_or(Unit::Minutes);
        let v = minutes(
            text(staged, &raw(field))?,
            unit,
            &ctx.mapping.duration_words,
        );
        // NaN, infinities and `1e308` are no duration either: set aside, not summed into costs.
        let plausible = v
            .clone()
            .gt_eq(lit(0.0))
            .and(v.clone().lt_eq(lit(LONGEST.minutes() as f64)));
        let duration = when(plausible)
            .then(v)
            .otherwise(lit(NULL).cast(DataType::Float64));
        let problem = format!(
            "not a duration from 0 to a century ({LONGEST}) in {}",
            unit_name(unit)
        );
        typed.read_or_null(ctx, field, duration, &problem);
    }
    Ok((typed.exprs, typed.rules, zone_names))
}

/// A staged text column, trimmed, and null where only whitespace. Trimming copies every value,
/// so a column none of whose values has whitespace around it is used as it is: the same
/// outcome, found on the whole column.
fn text(staged: &DataFrame, name: &str) -> PolarsResult<Expr> {
    Ok(if has_padding(staged, name)? {
        trimmed(name)
    } else {
        col(name)
    })
}

/// The typed columns' expressions, each beside its source text, and the rules that set a
/// value aside.
struct Typed {
    exprs: Vec<Expr>,
    rules: Vec<IssueRule>,
}

impl Typed {
    /// A field mapped to canonical values (priority, status, ...): a value the map lacks is
    /// null and reported.
    fn mapped(&mut self, staged: &DataFrame, ctx: &FileContext, field: &str) -> PolarsResult<()> {
        let source = col(raw(field).as_str());
        if ctx.mapping.verdicts_as_time_left.iter().any(|f| f == field) {
            let (verdict, rule) = verdict_from_time_left(ctx, field);
            self.exprs.extend([verdict.alias(field), source]);
            self.rules.push(rule);
            return Ok(());
        }
        let (expr, unknown) = map_values(staged, field, ctx.mapping)?;
        self.exprs.extend([expr.alias(field), source.clone()]);
        if !unknown.is_empty() {
            let unknown = Series::new("unknown".into(), unknown);
            self.rules.push(IssueRule {
                when: source.clone().is_in(lit(unknown).implode(false), false),
                column: ctx.label(field),
                value: source,
                problem: model::unknown_value_problem(field),
                action: ACTION_VALUE_NULLED,
            });
        }
        Ok(())
    }

    /// A field read by `value`, which is null where the source text says something else: that
    /// is reported as `problem`.
    fn read_or_null(&mut self, ctx: &FileContext, field: &str, value: Expr, problem: &str) {
        let source = col(raw(field).as_str());
        self.exprs.extend([value.alias(field), source.clone()]);
        self.rules.push(IssueRule {
            when: source.clone().is_not_null().and(col(field).is_null()),
            column: ctx.label(field),
            value: source,
            problem: problem.to_string(),
            action: ACTION_VALUE_NULLED,
        });
    }
}

/// Step 5 of [`normalize`]: why a row is rejected, in order; the first that holds wins.
fn rejection_reasons(
    ctx: &FileContext,
    formats: &BTreeMap<&'static str, Vec<String>>,
    fmt: &str,
    event_log: bool,
) -> Vec<Reason> {
    let mut reasons: Vec<Reason> = vec![(
        col("id").is_null(),
        ctx.label("id"),
        null_text(),
        "no ticket id".to_string(),
    )];
    if ctx.has("created_at") {
        let change_closed = if ctx.has("kind") && ctx.has("closed_at") {
            col("kind")
                .eq(lit("change"))
                .fill_null(lit(false))
                .and(col("closed_at").is_not_null())
        } else if ctx.has("closed_at") && ctx.mapping.default_kind == "change" {
            col("closed_at").is_not_null()
        } else {
            lit(false)
        };
        let required = |e: Expr| e.and(change_closed.clone().not());
        let r = raw("created_at");
        reasons.push((
            required(col(r.as_str()).is_null()),
            ctx.label("created_at"),
            null_text(),
            "no creation time".to_string(),
        ));
        reasons.push((
            required(col(naive_name("created_at").as_str()).is_null()),
            ctx.label("created_at"),
            col(r.as_str()),
            format!(
                "creation time is not a timestamp in the file's format {}",
                shown_formats(&formats["created_at"])
            ),
        ));
        reasons.push((
            required(col(zoned_name("created_at").as_str()).is_null()),
            ctx.label("created_at"),
            col(r.as_str()),
            format!(
                "creation time does not exist in {} (it falls in the spring-forward gap)",
                ctx.timezone.name()
            ),
        ));
        reasons.push((
            required(col(zoned_name("created_at").as_str()).gt_eq(plausible_until())),
            ctx.label("created_at"),
            col(r.as_str()),
            "creation time is in 2100 or later, not a real event".to_string(),
        ));
        reasons.push((
            required(col("created_at").is_null()),
            ctx.label("created_at"),
            col(r.as_str()),
            "creation time is a placeholder date (before 1980), not a real event".to_string(),
        ));
    }
    if let (true, Some((seq_idx, at_idx))) = (event_log, ctx.mapping.event_log) {
        reasons.push((
            col(SEQ).is_null(),
            ctx.header.names()[seq_idx].clone(),
            col(SEQ_RAW),
            "event-log row without a whole-number update sequence".to_string(),
        ));
        reasons.push((
            col(UPDATED).is_null(),
            ctx.header.names()[at_idx].clone(),
            col(UPDATED_RAW),
            format!("event-log row without a valid update time (format `{fmt}`)"),
        ));
    }
    reasons
}

/// Step 7 of [`normalize`]: the timestamp values set aside (not a timestamp, in a DST gap, a
/// placeholder, before the ticket's creation), and the fields whose values before creation
/// are nulled.
fn impossible_values(
    ctx: &FileContext,
    formats: &BTreeMap<&'static str, Vec<String>>,
) -> (Vec<IssueRule>, Vec<&'static str>) {
    let mut rules = Vec::new();
    let mut nulled_before_creation: Vec<&str> = Vec::new();
    for field in model::TIMESTAMP_FIELDS
        .iter()
        .filter(|f| ctx.has(f) && **f != "created_at")
    {
        let r = raw(field);
        let (n, z) = (naive_name(field), zoned_name(field));
        rules.push(IssueRule {
            when: col(r.as_str()).is_not_null().and(col(n.as_str()).is_null()),
            column: ctx.label(field),
            value: col(r.as_str()),
            problem: format!(
                "not a timestamp in the file's format {}",
                shown_formats(&formats[field])
            ),
            action: ACTION_VALUE_NULLED,
        });
        rules.push(IssueRule {
            when: col(n.as_str()).is_not_null().and(col(z.as_str()).is_null()),
            column: ctx.label(field),
            value: col(r.as_str()),
            problem: format!(
                "local time does not exist in {} (spring-forward gap)",
                ctx.timezone.name()
            ),
            action: ACTION_VALUE_NULLED,
        });
        rules.push(IssueRule {
            when: col(z.as_str()).lt(plausible_from()),
            column: ctx.label(field),
            value: col(r.as_str()),
            problem: "placeholder date (before 1980), not a real event".to_string(),
            action: ACTION_VALUE_NULLED,
        });
        rules.push(IssueRule {
            when: col(z.as_str()).gt_eq(plausible_until()),
            column: ctx.label(field),
            value: col(r.as_str()),
            problem: "date in 2100 or later, not a real event".to_string(),
            action: ACTION_VALUE_NULLED,
        });
        // An update stamp is bookkeeping that decides between two versions of a ticket; an
        // `opened_at` an agent set later than the record's last update does not make it false.
        if ctx.has("created_at") && *field != "updated_at" {
            nulled_before_creation.push(field);
            rules.push(IssueRule {
                when: before_creation(field),
                column: ctx.label(field),
                value: col(r.as_str()),
                problem: format!("{} before the ticket's creation", field.replace('_', " ")),
                action: ACTION_VALUE_NULLED,
            });
        }
    }
    (rules, nulled_before_creation)
}

/// Step 8 of [`normalize`]: the tickets (an event log's last row of each) and the status
/// history, from the accepted rows with the values before creation nulled. Each table copies
/// only its own columns of those rows.
fn canonical_tables(
    accepted: LazyFrame,
    nulled_before_creation: &[&str],
    any_nulled: bool,
    ctx: &FileContext,
    (event_log, stretch): (bool, bool),
) -> PolarsResult<(DataFrame, Option<DataFrame>)> {
    let mut fixed = accepted;
    if any_nulled {
        fixed = fixed.with_columns(
            nulled_before_creation
                .iter()
                .map(|f| {
                    when(before_creation(f))
                        .then(lit(NULL).cast(utc_type()))
                        .otherwise(col(*f))
                        .alias(*f)
                })
                .collect::<Vec<_>>(),
        );
    }
    let history = if event_log {
        Some(
            fixed
                .clone()
                .select([
                    lit(ctx.source).alias("source"),
                    col("id"),
                    col(SEQ).alias("seq"),
                    col(UPDATED).alias("at"),
                    text_or_null(ctx.has("status"), raw("status")).alias("raw_status"),
                    text_or_null(ctx.has("status"), "status".to_string()).alias("status"),
                ])
                .collect()?,
        )
    } else {
        None
    };
    let ticket_rows = match event_log {
        true => each_tickets_last_row(fixed, ROW_COLUMN)?,
        false => fixed,
    };
    let mut columns = ticket_exprs(ctx, |f| ctx.has(f));
    if event_log && stretch {
        columns.push(col(SEQ));
    }
    let tickets = ticket_rows.select(columns).collect()?;
    Ok((tickets, history))
}

/// The rows of an event log that hold each ticket's last state, in file order: of a ticket's
/// rows, the one with the highest sequence (a row without one comes before any with one), and of
/// those the last in the file (`row` holds the rows' numbers in it). Found by grouping the rows
/// by ticket and kept by a mask: sorting every row by id took most of a large event log's
/// ingest.
fn each_tickets_last_row(rows: LazyFrame, row: &str) -> PolarsResult<LazyFrame> {
    let sequence = col(SEQ).cast(DataType::Int64).fill_null(lit(-1i64));
    let last = rows
        .clone()
        .group_by([col("id")])
        .agg([col(row)
            .sort_by([sequence, col(row)], SortMultipleOptions::default())
            .last()])
        .collect()?;
    let last = last.column(row)?.as_materialized_series().clone();
    Ok(rows.filter(col(row).is_in(lit(last).implode(false), false)))
}

fn naive_name(field: &str) -> String {
    format!("{field}{NAIVE_SUFFIX}")
}

fn before_creation(field: &str) -> Expr {
    col(field).lt(col("created_at")).fill_null(lit(false))
}

/// How many rows each predicate holds for, in one pass.
fn counts(frame: &LazyFrame, predicates: Vec<Expr>) -> PolarsResult<Vec<u64>> {
    if predicates.is_empty() {
        return Ok(Vec::new());
    }
    let exprs: Vec<Expr> = predicates
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            p.fill_null(lit(false))
                .cast(DataType::UInt64)
                .sum()
                .alias(format!("p{i}"))
        })
        .collect();
    let out = frame.clone().select(exprs).collect()?;
    out.columns().iter().map(first_u64).collect()
}

/// The first value of a one-row aggregate column, as a count.
fn first_u64(column: &Column) -> PolarsResult<u64> {
    Ok(column.cast(&DataType::UInt64)?.u64()?.get(0).unwrap_or(0))
}

/// Ticket ids in a file's staged rows: how many, how many distinct, whether they strictly rise
/// (or fall) from row to row, and the first and last.
struct Ids {
    n: u64,
    distinct: u64,
    rising: bool,
    falling: bool,
    ends: Option<(String, String)>,
}

/// Ticket ids present, and distinct, in the staged rows. Exports usually list tickets in id
/// order, and ids that strictly rise (or fall) from row to row are all distinct: that check
/// is one comparison per row, where counting distinct ids hashes every one of them.
fn id_counts(staged: &DataFrame) -> PolarsResult<Ids> {
    // Counted as the tickets hold them, trimmed where the column is padded: `INC1` and `INC1 `
    // are one ticket twice.
    let ids = text(staged, &raw("id"))?.drop_nulls();
    let previous = ids.clone().shift(lit(1));
    let first = staged
        .clone()
        .lazy()
        .select([
            ids.clone().count().alias("n"),
            ids.clone().gt(previous.clone()).all(true).alias("rising"),
            ids.clone().lt(previous).all(true).alias("falling"),
            ids.clone().first().alias("first"),
            ids.clone().last().alias("last"),
        ])
        .collect()?;
    let n = first_u64(first.column("n")?)?;
    let flag =
        |c: &str| -> PolarsResult<bool> { Ok(first.column(c)?.bool()?.get(0).unwrap_or(false)) };
    let id = |c: &str| -> PolarsResult<Option<String>> {
        Ok(first.column(c)?.str()?.get(0).map(str::to_string))
    };
    let (rising, falling) = (flag("rising")?, flag("falling")?);
    let ends = id("first")?.zip(id("last")?);
    let distinct = match rising || falling {
        true => n,
        false => {
            let distinct = staged
                .clone()
                .lazy()
                .select([ids.n_unique().alias("u")])
                .collect()?;
            first_u64(distinct.column("u")?)?
        }
    };
    Ok(Ids {
        n,
        distinct,
        rising,
        falling,
        ends,
    })
}

pub(crate) fn trimmed(name: &str) -> Expr {
    let s = col(name).str().strip_chars(lit(NULL));
    when(s.clone().eq(lit(""))).then(null_text()).otherwise(s)
}

/// An id written as a number with a thousands separator (`52 267`, `1 196 020`; a space, a
/// no-break space or a narrow no-break space) as the number; any other id as it is, so that a
/// text id with a space in it (`INC 12`) keeps it.
fn without_digit_groups(id: Expr) -> Expr {
    const SEPARATOR: &str = "[ \u{a0}\u{202f}]";
    let grouped = format!("^[0-9]{{1,3}}({SEPARATOR}[0-9]{{3}})+$");
    when(id.clone().str().contains(lit(grouped), true))
        .then(id.clone().str().replace_all(lit(SEPARATOR), lit(""), false))
        .otherwise(id)
}

/// Whether any value of a text column has whitespace around it, or is empty once trimmed.
fn has_padding(frame: &DataFrame, name: &str) -> PolarsResult<bool> {
    let s = frame.column(name)?.str()?;
    Ok(s.iter().flatten().any(|v| v.is_empty() || v.trim() != v))
}

fn text_or_null(present: bool, name: String) -> Expr {
    if present {
        col(name.as_str())
    } else {
        null_text()
    }
}

/// Whether the first response is taken from the help desk's reply time: the export has that
/// duration but no first-response timestamp.
pub fn derives_first_response(has: &impl Fn(&str) -> bool) -> bool {
    !has("first_response_at") && has("reported_first_response_minutes") && has("created_at")
}

/// Whether the close time is created + the help desk's own time to close (ServiceNow's
/// `calendar_duration`): the export has that duration but no close column.
pub fn derives_close(has: &impl Fn(&str) -> bool) -> bool {
    !has("closed_at") && has("reported_close_minutes") && has("created_at")
}

/// `start` + a duration in minutes: whole minutes or seconds, exact in microseconds.
fn after_minutes(start: &str, minutes: &str) -> Expr {
    col(start)
        + (col(minutes) * lit(60e6))
            .cast(DataType::Int64)
            .cast(DataType::Duration(TimeUnit::Microseconds))
}

/// The expressions that give the canonical `tickets` columns, in the model's order.
fn ticket_exprs(ctx: &FileContext, has: impl Fn(&str) -> bool) -> Vec<Expr> {
    model::ticket_columns()
        .into_iter()
        .map(|(name, t)| {
            let e = match name {
                "source" => lit(ctx.source),
                "source_file" => lit(ctx.shown),
                "source_row" => col(ROW_COLUMN),
                "kind" => {
                    let default = lit(ctx.mapping.default_kind.as_str());
                    if has("kind") {
                        col("kind").fill_null(default)
                    } else {
                        default
                    }
                }
                "raw_status" if has("status") => col(raw("status").as_str()),
                // No first-reply instant in the export (Zendesk): created + the help desk's own
                // calendar reply time.
                "first_response_at" if derives_first_response(&has) => {
                    after_minutes("created_at", "reported_first_response_minutes")
                }
                // No close column (a ServiceNow list without it): created + the help desk's own
                // time from opening to close.
                "closed_at" if derives_close(&has) => {
                    after_minutes("created_at", "reported_close_minutes")
                }
                _ if model::VERDICT_FIELDS.contains(&name) && has(name) => {
                    col(name).eq(lit("true"))
                }
                _ if has(name) => col(name),
                _ => lit(NULL).cast(polars_type(t)),
            };
            e.cast(polars_type(t)).alias(name)
        })
        .collect()
}

/// The help desk's verdict from the time its SLA had left (Jira's `2:18`, `-0:23`): less than
/// nothing is a breach, anything else met; time left on a ticket whose SLA has not stopped
/// (not yet resolved, or not yet answered for the first response's) is no verdict yet. A value
/// that is no such time is set aside with its reason.
fn verdict_from_time_left(ctx: &FileContext, field: &str) -> (Expr, IssueRule) {
    let written = col(raw(field).as_str());
    let left = written.clone().str().strip_chars(lit(NULL));
    let is_time = left
        .clone()
        .str()
        .contains(lit(r"^[-−]?\d+:[0-5]\d$"), true);
    let breached = left
        .clone()
        .str()
        .starts_with(lit("-"))
        .or(left.str().starts_with(lit("−")));
    let stops: &[&str] = match field {
        "source_response_sla_met" => &["first_response_at", "resolved_at", "closed_at"],
        _ => &["resolved_at", "closed_at"],
    };
    let still_running = stops
        .iter()
        .copied()
        .filter(|f| ctx.has(f))
        .map(|f| col(raw(f).as_str()).is_null())
        .reduce(Expr::and)
        .unwrap_or(lit(true));
    let verdict = when(is_time.clone().not())
        .then(null_text())
        .when(breached.clone())
        .then(lit("false"))
        .when(still_running)
        .then(null_text())
        .otherwise(lit("true"));
    let rule = IssueRule {
        when: written.clone().is_not_null().and(is_time.not()),
        column: ctx.label(field),
        value: written,
        problem: "not the time left on an SLA goal (`2:18`, or `-0:23` when breached)".to_string(),
        action: ACTION_VALUE_NULLED,
    };
    (verdict, rule)
}

/// Maps a field's distinct raw values through the profile's map. Returns the mapping expression
/// and the values the map does not know (a raw value that already is a canonical value passes).
fn map_values(staged: &DataFrame, field: &str, m: &Mapping) -> PolarsResult<(Expr, Vec<String>)> {
    let distinct = staged.column(&raw(field))?.unique_stable()?;
    let mut old = Vec::new();
    let mut new = Vec::new();
    let mut unknown = Vec::new();
    for v in distinct.str()?.iter().flatten() {
        if v.trim().is_empty() {
            continue;
        }
        match read_value(&m.values, field, v) {
            ValueReading::Mapped(c) | ValueReading::Canonical(c) => {
                old.push(v.to_string());
                new.push(c.to_string());
            }
            // a value that means "nothing" (a survey never offered): null, not an issue
            ValueReading::Nothing => {}
            ValueReading::Unknown => unknown.push(v.to_string()),
        }
    }
    let src = col(raw(field).as_str());
    if old.is_empty() {
        return Ok((null_text(), unknown));
    }
    let expr = src.replace_strict(
        lit(Series::new("old".into(), old)),
        lit(Series::new("new".into(), new)),
        Some(null_text()),
        Some(DataType::String),
    );
    Ok((expr, unknown))
}

fn shown_formats(formats: &[String]) -> String {
    formats
        .iter()
        .map(|f| format!("`{f}`"))
        .collect::<Vec<_>>()
        .join(" or ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts_of(ids: &[Option<&str>]) -> (u64, u64) {
        let frame = DataFrame::new_infer_height(vec![Column::new(
            raw("id").as_str().into(),
            ids.iter()
                .map(|v| v.map(str::to_string))
                .collect::<Vec<_>>(),
        )])
        .unwrap();
        let ids = id_counts(&frame).unwrap();
        (ids.n, ids.distinct)
    }

    #[test]
    fn ids_are_counted_whatever_their_order() {
        let (a, b, c) = (Some("INC1"), Some("INC2"), Some("INC3"));
        assert_eq!(counts_of(&[a, b, None, c]), (3, 3));
        assert_eq!(counts_of(&[c, b, a]), (3, 3));
        assert_eq!(counts_of(&[a, a, b]), (3, 2));
        assert_eq!(counts_of(&[b, a, c, a]), (4, 3));
        assert_eq!(counts_of(&[c, b, b, a]), (4, 3));
        assert_eq!(counts_of(&[None]), (0, 0));
    }

    #[test]
    fn ids_that_differ_only_by_padding_are_one_id() {
        // regression: `INC1` and `INC1 ` were counted as two ids, so neither was rejected as a
        // duplicate and one ticket counted twice
        let (a, padded, b) = (Some("INC1"), Some("INC1 "), Some("INC2"));
        assert_eq!(counts_of(&[a, padded, b]), (3, 2));
        assert_eq!(counts_of(&[Some(" INC0"), a, padded]), (3, 2));
        assert_eq!(counts_of(&[a, Some("  "), b]), (2, 2));
    }

    #[test]
    fn an_event_logs_ticket_is_its_row_of_highest_sequence_then_last_in_the_file() {
        let rows = df!(
            ROW_COLUMN => [2u64, 3, 4, 5, 6, 7, 8],
            "id" => ["A", "B", "A", "A", "B", "C", "A"],
            SEQ => [Some(2u64), None, Some(3), Some(3), None, Some(1), Some(1)],
        )
        .unwrap();
        let last = each_tickets_last_row(rows.lazy(), ROW_COLUMN)
            .unwrap()
            .collect()
            .unwrap();
        let kept: Vec<u64> = last
            .column(ROW_COLUMN)
            .unwrap()
            .u64()
            .unwrap()
            .into_no_null_iter()
            .collect();
        // A: sequence 3 twice (rows 4 and 5): the later row, not row 8's lower sequence. B: no
        // sequence at all, the later row. C: its only row. In file order.
        assert_eq!(kept, vec![5, 6, 7]);
    }
}
