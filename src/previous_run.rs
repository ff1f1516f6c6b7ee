//! What a previous run left in a directory: the files its `manifest.json` lists. A run replaces
//! them as a set, and never reads them as exports.

use std::path::Path;

pub const MANIFEST: &str = "manifest.json";

/// The files a previous run wrote into `dir`, as its `manifest.json` lists them (with the
/// manifest itself); nothing when there is no deskpulse manifest.
pub fn previous_outputs(dir: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(dir.join(MANIFEST)) else {
        return Vec::new();
    };
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(&text) else {
        return Vec::new();
    };
    if doc["tool"] != "deskpulse" {
        return Vec::new();
    }
    let listed = doc["outputs"].as_array().into_iter().flatten();
    listed
        .filter_map(|o| o["file"].as_str())
        // a name, never a path out of the directory
        .filter(|f| !f.contains(['/', '\\']) && !f.starts_with('.'))
        .map(str::to_string)
        .chain(std::iter::once(MANIFEST.to_string()))
        .collect()
}
