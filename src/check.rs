//! `deskpulse check`: the configuration's `[thresholds]` against the computed KPIs, for CI jobs
//! that fail when a service level is missed.

use serde::Serialize;

use crate::kpi::KpiRow;
use crate::pipeline::RunResult;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Held,
    Breached,
    /// The KPI has no value for that key (no tickets in its cohort): nothing to judge.
    NoValue,
}

#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub kpi: String,
    pub stat: String,
    pub dimension: String,
    pub key: String,
    pub value: Option<f64>,
    pub n: u64,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub status: Status,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("no [thresholds] in the configuration: nothing to check")]
    NoThresholds,
    #[error(
        "no configuration (no --config, and no deskpulse.toml beside the exports): `check` \
         compares the KPIs with the [thresholds] of one"
    )]
    NoConfiguration,
    #[error("[thresholds] {kpi}: {message}")]
    Invalid { kpi: String, message: String },
}

/// Evaluates every threshold; a threshold that names a KPI, stat or key deskpulse did not
/// compute is an error, not a pass.
pub fn evaluate(result: &RunResult) -> Result<Vec<Evaluation>, CheckError> {
    let thresholds = &result.config.thresholds;
    if result.config.path.is_none() {
        return Err(CheckError::NoConfiguration);
    }
    if thresholds.is_empty() {
        return Err(CheckError::NoThresholds);
    }
    let mut out = Vec::new();
    for (kpi, t) in thresholds {
        let invalid = |message: String| CheckError::Invalid {
            kpi: kpi.clone(),
            message,
        };
        let of_kpi: Vec<&KpiRow> = result.kpis.iter().filter(|r| &r.kpi == kpi).collect();
        if of_kpi.is_empty() {
            // A name no KPI has stopped the run already (pipeline::thresholds_name_kpis).
            let title = result
                .catalogue
                .meta(kpi)
                .map_or(kpi.as_str(), |m| &m.title);
            let why = match result.quality.not_measured.iter().find(|m| &m.kpi == kpi) {
                Some(m) => format!("not measured for these inputs: {}", m.reason),
                None => format!("{title} has no rows"),
            };
            return Err(invalid(why));
        }
        let rows: Vec<&KpiRow> = of_kpi
            .iter()
            .copied()
            .filter(|r| r.stat == t.stat && r.dimension == t.dimension)
            .filter(|r| t.key.as_ref().is_none_or(|k| &r.key == k))
            .collect();
        if rows.is_empty() {
            let stats: Vec<&str> = of_kpi
                .iter()
                .map(|r| r.stat.as_str())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            return Err(invalid(format!(
                "no row with stat `{}`, dimension `{}`{} (its stats: {})",
                t.stat,
                t.dimension,
                t.key
                    .as_ref()
                    .map(|k| format!(", key `{k}`"))
                    .unwrap_or_default(),
                stats.join(", ")
            )));
        }
        for r in rows {
            let status = match r.value {
                None => Status::NoValue,
                Some(v) if t.holds(v) => Status::Held,
                Some(_) => Status::Breached,
            };
            out.push(Evaluation {
                kpi: kpi.clone(),
                stat: r.stat.clone(),
                dimension: r.dimension.clone(),
                key: r.key.clone(),
                value: r.value,
                n: r.n,
                min: t.min,
                max: t.max,
                status,
            });
        }
    }
    Ok(out)
}

/// One line per evaluation, for people and CI logs.
pub fn line(e: &Evaluation, unit: &str) -> String {
    let limit = match (e.min, e.max) {
        (Some(lo), Some(hi)) => format!("between {} and {}", num(lo, unit), num(hi, unit)),
        (Some(lo), None) => format!("min {}", num(lo, unit)),
        (None, Some(hi)) => format!("max {}", num(hi, unit)),
        (None, None) => String::new(),
    };
    let status = match e.status {
        Status::Held => "held",
        Status::Breached => "BREACHED",
        Status::NoValue => "no value",
    };
    let value = e
        .value
        .map(|v| crate::report::format::value(Some(v), unit))
        .unwrap_or_else(|| format!("none (n = {})", e.n));
    format!(
        "{status}: {} {} {}={}: {value}, {limit}",
        e.kpi, e.stat, e.dimension, e.key
    )
}

fn num(v: f64, unit: &str) -> String {
    crate::report::format::value(Some(v), unit)
}
