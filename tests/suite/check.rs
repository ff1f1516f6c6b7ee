//! `deskpulse check`: thresholds set the exit code (0 held, 1 breached, 2 invalid).

use predicates::prelude::*;

use super::util::{data, deskpulse, project};

fn config(thresholds: &str) -> String {
    format!(
        "[report]\ntimezone = \"UTC\"\n\n[[sources]]\npath = \"incidents_fields.csv\"\ntimezone = \"UTC\"\n\n[thresholds]\n{thresholds}\n"
    )
}

fn check(thresholds: &str, extra: &[&str]) -> assert_cmd::assert::Assert {
    let dir = project(
        &config(thresholds),
        &[(
            "incidents_fields.csv",
            &data("servicenow/incidents_fields.csv"),
        )],
    );
    deskpulse()
        .args(["check", "--period", "2026-10"])
        .args(extra)
        .arg(dir.path())
        .assert()
}

#[test]
fn thresholds_that_hold_exit_zero() {
    // The hand-computed fixture: median MTTR 6 h, reopened 20 %, P2 mean MTTR 39 h.
    check(
        "mttr_hours = { max = 24.0, stat = \"median\" }\nreopen_pct = { max = 25.0 }\ntickets_created = { min = 1 }",
        &[],
    )
    .code(0)
    .stdout(predicate::str::contains("held: mttr_hours median all=all: 6.00 h, max 24.0 h"));
}

#[test]
fn a_breach_exits_one_and_names_kpi_dimension_value_and_limit() {
    check("reopen_pct = { max = 10.0 }\nmttr_hours = { max = 24.0, stat = \"mean\", dimension = \"priority\" }", &["-q"])
        .code(1)
        .stdout(predicate::str::contains("BREACHED: reopen_pct value all=all: 20.0 %, max 10.0 %"))
        // every priority key is checked; only P2 (39 h) is over
        .stdout(predicate::str::contains("BREACHED: mttr_hours mean priority=P2: 39.0 h, max 24.0 h"))
        .stdout(predicate::str::contains("priority=P1").not());
}

#[test]
fn json_for_machines() {
    let out = check("reopen_pct = { max = 10.0 }", &["--format", "json"])
        .code(1)
        .get_output()
        .stdout
        .clone();
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(doc["breached"], 1);
    assert_eq!(doc["thresholds"][0]["status"], "breached");
    assert_eq!(doc["thresholds"][0]["value"], 20.0);
}

#[test]
fn invalid_thresholds_exit_two() {
    check("mean_time_to_happiness = { max = 1.0 }", &[])
        .code(2)
        .stderr(
            predicate::str::contains("mean_time_to_happiness")
                .and(predicate::str::contains("no KPI of that name")),
        );
    // a KPI these exports cannot measure
    check("csat_pct = { min = 80.0 }", &[])
        .code(2)
        .stderr(predicate::str::contains("not measured"));
    // a stat the KPI does not have
    check("reopen_pct = { max = 10.0, stat = \"p90\" }", &[])
        .code(2)
        .stderr(predicate::str::contains("no row with stat `p90`"));
    // a threshold without a bound is a configuration error
    check("reopen_pct = { stat = \"value\" }", &[]).code(2);
}

#[test]
fn a_threshold_on_no_kpi_stops_kpis_and_report_too() {
    // regression: `kpis` and `report` ignored a misspelt KPI in [thresholds]
    let dir = project(
        &config("mttr_hour = { max = 24.0 }"),
        &[(
            "incidents_fields.csv",
            &data("servicenow/incidents_fields.csv"),
        )],
    );
    let out = tempfile::tempdir().unwrap();
    for args in [
        vec!["kpis", "--period", "2026-10"],
        vec![
            "report",
            "--period",
            "2026-10",
            "--out",
            out.path().to_str().unwrap(),
        ],
    ] {
        deskpulse()
            .args(&args)
            .arg(dir.path())
            .assert()
            .code(2)
            .stderr(
                predicate::str::contains("[thresholds] mttr_hour: no KPI of that name")
                    .and(predicate::str::contains("mttr_hours")),
            );
    }
}

#[test]
fn an_unknown_dimension_is_an_error_naming_the_valid_ones() {
    // regression: `kpis --dimension category` printed an empty table and exited 0
    let dir = project(
        &config("mttr_hours = { max = 24.0 }"),
        &[(
            "incidents_fields.csv",
            &data("servicenow/incidents_fields.csv"),
        )],
    );
    deskpulse()
        .args(["kpis", "--period", "2026-10", "--dimension", "categroy"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("--dimension categroy")
                .and(predicate::str::contains("assignment_group"))
                .and(predicate::str::contains("priority")),
        );
    deskpulse()
        .args([
            "kpis",
            "--period",
            "2026-10",
            "--dimension",
            "priority",
            "-q",
        ])
        .arg(dir.path())
        .assert()
        .success();
}

/// `check` on exports without a configuration says that there is none, not that it lacks
/// `[thresholds]`.
#[test]
fn check_without_a_configuration_says_so() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        super::util::repo().join("sample_data/incidents.csv"),
        dir.path().join("incidents.csv"),
    )
    .unwrap();
    let run = super::util::deskpulse()
        .arg("check")
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("no configuration (no --config, and no deskpulse.toml beside the exports)"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("no [thresholds] in the configuration"),
        "{stderr}"
    );
}
