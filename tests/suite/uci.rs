//! The UCI ServiceNow incident event log (CC BY 4.0, donors C. A. L. do Amaral, M. Fantinato,
//! S. M. Peres): 141,712 update rows of 24,918 incidents, read by deskpulse and checked against
//! an independent computation of the same KPIs.

use std::io::Read;
use std::path::PathBuf;
use std::sync::OnceLock;

use chrono::TimeZone;
use chrono_tz::America::Sao_Paulo;

use super::oracle::{self, Source};
use super::util::{assert_matches, data, kpi_rows, kpis, project, value};

/// The log's size, extracted.
const LOG_BYTES: u64 = 46_212_397;

/// Extracts the log from the original zip (a single deflated member) into Cargo's directory for
/// test files, once: later runs reuse it, and nothing is left in the system's temporary folder.
pub(super) fn log_csv() -> &'static PathBuf {
    static CSV: OnceLock<PathBuf> = OnceLock::new();
    CSV.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("uci");
        let path = dir.join("incident_event_log.csv");
        if path.metadata().is_ok_and(|m| m.len() == LOG_BYTES) {
            return path;
        }
        let zip = std::fs::read(data("uci-incident-event-log/incident_event_log.zip")).unwrap();
        assert_eq!(&zip[0..4], b"PK\x03\x04", "a zip local file header");
        let method = u16::from_le_bytes([zip[8], zip[9]]);
        assert_eq!(method, 8, "deflate");
        let name_len = u16::from_le_bytes([zip[26], zip[27]]) as usize;
        let extra_len = u16::from_le_bytes([zip[28], zip[29]]) as usize;
        let start = 30 + name_len + extra_len;
        let mut csv = Vec::new();
        flate2::read::DeflateDecoder::new(&zip[start..])
            .read_to_end(&mut csv)
            .unwrap();
        assert_eq!(csv.len() as u64, LOG_BYTES);
        std::fs::create_dir_all(&dir).unwrap();
        // written beside it and renamed, so that a test binary running at the same time never
        // reads half a file
        let partial = dir.join(format!("incident_event_log.csv.{}", std::process::id()));
        std::fs::write(&partial, csv).unwrap();
        std::fs::rename(&partial, &path).unwrap();
        path
    })
}

pub(super) const CONFIG: &str = r#"
[report]
title = "UCI incident event log"
timezone = "America/Sao_Paulo"

[[sources]]
path = "incident_event_log.csv"
profile = "servicenow"
timezone = "America/Sao_Paulo"
"#;

/// Local midnight in São Paulo, the log's zone, as a UTC instant.
fn midnight((y, m, d): (i32, u32, u32)) -> chrono::DateTime<chrono::Utc> {
    Sao_Paulo
        .with_ymd_and_hms(y, m, d, 0, 0, 0)
        .earliest()
        .unwrap()
        .to_utc()
}

fn check(period_args: &[&str], start: (i32, u32, u32), end: (i32, u32, u32)) -> serde_json::Value {
    let dir = project(CONFIG, &[("incident_event_log.csv", log_csv())]);
    let doc = kpis(dir.path(), period_args);
    let source = Source {
        path: log_csv(),
        format: "%d/%m/%Y %H:%M",
        tz: Sao_Paulo,
    };
    let (expected, counts) =
        oracle::expected(&source, midnight(start), midnight(end), midnight(end));
    assert_matches(&kpi_rows(&doc), &expected);
    let input = &doc["inputs"][0];
    assert_eq!(input["rows"].as_u64(), Some(counts.rows));
    assert_eq!(input["rejected"].as_u64(), Some(counts.rejected));
    doc
}

#[test]
fn whole_log_matches_the_independent_computation() {
    let doc = check(
        &["--from", "2016-01-01", "--to", "2018-01-01"],
        (2016, 1, 1),
        (2018, 1, 1),
    );
    assert_eq!(doc["inputs"][0]["rows"].as_u64(), Some(141_712));
    // Every incident was opened in the log's span.
    let created = value(&doc, "tickets_created", "value", "all", "all").unwrap();
    assert!(created > 24_000.0 && created <= 24_918.0, "{created}");
}

#[test]
fn a_month_matches_the_independent_computation() {
    check(&["--period", "2016-03"], (2016, 3, 1), (2016, 4, 1));
}

#[test]
fn the_month_of_the_spring_forward_gap_matches_too() {
    // Sao Paulo moved its clocks from 00:00 to 01:00 on 2016-10-16.
    check(&["--period", "2016-10"], (2016, 10, 1), (2016, 11, 1));
}

const OFFICE_CONFIG: &str = r#"
[report]
timezone = "America/Sao_Paulo"

[[sources]]
path = "incident_event_log.csv"
profile = "servicenow"
timezone = "America/Sao_Paulo"

[calendars.office]
timezone = "America/Sao_Paulo"
hours = { mon = "08:00-18:00", tue = "08:00-18:00", wed = "08:00-18:00", thu = "08:00-18:00", fri = "08:00-18:00" }
holidays = ["2016-03-25", "2016-04-21", "2016-09-07", "2016-10-12", "2016-11-02", "2016-11-15", "2016-12-25"]

[sla]
calendar = "office"
[sla.P1]
resolution = "8h"
calendar = "24x7"
[sla.P2]
resolution = "16h"
[sla.P3]
resolution = "40h"
[sla.P4]
resolution = "80h"
"#;

#[test]
fn business_hours_and_slas_with_pauses_match_the_independent_computation() {
    let dir = project(OFFICE_CONFIG, &[("incident_event_log.csv", log_csv())]);
    let source = Source {
        path: log_csv(),
        format: "%d/%m/%Y %H:%M",
        tz: Sao_Paulo,
    };
    let office = oracle::Office {
        tz: Sao_Paulo,
        open: (8, 0),
        close: (18, 0),
        holidays: [
            "2016-03-25",
            "2016-04-21",
            "2016-09-07",
            "2016-10-12",
            "2016-11-02",
            "2016-11-15",
            "2016-12-25",
        ]
        .iter()
        .map(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap())
        .collect(),
    };
    let targets = std::collections::BTreeMap::from([
        ("P1", (8, false)),
        ("P2", (16, true)),
        ("P3", (40, true)),
        ("P4", (80, true)),
    ]);
    for (args, start, end) in [
        (vec!["--period", "2016-03"], (2016, 3, 1), (2016, 4, 1)),
        (
            vec!["--from", "2016-01-01", "--to", "2018-01-01"],
            (2016, 1, 1),
            (2018, 1, 1),
        ),
    ] {
        let doc = kpis(dir.path(), &args);
        let expected = oracle::expected_business(
            &source,
            midnight(start),
            midnight(end),
            midnight(end),
            &office,
            &targets,
        );
        assert_matches(&kpi_rows(&doc), &expected);
        // Pauses make the business clock shorter than the wall clock, never longer.
        let business = value(&doc, "mttr_business_hours", "mean", "all", "all").unwrap();
        let calendar = value(&doc, "mttr_hours", "mean", "all", "all").unwrap();
        assert!(business < calendar, "{business} vs {calendar}");
    }
}
