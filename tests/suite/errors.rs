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

#[test]
fn names_with_brackets_and_stars_are_paths_not_patterns() {
    // regression: `tickets [2026-10].csv` and a folder `dir [q4]/` were read as glob patterns
    // ("no file matches this pattern")
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("dir [q4]");
    std::fs::create_dir(&dir).unwrap();
    let export = super::util::repo().join("sample_data/incidents.csv");
    std::fs::copy(&export, dir.join("tickets [2026-10].csv")).unwrap();
    let whole = super::util::kpis(&export, &["--period", "2026-10"]);
    // the file named on the command line, the folder in directory mode
    let file = super::util::kpis(&dir.join("tickets [2026-10].csv"), &["--period", "2026-10"]);
    let folder = super::util::kpis(&dir, &["--period", "2026-10"]);
    assert_eq!(file["kpis"], whole["kpis"]);
    assert_eq!(folder["kpis"], whole["kpis"]);
    // a configured pattern inside such a folder is a pattern over that folder only
    std::fs::write(
        dir.join("deskpulse.toml"),
        "[[sources]]\npath = \"tickets*.csv\"\nprofile = \"servicenow\"\n",
    )
    .unwrap();
    let configured = super::util::kpis(&dir, &["--period", "2026-10"]);
    assert_eq!(configured["kpis"], whole["kpis"]);
}

#[test]
fn a_file_name_with_a_line_break_or_quote_is_read_in_directory_mode() {
    // regression: the configuration made for a directory broke on such a name (a TOML error)
    let dir = tempfile::tempdir().unwrap();
    let export = super::util::repo().join("sample_data/incidents.csv");
    std::fs::copy(&export, dir.path().join("tick\nets \"q4\".csv")).unwrap();
    let whole = super::util::kpis(&export, &["--period", "2026-10"]);
    let folder = super::util::kpis(dir.path(), &["--period", "2026-10"]);
    assert_eq!(folder["kpis"], whole["kpis"]);
}

#[test]
fn escape_sequences_in_an_export_never_reach_the_terminal() {
    // regression: a header's ESC sequence was printed as it was, and drove the terminal
    let dir = project(UTC_CONFIG, &[]);
    write(
        dir.path(),
        "export.csv",
        b"\x1b[2J\x1b[31mTicket,When\x07,Who\n1,2026-10-01,me\n",
    );
    let out = deskpulse().arg("kpis").arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        !out.stderr.iter().any(|b| *b == 0x1b || *b == 0x07),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("\\u{1b}[31mTicket"),
        "shown, not hidden: {stderr}"
    );
}

#[test]
fn a_far_future_date_is_set_aside_and_moves_no_period() {
    // regression: a ticket dated 9999-06-01 made the default period 9999-06, and
    // 9999-12-31 23:59:59 stopped the run with DuckDB's conversion error
    let dir = project(UTC_CONFIG, &[]);
    let csv = "\
number,opened_at,priority,state,assignment_group,resolved_at
INC1,2026-10-01 09:00:00,1 - Critical,Closed,Network,2026-10-01 10:00:00
INC2,9999-06-01 09:00:00,2 - High,New,Network,
INC3,2026-10-02 09:00:00,2 - High,Closed,Network,9999-12-31 23:59:59
";
    write(dir.path(), "export.csv", csv.as_bytes());
    let out = tempfile::tempdir().unwrap();
    deskpulse()
        .args(["report", "-q", "--out"])
        .arg(out.path())
        .arg(dir.path())
        .assert()
        .success();
    let kpis = read_json(&out.path().join("kpis.json"));
    assert_eq!(kpis["period"]["label"], "2026-10");
    let rejects = std::fs::read_to_string(out.path().join("rejects.csv")).unwrap();
    for line in [
        "export.csv,3,opened_at,9999-06-01 09:00:00,\"creation time is in 2100 or later, not a real event\",row_rejected",
        "export.csv,4,resolved_at,9999-12-31 23:59:59,\"date in 2100 or later, not a real event\",value_nulled",
    ] {
        assert!(rejects.lines().any(|l| l == line), "{line}\nin\n{rejects}");
    }
}

#[test]
fn one_export_named_by_two_sources_is_a_configuration_error() {
    // regression: read twice, it reported 840 rows read and 0 accepted while the KPIs used 419
    let config = format!("{UTC_CONFIG}\n[[sources]]\npath = \"*.csv\"\n");
    let dir = project(&config, &[]);
    write(
        dir.path(),
        "export.csv",
        b"number,opened_at\nINC1,2026-10-01 09:00:00\n",
    );
    deskpulse()
        .args(["kpis", "-q"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "export.csv is named by [[sources]] #1 and #2",
        ));
}

#[cfg(unix)]
#[test]
fn a_pattern_over_symbolic_link_loops_reads_each_file_once() {
    // regression: `**` went round one loop 41 times and never finished two
    let config = UTC_CONFIG.replace("path = \"export.csv\"", "path = \"**/*.csv\"");
    let dir = project(&config, &[]);
    let sub = dir.path().join("a/b");
    std::fs::create_dir_all(&sub).unwrap();
    write(
        &sub,
        "export.csv",
        b"number,opened_at\nINC1,2026-10-01 09:00:00\n",
    );
    std::os::unix::fs::symlink(dir.path(), sub.join("up")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("a"), dir.path().join("a/again")).unwrap();
    let doc = super::util::kpis(dir.path(), &["--period", "2026-10"]);
    let inputs: Vec<&str> = doc["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["path"].as_str().unwrap())
        .collect();
    assert_eq!(inputs, ["a/b/export.csv"], "one file, read once");
}

#[test]
fn a_report_of_an_export_with_no_accepted_row_says_why() {
    // regression: `report` failed ("Invalid column type Null ... has_values") and wrote no
    // rejects.csv when every row was rejected; `kpis` handled the same input
    let dir = project(UTC_CONFIG, &[]);
    write(
        dir.path(),
        "export.csv",
        b"number,opened_at\nINC1,not a date\n,2026-10-01 09:00:00\n",
    );
    let out = tempfile::tempdir().unwrap();
    deskpulse()
        .args(["report", "-q", "--period", "2026-10", "--out"])
        .arg(out.path())
        .arg(dir.path())
        .assert()
        .success();
    let rejects = std::fs::read_to_string(out.path().join("rejects.csv")).unwrap();
    assert!(
        rejects.contains("export.csv,2,opened_at,not a date"),
        "{rejects}"
    );
    assert!(
        rejects.contains("export.csv,3,number,,no ticket id"),
        "{rejects}"
    );
    let kpis = read_json(&out.path().join("kpis.json"));
    assert_eq!(kpis["inputs"][0]["accepted"], 0);
}

#[test]
fn an_error_about_a_file_that_is_no_export_quotes_only_a_short_excerpt() {
    // regression: the whole first line of any file a path pointed at was quoted
    let dir = project(UTC_CONFIG, &[]);
    let secret = format!("root:$6${}:19000:0:99999:7:::", "x".repeat(86));
    write(
        dir.path(),
        "export.csv",
        format!("{secret}\nme:x\n").as_bytes(),
    );
    let out = deskpulse().arg("kpis").arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no profile recognises"), "{stderr}");
    assert!(!stderr.contains(&secret[..60]), "{stderr}");
}

#[test]
fn an_output_that_cannot_be_written_says_why_once() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    write(dir.path(), "a-file", b"mine");
    let sample = super::util::repo().join("sample_data");
    let runs = [
        ["report".to_string(), "--out".to_string()],
        ["ingest".to_string(), "--store".to_string()],
    ];
    for [command, flag] in runs {
        let out = deskpulse()
            .args([&command, "--quiet"])
            .arg(&sample)
            .arg(flag)
            .arg(file.join("below"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{command}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("cannot write"), "{stderr}");
        let reason = stderr.rsplit(": ").next().unwrap().trim();
        assert_eq!(stderr.matches(reason).count(), 1, "{stderr}");
    }
}

#[test]
fn a_memory_limit_duckdb_cannot_read_stops_the_run_before_the_exports_are_read() {
    // The export is missing too: the limit's error comes first, so no ingest ran.
    let dir = project(UTC_CONFIG, &[]);
    deskpulse()
        .args(["kpis", "--quiet", "--memory-limit", "lots"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--memory-limit lots: not a size such as 2GiB or 500MB",
        ))
        .stderr(predicate::str::contains("export.csv").not())
        .stderr(predicate::str::contains("DuckDB").not());
}
