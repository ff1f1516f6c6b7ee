//! The house's shape: the stages depend on each other in one direction only.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::util::repo;

/// Each top-level module of `src/` and the top-level modules it names as `crate::<name>`
/// outside its tests.
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    fn walk(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, files);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    let src = repo().join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(&src).unwrap();
        let first = relative.components().next().unwrap().as_os_str();
        let module = first.to_string_lossy().trim_end_matches(".rs").to_string();
        if module == "main" || module == "lib" {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap();
        let names = graph.entry(module.clone()).or_default();
        for (at, _) in code.match_indices("crate::") {
            let name: String = code[at + 7..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() && name != module {
                names.insert(name);
            }
        }
    }
    graph
}

#[test]
fn no_module_depends_on_one_that_depends_on_it() {
    let graph = module_graph();
    assert!(graph.contains_key("engine") && graph.contains_key("report"));
    // Depth-first, keeping the path: a module met again on the path closes a cycle.
    fn visit(
        module: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|m| m == module) {
            let mut cycle = path[at..].to_vec();
            cycle.push(module.to_string());
            return Some(cycle);
        }
        if !done.insert(module.to_string()) {
            return None;
        }
        path.push(module.to_string());
        for next in graph.get(module).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    for module in graph.keys() {
        let cycle = visit(module, &graph, &mut Vec::new(), &mut done);
        assert_eq!(cycle, None, "modules that depend on each other");
    }
    // The report renders what it is handed: it holds no DuckDB handle and reads no export; of
    // ingest it knows only the account of each file read (`InputReport`).
    assert!(
        !graph["report"].contains("engine"),
        "report depends on the engine: {:?}",
        graph["report"]
    );
    let mut files = Vec::new();
    for entry in std::fs::read_dir(repo().join("src/report")).unwrap() {
        files.push(entry.unwrap().path());
    }
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (at, _) in text.match_indices("crate::ingest") {
            assert!(
                text[at..].starts_with("crate::ingest::InputReport"),
                "{} reaches into ingest: {}",
                file.display(),
                text[at..].lines().next().unwrap()
            );
        }
    }
}
