//! `deskpulse inspect FILE`: the analysis of an export and the starter profile it prints, which
//! must read the export as the help desk's own profile does.

use serde_json::Value;

use super::util::{data, deskpulse, kpis, project};

fn inspect(file: &std::path::Path, args: &[&str]) -> String {
    let out = deskpulse()
        .arg("inspect")
        .arg(file)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The kpis of `file` in October read through `profile`, from a project with the profiles given.
fn kpis_with(file: &str, profile: &str, profiles: &[(&str, &str)]) -> Value {
    let name = file.rsplit('/').next().unwrap();
    let config = format!(
        "[report]\ntimezone = \"UTC\"\n\n[[sources]]\npath = \"{name}\"\nprofile = \"{profile}\"\n\
         timezone = \"Europe/Amsterdam\"\n"
    );
    let dir = project(&config, &[(name, &data(file))]);
    std::fs::create_dir(dir.path().join("profiles")).unwrap();
    for (file, text) in profiles {
        std::fs::write(dir.path().join("profiles").join(file), text).unwrap();
    }
    kpis(dir.path(), &["--period", "2026-10"])
}

#[test]
fn the_starter_profile_reads_the_export_as_the_help_desks_own_profile_does() {
    // A Spanish Jira export: detected, its columns as `jira` reads them, the formats that read
    // `Creada` (nine of ten values in words, one in ISO), and the issue type `jira` lacks.
    let text = inspect(&data("jira/jsm_es.csv"), &[]);
    for said in [
        "detected `jira`: the header has `Clave de incidencia` + `Tipo de Incidencia` + `Creada`",
        "read as created_at",
        "`%d/%b/%y %I:%M %p` reads 90 %",
        "`%Y-%m-%d %H:%M` reads 10 %",
        "Unknown kind values (not in the profile's [values.kind]): \"Error\" (1)",
        "sla_time_left = [\"Campo personalizado (Time to resolution)\", \"Campo personalizado (Time to first response)\"]",
        "\"sept\" = \"Sep\"",
        "# \"Error\" = \"?\"   # one of incident, request, problem, change",
    ] {
        assert!(text.contains(said), "{said} not in\n{text}");
    }
    // Saved as a profile of one's own, it gives every figure the built-in one gives.
    let own = kpis_with("jira/jsm_es.csv", "jsm_es", &[("jsm_es.toml", &text)]);
    let built_in = kpis_with("jira/jsm_es.csv", "jira", &[]);
    assert_eq!(own["kpis"], built_in["kpis"]);
    assert!(!own["kpis"].as_array().unwrap().is_empty());
}

#[test]
fn an_export_no_profile_fits_gets_the_near_miss_and_a_profile_that_runs() {
    let csv = "Key,Summary,Status,Created,Resolved,Urgency\n\
        HD-1,Printer,Done,2026-10-01 09:00,2026-10-01 12:00,High\n\
        HD-2,VPN,Open,2026-10-02 10:00,,Low\n\
        HD-3,Mail,Done,2026-10-03 08:30,2026-10-04 08:30,Low\n";
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("helpdesk.csv");
    std::fs::write(&file, csv).unwrap();
    let text = inspect(&file, &[]);
    for said in [
        "Near miss: `jira` (Jira Service Management) lacks `Issue key`",
        "id = [\"Key\"]   # guessed from the column's name: check it",
        "created_at = [\"Created\"]",
        "# not read: `Urgency`",
        "formats = [\"%Y-%m-%d %H:%M\"]",
    ] {
        assert!(text.contains(said), "{said} not in\n{text}");
    }
    assert!(!text.contains("[timestamps.words]"), "{text}");
    // Saved as it is, the profile is valid and reads the export: three created in October, two
    // resolved after 3 and 24 hours.
    let project_dir = project(
        "[report]\ntimezone = \"UTC\"\n\n[[sources]]\npath = \"helpdesk.csv\"\ntimezone = \"UTC\"\n",
        &[("helpdesk.csv", &file)],
    );
    std::fs::create_dir(project_dir.path().join("profiles")).unwrap();
    std::fs::write(project_dir.path().join("profiles/helpdesk.toml"), &text).unwrap();
    let doc = kpis(project_dir.path(), &["--period", "2026-10"]);
    assert_eq!(doc["inputs"][0]["profile"], "helpdesk");
    let value = |kpi: &str, stat: &str| {
        super::util::value(&doc, kpi, stat, "all", "all").unwrap_or_else(|| panic!("{kpi}"))
    };
    assert_eq!(value("tickets_created", "value"), 3.0);
    assert_eq!(value("tickets_resolved", "value"), 2.0);
    assert!((value("mttr_hours", "mean") - 13.5).abs() < 1e-9);
}

#[test]
fn each_fixture_is_claimed_by_one_built_in_profile() {
    // Detection picks the expected profile, and no other profile fits the fixture at all (the
    // reason would say which one it was preferred to).
    for (fixture, profile) in [
        ("servicenow/incidents_fields.csv", "servicenow"),
        ("servicenow/incidents_labels_cp1252.csv", "servicenow"),
        ("servicenow/incidents_api.json", "servicenow"),
        ("servicenow/incident_log.csv", "servicenow"),
        (
            "servicenow/incident_list_no_resolution_cp1252.csv",
            "servicenow",
        ),
        ("catalogue/change_request.csv", "servicenow_change"),
        ("jira/jsm_all_fields.csv", "jira"),
        ("jira/jsm_es.csv", "jira"),
        ("zendesk/tickets_metric_sets.json", "zendesk"),
        ("zendesk/tickets.ndjson", "zendesk"),
        ("zendesk/tickets.json.gz", "zendesk"),
        ("zendesk/zendesk_export.csv", "zendesk_csv"),
        ("zendesk/explore_report.csv", "zendesk_explore"),
        ("freshservice/tickets_include_stats.json", "freshservice"),
        ("freshservice/ticket_1001.json", "freshservice"),
        ("freshservice/freshservice_export.csv", "freshservice_csv"),
        ("freshdesk/tickets.json", "freshdesk"),
        ("freshdesk/freshdesk_export.csv", "freshdesk_csv"),
        ("glpi/glpi_tickets.csv", "glpi"),
        ("glpi/glpi_es.csv", "glpi"),
        ("glpi/glpi_pt.csv", "glpi"),
        ("servicenow/incidents_fields.ods", "servicenow"),
    ] {
        let encoding: &[&str] = if fixture.contains("cp1252") {
            &["--encoding", "windows-1252"]
        } else {
            &[]
        };
        let text = inspect(&data(fixture), encoding);
        let line = text.lines().nth(1).unwrap_or_default();
        assert!(
            line.contains(&format!("detected `{profile}`: the header has")),
            "{fixture}: {line}"
        );
        if profile != "servicenow_change" {
            assert!(!line.contains("more specific than"), "{fixture}: {line}");
        }
    }
}

#[test]
fn inspecting_a_file_that_is_not_there_is_an_error_naming_it() {
    deskpulse()
        .args(["inspect", "no-such-export.csv"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "no-such-export.csv: cannot read it",
        ));
}

#[test]
fn rows_that_cannot_be_read_are_counted_in_the_summary() {
    let text = inspect(&data("hostile/ragged_rows.csv"), &[]);
    let first = text.lines().next().unwrap();
    assert!(
        first.ends_with(
            "5 rows, 10 columns, CSV (UTF-8); 2 rows cannot be read, the first row 3: row has 4 \
             fields, the header has 10"
        ),
        "{first}"
    );
}

#[test]
fn a_starter_from_an_api_export_keeps_the_zone_its_profile_fixes() {
    let text = inspect(&data("zendesk/tickets.ndjson"), &[]);
    assert!(text.contains("\ntimezone = \"UTC\"\n"), "{text}");
    assert!(!text.contains("timezone_unstated"), "{text}");
    assert!(text.lines().all(|l| l == l.trim_end()), "{text}");
}
