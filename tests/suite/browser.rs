//! The sample report in a real browser: headless Chromium loads it offline, with no console
//! message and no network request, and takes a screenshot.
//!
//! Without Chromium the test says so and passes on a developer machine; under CI (`CI` set) a
//! Chromium that is missing or cannot start fails it.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::util::{deskpulse, repo};

const BROWSERS: &[&str] = &["chromium", "chromium-browser", "google-chrome"];

fn browser() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    BROWSERS.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// What Chromium saw while loading a page.
struct Visit {
    console: Vec<String>,
    requests: Vec<String>,
    screenshot: Vec<u8>,
}

fn visit(chromium: &Path, page: &Path, work: &Path, width: u32) -> Visit {
    let net_log = work.join("net-log.json");
    let shot = work.join("screenshot.png");
    let out = headless(chromium, work)
        .arg(format!("--log-net-log={}", net_log.display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("--window-size={width},2000"))
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap_or_else(|e| panic!("{}: cannot start: {e}", chromium.display()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && shot.is_file(),
        "Chromium could not render {}: {stderr}",
        page.display()
    );
    let console = stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_string)
        .collect();
    Visit {
        console,
        requests: page_requests(&net_log),
        screenshot: std::fs::read(&shot).unwrap(),
    }
}

/// Chromium, headless and quiet, with a profile of its own in `work`.
fn headless(chromium: &Path, work: &Path) -> Command {
    let mut command = Command::new(chromium);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--hide-scrollbars",
        ])
        .arg(format!(
            "--user-data-dir={}",
            work.join("profile").display()
        ));
    command
}

/// What a script measures of a page laid out `width` pixels wide (the page's copy gets the
/// script; the report itself has none): how far the page is wider than the window, each
/// table's scrolling box and first-column position, and the headline values cut off.
const MEASURE: &str = r#"<script>
const scroller = (e) => { for (; e && e !== document.body; e = e.parentElement) {
  const o = getComputedStyle(e).overflowX; if (o === 'auto' || o === 'scroll') return e; }
  return null; };
const tables = [...document.querySelectorAll('table')].filter(t => t.checkVisibility())
  .map(t => { const first = t.querySelector('tbody td');
    return { scrolls: scroller(t) !== null,
             sticky: first ? getComputedStyle(first).position : 'none',
             past_window: t.getBoundingClientRect().right - window.innerWidth }; });
const hidden = [...document.querySelectorAll('table')].filter(t => !t.checkVisibility()).length;
const cut = [...document.querySelectorAll('.card .value')]
  .filter(v => v.scrollWidth > v.clientWidth + 1).map(v => v.textContent);
console.log('LAYOUT ' + JSON.stringify({
  page_past_window: document.documentElement.scrollWidth - window.innerWidth, tables, hidden, cut }));
</script>"#;

fn layout(chromium: &Path, page: &Path, width: u32, print: bool) -> Value {
    let work = tempfile::tempdir().unwrap();
    let copy = work.path().join("measured.html");
    let mut html = std::fs::read_to_string(page).unwrap();
    if print {
        // the page's print rules on the screen: headless Chromium lays out no printed page for a
        // script to measure
        html = html.replace("@media print {", "@media all {");
    }
    std::fs::write(&copy, html.replace("</body>", &format!("{MEASURE}</body>"))).unwrap();
    let seen = visit(chromium, &copy, work.path(), width);
    let line = seen
        .console
        .iter()
        .find_map(|l| l.split_once("LAYOUT ").map(|(_, rest)| rest.to_string()))
        .unwrap_or_else(|| panic!("no measurement: {:?}", seen.console));
    // the console line ends with the script's source location
    let json = &line[..line.rfind('}').expect("a JSON object") + 1];
    serde_json::from_str(json).unwrap()
}

/// URLs the page asked for. The browser's own background requests carry no page initiator
/// (`"not an origin"`); anything a document asks for carries its origin (`"null"` for file://).
fn page_requests(net_log: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(net_log).unwrap();
    let log: Value = serde_json::from_str(&text).expect("Chromium's net log is JSON");
    let start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
        .as_u64()
        .expect("the net log names its event types");
    log["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"].as_u64() == Some(start_job))
        .filter(|e| {
            e["params"]["initiator"]
                .as_str()
                .is_some_and(|i| i != "not an origin")
        })
        .filter_map(|e| e["params"]["url"].as_str().map(str::to_string))
        .collect()
}

fn chromium_or_skip() -> Option<PathBuf> {
    let found = browser();
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but no Chromium is installed (looked for {BROWSERS:?})"
        );
        eprintln!("browser test skipped: no Chromium on PATH (install Debian's `chromium`)");
    }
    found
}

#[test]
fn the_harness_sees_console_messages_and_requests() {
    let Some(chromium) = chromium_or_skip() else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let page = work.path().join("bad.html");
    std::fs::write(
        &page,
        "<!doctype html><title>bad</title><img src=\"http://deskpulse.invalid/x.png\">\
         <script>console.error('boom')</script>",
    )
    .unwrap();
    let seen = visit(&chromium, &page, work.path(), 800);
    assert!(
        seen.console.iter().any(|l| l.contains("boom")),
        "{:?}",
        seen.console
    );
    assert!(
        seen.requests
            .iter()
            .any(|u| u.contains("deskpulse.invalid")),
        "{:?}",
        seen.requests
    );
}

#[test]
fn the_sample_report_and_dashboard_load_offline_in_chromium() {
    let Some(chromium) = chromium_or_skip() else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let site = work.path().join("site");
    for period in ["2026-09", "2026-10"] {
        deskpulse()
            .current_dir(repo())
            .args([
                "publish",
                "sample_data",
                "--quiet",
                "--period",
                period,
                "--site",
            ])
            .arg(&site)
            .assert()
            .success();
    }
    let shots = std::env::var_os("DESKPULSE_SCREENSHOTS").map(PathBuf::from);
    for (page, width) in [
        ("2026-10/report.html", 1280),
        ("2026-10/report.html", 390),
        ("index.html", 1280),
    ] {
        // A page alone in a directory: a reference to any file beside it would fail to load.
        let alone = tempfile::tempdir().unwrap();
        let copy = alone.path().join("page.html");
        std::fs::copy(site.join(page), &copy).unwrap();
        let seen = visit(&chromium, &copy, alone.path(), width);
        assert!(seen.console.is_empty(), "{page}: {:?}", seen.console);
        assert!(seen.requests.is_empty(), "{page}: {:?}", seen.requests);
        assert!(
            seen.screenshot.starts_with(b"\x89PNG") && seen.screenshot.len() > 10_000,
            "{page}: the screenshot is {} bytes",
            seen.screenshot.len()
        );
        if let Some(dir) = &shots {
            std::fs::create_dir_all(dir).unwrap();
            let name = format!("{}-{width}.png", page.replace(['/', '.'], "_"));
            std::fs::write(dir.join(name), &seen.screenshot).unwrap();
        }
    }
}

/// On a phone (390 px) nothing is wider than the screen: every table scrolls in its own box
/// with its first column fixed, and no headline value is cut. On paper the report prints
/// (Chromium's print to PDF) with a page for each section at least.
#[test]
fn the_report_fits_a_phone_and_paper() {
    let Some(chromium) = chromium_or_skip() else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("out");
    deskpulse()
        .current_dir(repo())
        .args([
            "report",
            "sample_data",
            "--quiet",
            "--period",
            "2026-10",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let page = out.join("report.html");
    let seen = layout(&chromium, &page, 390, false);
    assert!(seen["page_past_window"].as_f64().unwrap() <= 0.0, "{seen}");
    let tables = seen["tables"].as_array().unwrap();
    assert!(tables.len() > 10, "{seen}");
    for t in tables {
        assert_eq!(
            t["scrolls"], true,
            "a table outside a scrolling box: {seen}"
        );
        assert!(t["sticky"] == "sticky" || t["sticky"] == "none", "{seen}");
    }
    assert_eq!(seen["cut"], serde_json::json!([]), "{seen}");

    // On an A4 page's width, with the print rules, every table is shown (a closed "As a
    // table" prints open) and none is wider than the page.
    let printed = layout(&chromium, &page, 794, true);
    assert_eq!(printed["hidden"], 0, "{printed}");
    assert!(
        printed["page_past_window"].as_f64().unwrap() <= 0.0,
        "{printed}"
    );
    for t in printed["tables"].as_array().unwrap() {
        assert!(t["past_window"].as_f64().unwrap() <= 0.0, "{printed}");
    }

    let pdf = work.path().join("report.pdf");
    let printed = headless(&chromium, work.path())
        .arg("--no-pdf-header-footer")
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(printed.status.success() && pdf.is_file(), "{printed:?}");
    let bytes = std::fs::read(&pdf).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    let pages = text.matches("/Type /Page\n").count()
        + text.matches("/Type /Page\r").count()
        + text.matches("/Type /Page>").count()
        + text.matches("/Type /Page/").count();
    let html = std::fs::read_to_string(&page).unwrap();
    let sections = html.matches("<section").count();
    assert!(pages >= sections, "{pages} pages for {sections} sections");
    if let Some(dir) = std::env::var_os("DESKPULSE_SCREENSHOTS").map(PathBuf::from) {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(&pdf, dir.join("report.pdf")).unwrap();
    }
}
