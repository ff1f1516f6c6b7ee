//! A long CSV export is read and normalised a stretch at a time (`DESKPULSE_STRETCH_BYTES`, here
//! a few kilobytes): every output is the one reading it whole gives, and an export whose
//! stretches cannot be read alone is read whole.

use std::path::Path;

use super::util::{data, deskpulse, files_under};

const STRETCH: &str = "2000";

/// A ServiceNow list export of `n` tickets over September and October 2026, ids in `order`,
/// with what real exports hold: a blank line, padded values, an unknown priority, a resolution
/// before the opening, a row whose opening is no time, and an empty field.
fn export(n: usize, order: impl Fn(usize) -> usize) -> String {
    let mut text = String::from(
        "number,opened_at,short_description,priority,state,assignment_group,assigned_to,\
         reopen_count,made_sla,resolved_at,closed_at\n",
    );
    for i in 0..n {
        let id = order(i);
        let day = 1 + id % 60;
        let (month, day) = if day > 30 { (10, day - 30) } else { (9, day) };
        let opened = format!("2026-{month:02}-{day:02} {:02}:15:00", 8 + id % 9);
        let resolved = match id % 7 {
            0 => String::new(),
            3 => "2026-08-01 10:00:00".to_string(),
            _ => format!("2026-{month:02}-{day:02} {:02}:45:00", 9 + id % 9),
        };
        let opened = if id == 77 { "soon".to_string() } else { opened };
        let priority = match id % 11 {
            5 => "9 - Whenever".to_string(),
            k => format!("{} - Level", 1 + k % 4),
        };
        let group = if id.is_multiple_of(13) {
            " Network "
        } else {
            "Service Desk"
        };
        text.push_str(&format!(
            "INC{id:06},{opened},\"Printer, floor {}\",{priority},Resolved,{group},Agent {},{},{},{resolved},\n",
            id % 5,
            id % 4,
            id % 3,
            id.is_multiple_of(2),
        ));
        if i == n / 3 {
            text.push('\n');
        }
    }
    text
}

fn project(export: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("incidents.csv"), export).unwrap();
    std::fs::write(
        dir.path().join("deskpulse.toml"),
        "[report]\ntimezone = \"Europe/Amsterdam\"\n\n[[sources]]\npath = \"incidents.csv\"\nprofile = \"servicenow\"\n",
    )
    .unwrap();
    dir
}

/// `report` on the project for October, in stretches of `stretch` bytes or whole; the output
/// directory and what `-v` said.
fn report(project: &Path, stretch: Option<&str>) -> (tempfile::TempDir, String) {
    let out = tempfile::tempdir().unwrap();
    let mut run = deskpulse();
    if let Some(bytes) = stretch {
        run.env("DESKPULSE_STRETCH_BYTES", bytes);
    }
    let done = run
        .args(["-v", "report", "--period", "2026-10", "--out"])
        .arg(out.path())
        .arg(project)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&done.stderr).to_string();
    assert!(done.status.success(), "{stderr}");
    (out, stderr)
}

/// Reports the project whole and in stretches: the same files, byte for byte; what `-v` said
/// of the reading in stretches.
fn same_in_stretches(project: &Path) -> String {
    let (whole, said_whole) = report(project, None);
    assert!(!said_whole.contains("a stretch at a time"), "{said_whole}");
    let (stretched, said) = report(project, Some(STRETCH));
    assert!(said.contains("a stretch at a time"), "{said}");
    let (a, b) = (files_under(whole.path()), files_under(stretched.path()));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (name, bytes) in &a {
        assert!(
            *bytes == b[name],
            "{} differs:\n{}\n---\n{}",
            name.display(),
            String::from_utf8_lossy(bytes),
            String::from_utf8_lossy(&b[name])
        );
    }
    said
}

#[test]
fn an_export_read_in_stretches_reports_what_it_does_read_whole() {
    let dir = project(&export(600, |i| i));
    let said = same_in_stretches(dir.path());
    assert!(!said.contains("read whole"), "{said}");
    // The issues behind the sameness: the stretches held the rows rejected and nulled.
    let out = report(dir.path(), Some(STRETCH)).0;
    let rejects = std::fs::read_to_string(out.path().join("rejects.csv")).unwrap();
    for problem in [
        "row_rejected",
        "value_nulled",
        "9 - Whenever",
        "before the ticket",
    ] {
        assert!(rejects.contains(problem), "{problem}: {rejects}");
    }
}

#[test]
fn a_gzipped_export_is_read_in_stretches_from_a_temporary_file() {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(export(600, |i| i).as_bytes()).unwrap();
    let dir = project("");
    std::fs::write(dir.path().join("incidents.csv"), gz.finish().unwrap()).unwrap();
    let said = same_in_stretches(dir.path());
    assert!(!said.contains("read whole"), "{said}");
    // Where no temporary file can be written, the text is decompressed in memory, and said so.
    let out = tempfile::tempdir().unwrap();
    let run = deskpulse()
        .env("DESKPULSE_STRETCH_BYTES", STRETCH)
        .env("TMPDIR", dir.path().join("no such directory"))
        .args(["report", "--period", "2026-10", "--out"])
        .arg(out.path())
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(stderr.contains("decompressed in memory"), "{stderr}");
    let (whole, _) = report(dir.path(), None);
    for name in ["kpis.json", "ledger.csv", "rejects.csv"] {
        let read = |d: &Path| std::fs::read(d.join(name)).unwrap();
        assert!(read(whole.path()) == read(out.path()), "{name} differs");
    }
}

#[test]
fn an_export_in_another_encoding_is_read_in_stretches_from_a_temporary_file() {
    let text = export(600, |i| i).replace("Printer", "Imprimante bloquée");
    let windows_1252 = encoding_rs::WINDOWS_1252.encode(&text).0.into_owned();
    let mut utf16 = vec![0xff, 0xfe];
    utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    for bytes in [windows_1252, utf16] {
        let dir = project("");
        std::fs::write(dir.path().join("incidents.csv"), bytes).unwrap();
        let said = same_in_stretches(dir.path());
        assert!(!said.contains("read whole"), "{said}");
        let (out, _) = report(dir.path(), Some(STRETCH));
        let ledger = std::fs::read_to_string(out.path().join("ledger.csv")).unwrap();
        assert!(ledger.contains("Imprimante bloquée, floor 3"), "{ledger}");
    }
}

#[test]
fn ids_that_fall_are_read_in_stretches_too() {
    let dir = project(&export(600, |i| 599 - i));
    let said = same_in_stretches(dir.path());
    assert!(!said.contains("read whole"), "{said}");
}

#[test]
fn ids_in_no_order_are_read_in_stretches_too() {
    let dir = project(&export(600, |i| (i * 7) % 600));
    let said = same_in_stretches(dir.path());
    assert!(!said.contains("read whole"), "{said}");
}

#[test]
fn an_export_whose_stretches_cannot_be_read_alone_is_read_whole() {
    // Ids in no order, one of them on two rows a hundred and twenty rows apart (in two
    // stretches: the whole read rejects the later row); a repeated id; a malformed record.
    let shuffled_repeat = export(600, |i| if i == 550 { 10 } else { (i * 7) % 600 });
    // An event log whose updates of all tickets come in turn, so that no stretch holds a
    // ticket twice: each reads as a list, whose ids are in two stretches.
    let spread_log = event_log(150);
    // An event log whose first forty tickets have one row each: its first stretch reads as a
    // list's, a later one as an event log's.
    let late_log: String = event_log(1)
        .lines()
        .filter(|line| {
            !(line.as_bytes()[3] == b'0' && &line[4..8] < "0040" && !line.contains(",New,"))
        })
        .map(|line| line.to_string() + "\n")
        .collect();
    let repeated = export(600, |i| if i == 500 { 499 } else { i });
    let malformed =
        export(600, |i| i).replacen("Resolved,Service Desk", "Resolved,Service Desk,extra", 1);
    // Openings written `2026-10-05T08:15:00` from row 400 on, which the first rows' format
    // does not read: rejected, as they are when the file is read whole.
    let written_otherwise: String = export(600, |i| i)
        .lines()
        .enumerate()
        .map(|(n, line)| match n > 400 {
            true => line.replacen(' ', "T", 1) + "\n",
            false => line.to_string() + "\n",
        })
        .collect();
    for (text, why) in [
        (shuffled_repeat, "a ticket id is in two of its stretches"),
        (repeated, "repeats an id"),
        (malformed, "a malformed record"),
        (spread_log, "a ticket id is in two of its stretches"),
        (late_log, "first stretch repeats no id"),
        (written_otherwise, "timestamps read otherwise"),
    ] {
        let dir = project(&text);
        let said = same_in_stretches(dir.path());
        assert!(
            said.contains("read whole") && said.contains(why),
            "{why}: {said}"
        );
    }
}

/// A ServiceNow event log of 150 tickets, each updated four times, the tickets in groups of
/// `group` whose updates come in turn, so that a ticket's rows lie apart. A ticket's last update
/// in the file is not always its highest `sys_mod_count`, and some repeat a count: the state is
/// the row of the highest count, the later of two.
fn event_log(group: usize) -> String {
    let mut text = String::from(
        "number,incident_state,sys_mod_count,opened_at,sys_updated_at,priority,assignment_group\n",
    );
    let states = ["New", "Active", "Resolved", "Closed"];
    let rows = (0..150 / group)
        .flat_map(|g| (0..4).flat_map(move |v| (0..group).map(move |t| (v, g * group + t))));
    for (version, t) in rows {
        {
            let count = match (t % 5, version) {
                (1, 3) => 1,
                (2, 3) => 2,
                _ => version,
            };
            let updated = 1 + version * 3 + t % 3;
            text.push_str(&format!(
                "INC{t:05},{},{count},2026-10-01 08:{:02}:00,2026-10-{updated:02} 09:00:00,{} - Level,Desk {}\n",
                states[version],
                t % 60,
                1 + t % 4,
                t % 3,
            ));
        }
    }
    text
}

#[test]
fn an_event_log_read_in_stretches_reports_what_it_does_read_whole() {
    for (log, zone) in [
        (event_log(10), "UTC"),
        (
            std::fs::read_to_string(data("servicenow/incident_log.csv")).unwrap(),
            "UTC",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("incidents.csv"), log).unwrap();
        std::fs::write(
            dir.path().join("deskpulse.toml"),
            format!("[report]\ntimezone = \"{zone}\"\n\n[[sources]]\npath = \"incidents.csv\"\n"),
        )
        .unwrap();
        let said = same_in_stretches(dir.path());
        assert!(!said.contains("read whole"), "{said}");
        // What the whole file's dates leave open is said once, not once a stretch.
        assert!(said.matches("comes first").count() <= 1, "{said}");
    }
}

#[test]
fn a_stretch_length_that_is_no_number_of_bytes_is_refused() {
    let dir = project(&export(10, |i| i));
    for bytes in ["a lot", "0", "-1"] {
        let out = deskpulse()
            .env("DESKPULSE_STRETCH_BYTES", bytes)
            .arg("kpis")
            .arg(dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        let said = format!("DESKPULSE_STRETCH_BYTES={bytes}: not a number of bytes");
        assert!(stderr.contains(&said), "{stderr}");
    }
    // A stretch longer than any file: every file is read whole, a gzipped one too.
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(export(10, |i| i).as_bytes()).unwrap();
    std::fs::write(dir.path().join("incidents.csv"), gz.finish().unwrap()).unwrap();
    let doc = deskpulse()
        .env("DESKPULSE_STRETCH_BYTES", usize::MAX.to_string())
        .args(["kpis", "--format", "json", "--quiet"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&doc.stderr).to_string();
    assert!(doc.status.success(), "{stderr}");
    let doc: serde_json::Value = serde_json::from_slice(&doc.stdout).unwrap();
    assert_eq!(doc["inputs"][0]["rows"].as_u64(), Some(10), "{doc}");
}
