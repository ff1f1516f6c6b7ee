//! The bundled sample, as the README runs it.

use std::path::Path;

use chrono::TimeZone;
use chrono_tz::Europe::Amsterdam;

use super::oracle::{self, Source};
use super::util::{assert_matches, deskpulse, kpi_rows, kpis, read_json, repo};

const OUTPUTS: &[&str] = &[
    "kpis.json",
    "report.html",
    "report.md",
    "ledger.csv",
    "rejects.csv",
    "costs.xlsx",
    "costs_service.csv",
    "costs_assignment_group.csv",
    "costs_kind.csv",
    "costs_month.csv",
    "costs_assumptions.csv",
    "manifest.json",
];

fn report(out: &Path, extra: &[&str]) -> std::process::Output {
    deskpulse()
        .current_dir(repo())
        .args(["report", "sample_data", "--out"])
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn report_on_sample_data_writes_every_output_byte_identically_twice() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let first = report(a.path(), &[]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(
        stderr.contains("no --period given: reporting 2026-10"),
        "{stderr}"
    );
    assert!(report(b.path(), &[]).status.success());
    for name in OUTPUTS {
        let x = std::fs::read(a.path().join(name)).unwrap();
        let y = std::fs::read(b.path().join(name)).unwrap();
        assert!(!x.is_empty(), "{name} is empty");
        assert!(x == y, "{name} differs between two runs");
    }
    let html = std::fs::read_to_string(a.path().join("report.html")).unwrap();
    assert!(
        !html.contains("http://") && !html.contains("https://") && !html.contains("<script"),
        "the HTML must load nothing"
    );
    let manifest = read_json(&a.path().join("manifest.json"));
    assert_eq!(manifest["inputs"][0]["path"], "incidents.csv");
    assert_eq!(manifest["inputs"][0]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(
        manifest["outputs"].as_array().unwrap().len(),
        OUTPUTS.len() - 1
    );
}

/// An environment variable of a run: name, value.
type Env = (&'static str, &'static str);

#[test]
fn every_output_is_the_same_bytes_whatever_the_threads_memory_limit_zone_or_locale() {
    let base = tempfile::tempdir().unwrap();
    assert!(report(base.path(), &["--quiet"]).status.success());
    let variants: [(&[&str], &[Env]); 4] = [
        (&["--threads", "1"], &[]),
        (&["-j", "7"], &[]),
        (&["--memory-limit", "64MiB"], &[]),
        (
            &[],
            &[
                ("TZ", "Pacific/Chatham"),
                ("LC_ALL", "de_DE.UTF-8"),
                ("LANG", "tr_TR.UTF-8"),
            ],
        ),
    ];
    for (args, env) in variants {
        let out = tempfile::tempdir().unwrap();
        let run = deskpulse()
            .current_dir(repo())
            .args(["report", "sample_data", "--quiet", "--out"])
            .arg(out.path())
            .args(args)
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert!(run.status.success(), "{args:?} {env:?}");
        for name in OUTPUTS {
            let x = std::fs::read(base.path().join(name)).unwrap();
            let y = std::fs::read(out.path().join(name)).unwrap();
            assert!(x == y, "{name} differs under {args:?} {env:?}");
        }
    }
}

#[test]
fn sample_kpis_match_an_independent_computation() {
    let csv = repo().join("sample_data/incidents.csv");
    let source = Source {
        path: &csv,
        format: "%Y-%m-%d %H:%M:%S",
        tz: Amsterdam,
    };
    for (period, (y, m), (ey, em)) in [
        ("2026-10", (2026, 10), (2026, 11)),
        ("2026-08", (2026, 8), (2026, 9)),
    ] {
        let start = Amsterdam
            .with_ymd_and_hms(y, m, 1, 0, 0, 0)
            .unwrap()
            .to_utc();
        let end = Amsterdam
            .with_ymd_and_hms(ey, em, 1, 0, 0, 0)
            .unwrap()
            .to_utc();
        let (expected, counts) = oracle::expected(&source, start, end, end);
        let doc = kpis(&repo().join("sample_data"), &["--period", period]);
        assert_matches(&kpi_rows(&doc), &expected);
        assert_eq!(doc["inputs"][0]["rows"].as_u64(), Some(counts.rows));
        assert_eq!(doc["inputs"][0]["rejected"].as_u64(), Some(counts.rejected));
    }
}

/// `deskpulse kpis --format json` with the arguments, on the sample: its stdout.
fn kpis_stdout(args: &[&str]) -> Vec<u8> {
    let printed = deskpulse()
        .current_dir(repo())
        .args([
            "kpis",
            "--config",
            "sample_data/deskpulse.toml",
            "--format",
            "json",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(
        printed.status.success(),
        "{}",
        String::from_utf8_lossy(&printed.stderr)
    );
    printed.stdout
}

#[test]
fn kpis_json_on_stdout_is_the_report_kpis_json() {
    let out = tempfile::tempdir().unwrap();
    let (before, measured, given) = (
        out.path().join("2026-08"),
        out.path().join("measured"),
        out.path().join("given"),
    );
    assert!(report(&before, &["--period", "2026-08"]).status.success());
    let previous = before.join("kpis.json");
    let previous = previous.to_str().unwrap();
    // the report measures the month before from the exports, or reads it from --previous:
    // the same figures either way
    assert!(report(&measured, &["--period", "2026-09"]).status.success());
    let with = ["--period", "2026-09", "--previous", previous];
    assert!(report(&given, &with).status.success());
    let written = std::fs::read(measured.join("kpis.json")).unwrap();
    assert!(written == std::fs::read(given.join("kpis.json")).unwrap());
    // `kpis` compares only when given the previous kpis.json: measuring a second period
    // would double its time
    assert_eq!(kpis_stdout(&with), written);
    let mut report_doc: serde_json::Value = serde_json::from_slice(&written).unwrap();
    assert!(report_doc["changes"].is_array(), "the months differ");
    report_doc.as_object_mut().unwrap().remove("changes");
    let printed: serde_json::Value =
        serde_json::from_slice(&kpis_stdout(&["--period", "2026-09"])).unwrap();
    assert_eq!(printed, report_doc);
}

#[test]
fn snapshot_of_kpis_json_and_report_md() {
    let out = tempfile::tempdir().unwrap();
    assert!(
        report(out.path(), &["--period", "2026-10"])
            .status
            .success()
    );
    // The version changes with every release; the snapshot is about everything else.
    let redact = |text: String| text.replace(env!("CARGO_PKG_VERSION"), "[version]");
    insta::assert_snapshot!(
        "sample_kpis_json",
        redact(std::fs::read_to_string(out.path().join("kpis.json")).unwrap())
    );
    insta::assert_snapshot!(
        "sample_report_md",
        redact(std::fs::read_to_string(out.path().join("report.md")).unwrap())
    );
}

#[test]
fn every_period_form_runs_and_names_its_boundaries() {
    let dir = repo().join("sample_data");
    let q = kpis(&dir, &["--period", "2026-Q3"]);
    assert_eq!(q["period"]["label"], "2026-Q3");
    assert_eq!(q["period"]["start"], "2026-07-01T00:00:00+02:00");
    assert_eq!(q["period"]["end"], "2026-10-01T00:00:00+02:00");
    let w = kpis(&dir, &["--period", "2026-W44"]);
    assert_eq!(w["period"]["start"], "2026-10-26T00:00:00+01:00");
    let r = kpis(&dir, &["--from", "2026-08-01", "--to", "2026-11-01"]);
    assert_eq!(r["period"]["label"], "2026-08-01..2026-11-01");
    // The range is the union of three months: created counts add up.
    let sum: f64 = ["2026-08", "2026-09", "2026-10"]
        .iter()
        .map(|p| {
            super::util::value(
                &kpis(&dir, &["--period", p]),
                "tickets_created",
                "value",
                "all",
                "all",
            )
            .unwrap()
        })
        .sum();
    assert_eq!(
        super::util::value(&r, "tickets_created", "value", "all", "all"),
        Some(sum)
    );
    let prev = deskpulse()
        .current_dir(repo())
        .args([
            "kpis",
            "sample_data",
            "--period",
            "previous",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(prev.status.success());
    assert!(String::from_utf8_lossy(&prev.stderr).contains("--period previous"));
}

#[test]
fn data_quality_of_the_sample_is_reported_row_by_row() {
    let out = tempfile::tempdir().unwrap();
    assert!(
        report(out.path(), &["--period", "2026-10"])
            .status
            .success()
    );
    let rejects = std::fs::read_to_string(out.path().join("rejects.csv")).unwrap();
    let mut lines = rejects.lines();
    assert_eq!(
        lines.next(),
        Some("source_file,source_row,column,value,problem,action")
    );
    let body: Vec<&str> = lines.collect();
    assert!(
        body.iter()
            .any(|l| l.contains("opened_at") && l.ends_with("row_rejected")),
        "{rejects}"
    );
    assert!(
        body.iter()
            .any(|l| l.contains("priority,3 - Medium,") && l.ends_with("value_nulled")),
        "{rejects}"
    );
    assert!(
        body.iter()
            .any(|l| l
                .contains("closed_at,2026-07-30 10:00:00,closed at before the ticket's creation")),
        "{rejects}"
    );
    let kpis = read_json(&out.path().join("kpis.json"));
    let input = &kpis["inputs"][0];
    assert_eq!(
        input["rows"].as_u64().unwrap(),
        input["accepted"].as_u64().unwrap() + input["rejected"].as_u64().unwrap()
    );
    let md = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    assert!(md.contains("## Data quality"));
    assert!(md.contains("resolved or closed without a resolution time"));
}

#[test]
fn a_users_table_replaces_the_built_in_one_and_an_unknown_table_is_an_error() {
    // Two bands instead of eight: the report shows what the user's query returns.
    let queries = tempfile::tempdir().unwrap();
    std::fs::create_dir(queries.path().join("tables")).unwrap();
    std::fs::write(
        queries.path().join("tables/resolve_bands.sql"),
        "SELECT CASE WHEN resolve_us < 86400000000 THEN 'same day' ELSE 'later' END AS band,
                count(*) AS tickets
         FROM ledger
         WHERE kind = 'incident' AND NOT is_cancelled AND resolve_us IS NOT NULL
           AND resolved_at >= $period_start AND resolved_at < $period_end
         GROUP BY ALL ORDER BY band DESC",
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let run = report(
        out.path(),
        &["--queries", queries.path().to_str().unwrap(), "--quiet"],
    );
    assert!(run.status.success(), "{run:?}");
    let md = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    let line = md
        .lines()
        .find(|l| l.starts_with("Distribution: "))
        .expect("the distribution line");
    assert!(line.starts_with("Distribution: same day: "), "{line}");
    assert!(line.contains(" · later: "), "{line}");
    assert!(!line.contains("under 1 h"), "{line}");
    let manifest = read_json(&out.path().join("manifest.json"));
    let listed = manifest["queries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["id"] == "resolve_bands")
        .expect("the table is listed in the manifest");
    assert!(
        listed["origin"]
            .as_str()
            .unwrap()
            .ends_with("resolve_bands.sql"),
        "{listed}"
    );

    std::fs::write(
        queries.path().join("tables/resolution_bands.sql"),
        "SELECT 1",
    )
    .unwrap();
    let run = report(out.path(), &["--queries", queries.path().to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("resolution_bands.sql"), "{stderr}");
    assert!(stderr.contains("no report table has this name"), "{stderr}");
    assert!(stderr.contains("resolve_bands"), "{stderr}");
}

/// A period before the exports begin (issue: "a period with no tickets"): every KPI the exports
/// can measure has its `all` row, 0 for counts and null over n = 0; "not measured" lists only
/// what the exports truly lack; no fixed cost is charged; stderr, the report and `check` say so.
#[test]
fn a_period_before_the_exports_begin_is_empty_not_unmeasured() {
    let out = tempfile::tempdir().unwrap();
    let run = report(out.path(), &["--period", "2025-01"]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    let said = "the inputs hold no ticket created or resolved in 2025-01; \
                they hold tickets created from 2026-08-01 to 2026-10-31";
    assert!(stderr.contains(&format!("warning: {said}")), "{stderr}");
    let md = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    assert!(md.contains(said), "{md}");

    let doc = read_json(&out.path().join("kpis.json"));
    for kpi in [
        "tickets_created",
        "tickets_resolved",
        "backlog_open",
        "cost_total",
    ] {
        let row = super::util::row(&doc, kpi, "value", "all", "all");
        assert_eq!(row["value"], 0, "{kpi}: {row}");
        assert_eq!(row["n"], 0, "{kpi}: {row}");
    }
    for (kpi, stat) in [
        ("mttr_hours", "median"),
        ("reopen_pct", "value"),
        ("first_assignment_resolution_pct", "value"),
        ("source_sla_met_pct", "value"),
        ("sla_resolution_met_pct", "value"),
        ("repeat_incident_pct", "value"),
    ] {
        let row = super::util::row(&doc, kpi, stat, "all", "all");
        assert!(row["value"].is_null(), "{kpi}: {row}");
        assert_eq!(row["n"], 0, "{kpi}: {row}");
    }
    let months: Vec<(String, f64)> = doc["kpis"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kpi"] == "cost_total" && r["dimension"] == "month")
        .map(|r| {
            (
                r["key"].as_str().unwrap().to_string(),
                r["value"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(months.len(), 12);
    assert!(months.iter().all(|(_, v)| *v == 0.0), "{months:?}");

    // Only what the sample's export lacks: changes, satisfaction, a first-response time.
    let unmeasured = md
        .lines()
        .find(|l| l.starts_with("Not measured:"))
        .unwrap_or_default();
    for wrong in [
        "reassignment count",
        "reopen count",
        "SLA policy (",
        "made\\_sla",
        "no rows",
    ] {
        assert!(!unmeasured.contains(wrong), "{wrong}: {unmeasured}");
    }
    assert!(
        unmeasured.contains(
            "Time to resolve (calendar) · `mttr_hours`: no ticket in its cohort this period"
        ),
        "a statistic over no ticket is not measured, not a card: {unmeasured}"
    );
    assert!(!md.contains("| Time to resolve (calendar) |"), "{md}");
    assert!(
        md.contains("reopens come only from its reopen count"),
        "the reopen note is judged on the export, not on the period: {md}"
    );

    let check = deskpulse()
        .current_dir(repo())
        .args(["check", "sample_data", "--period", "2025-01"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&check.stdout);
    assert_eq!(check.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("no value: mttr_hours median all=all"),
        "{stdout}"
    );
    assert!(
        stdout.contains("no value: sla_resolution_met_pct"),
        "{stdout}"
    );
}

/// In the months before the sample's exports begin, no fixed cost is charged: the twelve-month
/// cost trend starts with the data.
#[test]
fn fixed_costs_are_charged_only_to_months_the_exports_cover() {
    let out = tempfile::tempdir().unwrap();
    assert!(report(out.path(), &[]).status.success());
    let doc = read_json(&out.path().join("kpis.json"));
    let value = |month: &str| super::util::value(&doc, "cost_total", "value", "month", month);
    assert_eq!(value("2026-07"), Some(0.0));
    assert_eq!(value("2025-11"), Some(0.0));
    // August holds tickets: its fixed costs (25,500 a month in the sample) are charged.
    assert!(value("2026-08").unwrap() > 25_500.0);
}

/// `kpis --dimension age_bucket` lists the buckets youngest first, as counts of open tickets
/// (not days), and the counts add up to the open backlog.
#[test]
fn age_buckets_read_youngest_first_as_counts() {
    let run = deskpulse()
        .current_dir(repo())
        .args([
            "kpis",
            "sample_data",
            "--quiet",
            "--dimension",
            "age_bucket",
        ])
        .output()
        .unwrap();
    assert!(run.status.success());
    let stdout = String::from_utf8_lossy(&run.stdout);
    let rows: Vec<Vec<&str>> = stdout
        .lines()
        .filter(|l| l.starts_with("backlog_age_days"))
        .map(|l| l.split_whitespace().collect())
        .collect();
    let keys: Vec<&str> = rows.iter().map(|r| r[3]).collect();
    assert_eq!(keys, ["0-1", "2-5", "6-30", "31-90", ">90"], "{stdout}");
    assert!(
        rows.iter().all(|r| r.len() == 7),
        "no unit after a count: {stdout}"
    );
    let total: u64 = rows.iter().map(|r| r[4].parse::<u64>().unwrap()).sum();
    let doc = kpis(&repo().join("sample_data"), &[]);
    assert_eq!(
        Some(total as f64),
        super::util::value(&doc, "backlog_open", "value", "all", "all")
    );
}

/// A headline statistic resting on fewer than `[report] min_tickets` (20) tickets is flagged
/// as a small sample, and its change against the previous period carries no better/worse mark.
#[test]
fn small_samples_are_flagged_and_unjudged() {
    let september = tempfile::tempdir().unwrap();
    assert!(
        report(september.path(), &["--period", "2026-09"])
            .status
            .success()
    );
    let out = tempfile::tempdir().unwrap();
    let previous = september.path().join("kpis.json");
    let run = report(out.path(), &["--previous", previous.to_str().unwrap()]);
    assert!(run.status.success());
    let md = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    let line = |title: &str| {
        md.lines()
            .find(|l| l.starts_with(&format!("| {title} |")))
            .unwrap_or_else(|| panic!("no {title} card: {md}"))
            .to_string()
    };
    // The open backlog is 15 tickets: its age is a small sample; MTTR rests on 136.
    let age = line("Backlog age");
    assert!(
        age.contains("n = 15 · small sample, under 20 tickets"),
        "{age}"
    );
    assert!(!age.contains('✅') && !age.contains('⚠'), "{age}");
    let mttr = line("Time to resolve (calendar)");
    assert!(!mttr.contains("small sample"), "{mttr}");
    assert!(mttr.contains('✅') || mttr.contains('⚠'), "{mttr}");
    let html = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    assert!(html.contains(r#"<div class="card small" id="card-backlog_age_days">"#));
}

/// The sample's `[thresholds]` show on the headline (median MTTR 42.7 h against at most 48 h:
/// met; resolution SLA 63.7 % against at least 60 %: within a tenth, at risk; 8 open breached
/// SLAs against at most 5: missed), and the summary says so; `[report] commentary` follows it.
#[test]
fn targets_and_the_summary_are_on_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let config = std::fs::read_to_string(repo().join("sample_data/deskpulse.toml"))
        .unwrap()
        .replacen("[report]\n", "[report]\ncommentary = \"words.txt\"\n", 1);
    std::fs::write(dir.path().join("deskpulse.toml"), config).unwrap();
    std::fs::copy(
        repo().join("sample_data/incidents.csv"),
        dir.path().join("incidents.csv"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("words.txt"),
        "The VPN outage of 12 October drove the backlog.\n\nA <b>second</b> paragraph.\n",
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let run = deskpulse()
        .args(["report", "--quiet", "--out"])
        .arg(out.path())
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let md = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    let card = |title: &str| {
        md.lines()
            .find(|l| l.starts_with(&format!("| {title} |")))
            .unwrap()
            .to_string()
    };
    assert!(card("Time to resolve (calendar)").contains("| ≤ 48.0\u{a0}h: **met** |"));
    assert!(card("Resolution SLA met").contains("| ≥ 60.0\u{a0}%: **at risk** |"));
    assert!(card("Open SLAs already breached").contains("| ≤ 5: **missed** |"));
    assert!(
        md.contains("1 of 4 targets missed: Open SLAs already breached at 8, target ≤ 5."),
        "{md}"
    );
    assert!(md.contains("Met by less than a tenth of the limit: Resolution SLA met at 63.7"));
    assert!(
        md.contains("\nThe VPN outage of 12 October drove the backlog.\n"),
        "{md}"
    );
    let html = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    assert!(html.contains(r#"<div class="target missed">"#));
    assert!(
        html.contains("<p>A &lt;b&gt;second&lt;&#x2f;b&gt; paragraph.</p>"),
        "{html}"
    );

    // A commentary file that is not there is a configuration error naming the key.
    std::fs::remove_file(dir.path().join("words.txt")).unwrap();
    let run = deskpulse()
        .args(["kpis", "--quiet"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("[report] commentary: cannot read"));
}

#[test]
fn kpis_help_names_every_dimension_the_rows_have() {
    let out = deskpulse()
        .current_dir(repo())
        .args([
            "kpis",
            "sample_data",
            "--format",
            "csv",
            "--quiet",
            "--period",
            "2026-10",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = deskpulse().args(["kpis", "--help"]).output().unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let mut dimensions: Vec<&str> = text
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').nth(2))
        .collect();
    dimensions.sort_unstable();
    dimensions.dedup();
    assert!(dimensions.len() > 4, "{dimensions:?}");
    for d in dimensions {
        assert!(
            help.contains(d),
            "`kpis --help` does not name the dimension {d}"
        );
    }
}
