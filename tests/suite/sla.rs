//! SLA decision instants and the business clock, on cases worked out by hand
//! (tests/data/servicenow/sla_cases.csv, UTC; office hours Monday to Friday 09:00-17:00).

use super::util::{data, deskpulse, kpis, project, row, value};

const CONFIG: &str = r#"
[report]
timezone = "UTC"

[[sources]]
path = "sla_cases.csv"
timezone = "UTC"

[calendars.office]
timezone = "UTC"
hours = { mon = "09:00-17:00", tue = "09:00-17:00", wed = "09:00-17:00", thu = "09:00-17:00", fri = "09:00-17:00" }

[sla]
calendar = "office"
[sla.P1]
resolution = "4h"
calendar = "24x7"
[sla.P3]
resolution = "8h"
"#;

fn run(period: &str) -> serde_json::Value {
    let dir = project(
        CONFIG,
        &[("sla_cases.csv", &data("servicenow/sla_cases.csv"))],
    );
    kpis(dir.path(), &["--period", period])
}

#[test]
fn a_breach_counts_in_the_month_it_happened() {
    // SLA-A ran out on Monday 28 September at 17:00 and was resolved the next day: a September
    // breach, even though the resolution came later.
    let september = run("2026-09");
    assert_eq!(
        value(&september, "sla_resolution_met_pct", "value", "all", "all"),
        Some(0.0)
    );
    assert_eq!(
        row(&september, "sla_resolution_met_pct", "value", "all", "all")["n"],
        1
    );
}

#[test]
fn october_decisions_worked_out_by_hand() {
    let october = run("2026-10");
    // Decided in October: B met (7 open hours), D breached at 12:00 on the 24x7 clock, E breached
    // at 17:00 although resolved at 17:30 after hours, F breached at 17:00 and still open. C is
    // still running at as_of (7 of 8 hours used): counted nowhere.
    let sla = row(&october, "sla_resolution_met_pct", "value", "all", "all");
    assert_eq!(
        (sla["numerator"].as_u64(), sla["denominator"].as_u64()),
        (Some(1), Some(4))
    );
    assert_eq!(sla["value"].as_f64(), Some(25.0));
    assert_eq!(
        value(&october, "sla_breached_open", "value", "all", "all"),
        Some(1.0)
    );
    assert_eq!(
        value(
            &october,
            "sla_resolution_met_pct",
            "value",
            "priority",
            "P1"
        ),
        Some(0.0)
    );
    // Business hours to resolve, October resolutions: B 7 h, D 4.5 h (24x7), E 8 h (its last half
    // hour was after closing time).
    assert_eq!(
        value(&october, "mttr_business_hours", "mean", "all", "all"),
        Some(6.5)
    );
    assert_eq!(
        value(&october, "mttr_business_hours", "median", "all", "all"),
        Some(7.0)
    );
    // No export here has a first-response time: no response SLA and no first-response KPI.
    let kpis: Vec<&str> = october["kpis"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kpi"].as_str().unwrap())
        .collect();
    assert!(!kpis.contains(&"sla_response_met_pct") && !kpis.contains(&"first_response_hours"));
}

#[test]
fn the_report_counts_breaches_by_month_and_lists_the_one_still_open() {
    // Worked out by hand (queries/tables/sla_breaches.sql, sla_open_breaches.sql): A breached
    // in September; D, E and F in October; F is the one still open, breached on 20 October at
    // 17:00, 271 hours (11 days and 7 hours) before the end of October.
    let dir = project(
        CONFIG,
        &[("sla_cases.csv", &data("servicenow/sla_cases.csv"))],
    );
    let out = tempfile::tempdir().unwrap();
    deskpulse()
        .args(["report", "--quiet", "--period", "2026-10", "--out"])
        .arg(out.path())
        .arg(dir.path())
        .assert()
        .success();
    let md = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    let months = md
        .lines()
        .find(|l| l.starts_with("Breaches by month of breach"))
        .expect("the breaches line");
    // The exports begin in September: no month before it is shown, as if nothing had happened.
    assert_eq!(
        months,
        "Breaches by month of breach (resolution): 2026-09: 1 · 2026-10: 3."
    );
    assert!(md.contains("Open and already breached: 1."), "{md}");
    let listed: Vec<&str> = md.lines().filter(|l| l.starts_with("| `SLA-")).collect();
    // each row ends with the command that explains it, on the configuration as given
    let explain = |id: &str| {
        format!(
            " `deskpulse explain {} {id} --period 2026-10` |",
            dir.path().display()
        )
    };
    assert_eq!(
        listed,
        [
            // 271 h is 11.3 days, shown in days (with a no-break space), at local time
            "| `SLA-F` | P3 | Desk | resolution | 20 Oct 2026 17:00 | 11.3\u{a0}d |".to_string()
                + &explain("SLA-F"),
            // D and E were resolved in October, half an hour after their breach
            "| `SLA-D` | P1 | Desk | 10 Oct 2026 12:00 | 10 Oct 2026 12:30 | 30\u{a0}min |"
                .to_string()
                + &explain("SLA-D"),
            "| `SLA-E` | P3 | Desk | 19 Oct 2026 17:00 | 19 Oct 2026 17:30 | 30\u{a0}min |"
                .to_string()
                + &explain("SLA-E"),
        ]
    );
    assert!(
        md.contains("Resolved in the period after a breach: 2."),
        "{md}"
    );
}
