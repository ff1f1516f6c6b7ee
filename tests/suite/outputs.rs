//! Where the outputs go: never over an input, never read back as exports, and replaced as a
//! set, whatever instant a run is killed at.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::util::{deskpulse, read_json, repo};

fn sample_export() -> PathBuf {
    repo().join("sample_data/incidents.csv")
}

/// `deskpulse report TARGET --out OUT [args]`, run from `cwd`.
fn report(cwd: &Path, target: &Path, out: &Path, args: &[&str]) -> std::process::Output {
    deskpulse()
        .current_dir(cwd)
        .arg("report")
        .arg(target)
        .arg("--out")
        .arg(out)
        .args(args)
        .output()
        .unwrap()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn an_export_named_like_an_output_in_out_is_never_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    // the export is called ledger.csv, and the report is asked to go next to it
    std::fs::copy(sample_export(), data.join("ledger.csv")).unwrap();
    let before = std::fs::read(data.join("ledger.csv")).unwrap();
    let out = report(dir.path(), &data, &data, &["--quiet"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let message = stderr(&out);
    assert!(
        message.contains("refusing to write") && message.contains("ledger.csv"),
        "{message}"
    );
    assert_eq!(std::fs::read(data.join("ledger.csv")).unwrap(), before);
    let left: Vec<_> = std::fs::read_dir(&data).unwrap().collect();
    assert_eq!(left.len(), 1, "nothing else is written: {left:?}");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no staging directory is left beside it"
    );
}

#[cfg(unix)]
#[test]
fn an_output_name_that_links_to_an_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&data).unwrap();
    std::fs::create_dir(&out_dir).unwrap();
    std::fs::copy(sample_export(), data.join("tickets.csv")).unwrap();
    std::os::unix::fs::symlink(data.join("tickets.csv"), out_dir.join("kpis.json")).unwrap();
    let before = std::fs::read(data.join("tickets.csv")).unwrap();
    let out = report(dir.path(), &data, &out_dir, &["--quiet"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let message = stderr(&out);
    assert!(
        message.contains("kpis.json") && message.contains("tickets.csv"),
        "names both paths: {message}"
    );
    assert_eq!(std::fs::read(data.join("tickets.csv")).unwrap(), before);
    assert!(out_dir.join("kpis.json").is_symlink());
}

#[test]
fn directory_mode_never_reads_a_previous_runs_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::copy(sample_export(), data.join("incidents.csv")).unwrap();
    let args = ["--period", "2026-10"];
    let first = report(dir.path(), &data, &data, &args);
    assert!(first.status.success(), "{}", stderr(&first));
    let kpis = std::fs::read(data.join("kpis.json")).unwrap();
    let second = report(dir.path(), &data, &data, &args);
    assert!(second.status.success(), "{}", stderr(&second));
    let message = stderr(&second);
    // kpis.json, ledger.csv, rejects.csv and manifest.json have the extensions of exports
    assert_eq!(
        message
            .matches("skipped 4 files a previous deskpulse run wrote")
            .count(),
        1,
        "said once: {message}"
    );
    assert_eq!(std::fs::read(data.join("kpis.json")).unwrap(), kpis);
    let manifest = read_json(&data.join("manifest.json"));
    let inputs: Vec<&str> = manifest["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["path"].as_str().unwrap())
        .collect();
    assert_eq!(inputs, ["incidents.csv"]);
    assert_eq!(
        std::fs::read(data.join("incidents.csv")).unwrap(),
        std::fs::read(sample_export()).unwrap()
    );
}

/// What `out` holds: the period of its complete run, or None when it holds no manifest. Panics
/// when the manifest does not describe exactly the files there (besides `foreign`).
fn complete_run(out: &Path, foreign: &[&str]) -> Option<String> {
    let manifest = out.join("manifest.json");
    if !manifest.exists() {
        return None;
    }
    let doc = read_json(&manifest);
    let mut listed = BTreeSet::from(["manifest.json".to_string()]);
    for file in doc["outputs"].as_array().unwrap() {
        let name = file["file"].as_str().unwrap();
        let bytes = std::fs::read(out.join(name))
            .unwrap_or_else(|e| panic!("{name}, listed by the manifest: {e}"));
        let hex: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(file["sha256"].as_str().unwrap(), hex, "{name}: a mixed set");
        listed.insert(name.to_string());
    }
    let present: BTreeSet<String> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !foreign.contains(&n.as_str()) && !n.starts_with(".deskpulse-"))
        .collect();
    assert_eq!(present, listed, "files that no manifest lists");
    let period = doc["period"]["label"].as_str().unwrap().to_string();
    let kpis = read_json(&out.join("kpis.json"));
    assert_eq!(kpis["period"]["label"].as_str().unwrap(), period);
    Some(period)
}

/// Runs `report` with the process aborted (as by `kill -9`) at step 1, 2, ... of writing and
/// putting outputs in place, until a run completes; after each, `check` reads `out`. Returns
/// the number of interrupted runs.
fn interrupt_at_every_step(dir: &Path, out: &Path, check: &dyn Fn(usize)) -> usize {
    let config = repo().join("sample_data/deskpulse.toml");
    for step in 1..100 {
        let run = deskpulse()
            .current_dir(dir)
            .env("DESKPULSE_ABORT_AT_STEP", step.to_string())
            .args(["--quiet", "report"])
            .arg(&config)
            .args(["--period", "2026-10", "--out"])
            .arg(out)
            .output()
            .unwrap();
        check(step);
        if run.status.success() {
            return step - 1;
        }
        assert_eq!(
            run.status.code(),
            None,
            "killed, not failed: {}",
            stderr(&run)
        );
    }
    panic!("the run never completed");
}

#[test]
fn a_run_killed_while_writing_leaves_one_complete_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("reports");
    let config = repo().join("sample_data/deskpulse.toml");
    let done = deskpulse()
        .current_dir(dir.path())
        .args(["--quiet", "report"])
        .arg(&config)
        .args(["--period", "2026-09", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(done.status.success(), "{}", stderr(&done));
    std::fs::write(out.join("notes.txt"), "the user's own file").unwrap();
    let seen = std::cell::RefCell::new(Vec::new());
    let interrupted = interrupt_at_every_step(dir.path(), &out, &|_| {
        let period = complete_run(&out, &["notes.txt"]).expect("a manifest, always");
        seen.borrow_mut().push(period);
        assert_eq!(
            std::fs::read_to_string(out.join("notes.txt")).unwrap(),
            "the user's own file"
        );
    });
    let seen = seen.into_inner();
    assert!(interrupted >= 6, "a step per file: {interrupted}");
    assert_eq!(seen.first().unwrap(), "2026-09");
    assert_eq!(seen.last().unwrap(), "2026-10");
    // the old set until the swap, the new one after it
    let swapped_at = seen.iter().position(|p| p == "2026-10").unwrap();
    assert!(
        seen[swapped_at..].iter().all(|p| p == "2026-10"),
        "{seen:?}"
    );
    let leftovers: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("deskpulse"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "killed runs' staging removed: {leftovers:?}"
    );
}

#[test]
fn beside_folders_outputs_move_in_one_by_one_with_the_manifest_last() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("reports");
    std::fs::create_dir_all(out.join("archive")).unwrap();
    std::fs::write(out.join("archive/2025.txt"), "kept").unwrap();
    let config = repo().join("sample_data/deskpulse.toml");
    let done = deskpulse()
        .current_dir(dir.path())
        .args(["report"])
        .arg(&config)
        .args(["--period", "2026-09", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(done.status.success(), "{}", stderr(&done));
    assert!(
        stderr(&done).contains("it holds folders (archive)"),
        "{}",
        stderr(&done)
    );
    let states = std::cell::RefCell::new(BTreeSet::new());
    interrupt_at_every_step(dir.path(), &out, &|_| {
        // with no manifest, the set is known to be incomplete; with one, it is whole
        states.borrow_mut().insert(complete_run(&out, &["archive"]));
        assert_eq!(
            std::fs::read_to_string(out.join("archive/2025.txt")).unwrap(),
            "kept"
        );
    });
    let states = states.into_inner();
    assert!(states.contains(&None) && states.contains(&Some("2026-10".to_string())));
    let hidden: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(
        hidden.is_empty(),
        "killed runs' staging removed: {hidden:?}"
    );
}

/// `deskpulse publish` of the sample for a period into `site`, aborted at `step` if given.
fn publish(site: &Path, period: &str, step: Option<usize>) -> std::process::Output {
    let mut run = deskpulse();
    if let Some(step) = step {
        run.env("DESKPULSE_ABORT_AT_STEP", step.to_string());
    }
    run.current_dir(repo())
        .args([
            "--quiet",
            "publish",
            "sample_data",
            "--period",
            period,
            "--site",
        ])
        .arg(site)
        .output()
        .unwrap()
}

/// The site's files a reader sees (not the lock, nor a killed run's hidden temporary files).
fn visible_site(site: &Path) -> BTreeSet<PathBuf> {
    walk(site)
        .into_iter()
        .filter(|p| !p.iter().any(|c| c.to_string_lossy().starts_with('.')))
        .collect()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(
                walk(&path)
                    .into_iter()
                    .map(|p| PathBuf::from(path.file_name().unwrap()).join(p)),
            );
        } else {
            files.push(PathBuf::from(path.file_name().unwrap()));
        }
    }
    files
}

#[test]
fn a_publish_killed_at_any_step_leaves_whole_pages_and_a_rerun_mends_the_site() {
    let dir = tempfile::tempdir().unwrap();
    let (site, whole) = (dir.path().join("site"), dir.path().join("whole"));
    for s in [&site, &whole] {
        assert!(publish(s, "2026-09", None).status.success());
    }
    assert!(publish(&whole, "2026-10", None).status.success());
    let mut interrupted = 0;
    for step in 1..200 {
        let run = publish(&site, "2026-10", Some(step));
        for page in ["2026-09", "2026-10"] {
            if site.join(page).exists() {
                complete_run(&site.join(page), &[]).expect("a page with its manifest");
            }
        }
        for history in std::fs::read_dir(site.join("history")).unwrap() {
            read_json(&history.unwrap().path());
        }
        if run.status.success() {
            break;
        }
        assert_eq!(
            run.status.code(),
            None,
            "killed, not failed: {}",
            stderr(&run)
        );
        interrupted += 1;
    }
    assert!(interrupted >= 8, "a step per file and page: {interrupted}");
    // the site the last, complete run left is the one an uninterrupted run makes
    assert_eq!(visible_site(&site), visible_site(&whole));
    for file in visible_site(&site) {
        assert!(
            std::fs::read(site.join(&file)).unwrap() == std::fs::read(whole.join(&file)).unwrap(),
            "{} differs",
            file.display()
        );
    }
}

#[test]
fn a_publish_removes_the_temporary_files_a_killed_one_left() {
    // a publish killed between writing a temporary file and renaming it leaves `.NAME.PID.tmp`
    // beside the file; the next publish, holding the site's lock, removes them
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    assert!(publish(&site, "2026-09", None).status.success());
    let leftovers = [
        site.join(".index.html.4242.tmp"),
        site.join("history").join(".2026-09.json.4242.tmp"),
        site.join("2026-09").join(".report.html.4242.tmp"),
    ];
    for file in &leftovers {
        std::fs::write(file, b"half a page").unwrap();
    }
    let mine = site.join("notes.4242.tmp");
    std::fs::write(&mine, b"not deskpulse's").unwrap();
    let run = publish(&site, "2026-10", None);
    assert!(run.status.success(), "{}", stderr(&run));
    for file in &leftovers {
        assert!(!file.exists(), "{} left", file.display());
    }
    assert!(mine.exists(), "a file of another name is not touched");
}
