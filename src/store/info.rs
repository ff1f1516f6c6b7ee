//! `deskpulse store info`.

use std::path::Path;

use super::{FORMAT, Manifest, StoreError, TABLES, TICKETS, all_files, scan_sql};
use crate::engine::Engine;

/// `deskpulse store info`: what the store holds, by source and month, and the files it read.
pub fn info(dir: &Path) -> Result<String, StoreError> {
    let manifest = Manifest::read(dir)?;
    let engine = Engine::with_files_under(dir)?;
    let mut out = format!(
        "{}: ticket store (format {FORMAT}, written by {})\n",
        dir.display(),
        manifest.written_by
    );
    for table in &TABLES {
        out.push_str(&format!(
            "  {:<15} {:>12} rows\n",
            table.name,
            manifest.rows.get(table.name).copied().unwrap_or(0)
        ));
    }
    out.push_str(&months_by_source(&engine, dir, &manifest)?);
    out.push_str(&format!("files ingested: {}\n", manifest.files.len()));
    for f in &manifest.files {
        let r = &f.report;
        out.push_str(&format!(
            "  {}  {} rows, {} tickets, {} rejected  [{}, sha256 {}]\n",
            r.path,
            r.rows,
            r.tickets,
            r.rejected,
            r.profile,
            &r.sha256[..12.min(r.sha256.len())]
        ));
    }
    Ok(out)
}

/// Per source: its tickets and the months of creation they span, read from the files.
fn months_by_source(
    engine: &Engine,
    dir: &Path,
    manifest: &Manifest,
) -> Result<String, StoreError> {
    if manifest.rows.get(TICKETS.name).copied().unwrap_or(0) == 0 {
        return Ok("sources: none\n".to_string());
    }
    let batches = engine.query(&format!(
        "SELECT source, count(*) AS tickets, count(DISTINCT created_month) AS months,
                min(created_month) AS first_month, max(created_month) AS last_month
         FROM {} GROUP BY source ORDER BY source",
        scan_sql(&all_files(dir, &TICKETS), &TICKETS)
    ))?;
    let mut out = String::from("sources:\n");
    for batch in &batches {
        let text = |c: &str| crate::table::column_strings(batch, c);
        let columns = ["source", "tickets", "months", "first_month", "last_month"].map(|c| {
            text(c).map_err(|message| StoreError::Invalid {
                path: dir.to_path_buf(),
                message,
            })
        });
        let [source, tickets, months, first, last] = columns;
        let (source, tickets, months, first, last) = (source?, tickets?, months?, first?, last?);
        for i in 0..source.len() {
            let v = |c: &[Option<String>]| c[i].clone().unwrap_or_default();
            out.push_str(&format!(
                "  {}  {} tickets created {} to {} ({} months)\n",
                v(&source),
                v(&tickets),
                v(&first),
                v(&last),
                v(&months)
            ));
        }
    }
    Ok(out)
}
