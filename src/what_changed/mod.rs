//! What changed since the previous period, as numbers the report puts into words
//! (`report::changes`): the headline figures that moved, split by key into parts that add up
//! (see [`split`]); the period's volume against its trailing months; the repeat keys that keep
//! coming back. The rules are in docs/kpis.md, "What changed".

pub mod previous;
pub mod split;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::WhatChangedSettings;
use crate::kpi::KpiRow;
use crate::period::{Period, PeriodKind};
use crate::pipeline::RunResult;
use crate::queries::Catalogue;
use crate::table::{column_i64, column_strings};
pub use previous::PreviousDoc;
use split::{Cell, KeyCells, Part};

/// Everything the "What changed" section says, before it is put into words.
#[derive(Debug)]
pub struct WhatChanged {
    /// The figures compared against; no moves without them.
    pub previous: Option<PreviousDoc>,
    pub rules: WhatChangedSettings,
    /// The headline figures that moved beyond the rules, in the report's order.
    pub moves: Vec<KpiMove>,
    /// The period's volume against its trailing months; none for a period that is not a month
    /// or without three full months before it.
    pub volume: Option<VolumeCheck>,
    pub problems: Vec<ProblemCandidate>,
}

/// A headline figure that moved.
#[derive(Debug, Clone, Serialize)]
pub struct KpiMove {
    pub kpi: String,
    /// The stat the headline shows.
    pub stat: String,
    pub before: f64,
    pub after: f64,
    pub n_before: u64,
    pub n_after: u64,
    /// `after − before`, in percent of `before`.
    pub relative_pct: f64,
    /// How the figure splits by key: none for a figure that does not add up over its keys (a
    /// median, a cost with an unallocated remainder).
    pub split: Option<Split>,
}

/// A change split by key, for each dimension whose keys add up to the figure.
#[derive(Debug, Clone, Serialize)]
pub struct Split {
    /// `value` for a count or a percentage, `mean` for a duration whose headline is its median.
    pub stat: String,
    pub before: f64,
    pub after: f64,
    /// The dimension whose leading key explains the largest share of the change first.
    pub dimensions: Vec<DimensionSplit>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DimensionSplit {
    pub dimension: String,
    /// Every key, the one that moved the figure most in the direction of its change first.
    pub parts: Vec<Part>,
}

/// Tickets created in the period's month against the months before it.
#[derive(Debug, Clone, Serialize)]
pub struct VolumeCheck {
    pub month: String,
    pub created: u64,
    /// The full months before it that it is judged against, oldest first.
    pub trailing: Vec<(String, u64)>,
    pub median: f64,
    /// The median absolute deviation of the trailing months from their median.
    pub mad: f64,
    /// `median + spike_mads × mad`.
    pub limit: f64,
    pub spike: bool,
    /// The keys whose tickets rose most above their own trailing median (a spike only).
    pub drivers: Vec<Driver>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Driver {
    pub dimension: String,
    pub key: String,
    pub created: u64,
    /// The key's median over the same trailing months.
    pub usual: f64,
}

/// A repeat key whose incidents keep coming back (`queries/tables/problem_candidates.sql`).
#[derive(Debug, Clone, Serialize)]
pub struct ProblemCandidate {
    pub key: String,
    pub incidents: u64,
    pub repeats: u64,
    pub incidents_in_period: u64,
    pub repeats_in_period: u64,
}

/// Keys listed as having driven a spike, per dimension.
const DRIVERS_PER_DIMENSION: usize = 3;

/// A key drove a spike when its own rise above its usual is at least this share of the
/// month's rise above the usual: a single ticket on a new item drives nothing.
const DRIVER_MIN_SHARE: f64 = 0.1;

/// A volume judged against fewer full months than this is not judged.
const MIN_TRAILING_MONTHS: usize = 3;

/// What changed in the run's period: against `previous` where there is one.
pub fn compare(result: &RunResult, previous: Option<PreviousDoc>) -> WhatChanged {
    let rules = result.config.what_changed.clone();
    let moves = previous
        .as_ref()
        .map(|p| moves(&result.kpis, p, &result.catalogue, &rules))
        .unwrap_or_default();
    let volume = volume_check(result, &rules);
    WhatChanged {
        previous,
        rules,
        moves,
        volume,
        problems: problem_candidates(result),
    }
}

/// The headline figures that moved by at least `min_change_pct` with enough tickets behind
/// them.
fn moves(
    now: &[KpiRow],
    previous: &PreviousDoc,
    catalogue: &Catalogue,
    rules: &WhatChangedSettings,
) -> Vec<KpiMove> {
    let mut by_kpi: BTreeMap<&str, Vec<&KpiRow>> = BTreeMap::new();
    for row in now {
        by_kpi.entry(row.kpi.as_str()).or_default().push(row);
    }
    let mut moves: Vec<(i32, KpiMove)> = by_kpi
        .into_iter()
        .filter_map(|(kpi, rows)| {
            let meta = catalogue.meta(kpi)?;
            let change = kpi_move(kpi, &rows, previous, &meta.unit, rules)?;
            Some((meta.order, change))
        })
        .collect();
    moves.sort_by(|a, b| (a.0, &a.1.kpi).cmp(&(b.0, &b.1.kpi)));
    moves.into_iter().map(|(_, m)| m).collect()
}

fn kpi_move(
    kpi: &str,
    rows: &[&KpiRow],
    previous: &PreviousDoc,
    unit: &str,
    rules: &WhatChangedSettings,
) -> Option<KpiMove> {
    let stats = crate::kpi::stats_of(rows);
    let stat = crate::kpi::headline_stat(&stats)?;
    let after_row = rows.iter().find(|r| r.is_all() && r.stat == stat)?;
    let before_row = previous.row(kpi, stat, "all", "all")?;
    let (after, before) = (after_row.value?, before_row.value?);
    if before == 0.0 {
        return None;
    }
    let relative_pct = 100.0 * (after - before) / before.abs();
    let enough = match unit {
        "count" => after_row.n.max(before_row.n) >= rules.min_tickets,
        _ => after_row.n.min(before_row.n) >= rules.min_tickets,
    };
    if relative_pct.abs() < rules.min_change_pct || !enough {
        return None;
    }
    Some(KpiMove {
        kpi: kpi.to_string(),
        split: split(kpi, rows, previous, unit, stat),
        stat: stat.to_string(),
        before,
        after,
        n_before: before_row.n,
        n_after: after_row.n,
        relative_pct,
    })
}

/// The figure that adds up over keys: the count, the mean beside a median, the percentage.
fn split(
    kpi: &str,
    rows: &[&KpiRow],
    previous: &PreviousDoc,
    unit: &str,
    headline: &str,
) -> Option<Split> {
    let stat = match (unit, headline) {
        ("count", "value") => "value",
        (_, "median") if rows.iter().any(|r| r.stat == "mean") => "mean",
        (_, "value") => "value",
        _ => return None,
    };
    let after = rows.iter().find(|r| r.is_all() && r.stat == stat)?;
    let before = previous.row(kpi, stat, "all", "all")?;
    let all = (cell(before.n, before.value), cell(after.n, after.value));
    let by_dimension: Vec<(&str, Vec<KeyCells>)> = crate::model::DIMENSIONS
        .iter()
        .map(|d| (*d, cells(kpi, stat, d, rows, previous)))
        .filter(|(_, cells)| cells.len() > 1)
        .collect();
    // a count adds up as a sum; so does a total of money, which a mean never does over two
    // keys with values in both periods (it lies between them)
    let valued_in_both = |c: &[KeyCells]| {
        let valued = |f: fn(&KeyCells) -> Option<f64>| c.iter().filter_map(f).count();
        valued(|k| k.1.value) > 1 && valued(|k| k.2.value) > 1
    };
    let sum = unit == "count"
        || (stat == "value"
            && by_dimension
                .iter()
                .any(|(_, c)| valued_in_both(c) && adds_up_as_count(c, all)));
    let change = after.value? - before.value?;
    let mut dimensions: Vec<DimensionSplit> = by_dimension
        .into_iter()
        .filter_map(|(dimension, cells)| {
            let parts = match sum {
                true => adds_up_as_count(&cells, all).then(|| split::count_parts(&cells))?,
                false => adds_up_as_mean(&cells, all).then(|| split::mean_parts(&cells))??,
            };
            Some(DimensionSplit {
                dimension: dimension.to_string(),
                parts: in_order_of_weight(parts, change),
            })
        })
        .filter(|d| {
            d.parts
                .iter()
                .filter(|p| p.n_before + p.n_after > 0)
                .count()
                > 1
        })
        .collect();
    let lead = |d: &DimensionSplit| d.parts.first().map_or(0.0, |p| p.change / change);
    // a stable sort: among equal leads, the dimensions keep the contract's order
    dimensions.sort_by(|a, b| lead(b).total_cmp(&lead(a)));
    Some(Split {
        stat: stat.to_string(),
        before: before.value?,
        after: after.value?,
        dimensions,
    })
}

fn cell(n: u64, value: Option<f64>) -> Cell {
    Cell { n, value }
}

/// Each key of a dimension in the previous period and now; a key absent from one has no
/// tickets there.
fn cells(
    kpi: &str,
    stat: &str,
    dimension: &str,
    rows: &[&KpiRow],
    previous: &PreviousDoc,
) -> Vec<KeyCells> {
    let mut keys: BTreeMap<String, (Cell, Cell)> = BTreeMap::new();
    for row in previous.rows(kpi, stat, dimension) {
        keys.entry(row.key.clone()).or_default().0 = cell(row.n, row.value);
    }
    for row in rows
        .iter()
        .filter(|r| r.stat == stat && r.dimension == dimension)
    {
        keys.entry(row.key.clone()).or_default().1 = cell(row.n, row.value);
    }
    keys.into_iter().map(|(k, (a, b))| (k, a, b)).collect()
}

/// Whether a dimension's keys hold all the tickets of a figure and reproduce it: a user's query
/// may leave keys out, or a cost may hold a remainder no key carries.
fn adds_up_as_mean(cells: &[KeyCells], all: (Cell, Cell)) -> bool {
    let holds = |mean: Option<(f64, u64)>, all: Cell| match (mean, all.value) {
        (Some((m, n)), Some(v)) => n == all.n && close(m, v),
        _ => false,
    };
    holds(split::weighted_mean(cells.iter().map(|c| c.1)), all.0)
        && holds(split::weighted_mean(cells.iter().map(|c| c.2)), all.1)
}

fn adds_up_as_count(cells: &[KeyCells], all: (Cell, Cell)) -> bool {
    let sum = |cells: &mut dyn Iterator<Item = Cell>| cells.filter_map(|c| c.value).sum::<f64>();
    close(
        sum(&mut cells.iter().map(|c| c.1)),
        all.0.value.unwrap_or(0.0),
    ) && close(
        sum(&mut cells.iter().map(|c| c.2)),
        all.1.value.unwrap_or(0.0),
    )
}

/// Equal but for the rounding of a sum taken in another order.
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// The keys that moved the figure most in the direction of its change first; then by key.
fn in_order_of_weight(mut parts: Vec<Part>, change: f64) -> Vec<Part> {
    let sign = if change < 0.0 { -1.0 } else { 1.0 };
    parts.sort_by(|a, b| {
        (sign * b.change)
            .total_cmp(&(sign * a.change))
            .then_with(|| a.key.cmp(&b.key))
    });
    parts
}

/// Tickets created in the period's month against the full months before it (see
/// docs/kpis.md for the rule); none for a month not yet over at as_of.
fn volume_check(result: &RunResult, rules: &WhatChangedSettings) -> Option<VolumeCheck> {
    let PeriodKind::Month { .. } = result.period.kind else {
        return None;
    };
    // part of a month against whole ones would always look quiet
    if result.as_of < result.period.end {
        return None;
    }
    let created: BTreeMap<&str, u64> = result
        .kpis
        .iter()
        .filter(|r| r.kpi == "tickets_created" && r.stat == "value" && r.dimension == "month")
        .map(|r| (r.key.as_str(), r.n))
        .collect();
    let month = result.period.label();
    let now = *created.get(month.as_str())?;
    let trailing = full_months_before(&result.period, rules.spike_months, result.created_from);
    if trailing.len() < MIN_TRAILING_MONTHS {
        return None;
    }
    let trailing: Vec<(String, u64)> = trailing
        .into_iter()
        .map(|m| {
            let n = created.get(m.as_str()).copied().unwrap_or(0);
            (m, n)
        })
        .collect();
    let counts: Vec<f64> = trailing.iter().map(|(_, n)| *n as f64).collect();
    let (median, mad) = median_and_mad(&counts);
    let limit = median + rules.spike_mads * mad;
    let spike = now as f64 > limit
        && now as f64 - median >= median * rules.min_change_pct / 100.0
        && now >= rules.min_tickets;
    let drivers = match spike {
        true => drivers(result, &month, &trailing, now as f64 - median),
        false => Vec::new(),
    };
    Some(VolumeCheck {
        month,
        created: now,
        trailing,
        median,
        mad,
        limit,
        spike,
        drivers,
    })
}

/// Up to `count` months before the period's month that the exports cover from their first
/// day, oldest first: a month the exports begin in part way through would look quiet.
fn full_months_before(
    period: &Period,
    count: u32,
    created_from: Option<DateTime<Utc>>,
) -> Vec<String> {
    let Some(first) = created_from else {
        return Vec::new();
    };
    let mut months = Vec::new();
    let mut month = period.clone();
    for _ in 0..count {
        month = month.previous();
        // a day's grace: an export of "everything since the 1st" starts with the first ticket
        if first > month.start + chrono::Duration::days(1) {
            break;
        }
        months.push(month.label());
    }
    months.reverse();
    months
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[mid],
        _ => (sorted[mid - 1] + sorted[mid]) / 2.0,
    }
}

fn median_and_mad(values: &[f64]) -> (f64, f64) {
    let m = median(values);
    let deviations: Vec<f64> = values.iter().map(|v| (v - m).abs()).collect();
    (m, median(&deviations))
}

/// The category and configuration-item keys whose tickets rose most above their own median of
/// the same trailing months, each by at least a tenth of the month's `rise`.
fn drivers(result: &RunResult, month: &str, trailing: &[(String, u64)], rise: f64) -> Vec<Driver> {
    // (dimension, key) → month → created
    let mut counts: BTreeMap<(String, String), BTreeMap<String, u64>> = BTreeMap::new();
    for batch in result.tables.get("volume_by_key") {
        let text = |c: &str| column_strings(batch, c).unwrap_or_default();
        let (dimension, key, months) = (text("dimension"), text("key"), text("month"));
        let created = column_i64(batch, "created").unwrap_or_default();
        for i in 0..batch.num_rows() {
            let (Some(d), Some(k), Some(m)) = (&dimension[i], &key[i], &months[i]) else {
                continue;
            };
            let n = created[i].unwrap_or(0).max(0) as u64;
            counts
                .entry((d.clone(), k.clone()))
                .or_default()
                .insert(m.clone(), n);
        }
    }
    let mut by_dimension: BTreeMap<String, Vec<Driver>> = BTreeMap::new();
    for ((dimension, key), months) in counts {
        let now = months.get(month).copied().unwrap_or(0);
        let usual: Vec<f64> = trailing
            .iter()
            .map(|(m, _)| months.get(m).copied().unwrap_or(0) as f64)
            .collect();
        let usual = median(&usual);
        if now as f64 - usual >= DRIVER_MIN_SHARE * rise {
            by_dimension
                .entry(dimension.clone())
                .or_default()
                .push(Driver {
                    dimension,
                    key,
                    created: now,
                    usual,
                });
        }
    }
    by_dimension
        .into_values()
        .flat_map(|mut keys| {
            let excess = |d: &Driver| d.created as f64 - d.usual;
            keys.sort_by(|a, b| excess(b).total_cmp(&excess(a)).then(a.key.cmp(&b.key)));
            keys.truncate(DRIVERS_PER_DIMENSION);
            keys
        })
        .collect()
}

fn problem_candidates(result: &RunResult) -> Vec<ProblemCandidate> {
    let mut out = Vec::new();
    for batch in result.tables.get("problem_candidates") {
        let keys = column_strings(batch, "key").unwrap_or_default();
        let count = |c: &str| -> Vec<u64> {
            column_i64(batch, c)
                .unwrap_or_default()
                .into_iter()
                .map(|v| v.unwrap_or(0).max(0) as u64)
                .collect()
        };
        let (incidents, repeats) = (count("incidents"), count("repeats"));
        let (in_period, repeats_in_period) =
            (count("incidents_in_period"), count("repeats_in_period"));
        for (i, key) in keys.into_iter().enumerate() {
            out.push(ProblemCandidate {
                key: key.unwrap_or_else(|| crate::model::NONE_KEY.to_string()),
                incidents: incidents[i],
                repeats: repeats[i],
                incidents_in_period: in_period[i],
                repeats_in_period: repeats_in_period[i],
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(kpi: &str, dimension: &str, key: &str, value: Option<f64>, n: u64) -> KpiRow {
        KpiRow {
            kpi: kpi.to_string(),
            stat: "value".to_string(),
            dimension: dimension.to_string(),
            key: key.to_string(),
            value,
            n,
            missing: 0,
            numerator: None,
            denominator: None,
        }
    }

    fn previous(rows: &[KpiRow]) -> PreviousDoc {
        let doc = serde_json::json!({ "period": { "label": "2026-09" }, "kpis": rows });
        serde_json::from_value(doc).unwrap()
    }

    fn rules() -> WhatChangedSettings {
        WhatChangedSettings {
            min_change_pct: 10.0,
            min_tickets: 20,
            spike_months: 6,
            spike_mads: 3.0,
        }
    }

    #[test]
    fn a_total_of_money_splits_as_a_sum() {
        let before = [
            row("cost_total", "all", "all", Some(200.0), 40),
            row("cost_total", "service", "A", Some(100.0), 20),
            row("cost_total", "service", "B", Some(100.0), 20),
        ];
        let now = [
            row("cost_total", "all", "all", Some(400.0), 40),
            row("cost_total", "service", "A", Some(300.0), 20),
            row("cost_total", "service", "B", Some(100.0), 20),
        ];
        let now: Vec<&KpiRow> = now.iter().collect();
        let moved = kpi_move("cost_total", &now, &previous(&before), "currency", &rules()).unwrap();
        let split = moved.split.unwrap();
        let parts = &split.dimensions[0].parts;
        assert_eq!((parts[0].key.as_str(), parts[0].change), ("A", 200.0));
        assert_eq!((parts[1].mix, parts[1].change), (None, 0.0));
    }

    #[test]
    fn a_percentage_with_one_measured_key_is_not_taken_for_a_sum() {
        // kind: incidents measured, changes in scope without a cohort; by group, two keys
        let rows = |all: f64, a: f64, b: f64| {
            vec![
                row("reopen_pct", "all", "all", Some(all), 40),
                row("reopen_pct", "kind", "incident", Some(all), 40),
                row("reopen_pct", "kind", "change", None, 0),
                row("reopen_pct", "assignment_group", "A", Some(a), 20),
                row("reopen_pct", "assignment_group", "B", Some(b), 20),
            ]
        };
        let now = rows(20.0, 30.0, 10.0);
        let now: Vec<&KpiRow> = now.iter().collect();
        let before = previous(&rows(10.0, 10.0, 10.0));
        let moved = kpi_move("reopen_pct", &now, &before, "percent", &rules()).unwrap();
        let split = moved.split.unwrap();
        assert_eq!(split.dimensions.len(), 1, "kind has one key with tickets");
        let a = &split.dimensions[0].parts[0];
        // half the tickets, 10 % → 30 %: 10 pts of rate
        assert_eq!(
            (a.key.as_str(), a.rate, a.mix),
            ("A", Some(10.0), Some(0.0))
        );
    }
}
