//! The "What changed" section, and the `changes` array of `kpis.json`: the numbers of
//! [`crate::what_changed`] put into sentences a reader can paste into a review.

use serde::Serialize;
use serde_json::json;

use super::format;
use super::view::{column_label, delta, shown};
use crate::config::WhatChangedSettings;
use crate::pipeline::RunResult;
use crate::queries::{Direction, KpiMeta};
use crate::what_changed::split::Part;
use crate::what_changed::{DimensionSplit, KpiMove, VolumeCheck, WhatChanged};

/// Keys a moved figure's table lists by name; the rest are added up on one line.
const SHOWN_PARTS: usize = 5;

#[derive(Debug, Serialize)]
pub struct ChangesView {
    /// Whether there was a previous period to compare with.
    pub compared: bool,
    /// What counts as a move, in words.
    pub rule: String,
    pub moves: Vec<MoveView>,
    pub volume: Option<VolumeView>,
    pub problems: Vec<ProblemRow>,
    /// The repeat rule the problem candidates follow, in words.
    pub problem_rule: String,
}

#[derive(Debug, Serialize)]
pub struct MoveView {
    pub kpi: String,
    pub title: String,
    pub sentences: Vec<String>,
    /// The dimension the table splits the change by (`Assignment group`).
    pub dimension: Option<String>,
    /// Whether the parts are a mean's mix and rate, or a count's change per key.
    pub mean: bool,
    pub rows: Vec<PartRow>,
}

#[derive(Debug, Serialize)]
pub struct PartRow {
    pub key: String,
    /// The line that adds the column up.
    pub total: bool,
    pub tickets: String,
    pub values: String,
    pub mix: String,
    pub rate: String,
    pub change: String,
    pub share: String,
}

#[derive(Debug, Serialize)]
pub struct VolumeView {
    pub spike: bool,
    pub sentence: String,
}

#[derive(Debug, Serialize)]
pub struct ProblemRow {
    pub key: String,
    pub incidents: u64,
    pub repeats: u64,
    pub incidents_in_period: u64,
    pub repeats_in_period: u64,
}

/// How one KPI is worded: its title, unit and direction, and the report's currency.
struct Wording<'a> {
    meta: &'a KpiMeta,
    currency: &'a str,
}

impl Wording<'_> {
    fn value(&self, v: f64) -> String {
        shown(Some(v), &self.meta.unit, self.currency)
    }

    /// A change with its sign; one that rounds to nothing has none (`0.0 pts`, not `−0.0 pts`).
    fn change(&self, v: f64) -> String {
        let text = delta(
            Some(v),
            Some(0.0),
            &self.meta.unit,
            &Direction::Neutral,
            self.currency,
        )
        .0
        .unwrap_or_default();
        unsigned_if_zero(text)
    }
}

fn unsigned_if_zero(text: String) -> String {
    let digits = text
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '\u{a0}');
    if digits.filter(char::is_ascii_digit).all(|c| c == '0') {
        return text.trim_start_matches(['+', '-', '\u{2212}']).to_string();
    }
    text
}

pub fn build(result: &RunResult, changes: &WhatChanged) -> ChangesView {
    let rules = &changes.rules;
    let against = changes
        .previous
        .as_ref()
        .map(|p| format!(" against {}", p.period.label))
        .unwrap_or_default();
    ChangesView {
        compared: changes.previous.is_some(),
        rule: format!(
            "Headline figures that moved by {} % or more{against}, with at least {} tickets behind them in both periods.",
            rules.min_change_pct, rules.min_tickets
        ),
        moves: changes
            .moves
            .iter()
            .filter_map(|m| move_view(result, m))
            .collect(),
        volume: changes.volume.as_ref().map(|v| VolumeView {
            spike: v.spike,
            sentence: volume_sentence(v, rules),
        }),
        problems: changes
            .problems
            .iter()
            .map(|p| ProblemRow {
                key: p.key.clone(),
                incidents: p.incidents,
                repeats: p.repeats,
                incidents_in_period: p.incidents_in_period,
                repeats_in_period: p.repeats_in_period,
            })
            .collect(),
        problem_rule: format!(
            "Repeat keys ({}) with the most repeat incidents over the trend window: an incident is a repeat when one with the same key was resolved within {} days before it was created.",
            result.config.repeat.key.join(" + "),
            result.config.repeat.window_days
        ),
    }
}

fn move_view(result: &RunResult, change: &KpiMove) -> Option<MoveView> {
    let meta = result.catalogue.meta(&change.kpi)?;
    let words = Wording {
        meta,
        currency: &result.config.report.currency,
    };
    let lead = change.split.as_ref().and_then(|s| s.dimensions.first());
    Some(MoveView {
        kpi: change.kpi.clone(),
        title: meta.title.clone(),
        sentences: sentences(change, &words),
        dimension: lead.map(|d| column_label(&d.dimension)),
        mean: lead.is_some_and(|d| d.parts.iter().any(|p| p.mix.is_some())),
        rows: match (&change.split, lead) {
            (Some(split), Some(lead)) => rows(lead, split.after - split.before, &words),
            _ => Vec::new(),
        },
    })
}

/// The sentences of one moved figure, from its numbers alone.
fn sentences(change: &KpiMove, words: &Wording<'_>) -> Vec<String> {
    let rose = |d: f64| if d < 0.0 { "fell" } else { "rose" };
    let stat = match change.stat.as_str() {
        "value" => String::new(),
        s => format!(" ({s})"),
    };
    let relative = unsigned_if_zero(format::on_page(&format!("{:+.0} %", change.relative_pct)));
    let by = match words.meta.unit.as_str() {
        // a percentage's change in points, its relative change beside it
        "percent" => format!(
            "{}, {relative} of its value",
            words.change(change.after - change.before)
        ),
        _ => relative,
    };
    let mut out = vec![format!(
        "{}{stat} {} from {} to {} ({by}).",
        words.meta.title,
        rose(change.after - change.before),
        words.value(change.before),
        words.value(change.after),
    )];
    let Some(split) = &change.split else {
        out.push(
            "It does not add up over its keys, so it is not split here: its breakdowns are below."
                .to_string(),
        );
        return out;
    };
    let total = split.after - split.before;
    if split.stat != change.stat {
        out.push(format!(
            "Its {}, which adds up over the keys, {} from {} to {}.",
            split.stat,
            rose(total),
            words.value(split.before),
            words.value(split.after)
        ));
    }
    match split
        .dimensions
        .first()
        .and_then(|d| Some((d, d.parts.first()?)))
    {
        Some((dimension, part)) if total != 0.0 => {
            out.push(lead_sentence(dimension, part, total, &split.stat, words));
        }
        _ => out.push("No breakdown adds up to it with more than one key.".to_string()),
    }
    out
}

/// "70 % of the rise is Assignment group Network: its mean went from 20 h to 41 h on a similar
/// share of the tickets."
fn lead_sentence(
    dimension: &DimensionSplit,
    part: &Part,
    total: f64,
    stat: &str,
    words: &Wording<'_>,
) -> String {
    let share = unsigned_if_zero(format::on_page(&format!(
        "{:.0} %",
        100.0 * part.change / total
    )));
    let rise = if total < 0.0 { "fall" } else { "rise" };
    let who = format!("{} {}", column_label(&dimension.dimension), part.key);
    let values = |a: Option<f64>, b: Option<f64>| {
        let v = |x: Option<f64>| x.map_or("none".to_string(), |x| words.value(x));
        format!("from {} to {}", v(a), v(b))
    };
    if part.mix.is_none() {
        return format!(
            "{share} of the {rise} is {who}: {}.",
            values(part.before, part.after)
        );
    }
    let (n0, n1) = tickets_of(dimension);
    let (w0, w1) = (
        part.n_before as f64 / n0.max(1) as f64,
        part.n_after as f64 / n1.max(1) as f64,
    );
    let volume = if (w1 - w0).abs() < 0.02 {
        format!("a similar share of the tickets ({:.0}\u{a0}%)", 100.0 * w1)
    } else {
        format!(
            "{} share of the tickets ({:.0}\u{a0}% before, {:.0}\u{a0}% now)",
            if w1 > w0 { "a larger" } else { "a smaller" },
            100.0 * w0,
            100.0 * w1
        )
    };
    let it = if stat == "mean" { "its mean" } else { "it" };
    format!(
        "{share} of the {rise} is {who}: {it} went {} on {} (rate {}, mix {}).",
        values(part.before, part.after),
        volume,
        words.change(part.rate.unwrap_or(0.0)),
        words.change(part.mix.unwrap_or(0.0)),
    )
}

/// A dimension's tickets in each period.
fn tickets_of(dimension: &DimensionSplit) -> (u64, u64) {
    dimension.parts.iter().fold((0, 0), |(a, b), p| {
        (
            a + if p.before.is_some() { p.n_before } else { 0 },
            b + if p.after.is_some() { p.n_after } else { 0 },
        )
    })
}

/// The leading keys, the others on one line, and the total: a column that adds up.
fn rows(dimension: &DimensionSplit, total: f64, words: &Wording<'_>) -> Vec<PartRow> {
    let share = |v: f64| match total {
        0.0 => "—".to_string(),
        _ => unsigned_if_zero(format::on_page(&format!("{:.0} %", 100.0 * v / total))),
    };
    let optional = |v: Option<f64>| v.map_or(String::new(), |v| words.change(v));
    let mut out: Vec<PartRow> = dimension
        .parts
        .iter()
        .take(SHOWN_PARTS)
        .map(|p| PartRow {
            key: p.key.clone(),
            total: false,
            tickets: format!("{} → {}", p.n_before, p.n_after),
            values: format!(
                "{} → {}",
                p.before.map_or("—".to_string(), |v| words.value(v)),
                p.after.map_or("—".to_string(), |v| words.value(v))
            ),
            mix: optional(p.mix),
            rate: optional(p.rate),
            change: words.change(p.change),
            share: share(p.change),
        })
        .collect();
    let rest = &dimension.parts[out.len()..];
    if !rest.is_empty() {
        let sum = |f: &dyn Fn(&Part) -> Option<f64>| rest.iter().filter_map(f).sum::<f64>();
        let change = sum(&|p| Some(p.change));
        let mean = rest.iter().any(|p| p.mix.is_some());
        out.push(PartRow {
            key: format!("{} other keys", rest.len()),
            total: false,
            tickets: format!(
                "{} → {}",
                rest.iter().map(|p| p.n_before).sum::<u64>(),
                rest.iter().map(|p| p.n_after).sum::<u64>()
            ),
            values: String::new(),
            mix: if mean {
                words.change(sum(&|p| p.mix))
            } else {
                String::new()
            },
            rate: if mean {
                words.change(sum(&|p| p.rate))
            } else {
                String::new()
            },
            change: words.change(change),
            share: share(change),
        });
    }
    out.push(PartRow {
        key: "Total".to_string(),
        total: true,
        tickets: String::new(),
        values: String::new(),
        mix: String::new(),
        rate: String::new(),
        change: words.change(total),
        share: share(total),
    });
    out
}

fn volume_sentence(v: &VolumeCheck, rules: &WhatChangedSettings) -> String {
    let mads = rules.spike_mads;
    let count = |n: f64| format::thousands(n.round() as i64);
    let months = match (v.trailing.first(), v.trailing.last()) {
        (Some(first), Some(last)) => format!("{} to {}", first.0, last.0),
        _ => String::new(),
    };
    let usual = format!(
        "its limit of {} (the median of the {} months {months}, {}, plus {mads} median absolute deviations)",
        count(v.limit),
        v.trailing.len(),
        count(v.median),
    );
    if !v.spike {
        let why = match v.created as f64 > v.limit {
            true => format!(
                "above {usual}, but by less than {} % of the median or with fewer than {} tickets",
                rules.min_change_pct, rules.min_tickets
            ),
            false => format!("not above {usual}"),
        };
        return format!(
            "Tickets created in {}: {}, {why}: no spike.",
            v.month,
            count(v.created as f64)
        );
    }
    let drivers: Vec<String> = v
        .drivers
        .iter()
        .map(|d| {
            format!(
                "{} {}: {} against a usual {}",
                column_label(&d.dimension).to_lowercase(),
                d.key,
                count(d.created as f64),
                count(d.usual)
            )
        })
        .collect();
    let from = match drivers.is_empty() {
        true => String::new(),
        false => format!(" The rise came most from {}.", drivers.join("; ")),
    };
    format!(
        "Tickets created in {}: {}, above {usual}: a volume spike.{from}",
        v.month,
        count(v.created as f64)
    )
}

/// The `changes` array of `kpis.json`: each moved figure and a volume spike, with its
/// numbers and its sentences; one entry per line.
pub fn json_entries(result: &RunResult, changes: &WhatChanged) -> Vec<serde_json::Value> {
    let currency = &result.config.report.currency;
    let mut out: Vec<serde_json::Value> = changes
        .moves
        .iter()
        .filter_map(|m| {
            let meta = result.catalogue.meta(&m.kpi)?;
            let words = Wording { meta, currency };
            let mut entry = json!({ "change": "kpi_move" });
            merge(&mut entry, serde_json::to_value(m).ok()?);
            entry["sentences"] = json!(sentences(m, &words));
            Some(entry)
        })
        .collect();
    if let Some(v) = changes.volume.as_ref().filter(|v| v.spike) {
        let mut entry = json!({ "change": "volume_spike", "kpi": "tickets_created" });
        merge(
            &mut entry,
            serde_json::to_value(v).expect("plain data serialises"),
        );
        entry["sentences"] = json!([volume_sentence(v, &changes.rules)]);
        out.push(entry);
    }
    out
}

fn merge(into: &mut serde_json::Value, from: serde_json::Value) {
    if let (Some(into), serde_json::Value::Object(from)) = (into.as_object_mut(), from) {
        into.extend(from);
    }
}
