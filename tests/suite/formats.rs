//! The same ServiceNow tickets in every shape ServiceNow writes them give the same KPIs, and
//! those KPIs are the ones computed by hand (tests/data/servicenow/incidents_fields.csv, UTC,
//! October 2026).

use serde_json::Value;

use super::util::{data, deskpulse, kpis, project, row, value};

fn config(file: &str) -> String {
    format!("[report]\ntimezone = \"UTC\"\n\n[[sources]]\npath = \"{file}\"\ntimezone = \"UTC\"\n")
}

fn run(file: &str) -> Value {
    let dir = project(
        &config(file),
        &[(file, &data(&format!("servicenow/{file}")))],
    );
    kpis(dir.path(), &["--period", "2026-10"])
}

/// The figures worked out by hand from the ten tickets of the fixture.
fn assert_hand_computed(doc: &Value) {
    let v = |kpi, stat, dim, key| value(doc, kpi, stat, dim, key);
    // Created in October, not cancelled: INC001-004, 007, 009, 010.
    assert_eq!(v("tickets_created", "value", "all", "all"), Some(7.0));
    // Resolved in October: INC001, 002, 003, 005, 010 (INC007 in November, INC009 has no time).
    assert_eq!(v("tickets_resolved", "value", "all", "all"), Some(5.0));
    // Open at 2026-11-01: INC004 (in progress) and INC007 (resolved on 2 November).
    assert_eq!(v("backlog_open", "value", "all", "all"), Some(2.0));
    // Hours to resolve: 2, 4, 6, 24, 72.
    assert_eq!(v("mttr_hours", "mean", "all", "all"), Some(21.6));
    assert_eq!(v("mttr_hours", "median", "all", "all"), Some(6.0));
    let p90 = v("mttr_hours", "p90", "all", "all").unwrap();
    assert!((p90 - 52.8).abs() < 1e-9, "p90 {p90}");
    assert_eq!(row(doc, "mttr_hours", "mean", "all", "all")["n"], 5);
    // One of the five resolved was reopened (INC002).
    assert_eq!(v("reopen_pct", "value", "all", "all"), Some(20.0));
    assert_eq!(
        row(doc, "reopen_pct", "value", "all", "all")["numerator"],
        1
    );
    assert_eq!(
        row(doc, "reopen_pct", "value", "all", "all")["denominator"],
        5
    );
    // made_sla: four true, one false.
    assert_eq!(v("source_sla_met_pct", "value", "all", "all"), Some(80.0));
    // By priority.
    assert_eq!(v("mttr_hours", "mean", "priority", "P2"), Some(39.0));
    let p2_p90 = v("mttr_hours", "p90", "priority", "P2").unwrap();
    assert!((p2_p90 - 65.4).abs() < 1e-9, "{p2_p90}");
    assert_eq!(v("mttr_hours", "median", "priority", "P3"), Some(14.0));
    assert_eq!(v("tickets_created", "value", "priority", "P3"), Some(4.0));
    assert_eq!(v("backlog_open", "value", "priority", "P4"), Some(1.0));
    // P4 has no resolution in October: null, not zero, with n = 0.
    assert_eq!(v("mttr_hours", "mean", "priority", "P4"), None);
    assert_eq!(row(doc, "mttr_hours", "mean", "priority", "P4")["n"], 0);
    assert_eq!(v("reopen_pct", "value", "priority", "P4"), None);
    assert_eq!(
        row(doc, "reopen_pct", "value", "priority", "P4")["denominator"],
        0
    );
    // A ticket without a service is counted under (none).
    assert_eq!(
        v("tickets_created", "value", "service", "(none)"),
        Some(1.0)
    );
    assert_eq!(
        v("tickets_resolved", "value", "assignment_group", "Network"),
        Some(3.0)
    );
}

#[test]
fn list_export_with_field_names_gives_the_hand_computed_kpis() {
    let doc = run("incidents_fields.csv");
    assert_hand_computed(&doc);
    let input = &doc["inputs"][0];
    assert_eq!(input["profile"], "servicenow");
    assert_eq!(
        (
            input["rows"].as_u64(),
            input["accepted"].as_u64(),
            input["rejected"].as_u64()
        ),
        (Some(10), Some(10), Some(0))
    );
}

#[test]
fn blank_lines_are_no_rows() {
    // a blank line after the header, one ending in CRLF between tickets, two at the end
    let text = std::fs::read_to_string(data("servicenow/incidents_fields.csv")).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(1, "");
    lines.insert(5, "\r");
    let file = "incidents_blank_lines.csv";
    let dir = project(&config(file), &[]);
    std::fs::write(dir.path().join(file), format!("{}\n\n\n", lines.join("\n"))).unwrap();
    let doc = kpis(dir.path(), &["--period", "2026-10"]);
    assert_hand_computed(&doc);
    let input = &doc["inputs"][0];
    assert_eq!(
        (input["rows"].as_u64(), input["rejected"].as_u64()),
        (Some(10), Some(0))
    );
}

#[test]
fn padding_late_in_a_column_is_trimmed_like_padding_early() {
    // Regression: whether a column was trimmed was decided on its first 1,000 values, so a
    // padded group after them made a second key (" Network ") and a blank one no null.
    let text = std::fs::read_to_string(data("servicenow/incidents_fields.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let header = lines.remove(0);
    let mut out = vec![header];
    for i in 0..1200 {
        out.push(format!(
            "\"FILL{i:05}\",\"2026-09-01 09:00:00\",\"filler\",\"Ana\",\"4 - Low\",\"Closed\",\
             \"Network\",\"Bo\",\"VPN\",\"0\",\"true\",\"2026-09-01 10:00:00\",\"2026-09-02 10:00:00\""
        ));
    }
    out.extend(lines.into_iter().map(|l| {
        l.replace("\"Network\"", "\"  Network \"")
            .replace("\"Service Desk\"", "\"   \"")
    }));
    let file = "incidents_padded_late.csv";
    let dir = project(&config(file), &[]);
    std::fs::write(dir.path().join(file), out.join("\n")).unwrap();
    let doc = kpis(dir.path(), &["--period", "2026-10"]);
    let keys: Vec<&str> = doc["kpis"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kpi"] == "tickets_created" && r["dimension"] == "assignment_group")
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert!(keys.contains(&"Network"), "{keys:?}");
    assert!(
        keys.iter().all(|k| k.trim() == *k && !k.is_empty()),
        "{keys:?}"
    );
    assert!(!keys.contains(&"Service Desk"), "{keys:?}");
    assert!(
        keys.contains(&"(none)"),
        "whitespace only is no group: {keys:?}"
    );
}

#[test]
fn a_declared_encoding_is_used_and_an_assumed_one_is_said() {
    let file = "incidents_labels_cp1252.csv";
    let fixture = data(&format!("servicenow/{file}"));
    let run = |extra: &str| {
        let dir = project(&format!("{}{extra}", config(file)), &[(file, &fixture)]);
        deskpulse()
            .arg("kpis")
            .arg(dir.path())
            .args(["--period", "2026-10", "--format", "json"])
            .output()
            .unwrap()
    };
    let declared = run("encoding = \"windows-1252\"\n");
    assert!(declared.status.success(), "{declared:?}");
    let stderr = String::from_utf8_lossy(&declared.stderr);
    assert!(!stderr.contains("not UTF-8"), "{stderr}");
    assert_hand_computed(&serde_json::from_slice(&declared.stdout).unwrap());

    let assumed = run("");
    assert!(assumed.status.success(), "{assumed:?}");
    let stderr = String::from_utf8_lossy(&assumed.stderr);
    assert!(
        stderr.contains("not UTF-8 and its source declares no encoding: read as Windows-1252"),
        "{stderr}"
    );
    assert_hand_computed(&serde_json::from_slice(&assumed.stdout).unwrap());

    let unknown = run("encoding = \"klingon\"\n");
    assert_eq!(unknown.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        stderr.contains("encoding `klingon` is not an encoding"),
        "{stderr}"
    );
}

#[test]
fn label_headers_crlf_windows_1252_and_day_first_dates_give_the_same_kpis() {
    let doc = run("incidents_labels_cp1252.csv");
    assert_hand_computed(&doc);
}

#[test]
fn table_api_json_gives_the_same_kpis() {
    let doc = run("incidents_api.json");
    assert_hand_computed(&doc);
}

#[test]
fn kpis_are_sorted_and_every_row_carries_n_and_missing() {
    let doc = run("incidents_fields.csv");
    let rows = doc["kpis"].as_array().unwrap();
    let keys: Vec<(String, String, String, String)> = rows
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap().to_string();
            (s("kpi"), s("stat"), s("dimension"), s("key"))
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    for r in rows {
        assert!(r["n"].is_u64() && r["missing"].is_u64(), "{r}");
        if r["kpi"].as_str().unwrap().ends_with("_pct") {
            assert!(
                r.get("numerator").is_some() && r.get("denominator").is_some(),
                "{r}"
            );
        }
    }
    assert_eq!(doc["period"]["start"], "2026-10-01T00:00:00+00:00");
    assert_eq!(doc["as_of"], "2026-11-01T00:00:00+00:00");
}

#[test]
fn event_log_collapses_to_tickets_and_finds_reopens_in_the_history() {
    let dir = project(
        &config("incident_log.csv"),
        &[("incident_log.csv", &data("servicenow/incident_log.csv"))],
    );
    let doc = kpis(dir.path(), &["--period", "2026-10"]);
    let input = &doc["inputs"][0];
    // 15 update rows, all accepted as history; three tickets.
    assert_eq!(
        (
            input["rows"].as_u64(),
            input["accepted"].as_u64(),
            input["rejected"].as_u64()
        ),
        (Some(15), Some(15), Some(0))
    );
    assert_eq!(
        value(&doc, "tickets_created", "value", "all", "all"),
        Some(3.0)
    );
    assert_eq!(
        value(&doc, "tickets_resolved", "value", "all", "all"),
        Some(3.0)
    );
    // INC100 went Resolved -> Active although its reopen_count says 0.
    assert_eq!(
        row(&doc, "reopen_pct", "value", "all", "all")["numerator"],
        1
    );
    // Hours: INC100 1 Oct 09:00 -> 3 Oct 12:00 = 51; INC101 12; INC102 48.
    assert_eq!(value(&doc, "mttr_hours", "mean", "all", "all"), Some(37.0));
    assert_eq!(
        value(&doc, "mttr_hours", "median", "all", "all"),
        Some(48.0)
    );
}

#[test]
fn as_of_before_the_period_end_treats_later_events_as_not_happened() {
    let dir = project(
        &config("incidents_fields.csv"),
        &[(
            "incidents_fields.csv",
            &data("servicenow/incidents_fields.csv"),
        )],
    );
    let doc = kpis(
        dir.path(),
        &["--period", "2026-10", "--as-of", "2026-10-04T00:00:00Z"],
    );
    // Created in October and known by then: INC001 and INC002 (INC003 arrives on 5 October).
    assert_eq!(
        value(&doc, "tickets_created", "value", "all", "all"),
        Some(2.0)
    );
    // Resolved by then in October: INC001 (1 Oct), INC005 (1 Oct), INC002 (3 Oct).
    assert_eq!(
        value(&doc, "tickets_resolved", "value", "all", "all"),
        Some(3.0)
    );
    // All incidents: 2 h, 72 h and 24 h. No calendar, SLA or history, so the business clock is
    // the calendar clock, and INC007's resolution in November counts on neither.
    for kpi in ["mttr_hours", "mttr_business_hours"] {
        let mean = value(&doc, kpi, "mean", "all", "all").unwrap();
        assert!((mean - 98.0 / 3.0).abs() < 1e-9, "{kpi}: {mean}");
        assert_eq!(
            value(&doc, kpi, "median", "all", "all"),
            Some(24.0),
            "{kpi}"
        );
    }
    assert_eq!(doc["as_of"], "2026-10-04T00:00:00+00:00");
}

#[test]
fn the_ledger_lists_the_tickets_behind_the_period_with_their_values() {
    let dir = project(
        &config("incidents_fields.csv"),
        &[(
            "incidents_fields.csv",
            &data("servicenow/incidents_fields.csv"),
        )],
    );
    let out = super::util::report_october(dir.path());
    let ledger = std::fs::read_to_string(out.path().join("ledger.csv")).unwrap();
    let mut rows = csv::Reader::from_reader(ledger.as_bytes());
    let header = rows.headers().unwrap().clone();
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    let records: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    let ids: Vec<&str> = records.iter().map(|r| &r[at("id")]).collect();
    // INC008 lived and died in September; everything else touches October (INC005 was resolved
    // in it, INC006 was closed in it, INC007 is open at its end).
    assert_eq!(
        ids,
        [
            "INC001", "INC002", "INC003", "INC004", "INC005", "INC006", "INC007", "INC009",
            "INC010"
        ]
    );
    let inc002 = records.iter().find(|r| &r[at("id")] == "INC002").unwrap();
    assert_eq!(inc002[at("resolve_hours")].parse::<f64>().unwrap(), 24.0);
    assert_eq!(&inc002[at("reopened")], "true");
    assert_eq!(&inc002[at("priority")], "P3");
    let inc009 = records.iter().find(|r| &r[at("id")] == "INC009").unwrap();
    assert_eq!(&inc009[at("resolved_without_timestamp")], "true");
    // INC007 was resolved on 2 November, after as_of: not yet. Its export says "Resolved" with
    // a resolution time, so it is open at as_of, not resolved without one.
    let inc007 = records.iter().find(|r| &r[at("id")] == "INC007").unwrap();
    assert_eq!(&inc007[at("resolved_at")], "");
    assert_eq!(&inc007[at("resolved_without_timestamp")], "false");
    assert_eq!(&inc007[at("resolve_hours")], "");
}

/// The export as an Excel workbook, as "Export > Excel" writes it: numbers as numbers, times as
/// Excel dates, the rest as text; and a second sheet that is not the export.
fn as_workbook(csv_path: &std::path::Path) -> Vec<u8> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut reader = csv::Reader::from_path(csv_path).unwrap();
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    let date = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    for (col, name) in reader.headers().unwrap().iter().enumerate() {
        sheet.write_string(0, col as u16, name).unwrap();
    }
    for (r, record) in reader.records().enumerate() {
        for (col, text) in record.unwrap().iter().enumerate() {
            let (row, col) = (r as u32 + 1, col as u16);
            let when = (text.contains('-') && text.contains(':'))
                .then(|| ExcelDateTime::parse_from_str(text).ok())
                .flatten();
            if let Some(when) = when {
                sheet
                    .write_datetime_with_format(row, col, &when, &date)
                    .unwrap();
            } else if let Ok(number) = text.parse::<f64>() {
                sheet.write_number(row, col, number).unwrap();
            } else if !text.is_empty() {
                sheet.write_string(row, col, text).unwrap();
            }
        }
    }
    workbook
        .add_worksheet()
        .set_name("Notes")
        .unwrap()
        .write_string(0, 0, "not tickets")
        .unwrap();
    workbook.save_to_buffer().unwrap()
}

#[test]
fn an_xlsx_export_gives_the_kpis_of_the_same_export_as_csv() {
    let csv_path = data("servicenow/incidents_fields.csv");
    let config = |file: &str| {
        format!(
            "[report]\ntimezone = \"UTC\"\n\n[[sources]]\npath = \"{file}\"\ntimezone = \"UTC\"\n"
        )
    };
    let from_csv = project(&config("incidents.csv"), &[("incidents.csv", &csv_path)]);
    let from_xlsx = project(&config("incidents.xlsx"), &[]);
    std::fs::write(
        from_xlsx.path().join("incidents.xlsx"),
        as_workbook(&csv_path),
    )
    .unwrap();
    let (a, b) = (
        kpis(from_csv.path(), &["--period", "2026-10"]),
        kpis(from_xlsx.path(), &["--period", "2026-10"]),
    );
    assert!(a["kpis"].as_array().unwrap().len() > 50);
    assert_eq!(a["kpis"], b["kpis"]);
    assert_eq!(a["inputs"][0]["rows"], b["inputs"][0]["rows"]);
    assert_eq!(b["inputs"][0]["profile"], "servicenow");
    // the other sheet is said, not read
    let out = deskpulse()
        .args(["kpis", "--period", "2026-10"])
        .arg(from_xlsx.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("incidents.xlsx: read its first sheet, Sheet1; not read: Notes"),
        "{stderr}"
    );
}

#[test]
fn an_opendocument_sheet_gives_the_kpis_of_the_same_export_as_csv() {
    // tests/data/servicenow/incidents_fields.ods holds the CSV's cells, numbers as numbers
    let config = |file: &str| {
        format!(
            "[report]\ntimezone = \"UTC\"\n\n[[sources]]\npath = \"{file}\"\ntimezone = \"UTC\"\n"
        )
    };
    let from_csv = project(
        &config("incidents.csv"),
        &[("incidents.csv", &data("servicenow/incidents_fields.csv"))],
    );
    let from_ods = project(
        &config("incidents.ods"),
        &[("incidents.ods", &data("servicenow/incidents_fields.ods"))],
    );
    let (a, b) = (
        kpis(from_csv.path(), &["--period", "2026-10"]),
        kpis(from_ods.path(), &["--period", "2026-10"]),
    );
    assert!(a["kpis"].as_array().unwrap().len() > 50);
    assert_eq!(a["kpis"], b["kpis"]);
    assert_eq!(a["inputs"][0]["rows"], b["inputs"][0]["rows"]);
}

#[test]
fn a_source_reads_the_sheet_it_names() {
    // The tickets on the second sheet, "Tickets", behind a cover sheet.
    use rust_xlsxwriter::Workbook;
    let mut reader = csv::Reader::from_path(data("servicenow/incidents_fields.csv")).unwrap();
    let mut workbook = Workbook::new();
    workbook
        .add_worksheet()
        .set_name("Cover")
        .unwrap()
        .write_string(0, 0, "October incidents")
        .unwrap();
    let sheet = workbook.add_worksheet().set_name("Tickets").unwrap();
    for (col, name) in reader.headers().unwrap().iter().enumerate() {
        sheet.write_string(0, col as u16, name).unwrap();
    }
    for (r, record) in reader.records().enumerate() {
        for (col, text) in record.unwrap().iter().enumerate() {
            sheet.write_string(r as u32 + 1, col as u16, text).unwrap();
        }
    }
    let bytes = workbook.save_to_buffer().unwrap();
    let config = |sheet: &str| {
        format!(
            "[report]\ntimezone = \"UTC\"\n\n[[sources]]\npath = \"export.xlsx\"\n\
             timezone = \"UTC\"\nsheet = \"{sheet}\"\n"
        )
    };
    let dir = project(&config("tickets"), &[]);
    std::fs::write(dir.path().join("export.xlsx"), &bytes).unwrap();
    let doc = kpis(dir.path(), &["--period", "2026-10"]);
    assert_eq!(doc["inputs"][0]["profile"], "servicenow");
    assert_eq!(doc["inputs"][0]["rows"].as_u64(), Some(10));
    // a sheet the workbook does not have: an input error that lists the sheets
    std::fs::write(dir.path().join("deskpulse.toml"), config("Incidents")).unwrap();
    deskpulse()
        .args(["kpis", "--period", "2026-10", "--config"])
        .arg(dir.path().join("deskpulse.toml"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "export.xlsx: the workbook has no sheet `Incidents` (its sheets: Cover, Tickets)",
        ));
}

#[test]
fn a_zip_that_is_no_workbook_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("incidents.xlsx"),
        b"PK\x03\x04 not a workbook",
    )
    .unwrap();
    let out = deskpulse().arg("kpis").arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("incidents.xlsx") && stderr.contains("not a readable .xlsx"),
        "{stderr}"
    );
}
