//! The report's reconciliation section: deskpulse's durations and SLA verdicts beside the ones
//! the help desk computed itself (ServiceNow `calendar_stc`/`business_stc`/`made_sla`, Zendesk's
//! ticket metrics and Explore's time brackets, Freshservice's `stats`, the Freshworks CSV hour
//! columns, GLPI's and Jira's figures), ticket by ticket.
//! Disagreement is information: docs/reconciliation.md gives the reasons a gap is systematic.

use std::collections::BTreeMap;

use serde::Serialize;

use super::format;
use crate::ingest::InputReport;
use crate::pipeline::RunResult;
use crate::table::{column_bool, column_f64, column_strings};

/// Two durations agree when they differ by at most this many minutes.
const TOLERANCE_MINUTES: f64 = 1.0;
/// Tickets listed per measure, the largest gaps first.
const LISTED: usize = 5;

#[derive(Debug, Serialize)]
pub struct Measure {
    pub name: String,
    /// Tickets with both values.
    pub n: u64,
    /// Share of them within one minute (durations), with the same verdict, or inside the help
    /// desk's bracket.
    pub agree: String,
    /// What `agree` is the share of, as the report words it.
    pub agreement: String,
    /// Median of deskpulse − help desk, in minutes; empty for verdicts.
    pub median_gap: String,
    pub gaps: Vec<Gap>,
}

#[derive(Debug, Serialize)]
pub struct Gap {
    pub source: String,
    pub id: String,
    pub ours: String,
    pub theirs: String,
    pub gap: String,
    /// The command that explains both values (filled in by the view).
    pub explain: String,
}

#[derive(Debug, Serialize)]
pub struct Reconciliation {
    pub measures: Vec<Measure>,
    /// What could have been compared and was not, and why.
    pub notes: Vec<String>,
}

struct Pair {
    source: String,
    id: String,
    ours: f64,
    theirs: f64,
}

/// A ticket the help desk gave a figure for, from the `reconciliation_durations` table.
struct Compared {
    measure: String,
    pair: Option<Pair>,
    comparable: bool,
}

/// The section, or `None` when no export carries values of the help desk's own.
pub fn build(result: &RunResult) -> Option<Reconciliation> {
    let compared = compared(result);
    let pairs = |measure: &str| -> Vec<&Pair> {
        compared
            .iter()
            .filter(|c| c.measure == measure && c.comparable)
            .filter_map(|c| c.pair.as_ref())
            .collect()
    };
    let mut measures = Vec::new();
    let mut notes = Vec::new();
    measures.extend(durations(
        "Time to resolve (calendar)",
        pairs("resolve_calendar"),
    ));
    let business = pairs("resolve_business");
    if business.is_empty() && compared.iter().any(|c| c.measure == "resolve_business") {
        let configured = match &result.config.path {
            Some(path) => format!(
                "in {}",
                path.file_name().unwrap_or_default().to_string_lossy()
            ),
            None => "(this run had no configuration file)".to_string(),
        };
        notes.push(format!(
            "The exports carry the help desk's business resolution times, but no ticket has a \
             business calendar {configured}: [calendars] and [sla] calendar; nothing to compare \
             them with"
        ));
    }
    measures.extend(durations("Time to resolve (business)", business));
    for s in InputReport::sources_where(&result.inputs, |i| i.first_response_derived) {
        notes.push(format!(
            "{s}: the first response is taken from the help desk's own reply time (the export \
             has no first-reply instant), so it is not compared with itself"
        ));
    }
    for s in InputReport::sources_where(&result.inputs, |i| i.first_response_business_only) {
        notes.push(format!(
            "{s}: the export gives the first reply only in business minutes, on the help desk's \
             own schedule. The business first response is that figure, not compared with \
             itself; the calendar first response and the response SLA are not measured"
        ));
    }
    measures.extend(durations(
        "First response (calendar)",
        pairs("first_response"),
    ));
    measures.extend(durations(
        "Time to close (calendar)",
        pairs("close_calendar"),
    ));
    for s in InputReport::sources_where(&result.inputs, |i| i.close_derived) {
        notes.push(format!(
            "{s}: the close time is taken from the help desk's own time to close (the export \
             has no close column), so it is not compared with itself"
        ));
    }
    measures.extend(verdicts(result));
    measures.extend(brackets(result));
    if measures.is_empty() && notes.is_empty() {
        return None;
    }
    Some(Reconciliation { measures, notes })
}

fn compared(result: &RunResult) -> Vec<Compared> {
    let mut out = Vec::new();
    for batch in result.tables.get("reconciliation_durations") {
        let text = |c: &str| column_strings(batch, c).unwrap_or_default();
        let (measures, sources, ids) = (text("measure"), text("source"), text("id"));
        let comparable = column_bool(batch, "comparable").unwrap_or_default();
        let ours = column_f64(batch, "ours").unwrap_or_default();
        let theirs = column_f64(batch, "theirs").unwrap_or_default();
        for i in 0..batch.num_rows() {
            let pair = match (ours[i], theirs[i]) {
                (Some(ours), Some(theirs)) => Some(Pair {
                    source: sources[i].clone().unwrap_or_default(),
                    id: ids[i].clone().unwrap_or_default(),
                    ours,
                    theirs,
                }),
                _ => None,
            };
            out.push(Compared {
                measure: measures[i].clone().unwrap_or_default(),
                pair,
                comparable: comparable[i] == Some(true),
            });
        }
    }
    out
}

fn durations(name: &str, pairs: Vec<&Pair>) -> Option<Measure> {
    if pairs.is_empty() {
        return None;
    }
    let n = pairs.len();
    let within = pairs
        .iter()
        .filter(|p| (p.ours - p.theirs).abs() <= TOLERANCE_MINUTES)
        .count();
    let mut diffs: Vec<f64> = pairs.iter().map(|p| p.ours - p.theirs).collect();
    diffs.sort_by(f64::total_cmp);
    let median = if n % 2 == 1 {
        diffs[n / 2]
    } else {
        (diffs[n / 2 - 1] + diffs[n / 2]) / 2.0
    };
    let mut apart: Vec<&Pair> = pairs
        .into_iter()
        .filter(|p| (p.ours - p.theirs).abs() > TOLERANCE_MINUTES)
        .collect();
    apart.sort_by(|a, b| {
        (b.ours - b.theirs)
            .abs()
            .total_cmp(&(a.ours - a.theirs).abs())
            .then_with(|| (&a.source, &a.id).cmp(&(&b.source, &b.id)))
    });
    Some(Measure {
        name: name.to_string(),
        n: n as u64,
        agree: share(within, n),
        agreement: format!("within one minute, median gap {}", minutes(median)),
        median_gap: minutes(median),
        gaps: apart
            .into_iter()
            .take(LISTED)
            .map(|p| Gap {
                source: p.source.clone(),
                id: p.id.clone(),
                ours: minutes(p.ours),
                theirs: minutes(p.theirs),
                gap: minutes(p.ours - p.theirs),
                explain: String::new(),
            })
            .collect(),
    })
}

/// deskpulse's SLA verdicts beside the help desk's (`made_sla`, "Resolution status", Jira's
/// time left), resolution then first response: the `reconciliation_verdicts` table.
fn verdicts(result: &RunResult) -> Vec<Measure> {
    let mut rows: BTreeMap<String, Vec<[String; 4]>> = BTreeMap::new();
    for batch in result.tables.get("reconciliation_verdicts") {
        let cols = ["measure", "source", "id", "ours", "theirs"].map(|c| column_strings(batch, c));
        let [Ok(m), Ok(s), Ok(i), Ok(o), Ok(t)] = cols else {
            continue;
        };
        for ((((m, s), i), o), t) in m.into_iter().zip(s).zip(i).zip(o).zip(t) {
            let row = [s, i, o, t].map(Option::unwrap_or_default);
            rows.entry(m.unwrap_or_default()).or_default().push(row);
        }
    }
    rows.into_iter()
        .map(|(measure, rows)| verdict_measure(&measure, rows))
        .collect()
}

fn verdict_measure(measure: &str, rows: Vec<[String; 4]>) -> Measure {
    let n = rows.len();
    let same = rows.iter().filter(|[_, _, o, t]| o == t).count();
    let name = match measure {
        "response" => "Response SLA verdict",
        _ => "Resolution SLA verdict",
    };
    Measure {
        name: name.to_string(),
        n: n as u64,
        agree: share(same, n),
        agreement: "the same verdict".to_string(),
        median_gap: String::new(),
        gaps: rows
            .into_iter()
            .filter(|[_, _, o, t]| o != t)
            .take(LISTED)
            .map(|[source, id, ours, theirs]| Gap {
                source,
                id,
                ours,
                theirs,
                gap: String::new(),
                explain: String::new(),
            })
            .collect(),
    }
}

/// One ticket's duration beside the bracket the help desk gave it.
struct Bracketed {
    source: String,
    id: String,
    ours: f64,
    bracket: String,
    inside: bool,
}

/// deskpulse's durations against the help desk's time brackets (Zendesk Explore's `0-1 hrs`):
/// the `reconciliation_brackets` table.
fn brackets(result: &RunResult) -> Vec<Measure> {
    let mut rows: BTreeMap<String, Vec<Bracketed>> = BTreeMap::new();
    for batch in result.tables.get("reconciliation_brackets") {
        let text = |c: &str| column_strings(batch, c).unwrap_or_default();
        let (measures, sources, ids, written) =
            (text("measure"), text("source"), text("id"), text("bracket"));
        let ours = column_f64(batch, "ours").unwrap_or_default();
        let inside = column_bool(batch, "inside").unwrap_or_default();
        for i in 0..batch.num_rows() {
            let (Some(ours), Some(inside)) = (ours[i], inside[i]) else {
                continue;
            };
            let row = Bracketed {
                source: sources[i].clone().unwrap_or_default(),
                id: ids[i].clone().unwrap_or_default(),
                ours,
                bracket: written[i].clone().unwrap_or_default(),
                inside,
            };
            let measure = measures[i].clone().unwrap_or_default();
            rows.entry(measure).or_default().push(row);
        }
    }
    rows.into_iter()
        .map(|(measure, rows)| bracket_measure(&measure, rows))
        .collect()
}

fn bracket_measure(measure: &str, rows: Vec<Bracketed>) -> Measure {
    let n = rows.len();
    let inside = rows.iter().filter(|r| r.inside).count();
    let name = match measure {
        "first_response" => "First reply time bracket",
        _ => "Full resolution time bracket",
    };
    Measure {
        name: name.to_string(),
        n: n as u64,
        agree: share(inside, n),
        agreement: "inside the help desk's bracket".to_string(),
        median_gap: String::new(),
        gaps: rows
            .into_iter()
            .filter(|r| !r.inside)
            .take(LISTED)
            .map(|r| Gap {
                source: r.source,
                id: r.id,
                ours: minutes(r.ours),
                theirs: r.bracket.trim().to_string(),
                gap: String::new(),
                explain: String::new(),
            })
            .collect(),
    }
}

fn share(part: usize, whole: usize) -> String {
    format::value(Some(100.0 * part as f64 / whole as f64), "percent")
}

/// Minutes as people compare them: whole above ten, one decimal below.
fn minutes(v: f64) -> String {
    let shown = if v.abs() >= 10.0 {
        format::thousands(v.round() as i64)
    } else {
        format!("{v:.1}")
    };
    format!("{shown} min")
}
