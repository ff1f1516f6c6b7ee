//! The report's view model: what the templates show, already ordered and formatted, so that a
//! template only lays things out.

use std::collections::BTreeMap;

use serde::Serialize;

use super::explain::ExplainCommand;
use super::format;
use crate::ingest::InputReport;
use crate::kpi::KpiRow;
use crate::model::NONE_KEY;
use crate::pipeline::RunResult;
use crate::quality::{NotMeasured, Quality};
use crate::queries::KpiMeta;
use crate::what_changed::WhatChanged;

/// Keys a KPI's breakdown lists by name, the largest first; `kpis.json` has every key.
pub const SHOWN_KEYS: usize = 10;

/// The key of the row that holds a breakdown's keys past the [`SHOWN_KEYS`] largest.
pub const OTHERS_KEY: &str = "(others)";

#[derive(Debug, Serialize)]
pub struct ReportView {
    pub title: String,
    pub tool: &'static str,
    pub version: &'static str,
    pub period: PeriodView,
    pub as_of: String,
    pub period_note: Option<String>,
    pub empty_period_note: Option<String>,
    pub inputs: Vec<InputReport>,
    pub headline: Vec<Card>,
    pub sections: Vec<KpiSection>,
    pub quality: Quality,
    /// See [`crate::config::ReportSettings::min_tickets`].
    pub min_tickets: u64,
    /// Whether some headline card has a target.
    pub targets: bool,
    /// Sentences generated from the numbers: the volume, what moved, what missed its target.
    pub summary: Vec<String>,
    /// `[report] commentary`, in paragraphs.
    pub commentary: Vec<String>,
    pub definitions: Vec<Definition>,
    pub sla: Option<super::sla::SlaView>,
    pub reconciliation: Option<super::reconciliation::Reconciliation>,
    /// The period's service tickets by `[report] breakdowns`.
    pub breakdowns: Vec<super::breakdowns::Breakdown>,
    pub sources: Vec<super::sources::SourceCount>,
    /// Tickets created and resolved per month, the twelve months up to the period's end.
    pub trend: Vec<super::trend::TrendRow>,
    pub charts: Charts,
    /// The period the changes are measured against.
    pub previous: Option<String>,
    /// "What changed": the figures that moved and why, the volume, the problem candidates.
    pub changes: Option<super::changes::ChangesView>,
    /// In a published site, the links to the site's index and the neighbouring periods
    /// (HTML, see `publish::site_nav`).
    pub site_nav: Option<String>,
    /// Where the previous period's figures come from (`measured from the same exports`).
    pub previous_origin: Option<String>,
    /// The open backlog by age, in the buckets' natural order.
    pub aging: Vec<AgeRow>,
    /// Incidents resolved in the period by band of time to resolve.
    pub resolve_bands: Vec<super::distribution::Band>,
    pub currency: String,
}

#[derive(Debug, Serialize)]
pub struct AgeRow {
    pub bucket: String,
    pub open: u64,
}

fn aging(rows: &[KpiRow]) -> Vec<AgeRow> {
    crate::model::AGE_BUCKETS
        .iter()
        .filter_map(|b| {
            rows.iter()
                .find(|r| r.kpi == "backlog_age_days" && r.dimension == "age_bucket" && r.key == *b)
                .map(|r| AgeRow {
                    bucket: format!("{b} days"),
                    open: r.n,
                })
        })
        .collect()
}

#[derive(Debug, Serialize)]
pub struct PeriodView {
    pub label: String,
    pub start: String,
    pub end: String,
    pub timezone: String,
}

#[derive(Debug, Serialize)]
pub struct Card {
    pub kpi: String,
    pub title: String,
    pub value: String,
    pub detail: String,
    pub n: u64,
    pub missing: u64,
    /// The change against the previous period, in the KPI's unit (`+2.3 h`, `-1.5 pts`).
    pub delta: Option<String>,
    /// Whether "What changed" explains the change (it moved beyond `[what_changed]`).
    pub moved: bool,
    /// `better`, `worse` or `same`, by the KPI's direction; `neutral` for volumes. None for a
    /// small number, whose change says more about chance than about the help desk.
    pub trend: Option<&'static str>,
    /// A duration or a percentage resting on fewer than `[report] min_tickets` tickets.
    pub small: bool,
    /// The KPI's `[thresholds]` limit for all tickets, and how the period stands against it.
    pub target: Option<Target>,
}

#[derive(Debug, Serialize)]
pub struct Target {
    /// `≤ 48.0 h`, `≥ 60.0 %`, `between 1 and 5`; with the stat when it is not the card's.
    pub limit: String,
    /// `met`, `at risk` (met by less than a tenth of the limit), `missed` or `no value`.
    pub status: &'static str,
}

#[derive(Debug, Serialize, Default)]
pub struct Charts {
    pub trend: super::trend::TrendCharts,
    pub mttr: Option<String>,
    pub sla: Option<String>,
    pub breaches: Option<String>,
    pub aging: Option<String>,
    pub resolve_bands: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct KpiSection {
    pub kpi: String,
    pub title: String,
    pub unit: String,
    pub stats: Vec<String>,
    /// Whether the tables show `n` (a count is its own n).
    pub show_n: bool,
    pub breakdowns: Vec<Breakdown>,
}

#[derive(Debug, Serialize)]
pub struct Breakdown {
    pub dimension: String,
    pub label: String,
    pub rows: Vec<BreakdownRow>,
}

#[derive(Debug, Serialize)]
pub struct BreakdownRow {
    pub key: String,
    /// How many keys the row holds: more than one only for [`OTHERS_KEY`].
    pub keys: usize,
    pub values: Vec<String>,
    pub n: u64,
    pub missing: u64,
}

#[derive(Debug, Serialize)]
pub struct Definition {
    pub kpi: String,
    pub title: String,
    pub definition: String,
}

/// The stats a KPI reports, in the order the report shows them.
/// A ticket column's name as a heading: `assignment_group` is "Assignment group".
pub(crate) fn column_label(column: &str) -> String {
    match column {
        "ci" => "Configuration item".to_string(),
        other => {
            let text = other.replace('_', " ");
            let mut chars = text.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        }
    }
}

/// KPIs in the order the catalogue asks for (then by id).
pub fn ordered_kpis(kpis: &[KpiRow], catalogue: &BTreeMap<String, KpiMeta>) -> Vec<String> {
    let mut ids: Vec<String> = kpis.iter().map(|r| r.kpi.clone()).collect();
    ids.sort();
    ids.dedup();
    ids.sort_by_key(|id| (catalogue.get(id).map_or(i32::MAX, |m| m.order), id.clone()));
    ids
}

/// A value in its unit, with the currency for money.
pub(crate) fn shown(v: Option<f64>, unit: &str, currency: &str) -> String {
    let text = format::readable(v, unit);
    format::on_page(&if unit == "currency" && v.is_some() {
        format!("{text} {currency}")
    } else {
        text
    })
}

/// The change of a value against the previous period, and whether it is better or worse.
pub(crate) fn delta(
    now: Option<f64>,
    before: Option<f64>,
    unit: &str,
    direction: &crate::queries::Direction,
    currency: &str,
) -> (Option<String>, Option<&'static str>) {
    let (Some(now), Some(before)) = (now, before) else {
        return (None, None);
    };
    let d = now - before;
    let text = match unit {
        "percent" => format::on_page(&format!("{:+.1} pts", d)),
        "count" => {
            let n = d.round() as i64;
            let sign = if n < 0 { "-" } else { "+" };
            format::on_page(&format!("{sign}{}", format::thousands(n.abs())))
        }
        _ => {
            let shown = shown(Some(d.abs()), unit, currency);
            format!("{}{shown}", if d < 0.0 { "\u{2212}" } else { "+" })
        }
    };
    let trend = if d.abs() < 1e-9 {
        "same"
    } else {
        match (direction, d > 0.0) {
            (crate::queries::Direction::Neutral, _) => "neutral",
            (crate::queries::Direction::Higher, true)
            | (crate::queries::Direction::Lower, false) => "better",
            _ => "worse",
        }
    };
    (Some(text), Some(trend))
}

/// The view of a run the templates render; `changes` compares it with the previous period.
pub fn build(
    result: &RunResult,
    changes: Option<&WhatChanged>,
    explain: &ExplainCommand,
) -> ReportView {
    let previous = changes.and_then(|c| c.previous.as_ref());
    let currency = result.config.report.currency.as_str();
    let tz = result.period.timezone;
    let mut quality = result.quality.clone();
    let kpis = kpi_views(result, changes, &mut quality);
    let bands = super::distribution::build(result);
    let targets = kpis.headline.iter().any(|c| c.target.is_some());
    let summary = summary(
        result,
        &kpis.headline,
        previous.map(|p| p.period.label.as_str()),
    );
    let trend = super::trend::build(result);
    let first_month = trend.first().map(|t| t.month.as_str());
    ReportView {
        targets,
        summary,
        commentary: commentary(result),
        sla: super::sla::build(result, first_month).map(|mut sla| {
            for o in &mut sla.open {
                o.explain = explain.for_ticket(&o.id);
            }
            for o in &mut sla.resolved {
                o.explain = explain.for_ticket(&o.id);
            }
            sla
        }),
        reconciliation: super::reconciliation::build(result).map(|mut r| {
            for g in r.measures.iter_mut().flat_map(|m| &mut m.gaps) {
                g.explain = explain.for_ticket(&g.id);
            }
            r
        }),
        breakdowns: super::breakdowns::build(result),
        sources: super::sources::build(result),
        charts: Charts {
            resolve_bands: bands.as_ref().map(|(_, chart)| chart.clone()),
            trend: super::trend::charts(&trend),
            ..charts(result, currency)
        },
        resolve_bands: bands.map(|(b, _)| b).unwrap_or_default(),
        previous: previous.map(|p| p.period.label.clone()),
        changes: changes.map(|c| super::changes::build(result, c)),
        previous_origin: previous.map(|p| p.origin.clone()),
        site_nav: None,
        trend,
        aging: aging(&result.kpis),
        currency: result.config.report.currency.clone(),
        title: result.config.report.title.clone(),
        tool: "deskpulse",
        version: env!("CARGO_PKG_VERSION"),
        period: PeriodView {
            label: result.period.label(),
            start: format::local_time(result.period.start, tz),
            end: format::local_time(result.period.end, tz),
            timezone: tz.name().to_string(),
        },
        as_of: format::local_time(result.as_of, tz),
        period_note: result.period_note.clone(),
        empty_period_note: result.empty_period_note.clone(),
        inputs: result.inputs.clone(),
        headline: kpis.headline,
        sections: kpis.sections,
        quality,
        min_tickets: result.config.report.min_tickets,
        definitions: kpis.definitions,
    }
}

/// The configuration's commentary, a paragraph at a time.
fn commentary(result: &RunResult) -> Vec<String> {
    result
        .config
        .report
        .commentary
        .iter()
        .flat_map(|(_, text)| text.split("\n\n"))
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

/// The KPIs as the report shows them, in catalogue order.
struct KpiViews {
    headline: Vec<Card>,
    sections: Vec<KpiSection>,
    definitions: Vec<Definition>,
}

/// A card for each KPI with a figure for all tickets, a section and a definition for each; a
/// figure nothing was measured for goes under the quality section's "Not measured" instead of
/// on a card.
fn kpi_views(result: &RunResult, changes: Option<&WhatChanged>, quality: &mut Quality) -> KpiViews {
    let metas = &result.catalogue.kpis;
    let mut by_kpi: BTreeMap<&str, Vec<&KpiRow>> = BTreeMap::new();
    for r in &result.kpis {
        by_kpi.entry(r.kpi.as_str()).or_default().push(r);
    }
    let mut views = KpiViews {
        headline: Vec::new(),
        sections: Vec::new(),
        definitions: Vec::new(),
    };
    for id in ordered_kpis(&result.kpis, metas) {
        let meta = metas.get(&id).cloned().unwrap_or_else(|| KpiMeta {
            title: id.to_string(),
            unit: String::new(),
            direction: crate::queries::Direction::Neutral,
            definition: String::new(),
            needs: None,
            order: i32::MAX,
        });
        let rows = &by_kpi[id.as_str()];
        let stats = crate::kpi::stats_of(rows);
        match headline_card(result, changes, &id, &meta, rows, &stats) {
            Some(Ok(card)) => views.headline.push(card),
            Some(Err(unmeasured)) => quality.not_measured.push(unmeasured),
            None => {}
        }
        let currency = result.config.report.currency.as_str();
        views.sections.push(KpiSection {
            kpi: id.clone(),
            title: meta.title.clone(),
            unit: meta.unit.clone(),
            show_n: meta.unit != "count",
            breakdowns: breakdowns(rows, &stats, &meta.unit, currency),
            stats,
        });
        views.definitions.push(Definition {
            kpi: id.clone(),
            title: meta.title.clone(),
            definition: meta.definition.clone(),
        });
    }
    views
}

/// A KPI's headline card, from its row for all tickets of its main statistic (none without
/// one), with the change against the previous period and the threshold; or why nothing was
/// measured.
fn headline_card(
    result: &RunResult,
    changes: Option<&WhatChanged>,
    id: &str,
    meta: &KpiMeta,
    rows: &[&KpiRow],
    stats: &[String],
) -> Option<Result<Card, NotMeasured>> {
    let currency = result.config.report.currency.as_str();
    let all = |stat: &str| rows.iter().find(|r| r.is_all() && r.stat == stat).copied();
    let main_stat = crate::kpi::headline_stat(stats).unwrap_or_default();
    let main = all(main_stat)?;
    if let Some(unmeasured) = nothing_measured(id, meta, main) {
        return Some(Err(unmeasured));
    }
    let mean_p90 = (
        all("mean").and_then(|r| r.value),
        all("p90").and_then(|r| r.value),
    );
    let previous = changes
        .and_then(|c| c.previous.as_ref())
        .and_then(|p| p.value(id, main_stat, "all", "all"));
    let mut card = card(id, meta, main, main_stat, mean_p90, previous, currency);
    card.moved = changes.is_some_and(|c| c.moves.iter().any(|m| m.kpi == id));
    card.target = result
        .config
        .thresholds
        .get(id)
        .filter(|t| t.dimension == "all")
        .map(|t| {
            let value = all(&t.stat).and_then(|r| r.value);
            target(t, &value, main_stat, &meta.unit, currency)
        });
    if is_statistic(meta) && main.n < result.config.report.min_tickets {
        card.small = true;
        card.trend = None;
    }
    Some(Ok(card))
}

/// A duration or a percentage: a figure that rests on a sample of tickets, where a count or
/// an amount is exact however few tickets it has.
fn is_statistic(meta: &KpiMeta) -> bool {
    matches!(
        meta.unit.as_str(),
        "hours" | "business_hours" | "days" | "percent"
    )
}

/// A figure other than a count with no ticket to measure this period goes under "Not
/// measured" with the reason, rather than on a card as "—, 0 of 0".
fn nothing_measured(id: &str, meta: &KpiMeta, main: &KpiRow) -> Option<NotMeasured> {
    if meta.unit == "count" || main.value.is_some() || main.n > 0 {
        return None;
    }
    let reason = match main.missing {
        0 => "no ticket in its cohort this period".to_string(),
        m => format!(
            "none of its {} tickets this period could be measured",
            format::thousands(m as i64)
        ),
    };
    Some(NotMeasured {
        kpi: id.to_string(),
        title: meta.title.clone(),
        reason,
    })
}

/// The headline card of a KPI: its main stat for all tickets, and its change.
fn card(
    id: &str,
    meta: &KpiMeta,
    main: &KpiRow,
    main_stat: &str,
    (mean, p90): (Option<f64>, Option<f64>),
    previous: Option<f64>,
    currency: &str,
) -> Card {
    let detail = if main_stat == "median" {
        format!(
            "median · mean {} · p90 {} · n = {}",
            shown(mean, &meta.unit, currency),
            shown(p90, &meta.unit, currency),
            format::thousands(main.n as i64)
        )
    } else if let (Some(num), Some(den), "percent") =
        (main.numerator, main.denominator, meta.unit.as_str())
    {
        format!(
            "{} of {}",
            format::thousands(num as i64),
            format::thousands(den as i64)
        )
    } else {
        String::new()
    };
    let (delta, trend) = delta(main.value, previous, &meta.unit, &meta.direction, currency);
    Card {
        delta,
        trend,
        kpi: id.to_string(),
        title: meta.title.clone(),
        value: shown(main.value, &meta.unit, currency),
        detail,
        n: main.n,
        missing: main.missing,
        small: false,
        target: None,
        moved: false,
    }
}

/// The summary at the top of the report, from the numbers alone.
fn summary(result: &RunResult, headline: &[Card], previous: Option<&str>) -> Vec<String> {
    let total = |kpi: &str| {
        crate::kpi::find(&result.kpis, kpi, "value", "all", "all")
            .and_then(|r| r.value)
            .map(|v| format::thousands(v.round() as i64))
    };
    let mut out = Vec::new();
    if let (Some(created), Some(resolved)) = (total("tickets_created"), total("tickets_resolved")) {
        let open = total("backlog_open")
            .map(|b| format!("; {b} were open at its end"))
            .unwrap_or_default();
        out.push(format!(
            "In {}, {created} tickets were created and {resolved} resolved{open}.",
            result.period.label()
        ));
    }
    let moved = |trend: &str| -> Vec<String> {
        headline
            .iter()
            .filter(|c| c.trend == Some(trend))
            .filter_map(|c| c.delta.as_ref().map(|d| format!("{} {d}", c.title)))
            .collect()
    };
    if let Some(previous) = previous {
        for (trend, word) in [("better", "improved"), ("worse", "worsened")] {
            let list = moved(trend);
            if !list.is_empty() {
                out.push(format!("Against {previous}, {word}: {}.", list.join(", ")));
            }
        }
    }
    let judged: Vec<(&Card, &Target)> = headline
        .iter()
        .filter_map(|c| c.target.as_ref().map(|t| (c, t)))
        .collect();
    let with = |status: &str| -> Vec<String> {
        judged
            .iter()
            .filter(|(_, t)| t.status == status)
            .map(|(c, t)| format!("{} at {}, target {}", c.title, c.value, t.limit))
            .collect()
    };
    let (missed, at_risk) = (with("missed"), with("at risk"));
    if !judged.is_empty() && missed.is_empty() && at_risk.is_empty() {
        out.push(format!("Every target shown was met ({}).", judged.len()));
    }
    if !missed.is_empty() {
        out.push(format!(
            "{} of {} targets missed: {}.",
            missed.len(),
            judged.len(),
            missed.join("; ")
        ));
    }
    if !at_risk.is_empty() {
        out.push(format!(
            "Met by less than a tenth of the limit: {}.",
            at_risk.join("; ")
        ));
    }
    out
}

/// How a value stands against its threshold, for the card.
pub(crate) fn target(
    t: &crate::config::Threshold,
    value: &Option<f64>,
    main_stat: &str,
    unit: &str,
    currency: &str,
) -> Target {
    // in the KPI's own unit, as the configuration writes the limit
    let limit = |v: f64| {
        let text = format::value(Some(v), unit);
        format::on_page(&match unit {
            "currency" => format!("{text} {currency}"),
            _ => text,
        })
    };
    let bounds = match (t.min, t.max) {
        (Some(lo), Some(hi)) => format!("between {} and {}", limit(lo), limit(hi)),
        (Some(lo), None) => format!("≥ {}", limit(lo)),
        (None, Some(hi)) => format!("≤ {}", limit(hi)),
        (None, None) => String::new(),
    };
    let status = match value {
        None => "no value",
        Some(v) if !t.holds(*v) => "missed",
        Some(v) if t.near_limit(*v) => "at risk",
        Some(_) => "met",
    };
    let limit = match t.stat == main_stat {
        true => bounds,
        false => format!("{} {bounds}", t.stat),
    };
    Target { limit, status }
}

/// A KPI's table per dimension: a row per key with each stat, `(none)` dropped where it has
/// no tickets. Past [`SHOWN_KEYS`] keys, the rest are one row, "others".
fn breakdowns(rows: &[&KpiRow], stats: &[String], unit: &str, currency: &str) -> Vec<Breakdown> {
    let mut breakdowns = Vec::new();
    for dim in crate::model::DIMENSIONS {
        let mut keys: BTreeMap<&str, Vec<&KpiRow>> = BTreeMap::new();
        for r in rows.iter().filter(|r| r.dimension == *dim) {
            keys.entry(r.key.as_str()).or_default().push(r);
        }
        if keys.is_empty() {
            continue;
        }
        let first = |krows: &[&KpiRow]| -> (u64, u64) {
            let r = krows
                .iter()
                .find(|r| r.stat == stats[0])
                .unwrap_or(&krows[0]);
            (r.n, r.missing)
        };
        let mut keyed: Vec<(&str, Vec<&KpiRow>)> = keys.into_iter().collect();
        // Tickets without a priority, when none fall in the period, are noise in a table.
        keyed.retain(|(key, krows)| !(*key == NONE_KEY && first(krows).0 == 0));
        sort_keys(&mut keyed, dim, |k| first(k).0);
        let folded = match keyed.len() > SHOWN_KEYS + 1 {
            true => keyed.split_off(SHOWN_KEYS),
            false => Vec::new(),
        };
        let shown_stat = |krows: &[&KpiRow], s: &String| {
            shown(
                krows.iter().find(|r| &r.stat == s).and_then(|r| r.value),
                unit,
                currency,
            )
        };
        let mut table: Vec<BreakdownRow> = keyed
            .iter()
            .map(|(key, krows)| {
                let (n, missing) = first(krows);
                BreakdownRow {
                    key: key.to_string(),
                    keys: 1,
                    values: stats.iter().map(|s| shown_stat(krows, s)).collect(),
                    n,
                    missing,
                }
            })
            .collect();
        if !folded.is_empty() {
            table.push(others_row(&folded, stats, unit, currency));
        }
        breakdowns.push(Breakdown {
            dimension: dim.to_string(),
            label: column_label(dim),
            rows: table,
        });
    }
    breakdowns
}

/// The keys of a breakdown past the largest ones, as one row. What adds up is added up: counts
/// and costs, percentages and ratios from their numerators and denominators, means weighted by
/// their n. A median or a percentile of several keys cannot be had from theirs: "—".
fn others_row(
    folded: &[(&str, Vec<&KpiRow>)],
    stats: &[String],
    unit: &str,
    currency: &str,
) -> BreakdownRow {
    let of_stat = |s: &str| -> Vec<&KpiRow> {
        folded
            .iter()
            .filter_map(|(_, krows)| krows.iter().find(|r| r.stat == s).copied())
            .collect()
    };
    let value = |s: &String| -> Option<f64> {
        let rows = of_stat(s);
        let sum = |f: fn(&KpiRow) -> Option<f64>| -> Option<f64> {
            rows.iter().map(|r| f(r)).sum::<Option<f64>>()
        };
        let scale = if unit == "percent" { 100.0 } else { 1.0 };
        match s.as_str() {
            _ if rows
                .iter()
                .all(|r| r.numerator.is_some() && r.denominator.is_some()) =>
            {
                let (num, den) = (sum(|r| r.numerator)?, sum(|r| r.denominator)?);
                (den != 0.0).then(|| scale * num / den)
            }
            "value" if matches!(unit, "count" | "currency") => {
                Some(rows.iter().map(|r| r.value.unwrap_or(0.0)).sum())
            }
            "mean" => {
                let n: u64 = rows.iter().filter(|r| r.value.is_some()).map(|r| r.n).sum();
                let total: f64 = rows
                    .iter()
                    .filter_map(|r| Some(r.value? * r.n as f64))
                    .sum();
                (n > 0).then(|| total / n as f64)
            }
            _ => None,
        }
    };
    let main = of_stat(&stats[0]);
    BreakdownRow {
        key: OTHERS_KEY.to_string(),
        keys: folded.len(),
        values: stats
            .iter()
            .map(|s| shown(value(s), unit, currency))
            .collect(),
        n: main.iter().map(|r| r.n).sum(),
        missing: main.iter().map(|r| r.missing).sum(),
    }
}

/// Priorities and kinds in their natural order; services and groups by volume. `(none)` last.
fn sort_keys<T>(keys: &mut [(&str, T)], dimension: &str, volume: impl Fn(&T) -> u64) {
    let by_volume = !matches!(dimension, "priority" | "kind");
    keys.sort_by(|a, b| {
        let none = (a.0 == NONE_KEY).cmp(&(b.0 == NONE_KEY));
        let order = if by_volume {
            volume(&b.1).cmp(&volume(&a.1))
        } else {
            std::cmp::Ordering::Equal
        };
        none.then(order).then_with(|| a.0.cmp(b.0))
    });
}

/// The report's charts, each only when its data exists.
fn charts(result: &RunResult, currency: &str) -> Charts {
    use super::charts::hbars;
    let rows = &result.kpis;
    let mut charts = Charts::default();
    let by_priority = |kpi: &str, stat: &str| -> Vec<(String, Option<f64>, u64)> {
        let mut v: Vec<(String, Option<f64>, u64)> = rows
            .iter()
            .filter(|r| {
                r.kpi == kpi
                    && r.stat == stat
                    && r.dimension == "priority"
                    && r.key != crate::model::NONE_KEY
            })
            .map(|r| (r.key.clone(), r.value, r.n))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };
    let mttr = by_priority("mttr_hours", "median");
    if mttr.iter().any(|r| r.1.is_some()) {
        charts.mttr = Some(hbars(
            "Median time to resolve by priority",
            &mttr
                .iter()
                .map(|(k, v, n)| {
                    (
                        k.clone(),
                        *v,
                        format!("{} (n = {n})", shown(*v, "hours", currency)),
                    )
                })
                .collect::<Vec<_>>(),
            None,
        ));
    }
    let sla = by_priority("sla_resolution_met_pct", "value");
    if sla.iter().any(|r| r.1.is_some()) {
        charts.sla = Some(hbars(
            "Resolution SLA met by priority",
            &sla.iter()
                .map(|(k, v, n)| {
                    (
                        k.clone(),
                        *v,
                        format!("{} of {n}", shown(*v, "percent", currency)),
                    )
                })
                .collect::<Vec<_>>(),
            Some(100.0),
        ));
    }
    let aging = aging(rows);
    if aging.iter().any(|a| a.open > 0) {
        charts.aging = Some(hbars(
            "Open backlog by age",
            &aging
                .iter()
                .map(|a| (a.bucket.clone(), Some(a.open as f64), a.open.to_string()))
                .collect::<Vec<_>>(),
            None,
        ));
    }
    charts
}
