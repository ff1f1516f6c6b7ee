//! Per-ticket clocks: business time net of pauses, and each SLA's breach instant, state and
//! decision instant, exactly as the contract's "SLA decision instant" paragraph says. The clock
//! columns travel with the tickets to DuckDB; the names that go with them (calendar, policy,
//! targets) come from the small `sla_policy` table, joined by priority in the ledger query.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use polars::prelude::*;

use crate::clock::calendar::{ALWAYS_OPEN, CalendarSpec};
use crate::clock::timeline::{Interval, MINUTE, Timeline};
use crate::config::Config;
use crate::model::{ColumnType, StatusClass};

/// Clock columns added to each ticket.
pub fn clock_columns() -> Vec<(&'static str, ColumnType)> {
    vec![
        ("pauses_known", ColumnType::Bool),
        ("reopened_in_history", ColumnType::Bool),
        ("paused_us", ColumnType::Int),
        ("resolve_business_us", ColumnType::Int),
        ("first_response_business_us", ColumnType::Int),
        ("sla_response_breach_at", ColumnType::Timestamp),
        ("sla_response_state", ColumnType::Code),
        ("sla_response_decided_at", ColumnType::Timestamp),
        ("sla_resolution_breach_at", ColumnType::Timestamp),
        ("sla_resolution_state", ColumnType::Code),
        ("sla_resolution_decided_at", ColumnType::Timestamp),
    ]
}

/// The clock columns that hold one value for every ticket of a run, as SQL literals, for
/// DuckDB to be given as constants rather than stored row by row: without SLA policies no
/// ticket has an SLA outcome, and without status history no ticket's pauses or reopens are
/// known. [`compute`] gives them those values; a test holds the two together.
pub fn constant_columns(config: &Config, facts: &SourceFacts) -> Vec<(&'static str, String)> {
    let mut constants = Vec::new();
    if facts.with_history.is_empty() {
        constants.push(("pauses_known", "false".to_string()));
        constants.push(("reopened_in_history", "NULL".to_string()));
    }
    if config.sla.policies.is_empty() {
        let outcomes = clock_columns()
            .into_iter()
            .filter(|(c, _)| c.starts_with("sla_"));
        constants.extend(outcomes.map(|(c, _)| (c, "NULL".to_string())));
    }
    constants
}

/// The help desk's business first-reply time, in microseconds, as SQL over the tickets: the
/// business first response of a ticket whose export has no first-reply instant (a Zendesk CSV
/// with only "First reply time in minutes within business hours"; the macro
/// `first_response_business_only(source)` names those sources). It is on the help desk's
/// schedule, not on a deskpulse calendar; the report says so.
pub const REPORTED_BUSINESS_RESPONSE_SQL: &str =
    "CAST(round(reported_first_response_business_minutes * 60e6) AS BIGINT)";

/// The same, per ticket.
fn reported_business_response(minutes: Option<f64>) -> Option<i64> {
    minutes.map(|m| (m * 60e6).round() as i64)
}

const REPORTED_RESPONSE_US: &str = "reported_first_response_business_us";

fn reported_response_minutes(tickets: &DataFrame) -> PolarsResult<Float64Chunked> {
    Ok(tickets
        .column("reported_first_response_business_minutes")?
        .cast(&DataType::Float64)?
        .f64()?
        .clone())
}

/// [`reported_business_response`] of every ticket of a source that has nothing else, as a
/// column: where an export has reply instants, one after as_of has not happened yet. A loop,
/// not an expression: the build has no Polars rounding (`round_series`), and the per-ticket
/// kernel and the SQL round the same way.
fn reported_response_us(tickets: &DataFrame, facts: &SourceFacts) -> PolarsResult<Column> {
    let sources = tickets.column("source")?.str()?.clone();
    let us: Int64Chunked = reported_response_minutes(tickets)?
        .iter()
        .zip(sources.iter())
        .map(|(m, source)| {
            source
                .filter(|s| facts.business_minutes_only.contains(*s))
                .and_then(|_| reported_business_response(m))
        })
        .collect();
    Ok(us.with_name(REPORTED_RESPONSE_US.into()).into_column())
}

/// Columns of the `sla_policy` table: one row per priority, and one keyed `(none)` for tickets
/// without one; the calendar is the policy's, else `[sla] calendar`.
pub fn policy_columns() -> Vec<(&'static str, ColumnType)> {
    vec![
        ("priority", ColumnType::Text),
        ("calendar", ColumnType::Text),
        ("response_target", ColumnType::Text),
        ("resolution_target", ColumnType::Text),
    ]
}

/// The `sla_policy` table of a configuration.
pub fn policy_table(config: &Config) -> PolarsResult<DataFrame> {
    let priorities: Vec<Option<&str>> = crate::model::allowed_values("priority")
        .unwrap_or(&[])
        .iter()
        .map(|p| Some(*p))
        .chain(std::iter::once(Some(crate::model::NONE_KEY)))
        .collect();
    let policy = |p: Option<&str>| p.and_then(|p| config.sla.policies.get(p));
    // `(none)` stands for tickets without a priority: they run on the default calendar.
    let calendars: Vec<&str> = priorities
        .iter()
        .map(|p| policy(*p).map_or(config.sla.calendar.as_str(), |pol| pol.calendar.as_str()))
        .collect();
    let target =
        |f: fn(&crate::config::SlaPolicy) -> Option<crate::clock::duration::BusinessDuration>| {
            priorities
                .iter()
                .map(|p| policy(*p).and_then(f).map(|d| d.to_string()))
                .collect::<Vec<Option<String>>>()
        };
    let n = priorities.len();
    DataFrame::new(
        n,
        vec![
            Column::new("priority".into(), priorities.clone()),
            Column::new("calendar".into(), calendars),
            Column::new("response_target".into(), target(|p| p.response)),
            Column::new("resolution_target".into(), target(|p| p.resolution)),
        ],
    )
}

/// What is known of the sources, beyond their tickets.
pub struct SourceFacts<'a> {
    /// Sources whose exports carried status history.
    pub with_history: &'a BTreeSet<String>,
    /// Sources whose exports have a first-response column.
    pub with_first_response: &'a BTreeSet<String>,
    /// Sources whose exports give the first reply only as the help desk's business minutes.
    pub business_minutes_only: &'a BTreeSet<&'a str>,
}

/// One SLA's outcome for one ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlaOutcome {
    pub breach_at: Option<i64>,
    pub state: SlaState,
    pub decided_at: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlaState {
    Met,
    Breached,
    Running,
}

impl SlaState {
    pub fn as_str(self) -> &'static str {
        match self {
            SlaState::Met => "met",
            SlaState::Breached => "breached",
            SlaState::Running => "running",
        }
    }

    /// The state as the ledger query reads it (1 met, 2 breached, 3 running).
    pub fn code(self) -> u8 {
        match self {
            SlaState::Met => 1,
            SlaState::Breached => 2,
            SlaState::Running => 3,
        }
    }
}

/// The contract's rule: met if the clock stops at or before `breach_at` (decided at the stop);
/// breached at `breach_at` if it has not stopped by then, whether it stops later or is still
/// running at `as_of`; running (undecided) if neither has happened by `as_of`.
pub fn sla_outcome(breach_at: Option<i64>, stop: Option<i64>, as_of: i64) -> SlaOutcome {
    match (stop, breach_at) {
        (Some(s), Some(b)) if s <= b => SlaOutcome {
            breach_at,
            state: SlaState::Met,
            decided_at: Some(s),
        },
        (Some(s), None) => SlaOutcome {
            breach_at,
            state: SlaState::Met,
            decided_at: Some(s),
        },
        (_, Some(b)) if b <= as_of => SlaOutcome {
            breach_at,
            state: SlaState::Breached,
            decided_at: Some(b),
        },
        _ => SlaOutcome {
            breach_at,
            state: SlaState::Running,
            decided_at: None,
        },
    }
}

/// Whether a ticket's status history shows a reopen: a move from resolved or closed to any
/// status but resolved, closed or cancelled. States the profile could not map are skipped.
pub fn reopened(history: &[(i64, Option<StatusClass>)], as_of: i64) -> bool {
    use StatusClass::{Cancelled, Closed, Resolved};
    let mut previous: Option<StatusClass> = None;
    for status in history
        .iter()
        .filter(|(at, _)| *at <= as_of)
        .filter_map(|(_, s)| *s)
    {
        if matches!(previous, Some(Resolved | Closed))
            && !matches!(status, Resolved | Closed | Cancelled)
        {
            return true;
        }
        previous = Some(status);
    }
    false
}

/// Pause intervals of one ticket from its status history (sorted by sequence, then time): the
/// clock stands still while the status is a pause class, or resolved or closed. The first
/// state holds from the ticket's creation; the last until `as_of`.
pub fn pauses(
    created: i64,
    history: &[(i64, Option<StatusClass>)],
    pause: &[StatusClass],
    as_of: i64,
) -> Vec<Interval> {
    let mut out: Vec<Interval> = Vec::new();
    let is_paused = |s: Option<StatusClass>| {
        s.is_some_and(|s| {
            pause.contains(&s) || matches!(s, StatusClass::Resolved | StatusClass::Closed)
        })
    };
    for (i, (at, status)) in history.iter().enumerate() {
        if !is_paused(*status) {
            continue;
        }
        let start = if i == 0 { created } else { (*at).max(created) };
        let end = history
            .get(i + 1)
            .map_or(as_of, |(next, _)| (*next).max(created))
            .min(as_of);
        if end <= start {
            continue;
        }
        match out.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => out.push((start, end)),
        }
    }
    out
}

struct Policy<'a> {
    calendar: &'a str,
    response: Option<i64>,
    resolution: Option<i64>,
}

/// Each calendar's timeline (the built-in always-open one included) from `from` to `to`.
fn timelines(config: &Config, from: i64, to: i64) -> HashMap<&str, Timeline> {
    let always_open = CalendarSpec::always_open();
    config
        .calendars
        .iter()
        .map(|(name, spec)| (name.as_str(), spec))
        .chain(std::iter::once((ALWAYS_OPEN, &always_open)))
        .map(|(name, spec)| (name, Timeline::new(spec, from, to)))
        .collect()
}

/// The SLA policies by priority, with their targets in microseconds.
fn policies(config: &Config) -> HashMap<&str, Policy<'_>> {
    config
        .sla
        .policies
        .iter()
        .map(|(p, pol)| {
            (
                p.as_str(),
                Policy {
                    calendar: pol.calendar.as_str(),
                    response: pol.response.map(|d| d.micros()),
                    resolution: pol.resolution.map(|d| d.micros()),
                },
            )
        })
        .collect()
}

/// Computes the clock columns, one row per ticket in the frame's order.
pub fn compute(
    tickets: &DataFrame,
    histories: &Histories,
    config: &Config,
    facts: &SourceFacts,
    as_of: DateTime<Utc>,
) -> PolarsResult<DataFrame> {
    let as_of = as_of.timestamp_micros();
    if business_is_calendar(config, facts) {
        return always_open(tickets, facts, as_of);
    }
    let micros = |name: &str| -> PolarsResult<Int64Chunked> {
        Ok(tickets.column(name)?.cast(&DataType::Int64)?.i64()?.clone())
    };
    let sources = tickets.column("source")?.str()?.clone();
    let ids = tickets.column("id")?.str()?.clone();
    let priorities = tickets.column("priority")?.str()?.clone();
    let created = micros("created_at")?;
    let first_response = micros("first_response_at")?;
    let resolved = micros("resolved_at")?;
    let closed = micros("closed_at")?;
    let reported_response = reported_response_minutes(tickets)?;
    let histories = &histories.0;
    let rules = ClockRules::new(config, facts, as_of, created.min(), created.max());

    let n = tickets.height();
    let mut columns = ClockColumns::with_capacity(n);
    let rows = sources
        .iter()
        .zip(ids.iter())
        .zip(priorities.iter())
        .zip(created.iter())
        .zip(first_response.iter())
        .zip(resolved.iter())
        .zip(closed.iter())
        .zip(reported_response.iter());
    for (((((((source, id), priority), created), first_response), resolved), closed), reported) in
        rows
    {
        let source = source.unwrap_or_default();
        let known = facts.with_history.contains(source);
        let clocks = match created {
            None => TicketClocks::default(),
            Some(created) => {
                let history = known.then(|| {
                    id.and_then(|id| histories.get(source)?.get(id))
                        .map_or(&[][..], Vec::as_slice)
                });
                let times = TicketTimes {
                    source,
                    priority,
                    created,
                    first_response,
                    resolved,
                    closed,
                    reported,
                };
                rules.clocks(&times, history)
            }
        };
        columns.push(known, clocks);
    }
    columns.into_frame(n)
}

/// What every ticket's clocks are computed with: the configuration's calendars as timelines
/// over the tickets' span, its SLA policies, and the instant of measurement.
struct ClockRules<'a> {
    config: &'a Config,
    facts: &'a SourceFacts<'a>,
    as_of: i64,
    timelines: HashMap<&'a str, Timeline>,
    policies: HashMap<&'a str, Policy<'a>>,
}

/// One ticket's row as the clocks read it, in microseconds.
struct TicketTimes<'a> {
    source: &'a str,
    priority: Option<&'a str>,
    created: i64,
    first_response: Option<i64>,
    resolved: Option<i64>,
    closed: Option<i64>,
    /// The help desk's own business first-reply time, in minutes.
    reported: Option<f64>,
}

/// One ticket's clocks, as [`clock_columns`] holds them; all unknown without a creation.
#[derive(Default)]
struct TicketClocks {
    reopened: Option<bool>,
    paused: Option<i64>,
    resolve: Option<i64>,
    response: Option<i64>,
    /// Response, then resolution.
    sla: [Option<SlaOutcome>; 2],
}

impl<'a> ClockRules<'a> {
    fn new(
        config: &'a Config,
        facts: &'a SourceFacts<'a>,
        as_of: i64,
        first_created: Option<i64>,
        last_created: Option<i64>,
    ) -> Self {
        let from = first_created.unwrap_or(as_of) - 24 * 60 * MINUTE;
        // Deadlines can fall after as_of (an SLA still running); a year past it covers any target.
        let horizon = as_of.max(last_created.unwrap_or(as_of)) + 400 * 24 * 60 * MINUTE;
        ClockRules {
            config,
            facts,
            as_of,
            timelines: timelines(config, from, horizon),
            policies: policies(config),
        }
    }

    /// A ticket's clocks; `history` is its status history where its source has one.
    fn clocks(
        &self,
        t: &TicketTimes,
        history: Option<&[(i64, Option<StatusClass>)]>,
    ) -> TicketClocks {
        let as_of = self.as_of;
        let cut = |t: Option<i64>| t.filter(|t| *t <= as_of);
        let policy = t.priority.and_then(|p| self.policies.get(p));
        let calendar = policy.map_or(self.config.sla.calendar.as_str(), |p| p.calendar);
        let timeline = &self.timelines[calendar];
        let pauses = pauses(
            t.created,
            history.unwrap_or_default(),
            &self.config.sla.pause,
            as_of,
        );
        let response_at = cut(t.first_response);
        let resolution_at = cut(t.resolved);
        let stop_resolution = resolution_at.or(cut(t.closed));
        let end = stop_resolution.unwrap_or(as_of);
        let net = |stop: i64| timeline.open_between_net(t.created, stop, &pauses);
        let targets = [
            policy
                .and_then(|p| p.response)
                .filter(|_| self.facts.with_first_response.contains(t.source)),
            policy.and_then(|p| p.resolution),
        ];
        let stops = [response_at, stop_resolution];
        let sla = [0, 1].map(|k| {
            targets[k].map(|target| {
                let breach = timeline.deadline(t.created, target, &pauses);
                sla_outcome(breach, stops[k], as_of)
            })
        });
        TicketClocks {
            reopened: history.map(|h| reopened(h, as_of)),
            paused: Some(
                pauses
                    .iter()
                    .map(|(s, e)| (*e).min(end) - (*s).min(end))
                    .sum(),
            ),
            resolve: resolution_at.map(net),
            response: match self.facts.business_minutes_only.contains(t.source) {
                true => reported_business_response(t.reported),
                false => response_at.map(net),
            },
            sla,
        }
    }
}

/// The clock columns, built a ticket at a time.
struct ClockColumns {
    known: Vec<bool>,
    reopened: Vec<Option<bool>>,
    paused: Vec<Option<i64>>,
    resolve: Vec<Option<i64>>,
    response: Vec<Option<i64>>,
    sla: [SlaColumns; 2],
}

impl ClockColumns {
    fn with_capacity(n: usize) -> Self {
        ClockColumns {
            known: Vec::with_capacity(n),
            reopened: Vec::with_capacity(n),
            paused: Vec::with_capacity(n),
            resolve: Vec::with_capacity(n),
            response: Vec::with_capacity(n),
            sla: [SlaColumns::with_capacity(n), SlaColumns::with_capacity(n)],
        }
    }

    fn push(&mut self, known: bool, clocks: TicketClocks) {
        self.known.push(known);
        self.reopened.push(clocks.reopened);
        self.paused.push(clocks.paused);
        self.resolve.push(clocks.resolve);
        self.response.push(clocks.response);
        for (columns, outcome) in self.sla.iter_mut().zip(clocks.sla) {
            columns.push(outcome);
        }
    }

    /// The frame, in the order of [`clock_columns`].
    fn into_frame(self, n: usize) -> PolarsResult<DataFrame> {
        let ts = |name: &str, v: Vec<Option<i64>>| -> PolarsResult<Column> {
            Column::new(name.into(), v).cast(&DataType::Datetime(
                TimeUnit::Microseconds,
                Some(TimeZone::UTC),
            ))
        };
        let [response, resolution] = self.sla;
        let columns = vec![
            Column::new("pauses_known".into(), self.known),
            Column::new("reopened_in_history".into(), self.reopened),
            Column::new("paused_us".into(), self.paused),
            Column::new("resolve_business_us".into(), self.resolve),
            Column::new("first_response_business_us".into(), self.response),
            ts("sla_response_breach_at", response.breach_at)?,
            Column::new("sla_response_state".into(), response.state),
            ts("sla_response_decided_at", response.decided_at)?,
            ts("sla_resolution_breach_at", resolution.breach_at)?,
            Column::new("sla_resolution_state".into(), resolution.state),
            ts("sla_resolution_decided_at", resolution.decided_at)?,
        ];
        DataFrame::new(n, columns)
    }
}

pub(crate) fn calendar_is_always_open(config: &Config, name: &str) -> bool {
    name == ALWAYS_OPEN
        || config
            .calendars
            .get(name)
            .is_some_and(CalendarSpec::is_always_open)
}

/// Whether the business clock is the calendar clock for every ticket: no SLA policies, no status
/// history (so no pauses) and a default calendar that is always open.
pub fn business_is_calendar(config: &Config, facts: &SourceFacts) -> bool {
    config.sla.policies.is_empty()
        && facts.with_history.is_empty()
        && calendar_is_always_open(config, &config.sla.calendar)
}

/// Without SLA policies, status history or business hours, the business clock is the calendar
/// clock: the same columns, computed as vectorised expressions instead of ticket by ticket.
fn always_open(tickets: &DataFrame, facts: &SourceFacts, as_of: i64) -> PolarsResult<DataFrame> {
    let us = |c: &str| col(c).cast(DataType::Int64);
    let elapsed = |c: &str| {
        when(us(c).lt_eq(lit(as_of)))
            .then(us(c) - us("created_at"))
            .otherwise(lit(NULL).cast(DataType::Int64))
    };
    let null_ts = || {
        lit(NULL).cast(DataType::Datetime(
            TimeUnit::Microseconds,
            Some(TimeZone::UTC),
        ))
    };
    let mut tickets = tickets.clone();
    tickets.with_column(reported_response_us(&tickets, facts)?)?;
    tickets
        .lazy()
        .select([
            lit(false).alias("pauses_known"),
            lit(NULL)
                .cast(DataType::Boolean)
                .alias("reopened_in_history"),
            when(col("created_at").is_not_null())
                .then(lit(0i64))
                .otherwise(lit(NULL).cast(DataType::Int64))
                .alias("paused_us"),
            elapsed("resolved_at").alias("resolve_business_us"),
            elapsed("first_response_at")
                .fill_null(col(REPORTED_RESPONSE_US))
                .alias("first_response_business_us"),
            null_ts().alias("sla_response_breach_at"),
            lit(NULL).cast(DataType::UInt32).alias("sla_response_state"),
            null_ts().alias("sla_response_decided_at"),
            null_ts().alias("sla_resolution_breach_at"),
            lit(NULL)
                .cast(DataType::UInt32)
                .alias("sla_resolution_state"),
            null_ts().alias("sla_resolution_decided_at"),
        ])
        .collect()
}

struct SlaColumns {
    breach_at: Vec<Option<i64>>,
    state: Vec<Option<u32>>,
    decided_at: Vec<Option<i64>>,
}

impl SlaColumns {
    fn with_capacity(n: usize) -> Self {
        SlaColumns {
            breach_at: Vec::with_capacity(n),
            state: Vec::with_capacity(n),
            decided_at: Vec::with_capacity(n),
        }
    }

    fn push(&mut self, outcome: Option<SlaOutcome>) {
        self.breach_at.push(outcome.and_then(|o| o.breach_at));
        self.state.push(outcome.map(|o| u32::from(o.state.code())));
        self.decided_at.push(outcome.and_then(|o| o.decided_at));
    }
}

/// Each ticket's status changes in order, by source and then id: the instant and the status.
type History = HashMap<String, HashMap<String, Vec<(i64, Option<StatusClass>)>>>;

/// Every ticket's status history, grouped once for the clocks of every part of the tickets
/// (a run from the store computes them a part at a time).
pub struct Histories(History);

impl Histories {
    /// The status history per ticket; none where the clocks do not read it (the business clock
    /// is the calendar clock).
    pub fn of(
        history: &DataFrame,
        config: &Config,
        facts: &SourceFacts,
    ) -> PolarsResult<Histories> {
        match business_is_calendar(config, facts) {
            true => Ok(Histories(HashMap::new())),
            false => Ok(Histories(group_history(history)?)),
        }
    }
}

/// Status history per ticket, ordered by sequence, then time (changes of one ticket with the
/// same sequence and time in the order the export lists them).
fn group_history(history: &DataFrame) -> PolarsResult<History> {
    let source = history.column("source")?.str()?;
    let id = history.column("id")?.str()?;
    let seq = history.column("seq")?.cast(&DataType::UInt64)?;
    let at = history.column("at")?.cast(&DataType::Int64)?;
    let status = history.column("status")?.str()?;
    type Change = (Option<u64>, i64, Option<StatusClass>);
    let mut grouped: HashMap<&str, HashMap<&str, Vec<Change>>> = HashMap::new();
    let rows = source
        .iter()
        .zip(id.iter())
        .zip(seq.u64()?.iter())
        .zip(at.i64()?.iter())
        .zip(status.iter());
    for ((((s, i), q), t), st) in rows {
        let (Some(s), Some(i), Some(t)) = (s, i, t) else {
            continue;
        };
        let status = st.and_then(|v| v.parse().ok());
        grouped
            .entry(s)
            .or_default()
            .entry(i)
            .or_default()
            .push((q, t, status));
    }
    let in_order = |mut changes: Vec<Change>| {
        changes.sort_by_key(|(seq, at, _)| (*seq, *at));
        changes
            .into_iter()
            .map(|(_, at, status)| (at, status))
            .collect()
    };
    Ok(grouped
        .into_iter()
        .map(|(source, ids)| {
            let ids = ids
                .into_iter()
                .map(|(id, changes)| (id.to_string(), in_order(changes)))
                .collect();
            (source.to_string(), ids)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 60 * MINUTE;

    /// Every column [`constant_columns`] names holds its literal in what [`compute`] gives, on
    /// the calendar clock (computed as expressions) and on business hours (ticket by ticket).
    #[test]
    fn constant_columns_hold_their_value_in_the_computed_clocks() {
        use chrono::TimeZone as _;
        let office = "[calendars.office]\ntimezone = \"UTC\"\n\
                      hours = { mon = \"08:00-18:00\", tue = \"08:00-18:00\" }\n\
                      [sla]\ncalendar = \"office\"\n";
        let as_of = chrono::Utc.with_ymd_and_hms(2026, 10, 31, 0, 0, 0).unwrap();
        let instants = |v: &[Option<i64>]| {
            Column::new("t".into(), v)
                .cast(&DataType::Datetime(
                    TimeUnit::Microseconds,
                    Some(TimeZone::UTC),
                ))
                .unwrap()
        };
        let start = chrono::Utc
            .with_ymd_and_hms(2026, 10, 5, 9, 0, 0)
            .unwrap()
            .timestamp_micros();
        let tickets = DataFrame::new(
            3,
            vec![
                Column::new("source".into(), ["a", "a", "a"]),
                Column::new("id".into(), ["1", "2", "3"]),
                Column::new("priority".into(), [Some("P1"), None, Some("P3")]),
                instants(&[Some(start), Some(start + 3 * H), None]).with_name("created_at".into()),
                instants(&[Some(start + H), None, None]).with_name("first_response_at".into()),
                instants(&[Some(start + 2 * H), None, None]).with_name("resolved_at".into()),
                instants(&[None, None, None]).with_name("closed_at".into()),
                Column::full_null(
                    "reported_first_response_business_minutes".into(),
                    3,
                    &DataType::Float64,
                ),
            ],
        )
        .unwrap();
        let none = BTreeSet::new();
        let first_response: BTreeSet<String> = ["a".to_string()].into();
        let facts = SourceFacts {
            with_history: &none,
            with_first_response: &first_response,
            business_minutes_only: &BTreeSet::new(),
        };
        for text in ["", office] {
            let config = Config::parse(text, None, std::path::PathBuf::from("/cfg")).unwrap();
            let histories = Histories::of(
                &crate::ingest::canonical::empty_frame(&crate::model::status_change_columns()),
                &config,
                &facts,
            )
            .unwrap();
            let clocks = compute(&tickets, &histories, &config, &facts, as_of).unwrap();
            let constants = constant_columns(&config, &facts);
            assert_eq!(constants.len(), 8, "{text}");
            for (name, literal) in constants {
                let column = clocks.column(name).unwrap();
                let values: Vec<String> = (0..3)
                    .map(|i| match column.get(i).unwrap() {
                        AnyValue::Null => "NULL".to_string(),
                        AnyValue::Boolean(b) => b.to_string(),
                        other => format!("{other:?}"),
                    })
                    .collect();
                assert_eq!(values, vec![literal; 3], "{name} with {text:?}");
            }
        }
    }

    #[test]
    fn met_at_or_before_the_breach_instant() {
        let o = sla_outcome(Some(10 * H), Some(10 * H), 100 * H);
        assert_eq!((o.state, o.decided_at), (SlaState::Met, Some(10 * H)));
    }

    #[test]
    fn resolved_after_hours_past_the_breach_is_breached_at_the_breach() {
        // The target ran out at 18:00; the ticket was resolved at 18:30.
        let o = sla_outcome(Some(18 * H), Some(18 * H + 30 * MINUTE), 100 * H);
        assert_eq!((o.state, o.decided_at), (SlaState::Breached, Some(18 * H)));
    }

    #[test]
    fn running_and_breached_at_as_of() {
        let o = sla_outcome(Some(50 * H), None, 40 * H);
        assert_eq!((o.state, o.decided_at), (SlaState::Running, None));
        let o = sla_outcome(Some(40 * H), None, 40 * H);
        assert_eq!((o.state, o.decided_at), (SlaState::Breached, Some(40 * H)));
    }

    #[test]
    fn reopens_in_history_skip_unmapped_states() {
        use StatusClass::*;
        let h = |states: &[Option<StatusClass>]| -> Vec<(i64, Option<StatusClass>)> {
            states
                .iter()
                .enumerate()
                .map(|(i, s)| (i as i64 * H, *s))
                .collect()
        };
        assert!(reopened(
            &h(&[Some(New), Some(Resolved), Some(Active), Some(Resolved)]),
            10 * H
        ));
        assert!(reopened(
            &h(&[Some(Closed), None, Some(WaitCustomer)]),
            10 * H
        ));
        assert!(!reopened(
            &h(&[Some(New), Some(Resolved), Some(Closed)]),
            10 * H
        ));
        assert!(!reopened(&h(&[Some(Resolved), Some(Cancelled)]), 10 * H));
        // The reopen happened after as_of: not yet.
        assert!(!reopened(&h(&[Some(New), Some(Resolved), Some(Active)]), H));
    }

    #[test]
    fn pauses_from_history() {
        use StatusClass::*;
        let pause = [WaitCustomer, WaitThirdParty];
        // new 0h, active 1h, waiting 2h, active 5h, resolved 6h, active (reopen) 8h, resolved 9h.
        let history = vec![
            (0, Some(New)),
            (H, Some(Active)),
            (2 * H, Some(WaitCustomer)),
            (5 * H, Some(Active)),
            (6 * H, Some(Resolved)),
            (8 * H, Some(Active)),
            (9 * H, Some(Resolved)),
        ];
        assert_eq!(
            pauses(0, &history, &pause, 20 * H),
            vec![(2 * H, 5 * H), (6 * H, 8 * H), (9 * H, 20 * H)]
        );
        // Cut at as_of.
        assert_eq!(pauses(0, &history, &pause, 3 * H), vec![(2 * H, 3 * H)]);
    }

    #[test]
    fn each_tickets_changes_are_in_sequence_then_time_order_ties_as_listed() {
        use StatusClass::*;
        let at = |hours: i64| Some(hours * H);
        let history = df!(
            "source" => ["a", "a", "a", "b", "a", "a", "a"],
            "id" => ["1", "2", "1", "1", "1", "1", "1"],
            "seq" => [Some(3u64), Some(1), Some(1), Some(1), None, Some(2), Some(2)],
            "at" => [at(9), at(0), at(5), at(0), at(7), at(6), at(6)],
            "status" => ["resolved", "new", "active", "new", "new", "wait_customer", "active"],
        )
        .unwrap();
        let grouped = group_history(&history).unwrap();
        // No sequence first, then by sequence; the two changes of sequence 2 at 6h as listed.
        assert_eq!(
            grouped["a"]["1"],
            vec![
                (7 * H, Some(New)),
                (5 * H, Some(Active)),
                (6 * H, Some(WaitCustomer)),
                (6 * H, Some(Active)),
                (9 * H, Some(Resolved)),
            ]
        );
        assert_eq!(grouped["a"]["2"], vec![(0, Some(New))]);
        assert_eq!(grouped["b"]["1"], vec![(0, Some(New))]);
        assert_eq!(grouped.values().map(HashMap::len).sum::<usize>(), 3);
    }
}
