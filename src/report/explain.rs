//! `deskpulse explain`: one ticket as the run saw it, from the tables `explain_ticket` (its
//! ledger row, the row every KPI reads) and `explain_history` (its status changes). Nothing here
//! recomputes a duration or a verdict: what the ledger says is what is shown.

use std::collections::BTreeMap;
use std::path::Path;

use arrow::record_batch::RecordBatch;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::Serialize;

use crate::clock::calendar::{CalendarSpec, WEEKDAYS};
use crate::config::Config;
use crate::period::{Period, PeriodKind, format_instant, local_date};
use crate::pipeline::RunResult;
use crate::table::{column_bool, column_f64, column_i64, column_strings};

/// The `deskpulse explain` command that reproduces a report's run for one of its tickets: the
/// same inputs, period and options, quoted so that a shell reads them back as they were given.
#[derive(Debug, Clone)]
pub struct ExplainCommand {
    /// `deskpulse explain deskpulse.toml`
    before_id: String,
    /// ` --period 2026-10`
    after_id: String,
}

/// What a run was given that `explain` needs to see the same tickets the same way.
pub struct RunInputs<'a> {
    /// The configuration, directory or export, as given on the command line.
    pub input: &'a Path,
    pub queries: Option<&'a Path>,
    pub profiles: Option<&'a Path>,
    pub store: Option<&'a Path>,
}

impl ExplainCommand {
    /// `as_of` is left out where it is the period's end, explain's default.
    pub fn new(inputs: &RunInputs, period: &Period, as_of: DateTime<Utc>) -> ExplainCommand {
        let mut after = match &period.kind {
            PeriodKind::Range { from, to } => vec![
                "--from".to_string(),
                from.to_string(),
                "--to".to_string(),
                to.to_string(),
            ],
            kind => vec!["--period".to_string(), kind.to_string()],
        };
        if as_of != period.end {
            after.push("--as-of".to_string());
            after.push(as_of.to_rfc3339_opts(SecondsFormat::AutoSi, true));
        }
        for (flag, dir) in [
            ("--queries", inputs.queries),
            ("--profiles", inputs.profiles),
            ("--store", inputs.store),
        ] {
            if let Some(dir) = dir {
                after.push(flag.to_string());
                after.push(dir.to_string_lossy().into_owned());
            }
        }
        ExplainCommand {
            before_id: format!(
                "deskpulse explain {}",
                quoted(&inputs.input.to_string_lossy())
            ),
            after_id: after.iter().map(|a| format!(" {}", quoted(a))).collect(),
        }
    }

    pub fn for_ticket(&self, id: &str) -> String {
        format!("{} {}{}", self.before_id, quoted(id), self.after_id)
    }
}

/// A word as a POSIX shell reads it back: as it is where it can be, else in quotes.
fn quoted(word: &str) -> String {
    // a NUL is the one byte no shell word holds; an id with one is shown without it
    let word = word.replace('\0', "");
    shlex::try_quote(&word).map_or(word.clone(), |q| q.into_owned())
}

#[derive(Debug, Serialize)]
pub struct Explanation {
    pub period: String,
    pub as_of: String,
    pub timezone: String,
    pub tickets: Vec<Ticket>,
    /// Ids asked for whose tickets were created after as_of: they do not exist yet for this
    /// period, and count from a later one.
    pub created_after_as_of: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Ticket {
    pub source: String,
    pub id: String,
    pub kind: String,
    pub title: Option<String>,
    pub priority: Option<String>,
    pub status: Option<String>,
    pub raw_status: Option<String>,
    /// The export and spreadsheet row it was read from.
    pub source_file: Option<String>,
    pub source_row: Option<i64>,
    pub created_at: Option<String>,
    pub first_response_at: Option<String>,
    pub resolved_at: Option<String>,
    pub closed_at: Option<String>,
    /// Status changes, with whether the SLA clock stood still from each one on.
    pub history: Vec<Step>,
    pub calendar: Calendar,
    /// Hours, as the ledger has them.
    pub durations: BTreeMap<&'static str, Option<f64>>,
    pub slas: Vec<Sla>,
    /// Where the period's KPIs count the ticket, and the months its events fall in.
    pub counts: Counts,
    pub reopened: Option<bool>,
    pub reopen_count: Option<i64>,
    pub repeat_of: Option<String>,
    pub labor_minutes: Option<f64>,
    pub labor_cost: Option<f64>,
    /// The help desk's own figures beside deskpulse's.
    pub help_desk: Vec<HelpDeskFigure>,
}

#[derive(Debug, Serialize)]
pub struct Step {
    pub at: String,
    pub raw_status: Option<String>,
    pub status: Option<String>,
    pub pauses_clock: bool,
}

#[derive(Debug, Serialize)]
pub struct Calendar {
    pub name: String,
    pub timezone: String,
    /// Opening hours per weekday (`mon 08:00-18:00`); empty days are closed.
    pub hours: Vec<String>,
    /// Holidays between the ticket's creation and its resolution (or as_of).
    pub holidays: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Sla {
    pub name: &'static str,
    pub target: Option<String>,
    pub breach_at: Option<String>,
    pub decided_at: Option<String>,
    pub state: Option<String>,
    /// The rule that decided the verdict, in a sentence.
    pub rule: String,
}

#[derive(Debug, Serialize)]
pub struct Counts {
    pub created_in_period: bool,
    pub resolved_in_period: bool,
    pub sla_response_decided_in_period: bool,
    pub sla_resolution_decided_in_period: bool,
    pub open_at_period_end: bool,
    /// Resolved or closed in the help desk with neither time in the export.
    pub end_unknown: bool,
    pub created_month: Option<String>,
    pub resolved_month: Option<String>,
    pub sla_resolution_decided_month: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct HelpDeskFigure {
    pub measure: &'static str,
    pub deskpulse: Option<f64>,
    pub help_desk: Option<f64>,
    /// Where docs/reconciliation.md gives the reasons such a gap is systematic.
    pub reasons: &'static str,
}

/// The explanation of every ticket in the run's `explain_ticket` table; `asked` are the ids the
/// user named (each is some export's: the run checked).
pub fn build(result: &RunResult, asked: &[String]) -> Result<Explanation, String> {
    let tz = result.period.timezone;
    let mut history = histories(result)?;
    let mut tickets = Vec::new();
    for batch in result.tables.get("explain_ticket") {
        for i in 0..batch.num_rows() {
            let mut ticket = ticket(&Row(batch.slice(i, 1)), result)?;
            ticket.history = history
                .remove(&(ticket.source.clone(), ticket.id.clone()))
                .unwrap_or_default();
            tickets.push(ticket);
        }
    }
    let mut created_after_as_of: Vec<String> = asked
        .iter()
        .filter(|id| !tickets.iter().any(|t| &t.id == *id))
        .cloned()
        .collect();
    created_after_as_of.sort_unstable();
    created_after_as_of.dedup();
    Ok(Explanation {
        period: result.period.label(),
        as_of: format_instant(result.as_of, tz),
        timezone: tz.name().to_string(),
        tickets,
        created_after_as_of,
    })
}

/// One row of a result, its values by column name.
struct Row(RecordBatch);

impl Row {
    fn text(&self, name: &str) -> Result<Option<String>, String> {
        Ok(column_strings(&self.0, name)?.pop().flatten())
    }
    fn number(&self, name: &str) -> Result<Option<f64>, String> {
        Ok(column_f64(&self.0, name)?.pop().flatten())
    }
    fn whole(&self, name: &str) -> Result<Option<i64>, String> {
        Ok(column_i64(&self.0, name)?.pop().flatten())
    }
    fn flag(&self, name: &str) -> Result<Option<bool>, String> {
        Ok(column_bool(&self.0, name)?.pop().flatten())
    }
    /// A timestamp (microseconds since the epoch, as DuckDB hands them over).
    fn instant(&self, name: &str) -> Result<Option<DateTime<Utc>>, String> {
        Ok(self.whole(name)?.and_then(DateTime::from_timestamp_micros))
    }
    /// A duration in microseconds, as hours.
    fn hours(&self, name: &str) -> Result<Option<f64>, String> {
        Ok(self.number(name)?.map(|us| us / 3600e6))
    }
}

/// One ticket from its `explain_ticket` row (its history is added by the caller).
fn ticket(row: &Row, result: &RunResult) -> Result<Ticket, String> {
    let tz = result.period.timezone;
    let local = |t: Option<DateTime<Utc>>| t.map(|t| format_instant(t, tz));
    let (created, resolved) = (row.instant("created_at")?, row.instant("resolved_at")?);
    let calendar = row.text("calendar")?.unwrap_or_else(|| "24x7".to_string());
    let mut durations = BTreeMap::new();
    for (name, column) in [
        ("resolve_hours", "resolve_us"),
        ("resolve_business_hours", "resolve_business_us"),
        ("first_response_hours", "first_response_us"),
        (
            "first_response_business_hours",
            "first_response_business_us",
        ),
        ("paused_hours", "paused_us"),
    ] {
        durations.insert(name, row.hours(column)?);
    }
    let slas = vec![sla(row, "response", tz)?, sla(row, "resolution", tz)?];
    Ok(Ticket {
        source: row.text("source")?.unwrap_or_default(),
        id: row.text("id")?.unwrap_or_default(),
        kind: row.text("kind")?.unwrap_or_default(),
        title: row.text("title")?,
        priority: row.text("priority")?,
        status: row.text("status")?,
        raw_status: row.text("raw_status")?,
        source_file: row.text("source_file")?,
        source_row: row.whole("source_row")?,
        created_at: local(created),
        first_response_at: local(row.instant("first_response_at")?),
        resolved_at: local(resolved),
        closed_at: local(row.instant("closed_at")?),
        history: Vec::new(),
        calendar: describe_calendar(
            &result.config,
            &calendar,
            created,
            resolved.unwrap_or(result.as_of),
        ),
        durations,
        counts: counts(row, tz)?,
        help_desk: help_desk_figures(row, [slas[1].state.as_deref(), slas[0].state.as_deref()])?,
        slas,
        reopened: row.flag("reopened")?,
        reopen_count: row.whole("reopen_count")?,
        repeat_of: row.text("repeat_of")?,
        labor_minutes: row.number("labor_minutes")?,
        labor_cost: row.number("labor_cost")?,
    })
}

/// One SLA of a ticket (`response` or `resolution`), with the rule that decided it.
fn sla(row: &Row, name: &'static str, tz: chrono_tz::Tz) -> Result<Sla, String> {
    let column = |what: &str| format!("sla_{name}_{what}");
    let breach = row.instant(&column("breach_at"))?;
    let state = row.text(&column("state"))?;
    Ok(Sla {
        name,
        target: row.text(&column("target"))?,
        breach_at: breach.map(|t| format_instant(t, tz)),
        decided_at: row
            .instant(&column("decided_at"))?
            .map(|t| format_instant(t, tz)),
        rule: sla_rule(state.as_deref(), breach, tz),
        state,
    })
}

/// Where the period's KPIs count a ticket, and the months its events fall in.
fn counts(row: &Row, tz: chrono_tz::Tz) -> Result<Counts, String> {
    let flag = |name: &str| -> Result<bool, String> { Ok(row.flag(name)?.unwrap_or(false)) };
    let month = |name: &str| -> Result<Option<String>, String> {
        Ok(row
            .instant(name)?
            .map(|t| local_date(t, tz).format("%Y-%m").to_string()))
    };
    Ok(Counts {
        created_in_period: flag("created_in_period")?,
        resolved_in_period: flag("resolved_in_period")?,
        sla_response_decided_in_period: flag("sla_response_decided_in_period")?,
        sla_resolution_decided_in_period: flag("sla_resolution_decided_in_period")?,
        open_at_period_end: flag("open_at_period_end")?,
        end_unknown: flag("end_unknown")?,
        created_month: month("created_at")?,
        resolved_month: month("resolved_at")?,
        sla_resolution_decided_month: month("sla_resolution_decided_at")?,
    })
}

/// Each explained ticket's status changes, by (source, id).
fn histories(result: &RunResult) -> Result<BTreeMap<(String, String), Vec<Step>>, String> {
    let tz = result.period.timezone;
    let pause: Vec<&str> = result.config.sla.pause.iter().map(|c| c.as_str()).collect();
    let mut out: BTreeMap<(String, String), Vec<Step>> = BTreeMap::new();
    for batch in result.tables.get("explain_history") {
        let (source, id) = (
            column_strings(batch, "source")?,
            column_strings(batch, "id")?,
        );
        let at: Vec<Option<DateTime<Utc>>> = column_i64(batch, "at")?
            .into_iter()
            .map(|us| us.and_then(DateTime::from_timestamp_micros))
            .collect();
        let (raw, status) = (
            column_strings(batch, "raw_status")?,
            column_strings(batch, "status")?,
        );
        for i in 0..batch.num_rows() {
            let key = (
                source[i].clone().unwrap_or_default(),
                id[i].clone().unwrap_or_default(),
            );
            out.entry(key).or_default().push(Step {
                at: at[i].map(|t| format_instant(t, tz)).unwrap_or_default(),
                raw_status: raw[i].clone(),
                pauses_clock: status[i].as_deref().is_some_and(|s| pause.contains(&s)),
                status: status[i].clone(),
            });
        }
    }
    Ok(out)
}

/// The calendar a ticket's business clock ran on, with the holidays it spanned.
fn describe_calendar(
    config: &Config,
    name: &str,
    from: Option<DateTime<Utc>>,
    until: DateTime<Utc>,
) -> Calendar {
    let spec = config
        .calendars
        .get(name)
        .cloned()
        .unwrap_or_else(CalendarSpec::always_open);
    let clock = |m: u32| format!("{:02}:{:02}", m / 60, m % 60);
    let hours = WEEKDAYS
        .iter()
        .map(|(day, _)| day)
        .zip(&spec.week)
        .map(|(day, ranges)| {
            let open: Vec<String> = ranges
                .iter()
                .map(|r| format!("{}-{}", clock(r.start), clock(r.end)))
                .collect();
            match open.is_empty() {
                true => format!("{day} closed"),
                false => format!("{day} {}", open.join(", ")),
            }
        })
        .collect();
    let first: Option<NaiveDate> = from.map(|t| local_date(t, spec.timezone));
    let last = local_date(until, spec.timezone);
    let holidays = spec
        .holidays
        .iter()
        .filter(|d| first.is_some_and(|f| **d >= f) && **d <= last)
        .map(|d| d.to_string())
        .collect();
    Calendar {
        name: name.to_string(),
        timezone: spec.timezone.name().to_string(),
        hours,
        holidays,
    }
}

/// The rule of docs/kpis.md ("SLA decision instant") that gave a verdict.
fn sla_rule(state: Option<&str>, breach: Option<DateTime<Utc>>, tz: chrono_tz::Tz) -> String {
    let at = breach.map(|t| format_instant(t, tz)).unwrap_or_default();
    match state {
        Some("met") => "met: the clock stopped before its target was used up".to_string(),
        Some("breached") => format!(
            "breached: the target was used up at {at} (business time of the calendar, net of \
             pauses) before the clock stopped; decided at that instant"
        ),
        Some("running") => {
            "running: at as_of the clock had not stopped and the target was not used up".to_string()
        }
        _ => "no SLA: no policy applies to its priority, or the export lacks what the clock needs"
            .to_string(),
    }
}

/// The help desk's own durations (minutes) and verdicts beside deskpulse's, where it gave them;
/// `our_verdicts` are deskpulse's resolution and response SLA states.
fn help_desk_figures(
    row: &Row,
    our_verdicts: [Option<&str>; 2],
) -> Result<Vec<HelpDeskFigure>, String> {
    const REASONS: &str = "docs/reconciliation.md#why-gaps-are-systematic";
    let mut out = Vec::new();
    for (measure, ours, theirs) in [
        (
            "resolve (calendar), minutes",
            "resolve_us",
            "reported_resolve_minutes",
        ),
        (
            "resolve (business), minutes",
            "resolve_business_us",
            "reported_resolve_business_minutes",
        ),
        (
            "first response (calendar), minutes",
            "first_response_us",
            "reported_first_response_minutes",
        ),
    ] {
        if let Some(help_desk) = row.number(theirs)? {
            out.push(HelpDeskFigure {
                measure,
                deskpulse: row.number(ours)?.map(|us| us / 60e6),
                help_desk: Some(help_desk),
                reasons: REASONS,
            });
        }
    }
    let verdicts = [
        ("resolution SLA met (1 yes, 0 no)", "source_sla_met"),
        ("response SLA met (1 yes, 0 no)", "source_response_sla_met"),
    ];
    for ((measure, theirs), ours) in verdicts.into_iter().zip(our_verdicts) {
        let Some(met) = row.flag(theirs)? else {
            continue;
        };
        out.push(HelpDeskFigure {
            measure,
            deskpulse: match ours {
                Some("met") => Some(1.0),
                Some("breached") => Some(0.0),
                _ => None,
            },
            help_desk: Some(if met { 1.0 } else { 0.0 }),
            reasons: REASONS,
        });
    }
    Ok(out)
}

/// The explanation as text for a terminal.
pub fn text(explanation: &Explanation) -> String {
    let mut lines = Vec::new();
    for t in &explanation.tickets {
        lines.extend(export_lines(t, explanation));
        lines.extend(measure_lines(t, explanation));
        lines.push(String::new());
    }
    for id in &explanation.created_after_as_of {
        lines.push(format!(
            "{id}: created after {} (as of): it does not exist yet for {} and counts from a \
             later period; explain it with a later --period",
            explanation.as_of, explanation.period
        ));
    }
    lines.into_iter().map(|l| l + "\n").collect()
}

fn or_dash(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "—".to_string())
}

/// What the export says of a ticket: where it was read, its status, times and history.
fn export_lines(t: &Ticket, explanation: &Explanation) -> Vec<String> {
    let mut lines = vec![
        format!(
            "{} {} · {} · {} · {}",
            t.source,
            t.id,
            t.kind,
            or_dash(&t.priority),
            or_dash(&t.title)
        ),
        format!(
            "  read from {} row {}",
            or_dash(&t.source_file),
            t.source_row.map_or("—".to_string(), |r| r.to_string())
        ),
        format!(
            "  status {} ({}) · times in {} · period {} · as of {}",
            or_dash(&t.status),
            or_dash(&t.raw_status),
            explanation.timezone,
            explanation.period,
            explanation.as_of
        ),
    ];
    for (what, at) in [
        ("created", &t.created_at),
        ("first response", &t.first_response_at),
        ("resolved", &t.resolved_at),
        ("closed", &t.closed_at),
    ] {
        lines.push(format!("  {what:<15} {}", or_dash(at)));
    }
    if !t.history.is_empty() {
        lines.push("  history:".to_string());
        for s in &t.history {
            let pause = if s.pauses_clock {
                "  (the SLA clock stands still)"
            } else {
                ""
            };
            lines.push(format!(
                "    {}  {} → {}{pause}",
                s.at,
                or_dash(&s.raw_status),
                or_dash(&s.status)
            ));
        }
    }
    lines
}

/// How deskpulse measures a ticket: its calendar, durations, SLAs, where it counts, reopen,
/// repeat, cost, and the help desk's own figures beside deskpulse's.
fn measure_lines(t: &Ticket, explanation: &Explanation) -> Vec<String> {
    let mut lines = vec![format!(
        "  calendar {} ({}): {}",
        t.calendar.name,
        t.calendar.timezone,
        t.calendar.hours.join("; ")
    )];
    if !t.calendar.holidays.is_empty() {
        lines.push(format!(
            "    holidays it spans: {}",
            t.calendar.holidays.join(", ")
        ));
    }
    for (name, hours) in &t.durations {
        if let Some(h) = hours {
            lines.push(format!("  {name:<30} {h:.2} h"));
        }
    }
    for sla in &t.slas {
        lines.push(format!(
            "  {} SLA {}: {}",
            sla.name,
            sla.target.as_deref().unwrap_or("—"),
            sla.rule
        ));
    }
    lines.push(format!("  counts in {}:", explanation.period));
    lines.extend(count_sentences(t).iter().map(|s| format!("    {s}")));
    let reopen = match t.reopened {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown (no reopen count or history)",
    };
    lines.push(format!("  reopened: {reopen}"));
    if let Some(first) = &t.repeat_of {
        lines.push(format!(
            "  a repeat of {first} (same repeat key, resolved within the window)"
        ));
    }
    if let Some(minutes) = t.labor_minutes {
        let cost = t
            .labor_cost
            .map(|c| format!(", cost {c:.2}"))
            .unwrap_or_default();
        lines.push(format!("  time worked {minutes:.0} min{cost}"));
    }
    for f in &t.help_desk {
        let show = |v: Option<f64>| v.map_or("—".to_string(), |v| format!("{v:.1}"));
        lines.push(format!(
            "  help desk's own {}: {} (deskpulse {}); gaps: {}",
            f.measure,
            show(f.help_desk),
            show(f.deskpulse),
            f.reasons
        ));
    }
    lines
}

/// Where the period's KPIs count a ticket, and where it counts when not in this period.
fn count_sentences(t: &Ticket) -> Vec<String> {
    let c = &t.counts;
    let month = |m: &Option<String>| m.clone().unwrap_or_else(|| "—".to_string());
    let mut out = Vec::new();
    out.push(match c.created_in_period {
        true => "created in the period: counts in tickets created (and, for incidents, repeats)"
            .to_string(),
        false => format!(
            "created in {}: not in this period's volume",
            month(&c.created_month)
        ),
    });
    out.push(match (c.resolved_in_period, &c.resolved_month) {
        (true, _) => "resolved in the period: counts in tickets resolved, time to resolve, \
                      reopens and first-assignment resolution"
            .to_string(),
        (false, Some(m)) => format!("resolved in {m}: not in this period's resolution figures"),
        (false, None) => "not resolved".to_string(),
    });
    if c.sla_resolution_decided_in_period || c.sla_response_decided_in_period {
        out.push("an SLA of it was decided in the period: counts in SLA met".to_string());
    } else if let Some(m) = &c.sla_resolution_decided_month {
        out.push(format!("resolution SLA decided in {m}"));
    }
    out.push(match (c.open_at_period_end, c.end_unknown) {
        (true, _) => "open at the period's end: in the backlog".to_string(),
        (false, true) => "resolved or closed in the help desk, with neither time in the export: \
                          whether it was open at the period's end is unknown, so it is the \
                          backlog's missing"
            .to_string(),
        (false, false) => "not open at the period's end: not in the backlog".to_string(),
    });
    out
}
