//! An independent computation of the first slice's KPIs from a ServiceNow CSV export, written
//! from the KPI contract with plain loops over the `csv` crate's records: no Polars, no DuckDB,
//! no code of deskpulse's pipeline. Integration tests compare deskpulse's `kpis.json` with it.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

pub struct Source<'a> {
    pub path: &'a Path,
    pub format: &'a str,
    pub tz: Tz,
}

#[derive(Debug, Clone)]
struct Ticket {
    id: String,
    created: DateTime<Utc>,
    resolved: Option<DateTime<Utc>>,
    closed: Option<DateTime<Utc>>,
    priority: Option<String>,
    status: Option<String>,
    service: Option<String>,
    group: Option<String>,
    category: Option<String>,
    reopen_count: Option<u32>,
    made_sla: Option<bool>,
    /// (sys_mod_count, update time, status class)
    history: Vec<(u64, DateTime<Utc>, Option<String>)>,
}

#[derive(Debug, Default)]
pub struct Counts {
    pub rows: u64,
    pub rejected: u64,
}

/// One expected KPI row.
#[derive(Debug, Clone, PartialEq)]
pub struct Expected {
    pub value: Option<f64>,
    pub n: u64,
    pub missing: u64,
}

pub type Key = (String, String, String, String);

fn status_class(raw: &str) -> Option<&'static str> {
    Some(match raw {
        "New" | "1" | "Open" => "new",
        "Active" | "In Progress" | "2" | "Work In Progress" | "Assigned" => "active",
        "On Hold" | "3" | "Awaiting Caller" | "Awaiting User Info" | "Awaiting Evidence"
        | "Pending" => "wait_customer",
        "Awaiting Vendor" => "wait_third_party",
        "Awaiting Problem" | "Awaiting Change" => "hold_internal",
        "Resolved" | "6" => "resolved",
        "Closed" | "7" | "Closed Complete" | "Closed Incomplete" => "closed",
        "Canceled" | "Cancelled" | "8" | "Closed Skipped" => "cancelled",
        _ => return None,
    })
}

fn priority(raw: &str) -> Option<String> {
    let p = match raw {
        "1 - Critical" | "1" => "P1",
        "2 - High" | "2" => "P2",
        "3 - Moderate" | "3" => "P3",
        "4 - Low" | "4" => "P4",
        "5 - Planning" | "5" => "P5",
        _ => return None,
    };
    Some(p.to_string())
}

const PLAUSIBLE_FROM: i64 = 315_532_800; // 1980-01-01

enum Instant {
    Missing,
    Bad,
    Ok(DateTime<Utc>),
}

fn instant(raw: Option<&str>, format: &str, tz: Tz) -> Instant {
    let Some(text) = raw else {
        return Instant::Missing;
    };
    let Ok(local) = NaiveDateTime::parse_from_str(text, format) else {
        return Instant::Bad;
    };
    match tz.from_local_datetime(&local).earliest() {
        Some(t) if t.timestamp() >= PLAUSIBLE_FROM => Instant::Ok(t.with_timezone(&Utc)),
        _ => Instant::Bad,
    }
}

fn ok(i: Instant) -> Option<DateTime<Utc>> {
    match i {
        Instant::Ok(t) => Some(t),
        _ => None,
    }
}

/// Reads an export: tickets (collapsed from an event log when numbers repeat) and row counts.
fn read(source: &Source) -> (Vec<Ticket>, Counts) {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(source.path)
        .unwrap();
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let at = |name: &str| header.iter().position(|h| h == name);
    let idx: HashMap<&str, Option<usize>> = [
        "number",
        "opened_at",
        "resolved_at",
        "closed_at",
        "priority",
        "state",
        "incident_state",
        "business_service",
        "assignment_group",
        "category",
        "reopen_count",
        "made_sla",
        "sys_mod_count",
        "sys_updated_at",
    ]
    .into_iter()
    .map(|n| (n, at(n)))
    .collect();
    let mut counts = Counts::default();
    type Row = (
        u64,
        Ticket,
        Option<u64>,
        Option<DateTime<Utc>>,
        Option<String>,
    );
    let mut rows: Vec<Row> = Vec::new();
    let mut position = 0u64;
    for record in reader.records() {
        let record = record.unwrap();
        counts.rows += 1;
        position += 1;
        if record.len() != header.len() {
            counts.rejected += 1;
            continue;
        }
        let get = |name: &str| -> Option<&str> {
            let v = record.get(idx[name]?)?.trim();
            if v.is_empty() || v == "?" {
                None
            } else {
                Some(v)
            }
        };
        let Some(id) = get("number") else {
            counts.rejected += 1;
            continue;
        };
        let Some(created) = ok(instant(get("opened_at"), source.format, source.tz)) else {
            counts.rejected += 1;
            continue;
        };
        let seq = get("sys_mod_count").and_then(|s| s.parse::<u64>().ok());
        let updated = ok(instant(get("sys_updated_at"), source.format, source.tz));
        let after_created = |t: Option<DateTime<Utc>>| t.filter(|t| *t >= created);
        let status = get("state")
            .or(get("incident_state"))
            .and_then(status_class)
            .map(str::to_string);
        let ticket = Ticket {
            id: id.to_string(),
            created,
            resolved: after_created(ok(instant(get("resolved_at"), source.format, source.tz))),
            closed: after_created(ok(instant(get("closed_at"), source.format, source.tz))),
            priority: get("priority").and_then(priority),
            status: status.clone(),
            service: get("business_service").map(str::to_string),
            group: get("assignment_group").map(str::to_string),
            category: get("category").map(str::to_string),
            reopen_count: get("reopen_count").and_then(|s| s.parse().ok()),
            made_sla: get("made_sla").and_then(|s| match s.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => Some(true),
                "false" | "0" | "no" => Some(false),
                _ => None,
            }),
            history: vec![],
        };
        rows.push((position, ticket, seq, updated, status));
    }
    let mut seen = std::collections::HashSet::new();
    let repeated = rows.iter().any(|r| !seen.insert(r.1.id.clone()));
    let event_log = repeated && idx["sys_mod_count"].is_some() && idx["sys_updated_at"].is_some();
    let mut kept: Vec<(u64, Ticket)> = Vec::new();
    for (pos, mut t, seq, updated, status) in rows {
        if event_log {
            match (seq, updated) {
                (Some(s), Some(u)) => t.history = vec![(s, u, status)],
                _ => {
                    counts.rejected += 1;
                    continue;
                }
            }
        }
        kept.push((pos, t));
    }
    let rows = kept;
    let mut by_id: BTreeMap<String, Vec<(u64, Ticket)>> = BTreeMap::new();
    for (pos, t) in rows {
        by_id.entry(t.id.clone()).or_default().push((pos, t));
    }
    let mut tickets = Vec::new();
    for (_, mut versions) in by_id {
        if event_log {
            let mut history: Vec<(u64, DateTime<Utc>, Option<String>)> = versions
                .iter()
                .flat_map(|(_, t)| t.history.clone())
                .collect();
            history.sort_by_key(|h| (h.0, h.1));
            let last = versions
                .iter()
                .max_by_key(|(pos, t)| (t.history[0].0, *pos))
                .map(|(_, t)| t.clone())
                .unwrap();
            tickets.push(Ticket { history, ..last });
        } else {
            versions.sort_by_key(|(pos, _)| *pos);
            counts.rejected += versions.len() as u64 - 1;
            tickets.push(versions.swap_remove(0).1);
        }
    }
    (tickets, counts)
}

fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64))
}

/// Tickets known at `as_of` (later events cut), cancelled ones left out.
fn known_tickets(source: &Source, as_of: DateTime<Utc>) -> (Vec<Ticket>, Counts) {
    let (tickets, counts) = read(source);
    let cut = |t: Option<DateTime<Utc>>| t.filter(|t| *t <= as_of);
    let known = tickets
        .into_iter()
        .filter(|t| t.created <= as_of)
        .map(|t| Ticket {
            resolved: cut(t.resolved),
            closed: cut(t.closed),
            history: t.history.into_iter().filter(|h| h.1 <= as_of).collect(),
            ..t
        })
        .filter(|t| t.status.as_deref() != Some("cancelled"))
        .collect();
    (known, counts)
}

fn keys(t: &Ticket) -> Vec<(String, String)> {
    let none = || "(none)".to_string();
    vec![
        ("all".into(), "all".into()),
        ("priority".into(), t.priority.clone().unwrap_or_else(none)),
        ("kind".into(), "incident".into()),
        ("service".into(), t.service.clone().unwrap_or_else(none)),
        (
            "assignment_group".into(),
            t.group.clone().unwrap_or_else(none),
        ),
        ("category".into(), t.category.clone().unwrap_or_else(none)),
    ]
}

/// The expected KPI rows for a period `[start, end)` at `as_of`, keyed by (kpi, stat, dimension, key).
pub fn expected(
    source: &Source,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    as_of: DateTime<Utc>,
) -> (BTreeMap<Key, Expected>, Counts) {
    let (known, counts) = known_tickets(source, as_of);
    let in_period = |t: Option<DateTime<Utc>>| t.is_some_and(|t| t >= start && t < end);
    let backlog_at = end.min(as_of);
    let reopened = |t: &Ticket| {
        let history: Vec<&str> = t.history.iter().filter_map(|h| h.2.as_deref()).collect();
        t.reopen_count.is_some_and(|c| c > 0)
            || history.windows(2).any(|w| {
                matches!(w[0], "resolved" | "closed")
                    && !matches!(w[1], "resolved" | "closed" | "cancelled")
            })
    };
    let mut groups: BTreeMap<(String, String), Vec<&Ticket>> = BTreeMap::new();
    for t in &known {
        for k in keys(t) {
            groups.entry(k).or_default().push(t);
        }
    }
    let mut out = BTreeMap::new();
    let mut put = |kpi: &str,
                   stat: &str,
                   (d, k): &(String, String),
                   value: Option<f64>,
                   n: u64,
                   missing: u64| {
        out.insert(
            (kpi.to_string(), stat.to_string(), d.clone(), k.clone()),
            Expected { value, n, missing },
        );
    };
    for (dk, ts) in &groups {
        let created = ts.iter().filter(|t| in_period(Some(t.created))).count() as u64;
        put(
            "tickets_created",
            "value",
            dk,
            Some(created as f64),
            created,
            0,
        );
        let resolved: Vec<&&Ticket> = ts.iter().filter(|t| in_period(t.resolved)).collect();
        put(
            "tickets_resolved",
            "value",
            dk,
            Some(resolved.len() as f64),
            resolved.len() as u64,
            0,
        );
        let open = ts
            .iter()
            .filter(|t| {
                t.created < backlog_at
                    && t.resolved.is_none_or(|r| r > backlog_at)
                    && t.closed.is_none_or(|c| c > backlog_at)
            })
            .count() as u64;
        put("backlog_open", "value", dk, Some(open as f64), open, 0);
        let mut hours: Vec<f64> = resolved
            .iter()
            .map(|t| {
                (t.resolved.unwrap() - t.created)
                    .num_microseconds()
                    .unwrap() as f64
                    / 3.6e9
            })
            .collect();
        hours.sort_by(f64::total_cmp);
        let n = hours.len() as u64;
        let mean = (n > 0).then(|| {
            let total_us: i128 = resolved
                .iter()
                .map(|t| {
                    (t.resolved.unwrap() - t.created)
                        .num_microseconds()
                        .unwrap() as i128
                })
                .sum();
            total_us as f64 / n as f64 / 3.6e9
        });
        put("mttr_hours", "mean", dk, mean, n, 0);
        put("mttr_hours", "median", dk, quantile(&hours, 0.5), n, 0);
        put("mttr_hours", "p90", dk, quantile(&hours, 0.9), n, 0);
        let reopened_n = resolved.iter().filter(|t| reopened(t)).count() as u64;
        let pct = |num: u64, den: u64| (den > 0).then(|| 100.0 * num as f64 / den as f64);
        put("reopen_pct", "value", dk, pct(reopened_n, n), n, 0);
        let verdicts: Vec<bool> = resolved.iter().filter_map(|t| t.made_sla).collect();
        let met = verdicts.iter().filter(|v| **v).count() as u64;
        let with = verdicts.len() as u64;
        put(
            "source_sla_met_pct",
            "value",
            dk,
            pct(met, with),
            with,
            n - with,
        );
    }
    (out, counts)
}

/// An office calendar: weekdays, one opening range, whole-day holidays, in a zone.
pub struct Office {
    pub tz: Tz,
    pub open: (u32, u32),
    pub close: (u32, u32),
    pub holidays: Vec<chrono::NaiveDate>,
}

/// A ticket's calendar for the oracle: the office, or round the clock.
#[derive(Clone, Copy)]
pub enum Clock<'a> {
    Office(&'a Office),
    Always,
}

/// The open segments of `[from, to)` on a clock, minus pause intervals, walked day by day.
fn open_segments(
    clock: Clock,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    pauses: &[(DateTime<Utc>, DateTime<Utc>)],
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    use chrono::Datelike;
    let mut segments = Vec::new();
    match clock {
        Clock::Always => segments.push((from, to)),
        Clock::Office(o) => {
            let mut day = from.with_timezone(&o.tz).date_naive() - chrono::Duration::days(1);
            let last = to.with_timezone(&o.tz).date_naive();
            while day <= last {
                let weekday = day.weekday().number_from_monday();
                if weekday <= 5 && !o.holidays.contains(&day) {
                    let at = |(h, m): (u32, u32)| {
                        o.tz.from_local_datetime(&day.and_hms_opt(h, m, 0).unwrap())
                            .earliest()
                            .unwrap()
                            .with_timezone(&Utc)
                    };
                    let (s, e) = (at(o.open).max(from), at(o.close).min(to));
                    if e > s {
                        segments.push((s, e));
                    }
                }
                day = day.succ_opt().unwrap();
            }
        }
    }
    for &(ps, pe) in pauses {
        let mut next = Vec::new();
        for (s, e) in segments {
            if pe <= s || ps >= e {
                next.push((s, e));
                continue;
            }
            if ps > s {
                next.push((s, ps));
            }
            if pe < e {
                next.push((pe, e));
            }
        }
        segments = next;
    }
    segments
}

fn micros(d: chrono::Duration) -> i64 {
    d.num_microseconds().unwrap()
}

/// Pause intervals from a ticket's history: a pause class, or resolved or closed; the first state
/// holds from creation, the last until as_of.
fn pause_intervals(t: &Ticket, as_of: DateTime<Utc>) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut out = Vec::new();
    for (i, (_, at, status)) in t.history.iter().enumerate() {
        let paused = matches!(
            status.as_deref(),
            Some("wait_customer" | "wait_third_party" | "resolved" | "closed")
        );
        if !paused {
            continue;
        }
        let start = if i == 0 {
            t.created
        } else {
            (*at).max(t.created)
        };
        let end = t
            .history
            .get(i + 1)
            .map_or(as_of, |h| h.1.max(t.created))
            .min(as_of);
        if end > start {
            out.push((start, end));
        }
    }
    out
}

/// Business-clock KPIs: `mttr_business_hours`, `sla_resolution_met_pct` and `sla_breached_open`,
/// with resolution targets in hours per priority, each on the office or round the clock.
pub fn expected_business(
    source: &Source,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    as_of: DateTime<Utc>,
    office: &Office,
    targets: &BTreeMap<&str, (i64, bool)>,
) -> BTreeMap<Key, Expected> {
    let (known, _) = known_tickets(source, as_of);
    let in_period = |t: Option<DateTime<Utc>>| t.is_some_and(|t| t >= start && t < end);
    let clock_of = |t: &Ticket| match t.priority.as_deref().and_then(|p| targets.get(p)) {
        Some((_, false)) => Clock::Always,
        _ => Clock::Office(office),
    };
    let mut groups: BTreeMap<(String, String), Vec<&Ticket>> = BTreeMap::new();
    for t in &known {
        for k in keys(t) {
            groups.entry(k).or_default().push(t);
        }
    }
    let mut out = BTreeMap::new();
    for ((d, k), ts) in &groups {
        let mut put = |kpi: &str, stat: &str, value: Option<f64>, n: u64| {
            out.insert(
                (kpi.to_string(), stat.to_string(), d.clone(), k.clone()),
                Expected {
                    value,
                    n,
                    missing: 0,
                },
            );
        };
        let business: Vec<i64> = ts
            .iter()
            .filter(|t| in_period(t.resolved))
            .map(|t| {
                let pauses = pause_intervals(t, as_of);
                open_segments(clock_of(t), t.created, t.resolved.unwrap(), &pauses)
                    .iter()
                    .map(|(s, e)| micros(*e - *s))
                    .sum()
            })
            .collect();
        let n = business.len() as u64;
        let mut hours: Vec<f64> = business.iter().map(|us| *us as f64 / 3.6e9).collect();
        hours.sort_by(f64::total_cmp);
        let mean = (n > 0)
            .then(|| business.iter().map(|v| *v as i128).sum::<i128>() as f64 / n as f64 / 3.6e9);
        put("mttr_business_hours", "mean", mean, n);
        put("mttr_business_hours", "median", quantile(&hours, 0.5), n);
        put("mttr_business_hours", "p90", quantile(&hours, 0.9), n);
    }
    // SLA KPIs: only tickets whose priority has a target, and their keys.
    let mut sla_groups: BTreeMap<(String, String), Vec<&Ticket>> = BTreeMap::new();
    for t in known.iter().filter(|t| {
        t.priority
            .as_deref()
            .is_some_and(|p| targets.contains_key(p))
    }) {
        for k in keys(t) {
            sla_groups.entry(k).or_default().push(t);
        }
    }
    for ((d, k), ts) in &sla_groups {
        let (mut decided, mut met, mut breached_open) = (0u64, 0u64, 0u64);
        for t in ts {
            let (target_hours, _) = targets[t.priority.as_deref().unwrap()];
            let pauses = pause_intervals(t, as_of);
            // The breach instant: walk open time from creation until the target is used up,
            // on a horizon far past as_of.
            let mut remaining = target_hours * 3_600_000_000;
            let mut breach = None;
            for (s, e) in open_segments(
                clock_of(t),
                t.created,
                as_of + chrono::Duration::days(800),
                &pauses,
            ) {
                let len = micros(e - s);
                if len >= remaining {
                    breach = Some(s + chrono::Duration::microseconds(remaining));
                    break;
                }
                remaining -= len;
            }
            let stop = t.resolved.or(t.closed);
            let (state, decided_at) = match (stop, breach) {
                (Some(s), Some(b)) if s <= b => ("met", Some(s)),
                (Some(s), None) => ("met", Some(s)),
                (_, Some(b)) if b <= as_of => ("breached", Some(b)),
                _ => ("running", None),
            };
            if in_period(decided_at) {
                decided += 1;
                if state == "met" {
                    met += 1;
                }
            }
            if state == "breached" && stop.is_none() {
                breached_open += 1;
            }
        }
        let pct = (decided > 0).then(|| 100.0 * met as f64 / decided as f64);
        out.insert(
            (
                "sla_resolution_met_pct".to_string(),
                "value".to_string(),
                d.clone(),
                k.clone(),
            ),
            Expected {
                value: pct,
                n: decided,
                missing: 0,
            },
        );
        out.insert(
            (
                "sla_breached_open".to_string(),
                "value".to_string(),
                d.clone(),
                k.clone(),
            ),
            Expected {
                value: Some(breached_open as f64),
                n: breached_open,
                missing: 0,
            },
        );
    }
    out
}
