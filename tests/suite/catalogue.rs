//! The rest of the KPI catalogue, on tickets worked out by hand (tests/data/catalogue, UTC,
//! October 2026): repeats (one exactly at the window's edge, one without a key), first-assignment
//! resolution, CSAT, backlog age, change success and failure with a custom outcome field, and
//! cost with a service that has costs and no tickets.

use serde_json::Value;

use super::util::{data, deskpulse, kpis, project, repo, row, value};

const CONFIG: &str = r#"
[report]
timezone = "UTC"

[[sources]]
path = "incidents.csv"
profile = "servicenow"
timezone = "UTC"
[sources.columns]
labor_minutes = "u_labor"
csat = "u_csat"

[[sources]]
path = "change_request.csv"
timezone = "UTC"
[sources.columns]
change_outcome = "u_substate"
[sources.values.change_outcome]
"All Changes Completed" = "successful"
"Partial Change Completed" = "successful_with_issues"
"Change Unsuccessful-Rolled Back" = "unsuccessful"
"Change Cancelled - Will Not Be Performed" = "cancelled"

[repeat]
window_days = 30

[changes]
failure_window_days = 7

[costs]
default_hourly_rate = 60.0
group_rates = { "Desk" = 40.0 }
monthly_service_costs = { "Mail" = 3100.0, "Unused" = 1000.0 }
"#;

fn october() -> Value {
    let dir = project(
        CONFIG,
        &[
            ("incidents.csv", &data("catalogue/incidents.csv")),
            ("change_request.csv", &data("catalogue/change_request.csv")),
        ],
    );
    kpis(dir.path(), &["--period", "2026-10"])
}

fn pct(doc: &Value, kpi: &str, dimension: &str, key: &str) -> (Option<f64>, u64, u64, u64, u64) {
    let r = row(doc, kpi, "value", dimension, key);
    (
        r["value"].as_f64(),
        r["numerator"].as_u64().unwrap(),
        r["denominator"].as_u64().unwrap(),
        r["n"].as_u64().unwrap(),
        r["missing"].as_u64().unwrap(),
    )
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

#[test]
fn the_change_export_is_recognised_as_changes() {
    let doc = october();
    let inputs = doc["inputs"].as_array().unwrap();
    assert_eq!(inputs[0]["profile"], "servicenow");
    assert_eq!(inputs[1]["profile"], "servicenow_change");
}

#[test]
fn repeat_incidents_with_an_edge_case_and_a_missing_key() {
    let doc = october();
    // Created in October with a key: K2, K3, K5, K7, K8, K9; K4 has none. Repeats: K2 (K1
    // resolved 23 days before), K3 (K2 a week before), K5 (K6 resolved exactly 30 days before:
    // the window's edge is inside it).
    let (v, num, den, n, missing) = pct(&doc, "repeat_incident_pct", "all", "all");
    assert!(close(v, 50.0), "{v:?}");
    assert_eq!((num, den, n, missing), (3, 6, 6, 1));
}

/// The incidents with the configuration's `[repeat] key` in place of the default (`ci`).
fn october_keyed_by(key: &str) -> Value {
    let config = CONFIG.replace(
        "window_days = 30",
        &format!("window_days = 30\nkey = {key}"),
    );
    let dir = project(
        &config,
        &[
            ("incidents.csv", &data("catalogue/incidents.csv")),
            ("change_request.csv", &data("catalogue/change_request.csv")),
        ],
    );
    kpis(dir.path(), &["--period", "2026-10"])
}

#[test]
fn repeat_incidents_keyed_by_several_fields() {
    // By group and service, every October ticket has a key (K4 too: it lacks only a CI). Repeats:
    // K2 (K1), K3 (K2), K4 (K3 resolved the day before), K5 (K6), K7 (K5 resolved 21 October),
    // K8 (K4); K9's service is its own.
    let doc = october_keyed_by(r#"["assignment_group", "service"]"#);
    let (v, num, den, n, missing) = pct(&doc, "repeat_incident_pct", "all", "all");
    assert!(close(v, 600.0 / 7.0), "{v:?}");
    assert_eq!((num, den, n, missing), (6, 7, 7, 0));
    // A key field missing leaves the whole key missing: K4 has no CI.
    let doc = october_keyed_by(r#"["service", "ci"]"#);
    let (v, num, den, n, missing) = pct(&doc, "repeat_incident_pct", "all", "all");
    assert!(close(v, 50.0), "{v:?}");
    assert_eq!((num, den, n, missing), (3, 6, 6, 1));
    // By the help desk's own state text, a column no KPI query reads: every October ticket
    // but K7 (the only one "In Progress") follows a "Closed" one resolved within the window.
    let doc = october_keyed_by(r#"["raw_status"]"#);
    let (v, num, den, n, missing) = pct(&doc, "repeat_incident_pct", "all", "all");
    assert!(close(v, 600.0 / 7.0), "{v:?}");
    assert_eq!((num, den, n, missing), (6, 7, 7, 0));
}

#[test]
fn first_assignment_resolution() {
    let doc = october();
    // Resolved in October: K2 (reassigned), K3 (reopened), K4, K8 and K9 (neither); K5's
    // reassignment count is unknown.
    let (v, num, den, _, missing) = pct(&doc, "first_assignment_resolution_pct", "all", "all");
    assert!(close(v, 60.0), "{v:?}");
    assert_eq!((num, den, missing), (3, 5, 1));
}

#[test]
fn csat_by_top_two_box() {
    let doc = october();
    // K2 rated 2 (dissatisfied), K5 rated 4 (satisfied), K4 offered and unanswered, K3, K8 and K9
    // never asked.
    let (v, num, den, ..) = pct(&doc, "csat_pct", "all", "all");
    assert!(close(v, 50.0), "{v:?}");
    assert_eq!((num, den), (1, 2));
    let (v, num, den, ..) = pct(&doc, "csat_response_rate_pct", "all", "all");
    assert!(close(v, 200.0 / 3.0), "{v:?}");
    assert_eq!((num, den), (2, 3));
}

#[test]
fn backlog_age_and_its_buckets() {
    let doc = october();
    // Open at 2026-11-01 00:00: K7, created 25 October 09:00: 6.625 days.
    assert_eq!(
        value(&doc, "backlog_age_days", "median", "all", "all"),
        Some(6.625)
    );
    assert_eq!(
        value(&doc, "backlog_age_days", "value", "age_bucket", "6-30"),
        Some(1.0)
    );
    assert_eq!(
        value(&doc, "backlog_age_days", "value", "age_bucket", "0-1"),
        Some(0.0)
    );
    assert_eq!(
        value(&doc, "backlog_age_days", "value", "age_bucket", ">90"),
        Some(0.0)
    );
}

#[test]
fn change_success_and_failure() {
    let doc = october();
    // Closed in October and implemented: CHG001 and CHG002 successful, CHG003 unsuccessful, CHG006
    // successful with issues. CHG004 was cancelled; CHG005 has no outcome (missing). K7, created 5
    // days after CHG002 closed, names it as its cause: CHG002 failed. K8 names CHG001, but 12 days
    // after its close, outside the 7-day window.
    let (v, num, den, _, missing) = pct(&doc, "change_success_pct", "all", "all");
    assert!(close(v, 50.0), "{v:?}");
    assert_eq!((num, den, missing), (2, 4, 1));
    let (v, num, den, ..) = pct(&doc, "change_failure_pct", "all", "all");
    assert!(close(v, 50.0), "{v:?}");
    assert_eq!((num, den), (2, 4));
}

#[test]
fn cost_allocations_add_up() {
    let doc = october();
    // Labour of the tickets resolved in October: K2 30 min, K3 90 min and K9 15 min at 40/h
    // (Desk), K5 45 min at the default 60/h (Ops) = 20 + 60 + 10 + 45 = 135; K4 and K8 have no
    // time worked. Fixed: Mail 3,100 for October, Unused 1,000 with no tickets.
    let v = |dimension: &str, key: &str| value(&doc, "cost_total", "value", dimension, key);
    assert_eq!(v("all", "all"), Some(4235.0));
    let total = row(&doc, "cost_total", "value", "all", "all");
    assert_eq!(
        (total["n"].as_u64(), total["missing"].as_u64()),
        (Some(6), Some(2))
    );
    assert_eq!(v("service", "Mail"), Some(3180.0));
    assert_eq!(v("service", "Web"), Some(45.0));
    assert_eq!(v("service", "Unused"), Some(1000.0));
    assert_eq!(
        v("service", "=HYPERLINK(\"http://evil\",\"x\")"),
        Some(10.0)
    );
    let per_ticket = |key: &str| {
        value(
            &doc,
            "cost_per_ticket",
            "value",
            if key == "all" { "all" } else { "service" },
            key,
        )
    };
    assert!((per_ticket("all").unwrap() - 4235.0 / 6.0).abs() < 1e-9);
    // Mail: K2, K3, K4, K8 resolved; 3,180 / 4.
    assert_eq!(per_ticket("Mail"), Some(795.0));
    assert_eq!(per_ticket("Unused"), None);
    // Every breakdown adds up to the total.
    for dimension in ["service", "priority", "kind", "assignment_group"] {
        let sum: f64 = doc["kpis"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["kpi"] == "cost_total" && r["dimension"] == dimension)
            .map(|r| r["value"].as_f64().unwrap_or(0.0))
            .sum();
        assert!((sum - 4235.0).abs() < 1e-6, "{dimension}: {sum}");
    }
    assert_eq!(
        value(&doc, "cost_total", "value", "priority", "(fixed costs)"),
        Some(4100.0)
    );
}

#[test]
fn labour_times_that_are_no_duration_are_set_aside_not_summed() {
    // regression: NaN, infinite and 1e308 minutes were accepted and stopped the cost query
    let incidents = std::fs::read_to_string(data("catalogue/incidents.csv"))
        .unwrap()
        .replace(",0,0,,,offered,", ",0,0,,NaN,offered,")
        .replace(",0,0,CHG001,,,", ",0,0,CHG001,1e308,,")
        .replace(",0,0,,,,2026-09-20", ",0,0,,-inf,,2026-09-20");
    let written = tempfile::tempdir().unwrap();
    let path = written.path().join("incidents.csv");
    std::fs::write(&path, &incidents).unwrap();
    let dir = project(
        CONFIG,
        &[
            ("incidents.csv", &path),
            ("change_request.csv", &data("catalogue/change_request.csv")),
        ],
    );
    let out = super::util::report_october(dir.path());
    // the same figures as with those cells empty (cost_allocations_add_up)
    let doc = super::util::read_json(&out.path().join("kpis.json"));
    assert_eq!(
        value(&doc, "cost_total", "value", "all", "all"),
        Some(4235.0)
    );
    let total = row(&doc, "cost_total", "value", "all", "all");
    assert_eq!(total["missing"].as_u64(), Some(2));
    let rejects = std::fs::read_to_string(out.path().join("rejects.csv")).unwrap();
    let set_aside: Vec<&str> = rejects
        .lines()
        .filter(|l| l.contains("u_labor") && l.contains("not a duration"))
        .collect();
    assert_eq!(set_aside.len(), 3, "{rejects}");
    for value in ["NaN", "1e308", "-inf"] {
        assert!(
            set_aside.iter().any(|l| l.contains(value)),
            "{value}: {rejects}"
        );
    }
}

#[test]
fn the_volume_trend_has_twelve_months() {
    let doc = october();
    let months: Vec<&Value> = doc["kpis"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kpi"] == "tickets_created" && r["dimension"] == "month")
        .collect();
    assert_eq!(months.len(), 12);
    assert_eq!(months[0]["key"], "2025-11");
    // October: seven incidents (K2-K5, K7-K9) and four changes opened then (CHG002, CHG003,
    // CHG005, CHG006; CHG004 is cancelled). September: K1, K6, CHG001, CHG007.
    assert_eq!(
        value(&doc, "tickets_created", "value", "month", "2026-10"),
        Some(11.0)
    );
    assert_eq!(
        value(&doc, "tickets_created", "value", "month", "2026-09"),
        Some(4.0)
    );
    assert_eq!(
        value(&doc, "tickets_resolved", "value", "month", "2026-09"),
        Some(2.0)
    );
}

#[test]
fn the_finance_workbook_matches_kpis_json_and_keeps_formulas_as_text() {
    use calamine::{Data, DataType, Reader, Xlsx, open_workbook_from_rs};
    let dir = project(
        CONFIG,
        &[
            ("incidents.csv", &data("catalogue/incidents.csv")),
            ("change_request.csv", &data("catalogue/change_request.csv")),
        ],
    );
    let out = super::util::report_october(dir.path());
    let doc = super::util::read_json(&out.path().join("kpis.json"));
    let bytes = std::fs::read(out.path().join("costs.xlsx")).unwrap();
    let mut book: Xlsx<_> = open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    assert_eq!(
        book.sheet_names(),
        [
            "Service",
            "Assignment group",
            "Kind",
            "Month",
            "Assumptions"
        ]
    );
    let headline = value(&doc, "cost_total", "value", "all", "all").unwrap();
    let services = book.worksheet_range("Service").unwrap();
    let mut total = 0.0;
    let mut formula_cell = None;
    let body: Vec<&[Data]> = services.rows().skip(1).collect();
    let (last, body) = body.split_last().unwrap();
    for row in body {
        if let Data::Float(cost) = row[5] {
            total += cost;
        }
        if let Data::String(name) = &row[0]
            && name.starts_with('=')
        {
            formula_cell = Some(name.clone());
        }
    }
    assert!((total - headline).abs() < 1e-6);
    assert_eq!(last[0], Data::String("Total".into()));
    assert_eq!(last[5], Data::Float(headline), "the Service sheet's total");
    // Every sheet that splits the period's cost totals to the headline, labour and fixed apart.
    for sheet in ["Assignment group", "Kind"] {
        let range = book.worksheet_range(sheet).unwrap();
        let header: Vec<String> = range
            .rows()
            .next()
            .unwrap()
            .iter()
            .map(|c| c.to_string())
            .collect();
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        let (labour_at, cost_at) = (col("Labour"), col("Cost"));
        let rows: Vec<&[Data]> = range.rows().skip(1).collect();
        let (total, body) = rows.split_last().unwrap();
        assert_eq!(total[0], Data::String("Total".into()), "{sheet}");
        assert_eq!(total[cost_at], Data::Float(headline), "{sheet}");
        let (labour, fixed) = (
            total[labour_at].as_f64().unwrap(),
            total[col("Fixed")].as_f64().unwrap(),
        );
        assert!(
            (labour + fixed - headline).abs() < 1e-6,
            "{sheet}: {labour} + {fixed}"
        );
        if sheet == "Assignment group" {
            // By hand: Desk worked 30 + 90 + 15 min (K2, K3, K9; K4 and K8 have no time) at its
            // own 40/h, Ops 45 min (K5) at the default 60/h; the rate is not added up.
            let group = |name: &str| {
                *body
                    .iter()
                    .find(|r| r[0] == Data::String(name.into()))
                    .unwrap()
            };
            let (desk, ops) = (group("Desk"), group("Ops"));
            let (hours, rate, source) = (col("Hours worked"), col("Hourly rate"), col("Rate"));
            assert_eq!(desk[hours], Data::Float(2.25));
            assert_eq!(desk[rate], Data::Float(40.0));
            assert_eq!(desk[source], Data::String("the group's own".into()));
            assert_eq!(ops[hours], Data::Float(0.75));
            assert_eq!(ops[rate], Data::Float(60.0));
            assert_eq!(ops[source], Data::String("the default".into()));
            assert_eq!(total[hours], Data::Float(3.0));
            assert_eq!(total[rate], Data::Empty);
        }
        for row in body {
            for cell in &row[labour_at..=cost_at] {
                let v = cell.as_f64().unwrap();
                assert_eq!(
                    (v * 100.0).round() / 100.0,
                    v,
                    "{sheet}: {v} is not in cents"
                );
            }
        }
    }
    let assumptions = book.worksheet_range("Assumptions").unwrap();
    let as_of = assumptions
        .rows()
        .find(|r| r[0] == Data::String("As of (UTC)".into()))
        .unwrap();
    // 2026-11-01 00:00 as a date cell: Excel's serial day 46,327.
    assert!(
        matches!(&as_of[1], Data::DateTime(d) if d.is_datetime() && d.as_f64() == 46_327.0),
        "{:?}",
        as_of[1]
    );
    assert!(assumptions.rows().any(|r| {
        r[0] == Data::String("Rule".into())
            && r[1]
                .to_string()
                .contains("raises the overall cost per ticket")
    }));

    // ledger.csv carries each ticket's labour cost: those of the period's resolved tickets and
    // the fixed costs make the headline.
    let mut ledger = csv::Reader::from_path(out.path().join("ledger.csv")).unwrap();
    let header = ledger.headers().unwrap().clone();
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (resolved, cancelled, cost) = (at("resolved_at"), at("is_cancelled"), at("labor_cost"));
    let records: Vec<csv::StringRecord> = ledger.records().map(|r| r.unwrap()).collect();
    // By hand: K2 30 min and K3 90 min at Desk's 40/h, K5 45 min at the default 60/h; K4 has
    // no time worked.
    let cost_of = |id: &str| {
        let row = records.iter().find(|r| &r[at("id")] == id).unwrap();
        row[cost].to_string()
    };
    assert_eq!(
        ["K2", "K3", "K4", "K5"].map(cost_of),
        ["20.0", "60.0", "", "45.0"]
    );
    let labour: f64 = records
        .iter()
        .filter(|r| r[resolved].starts_with("2026-10") && &r[cancelled] == "false")
        .filter_map(|r| r[cost].parse::<f64>().ok())
        .sum();
    let fixed = last[4].as_f64().unwrap();
    assert!(labour > 0.0);
    assert!(
        (labour + fixed - headline).abs() < 1e-6,
        "{labour} + {fixed} != {headline}"
    );
    assert_eq!(
        formula_cell.as_deref(),
        Some("=HYPERLINK(\"http://evil\",\"x\")"),
        "kept as a string, not a formula"
    );
    let months = book.worksheet_range("Month").unwrap();
    let october = months
        .rows()
        .find(|r| r[0] == Data::String("2026-10".into()))
        .unwrap();
    assert_eq!(
        october[3],
        Data::Float(value(&doc, "cost_total", "value", "month", "2026-10").unwrap())
    );
    // From the first month with a cost (the fixture's tickets begin in September), and a
    // total of the months shown.
    let first = months.rows().nth(1).unwrap();
    assert_eq!(first[0], Data::String("2026-09".into()));
    let twelve = months.rows().next_back().unwrap();
    assert_eq!(twelve[0], Data::String("Total".into()));
    let sum: f64 = months
        .rows()
        .skip(1)
        .filter(|r| r[0] != twelve[0])
        .filter_map(|r| r[3].as_f64())
        .sum();
    assert!((twelve[3].as_f64().unwrap() - sum).abs() < 1e-6);
    let csv = std::fs::read_to_string(out.path().join("costs_service.csv")).unwrap();
    assert!(csv.contains("\"'=HYPERLINK("), "{csv}");
}

/// The built-in query files with their `runs_if` conditions taken out: every family runs.
fn queries_run_unconditionally() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(repo().join("queries")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            continue; // queries/tables/: no `runs_if` there
        }
        let text: String = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with("runs_if"))
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(dir.path().join(path.file_name().unwrap()), text).unwrap();
    }
    dir
}

#[test]
fn families_not_run_for_want_of_data_would_have_measured_nothing() {
    let unconditional = queries_run_unconditionally();
    let all = unconditional.path().to_str().unwrap();
    // incidents without ratings, first responses, SLA policies, changes or costs; the sample
    // (SLA policies, no changes); this file's tickets (ratings, changes, costs)
    let plain = project(
        "[report]\ntimezone = \"UTC\"\n[[sources]]\npath = \"incidents.csv\"\ntimezone = \"UTC\"\n",
        &[("incidents.csv", &data("servicenow/incidents_fields.csv"))],
    );
    let rich = project(
        CONFIG,
        &[
            ("incidents.csv", &data("catalogue/incidents.csv")),
            ("change_request.csv", &data("catalogue/change_request.csv")),
        ],
    );
    let sample = repo().join("sample_data");
    for dir in [plain.path(), rich.path(), sample.as_path()] {
        let conditional = kpis(dir, &["--period", "2026-10"]);
        let everything = kpis(dir, &["--period", "2026-10", "--queries", all]);
        assert!(!conditional["kpis"].as_array().unwrap().is_empty());
        assert_eq!(conditional["kpis"], everything["kpis"], "{}", dir.display());
    }
    let out = deskpulse()
        .arg("kpis")
        .arg(plain.path())
        .args(["--period", "2026-10", "--format", "json", "-v"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    for family in ["changes", "costs", "csat", "first_response", "sla"] {
        assert!(
            said.contains(&format!("query {family}: not run")),
            "{family}: {said}"
        );
    }
}
