//! "What changed": the split of a moved figure, the volume spike and the problem candidates,
//! on exports built so that the answer is known by construction.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

use super::util::{deskpulse, read_json};

const CONFIG: &str = r#"
[report]
timezone = "UTC"

[[sources]]
path = "incidents.csv"
profile = "servicenow"
timezone = "UTC"
"#;

/// One incident: resolved `hours` after it was opened.
struct Incident {
    opened: String,
    hours: u32,
    group: String,
    category: String,
    ci: String,
}

/// `count` incidents of a group in a month, one a day from the 1st at 08:00 (a second round
/// at 09:00 past the 28th), each on its own configuration item, resolved after `hours`.
fn month_of(month: &str, group: &str, count: u32, hours: u32, category: &str) -> Vec<Incident> {
    (0..count)
        .map(|i| Incident {
            opened: format!("{month}-{:02} {:02}:00:00", i % 28 + 1, 8 + i / 28),
            hours,
            group: group.to_string(),
            category: category.to_string(),
            ci: format!("PC-{month}-{group}-{i}"),
        })
        .collect()
}

fn export(incidents: &[Incident]) -> String {
    let mut csv = String::from(
        "number,opened_at,priority,state,assignment_group,category,cmdb_ci,resolved_at\n",
    );
    for (i, t) in incidents.iter().enumerate() {
        let opened = chrono::NaiveDateTime::parse_from_str(&t.opened, "%Y-%m-%d %H:%M:%S").unwrap();
        let resolved = opened + chrono::Duration::hours(t.hours.into());
        writeln!(
            csv,
            "INC{i:05},{},3 - Moderate,Resolved,{},{},{},{}",
            t.opened,
            t.group,
            t.category,
            t.ci,
            resolved.format("%Y-%m-%d %H:%M:%S")
        )
        .unwrap();
    }
    csv
}

/// `report --period 2026-10` of the project in `dir`: its kpis.json and report.md.
fn report_october(dir: &Path) -> (Value, String) {
    let out = dir.join("out");
    deskpulse()
        .args(["report", "--quiet", "--period", "2026-10", "--out"])
        .arg(&out)
        .arg(dir)
        .assert()
        .success();
    (
        read_json(&out.join("kpis.json")),
        std::fs::read_to_string(out.join("report.md")).unwrap(),
    )
}

/// A project of these incidents with `config`.
fn project(config: &str, incidents: &[Incident]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("deskpulse.toml"), config).unwrap();
    std::fs::write(dir.path().join("incidents.csv"), export(incidents)).unwrap();
    dir
}

/// The `changes` entry of a kind for a KPI.
fn change<'a>(doc: &'a Value, kind: &str, kpi: &str) -> &'a Value {
    doc["changes"]
        .as_array()
        .expect("a changes array")
        .iter()
        .find(|c| c["change"] == kind && c["kpi"] == kpi)
        .unwrap_or_else(|| panic!("no {kind} of {kpi} in {}", doc["changes"]))
}

fn dimension<'a>(entry: &'a Value, name: &str) -> &'a Value {
    entry["split"]["dimensions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["dimension"] == name)
        .unwrap_or_else(|| panic!("no {name} split in {entry}"))
}

fn part<'a>(split: &'a Value, key: &str) -> &'a Value {
    split["parts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["key"] == key)
        .unwrap_or_else(|| panic!("no part {key} in {split}"))
}

fn number(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// Each dimension's parts add up to the change of the figure it splits.
fn assert_parts_add_up(entry: &Value) {
    let split = &entry["split"];
    let total = number(&split["after"]) - number(&split["before"]);
    for d in split["dimensions"].as_array().unwrap() {
        let sum: f64 = d["parts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| number(&p["change"]))
            .sum();
        assert!(
            (sum - total).abs() < 1e-9,
            "{}: {sum} ≠ {total}",
            d["dimension"]
        );
    }
}

#[test]
fn a_pure_rate_change_is_all_rate_of_the_group_that_slowed() {
    // September: groups A and B, 30 incidents each, 10 h to resolve. October: A takes 20 h.
    // The median goes from 10 h to 15 h, the mean from 10 h to 15 h: all of it A's rate.
    let mut rows = Vec::new();
    for (month, a_hours) in [("2026-09", 10), ("2026-10", 20)] {
        rows.extend(month_of(month, "A", 30, a_hours, "Hardware"));
        rows.extend(month_of(month, "B", 30, 10, "Hardware"));
    }
    let dir = project(CONFIG, &rows);
    let (doc, md) = report_october(dir.path());
    let mttr = change(&doc, "kpi_move", "mttr_hours");
    assert_eq!(
        (number(&mttr["before"]), number(&mttr["after"])),
        (10.0, 15.0)
    );
    assert_eq!(mttr["split"]["stat"], "mean");
    // the only dimension with more than one key
    let groups = &mttr["split"]["dimensions"][0];
    assert_eq!(groups["dimension"], "assignment_group");
    let a = part(groups, "A");
    assert_eq!(
        (number(&a["rate"]), number(&a["mix"]), number(&a["change"])),
        (5.0, 0.0, 5.0)
    );
    let b = part(groups, "B");
    assert_eq!((number(&b["rate"]), number(&b["mix"])), (0.0, 0.0));
    assert_parts_add_up(mttr);
    let sentence = "100\u{a0}% of the rise is Assignment group A: its mean went from \
                    10.0\u{a0}h to 20.0\u{a0}h on a similar share of the tickets (50\u{a0}%)";
    assert!(md.contains(sentence), "{md}");
    assert!(
        md.contains("see What changed"),
        "the headline points to the explanation"
    );
}

#[test]
fn a_pure_mix_change_is_all_mix() {
    // A takes 10 h and B 30 h in both months; B's share goes from a quarter to three quarters.
    // Mean 15 h → 25 h. The average of the means is 20 h: each group moved it 5 h.
    let mut rows = Vec::new();
    for (month, a, b) in [("2026-09", 45, 15), ("2026-10", 15, 45)] {
        rows.extend(month_of(month, "A", a, 10, "Hardware"));
        rows.extend(month_of(month, "B", b, 30, "Hardware"));
    }
    let dir = project(CONFIG, &rows);
    let (doc, _) = report_october(dir.path());
    let mttr = change(&doc, "kpi_move", "mttr_hours");
    let split = &mttr["split"];
    assert_eq!(
        (number(&split["before"]), number(&split["after"])),
        (15.0, 25.0)
    );
    let groups = dimension(mttr, "assignment_group");
    for key in ["A", "B"] {
        let p = part(groups, key);
        assert_eq!((number(&p["rate"]), number(&p["mix"])), (0.0, 5.0), "{key}");
    }
    assert_parts_add_up(mttr);
}

#[test]
fn a_spike_names_the_category_and_item_that_caused_it_and_the_repeats() {
    // April to September: 20 incidents a month on their own items. October: the same 20, and
    // 30 more of category Network, 28 of them on one switch a day apart, each resolved in an
    // hour: every one of those after the first repeats the one before.
    let mut rows = Vec::new();
    for month in [
        "2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10",
    ] {
        rows.extend(month_of(month, "Desk", 20, 4, "Hardware"));
    }
    let mut outage = month_of("2026-10", "Net", 30, 1, "Network");
    for incident in &mut outage[..28] {
        incident.ci = "SW-CORE-1".to_string();
    }
    rows.extend(outage);
    let dir = project(CONFIG, &rows);
    let (doc, md) = report_october(dir.path());

    let spike = change(&doc, "volume_spike", "tickets_created");
    assert_eq!(number(&spike["created"]), 50.0);
    assert_eq!(
        (number(&spike["median"]), number(&spike["mad"])),
        (20.0, 0.0)
    );
    let drivers = spike["drivers"].as_array().unwrap();
    let driver = |dimension: &str| {
        drivers
            .iter()
            .find(|d| d["dimension"] == dimension)
            .unwrap_or_else(|| panic!("{spike}"))
    };
    assert_eq!(driver("category")["key"], "Network");
    assert_eq!(number(&driver("category")["created"]), 30.0);
    assert_eq!(driver("ci")["key"], "SW-CORE-1");
    assert_eq!(number(&driver("ci")["usual"]), 0.0);
    // one ticket on a new item is no driver of a rise of 30
    assert_eq!(drivers.len(), 2, "{spike}");

    // the count splits by group: all 30 more tickets are Net's
    let created = change(&doc, "kpi_move", "tickets_created");
    let groups = dimension(created, "assignment_group");
    assert_eq!(groups["parts"][0]["key"], "Net");
    assert_eq!(number(&groups["parts"][0]["change"]), 30.0);
    assert_parts_add_up(created);

    // 28 incidents on the switch, the 27 after the first each a repeat
    let line = md
        .lines()
        .find(|l| l.starts_with("| SW-CORE-1 |"))
        .unwrap_or_else(|| panic!("no problem candidate line: {md}"));
    assert_eq!(line, "| SW-CORE-1 | 28 | 27 | 28 | 27 |");
    assert!(
        md.contains("**Volume spike.** Tickets created in 2026-10: 50"),
        "{md}"
    );
}

#[test]
fn a_move_below_the_threshold_is_not_one_and_the_threshold_is_configurable() {
    // A slows from 10 h to 11 h: the median rises 5 %, below the default 10 %.
    let mut rows = Vec::new();
    for (month, a_hours) in [("2026-09", 10), ("2026-10", 11)] {
        rows.extend(month_of(month, "A", 30, a_hours, "Hardware"));
        rows.extend(month_of(month, "B", 30, 10, "Hardware"));
    }
    let dir = project(CONFIG, &rows);
    let (doc, md) = report_october(dir.path());
    assert_eq!(doc["changes"], serde_json::json!([]));
    assert!(md.contains("No headline figure moved that far."), "{md}");

    let dir = project(
        &format!("{CONFIG}\n[what_changed]\nmin_change_pct = 4\n"),
        &rows,
    );
    let (doc, _) = report_october(dir.path());
    let mttr = change(&doc, "kpi_move", "mttr_hours");
    assert!((number(&mttr["relative_pct"]) - 5.0).abs() < 1e-9, "{mttr}");
    assert_parts_add_up(mttr);
}

#[test]
fn kpis_compares_only_in_json() {
    let dir = project(CONFIG, &month_of("2026-10", "A", 3, 1, "Hardware"));
    let previous = dir.path().join("previous.json");
    std::fs::write(&previous, "{}").unwrap();
    let out = deskpulse()
        .args(["kpis", "--quiet", "--previous"])
        .arg(&previous)
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--previous") && stderr.contains("--format json"),
        "{stderr}"
    );
}

#[test]
fn a_category_that_slowed_leads_the_split_whether_september_is_measured_or_read() {
    // Groups A and B each have 15 Network and 15 Hardware incidents a month, all 10 h to
    // resolve in September; in October Network takes 20 h. The mean goes from 10 h to 15 h:
    // all of it Network's rate by category, half of it each group's by group.
    let mut rows = Vec::new();
    for (month, network_hours) in [("2026-09", 10), ("2026-10", 20)] {
        for group in ["A", "B"] {
            rows.extend(month_of(month, group, 15, network_hours, "Network"));
            let mut hardware = month_of(month, group, 15, 10, "Hardware");
            for incident in &mut hardware {
                incident.ci.push_str("-hw");
            }
            rows.extend(hardware);
        }
    }
    let dir = project(CONFIG, &rows);
    let (doc, md) = report_october(dir.path());
    let mttr = change(&doc, "kpi_move", "mttr_hours");
    assert_eq!(mttr["split"]["dimensions"][0]["dimension"], "category");
    let categories = dimension(mttr, "category");
    let network = part(categories, "Network");
    assert_eq!(
        (
            number(&network["rate"]),
            number(&network["mix"]),
            number(&network["change"])
        ),
        (5.0, 0.0, 5.0)
    );
    assert_eq!(number(&part(categories, "Hardware")["change"]), 0.0);
    let groups = dimension(mttr, "assignment_group");
    for key in ["A", "B"] {
        let p = part(groups, key);
        assert_eq!((number(&p["rate"]), number(&p["mix"])), (2.5, 0.0), "{key}");
    }
    assert_parts_add_up(mttr);
    let sentence = "100\u{a0}% of the rise is Category Network: its mean went from \
                    10.0\u{a0}h to 20.0\u{a0}h on a similar share of the tickets (50\u{a0}%)";
    assert!(md.contains(sentence), "{md}");

    // September's kpis.json carries the category rows: read back, the same changes
    let september = dir.path().join("september");
    deskpulse()
        .args(["report", "--quiet", "--period", "2026-09", "--out"])
        .arg(&september)
        .arg(dir.path())
        .assert()
        .success();
    let out = dir.path().join("read");
    deskpulse()
        .args(["report", "--quiet", "--period", "2026-10", "--previous"])
        .arg(september.join("kpis.json"))
        .arg("--out")
        .arg(&out)
        .arg(dir.path())
        .assert()
        .success();
    assert_eq!(read_json(&out.join("kpis.json"))["changes"], doc["changes"]);
}
