//! The hostile corpus (`tests/data/hostile/cases.toml`): each file read as a user's export, with
//! the rows accepted and rejected, the values set aside, or the error it must give.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::util::{data, deskpulse, read_json};

#[derive(Deserialize)]
struct Corpus {
    case: Vec<Case>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Case {
    file: String,
    about: String,
    /// Extra keys of the source's `[[sources]]` entry.
    #[serde(default)]
    source: String,
    /// The words an exit-2 message must hold, when the file is refused.
    #[serde(default)]
    error: Vec<String>,
    #[serde(default)]
    rows: u64,
    #[serde(default)]
    rejected: Vec<Expected>,
    #[serde(default)]
    nulled: Vec<Expected>,
    /// INC0001's title as the ledger must show it.
    title: Option<String>,
    /// A sentence the report's data-quality notes must hold.
    note: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct Expected {
    row: u64,
    #[serde(default)]
    column: String,
    problem: String,
}

/// A rejects.csv line: row, column, problem, action.
type Reject = (u64, String, String, String);

fn configuration(dir: &Path, export: &Path, case: &Case) -> PathBuf {
    let config = dir.join("deskpulse.toml");
    let text = format!(
        "[report]\ntimezone = \"Europe/Amsterdam\"\n\n[[sources]]\npath = '{}'\ntimezone = \"Europe/Amsterdam\"\n{}\n",
        export.display(),
        case.source
    );
    std::fs::write(&config, text).unwrap();
    config
}

fn rejects(out: &Path) -> Vec<Reject> {
    let mut reader = csv::Reader::from_path(out.join("rejects.csv")).unwrap();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (
                r[1].parse().unwrap(),
                r[2].to_string(),
                r[4].to_string(),
                r[5].to_string(),
            )
        })
        .collect()
}

fn title_of_first_ticket(out: &Path) -> Option<String> {
    let mut reader = csv::Reader::from_path(out.join("ledger.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let (id, title) = (
        headers.iter().position(|h| h == "id").unwrap(),
        headers.iter().position(|h| h == "title").unwrap(),
    );
    reader
        .records()
        .map(Result::unwrap)
        .find(|r| &r[id] == "INC0001")
        .map(|r| r[title].to_string())
}

/// Runs one case, the export read in stretches of `stretch` bytes if given; what went
/// otherwise than the case says, or nothing.
fn run(export: &Path, case: &Case, stretch: Option<&str>) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let config = configuration(dir.path(), export, case);
    let out = dir.path().join("out");
    let mut run = deskpulse();
    if let Some(bytes) = stretch {
        run.env("DESKPULSE_STRETCH_BYTES", bytes);
    }
    let run = run
        .args(["report", "--quiet", "--period", "2026-10", "--out"])
        .arg(&out)
        .arg(&config)
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    let mut wrong = Vec::new();
    if stderr.contains("panicked") || run.status.code().is_none() {
        return vec![format!("crashed: {stderr}")];
    }
    if !case.error.is_empty() {
        if run.status.code() != Some(2) {
            wrong.push(format!("exit {:?}, not 2", run.status.code()));
        }
        for words in &case.error {
            if !stderr.contains(words.as_str()) {
                wrong.push(format!("the message lacks {words:?}: {stderr}"));
            }
        }
        return wrong;
    }
    if !run.status.success() {
        return vec![format!("refused: {stderr}")];
    }
    let input = &read_json(&out.join("kpis.json"))["inputs"][0];
    let rejected_rows = case.rejected.len() as u64;
    let counts = (&input["rows"], &input["accepted"], &input["rejected"]);
    let want = (case.rows, case.rows - rejected_rows, rejected_rows);
    if (counts.0.as_u64(), counts.1.as_u64(), counts.2.as_u64())
        != (Some(want.0), Some(want.1), Some(want.2))
    {
        wrong.push(format!("rows, accepted, rejected {counts:?}, not {want:?}"));
    }
    let found = rejects(&out);
    let expected = [
        ("row_rejected", &case.rejected),
        ("value_nulled", &case.nulled),
    ];
    let matches = |r: &Reject, action: &str, e: &Expected| {
        r.0 == e.row && r.1 == e.column && r.2.contains(&e.problem) && r.3 == action
    };
    for (action, list) in expected {
        for e in list {
            if !found.iter().any(|r| matches(r, action, e)) {
                wrong.push(format!("no {action} {e:?} in {found:?}"));
            }
        }
    }
    for r in &found {
        if !expected
            .iter()
            .any(|(a, list)| list.iter().any(|e| matches(r, a, e)))
        {
            wrong.push(format!("unexpected reject {r:?}"));
        }
    }
    if let Some(title) = &case.title
        && title_of_first_ticket(&out).as_ref() != Some(title)
    {
        wrong.push(format!("INC0001's title is not {title:?}"));
    }
    if let Some(note) = &case.note {
        let html = std::fs::read_to_string(out.join("report.html")).unwrap();
        if !html.contains(note.as_str()) {
            wrong.push(format!("the report lacks the note {note:?}"));
        }
    }
    wrong
}

#[test]
fn every_hostile_file_is_read_or_refused_as_its_case_says() {
    every_case(None);
}

#[test]
fn every_hostile_file_read_in_stretches_is_read_or_refused_as_its_case_says() {
    // Stretches of 64 bytes: most records are cut over several, and every case's file but the
    // shortest is long enough to be read a stretch at a time.
    every_case(Some("64"));
}

fn every_case(stretch: Option<&str>) {
    let dir = data("hostile");
    let corpus: Corpus =
        toml::from_str(&std::fs::read_to_string(dir.join("cases.toml")).unwrap()).unwrap();
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|f| f != "cases.toml")
        .collect();
    files.sort();
    let mut cased: Vec<String> = corpus.case.iter().map(|c| c.file.clone()).collect();
    cased.sort();
    assert_eq!(files, cased, "every file of the corpus has one case");
    let failures: Vec<String> = corpus
        .case
        .iter()
        .flat_map(|case| {
            run(&dir.join(&case.file), case, stretch)
                .into_iter()
                .map(move |w| format!("{} ({}): {w}", case.file, case.about))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

const HEADER: &str = "number,opened_at,short_description,state";

#[test]
fn a_huge_field_many_columns_and_deep_json_are_read_or_refused_in_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let huge = dir.path().join("huge_field.csv");
    let field = "x".repeat(20 << 20);
    std::fs::write(
        &huge,
        format!("{HEADER}\nINC0001,2026-10-01 09:00:00,{field},New\nINC0002,2026-10-02 09:00:00,short,New\n"),
    )
    .unwrap();
    let wide = dir.path().join("wide.csv");
    let extra: String = (0..10_000).map(|i| format!(",x{i}")).collect();
    let values: String = (0..10_000).map(|i| format!(",{i}")).collect();
    std::fs::write(
        &wide,
        format!("{HEADER}{extra}\nINC0001,2026-10-01 09:00:00,wide,New{values}\n"),
    )
    .unwrap();
    let deep = dir.path().join("deep.json");
    std::fs::write(&deep, "[".repeat(100_000) + &"]".repeat(100_000)).unwrap();
    let cases = [
        (
            &huge,
            Case {
                rows: 2,
                ..Case::default()
            },
        ),
        (
            &wide,
            Case {
                rows: 1,
                ..Case::default()
            },
        ),
        (
            &deep,
            Case {
                error: vec!["not valid JSON".into()],
                ..Case::default()
            },
        ),
    ];
    for (file, case) in &cases {
        let wrong = run(file, case, None);
        assert!(wrong.is_empty(), "{}: {}", file.display(), wrong.join("\n"));
    }
}

/// Cells of a Markdown table row: the `|` that are not escaped.
fn cell_bars(line: &str) -> usize {
    let bytes = line.as_bytes();
    (0..bytes.len())
        .filter(|&i| bytes[i] == b'|' && (i == 0 || bytes[i - 1] != b'\\'))
        .count()
}

#[test]
fn names_and_text_from_exports_and_configuration_are_data_in_every_output() {
    let dir = tempfile::tempdir().unwrap();
    let config = "\
[report]
title = \"<img src=x onerror=alert(1)> | *KPIs*\"
timezone = \"UTC\"

[[sources]]
path = \"export.csv\"
profile = \"servicenow\"

[sla.P1]
resolution = \"1h\"
";
    std::fs::write(dir.path().join("deskpulse.toml"), config).unwrap();
    let csv = "\
number,opened_at,short_description,priority,state,assignment_group,business_service,category,caller_id,cmdb_ci,resolved_at
INC1,2026-10-01 09:00:00,\"a | b\nsecond line\",1 - Critical,Resolved,<script>alert(1)</script>,=HYPERLINK(\"\"http://x\"\"),-2+3,@SUM(A1),\"\tTAB\",2026-10-01 12:00:00
INC2,2026-10-02 09:00:00,\"|\",2 - High,Resolved,+cmd|' /C calc'!A0,Mail,\"\rCR\",Someone,ci-1,2026-10-02 10:00:00
";
    std::fs::write(dir.path().join("export.csv"), csv).unwrap();
    let out = dir.path().join("out");
    deskpulse()
        .args(["report", "--quiet", "--period", "2026-10", "--out"])
        .arg(&out)
        .arg(dir.path())
        .assert()
        .success();

    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    for raw in ["<script>alert", "<img src=x"] {
        assert!(!html.contains(raw), "{raw} reached the HTML as markup");
    }
    assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"));

    // every row of every Markdown table has its header's cells: no pipe or line break of the
    // data leaves its cell
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    let mut header: Option<usize> = None;
    for line in md.lines() {
        if !line.starts_with('|') {
            header = None;
            continue;
        }
        let bars = cell_bars(line);
        match header {
            None => header = Some(bars),
            Some(h) => assert_eq!(bars, h, "a row left its table: {line}"),
        }
    }
    assert!(
        md.contains("alert(1)&gt; \\| \\*KPIs\\*"),
        "the report title's pipe and stars are text"
    );

    // no CSV cell of text starts a formula
    let csvs = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"));
    for path in csvs {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_path(&path)
            .unwrap();
        for record in reader.records() {
            for cell in record.unwrap().iter() {
                let starts_formula = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
                assert!(
                    !starts_formula || cell.parse::<f64>().is_ok(),
                    "{}: {cell:?}",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn a_source_path_that_is_a_url_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("deskpulse.toml"),
        "[[sources]]\npath = \"https://example.com/export.csv\"\n",
    )
    .unwrap();
    let run = deskpulse().arg("kpis").arg(dir.path()).output().unwrap();
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("is a URL") && stderr.contains("[[sources]] #1"),
        "{stderr}"
    );
}

#[test]
fn a_column_read_as_unknown_in_many_rows_is_warned_on_the_first_screen() {
    // regression: a value map that missed a whole column's values was said only in rejects.csv
    // and the data-quality section, far below the figures it changed
    let file = data("hostile/unknown_priority_and_status.csv");
    let dir = tempfile::tempdir().unwrap();
    let config = configuration(dir.path(), &file, &Case::default());
    let out = dir.path().join("out");
    let run = deskpulse()
        .args(["report", "--period", "2026-10", "--out"])
        .arg(&out)
        .arg(&config)
        .output()
        .unwrap();
    assert!(run.status.success());
    // one row of five each: 20 %, above the 5 % that is warned
    let warning = "1 of 5 rows (20 %) have a priority the value map does not know";
    assert!(String::from_utf8_lossy(&run.stderr).contains(warning));
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    let headline = md.find("## Headline").unwrap();
    let at = md.find(warning).expect("warned in report.md");
    assert!(at < headline, "before the figures");
    assert!(md[..headline].contains("(20 %) have a state the value map does not know"));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains(warning));
}

/// A list export of the tickets numbered `ids`, all opened on 1 October 2026.
fn list_of(ids: std::ops::Range<usize>) -> String {
    let mut text = String::from(HEADER);
    text.push('\n');
    for i in ids {
        text.push_str(&format!("INC{i:07},2026-10-01 09:00:00,t,New\n"));
    }
    text
}

/// What `kpis` for October said on stderr, once it succeeded.
fn kpis_stderr(config: &Path) -> String {
    let run = deskpulse()
        .args(["kpis", "--period", "2026-10"])
        .arg(config)
        .output()
        .unwrap();
    assert!(run.status.success());
    String::from_utf8_lossy(&run.stderr).to_string()
}

#[test]
fn an_export_of_exactly_ten_thousand_rows_is_said_to_be_probably_cut() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("list.csv");
    std::fs::write(&file, list_of(0..10_000)).unwrap();
    let stderr = kpis_stderr(&configuration(dir.path(), &file, &Case::default()));
    assert!(
        stderr.contains("has exactly 10000 rows, a help desk's export limit"),
        "{stderr}"
    );
}

#[test]
fn slices_of_exactly_an_export_limit_are_said_to_be_probably_cut_in_one_warning() {
    let dir = tempfile::tempdir().unwrap();
    for slice in 0..5 {
        let ids = slice * 10_000..(slice + 1) * 10_000;
        std::fs::write(dir.path().join(format!("slice-{slice}.csv")), list_of(ids)).unwrap();
    }
    let slices = dir.path().join("slice-*.csv");
    let stderr = kpis_stderr(&configuration(dir.path(), &slices, &Case::default()));
    let warned: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("a help desk's export limit"))
        .collect();
    assert_eq!(warned.len(), 1, "{stderr}");
    assert!(
        warned[0].contains("5 files have exactly 10000 rows each"),
        "{stderr}"
    );
    assert!(
        warned[0].contains("slice-0.csv, ") && warned[0].contains("slice-2.csv and 2 more"),
        "{stderr}"
    );
    assert!(!warned[0].contains("slice-3.csv"), "{stderr}");
}
