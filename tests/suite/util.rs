//! Helpers shared by the integration tests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

use super::oracle::{Expected, Key};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn data(rel: &str) -> PathBuf {
    repo().join("tests/data").join(rel)
}

pub fn deskpulse() -> Command {
    let mut cmd = Command::cargo_bin("deskpulse").expect("the binary is built");
    cmd.env_remove("RUST_LOG");
    cmd
}

pub fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `deskpulse report` on a project for October 2026, which must succeed; the output directory.
pub fn report_october(project: &Path) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    deskpulse()
        .args(["report", "--quiet", "--period", "2026-10", "--out"])
        .arg(out.path())
        .arg(project)
        .assert()
        .success();
    out
}

/// A configuration file in a fresh directory, with the given exports copied beside it.
pub fn project(config: &str, files: &[(&str, &Path)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("deskpulse.toml"), config).unwrap();
    for (name, src) in files {
        std::fs::copy(src, dir.path().join(name)).unwrap();
    }
    dir
}

/// Runs `deskpulse kpis --format json` and returns the document.
pub fn kpis(dir: &Path, args: &[&str]) -> Value {
    let out = deskpulse()
        .arg("kpis")
        .arg(dir)
        .args(args)
        .args(["--format", "json", "--quiet"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "deskpulse kpis failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// One KPI row of a kpis.json document.
pub fn row<'a>(doc: &'a Value, kpi: &str, stat: &str, dimension: &str, key: &str) -> &'a Value {
    doc["kpis"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| {
            r["kpi"] == kpi && r["stat"] == stat && r["dimension"] == dimension && r["key"] == key
        })
        .unwrap_or_else(|| panic!("no row {kpi}/{stat}/{dimension}/{key}"))
}

/// The value of a KPI row (`None` for null).
pub fn value(doc: &Value, kpi: &str, stat: &str, dimension: &str, key: &str) -> Option<f64> {
    row(doc, kpi, stat, dimension, key)["value"].as_f64()
}

pub fn kpi_rows(doc: &Value) -> BTreeMap<Key, Expected> {
    doc["kpis"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap().to_string();
            (
                (s("kpi"), s("stat"), s("dimension"), s("key")),
                Expected {
                    value: r["value"].as_f64(),
                    n: r["n"].as_u64().unwrap(),
                    missing: r["missing"].as_u64().unwrap(),
                },
            )
        })
        .collect()
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0),
        _ => false,
    }
}

/// Every expected row is present with the same value, n and missing, and deskpulse has no row
/// for these KPIs that the independent computation does not.
pub fn assert_matches(actual: &BTreeMap<Key, Expected>, expected: &BTreeMap<Key, Expected>) {
    // Rows of the KPIs and dimensions the independent computation covers.
    let kpis: std::collections::BTreeSet<(&String, &String)> =
        expected.keys().map(|k| (&k.0, &k.2)).collect();
    let mut problems = Vec::new();
    for (key, e) in expected {
        match actual.get(key) {
            None => problems.push(format!("missing row {key:?} (expected {e:?})")),
            Some(a) if !close(a.value, e.value) || a.n != e.n || a.missing != e.missing => {
                problems.push(format!("{key:?}: deskpulse {a:?}, expected {e:?}"))
            }
            _ => {}
        }
    }
    for key in actual.keys().filter(|k| kpis.contains(&(&k.0, &k.2))) {
        if !expected.contains_key(key) {
            problems.push(format!("unexpected row {key:?}"));
        }
    }
    assert!(
        problems.is_empty(),
        "{} differences, first ones:\n{}",
        problems.len(),
        problems
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// Every file under `dir`, by relative path, with its bytes.
pub fn files_under(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let rel = entry.path().strip_prefix(dir).unwrap().to_path_buf();
            files.insert(rel, std::fs::read(entry.path()).unwrap());
        }
    }
    files
}
