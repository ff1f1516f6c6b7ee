//! `deskpulse explain`: a ticket's story is the ledger's, for every help desk, and an id that is
//! not there is a clear error.

use std::collections::BTreeMap;

use serde_json::Value;

use super::util::{data, deskpulse, project, report_october};

/// Every help desk's fixture in one configuration, with SLA policies so that verdicts exist.
fn every_desk() -> tempfile::TempDir {
    let config = "[report]\ntimezone = \"UTC\"\n\n\
        [[sources]]\npath = \"sn.csv\"\ntimezone = \"UTC\"\n\n\
        [[sources]]\nname = \"jsm\"\npath = \"jsm.csv\"\ntimezone = \"Europe/Amsterdam\"\n\n\
        [[sources]]\npath = \"fs.json\"\n\n[[sources]]\npath = \"fd.json\"\n\n\
        [[sources]]\npath = \"zd.json\"\n\n\
        [[sources]]\npath = \"glpi.csv\"\ntimezone = \"Europe/Paris\"\n\n\
        [sla.P1]\nresolution = \"4h\"\nresponse = \"1h\"\n\
        [sla.P2]\nresolution = \"8h\"\n[sla.P3]\nresolution = \"24h\"\n";
    project(
        config,
        &[
            ("sn.csv", &data("servicenow/incidents_fields.csv")),
            ("jsm.csv", &data("jira/jsm_all_fields.csv")),
            ("fs.json", &data("freshservice/tickets_include_stats.json")),
            ("fd.json", &data("freshdesk/tickets.json")),
            ("zd.json", &data("zendesk/tickets_metric_sets.json")),
            ("glpi.csv", &data("glpi/glpi_tickets.csv")),
        ],
    )
}

/// ledger.csv's rows by (source, id): column → value.
fn ledger(out: &std::path::Path) -> BTreeMap<(String, String), BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(out.join("ledger.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            let row: BTreeMap<String, String> = headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect();
            ((row["source"].clone(), row["id"].clone()), row)
        })
        .collect()
}

fn explain_json(dir: &std::path::Path, ids: &[String]) -> Value {
    let run = deskpulse()
        .args([
            "explain", "--quiet", "--format", "json", "--period", "2026-10",
        ])
        .arg(dir)
        .args(ids)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    serde_json::from_slice(&run.stdout).unwrap()
}

fn same_number(ledger: &str, explained: &Value) -> bool {
    match (ledger.parse::<f64>().ok(), explained.as_f64()) {
        (None, None) => ledger.is_empty() && explained.is_null(),
        (Some(a), Some(b)) => (a - b).abs() < 1e-9,
        _ => false,
    }
}

#[test]
fn the_explained_durations_and_verdicts_are_the_ledgers_for_every_ticket_of_every_desk() {
    let dir = every_desk();
    let out = report_october(dir.path());
    let rows = ledger(out.path());
    let ids: Vec<String> = rows.keys().map(|(_, id)| id.clone()).collect();
    let doc = explain_json(dir.path(), &ids);
    let tickets = doc["tickets"].as_array().unwrap();
    let sources: std::collections::BTreeSet<&str> = tickets
        .iter()
        .map(|t| t["source"].as_str().unwrap())
        .collect();
    assert_eq!(sources.len(), 6, "every help desk: {sources:?}");
    let mut compared = 0;
    for t in tickets {
        let key = (
            t["source"].as_str().unwrap().to_string(),
            t["id"].as_str().unwrap().to_string(),
        );
        let Some(row) = rows.get(&key) else {
            // an id of this period in one source may name a ticket of another period elsewhere
            continue;
        };
        for (column, explained) in [
            ("resolve_hours", &t["durations"]["resolve_hours"]),
            (
                "resolve_business_hours",
                &t["durations"]["resolve_business_hours"],
            ),
            ("labor_cost", &t["labor_cost"]),
        ] {
            assert!(
                same_number(&row[column], explained),
                "{key:?} {column}: {} vs {explained}",
                row[column]
            );
        }
        for (i, name) in ["sla_response_state", "sla_resolution_state"]
            .iter()
            .enumerate()
        {
            let explained = t["slas"][i]["state"].as_str().unwrap_or("");
            assert_eq!(row[*name], explained, "{key:?} {name}");
        }
        compared += 1;
    }
    assert_eq!(compared, rows.len(), "every ledger row explained");
}

#[test]
fn an_id_in_no_export_is_an_error_naming_the_nearest() {
    let dir = every_desk();
    let run = deskpulse()
        .args(["explain", "--quiet"])
        .arg(dir.path())
        .arg("INC00O1")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("no ticket INC00O1 in these exports; the nearest ids are INC001"),
        "{stderr}"
    );
}

#[test]
fn a_ticket_of_another_period_says_where_it_counts() {
    let doc = explain_json(
        &super::util::repo().join("sample_data"),
        &["INC0041000".to_string()],
    );
    let t = &doc["tickets"][0];
    // created 31 August, resolved 2 September: nothing of it counts in October
    assert_eq!(t["counts"]["created_month"], "2026-08");
    assert_eq!(t["counts"]["resolved_month"], "2026-09");
    assert_eq!(t["counts"]["created_in_period"], false);
    assert_eq!(t["counts"]["resolved_in_period"], false);
    assert_eq!(t["counts"]["open_at_period_end"], false);
    assert_eq!(t["source_file"], "incidents.csv");
    assert_eq!(t["source_row"], 2);
}

#[test]
fn a_ticket_created_after_as_of_does_not_exist_yet_for_the_period() {
    let run = deskpulse()
        .current_dir(super::util::repo())
        .args([
            "explain",
            "--quiet",
            "sample_data",
            "INC0041007",
            "--period",
            "2026-09",
        ])
        .output()
        .unwrap();
    assert!(run.status.success());
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(
        text.contains("INC0041007: created after 2026-10-01T00:00:00+02:00 (as of): it does not exist yet for 2026-09"),
        "{text}"
    );
}

/// The ticket id and the explain command of each row of report.md's tables that ends with one
/// (the breach lists, then the reconciliation's gaps).
fn listed_commands(md: &str) -> Vec<(String, String)> {
    let code = |cell: &str| cell.trim().trim_matches('`').replace("\\|", "|");
    md.lines()
        .filter(|l| l.starts_with('|') && l.contains("deskpulse explain"))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split(" | ").collect();
            let id = cells.iter().find(|c| c.trim().starts_with('`')).unwrap();
            (code(id), code(cells[cells.len() - 1]))
        })
        .collect()
}

#[test]
fn each_listed_breach_carries_the_command_that_explains_it() {
    // a custom period and an as_of before its end: the command must carry both
    let out = tempfile::tempdir().unwrap();
    deskpulse()
        .current_dir(super::util::repo())
        .args(["report", "sample_data", "--quiet", "--from", "2026-10-01"])
        .args([
            "--to",
            "2026-11-01",
            "--as-of",
            "2026-10-31T12:00:00+01:00",
            "--out",
        ])
        .arg(out.path())
        .assert()
        .success();
    let md = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    let listed = listed_commands(&md);
    assert!(listed.len() > 3, "{md}");
    let html = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    for (id, command) in &listed {
        assert_eq!(
            command,
            &format!(
                "deskpulse explain sample_data {id} --from 2026-10-01 --to 2026-11-01 \
                 --as-of 2026-10-31T11:00:00Z"
            )
        );
        assert!(html.contains(&format!("<code>{command}</code>")), "{id}");
    }
    // run as a user would paste it: the ticket it names, breached by the rule shown
    for (id, command) in listed.iter().take(3) {
        let words = shlex::split(command).unwrap();
        assert_eq!(words[..2], ["deskpulse", "explain"]);
        let run = deskpulse()
            .current_dir(super::util::repo())
            .args(&words[1..])
            .args(["--quiet", "--format", "json"])
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{command}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let doc: Value = serde_json::from_slice(&run.stdout).unwrap();
        assert_eq!(doc["as_of"], "2026-10-31T12:00:00+01:00", "{doc}");
        let ticket = &doc["tickets"][0];
        assert_eq!(&ticket["id"], id);
        assert!(
            ticket["slas"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["state"] == "breached"),
            "{ticket}"
        );
    }
}

#[test]
fn an_explain_command_quotes_what_a_shell_would_split() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("help desk");
    std::fs::create_dir(&project).unwrap();
    std::fs::write(
        project.join("deskpulse.toml"),
        "[report]\ntimezone = \"UTC\"\n\n[[sources]]\npath = \"t.csv\"\nprofile = \"servicenow\"\n\
         timezone = \"UTC\"\n\n[sla.P1]\nresolution = \"1h\"\n",
    )
    .unwrap();
    std::fs::write(
        project.join("t.csv"),
        "number,opened_at,priority,state,resolved_at\n\
         INC 1|a,2026-10-01 09:00:00,1 - Critical,Resolved,2026-10-01 12:00:00\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    deskpulse()
        .current_dir(dir.path())
        .args([
            "report",
            "help desk",
            "--quiet",
            "--period",
            "2026-10",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    let listed = listed_commands(&md);
    assert_eq!(
        listed,
        [(
            "INC 1|a".to_string(),
            "deskpulse explain 'help desk' 'INC 1|a' --period 2026-10".to_string()
        )],
        "{md}"
    );
    let words = shlex::split(&listed[0].1).unwrap();
    let run = deskpulse()
        .current_dir(dir.path())
        .args(&words[1..])
        .args(["--quiet", "--format", "json"])
        .output()
        .unwrap();
    assert!(run.status.success());
    let doc: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(doc["tickets"][0]["id"], "INC 1|a");
}
