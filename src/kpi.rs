//! KPI rows as the contract's `kpis.json` carries them.

use std::cmp::Ordering;

use serde::{Serialize, Serializer};

/// One KPI value for one dimension key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KpiRow {
    pub kpi: String,
    pub stat: String,
    pub dimension: String,
    pub key: String,
    #[serde(serialize_with = "number")]
    pub value: Option<f64>,
    pub n: u64,
    pub missing: u64,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "number")]
    pub numerator: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "number")]
    pub denominator: Option<f64>,
}

/// Whole numbers are written without a fraction (`12`, not `12.0`), everything else as the
/// shortest text that reads back to the same double; `null` for no value.
fn number<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        None => s.serialize_none(),
        Some(x) if x.is_finite() && x.fract() == 0.0 && x.abs() < 9.0e15 => {
            s.serialize_i64(*x as i64)
        }
        Some(x) if x.is_finite() => s.serialize_f64(*x),
        Some(_) => s.serialize_none(),
    }
}

impl KpiRow {
    /// The columns of a KPI row, in order: what a KPI query returns and `kpis --format csv`
    /// writes.
    pub const COLUMNS: [&'static str; 9] = [
        "kpi",
        "stat",
        "dimension",
        "key",
        "value",
        "n",
        "missing",
        "numerator",
        "denominator",
    ];

    /// The contract's order: by kpi, stat, dimension, key.
    pub fn contract_order(a: &KpiRow, b: &KpiRow) -> Ordering {
        (&a.kpi, &a.stat, &a.dimension, &a.key).cmp(&(&b.kpi, &b.stat, &b.dimension, &b.key))
    }

    pub fn is_all(&self) -> bool {
        self.dimension == "all"
    }
}

/// Finds a row.
pub fn find<'a>(
    rows: &'a [KpiRow],
    kpi: &str,
    stat: &str,
    dimension: &str,
    key: &str,
) -> Option<&'a KpiRow> {
    rows.iter()
        .find(|r| r.kpi == kpi && r.stat == stat && r.dimension == dimension && r.key == key)
}

/// A KPI's stats in the report's order: value, median, mean, p90, then any other. Only the
/// contract's dimensions count where the KPI has them: the age buckets' counts are no stat.
pub fn stats_of(rows: &[&KpiRow]) -> Vec<String> {
    let standard: Vec<&KpiRow> = rows
        .iter()
        .filter(|r| r.is_all() || crate::model::DIMENSIONS.contains(&r.dimension.as_str()))
        .copied()
        .collect();
    let mut stats: Vec<String> = if standard.is_empty() { rows } else { &standard }
        .iter()
        .map(|r| r.stat.clone())
        .collect();
    stats.sort_by_key(|s| match s.as_str() {
        "value" => 0,
        "median" => 1,
        "mean" => 2,
        "p90" => 3,
        _ => 4,
    });
    stats.dedup();
    stats
}

/// The stat a KPI's headline shows, of its [`stats_of`]: the median where it has one, else
/// its first stat.
pub fn headline_stat(stats: &[String]) -> Option<&str> {
    match stats.iter().any(|s| s == "median") {
        true => Some("median"),
        false => stats.first().map(String::as_str),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_have_no_fraction_and_missing_values_are_null() {
        let row = KpiRow {
            kpi: "reopen_pct".into(),
            stat: "value".into(),
            dimension: "all".into(),
            key: "all".into(),
            value: None,
            n: 0,
            missing: 0,
            numerator: Some(0.0),
            denominator: Some(0.0),
        };
        let json = serde_json::to_string(&row).unwrap();
        assert_eq!(
            json,
            r#"{"kpi":"reopen_pct","stat":"value","dimension":"all","key":"all","value":null,"n":0,"missing":0,"numerator":0,"denominator":0}"#
        );
        let row = KpiRow {
            value: Some(3.25),
            numerator: None,
            denominator: None,
            ..row
        };
        assert!(
            serde_json::to_string(&row)
                .unwrap()
                .contains(r#""value":3.25,"n":0,"missing":0}"#)
        );
    }
}
