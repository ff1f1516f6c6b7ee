//! What people read: the HTML and Markdown reports, the deltas against a previous period, and
//! the published site.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::util::{deskpulse, project, read_json, repo, value};

fn sample(args: &[&str]) -> std::process::Output {
    deskpulse()
        .current_dir(repo())
        .arg("--quiet")
        .args(args)
        .output()
        .unwrap()
}

fn ok(out: std::process::Output) -> std::process::Output {
    assert!(
        out.status.success(),
        "deskpulse failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `deskpulse report sample_data [args] --out OUT`, which must succeed.
fn report_sample(out: &Path, args: &[&str]) {
    let mut all = vec!["report", "sample_data"];
    all.extend_from_slice(args);
    all.extend(["--out", out.to_str().unwrap()]);
    ok(sample(&all));
}

fn publish(site: &Path, period: &str) {
    ok(sample(&[
        "publish",
        "sample_data",
        "--period",
        period,
        "--site",
        site.to_str().unwrap(),
    ]));
}

/// Every file under `dir`, by relative path, with its bytes.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                files.insert(path.strip_prefix(dir).unwrap().to_path_buf(), bytes);
            }
        }
    }
    files
}

/// The text a reader sees: no style sheet, no chart drawing, one line per block element.
pub fn visible_text(html: &str) -> String {
    let mut text = String::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        text.push_str(&rest[..open]);
        rest = &rest[open..];
        let lower = rest.get(..7).unwrap_or(rest).to_ascii_lowercase();
        let skip_to = ["<style", "<svg"]
            .iter()
            .find(|t| lower.starts_with(*t))
            .map(|t| format!("</{}>", &t[1..]));
        if let Some(end_tag) = skip_to {
            let end = rest.find(&end_tag).expect("closed element") + end_tag.len();
            rest = &rest[end..];
            continue;
        }
        let close = rest.find('>').expect("closed tag") + 1;
        let tag = &rest[..close];
        let block = [
            "</p",
            "</h",
            "</tr",
            "</li",
            "</div",
            "<br",
            "</summary",
            "</caption",
            "</header",
            "</footer",
            "</section",
        ];
        if block.iter().any(|b| tag.starts_with(b)) {
            text.push('\n');
        } else if tag.starts_with("</td") || tag.starts_with("</th") {
            text.push_str(" | ");
        } else {
            text.push(' ');
        }
        rest = &rest[close..];
    }
    text.push_str(rest);
    let text = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#x2f;", "/")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn snapshot_of_the_html_text_on_sample_data() {
    let out = tempfile::tempdir().unwrap();
    report_sample(out.path(), &["--period", "2026-10"]);
    let html = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    let text = visible_text(&html).replace(env!("CARGO_PKG_VERSION"), "[version]");
    insta::assert_snapshot!("sample_report_html_text", text);
}

#[test]
fn the_markdown_fits_a_ci_job_summary() {
    let out = tempfile::tempdir().unwrap();
    report_sample(out.path(), &[]);
    let md = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    assert!(md.len() < 1 << 20, "{} bytes", md.len());
    // GitHub job summaries render tables; raw HTML is not needed and links would point nowhere.
    let tag = raw_html_line(&md);
    assert!(tag.is_none(), "raw HTML in report.md: {tag:?}");
    assert!(
        !md.contains("](") && !md.contains("!["),
        "a link or picture"
    );
    assert!(md.contains("| --- |") || md.contains("|---|") || md.contains("| ---"));
}

/// The first line with a `<letter` or `</` outside code spans, if any.
fn raw_html_line(md: &str) -> Option<String> {
    md.lines()
        .find(|line| {
            let chars: Vec<char> = line.chars().collect();
            let mut in_code = false;
            chars.iter().enumerate().any(|(i, c)| {
                if *c == '`' {
                    in_code = !in_code;
                }
                !in_code
                    && *c == '<'
                    && chars
                        .get(i + 1)
                        .is_some_and(|n| n.is_ascii_alphabetic() || *n == '/')
            })
        })
        .map(str::to_string)
}

#[test]
fn previous_kpis_json_gives_each_headline_its_change() {
    let dir = tempfile::tempdir().unwrap();
    let before = dir.path().join("before");
    let now = dir.path().join("now");
    report_sample(&before, &["--period", "2026-09"]);
    let previous = before.join("kpis.json");
    report_sample(
        &now,
        &[
            "--period",
            "2026-10",
            "--previous",
            previous.to_str().unwrap(),
        ],
    );
    let (a, b) = (read_json(&previous), read_json(&now.join("kpis.json")));
    let change = |kpi: &str| {
        value(&b, kpi, "value", "all", "all").unwrap()
            - value(&a, kpi, "value", "all", "all").unwrap()
    };
    let created = change("tickets_created");
    let sla_pts = change("sla_resolution_met_pct");
    assert!(created != 0.0 && sla_pts != 0.0, "the sample months differ");
    let md = std::fs::read_to_string(now.join("report.md")).unwrap();
    let html = std::fs::read_to_string(now.join("report.html")).unwrap();
    // On a page a minus sign (U+2212) and a no-break space keep a number whole; a browser's
    // text extraction (the HTML's visible text) gives that space as a plain one.
    let on_page = |t: String| t.replace('-', "\u{2212}").replace(' ', "\u{a0}");
    let created_md = on_page(format!("{created:+.0}"));
    let sla_md = on_page(format!("{sla_pts:+.1} pts"));
    let plain = |t: &str| t.replace('\u{a0}', " ");
    let html_text = plain(&visible_text(&html));
    for (name, text, against, created_shown, sla_shown) in [
        (
            "report.md",
            &md,
            "Change vs 2026-09",
            created_md.clone(),
            sla_md.clone(),
        ),
        (
            "report.html",
            &html_text,
            "Changes are against 2026-09",
            plain(&created_md),
            plain(&sla_md),
        ),
    ] {
        assert!(text.contains(against), "{name}: {text}");
        let created_line = md_or_card(text, "Tickets created");
        assert!(
            created_line.contains(&created_shown),
            "{name}: {created_line} lacks {created_shown}"
        );
        let sla_line = md_or_card(text, "Resolution SLA met");
        assert!(
            sla_line.contains(&sla_shown),
            "{name}: {sla_line} lacks {sla_shown}"
        );
    }
}

/// The sample holds September whole: without `--previous`, October's changes are measured from
/// the same exports, and they are those against a separate September run's kpis.json. August,
/// where the exports begin, has nothing to compare with.
#[test]
fn the_previous_period_is_measured_from_the_same_exports_when_they_hold_it() {
    let dir = tempfile::tempdir().unwrap();
    let (before, with_file, measured) = (
        dir.path().join("before"),
        dir.path().join("with_file"),
        dir.path().join("measured"),
    );
    report_sample(&before, &["--period", "2026-09"]);
    let previous = before.join("kpis.json");
    let file_arg = previous.to_str().unwrap();
    report_sample(&with_file, &["--period", "2026-10", "--previous", file_arg]);
    report_sample(&measured, &["--period", "2026-10"]);
    let md = |d: &Path| std::fs::read_to_string(d.join("report.md")).unwrap();
    let (from_file, from_exports) = (md(&with_file), md(&measured));
    assert!(
        from_exports.contains("| Change vs 2026-09 |"),
        "{from_exports}"
    );
    assert!(
        from_exports.contains("Changes are against 2026-09, measured from the same exports."),
        "{from_exports}"
    );
    assert!(
        from_file.contains(&format!(
            "Changes are against 2026-09, as read from {file_arg}."
        )),
        "{from_file}"
    );
    let origin_free = |t: &str| -> String {
        t.lines()
            .filter(|l| !l.starts_with("Changes are against"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(origin_free(&from_file), origin_free(&from_exports));
    // The change is not the value: the headline has a delta column with numbers in it.
    assert!(
        md_or_card(&from_exports, "Tickets created").contains('+'),
        "{from_exports}"
    );

    let august = dir.path().join("august");
    report_sample(&august, &["--period", "2026-08"]);
    let text = md(&august);
    assert!(
        !text.contains("Change vs") && !text.contains("Changes are against"),
        "{text}"
    );
}

/// A headline's Markdown table row, or the value line under its card's label in the HTML's
/// visible text (the summary above names the same titles in sentences).
fn md_or_card(text: &str, title: &str) -> String {
    if let Some(row) = text
        .lines()
        .find(|l| l.starts_with(&format!("| {title} |")))
    {
        return row.to_string();
    }
    let mut lines = text.lines().skip_while(|l| l.trim() != title);
    lines.next();
    lines.next().unwrap_or_default().to_string()
}

#[test]
fn a_previous_file_that_is_not_kpis_json_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("kpis.json");
    std::fs::write(&bad, "{\"period\": 3}").unwrap();
    let out = sample(&[
        "report",
        "sample_data",
        "--previous",
        bad.to_str().unwrap(),
        "--out",
        dir.path().join("out").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(bad.to_str().unwrap()) && stderr.contains("not a deskpulse kpis.json"),
        "{stderr}"
    );
}

#[test]
fn publishing_the_same_history_gives_the_same_site() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    for p in ["2026-08", "2026-09", "2026-10"] {
        publish(a.path(), p);
    }
    // Another order, and a period published twice: re-running replaces it.
    for p in ["2026-10", "2026-08", "2026-09", "2026-10"] {
        publish(b.path(), p);
    }
    let (ta, tb) = (tree(a.path()), tree(b.path()));
    assert_eq!(ta.keys().collect::<Vec<_>>(), tb.keys().collect::<Vec<_>>());
    for (path, bytes) in &ta {
        assert!(bytes == &tb[path], "{} differs", path.display());
    }
    for p in ["2026-08", "2026-09", "2026-10"] {
        assert!(ta.contains_key(&PathBuf::from(format!("history/{p}.json"))));
        assert!(ta.contains_key(&PathBuf::from(format!("{p}/report.html"))));
    }
    let index = String::from_utf8(ta[&PathBuf::from("index.html")].clone()).unwrap();
    for p in ["2026-08", "2026-09", "2026-10"] {
        // minijinja escapes the slash in attributes; the browser reads it back as one.
        let href = format!("href=\"{p}&#x2f;report.html\"");
        assert!(index.contains(&href), "{p}: {index}");
    }
    // The dashboard's latest value for tickets created is the 2026-10 figure.
    let latest = read_json(&a.path().join("history/2026-10.json"));
    let created = value(&latest, "tickets_created", "value", "all", "all").unwrap();
    let text = visible_text(&index);
    let row = text
        .lines()
        .find(|l| l.starts_with("Tickets created"))
        .expect("a row for tickets created");
    assert!(row.contains(&format!("{created}")), "{row}");
    // The 2026-10 page knows its previous period from the history.
    let md = String::from_utf8(ta[&PathBuf::from("2026-10/report.md")].clone()).unwrap();
    assert!(md.contains("Change vs 2026-09"), "{md}");
}

#[test]
fn a_damaged_history_file_stops_publish_naming_it() {
    let site = tempfile::tempdir().unwrap();
    publish(site.path(), "2026-09");
    let index_before = std::fs::read(site.path().join("index.html")).unwrap();
    let damaged = site.path().join("history/2026-08.json");
    std::fs::write(&damaged, "{\"period\": {\"label\": \"2026-08\"").unwrap();
    let out = sample(&[
        "publish",
        "sample_data",
        "--period",
        "2026-10",
        "--site",
        site.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(damaged.to_str().unwrap()), "{stderr}");
    assert_eq!(
        std::fs::read(site.path().join("index.html")).unwrap(),
        index_before,
        "the dashboard is left as it was"
    );
    assert!(!site.path().join("2026-10").exists());
}

const HOSTILE_CONFIG: &str = r#"
[report]
timezone = "UTC"
title = "<script>alert('title')</script>"
currency = "<img src=y>"

[[sources]]
path = "export.csv"

[sla]
calendar = "24x7"
[sla.P1]
resolution = "1h"

[costs]
monthly_service_costs = { "Mail" = 100.0 }
"#;

#[test]
fn ticket_text_is_shown_as_text_everywhere() {
    let dir = project(HOSTILE_CONFIG, &[]);
    let csv = "\
number,opened_at,short_description,priority,state,assignment_group,business_service,resolved_at
INC1,2026-10-01 09:00:00,<script>alert(1)</script>,1 - Critical,Closed,<script>alert(1)</script>,\"\"\"><img src=x onerror=alert(2)>\",2026-10-01 10:00:00
INC2,2026-10-01 09:00:00,fine,<b>bold</b>,Closed,Network,| pipe |,2026-10-01 10:00:00
INC3,2026-10-02 09:00:00,\"\"\"><img src=x onerror=alert(3)>\",1 - Critical,In Progress,\"\"\"><img src=x onerror=alert(4)>\",Mail,
";
    std::fs::write(dir.path().join("export.csv"), csv).unwrap();
    let out = dir.path().join("out");
    let site = dir.path().join("site");
    let config = dir.path().join("deskpulse.toml");
    for args in [
        vec![
            "report",
            "--period",
            "2026-10",
            "--out",
            out.to_str().unwrap(),
        ],
        vec![
            "publish",
            "--period",
            "2026-10",
            "--site",
            site.to_str().unwrap(),
        ],
    ] {
        deskpulse()
            .args(&args)
            .arg("--quiet")
            .arg(&config)
            .assert()
            .success();
    }
    let pages = [
        out.join("report.html"),
        site.join("index.html"),
        site.join("2026-10/report.html"),
    ];
    for page in &pages {
        let html = std::fs::read_to_string(page).unwrap();
        let name = page.display();
        assert!(!html.contains("<script"), "{name}: raw script tag");
        assert!(!html.contains("<img"), "{name}: raw img tag");
        assert!(!html.contains("<b>bold"), "{name}: raw markup");
        let text = visible_text(&html);
        assert!(
            text.contains("<script>alert('title')</script>"),
            "{name}: {text}"
        );
    }
    // The open, breached P1 is listed with its title and group: shown, as text.
    let text = visible_text(&std::fs::read_to_string(&pages[0]).unwrap());
    assert!(text.contains("\"><img src=x onerror=alert(3)>"), "{text}");
    assert!(text.contains("\"><img src=x onerror=alert(4)>"), "{text}");
    assert!(text.contains("<script>alert(1)</script>"), "{text}");
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        !md.contains("<script") && !md.contains("<img") && !md.contains("<b>"),
        "{md}"
    );
    assert!(md.contains("\\| pipe \\|"), "{md}");
    // regression: the currency was escaped in HTML but raw in Markdown
    assert!(md.contains("| 100.00\u{a0}&lt;img src=y&gt; |"), "{md}");
    let ledger = std::fs::read_to_string(out.join("ledger.csv")).unwrap();
    assert!(
        ledger.contains("<script>alert(1)</script>"),
        "the ledger keeps the data as it is"
    );
}

#[test]
fn the_resolve_time_distribution_adds_up_to_the_ledger() {
    let out = tempfile::tempdir().unwrap();
    report_sample(out.path(), &["--period", "2026-10"]);
    // Independently: bands of resolve_hours over the ledger's incidents resolved in October.
    let start = chrono::DateTime::parse_from_rfc3339("2026-10-01T00:00:00+02:00").unwrap();
    let end = chrono::DateTime::parse_from_rfc3339("2026-11-01T00:00:00+01:00").unwrap();
    let mut reader = csv::Reader::from_path(out.path().join("ledger.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (kind, cancelled, resolved, hours) = (
        col("kind"),
        col("is_cancelled"),
        col("resolved_at"),
        col("resolve_hours"),
    );
    let bounds = [1.0, 4.0, 8.0, 24.0, 72.0, 168.0, 720.0];
    let mut expected = [0u64; 8];
    for record in reader.records() {
        let r = record.unwrap();
        if r[kind] != *"incident" || r[cancelled] == *"true" || r[resolved].is_empty() {
            continue;
        }
        let at = chrono::DateTime::parse_from_rfc3339(&r[resolved]).unwrap();
        if at < start || at >= end || r[hours].is_empty() {
            continue;
        }
        let h: f64 = r[hours].parse().unwrap();
        expected[bounds.iter().filter(|b| h >= **b).count()] += 1;
    }
    let md = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    let line = md
        .lines()
        .find(|l| l.starts_with("Distribution: "))
        .expect("a distribution line");
    let shown: Vec<u64> = line
        .trim_start_matches("Distribution: ")
        .split(" · ")
        .map(|part| {
            let count = part.split(": ").nth(1).unwrap().split(' ').next().unwrap();
            count.parse().unwrap()
        })
        .collect();
    assert_eq!(shown, expected.to_vec(), "{line}");
    let doc = read_json(&out.path().join("kpis.json"));
    let n = super::util::row(&doc, "mttr_hours", "median", "all", "all")["n"]
        .as_u64()
        .unwrap();
    assert_eq!(shown.iter().sum::<u64>(), n);
}

#[test]
fn a_period_without_tickets_has_a_ledger_with_its_header_only() {
    let out = tempfile::tempdir().unwrap();
    report_sample(out.path(), &["--period", "2020-01"]);
    let ledger = std::fs::read_to_string(out.path().join("ledger.csv")).unwrap();
    let lines: Vec<&str> = ledger.lines().collect();
    assert_eq!(lines.len(), 1, "{ledger}");
    assert!(lines[0].starts_with("source,id,kind,title,"), "{ledger}");
    assert!(
        lines[0].ends_with(",source_file,source_row,labor_cost"),
        "{ledger}"
    );
}

/// One Markdown table of the report: the rows under the line `heading`, as cells.
fn md_table(md: &str, heading: &str) -> Vec<Vec<String>> {
    md.lines()
        .skip_while(|l| l.trim() != heading)
        .skip(1)
        .skip_while(|l| l.trim().is_empty())
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| {
            l.trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect()
}

/// A duration as the report writes it (`34.2 h`, `2.06 d`, `45 min`), in hours.
fn hours_shown(text: &str) -> f64 {
    let (number, unit) = text
        .split_once('\u{a0}')
        .unwrap_or_else(|| text.split_once(' ').unwrap());
    let v: f64 = number.parse().unwrap();
    match unit {
        "min" => v / 60.0,
        "h" => v,
        "d" => v * 24.0,
        other => panic!("unit {other}"),
    }
}

/// The breakdown by category and the list of tickets resolved after a breach, worked out again
/// from ledger.csv: each category's counts, median time to resolve and breaches; the rows add
/// up to the headline KPIs.
#[test]
fn the_breakdowns_and_resolved_breaches_agree_with_the_ledger() {
    let out = tempfile::tempdir().unwrap();
    report_sample(out.path(), &["--period", "2026-10"]);
    let md = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    let doc = read_json(&out.path().join("kpis.json"));
    // October in Europe/Amsterdam, as UTC text that sorts like the instants.
    let in_october = |t: &str| {
        !t.is_empty() && ("2026-09-30T22:00:00Z"..).contains(&t) && t < "2026-10-31T23:00:00Z"
    };
    let mut reader = csv::Reader::from_path(out.path().join("ledger.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (category, created, resolved, hours, state, service, cancelled) = (
        at("category"),
        at("created_at"),
        at("resolved_at"),
        at("resolve_hours"),
        at("sla_resolution_state"),
        at("is_service"),
        at("is_cancelled"),
    );
    // category -> (created, resolved hours, breached among resolved)
    let mut expected: BTreeMap<String, (u64, Vec<f64>, u64)> = BTreeMap::new();
    for record in reader.records() {
        let r = record.unwrap();
        if &r[service] != "true" || &r[cancelled] == "true" {
            continue;
        }
        let e = expected.entry(r[category].to_string()).or_default();
        if in_october(&r[created]) {
            e.0 += 1;
        }
        if in_october(&r[resolved]) {
            e.1.push(r[hours].parse().unwrap());
            if &r[state] == "breached" {
                e.2 += 1;
            }
        }
    }
    let table = md_table(&md, "**By category**");
    assert_eq!(table.len(), expected.len(), "{md}");
    let (mut created_sum, mut resolved_sum, mut open_sum) = (0.0, 0.0, 0.0);
    for row in &table {
        let (n_created, hours, breached) = &expected[&row[0]];
        let mut sorted = hours.clone();
        sorted.sort_by(f64::total_cmp);
        let mid = sorted.len() / 2;
        let median = match sorted.len() % 2 {
            1 => sorted[mid],
            _ => (sorted[mid - 1] + sorted[mid]) / 2.0,
        };
        assert_eq!(row[1], n_created.to_string(), "{row:?}");
        assert_eq!(row[2], sorted.len().to_string(), "{row:?}");
        let shown = hours_shown(&row[4]);
        assert!((shown - median).abs() / median < 0.005, "{row:?}: {median}");
        assert_eq!(row[5], breached.to_string(), "{row:?}");
        created_sum += row[1].parse::<f64>().unwrap();
        resolved_sum += row[2].parse::<f64>().unwrap();
        open_sum += row[3].parse::<f64>().unwrap();
    }
    let headline = |kpi: &str| value(&doc, kpi, "value", "all", "all").unwrap();
    assert_eq!(created_sum, headline("tickets_created"));
    assert_eq!(resolved_sum, headline("tickets_resolved"));
    assert_eq!(open_sum, headline("backlog_open"));

    let breached: u64 = expected.values().map(|e| e.2).sum();
    assert!(
        breached > 25,
        "the sample has more breaches than the list shows"
    );
    assert!(
        md.contains(&format!(
            "Resolved in the period after a breach: {breached}."
        )),
        "{md}"
    );
    let listed = md_table(
        &md,
        &format!("Resolved in the period after a breach: {breached}."),
    );
    assert_eq!(listed.len(), 25);
    // the assignees: ten and the others
    let assignees = md_table(&md, "**By assignee**");
    assert_eq!(assignees.len(), 11);
    assert!(assignees[10][0].starts_with("others ("), "{assignees:?}");
}

/// The Markdown of one `## title` section.
fn md_section<'a>(md: &'a str, title: &str) -> &'a str {
    let start = md.find(&format!("\n## {title}\n")).expect(title);
    let rest = &md[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |e| e + 3);
    &rest[..end]
}

/// Thirteen services, service i with i incidents each resolved in i hours, the first of each
/// reopened: a KPI's breakdown lists the ten largest and adds up the three smallest (6
/// incidents: 1 of service 1, 2 of service 2, 3 of service 3) as "others", with what can be
/// added up: counts, a mean weighted by n (14 hours over 6 = 2.33 h), a percentage from its
/// numerator and denominator (3 reopened of 6 = 50 %); a median cannot be, and says "—".
#[test]
fn a_breakdown_past_ten_keys_adds_up_the_others() {
    let mut csv =
        String::from("number,opened_at,priority,state,business_service,resolved_at,reopen_count\n");
    let mut k = 0;
    for i in 1..=13 {
        for j in 0..i {
            k += 1;
            csv.push_str(&format!(
                "INC{k:04},2026-10-02 08:00:00,3 - Moderate,Resolved,Service {i:02},2026-10-02 {:02}:00:00,{}\n",
                8 + i,
                u8::from(j == 0)
            ));
        }
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("incidents.csv"), csv).unwrap();
    let config = "[report]\ntimezone = \"UTC\"\nbreakdowns = [\"service\"]\n[[sources]]\npath = \"incidents.csv\"\nprofile = \"servicenow\"\n";
    std::fs::write(dir.path().join("deskpulse.toml"), config).unwrap();
    let out = super::util::report_october(dir.path());
    let md = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    let by_service = |title: &str| md_table(md_section(&md, title), "**By service**");
    let created = by_service("Tickets created");
    assert_eq!(created.len(), 11, "{created:?}");
    assert_eq!(created[0], ["Service 13", "13"]);
    assert_eq!(created[9], ["Service 04", "4"]);
    assert_eq!(created[10], ["others (3 values)", "6"]);
    let mttr = by_service("Time to resolve (calendar)");
    assert_eq!(
        mttr[10],
        ["others (3 values)", "—", "2.33\u{a0}h", "—", "6"]
    );
    let reopened = by_service("Reopened");
    assert_eq!(reopened[10], ["others (3 values)", "50.0\u{a0}%", "6"]);
    // The report's own breakdown by service: without an SLA policy it has no breach column
    // (a column of zeros would say none breached).
    let breakdown = md_section(&md, "Breakdowns");
    assert!(
        breakdown.contains("| Service | Created | Resolved | Open | Median to resolve |\n"),
        "{breakdown}"
    );
    // Here the median is of the others' tickets themselves: 1, 2, 2, 3, 3, 3 hours.
    let rows = md_table(breakdown, "**By service**");
    assert_eq!(
        rows[10],
        ["others (3 values)", "6", "6", "0", "2.50\u{a0}h"]
    );
}

/// The monthly trend of October's report says of September what a run for September says:
/// the median time to resolve, the resolution SLAs met and the backlog at its end. The months
/// before the sample begins (August) are not shown.
#[test]
fn the_monthly_trend_agrees_with_a_run_for_each_month() {
    let out = tempfile::tempdir().unwrap();
    report_sample(out.path(), &["--period", "2026-10"]);
    let md = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    let header = md
        .lines()
        .find(|l| l.starts_with("| Month |"))
        .expect("the month table");
    assert_eq!(header, "| Month | 2026-08 | 2026-09 | 2026-10 |");
    let volume = md_section(&md, "Volume");
    let line = |name: &str| -> Vec<String> {
        let row = volume
            .lines()
            .find(|l| l.starts_with(&format!("| {name} |")))
            .unwrap_or_else(|| panic!("{name}: {md}"));
        row.trim_matches('|')
            .split(" | ")
            .skip(1)
            .map(|c| c.trim().to_string())
            .collect()
    };
    let percent = |t: &str| -> f64 { t.split('\u{a0}').next().unwrap().parse().unwrap() };
    for (i, month) in ["2026-08", "2026-09", "2026-10"].iter().enumerate() {
        let doc = ok(sample(&[
            "kpis",
            "sample_data",
            "--period",
            month,
            "--format",
            "json",
        ]));
        let doc: serde_json::Value = serde_json::from_slice(&doc.stdout).unwrap();
        let kpi = |id: &str, stat: &str| value(&doc, id, stat, "all", "all").unwrap();
        assert_eq!(
            line("Open at the end")[i],
            kpi("backlog_open", "value").to_string()
        );
        let median = kpi("mttr_hours", "median");
        let shown = hours_shown(&line("Median to resolve")[i]);
        assert!(
            (shown - median).abs() / median < 0.005,
            "{month}: {shown} {median}"
        );
        let sla = kpi("sla_resolution_met_pct", "value");
        let shown = percent(&line("Resolution SLA met")[i]);
        assert!((shown - sla).abs() <= 0.05, "{month}: {shown} {sla}");
    }
    let breaches = md
        .lines()
        .find(|l| l.starts_with("Breaches by month of breach"))
        .unwrap();
    assert!(
        breaches.contains(": 2026-08: ") && !breaches.contains("2026-07"),
        "{breaches}"
    );
}

/// Each published page links to the site's index and to the periods before and after it, and a
/// page gains its link to a period published later (its manifest follows): publishing August,
/// September and October in any order gives the same site, byte for byte.
#[test]
fn published_pages_link_their_neighbours_whatever_the_order_of_publishing() {
    let dir = tempfile::tempdir().unwrap();
    let (in_order, mixed) = (dir.path().join("in_order"), dir.path().join("mixed"));
    for period in ["2026-08", "2026-09", "2026-10"] {
        publish(&in_order, period);
    }
    for period in ["2026-10", "2026-08", "2026-09"] {
        publish(&mixed, period);
    }
    assert_eq!(tree(&in_order), tree(&mixed));
    let html = std::fs::read_to_string(in_order.join("2026-09/report.html")).unwrap();
    assert!(
        html.contains(
            r#"<nav class="periods" aria-label="Periods"><a href="../index.html">All periods</a> · <a href="../2026-08/report.html">← 2026-08</a> · <a href="../2026-10/report.html">2026-10 →</a></nav>"#
        ),
        "{html}"
    );
    // The dashboard judges the latest period against the targets, as its report does.
    let index = std::fs::read_to_string(in_order.join("index.html")).unwrap();
    for judged in [
        "≤ 48.0\u{a0}h: <strong class=\"target met\">met</strong>",
        "≤ 5: <strong class=\"target missed\">missed</strong>",
        "≥ 60.0\u{a0}%: <strong class=\"target at-risk\">at risk</strong>",
    ] {
        assert!(index.contains(judged), "{judged}: {index}");
    }
    // Every page's manifest still describes its report.html.
    for period in ["2026-08", "2026-09", "2026-10"] {
        let page = mixed.join(period);
        let manifest = read_json(&page.join("manifest.json"));
        let entry = manifest["outputs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["file"] == "report.html")
            .unwrap();
        let bytes = std::fs::read(page.join("report.html")).unwrap();
        assert_eq!(entry["bytes"], bytes.len(), "{period}");
        use sha2::Digest;
        let digest = format!("{:x}", sha2::Sha256::digest(&bytes));
        assert_eq!(entry["sha256"], digest.as_str(), "{period}");
    }
}

/// Counts over a thousand carry their separators in the month table, the backlog by age, the
/// SLA section and the headline changes, in Markdown as in HTML; without an SLA policy the
/// month table has no SLA row.
#[test]
fn counts_carry_thousands_separators() {
    let mut csv = String::from("number,opened_at,priority,state,resolved_at\n");
    // 1,000 incidents on 1 September and 2,100 on 1 October, all still open
    for k in 0..3100 {
        let day = if k < 1000 { "2026-09-01" } else { "2026-10-01" };
        csv.push_str(&format!(
            "INC{k:05},{day} 09:00:00,3 - Moderate,In Progress,\n"
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("incidents.csv"), csv).unwrap();
    let config = "[report]\ntimezone = \"UTC\"\n[[sources]]\npath = \"incidents.csv\"\nprofile = \"servicenow\"\n";
    std::fs::write(dir.path().join("deskpulse.toml"), config).unwrap();
    let out = super::util::report_october(dir.path());
    let md = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    let volume = md_section(&md, "Volume");
    assert!(volume.contains("| Created | 1,000 | 2,100 |"), "{volume}");
    assert!(
        volume.contains("| Open at the end | 1,000 | 3,100 |"),
        "{volume}"
    );
    assert!(!volume.contains("SLA"), "{volume}");
    // 30 and 61 whole days old at the end of October
    assert!(
        volume.contains("6-30 days: 2,100 · 31-90 days: 1,000"),
        "{volume}"
    );
    assert!(md.contains("| Tickets created | 2,100 | +1,100 |"), "{md}");
    let html = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    assert!(
        html.contains("<td class=\"num\">3,100</td>"),
        "the month table in HTML"
    );
}

#[test]
fn a_publish_waits_while_another_writes_the_site() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    std::fs::create_dir_all(&site).unwrap();
    // The lock another publishing run would hold.
    let held = std::fs::File::create(site.join(".deskpulse-publish.lock")).unwrap();
    held.lock().unwrap();
    let said = dir.path().join("stderr.txt");
    let mut run = std::process::Command::new(env!("CARGO_BIN_EXE_deskpulse"))
        .current_dir(repo())
        .args(["publish", "sample_data", "--period", "2026-10", "--site"])
        .arg(&site)
        .stderr(std::fs::File::create(&said).unwrap())
        .spawn()
        .unwrap();
    let waiting = (0..600).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert!(
            run.try_wait().unwrap().is_none(),
            "it published past the lock"
        );
        std::fs::read_to_string(&said)
            .unwrap()
            .contains("waiting for it to finish")
    });
    assert!(waiting, "{}", std::fs::read_to_string(&said).unwrap());
    assert!(!site.join("index.html").exists() && !site.join("history").exists());
    drop(held);
    assert!(run.wait().unwrap().success());
    assert!(site.join("index.html").exists() && site.join("history/2026-10.json").exists());
}

#[test]
fn a_previous_kpis_json_reads_back_to_the_same_numbers() {
    // `--previous` reads figures that a run wrote; a parser that rounds the last digit differently
    // makes the change against them differ from the change against the same period measured.
    let out = tempfile::tempdir().unwrap();
    report_sample(out.path(), &["--period", "2026-08"]);
    let text = std::fs::read_to_string(out.path().join("kpis.json")).unwrap();
    let mut checked = 0;
    for piece in text.split("\"value\":").skip(1) {
        let number: String = piece
            .chars()
            .take_while(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | 'e' | 'E' | '+'))
            .collect();
        if number.contains('.') {
            let exact: f64 = number.parse().unwrap();
            let read: f64 = serde_json::from_str(&number).unwrap();
            assert_eq!(read.to_bits(), exact.to_bits(), "{number}");
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} fractional values");
}
