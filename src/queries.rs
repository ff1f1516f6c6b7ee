//! The KPI catalogue: one SQL file per KPI family in `queries/`, its id the file stem, with a
//! TOML file of the same stem beside it that describes each KPI it produces (title, unit,
//! direction, definition). Built-ins are embedded at build time; a user's directory comes first,
//! so a file of the same stem replaces the built-in and a new stem adds a family.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The per-ticket ledger query; it runs before the KPI families.
pub const LEDGER: &str = "ledger";

const BUILT_IN: &[(&str, &str, &str)] = &[
    (LEDGER, include_str!("../queries/ledger.sql"), ""),
    (
        "backlog_age",
        include_str!("../queries/backlog_age.sql"),
        include_str!("../queries/backlog_age.toml"),
    ),
    (
        "changes",
        include_str!("../queries/changes.sql"),
        include_str!("../queries/changes.toml"),
    ),
    (
        "costs",
        include_str!("../queries/costs.sql"),
        include_str!("../queries/costs.toml"),
    ),
    (
        "csat",
        include_str!("../queries/csat.sql"),
        include_str!("../queries/csat.toml"),
    ),
    (
        "first_assignment",
        include_str!("../queries/first_assignment.sql"),
        include_str!("../queries/first_assignment.toml"),
    ),
    (
        "first_response",
        include_str!("../queries/first_response.sql"),
        include_str!("../queries/first_response.toml"),
    ),
    (
        "mttr",
        include_str!("../queries/mttr.sql"),
        include_str!("../queries/mttr.toml"),
    ),
    (
        "reopen",
        include_str!("../queries/reopen.sql"),
        include_str!("../queries/reopen.toml"),
    ),
    (
        "repeat",
        include_str!("../queries/repeat.sql"),
        include_str!("../queries/repeat.toml"),
    ),
    (
        "sla",
        include_str!("../queries/sla.sql"),
        include_str!("../queries/sla.toml"),
    ),
    (
        "source_sla",
        include_str!("../queries/source_sla.sql"),
        include_str!("../queries/source_sla.toml"),
    ),
    (
        "trend",
        include_str!("../queries/trend.sql"),
        include_str!("../queries/trend.toml"),
    ),
    (
        "volume",
        include_str!("../queries/volume.sql"),
        include_str!("../queries/volume.toml"),
    ),
];

/// The tables the report shows besides the KPIs, `queries/tables/`: each a query over the ledger
/// (or the ingest issues) that the engine runs and the report renders.
const TABLES: &[(&str, &str)] = &[
    (
        "breakdowns",
        include_str!("../queries/tables/breakdowns.sql"),
    ),
    (
        "explain_history",
        include_str!("../queries/tables/explain_history.sql"),
    ),
    (
        "explain_ticket",
        include_str!("../queries/tables/explain_ticket.sql"),
    ),
    (
        "fixed_costs",
        include_str!("../queries/tables/fixed_costs.sql"),
    ),
    (
        "ingest_problem_examples",
        include_str!("../queries/tables/ingest_problem_examples.sql"),
    ),
    (
        "ingest_problems",
        include_str!("../queries/tables/ingest_problems.sql"),
    ),
    (
        "labour_hours",
        include_str!("../queries/tables/labour_hours.sql"),
    ),
    (
        LEDGER_ROWS,
        include_str!("../queries/tables/ledger_rows.sql"),
    ),
    ("monthly", include_str!("../queries/tables/monthly.sql")),
    (
        "problem_candidates",
        include_str!("../queries/tables/problem_candidates.sql"),
    ),
    (
        "quality_by_source",
        include_str!("../queries/tables/quality_by_source.sql"),
    ),
    (
        "reconciliation_brackets",
        include_str!("../queries/tables/reconciliation_brackets.sql"),
    ),
    (
        "reconciliation_durations",
        include_str!("../queries/tables/reconciliation_durations.sql"),
    ),
    (
        "reconciliation_verdicts",
        include_str!("../queries/tables/reconciliation_verdicts.sql"),
    ),
    ("rejects", include_str!("../queries/tables/rejects.sql")),
    (
        "resolve_bands",
        include_str!("../queries/tables/resolve_bands.sql"),
    ),
    (
        "sla_breaches",
        include_str!("../queries/tables/sla_breaches.sql"),
    ),
    (
        "sla_open_breaches",
        include_str!("../queries/tables/sla_open_breaches.sql"),
    ),
    (
        "sla_resolved_breaches",
        include_str!("../queries/tables/sla_resolved_breaches.sql"),
    ),
    (
        "source_counts",
        include_str!("../queries/tables/source_counts.sql"),
    ),
    (
        "volume_by_key",
        include_str!("../queries/tables/volume_by_key.sql"),
    ),
];

/// The table of the period's tickets, a row each, that `ledger.csv` is written from.
pub const LEDGER_ROWS: &str = "ledger_rows";

/// The tables every run computes, for its data-quality account; the others only a report needs.
pub const QUALITY_TABLES: [&str; 3] = [
    "quality_by_source",
    "ingest_problems",
    "ingest_problem_examples",
];

/// The tables only `explain` computes: the tickets asked for, from the table `explain_ids`.
pub const EXPLAIN_TABLES: [&str; 2] = ["explain_ticket", "explain_history"];

/// Where a user's versions of the tables are, in their queries directory.
const USER_TABLES_DIR: &str = "tables";

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Higher,
    Lower,
    Neutral,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct KpiMeta {
    pub title: String,
    /// `count`, `hours`, `business_hours` (hours on the business clock), `days`, `percent` or
    /// `currency`.
    pub unit: String,
    pub direction: Direction,
    pub definition: String,
    /// What the KPI needs that an export may lack, said when it cannot be measured at all.
    #[serde(default)]
    pub needs: Option<String>,
    /// Where the KPI appears in reports (lower first).
    #[serde(default = "last")]
    pub order: i32,
}

fn last() -> i32 {
    i32::MAX
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct MetaFile {
    #[serde(default)]
    kpi: BTreeMap<String, KpiMeta>,
    /// An SQL condition (over what the exports hold, `has_values('column')` and
    /// `has_kind('kind')`, and the configuration's macros such as `costs_configured()`) under
    /// which the family can measure anything at all; where it is false the family is not run.
    #[serde(default)]
    runs_if: Option<String>,
}

#[derive(Debug, Clone)]
pub struct QueryFile {
    pub id: String,
    pub sql: String,
    /// Where the SQL came from: `built-in` or the user's file.
    pub origin: String,
    /// The condition without which the family measures nothing (`runs_if` in its `.toml`).
    pub runs_if: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Catalogue {
    pub ledger: QueryFile,
    pub families: Vec<QueryFile>,
    pub kpis: BTreeMap<String, KpiMeta>,
    /// The tables the report shows (see [`TABLES`]), by name.
    pub tables: Vec<QueryFile>,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
}

impl Catalogue {
    /// The built-in queries, with a user's directory (if any) taking precedence.
    pub fn load(user_dir: Option<&Path>) -> Result<Catalogue, CatalogueError> {
        let mut files = built_in_files();
        if let Some(dir) = user_dir {
            add_user_files(&mut files, dir)?;
        }
        let mut kpis = BTreeMap::new();
        let mut families = Vec::new();
        let mut ledger = None;
        for (id, (mut file, meta, own)) in files {
            let parsed: MetaFile = toml::from_str(&meta).map_err(|e| CatalogueError::File {
                path: PathBuf::from(format!("{}.toml", file.origin.trim_end_matches(".sql"))),
                message: e.to_string(),
            })?;
            for (kpi, m) in parsed.kpi {
                kpis.insert(kpi, m);
            }
            if own {
                file.runs_if = parsed.runs_if;
            }
            if id == LEDGER {
                ledger = Some(file);
            } else {
                families.push(file);
            }
        }
        Ok(Catalogue {
            ledger: ledger.expect("the ledger query is built in"),
            families,
            kpis,
            tables: load_tables(user_dir)?,
        })
    }

    pub fn meta(&self, kpi: &str) -> Option<&KpiMeta> {
        self.kpis.get(kpi)
    }
}

/// Each query file by id, with its metadata (TOML text) and whether that metadata was written
/// for this SQL.
type QueryFiles = BTreeMap<String, (QueryFile, String, bool)>;

/// The built-in query files.
fn built_in_files() -> QueryFiles {
    BUILT_IN
        .iter()
        .map(|(id, sql, meta)| {
            let file = QueryFile {
                id: id.to_string(),
                sql: sql.to_string(),
                origin: "built-in".to_string(),
                runs_if: None,
            };
            (id.to_string(), (file, meta.to_string(), true))
        })
        .collect()
}

/// The `.sql` files of a user's directory, each replacing the built-in file of its name; one
/// without a `.toml` of its own keeps the built-in descriptions, but not its `runs_if`, which
/// speaks of the built-in SQL.
fn add_user_files(files: &mut QueryFiles, dir: &Path) -> Result<(), CatalogueError> {
    let read_err = |path: &Path, e: std::io::Error| CatalogueError::File {
        path: path.to_path_buf(),
        message: format!("cannot read: {e}"),
    };
    for path in sql_files(dir)? {
        let id = path
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let sql = std::fs::read_to_string(&path).map_err(|e| read_err(&path, e))?;
        let meta_path = path.with_extension("toml");
        let (meta, own) = if meta_path.is_file() {
            let meta = std::fs::read_to_string(&meta_path).map_err(|e| read_err(&meta_path, e))?;
            (meta, true)
        } else {
            let meta = files
                .get(&id)
                .map(|(_, m, _)| m.clone())
                .unwrap_or_default();
            (meta, false)
        };
        let file = QueryFile {
            id: id.clone(),
            sql,
            origin: path.display().to_string(),
            runs_if: None,
        };
        files.insert(id, (file, meta, own));
    }
    Ok(())
}

/// The built-in tables, each replaced by a user's file of the same name in `tables/` of their
/// queries directory. A file there that names no table is an error: nothing would show it.
fn load_tables(user_dir: Option<&Path>) -> Result<Vec<QueryFile>, CatalogueError> {
    let mut tables: Vec<QueryFile> = TABLES
        .iter()
        .map(|(id, sql)| QueryFile {
            id: id.to_string(),
            sql: sql.to_string(),
            origin: "built-in".to_string(),
            runs_if: None,
        })
        .collect();
    let Some(dir) = user_dir.map(|d| d.join(USER_TABLES_DIR)) else {
        return Ok(tables);
    };
    if !dir.is_dir() {
        return Ok(tables);
    }
    for path in sql_files(&dir)? {
        let id = path.file_stem().unwrap_or_default().to_string_lossy();
        let Some(table) = tables.iter_mut().find(|t| t.id == id) else {
            let names: Vec<&str> = TABLES.iter().map(|(id, _)| *id).collect();
            return Err(CatalogueError::File {
                path,
                message: format!(
                    "no report table has this name; the tables are {}",
                    names.join(", ")
                ),
            });
        };
        table.sql = std::fs::read_to_string(&path).map_err(|e| CatalogueError::File {
            path: path.clone(),
            message: format!("cannot read: {e}"),
        })?;
        table.origin = path.display().to_string();
    }
    Ok(tables)
}

/// The `.sql` files of a directory, in name order.
fn sql_files(dir: &Path) -> Result<Vec<PathBuf>, CatalogueError> {
    let entries = std::fs::read_dir(dir).map_err(|e| CatalogueError::File {
        path: dir.to_path_buf(),
        message: format!("cannot read: {e}"),
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_catalogue_describes_every_kpi_it_computes() {
        let c = Catalogue::load(None).unwrap();
        assert_eq!(c.ledger.id, LEDGER);
        for id in [
            "tickets_created",
            "tickets_resolved",
            "backlog_open",
            "mttr_hours",
            "reopen_pct",
            "source_sla_met_pct",
        ] {
            let m = c.meta(id).unwrap_or_else(|| panic!("{id} has no metadata"));
            assert!(!m.definition.is_empty());
        }
        for f in &c.families {
            assert!(
                f.sql.contains("dimension"),
                "{} does not group by dimension",
                f.id
            );
        }
    }

    #[test]
    fn user_directory_overrides_and_adds() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("mttr.sql"), "SELECT 1").unwrap();
        std::fs::write(dir.path().join("extra.sql"), "SELECT 2").unwrap();
        std::fs::write(
            dir.path().join("extra.toml"),
            "[kpi.extra_pct]\ntitle = \"Extra\"\nunit = \"percent\"\ndirection = \"higher\"\ndefinition = \"d\"\n",
        )
        .unwrap();
        let c = Catalogue::load(Some(dir.path())).unwrap();
        let mttr = c.families.iter().find(|f| f.id == "mttr").unwrap();
        assert_eq!(mttr.sql, "SELECT 1");
        assert!(
            c.meta("mttr_hours").is_some(),
            "built-in metadata stays when only the SQL is replaced"
        );
        assert!(c.families.iter().any(|f| f.id == "extra"));
        assert_eq!(c.meta("extra_pct").unwrap().direction, Direction::Higher);
    }

    #[test]
    fn runs_if_goes_with_the_sql_it_was_written_for() {
        let built_in = Catalogue::load(None).unwrap();
        let csat = built_in.families.iter().find(|f| f.id == "csat").unwrap();
        assert_eq!(csat.runs_if.as_deref(), Some("has_values('csat')"));
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("csat.sql"), "SELECT 1").unwrap();
        std::fs::write(dir.path().join("extra.sql"), "SELECT 2").unwrap();
        std::fs::write(dir.path().join("extra.toml"), "runs_if = \"false\"\n").unwrap();
        let c = Catalogue::load(Some(dir.path())).unwrap();
        let csat = c.families.iter().find(|f| f.id == "csat").unwrap();
        assert_eq!(
            csat.runs_if, None,
            "a user's SQL is not skipped by the built-in condition"
        );
        assert!(c.meta("csat_pct").is_some());
        let extra = c.families.iter().find(|f| f.id == "extra").unwrap();
        assert_eq!(extra.runs_if.as_deref(), Some("false"));
    }
}
