//! The report's reconciliation section: deskpulse's durations and SLA verdicts beside the ones
//! the help desk computed itself (ServiceNow `calendar_stc`/`business_stc`/`made_sla`, Zendesk's
//! ticket metrics, Freshservice's `stats`, the Freshworks CSV hour columns), ticket by ticket.
//! Disagreement is information: docs/reconciliation.md gives the reasons a gap is systematic.

use std::collections::BTreeSet;

use serde::Serialize;

use super::format;
use crate::engine::{EngineError, column_f64, column_strings, sql_list, sql_within};
use crate::ledger::calendar_is_always_open;
use crate::pipeline::RunResult;

/// Two durations agree when they differ by at most this many minutes.
const TOLERANCE_MINUTES: f64 = 1.0;
/// Tickets listed per measure, the largest gaps first.
const LISTED: usize = 5;

#[derive(Debug, Serialize)]
pub struct Measure {
    pub name: String,
    /// Tickets with both values.
    pub n: u64,
    /// Share of them within one minute (durations) or with the same verdict.
    pub agree: String,
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

/// The section, or `None` when no export carries values of the help desk's own.
pub fn build(result: &RunResult) -> Result<Option<Reconciliation>, EngineError> {
    let (start, end) = (result.period.start, result.period.end);
    let resolved = format!(
        "NOT is_cancelled AND {}",
        sql_within("resolved_at", start, end)
    );
    let created = format!(
        "NOT is_cancelled AND {}",
        sql_within("created_at", start, end)
    );
    let mut measures = Vec::new();
    let mut notes = Vec::new();

    let calendar = pairs(
        result,
        "resolve_us / 60e6",
        "reported_resolve_minutes",
        &resolved,
    )?;
    measures.extend(durations("Time to resolve (calendar)", calendar));

    let business_calendars: Vec<String> = if exported(result, "reported_resolve_business_minutes")?
    {
        result
            .engine
            .query("SELECT DISTINCT calendar FROM ledger WHERE calendar IS NOT NULL")?
    } else {
        Vec::new()
    }
    .iter()
    .flat_map(|b| column_strings(b, "calendar").unwrap_or_default())
    .flatten()
    .filter(|c| !calendar_is_always_open(&result.config, c))
    .collect();
    let on_business = if business_calendars.is_empty() {
        "false".to_string()
    } else {
        format!("calendar IN ({})", sql_list(&business_calendars))
    };
    let business = pairs(
        result,
        "resolve_business_us / 60e6",
        "reported_resolve_business_minutes",
        &format!("{resolved} AND {on_business}"),
    )?;
    if business.is_empty() && in_cohort(result, "reported_resolve_business_minutes", &resolved)? {
        notes.push(
            "The exports carry the help desk's business resolution times, but no ticket has a \
             business calendar in deskpulse.toml ([calendars] and [sla] calendar): nothing to \
             compare them with"
                .to_string(),
        );
    }
    measures.extend(durations("Time to resolve (business)", business));

    let derived: Vec<String> = result
        .inputs
        .iter()
        .filter(|i| i.first_response_derived)
        .map(|i| i.source.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let own_response = if derived.is_empty() {
        created.clone()
    } else {
        for s in &derived {
            notes.push(format!(
                "{s}: the first response is taken from the help desk's own reply time (the export \
                 has no first-reply instant), so it is not compared with itself"
            ));
        }
        format!("{created} AND source NOT IN ({})", sql_list(&derived))
    };
    let response = pairs(
        result,
        "first_response_us / 60e6",
        "reported_first_response_minutes",
        &own_response,
    )?;
    measures.extend(durations("First response (calendar)", response));

    measures.extend(verdicts(result, &resolved)?);

    if measures.is_empty() && notes.is_empty() {
        return Ok(None);
    }
    Ok(Some(Reconciliation { measures, notes }))
}

fn pairs(
    result: &RunResult,
    ours: &str,
    theirs: &str,
    cohort: &str,
) -> Result<Vec<Pair>, EngineError> {
    if !exported(result, theirs)? {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT source, id, ours, theirs FROM (
             SELECT source, id, ({ours})::DOUBLE AS ours, ({theirs})::DOUBLE AS theirs
             FROM ledger WHERE {cohort})
         WHERE ours IS NOT NULL AND theirs IS NOT NULL
         ORDER BY source, id"
    );
    let mut out = Vec::new();
    for batch in result.engine.query(&sql)? {
        let sources = column_strings(&batch, "source").unwrap_or_default();
        let ids = column_strings(&batch, "id").unwrap_or_default();
        let ours = column_f64(&batch, "ours").unwrap_or_default();
        let theirs = column_f64(&batch, "theirs").unwrap_or_default();
        for (((s, id), o), t) in sources.into_iter().zip(ids).zip(ours).zip(theirs) {
            if let (Some(ours), Some(theirs)) = (o, t) {
                out.push(Pair {
                    source: s.unwrap_or_default(),
                    id: id.unwrap_or_default(),
                    ours,
                    theirs,
                });
            }
        }
    }
    Ok(out)
}

/// Whether the exports hold a value in a ticket column the ledger passes on, known before the
/// tickets were stored: a comparison with nothing to compare is not queried. A ledger of the
/// user's own may compute the column from others, so there it is always queried.
fn exported(result: &RunResult, column: &str) -> Result<bool, EngineError> {
    if result.catalogue.ledger.origin != "built-in" {
        return Ok(true);
    }
    result.engine.has_values(column)
}

/// Whether a ticket of the cohort has a value in the column.
fn in_cohort(result: &RunResult, column: &str, cohort: &str) -> Result<bool, EngineError> {
    if !exported(result, column)? {
        return Ok(false);
    }
    let sql =
        format!("SELECT count(*)::DOUBLE AS n FROM ledger WHERE {cohort} AND {column} IS NOT NULL");
    let batches = result.engine.query(&sql)?;
    Ok(batches
        .first()
        .and_then(|b| column_f64(b, "n").ok())
        .and_then(|v| v.first().copied().flatten())
        .is_some_and(|n| n > 0.0))
}

fn durations(name: &str, pairs: Vec<Pair>) -> Option<Measure> {
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
        .iter()
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
            })
            .collect(),
    })
}

/// deskpulse's resolution SLA verdict beside the help desk's (`made_sla`, "Resolution status").
fn verdicts(result: &RunResult, resolved: &str) -> Result<Option<Measure>, EngineError> {
    if !exported(result, "source_sla_met")? || !exported(result, "sla_resolution_state")? {
        return Ok(None);
    }
    let sql = format!(
        "SELECT source, id, sla_resolution_state AS ours,
                CASE WHEN source_sla_met THEN 'met' ELSE 'breached' END AS theirs
         FROM ledger
         WHERE {resolved} AND sla_resolution_state IN ('met', 'breached')
           AND source_sla_met IS NOT NULL
         ORDER BY source, id"
    );
    let mut rows = Vec::new();
    for batch in result.engine.query(&sql)? {
        let cols = ["source", "id", "ours", "theirs"].map(|c| column_strings(&batch, c));
        let [Ok(s), Ok(i), Ok(o), Ok(t)] = cols else {
            continue;
        };
        for (((s, i), o), t) in s.into_iter().zip(i).zip(o).zip(t) {
            rows.push([s, i, o, t].map(Option::unwrap_or_default));
        }
    }
    if rows.is_empty() {
        return Ok(None);
    }
    let n = rows.len();
    let same = rows.iter().filter(|[_, _, o, t]| o == t).count();
    Ok(Some(Measure {
        name: "Resolution SLA verdict".to_string(),
        n: n as u64,
        agree: share(same, n),
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
            })
            .collect(),
    }))
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
