//! `deskpulse publish`: a static site with one report per period and a dashboard over them all.
//!
//! ```text
//! SITE/history/<period>.json   each period's kpis.json: the history
//! SITE/<period>/               that period's report (report.html, report.md, kpis.json, ...)
//! SITE/index.html              every period: each headline KPI's trend, latest value, links
//! ```
//! Re-running a period replaces it; the same history gives byte-identical pages.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::explain::ExplainCommand;
use super::output_dir::OutputDir;
use super::render::Templates;
use super::{ReportError, files::write_atomic, kpis_json, write_report};
use crate::pipeline::RunResult;
use crate::queries::Direction;
use crate::what_changed::PreviousDoc;

#[derive(Debug, Serialize)]
struct Dashboard {
    title: String,
    tool: &'static str,
    version: &'static str,
    periods: Vec<PeriodLink>,
    kpis: Vec<KpiTrend>,
}

#[derive(Debug, Serialize)]
struct PeriodLink {
    label: String,
    href: String,
}

#[derive(Debug, Serialize)]
struct KpiTrend {
    kpi: String,
    title: String,
    stat: String,
    spark: String,
    latest: String,
    delta: Option<String>,
    trend: Option<&'static str>,
    values: Vec<String>,
    /// The `[thresholds]` limit of the KPI, judged on the latest period.
    target: Option<super::view::Target>,
}

/// Writes this period into the site and regenerates the dashboard; returns the files written.
pub fn publish(
    result: &RunResult,
    site: &Path,
    explain: &ExplainCommand,
) -> Result<Vec<PathBuf>, ReportError> {
    let _lock = lock_site(site)?;
    remove_leftovers(site);
    let label = result.period.label();
    let history_dir = site.join("history");
    let history = load_history(&history_dir)?;
    // The period before as measured from these exports, else as the site last published it.
    let measured = result.previous.as_ref().map(PreviousDoc::measured);
    let previous_label = result.period.previous().label();
    let previous = measured.as_ref().or_else(|| {
        history
            .iter()
            .find(|(_, d)| d.period.label == previous_label)
            .map(|(_, d)| d)
    });
    let start = crate::period::format_instant(result.period.start, result.period.timezone);
    let order = period_order(&history, &label, &start);
    let nav = site_nav(&order, &label);
    let page = site.join(page_dir(&label));
    let changes = crate::what_changed::compare(result, previous.cloned());
    let mut written = write_report(result, &page, &changes, explain, Some(&nav))?;
    // made only now, so that a run that fails leaves no empty folders behind
    std::fs::create_dir_all(&history_dir).map_err(|source| ReportError::Write {
        path: history_dir.clone(),
        source,
    })?;
    let own = history_dir.join(format!("{}.json", page_dir(&label)));
    write_atomic(&own, kpis_json(result, Some(&changes)).as_bytes()).map_err(|source| {
        ReportError::Write {
            path: own.clone(),
            source,
        }
    })?;
    written.push(own);
    let history = load_history(&history_dir)?;
    // The neighbours' pages gain their link to this one.
    let labels: Vec<&str> = order.iter().map(String::as_str).collect();
    let at = labels
        .iter()
        .position(|l| *l == label)
        .expect("the period is in its order");
    for neighbour in [at.checked_sub(1), Some(at + 1)].into_iter().flatten() {
        if let Some(other) = labels.get(neighbour) {
            written.extend(relink(site, other, &site_nav(&order, other))?);
        }
    }
    let index = site.join("index.html");
    let page = dashboard(result, &history)?;
    write_atomic(&index, page.as_bytes()).map_err(|source| ReportError::Write {
        path: index.clone(),
        source,
    })?;
    written.push(index);
    Ok(written)
}

/// The file whose lock a publishing run holds, in the site.
pub const LOCK_FILE: &str = ".deskpulse-publish.lock";

/// Holds the site's lock until dropped, waiting for another publishing run to finish first: two
/// scheduled jobs that read the history and write the dashboard must not interleave. The lock
/// is the operating system's, released when its process ends however it ends, so a killed run
/// leaves none behind.
fn lock_site(site: &Path) -> Result<std::fs::File, ReportError> {
    let write_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ReportError::Write { path, source }
    };
    std::fs::create_dir_all(site).map_err(write_error(site))?;
    let path = site.join(LOCK_FILE);
    let waiting = format!(
        "another deskpulse publish is writing {}: waiting for it to finish",
        site.display()
    );
    crate::swap::hold_lock(&path, &waiting).map_err(write_error(&path))
}

/// Removes the temporary files a killed publish left in the site (its root, `history/` and the
/// pages): only a run that holds the site's lock writes one, so under the lock each is a
/// leftover. One that cannot be removed is named and left; it hides nothing a reader sees.
fn remove_leftovers(site: &Path) {
    let leftovers = walkdir::WalkDir::new(site)
        .max_depth(2)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .filter(|e| super::files::is_atomic_temporary(&e.file_name().to_string_lossy()));
    let mut removed = 0;
    for entry in leftovers {
        match std::fs::remove_file(entry.path()) {
            Ok(()) => removed += 1,
            Err(e) => crate::log::note(&format!(
                "could not remove {}, left by an interrupted publish: {e}",
                entry.path().display()
            )),
        }
    }
    if removed > 0 {
        crate::log::note(&format!(
            "removed {removed} temporary file(s) an interrupted publish left in {}",
            site.display()
        ));
    }
}

/// The periods of the site in order, this one among them: the history's, by start.
fn period_order(history: &[(PathBuf, PreviousDoc)], label: &str, start: &str) -> Vec<String> {
    let mut periods: Vec<(String, String)> = history
        .iter()
        .map(|(_, d)| (d.period.start.clone(), d.period.label.clone()))
        .filter(|(_, l)| l != label)
        .collect();
    periods.push((start.to_string(), label.to_string()));
    periods.sort();
    periods.into_iter().map(|(_, l)| l).collect()
}

/// The links of a published page: the site's index and the periods before and after it.
fn site_nav(order: &[String], label: &str) -> String {
    let at = order.iter().position(|l| l == label);
    let link = |l: &String, text: String| {
        format!(
            r#"<a href="../{}/report.html">{}</a>"#,
            super::charts::escape(&page_dir(l)),
            super::charts::escape(&text)
        )
    };
    let mut parts = vec![r#"<a href="../index.html">All periods</a>"#.to_string()];
    if let Some(before) = at.and_then(|i| i.checked_sub(1)).and_then(|i| order.get(i)) {
        parts.push(link(before, format!("← {before}")));
    }
    if let Some(after) = at.and_then(|i| order.get(i + 1)) {
        parts.push(link(after, format!("{after} →")));
    }
    format!(
        r#"<nav class="periods" aria-label="Periods">{}</nav>"#,
        parts.join(" · ")
    )
}

/// Puts `nav` in place of the period links of a published page (its `report.html`, and that
/// file's entry in the page's manifest); nothing when the page is not there or its template
/// has no such links. The page is replaced as a set, as `report --out` replaces one, so a run
/// killed midway never leaves a `report.html` its manifest does not describe. Returns the files
/// rewritten.
fn relink(site: &Path, label: &str, nav: &str) -> Result<Vec<PathBuf>, ReportError> {
    let dir = site.join(page_dir(label));
    let html_path = dir.join("report.html");
    let Ok(html) = std::fs::read_to_string(&html_path) else {
        return Ok(Vec::new());
    };
    let Some(start) = html.find(r#"<nav class="periods""#) else {
        return Ok(Vec::new());
    };
    let Some(len) = html[start..].find("</nav>") else {
        return Ok(Vec::new());
    };
    let end = start + len + "</nav>".len();
    if &html[start..end] == nav {
        return Ok(Vec::new());
    }
    let html = format!("{}{nav}{}", &html[..start], &html[end..]);
    let manifest_path = dir.join(crate::previous_run::MANIFEST);
    let Some(manifest) = std::fs::read_to_string(&manifest_path)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
    else {
        write_atomic(&html_path, html.as_bytes()).map_err(|source| ReportError::Write {
            path: html_path.clone(),
            source,
        })?;
        return Ok(vec![html_path]);
    };
    let manifest = with_output_entry(manifest, "report.html", html.as_bytes());
    let page = OutputDir::prepare(&dir)?;
    for entry in manifest["outputs"].as_array().into_iter().flatten() {
        let Some(name) = entry["file"].as_str() else {
            continue;
        };
        if name == "report.html" {
            page.write(name, &[html.as_bytes()])?;
        } else {
            let path = dir.join(name);
            let bytes =
                std::fs::read(&path).map_err(|source| ReportError::Write { path, source })?;
            page.write(name, &[&bytes])?;
        }
    }
    let text = serde_json::to_string_pretty(&manifest).unwrap_or_default() + "\n";
    page.write(crate::previous_run::MANIFEST, &[text.as_bytes()])?;
    page.commit(&[])?;
    Ok(vec![html_path, manifest_path])
}

/// A manifest with the size and digest of one of its outputs brought up to date.
fn with_output_entry(
    mut manifest: serde_json::Value,
    file: &str,
    bytes: &[u8],
) -> serde_json::Value {
    let outputs = manifest["outputs"].as_array_mut().into_iter().flatten();
    for entry in outputs.filter(|e| e["file"] == file) {
        entry["bytes"] = serde_json::json!(bytes.len());
        entry["sha256"] = serde_json::json!(crate::digest::sha256_hex(bytes));
    }
    manifest
}

/// A period label as a directory name (`2026-01-01..2026-02-01` has no slash, but be sure).
fn page_dir(label: &str) -> String {
    label.replace(['/', '\\'], "_")
}

/// Every history file, in period order (none before the first publish); a file that cannot be
/// read stops the run.
fn load_history(dir: &Path) -> Result<Vec<(PathBuf, PreviousDoc)>, ReportError> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let entries = std::fs::read_dir(dir).map_err(|source| ReportError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut docs = Vec::new();
    for path in files {
        let doc = PreviousDoc::load(&path).map_err(|message| {
            ReportError::History(format!("{message}; remove or restore it to publish"))
        })?;
        docs.push((path, doc));
    }
    docs.sort_by(|a, b| {
        (&a.1.period.start, &a.1.period.label).cmp(&(&b.1.period.start, &b.1.period.label))
    });
    Ok(docs)
}

/// The site's front page (`index.html`): the published periods, newest first, and each KPI
/// across them.
fn dashboard(
    result: &RunResult,
    history: &[(PathBuf, PreviousDoc)],
) -> Result<String, ReportError> {
    let periods: Vec<PeriodLink> = history
        .iter()
        .rev()
        .map(|(_, d)| PeriodLink {
            label: d.period.label.clone(),
            href: format!("{}/report.html", page_dir(&d.period.label)),
        })
        .collect();
    let kpis = kpis_published(result, history)
        .into_iter()
        .map(|id| kpi_trend(result, history, id))
        .collect();
    let view = Dashboard {
        title: result.config.report.title.clone(),
        tool: "deskpulse",
        version: env!("CARGO_PKG_VERSION"),
        periods,
        kpis,
    };
    let templates = Templates::new(result.config.report.templates.as_deref());
    Ok(templates.render("index.html", &view)?)
}

/// Every KPI with a figure for all tickets in some published period, in catalogue order.
fn kpis_published(result: &RunResult, history: &[(PathBuf, PreviousDoc)]) -> Vec<String> {
    let mut ids: Vec<(i32, String)> = history
        .iter()
        .flat_map(|(_, d)| {
            d.kpis
                .iter()
                .filter(|r| r.dimension == "all")
                .map(|r| r.kpi.clone())
        })
        .map(|id| (result.catalogue.meta(&id).map_or(i32::MAX, |m| m.order), id))
        .collect();
    ids.sort();
    ids.dedup();
    ids.into_iter().map(|(_, id)| id).collect()
}

/// A KPI across the published periods: its median where it has one, else its value; the
/// change from the period before the latest, and the latest against its threshold.
fn kpi_trend(result: &RunResult, history: &[(PathBuf, PreviousDoc)], id: String) -> KpiTrend {
    let currency = &result.config.report.currency;
    let meta = result.catalogue.meta(&id);
    let unit = meta.map_or("", |m| m.unit.as_str());
    let has_median = history
        .iter()
        .any(|(_, d)| d.kpis.iter().any(|r| r.kpi == id && r.stat == "median"));
    let stat = if has_median { "median" } else { "value" };
    let values: Vec<Option<f64>> = history
        .iter()
        .map(|(_, d)| d.value(&id, stat, "all", "all"))
        .collect();
    let labels: Vec<String> = history
        .iter()
        .map(|(_, d)| d.period.label.clone())
        .collect();
    let shown = |v: Option<f64>| super::view::shown(v, unit, currency);
    let latest = values.last().copied().flatten();
    let before = values.iter().rev().nth(1).copied().flatten();
    let (delta, trend) = super::view::delta(
        latest,
        before,
        unit,
        meta.map_or(&Direction::Neutral, |m| &m.direction),
        currency,
    );
    let title = meta.map_or(id.clone(), |m| m.title.clone());
    let target = result
        .config
        .thresholds
        .get(&id)
        .filter(|t| t.dimension == "all")
        .map(|t| {
            let latest = history
                .last()
                .and_then(|(_, d)| d.value(&id, &t.stat, "all", "all"));
            super::view::target(t, &latest, stat, unit, currency)
        });
    KpiTrend {
        spark: super::charts::sparkline(
            &format!("{title}, {stat}, by period"),
            &values,
            &labels,
            |v| super::format::on_page(&shown(Some(v))),
        ),
        latest: shown(latest),
        values: values.iter().map(|v| shown(*v)).collect(),
        kpi: id,
        title,
        stat: stat.to_string(),
        delta,
        trend,
        target,
    }
}
