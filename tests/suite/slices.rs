//! Exports in overlapping slices (issue 16): a ticket in two files of a source is one ticket, in
//! its later version, and the KPIs are those of one export of the final state.

use super::util::{deskpulse, kpi_rows, kpis, project, report_october, value};

pub(super) const HEADER: &str = "number,opened_at,state,priority,resolved_at,sys_updated_on\n";

/// September's slice, exported on 1 October: INC1 in progress, INC2 resolved, INC3 new.
pub(super) const SEPTEMBER: &str = "\
INC1,2026-09-10 09:00:00,In Progress,3 - Moderate,,2026-09-20 10:00:00
INC2,2026-09-12 09:00:00,Resolved,3 - Moderate,2026-09-13 09:00:00,2026-09-13 09:00:00
INC3,2026-09-25 09:00:00,New,3 - Moderate,,2026-09-25 09:00:00
";

/// October's slice: INC1 resolved, INC3 in progress, INC4 new and resolved; and INC2 as a stale
/// copy updated before September's version.
pub(super) const OCTOBER: &str = "\
INC1,2026-09-10 09:00:00,Resolved,3 - Moderate,2026-10-02 09:00:00,2026-10-02 09:00:00
INC2,2026-09-12 09:00:00,In Progress,3 - Moderate,,2026-09-12 10:00:00
INC3,2026-09-25 09:00:00,In Progress,3 - Moderate,,2026-10-20 12:00:00
INC4,2026-10-05 10:00:00,Resolved,3 - Moderate,2026-10-05 14:00:00,2026-10-05 14:00:00
";

/// One export of the final state.
pub(super) const FINAL: &str = "\
INC1,2026-09-10 09:00:00,Resolved,3 - Moderate,2026-10-02 09:00:00,2026-10-02 09:00:00
INC2,2026-09-12 09:00:00,Resolved,3 - Moderate,2026-09-13 09:00:00,2026-09-13 09:00:00
INC3,2026-09-25 09:00:00,In Progress,3 - Moderate,,2026-10-20 12:00:00
INC4,2026-10-05 10:00:00,Resolved,3 - Moderate,2026-10-05 14:00:00,2026-10-05 14:00:00
";

const CONFIG: &str = "[report]\ntimezone = \"UTC\"\n\n[[sources]]\npath = \"exports/*.csv\"\n\
    profile = \"servicenow\"\ntimezone = \"UTC\"\n";

/// A project with the given files under `exports/`.
pub(super) fn with_exports(files: &[(&str, String)]) -> tempfile::TempDir {
    let dir = project(CONFIG, &[]);
    std::fs::create_dir(dir.path().join("exports")).unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join("exports").join(name), text).unwrap();
    }
    dir
}

fn without_update_column(text: &str) -> String {
    text.lines()
        .map(|l| l.rsplit_once(',').unwrap().0.to_string() + "\n")
        .collect()
}

/// October's KPIs of the final state, by hand: created in October INC4; resolved INC1 (22 days)
/// and INC4 (4 h); open at its end INC3; INC2 resolved in September, its stale October copy
/// notwithstanding.
pub(super) fn assert_october_of_the_final_state(doc: &serde_json::Value) {
    let v = |kpi: &str, stat: &str| value(doc, kpi, stat, "all", "all");
    assert_eq!(v("tickets_created", "value"), Some(1.0));
    assert_eq!(v("tickets_resolved", "value"), Some(2.0));
    assert_eq!(v("backlog_open", "value"), Some(1.0));
    assert_eq!(v("mttr_hours", "mean"), Some((22.0 * 24.0 + 4.0) / 2.0));
}

#[test]
fn overlapping_slices_give_the_kpis_of_one_export_of_the_final_state() {
    let slices = with_exports(&[
        ("2026-09.csv", format!("{HEADER}{SEPTEMBER}")),
        ("2026-10.csv", format!("{HEADER}{OCTOBER}")),
    ]);
    let whole = with_exports(&[("all.csv", format!("{HEADER}{FINAL}"))]);
    let merged = kpis(slices.path(), &["--period", "2026-10"]);
    let one = kpis(whole.path(), &["--period", "2026-10"]);
    assert_eq!(kpi_rows(&merged), kpi_rows(&one));
    assert_october_of_the_final_state(&merged);
    // Every row read is accepted; none is rejected.
    for (input, rows) in merged["inputs"].as_array().unwrap().iter().zip([3, 4]) {
        assert_eq!(input["rows"].as_u64(), Some(rows), "{input}");
        assert_eq!(input["accepted"].as_u64(), Some(rows), "{input}");
        assert_eq!(input["rejected"].as_u64(), Some(0), "{input}");
    }

    let out = report_october(slices.path());
    let rejects = std::fs::read_to_string(out.path().join("rejects.csv")).unwrap();
    for replaced in [
        "exports/2026-09.csv,2,id,INC1,",
        "exports/2026-09.csv,4,id,INC3,",
        "exports/2026-10.csv,3,id,INC2,",
    ] {
        let line = rejects
            .lines()
            .find(|l| l.starts_with(replaced))
            .unwrap_or_else(|| panic!("{replaced} not in\n{rejects}"));
        assert!(line.ends_with(",row_replaced"), "{line}");
    }
    assert_eq!(rejects.lines().count(), 4, "{rejects}");
    let md = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    assert!(
        md.contains(
            "exports/2026-09.csv: 2 of its tickets are in another file of source \\`servicenow\\` \
             in a later version"
        ),
        "{md}"
    );
    assert!(
        md.contains("exports/2026-10.csv: 1 of its tickets are in another file"),
        "{md}"
    );
}

#[test]
fn an_id_another_source_also_has_is_a_ticket_of_its_own() {
    // Source `desk-b` has INC1 too, and INC9: two tickets of its own, neither replacing nor
    // replaced, while `servicenow`'s slices merge as they do alone.
    let slices = with_exports(&[
        ("2026-09.csv", format!("{HEADER}{SEPTEMBER}")),
        ("2026-10.csv", format!("{HEADER}{OCTOBER}")),
    ]);
    let other = "\
INC1,2026-10-06 09:00:00,Resolved,3 - Moderate,2026-10-06 10:00:00,2026-10-06 10:00:00
INC9,2026-10-07 09:00:00,New,3 - Moderate,,2026-10-07 09:00:00
";
    std::fs::create_dir(slices.path().join("other")).unwrap();
    std::fs::write(
        slices.path().join("other/b.csv"),
        format!("{HEADER}{other}"),
    )
    .unwrap();
    let config = format!(
        "{CONFIG}\n[[sources]]\npath = \"other/b.csv\"\nname = \"desk-b\"\nprofile = \"servicenow\"\n"
    );
    std::fs::write(slices.path().join("deskpulse.toml"), config).unwrap();
    let doc = kpis(slices.path(), &["--period", "2026-10"]);
    let b = &doc["inputs"][2];
    assert_eq!(b["path"].as_str(), Some("other/b.csv"), "{doc}");
    assert_eq!(b["accepted"].as_u64(), Some(2), "{b}");
    // October by hand: created INC4 and desk-b's INC1 and INC9; resolved INC1, INC4 and
    // desk-b's INC1; open at its end INC3 and INC9.
    let v = |kpi: &str| value(&doc, kpi, "value", "all", "all");
    assert_eq!(v("tickets_created"), Some(3.0));
    assert_eq!(v("tickets_resolved"), Some(3.0));
    assert_eq!(v("backlog_open"), Some(2.0));
    let out = report_october(slices.path());
    let rejects = std::fs::read_to_string(out.path().join("rejects.csv")).unwrap();
    assert_eq!(rejects.lines().count(), 4, "{rejects}");
    assert!(!rejects.contains("other/b.csv"), "{rejects}");
}

#[test]
fn without_an_update_time_the_later_file_wins() {
    // No sys_updated_on: INC2's October copy (in progress) is the later file's, so it is kept,
    // and INC2 is open at the end of October beside INC3.
    let slices = with_exports(&[
        (
            "2026-09.csv",
            without_update_column(&format!("{HEADER}{SEPTEMBER}")),
        ),
        (
            "2026-10.csv",
            without_update_column(&format!("{HEADER}{OCTOBER}")),
        ),
    ]);
    let doc = kpis(slices.path(), &["--period", "2026-10"]);
    assert_eq!(
        value(&doc, "backlog_open", "value", "all", "all"),
        Some(2.0)
    );
    assert_eq!(
        value(&doc, "tickets_resolved", "value", "all", "all"),
        Some(2.0)
    );
}

#[test]
fn one_file_that_repeats_an_id_still_rejects_the_repeat() {
    let text = format!(
        "{HEADER}{SEPTEMBER}INC1,2026-09-10 09:00:00,New,3 - Moderate,,2026-09-10 09:00:00\n"
    );
    let dir = with_exports(&[("2026-09.csv", text)]);
    let out = deskpulse()
        .args(["kpis", "--period", "2026-10", "--format", "json"])
        .arg(dir.path())
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["inputs"][0]["rejected"].as_u64(), Some(1), "{doc}");
}

#[test]
fn overlapping_event_log_slices_count_each_update_once() {
    // The event log split into two files that share their middle third: the tickets, their
    // reopens and their pauses are those of the whole log.
    let log = std::fs::read_to_string(super::util::data("servicenow/incident_log.csv")).unwrap();
    let (header, rows) = log.split_once('\n').unwrap();
    let rows: Vec<&str> = rows.lines().collect();
    let (third, two_thirds) = (rows.len() / 3, rows.len() * 2 / 3);
    let slice = |part: &[&str]| format!("{header}\n{}\n", part.join("\n"));
    let slices = with_exports(&[
        ("log-1.csv", slice(&rows[..two_thirds])),
        ("log-2.csv", slice(&rows[third..])),
    ]);
    let whole = with_exports(&[("log.csv", log.clone())]);
    let (a, b) = (
        kpis(slices.path(), &["--period", "2026-10"]),
        kpis(whole.path(), &["--period", "2026-10"]),
    );
    assert!(
        a["kpis"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["kpi"] == "reopen_pct")
    );
    assert_eq!(kpi_rows(&a), kpi_rows(&b));
}

#[test]
fn an_update_stamp_before_the_opening_is_kept() {
    // Regression: the UCI log has tickets whose `opened_at` an agent set after their last
    // update; the stamp only orders versions, so it is neither nulled nor reported.
    let text = format!("{HEADER}INC9,2026-10-05 10:00:00,New,3 - Moderate,,2026-10-04 09:00:00\n");
    let dir = with_exports(&[("2026-10.csv", text)]);
    let out = report_october(dir.path());
    let rejects = std::fs::read_to_string(out.path().join("rejects.csv")).unwrap();
    assert_eq!(rejects.lines().count(), 1, "{rejects}");
}
