//! The ticket store (issue 16): `deskpulse ingest --store` adds exports to Parquet files that a
//! run reads instead of the exports, with the same numbers and the same report.

use std::path::{Path, PathBuf};

use super::slices::{
    FINAL, HEADER, OCTOBER, SEPTEMBER, assert_october_of_the_final_state, with_exports,
};
use super::util::{deskpulse, files_under, kpi_rows, kpis, project, repo, value};

/// `deskpulse ingest` of a project into a store, which must succeed; its stderr.
fn ingest(project: &Path, store: &Path) -> String {
    let out = ingest_command(project, store).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "ingest failed: {stderr}");
    stderr
}

/// A project with September's export, a directory apart, and the store in it that holds the
/// export.
fn september_in_a_store() -> (tempfile::TempDir, tempfile::TempDir, PathBuf) {
    let project = with_exports(&[("2026-09.csv", format!("{HEADER}{SEPTEMBER}"))]);
    let parent = tempfile::tempdir().unwrap();
    let store = parent.path().join("tickets.store");
    ingest(project.path(), &store);
    (project, parent, store)
}

/// `deskpulse kpis PROJECT --store STORE`, which must stop with exit 2; its stderr.
fn kpis_refused(project: &Path, store: &Path) -> String {
    let out = deskpulse()
        .arg("kpis")
        .arg(project)
        .arg("--store")
        .arg(store)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `deskpulse store info STORE`, which must succeed; its stdout.
fn store_info(store: &Path) -> String {
    let out = deskpulse()
        .args(["store", "info"])
        .arg(store)
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

/// `deskpulse ingest PROJECT --store STORE`, to run.
fn ingest_command(project: &Path, store: &Path) -> assert_cmd::Command {
    let mut cmd = deskpulse();
    cmd.arg("ingest").arg(project).arg("--store").arg(store);
    cmd
}

/// The names of the entries of `dir`, sorted.
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `deskpulse kpis` for October 2026, the tickets read from `store`.
fn october_from(project: &Path, store: &Path) -> serde_json::Value {
    kpis(
        project,
        &["--period", "2026-10", "--store", store.to_str().unwrap()],
    )
}

/// September's slice, then October's, ingested into `store` (October's holds later versions of
/// September's tickets, whose files are read again); October's KPIs from the store.
fn october_after_both_slices(store: &Path) -> serde_json::Value {
    let september = with_exports(&[("2026-09.csv", format!("{HEADER}{SEPTEMBER}"))]);
    let october = with_exports(&[("2026-10.csv", format!("{HEADER}{OCTOBER}"))]);
    ingest(september.path(), store);
    ingest(october.path(), store);
    october_from(october.path(), store)
}

/// `deskpulse report` into a new directory, from the exports or, with `store`, from the store.
fn report(project: &Path, store: Option<&Path>, period: &[&str]) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let mut cmd = deskpulse();
    cmd.args(["report", "--quiet", "--out"])
        .arg(out.path())
        .arg(project)
        .args(period);
    if let Some(store) = store {
        cmd.arg("--store").arg(store);
    }
    cmd.assert().success();
    out
}

/// The two reports' files are the same bytes, but for the `--store DIR` that the explain command
/// a report prints carries when it was made from a store, and for the sizes and hashes of the
/// pages that print it, in the report's manifest.
fn assert_same_report(from_exports: &Path, from_store: &Path, store: &Path) {
    let (a, b) = (files_under(from_exports), files_under(from_store));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    let flag = format!(" --store {}", store.display());
    let flag_in_html = flag.replace('/', "&#x2f;");
    for (name, bytes) in &a {
        if name == Path::new("manifest.json") {
            assert_eq!(
                manifest_but_pages(bytes),
                manifest_but_pages(&b[name]),
                "manifest.json"
            );
            continue;
        }
        let other = match String::from_utf8(b[name].clone()) {
            Ok(text) => text
                .replace(&flag, "")
                .replace(&flag_in_html, "")
                .into_bytes(),
            Err(_) => b[name].clone(),
        };
        assert!(
            *bytes == other,
            "{} differs:\n{}\n---\n{}",
            name.display(),
            String::from_utf8_lossy(bytes),
            String::from_utf8_lossy(&other)
        );
    }
}

/// A report's manifest without the entries of report.md and report.html.
fn manifest_but_pages(bytes: &[u8]) -> serde_json::Value {
    let mut doc: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    let outputs = doc["outputs"].as_array_mut().unwrap();
    outputs.retain(|o| !matches!(o["file"].as_str(), Some("report.md" | "report.html")));
    doc
}

#[test]
fn the_sample_report_is_the_same_from_the_store() {
    let sample = repo().join("sample_data");
    let store = tempfile::tempdir().unwrap();
    let store = store.path().join("tickets.store");
    ingest(&sample, &store);
    let a = report(&sample, None, &[]);
    let b = report(&sample, Some(&store), &[]);
    assert_same_report(a.path(), b.path(), &store);
}

#[test]
fn a_month_of_the_uci_log_is_the_same_from_the_store() {
    let dir = project(
        super::uci::CONFIG,
        &[("incident_event_log.csv", super::uci::log_csv())],
    );
    let store = dir.path().join("tickets.store");
    ingest(dir.path(), &store);
    let a = report(dir.path(), None, &["--period", "2016-03"]);
    let b = report(dir.path(), Some(&store), &["--period", "2016-03"]);
    assert_same_report(a.path(), b.path(), &store);
}

#[test]
fn a_store_of_several_help_desks_reports_what_their_exports_do() {
    // A run hands DuckDB the store's tickets a part at a time, here a ticket at a time: what
    // only some parts hold still counts, such as the satisfaction scores and the service
    // requests (one each in Jira's, Freshservice's and Freshdesk's October) that ServiceNow's
    // partitions, read last, lack.
    let dir = super::desks::several_help_desks();
    let store = dir.path().join("tickets.store");
    ingest(dir.path(), &store);
    let a = report(dir.path(), None, &["--period", "2026-10"]);
    let b = tempfile::tempdir().unwrap();
    deskpulse()
        .env("DESKPULSE_PART_ROWS", "1")
        .args(["report", "--quiet", "--period", "2026-10", "--out"])
        .arg(b.path())
        .arg(dir.path())
        .arg("--store")
        .arg(&store)
        .assert()
        .success();
    assert_same_report(a.path(), b.path(), &store);
    let doc = october_from(dir.path(), &store);
    assert!(value(&doc, "csat_pct", "value", "all", "all").is_some());
    assert_eq!(
        value(&doc, "tickets_created", "value", "kind", "request"),
        Some(3.0)
    );
}

#[test]
fn a_part_size_that_is_no_number_of_tickets_is_refused() {
    let (project, _parent, store) = september_in_a_store();
    for size in ["half a million", "0"] {
        let out = deskpulse()
            .env("DESKPULSE_PART_ROWS", size)
            .arg("kpis")
            .arg(project.path())
            .arg("--store")
            .arg(&store)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        let said = format!("DESKPULSE_PART_ROWS={size}: not a number of tickets");
        assert!(stderr.contains(&said), "{stderr}");
    }
}

#[test]
fn an_id_the_store_does_not_hold_is_said_to_be_missing_from_the_store() {
    let (project, _parent, store) = september_in_a_store();
    let out = deskpulse()
        .args(["explain", "--quiet"])
        .arg(project.path())
        .arg("INC1O")
        .arg("--store")
        .arg(&store)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let said = format!(
        "no ticket INC1O in the store {}; the nearest",
        store.display()
    );
    assert!(stderr.contains(&said), "{stderr}");
}

#[test]
fn slices_ingested_month_by_month_give_the_kpis_of_the_final_state() {
    let whole = with_exports(&[("all.csv", format!("{HEADER}{FINAL}"))]);
    let store = tempfile::tempdir().unwrap();
    let merged = october_after_both_slices(&store.path().join("tickets.store"));
    let one = kpis(whole.path(), &["--period", "2026-10"]);
    assert_eq!(kpi_rows(&merged), kpi_rows(&one));
    assert_october_of_the_final_state(&merged);
    let inputs = merged["inputs"].as_array().unwrap();
    let paths: Vec<&str> = inputs.iter().map(|i| i["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["exports/2026-09.csv", "exports/2026-10.csv"]);
}

#[test]
fn a_file_saved_under_the_same_name_each_month_is_a_new_slice() {
    let project = with_exports(&[("incidents.csv", format!("{HEADER}{SEPTEMBER}"))]);
    let store = project.path().join("tickets.store");
    ingest(project.path(), &store);
    let file = project.path().join("exports/incidents.csv");
    std::fs::write(&file, format!("{HEADER}{OCTOBER}")).unwrap();
    ingest(project.path(), &store);
    let doc = october_from(project.path(), &store);
    let paths: Vec<&str> = doc["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        ["exports/incidents.csv", "exports/incidents.csv (2)"]
    );
    assert_eq!(
        value(&doc, "tickets_resolved", "value", "all", "all"),
        Some(2.0)
    );
}

#[test]
fn ingesting_a_file_twice_changes_nothing() {
    let project = with_exports(&[("2026-09.csv", format!("{HEADER}{SEPTEMBER}"))]);
    let store = project.path().join("tickets.store");
    ingest(project.path(), &store);
    let before = files_under(&store);
    let stderr = ingest(project.path(), &store);
    assert!(stderr.contains("already read"), "{stderr}");
    assert!(stderr.contains("unchanged"), "{stderr}");
    assert_eq!(files_under(&store), before);
    // The same bytes under another name are the same export.
    std::fs::copy(
        project.path().join("exports/2026-09.csv"),
        project.path().join("exports/copy.csv"),
    )
    .unwrap();
    ingest(project.path(), &store);
    assert_eq!(files_under(&store), before);
}

#[test]
fn a_killed_ingest_leaves_the_store_as_it_was() {
    let (project, parent, store) = september_in_a_store();
    let before = files_under(&store);
    let september = october_from(project.path(), &store);
    std::fs::write(
        project.path().join("exports/2026-10.csv"),
        format!("{HEADER}{OCTOBER}"),
    )
    .unwrap();
    // Steps: each of the three tables written, the manifest written, the new version put in
    // place. Killed at any of them, the store is the old version or the new one, whole.
    let mut old_versions = 0;
    for step in 1..=5 {
        let out = ingest_command(project.path(), &store)
            .env("DESKPULSE_ABORT_AT_STEP", step.to_string())
            .output()
            .unwrap();
        assert!(!out.status.success(), "step {step}: the ingest was killed");
        let now = october_from(project.path(), &store);
        if files_under(&store) == before {
            old_versions += 1;
            assert_eq!(kpi_rows(&now), kpi_rows(&september), "step {step}");
        } else {
            assert_eq!(now["inputs"].as_array().unwrap().len(), 2, "step {step}");
            // back to the old version for the next step
            std::fs::remove_dir_all(&store).unwrap();
            std::fs::remove_file(project.path().join("exports/2026-10.csv")).unwrap();
            ingest(project.path(), &store);
            std::fs::write(
                project.path().join("exports/2026-10.csv"),
                format!("{HEADER}{OCTOBER}"),
            )
            .unwrap();
        }
    }
    assert_eq!(
        old_versions, 4,
        "killed before the exchange, the old version"
    );
    // The next ingest removes what the killed ones left beside the store, but for the file
    // whose lock keeps ingests one at a time.
    ingest(project.path(), &store);
    assert_eq!(names_in(parent.path()), [LOCK, "tickets.store"]);
}

/// The `| column | type |` rows of a table in docs/store.md, after the line that names it.
fn documented_schema(table: &str) -> Vec<(String, String)> {
    let doc = std::fs::read_to_string(repo().join("docs/store.md")).unwrap();
    let marker = format!("<!-- schema: {table} -->");
    let start = doc
        .find(&marker)
        .unwrap_or_else(|| panic!("docs/store.md has no {marker}"));
    doc[start + marker.len()..]
        .lines()
        .skip_while(|l| l.trim().is_empty())
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(|c| c.trim().trim_matches('`')).collect();
            (cells[1].to_string(), cells[2].to_string())
        })
        .collect()
}

#[test]
fn duckdb_reads_the_store_with_the_documented_schema() {
    // An event log beside the list exports, for status changes.
    let log = std::fs::read_to_string(super::util::data("servicenow/incident_log.csv")).unwrap();
    let project = with_exports(&[
        ("2026-09.csv", format!("{HEADER}{SEPTEMBER}")),
        ("2026-10.csv", format!("{HEADER}{OCTOBER}")),
        ("incident_log.csv", log),
    ]);
    let store = project.path().join("tickets.store");
    ingest(project.path(), &store);
    let duck = duckdb::Connection::open_in_memory().unwrap();
    let schema = |files: &str, hive: bool| -> Vec<(String, String)> {
        let scan = format!(
            "read_parquet('{}/{files}', hive_partitioning = {hive})",
            store.display()
        );
        let mut statement = duck
            .prepare(&format!("DESCRIBE SELECT * FROM {scan}"))
            .unwrap();
        statement
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let tickets = schema("tickets/*/*/*.parquet", true);
    assert_eq!(tickets, documented_schema("tickets"));
    assert_eq!(
        schema("status_changes/*/*/*.parquet", true),
        documented_schema("status_changes")
    );
    assert_eq!(
        schema("rejects/*.parquet", false),
        documented_schema("rejects")
    );
    // The tickets of the final state, one row each, with their months of creation.
    let rows: Vec<(String, String, String)> = duck
        .prepare(&format!(
            "SELECT id, status, created_month FROM read_parquet('{}/tickets/**/*.parquet', \
             hive_partitioning = true) WHERE source_file LIKE 'exports/2026-%' ORDER BY id",
            store.display()
        ))
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let expected = [
        ("INC1", "resolved", "2026-09"),
        ("INC2", "resolved", "2026-09"),
        ("INC3", "active", "2026-09"),
        ("INC4", "resolved", "2026-10"),
    ];
    let expected: Vec<(String, String, String)> = expected
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    assert_eq!(rows, expected);
}

#[test]
fn store_info_says_what_the_store_holds() {
    let project = with_exports(&[
        ("2026-09.csv", format!("{HEADER}{SEPTEMBER}")),
        ("2026-10.csv", format!("{HEADER}{OCTOBER}")),
    ]);
    let store = project.path().join("tickets.store");
    ingest(project.path(), &store);
    let text = store_info(&store);
    assert!(
        text.contains("servicenow  4 tickets created 2026-09 to 2026-10 (2 months)"),
        "{text}"
    );
    assert!(text.contains("files ingested: 2"), "{text}");
    assert!(text.contains("exports/2026-10.csv  4 rows"), "{text}");
}

#[test]
fn a_directory_that_is_not_a_store_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
    let project = with_exports(&[("2026-09.csv", format!("{HEADER}{SEPTEMBER}"))]);
    for args in [
        vec!["ingest".to_string(), project.path().display().to_string()],
        vec!["kpis".to_string(), project.path().display().to_string()],
    ] {
        let out = deskpulse()
            .args(&args)
            .arg("--store")
            .arg(dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("not a ticket store"), "{stderr}");
    }
    assert_eq!(
        std::fs::read_to_string(dir.path().join("notes.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn a_damaged_file_of_the_store_is_named() {
    let (project, _parent, store) = september_in_a_store();
    let damaged = walkdir::WalkDir::new(store.join("tickets"))
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .find(|p| p.extension().is_some_and(|e| e == "parquet"))
        .unwrap();
    std::fs::write(&damaged, "not parquet").unwrap();
    let stderr = kpis_refused(project.path(), &store);
    assert!(stderr.contains(&damaged.display().to_string()), "{stderr}");
}

#[test]
fn a_store_under_a_directory_named_like_a_partition_reads() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("year=2026").join("tickets.store");
    assert_october_of_the_final_state(&october_after_both_slices(&store));
}

#[test]
fn a_store_under_a_directory_named_with_wildcards_reads_and_ingests() {
    // Polars and DuckDB read `[`, `*` and `?` in a path as wildcards unless told otherwise.
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("exports [2026] *?").join("tickets.store");
    assert_october_of_the_final_state(&october_after_both_slices(&store));
    assert!(store_info(&store).contains("2026-09 to 2026-10"));
}

#[test]
fn files_a_file_browser_leaves_in_the_store_are_not_read() {
    let september = with_exports(&[("2026-09.csv", format!("{HEADER}{SEPTEMBER}"))]);
    let october = with_exports(&[("2026-10.csv", format!("{HEADER}{OCTOBER}"))]);
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("tickets.store");
    ingest(september.path(), &store);
    let partition = walkdir::WalkDir::new(store.join("tickets"))
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .find(|p| p.is_dir() && p.to_string_lossy().contains("created_month="))
        .unwrap();
    for junk in [store.join("tickets"), partition] {
        std::fs::write(junk.join(".DS_Store"), "Finder's").unwrap();
    }
    ingest(october.path(), &store);
    assert_october_of_the_final_state(&october_from(october.path(), &store));
}

#[test]
fn a_partition_in_two_files_is_read_and_written_whole() {
    let (project, _parent, store) = september_in_a_store();
    // September's partition split in two files: INC1 alone, INC2 and INC3 in the other.
    let partition = store.join("tickets/source=servicenow/created_month=2026-09");
    let whole = partition.join("data_0.parquet");
    let duck = duckdb::Connection::open_in_memory().unwrap();
    let rows = std::fs::read(&whole).unwrap();
    let copy = partition.join("whole.tmp");
    std::fs::write(&copy, rows).unwrap();
    std::fs::remove_file(&whole).unwrap();
    for (file, ids) in [("data_0", "('INC1')"), ("data_1", "('INC2', 'INC3')")] {
        duck.execute_batch(&format!(
            "COPY (SELECT * FROM read_parquet('{}') WHERE id IN {ids}) TO '{}' (FORMAT parquet)",
            copy.display(),
            partition.join(format!("{file}.parquet")).display()
        ))
        .unwrap();
    }
    std::fs::remove_file(&copy).unwrap();
    // A later version of INC2 whose opening was corrected into October: of September's
    // partition, only the file that holds INC2 has one of the new tickets.
    let corrected = "INC2,2026-10-01 09:00:00,Resolved,3 - Moderate,2026-10-02 09:00:00,\
                     2026-10-03 09:00:00\n";
    std::fs::write(
        project.path().join("exports/2026-10.csv"),
        format!("{HEADER}{corrected}"),
    )
    .unwrap();
    ingest(project.path(), &store);
    let ids: Vec<String> = duck
        .prepare(&format!(
            "SELECT id FROM read_parquet('{}/tickets/*/*/*.parquet') ORDER BY id",
            store.display()
        ))
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(ids, ["INC1", "INC2", "INC3"]);
    assert_eq!(names_in(&partition), ["data_0.parquet"]);
}

#[test]
fn a_file_copied_into_the_store_by_hand_is_refused() {
    let (project, _parent, store) = september_in_a_store();
    let partition = store.join("tickets/source=servicenow/created_month=2026-09");
    std::fs::copy(
        partition.join("data_0.parquet"),
        partition.join("data_0 (1).parquet"),
    )
    .unwrap();
    let stderr = kpis_refused(project.path(), &store);
    assert!(
        stderr.contains("its files hold 6 rows where manifest.json says 3"),
        "{stderr}"
    );
}

#[test]
fn a_source_named_with_a_space_and_a_slash_keeps_its_name_in_the_store() {
    let name = "Acme desk/EU";
    let config = format!(
        "[report]\ntimezone = \"UTC\"\n\n[[sources]]\npath = \"exports/*.csv\"\n\
         profile = \"{name}\"\ntimezone = \"UTC\"\n"
    );
    let project = super::util::project(&config, &[]);
    let profile = std::fs::read_to_string(repo().join("src/ingest/profiles/servicenow.toml"))
        .unwrap()
        .replace("name = \"servicenow\"", &format!("name = \"{name}\""));
    std::fs::create_dir(project.path().join("profiles")).unwrap();
    std::fs::write(project.path().join("profiles/acme.toml"), profile).unwrap();
    std::fs::create_dir(project.path().join("exports")).unwrap();
    let store = project.path().join("tickets.store");
    for (file, rows) in [("2026-09.csv", SEPTEMBER), ("2026-10.csv", OCTOBER)] {
        let export = project.path().join("exports").join(file);
        std::fs::write(export, format!("{HEADER}{rows}")).unwrap();
        ingest(project.path(), &store);
    }
    assert_eq!(
        names_in(&store.join("tickets")),
        ["source=Acme%20desk%2FEU"]
    );
    let merged = october_from(project.path(), &store);
    assert_eq!(
        kpi_rows(&merged),
        kpi_rows(&kpis(project.path(), &["--period", "2026-10"]))
    );
    let info = store_info(&store);
    assert!(info.contains(&format!("  {name}  4 tickets")), "{info}");
}

#[test]
fn a_configuration_without_sources_reads_a_store_and_no_exports() {
    let project = with_exports(&[("2026-10.csv", format!("{HEADER}{FINAL}"))]);
    let store = project.path().join("tickets.store");
    ingest(project.path(), &store);
    let settings = project.path().join("settings");
    std::fs::create_dir(&settings).unwrap();
    std::fs::write(
        settings.join("deskpulse.toml"),
        "[report]\ntimezone = \"UTC\"\n",
    )
    .unwrap();
    let doc = october_from(&settings, &store);
    assert_october_of_the_final_state(&doc);
    let out = deskpulse()
        .args(["kpis", "--period", "2026-10"])
        .arg(&settings)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no [[sources]]"), "{stderr}");
}

#[test]
fn an_ingest_writes_again_only_the_months_it_touches() {
    // August's ticket is in no file of October's slice, and in none of its months: its file is
    // carried into the new version as it was.
    let august =
        "INC8,2026-08-20 09:00:00,Resolved,3 - Moderate,2026-08-21 09:00:00,2026-08-21 09:00:00\n";
    let project = with_exports(&[("2026-09.csv", format!("{HEADER}{august}{SEPTEMBER}"))]);
    let store = project.path().join("tickets.store");
    ingest(project.path(), &store);
    let month = |m: &str| {
        store.join(format!(
            "tickets/source=servicenow/created_month={m}/data_0.parquet"
        ))
    };
    let before = [month("2026-08"), month("2026-09")].map(|f| std::fs::read(f).unwrap());
    std::fs::write(
        project.path().join("exports/2026-10.csv"),
        format!("{HEADER}{OCTOBER}"),
    )
    .unwrap();
    ingest(project.path(), &store);
    assert_eq!(std::fs::read(month("2026-08")).unwrap(), before[0]);
    assert_ne!(std::fs::read(month("2026-09")).unwrap(), before[1]);
    assert!(month("2026-10").exists());
    let doc = october_from(project.path(), &store);
    assert_october_of_the_final_state(&doc);
    let text = store_info(&store);
    assert!(text.contains("tickets                    5 rows"), "{text}");
    assert!(
        text.contains("servicenow  5 tickets created 2026-08 to 2026-10 (3 months)"),
        "{text}"
    );
}

#[test]
fn an_export_that_cannot_be_read_leaves_the_store_as_it_was() {
    let (project, parent, store) = september_in_a_store();
    let before = files_under(&store);
    // October's slice without its id column: no ServiceNow export.
    let without_ids = format!("{HEADER}{OCTOBER}").replace("number,", "");
    std::fs::write(project.path().join("exports/2026-10.csv"), without_ids).unwrap();
    let out = ingest_command(project.path(), &store).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("2026-10.csv"), "{stderr}");
    assert_eq!(files_under(&store), before);
    assert_eq!(names_in(parent.path()), [LOCK, "tickets.store"]);
}

/// The file beside `tickets.store` that an ingest locks.
const LOCK: &str = ".tickets.store.lock";

/// The store's lock file, opened as an ingest opens it.
fn lock_file(parent: &Path) -> std::fs::File {
    std::fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(parent.join(LOCK))
        .unwrap()
}

/// Runs `command` while `lock` is held, checks that it waits (and `while_waiting`), then lets
/// it go on; its output.
fn waits_for(
    lock: &std::fs::File,
    mut command: std::process::Command,
    while_waiting: impl FnOnce(),
) -> std::process::Output {
    let mut waiting = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(waiting.try_wait().unwrap().is_none(), "it did not wait");
    while_waiting();
    lock.unlock().unwrap();
    waiting.wait_with_output().unwrap()
}

/// `deskpulse ARGS…`, as a process to spawn.
fn command<S: AsRef<std::ffi::OsStr>>(args: impl IntoIterator<Item = S>) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_deskpulse"));
    command.args(args);
    command
}

/// `deskpulse ingest PROJECT --store STORE`, as a process to spawn.
fn ingest_process(project: &Path, store: &Path) -> std::process::Command {
    command([
        "ingest".as_ref(),
        project.as_os_str(),
        "--store".as_ref(),
        store.as_os_str(),
    ])
}

/// Ingests October into a store of September while `take` holds the store's lock as another
/// process would: the ingest waits, and has not written the store before the lock is let go.
/// Its stderr, and `store info` after it.
fn october_ingested_past(take: impl FnOnce(&std::fs::File)) -> (String, String) {
    let (_project, parent, store) = september_in_a_store();
    let october = with_exports(&[("2026-10.csv", format!("{HEADER}{OCTOBER}"))]);
    let lock = lock_file(parent.path());
    take(&lock);
    let out = waits_for(&lock, ingest_process(october.path(), &store), || {
        assert!(!store_info(&store).contains("2026-10.csv"));
    });
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    (stderr, store_info(&store))
}

#[test]
fn an_ingest_waits_for_the_one_writing_the_store_then_adds_to_its_version() {
    // held alone, as a running ingest would
    let (stderr, info) = october_ingested_past(|lock| lock.lock().unwrap());
    assert!(stderr.contains("another ingest is writing"), "{stderr}");
    assert!(
        info.contains("2026-09.csv") && info.contains("2026-10.csv"),
        "{info}"
    );
}

#[test]
fn an_ingest_waits_for_a_run_reading_the_store() {
    // shared, as a run reading the store would
    let (stderr, info) = october_ingested_past(|lock| lock.lock_shared().unwrap());
    assert!(stderr.contains("or a run is reading it"), "{stderr}");
    assert!(info.contains("2026-10.csv"), "{info}");
}

#[test]
fn a_run_waits_for_the_ingest_writing_the_store() {
    let (project, parent, store) = september_in_a_store();
    let run = || {
        let mut run = command(["kpis", "--period", "2026-09", "--format", "json", "--store"]);
        run.arg(&store).arg(project.path());
        run
    };
    let alone = run().output().unwrap();
    assert!(alone.status.success());
    // This test holds the lock, as a running ingest would.
    let lock = lock_file(parent.path());
    lock.lock().unwrap();
    let out = waits_for(&lock, run(), || ());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("an ingest is writing"), "{stderr}");
    assert_eq!(out.stdout, alone.stdout);
}

#[test]
fn a_run_from_the_store_names_the_exports_it_does_not_hold() {
    let project = with_exports(&[("2026-09.csv", format!("{HEADER}{SEPTEMBER}"))]);
    let store = project.path().join("tickets.store");
    ingest(project.path(), &store);
    std::fs::write(
        project.path().join("exports/2026-10.csv"),
        format!("{HEADER}{OCTOBER}"),
    )
    .unwrap();
    let run = || {
        let out = deskpulse()
            .args(["kpis", "--period", "2026-10", "--store"])
            .arg(&store)
            .arg(project.path())
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let stderr = run();
    assert!(
        stderr.contains("warning: [[sources]] names exports that are not in the store"),
        "{stderr}"
    );
    assert!(stderr.contains("exports/2026-10.csv"), "{stderr}");
    ingest(project.path(), &store);
    assert!(!run().contains("not in the store"));
}
