//! The finance workbook (`costs.xlsx`) and the same tables as CSV: cost by service, assignment
//! group, kind and month, and the assumptions behind them. Numbers are numbers with a currency
//! format; text from tickets is always written as text, never as a formula.

use rust_xlsxwriter::{
    DocProperties, ExcelDateTime, Format, FormatAlign, Workbook, Worksheet, XlsxError,
};

use super::files::neutralize;
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
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Count(u64),
    Money(Option<f64>),
    Number(Option<f64>),
}

#[derive(Debug, thiserror::Error)]
pub enum WorkbookError {
    #[error("writing the workbook: {0}")]
    Xlsx(#[from] XlsxError),
}

/// The cost tables, or none when the configuration has no `[costs]`.
pub fn tables(result: &RunResult) -> Vec<Table> {
    let rows = &result.kpis;
    if !rows.iter().any(|r| r.kpi == "cost_total") {
        return Vec::new();
    }
    let fixed = fixed_costs(result);
    let of = |dimension: &str| -> Vec<&KpiRow> {
        let mut v: Vec<&KpiRow> = rows
            .iter()
            .filter(|r| r.kpi == "cost_total" && r.dimension == dimension)
            .collect();
        v.sort_by(|a, b| a.key.cmp(&b.key));
        v
    };
    let per_ticket = |dimension: &str, key: &str| {
        kpi::find(rows, "cost_per_ticket", "value", dimension, key).and_then(|r| r.value)
    };
    let services = of("service")
        .into_iter()
        .map(|r| {
            let fixed_cost = fixed.iter().find(|(s, ..)| *s == r.key).map(|f| f.3);
            let total = r.value.unwrap_or(0.0);
            vec![
                Cell::Text(r.key.clone()),
                Cell::Count(r.n),
                Cell::Count(r.missing),
                Cell::Money(Some(total - fixed_cost.unwrap_or(0.0))),
                Cell::Money(Some(fixed_cost.unwrap_or(0.0))),
                Cell::Money(r.value),
                Cell::Money(per_ticket("service", &r.key)),
            ]
        })
        .collect();
    let split = |dimension: &str| -> Vec<Vec<Cell>> {
        of(dimension)
            .into_iter()
            .map(|r| {
                vec![
                    Cell::Text(r.key.clone()),
                    Cell::Count(r.n),
                    Cell::Count(r.missing),
                    Cell::Money(r.value),
                ]
            })
            .collect()
    };
    let months = split("month");
    vec![
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
        },
        Table {
            sheet: "Assignment group",
            csv: "costs_assignment_group.csv",
            header: vec![
                "Assignment group",
                "Tickets resolved",
                "Without time worked",
                "Cost",
            ],
            rows: split("assignment_group"),
        },
        Table {
            sheet: "Kind",
            csv: "costs_kind.csv",
            header: vec!["Kind", "Tickets resolved", "Without time worked", "Cost"],
            rows: split("kind"),
        },
        Table {
            sheet: "Month",
            csv: "costs_month.csv",
            header: vec!["Month", "Tickets resolved", "Without time worked", "Cost"],
            rows: months,
        },
        assumptions(result, &fixed),
    ]
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

fn assumptions(result: &RunResult, fixed: &[(String, f64, f64, f64)]) -> Table {
    let tz = result.period.timezone;
    let costs = &result.config.costs;
    let mut rows = vec![
        vec![
            Cell::Text("Period".into()),
            Cell::Text(result.period.label()),
        ],
        vec![
            Cell::Text("Period start".into()),
            Cell::Text(format_instant(result.period.start, tz)),
        ],
        vec![
            Cell::Text("Period end".into()),
            Cell::Text(format_instant(result.period.end, tz)),
        ],
        vec![
            Cell::Text("As of".into()),
            Cell::Text(format_instant(result.as_of, tz)),
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
    Table {
        sheet: "Assumptions",
        csv: "costs_assumptions.csv",
        header: vec!["Assumption", "Value"],
        rows,
    }
}

/// The workbook, byte-identical for the same tables and as_of.
pub fn xlsx(tables: &[Table], result: &RunResult) -> Result<Vec<u8>, WorkbookError> {
    let currency = &result.config.report.currency;
    let money = Format::new().set_num_format(format!("#,##0.00 \"{}\"", currency.replace('"', "")));
    let number = Format::new().set_num_format("0.0");
    let header = Format::new().set_bold().set_align(FormatAlign::Center);
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
        write_table(sheet, table, &header, &money, &number)?;
    }
    Ok(workbook.save_to_buffer()?)
}

fn write_table(
    sheet: &mut Worksheet,
    table: &Table,
    header: &Format,
    money: &Format,
    number: &Format,
) -> Result<(), XlsxError> {
    for (c, name) in table.header.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *name, header)?;
        sheet.set_column_width(c as u16, if c == 0 { 36 } else { 18 })?;
    }
    for (r, row) in table.rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, cell) in row.iter().enumerate() {
            let c = c as u16;
            match cell {
                // write_string never reads its text as a formula
                Cell::Text(t) => sheet.write_string(r, c, t)?,
                Cell::Count(n) => sheet.write_number(r, c, *n as f64)?,
                Cell::Money(Some(v)) => sheet.write_number_with_format(r, c, *v, money)?,
                Cell::Number(Some(v)) => sheet.write_number_with_format(r, c, *v, number)?,
                Cell::Money(None) | Cell::Number(None) => sheet,
            };
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    if !table.rows.is_empty() {
        sheet.autofilter(0, 0, table.rows.len() as u32, table.header.len() as u16 - 1)?;
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
                Cell::Money(v) => v.map(|v| format!("{v:.2}")).unwrap_or_default(),
                Cell::Number(v) => v.map(|v| format!("{v}")).unwrap_or_default(),
            })
            .collect();
        w.write_record(&cells).map_err(|e| e.to_string())?;
    }
    w.into_inner().map_err(|e| e.to_string())
}
