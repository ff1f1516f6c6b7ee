//! A previous period's `kpis.json`, for the change of each headline figure.

use std::path::Path;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct PreviousDoc {
    pub period: PreviousPeriod,
    pub kpis: Vec<PreviousRow>,
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
        serde_json::from_str(&text)
            .map_err(|e| format!("{}: not a deskpulse kpis.json ({e})", path.display()))
    }

    pub fn value(&self, kpi: &str, stat: &str, dimension: &str, key: &str) -> Option<f64> {
        self.kpis
            .iter()
            .find(|r| r.kpi == kpi && r.stat == stat && r.dimension == dimension && r.key == key)
            .and_then(|r| r.value)
    }
}
