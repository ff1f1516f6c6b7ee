//! The finance workbook (`costs.xlsx`) and the same tables as CSV: cost by service, assignment
//! group, kind and month, and the assumptions behind them. Numbers are numbers with a currency
//! format; text from tickets is always written as text, never as a formula.

use rust_xlsxwriter::{
    DocProperties, ExcelDateTime, Format, FormatAlign, Workbook, Worksheet, XlsxError,
};

use super::files::neutralize;
use chrono::{DateTime, Datelike, NaiveDateTime, Timelike, Utc};
use chrono_tz::Tz;

use crate::kpi::{self, KpiRow};
use crate::period::format_instant;
use crate::pipeline::RunResult;
use crate::table::{column_f64, column_i64, column_strings};

/// One table of the workbook: a sheet, and a CSV of the same rows.
pub struct Table {
    pub sheet: &'static str,
    pub csv: &'static str,
    pub header: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
    /// The sheet's total row, in the workbook only: a CSV is data, not a printed table.
    pub total: Option<Vec<Cell>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Count(u64),
    /// An amount, rounded to the cent in the cell itself, not only in its format.
    Money(Option<f64>),
    Number(Option<f64>),
    /// A price per unit (an hourly rate): money, but never added up in a total row.
    Rate(Option<f64>),
    /// Nothing.
    Blank,
    /// An instant: a date and time cell in the report's local time; in the CSV its ISO 8601
    /// text.
    Instant(NaiveDateTime, String),
}

/// An amount rounded to the cent.
fn cents(v: f64) -> i64 {
    (v * 100.0).round() as i64
}

#[derive(Debug, thiserror::Error)]
pub enum WorkbookError {
    /// The writer's message, said once (not a `source` too, which an error's chain says again).
    #[error("writing the workbook: {0}")]
    Xlsx(XlsxError),
}

impl From<XlsxError> for WorkbookError {
    fn from(e: XlsxError) -> Self {
        WorkbookError::Xlsx(e)
    }
}

/// The cost tables, or none when the configuration has no `[costs]`.
pub fn tables(result: &RunResult) -> Vec<Table> {
    let rows = &result.kpis;
    if !rows.iter().any(|r| r.kpi == "cost_total") {
        return Vec::new();
    }
    let fixed = fixed_costs(result);
    vec![
        service_sheet(rows, &fixed),
        group_sheet(result),
        split_sheet(rows, "kind"),
        month_sheet(rows),
        assumptions(result, &fixed),
    ]
}

/// The `cost_total` rows of a dimension, by key.
fn cost_rows<'a>(rows: &'a [KpiRow], dimension: &str) -> Vec<&'a KpiRow> {
    let mut v: Vec<&KpiRow> = rows
        .iter()
        .filter(|r| r.kpi == "cost_total" && r.dimension == dimension)
        .collect();
    v.sort_by(|a, b| a.key.cmp(&b.key));
    v
}

fn per_ticket(rows: &[KpiRow], dimension: &str, key: &str) -> Option<f64> {
    kpi::find(rows, "cost_per_ticket", "value", dimension, key).and_then(|r| r.value)
}

/// Each service's labour, its own fixed cost, and its cost per ticket.
fn service_sheet(rows: &[KpiRow], fixed: &[(String, f64, f64, f64)]) -> Table {
    let services: Vec<Vec<Cell>> = cost_rows(rows, "service")
        .into_iter()
        .map(|r| {
            let fixed_cost = fixed
                .iter()
                .find(|(s, ..)| *s == r.key)
                .map_or(0.0, |f| f.3);
            vec![
                Cell::Text(r.key.clone()),
                Cell::Count(r.n),
                Cell::Count(r.missing),
                Cell::Money(Some(r.value.unwrap_or(0.0) - fixed_cost)),
                Cell::Money(Some(fixed_cost)),
                Cell::Money(r.value),
                Cell::Money(per_ticket(rows, "service", &r.key)),
            ]
        })
        .collect();
    let mut total = total_row("Total", &services);
    total.push(Cell::Money(per_ticket(rows, "all", "all")));
    Table {
        sheet: "Service",
        csv: "costs_service.csv",
        header: vec![
            "Service",
            "Tickets resolved",
            "Without time worked",
            "Labour",
            "Fixed",
            "Cost",
            "Cost per ticket",
        ],
        rows: services,
        total: Some(total),
    }
}

/// The labour split by assignment group or kind; the fixed costs, which belong to services, are
/// a line of their own, `(fixed costs)`.
fn split_sheet(rows: &[KpiRow], dimension: &'static str) -> Table {
    let split: Vec<Vec<Cell>> = cost_rows(rows, dimension)
        .into_iter()
        .map(|r| {
            let (labour, fixed_cost) = match r.key == FIXED_COSTS_KEY {
                true => (Some(0.0), r.value),
                false => (r.value, Some(0.0)),
            };
            vec![
                Cell::Text(r.key.clone()),
                Cell::Count(r.n),
                Cell::Count(r.missing),
                Cell::Money(labour),
                Cell::Money(fixed_cost),
                Cell::Money(r.value),
            ]
        })
        .collect();
    let (sheet, csv) = match dimension {
        "kind" => ("Kind", "costs_kind.csv"),
        _ => ("Assignment group", "costs_assignment_group.csv"),
    };
    Table {
        sheet,
        csv,
        header: vec![
            sheet,
            "Tickets resolved",
            "Without time worked",
            "Labour",
            "Fixed",
            "Cost",
        ],
        total: Some(total_row("Total", &split)),
        rows: split,
    }
}

/// The labour split by assignment group, with each group's hours worked and the hourly rate
/// its labour was costed at (its own `[costs]` rate, else the default one).
fn group_sheet(result: &RunResult) -> Table {
    let mut table = split_sheet(&result.kpis, "assignment_group");
    let hours = labour_hours(result);
    let costs = &result.config.costs;
    // after "Without time worked"
    let at = 3;
    for (i, name) in ["Hours worked", "Hourly rate", "Rate"]
        .into_iter()
        .enumerate()
    {
        table.header.insert(at + i, name);
    }
    for row in &mut table.rows {
        let Cell::Text(group) = &row[0] else {
            continue;
        };
        let extra = match group.as_str() {
            FIXED_COSTS_KEY => [
                Cell::Number(None),
                Cell::Rate(None),
                Cell::Text(String::new()),
            ],
            g => {
                let (rate, source) = match costs.group_rates.get(g) {
                    Some(r) => (Some(*r), "the group's own"),
                    None => (costs.default_hourly_rate, "the default"),
                };
                [
                    // to the hundredth of an hour in the cell; ledger.csv has the minutes
                    Cell::Number(Some(
                        (hours.get(g).copied().unwrap_or(0.0) * 100.0).round() / 100.0,
                    )),
                    Cell::Rate(rate),
                    Cell::Text(source.to_string()),
                ]
            }
        };
        for (i, cell) in extra.into_iter().enumerate() {
            row.insert(at + i, cell);
        }
    }
    table.total = Some(total_row("Total", &table.rows));
    table
}

/// Hours worked by assignment group: the `labour_hours` table.
fn labour_hours(result: &RunResult) -> std::collections::BTreeMap<String, f64> {
    let mut out = std::collections::BTreeMap::new();
    for b in result.tables.get("labour_hours") {
        let group = column_strings(b, "assignment_group").unwrap_or_default();
        let hours = column_f64(b, "hours").unwrap_or_default();
        for i in 0..b.num_rows() {
            if let (Some(g), Some(h)) = (&group[i], hours[i]) {
                out.insert(g.clone(), h);
            }
        }
    }
    out
}

/// The cost of each of the twelve months up to the period's end, from the first with a ticket
/// resolved or a cost: a month before the exports begin is not a month that cost nothing.
fn month_sheet(rows: &[KpiRow]) -> Table {
    let months: Vec<Vec<Cell>> = cost_rows(rows, "month")
        .into_iter()
        .skip_while(|r| r.n == 0 && r.value.unwrap_or(0.0) == 0.0)
        .map(|r| {
            vec![
                Cell::Text(r.key.clone()),
                Cell::Count(r.n),
                Cell::Count(r.missing),
                Cell::Money(r.value),
            ]
        })
        .collect();
    Table {
        sheet: "Month",
        csv: "costs_month.csv",
        header: vec!["Month", "Tickets resolved", "Without time worked", "Cost"],
        total: Some(total_row("Total", &months)),
        rows: months,
    }
}

/// The key of the fixed costs' line by the dimensions other than service (queries/costs.sql).
const FIXED_COSTS_KEY: &str = "(fixed costs)";

/// A total row: `label`, then the sum of each count, number and amount column of `rows` (amounts
/// summed in whole cents); rates and text are not added up.
fn total_row(label: &str, rows: &[Vec<Cell>]) -> Vec<Cell> {
    let width = rows.first().map_or(0, Vec::len);
    let mut total = vec![Cell::Text(label.to_string())];
    for c in 1..width {
        total.push(match &rows[0][c] {
            Cell::Text(_) | Cell::Rate(_) | Cell::Instant(..) | Cell::Blank => Cell::Blank,
            Cell::Number(_) => Cell::Number(Some(
                rows.iter()
                    .filter_map(|r| match r[c] {
                        Cell::Number(v) => v,
                        _ => None,
                    })
                    .sum(),
            )),
            Cell::Count(_) => Cell::Count(
                rows.iter()
                    .map(|r| match r[c] {
                        Cell::Count(n) => n,
                        _ => 0,
                    })
                    .sum(),
            ),
            _ => Cell::Money(Some(
                rows.iter()
                    .map(|r| match r[c] {
                        Cell::Money(Some(v)) => cents(v),
                        _ => 0,
                    })
                    .sum::<i64>() as f64
                    / 100.0,
            )),
        });
    }
    total
}

/// Each service's monthly cost, the months charged, and the amount for the period: the
/// `fixed_costs` table.
fn fixed_costs(result: &RunResult) -> Vec<(String, f64, f64, f64)> {
    let mut out = Vec::new();
    for b in result.tables.get("fixed_costs") {
        let service = column_strings(b, "service").unwrap_or_default();
        let monthly = column_f64(b, "monthly").unwrap_or_default();
        let months = column_f64(b, "months").unwrap_or_default();
        let cents = column_i64(b, "fixed_cents").unwrap_or_default();
        for i in 0..b.num_rows() {
            out.push((
                service[i].clone().unwrap_or_default(),
                monthly[i].unwrap_or(0.0),
                months[i].unwrap_or(0.0),
                cents[i].unwrap_or(0) as f64 / 100.0,
            ));
        }
    }
    out
}

fn instant(at: DateTime<Utc>, tz: Tz) -> Cell {
    Cell::Instant(at.with_timezone(&tz).naive_local(), format_instant(at, tz))
}

/// How fixed costs are allocated, said where the finance reader checks the numbers
/// (docs/kpis.md says the same).
const FIXED_COST_RULES: [&str; 3] = [
    "Fixed costs stay with their service: on the Service sheet in its Fixed column, on the other \
     sheets on a line of their own, (fixed costs).",
    "Cost per ticket overall = all labour and fixed costs / all tickets resolved: the fixed cost \
     of a service with no ticket resolved in the period raises the overall cost per ticket; a \
     service's own cost per ticket is its costs / its tickets, none without tickets.",
    "Fixed costs are charged only to a period or month in which some ticket was created or \
     resolved, never to one before the exports begin or after they end.",
];

fn assumptions(result: &RunResult, fixed: &[(String, f64, f64, f64)]) -> Table {
    let tz = result.period.timezone;
    let costs = &result.config.costs;
    let mut rows = vec![
        vec![
            Cell::Text("Period".into()),
            Cell::Text(result.period.label()),
        ],
        vec![
            Cell::Text(format!("Period start ({})", tz.name())),
            instant(result.period.start, tz),
        ],
        vec![
            Cell::Text(format!("Period end ({})", tz.name())),
            instant(result.period.end, tz),
        ],
        vec![
            Cell::Text(format!("As of ({})", tz.name())),
            instant(result.as_of, tz),
        ],
        vec![
            Cell::Text("Currency".into()),
            Cell::Text(result.config.report.currency.clone()),
        ],
        vec![
            Cell::Text("Default hourly rate".into()),
            Cell::Money(costs.default_hourly_rate),
        ],
    ];
    if let Some(total) = kpi::find(&result.kpis, "cost_total", "value", "all", "all") {
        let coverage =
            (total.n > 0).then(|| 100.0 * (total.n - total.missing) as f64 / total.n as f64);
        rows.push(vec![
            Cell::Text("Resolved tickets with time worked (%)".into()),
            Cell::Number(coverage),
        ]);
    }
    for (group, rate) in &costs.group_rates {
        rows.push(vec![
            Cell::Text(format!("Hourly rate: {group}")),
            Cell::Money(Some(*rate)),
        ]);
    }
    for (service, monthly, months, amount) in fixed {
        rows.push(vec![
            Cell::Text(format!("Monthly cost: {service}")),
            Cell::Money(Some(*monthly)),
        ]);
        rows.push(vec![
            Cell::Text(format!(
                "Charged for the period: {service} ({months:.4} months)"
            )),
            Cell::Money(Some(*amount)),
        ]);
    }
    for rule in FIXED_COST_RULES {
        rows.push(vec![
            Cell::Text("Rule".into()),
            Cell::Text(rule.to_string()),
        ]);
    }
    Table {
        sheet: "Assumptions",
        csv: "costs_assumptions.csv",
        header: vec!["Assumption", "Value"],
        rows,
        total: None,
    }
}

/// The workbook, byte-identical for the same tables and as_of.
pub fn xlsx(tables: &[Table], result: &RunResult) -> Result<Vec<u8>, WorkbookError> {
    let currency = &result.config.report.currency;
    let formats = Formats {
        money: Format::new().set_num_format(format!("#,##0.00 \"{}\"", currency.replace('"', ""))),
        number: Format::new().set_num_format("0.0"),
        header: Format::new().set_bold().set_align(FormatAlign::Center),
        instant: Format::new().set_num_format("yyyy-mm-dd hh:mm"),
    };
    let mut workbook = Workbook::new();
    let as_of = result.as_of.naive_utc();
    let created = ExcelDateTime::from_ymd(
        as_of.format("%Y").to_string().parse().unwrap_or(2000),
        as_of.format("%m").to_string().parse().unwrap_or(1),
        as_of.format("%d").to_string().parse().unwrap_or(1),
    )?;
    workbook.set_properties(
        &DocProperties::new()
            .set_title(format!(
                "{}: costs {}",
                result.config.report.title,
                result.period.label()
            ))
            .set_creation_datetime(&created),
    );
    for table in tables {
        let sheet = workbook.add_worksheet();
        sheet.set_name(table.sheet)?;
        write_table(sheet, table, &formats)?;
    }
    Ok(workbook.save_to_buffer()?)
}

fn write_table(sheet: &mut Worksheet, table: &Table, formats: &Formats) -> Result<(), XlsxError> {
    for (c, name) in table.header.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *name, &formats.header)?;
    }
    for (r, row) in table.rows.iter().enumerate() {
        write_row(sheet, r as u32 + 1, row, formats, false)?;
    }
    if let Some(total) = &table.total {
        write_row(sheet, table.rows.len() as u32 + 1, total, formats, true)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    if !table.rows.is_empty() {
        sheet.autofilter(0, 0, table.rows.len() as u32, table.header.len() as u16 - 1)?;
    }
    sheet.autofit();
    Ok(())
}

struct Formats {
    header: Format,
    money: Format,
    number: Format,
    instant: Format,
}

fn write_row(
    sheet: &mut Worksheet,
    r: u32,
    row: &[Cell],
    formats: &Formats,
    bold: bool,
) -> Result<(), XlsxError> {
    let style = |f: &Format| {
        if bold {
            f.clone().set_bold()
        } else {
            f.clone()
        }
    };
    for (c, cell) in row.iter().enumerate() {
        let c = c as u16;
        match cell {
            // write_string never reads its text as a formula
            Cell::Text(t) => sheet.write_string_with_format(r, c, t, &style(&Format::new()))?,
            Cell::Count(n) => {
                sheet.write_number_with_format(r, c, *n as f64, &style(&Format::new()))?
            }
            Cell::Money(Some(v)) | Cell::Rate(Some(v)) => {
                let rounded = cents(*v) as f64 / 100.0;
                sheet.write_number_with_format(r, c, rounded, &style(&formats.money))?
            }
            Cell::Number(Some(v)) => {
                sheet.write_number_with_format(r, c, *v, &style(&formats.number))?
            }
            Cell::Instant(at, _) => {
                let cell =
                    ExcelDateTime::from_ymd(at.year() as u16, at.month() as u8, at.day() as u8)?
                        .and_hms(at.hour() as u16, at.minute() as u8, at.second())?;
                sheet.write_datetime_with_format(r, c, &cell, &formats.instant)?
            }
            Cell::Money(None) | Cell::Number(None) | Cell::Rate(None) | Cell::Blank => sheet,
        };
    }
    Ok(())
}

/// The same table as CSV: numbers unformatted, text neutralised against formulas.
pub fn csv(table: &Table) -> Result<Vec<u8>, String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&table.header).map_err(|e| e.to_string())?;
    for row in &table.rows {
        let cells: Vec<String> = row
            .iter()
            .map(|c| match c {
                Cell::Text(t) => neutralize(t).into_owned(),
                Cell::Count(n) => n.to_string(),
                Cell::Money(v) | Cell::Rate(v) => v.map(|v| format!("{v:.2}")).unwrap_or_default(),
                Cell::Number(v) => v.map(|v| format!("{v}")).unwrap_or_default(),
                Cell::Instant(_, shown) => shown.clone(),
                Cell::Blank => String::new(),
            })
            .collect();
        w.write_record(&cells).map_err(|e| e.to_string())?;
    }
    w.into_inner().map_err(|e| e.to_string())
}
