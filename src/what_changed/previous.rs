//! A previous period's `kpis.json`, for the change of each headline figure.

use std::path::Path;

use serde::Deserialize;

use crate::pipeline::PeriodKpis;

#[derive(Debug, Clone, Deserialize)]
pub struct PreviousDoc {
    pub period: PreviousPeriod,
    pub kpis: Vec<PreviousRow>,
    /// Where the figures come from, as the report says it.
    #[serde(skip)]
    pub origin: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PreviousPeriod {
    pub label: String,
    #[serde(default)]
    pub start: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PreviousRow {
    pub kpi: String,
    pub stat: String,
    pub dimension: String,
    pub key: String,
    pub value: Option<f64>,
    #[serde(default)]
    pub n: u64,
}

impl PreviousDoc {
    pub fn load(path: &Path) -> Result<PreviousDoc, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read it: {e}", path.display()))?;
        let mut doc: PreviousDoc = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not a deskpulse kpis.json ({e})", path.display()))?;
        doc.origin = format!("as read from {}", path.display());
        Ok(doc)
    }

    /// The period before, as the run measured it from the same inputs.
    pub fn measured(previous: &PeriodKpis) -> PreviousDoc {
        PreviousDoc {
            period: PreviousPeriod {
                label: previous.period.label(),
                start: previous.period.first_date.to_string(),
            },
            kpis: previous
                .kpis
                .iter()
                .map(|r| PreviousRow {
                    kpi: r.kpi.clone(),
                    stat: r.stat.clone(),
                    dimension: r.dimension.clone(),
                    key: r.key.clone(),
                    value: r.value,
                    n: r.n,
                })
                .collect(),
            origin: "measured from the same exports".to_string(),
        }
    }

    pub fn value(&self, kpi: &str, stat: &str, dimension: &str, key: &str) -> Option<f64> {
        self.row(kpi, stat, dimension, key).and_then(|r| r.value)
    }

    pub fn row<'a>(
        &'a self,
        kpi: &'a str,
        stat: &'a str,
        dimension: &'a str,
        key: &str,
    ) -> Option<&'a PreviousRow> {
        self.rows(kpi, stat, dimension).find(|r| r.key == key)
    }

    /// A KPI's rows for one stat and dimension, every key.
    pub fn rows<'a>(
        &'a self,
        kpi: &'a str,
        stat: &'a str,
        dimension: &'a str,
    ) -> impl Iterator<Item = &'a PreviousRow> + 'a {
        self.kpis
            .iter()
            .filter(move |r| r.kpi == kpi && r.stat == stat && r.dimension == dimension)
    }
}
