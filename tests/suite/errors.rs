//! Bad input: clear errors that name the file (exit code 2), and rows that are reported, never
//! lost.

use predicates::prelude::*;

use super::util::{deskpulse, project, read_json};

const UTC_CONFIG: &str = "[report]\ntimezone = \"UTC\"\n\n[[sources]]\npath = \"export.csv\"\n";

fn write(dir: &std::path::Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).unwrap();
}

#[test]
fn a_missing_export_stops_the_run_naming_the_file() {
    let dir = project(UTC_CONFIG, &[]);
    deskpulse()
        .args(["kpis", "--quiet"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("export.csv").and(predicate::str::contains("no such file")),
        )
        .stderr(predicate::str::contains("panicked").not());
}

#[test]
fn a_file_that_is_not_an_export_stops_the_run() {
    let dir = project(UTC_CONFIG, &[]);
    write(
        dir.path(),
        "export.csv",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10",
    );
    deskpulse()
        .arg("kpis")
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("export.csv")
                .and(predicate::str::contains("no profile recognises")),
        );
}

#[test]
fn an_unrecognised_header_lists_its_columns_and_what_profiles_look_for() {
    let dir = project(UTC_CONFIG, &[]);
    write(
        dir.path(),
        "export.csv",
        b"Ticket,When,Who\n1,2026-10-01,me\n",
    );
    deskpulse()
        .arg("kpis")
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("`Ticket`").and(predicate::str::contains("servicenow")));
}

#[test]
fn truncated_json_stops_the_run_naming_the_file() {
    let dir = project(&UTC_CONFIG.replace("export.csv", "export.json"), &[]);
    write(
        dir.path(),
        "export.json",
        br#"{"result": [{"number": "INC1", "opened_at": "2026-10-01 10:00:00"}, {"numb"#,
    );
    deskpulse()
        .arg("kpis")
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("export.json").and(predicate::str::contains("not valid JSON")),
        );
}

#[test]
fn an_invalid_configuration_names_the_key() {
    let dir = project(
        "[report]\ntimezone = \"Mars/Olympus\"\n[[sources]]\npath = \"x.csv\"\n",
        &[],
    );
    deskpulse()
        .arg("kpis")
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("deskpulse.toml")
                .and(predicate::str::contains("Mars/Olympus")),
        );
    deskpulse()
        .args(["kpis", "--period", "2026-13", "."])
        .assert()
        .code(2);
}

#[test]
fn every_bad_row_and_value_is_reported_with_file_row_column_and_value() {
    let dir = project(UTC_CONFIG, &[]);
    let csv = "\
number,opened_at,priority,state,assignment_group,resolved_at
INC1,2026-10-01 09:00:00,1 - Critical,Closed,Network,2026-10-01 10:00:00
INC2,2026-10-01 09:00:00,9 - Whenever,Closed,Network,2026-10-01 10:00:00
INC3,2026-10-01 09:00:00,2 - High,Parked,Network,2026-10-01 10:00:00
INC4,not a date,2 - High,Closed,Network,2026-10-01 10:00:00
,2026-10-01 09:00:00,2 - High,Closed,Network,2026-10-01 10:00:00
INC5,2026-10-01 09:00:00,2 - High,Closed,Network
INC1,2026-10-02 09:00:00,2 - High,Closed,Network,2026-10-02 10:00:00
INC6,2026-10-01 09:00:00,2 - High,Closed,Network,1900-01-01 00:00:00
INC7,2026-10-05 09:00:00,2 - High,Closed,Network,2026-10-04 09:00:00
";
    write(dir.path(), "export.csv", csv.as_bytes());
    let out = tempfile::tempdir().unwrap();
    deskpulse()
        .args(["report", "--period", "2026-10", "--out"])
        .arg(out.path())
        .arg(dir.path())
        .assert()
        .success();
    let rejects = std::fs::read_to_string(out.path().join("rejects.csv")).unwrap();
    let expect = [
        "export.csv,3,priority,9 - Whenever,unknown priority value: not in the profile's [values.priority] map,value_nulled",
        "export.csv,4,state,Parked,unknown status value: not in the profile's [values.status] map,value_nulled",
        "export.csv,5,opened_at,not a date,creation time is not a timestamp in the file's format `%Y-%m-%d %H:%M:%S`,row_rejected",
        "export.csv,6,number,,no ticket id,row_rejected",
        "export.csv,7,,,\"row has 5 fields, the header has 6\",row_rejected",
        "export.csv,8,number,INC1,duplicate ticket id: an earlier row has it and is kept,row_rejected",
        "export.csv,9,resolved_at,1900-01-01 00:00:00,\"placeholder date (before 1980), not a real event\",value_nulled",
        "export.csv,10,resolved_at,2026-10-04 09:00:00,resolved at before the ticket's creation,value_nulled",
    ];
    for line in expect {
        assert!(
            rejects.lines().any(|l| l == line),
            "missing line\n  {line}\nin\n{rejects}"
        );
    }
    assert_eq!(rejects.lines().count(), expect.len() + 1, "{rejects}");
    let kpis = read_json(&out.path().join("kpis.json"));
    let input = &kpis["inputs"][0];
    assert_eq!(
        (
            input["rows"].as_u64(),
            input["accepted"].as_u64(),
            input["rejected"].as_u64()
        ),
        (Some(9), Some(5), Some(4))
    );
    let md = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    assert!(md.contains("9 rows read: 5 accepted, 4 rejected"), "{md}");
}

#[test]
fn spreadsheet_formulas_in_ticket_text_stay_text_in_csv() {
    let dir = project(UTC_CONFIG, &[]);
    let csv = "\
number,opened_at,priority,state,assignment_group,resolved_at
INC1,2026-10-01 09:00:00,1 - Critical,Closed,\"=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",2026-10-01 10:00:00
";
    write(dir.path(), "export.csv", csv.as_bytes());
    let out = tempfile::tempdir().unwrap();
    deskpulse()
        .args(["report", "--period", "2026-10", "--out"])
        .arg(out.path())
        .arg(dir.path())
        .assert()
        .success();
    let ledger = std::fs::read_to_string(out.path().join("ledger.csv")).unwrap();
    assert!(ledger.contains("\"'=HYPERLINK("), "{ledger}");
    assert!(
        !ledger.contains(",=HYPERLINK") && !ledger.contains(",\"=HYPERLINK"),
        "{ledger}"
    );
}
