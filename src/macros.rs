//! The configuration, and what ingest found, as SQL the queries use: macros (SLA calendars and
//! targets, windows, reconciliation rules) and the columns written into the `tickets` view
//! rather than stored (the repeat key; business durations where the business clock is the
//! calendar clock).

use crate::clock::calendar::ALWAYS_OPEN;
use crate::config::Config;
use crate::model::ColumnType;
use crate::sql::{sql_list, sql_text};

/// Columns derived from the configuration before the tickets go to DuckDB.
pub fn derived_columns() -> Vec<(&'static str, ColumnType)> {
    vec![("repeat_key", ColumnType::Text)]
}

/// The repeat-incident key (`[repeat] key`) as an SQL expression over the ticket columns: the
/// key fields joined, null when any is missing. Written into the `tickets` view rather than
/// stored: with the default one-field key it is that column under another name.
pub fn repeat_key_sql(key: &[String]) -> String {
    let field = |f: &String| format!("CAST(\"{}\" AS VARCHAR)", f.replace('"', "\"\""));
    match key {
        [] => "CAST(NULL AS VARCHAR)".to_string(),
        [f] => field(f),
        _ => {
            let missing: Vec<String> = key
                .iter()
                .map(|f| format!("\"{}\" IS NULL", f.replace('"', "\"\"")))
                .collect();
            let joined: Vec<String> = key.iter().map(field).collect();
            format!(
                "CASE WHEN {} THEN NULL ELSE {} END",
                missing.join(" OR "),
                joined.join(" || chr(31) || ")
            )
        }
    }
}

/// SQL macros that carry the configuration into queries:
/// - `sla_calendar(priority)`, `sla_response_target(priority)`, `sla_resolution_target(priority)`:
///   a priority's calendar and targets, from the same rows as the `sla_policy` table (the ledger
///   query calls them instead of joining that table);
/// - `repeat_window_us()`: `[repeat] window_days` in microseconds;
/// - `change_failure_window_us()`: `[changes] failure_window_days` in microseconds.
pub fn config_macros(config: &Config) -> String {
    let mut calendar = String::new();
    let mut response = String::new();
    let mut resolution = String::new();
    for (p, policy) in &config.sla.policies {
        calendar.push_str(&format!(
            " WHEN {} THEN {}",
            sql_text(p),
            sql_text(&policy.calendar)
        ));
        if let Some(d) = policy.response {
            response.push_str(&format!(
                " WHEN {} THEN {}",
                sql_text(p),
                sql_text(&d.to_string())
            ));
        }
        if let Some(d) = policy.resolution {
            resolution.push_str(&format!(
                " WHEN {} THEN {}",
                sql_text(p),
                sql_text(&d.to_string())
            ));
        }
    }
    let case = |whens: &str, default: &str| {
        if whens.is_empty() {
            default.to_string()
        } else {
            format!("CASE priority{whens} ELSE {default} END")
        }
    };
    const DAY_US: i64 = 86_400_000_000;
    format!(
        "CREATE OR REPLACE MACRO sla_calendar(priority) AS {};
         CREATE OR REPLACE MACRO sla_response_target(priority) AS {};
         CREATE OR REPLACE MACRO sla_resolution_target(priority) AS {};
         CREATE OR REPLACE MACRO repeat_window_us() AS CAST({} AS BIGINT);
         CREATE OR REPLACE MACRO change_failure_window_us() AS CAST({} AS BIGINT);",
        case(&calendar, &sql_text(&config.sla.calendar)),
        case(&response, "CAST(NULL AS VARCHAR)"),
        case(&resolution, "CAST(NULL AS VARCHAR)"),
        i64::from(config.repeat.window_days) * DAY_US,
        i64::from(config.changes.failure_window_days) * DAY_US,
    )
}

/// The macros the reconciliation tables use: `business_calendar(name)`, whether a calendar has
/// business hours (one open around the clock has nothing to compare the help desk's business
/// times with), and `first_response_from_reply_time(source)`, whether a source's first response
/// is the help desk's own reply time (the export has no first-reply instant), which is then not
/// compared with itself; and `first_response_business_only(source)`, whether a source gives the
/// first reply only in business minutes (its business first response is those minutes).
pub fn reconciliation_macros(config: &Config, inputs: &[crate::ingest::InputReport]) -> String {
    let always_open: Vec<&str> = std::iter::once(ALWAYS_OPEN)
        .chain(
            config
                .calendars
                .iter()
                .filter(|(_, spec)| spec.is_always_open())
                .map(|(name, _)| name.as_str()),
        )
        .collect();
    let sources = |flag: fn(&crate::ingest::InputReport) -> bool| -> Vec<&str> {
        crate::ingest::InputReport::sources_where(inputs, flag)
            .into_iter()
            .collect()
    };
    let from_reply_time = sources(|i| i.first_response_derived);
    let business_only = sources(|i| i.first_response_business_only);
    let close_from_duration = sources(|i| i.close_derived);
    format!(
        "CREATE OR REPLACE MACRO business_calendar(name) AS name NOT IN ({});
         CREATE OR REPLACE MACRO first_response_from_reply_time(source) AS
             coalesce(source IN ({}), false);
         CREATE OR REPLACE MACRO first_response_business_only(source) AS
             coalesce(source IN ({}), false);
         CREATE OR REPLACE MACRO close_from_duration(source) AS
             coalesce(source IN ({}), false);",
        sql_list(&always_open),
        sql_list(&from_reply_time),
        sql_list(&business_only),
        sql_list(&close_from_duration),
    )
}

/// When [`crate::ticket_clocks::business_is_calendar`], the business durations as SQL over the stored tickets (whose
/// events after as_of are already null, see `known`): written into the `tickets` view rather
/// than stored, they are the calendar durations the clock kernel computes.
pub fn calendar_business_sql() -> [(&'static str, String); 2] {
    let elapsed = |c: &str| format!("epoch_us({c}) - epoch_us(created_at)");
    [
        ("resolve_business_us", elapsed("resolved_at")),
        (
            "first_response_business_us",
            format!(
                "CASE WHEN first_response_business_only(source) THEN {} ELSE {} END",
                crate::ticket_clocks::REPORTED_BUSINESS_RESPONSE_SQL,
                elapsed("first_response_at"),
            ),
        ),
    ]
}
