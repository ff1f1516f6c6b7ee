//! The cost model of the configuration (`[costs]`): hourly rates per assignment group and fixed
//! monthly service costs prorated to the report period, as the small tables the cost query joins.

use chrono::{Datelike, NaiveDate};
use polars::prelude::*;

use crate::config::CostSettings;
use crate::model::ColumnType;
use crate::period::Period;

pub fn rate_columns() -> Vec<(&'static str, ColumnType)> {
    vec![
        ("assignment_group", ColumnType::Text),
        ("rate", ColumnType::Float),
    ]
}

pub fn service_cost_columns() -> Vec<(&'static str, ColumnType)> {
    vec![
        ("service", ColumnType::Text),
        ("monthly", ColumnType::Float),
        ("months", ColumnType::Float),
        ("fixed_cents", ColumnType::Int),
    ]
}

/// `cost_rates`: the hourly rate of each named assignment group.
pub fn rate_table(costs: &CostSettings) -> PolarsResult<DataFrame> {
    let groups: Vec<&str> = costs.group_rates.keys().map(String::as_str).collect();
    let rates: Vec<f64> = costs.group_rates.values().copied().collect();
    DataFrame::new(
        groups.len(),
        vec![
            Column::new("assignment_group".into(), groups),
            Column::new("rate".into(), rates),
        ],
    )
}

/// `service_costs`: each service's monthly cost, the months of the period it is charged for, and
/// the amount in whole cents.
pub fn service_cost_table(costs: &CostSettings, period: &Period) -> PolarsResult<DataFrame> {
    let months = months_in(period.first_date, period.end_date);
    let services: Vec<&str> = costs
        .monthly_service_costs
        .keys()
        .map(String::as_str)
        .collect();
    let monthly: Vec<f64> = costs.monthly_service_costs.values().copied().collect();
    let cents: Vec<i64> = monthly
        .iter()
        .map(|m| (m * months * 100.0).round() as i64)
        .collect();
    DataFrame::new(
        services.len(),
        vec![
            Column::new("service".into(), services),
            Column::new("monthly".into(), monthly.clone()),
            Column::new("months".into(), vec![months; monthly.len()]),
            Column::new("fixed_cents".into(), cents),
        ],
    )
}

/// How many months a period of local dates `[first, end)` covers: each calendar month counts by
/// the share of its days inside the period, so a calendar month is exactly 1, a quarter 3, and
/// ISO week 44 of 2026 is 6/31 + 1/30.
pub fn months_in(first: NaiveDate, end: NaiveDate) -> f64 {
    let mut total = 0.0;
    let mut day = first;
    while day < end {
        let month_start = day.with_day(1).expect("day 1 exists");
        let next_month = if month_start.month() == 12 {
            NaiveDate::from_ymd_opt(month_start.year() + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(month_start.year(), month_start.month() + 1, 1)
        }
        .expect("valid month");
        let days_in_month = (next_month - month_start).num_days() as f64;
        let until = next_month.min(end);
        total += (until - day).num_days() as f64 / days_in_month;
        day = until;
    }
    total
}

/// The macros the cost query reads the configuration through.
pub fn macros(costs: &CostSettings) -> String {
    let configured = costs.default_hourly_rate.is_some()
        || !costs.group_rates.is_empty()
        || !costs.monthly_service_costs.is_empty();
    format!(
        "CREATE OR REPLACE MACRO default_hourly_rate() AS CAST({} AS DOUBLE);
         CREATE OR REPLACE MACRO costs_configured() AS {configured};",
        costs
            .default_hourly_rate
            .map_or("NULL".to_string(), |r| format!("{r:?}")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn prorates_by_the_days_of_each_month() {
        assert_eq!(months_in(d(2026, 10, 1), d(2026, 11, 1)), 1.0);
        assert_eq!(months_in(d(2026, 10, 1), d(2027, 1, 1)), 3.0);
        assert_eq!(months_in(d(2026, 2, 1), d(2026, 3, 1)), 1.0);
        // ISO week 2026-W44: Monday 26 October to Sunday 1 November.
        let week = months_in(d(2026, 10, 26), d(2026, 11, 2));
        assert!((week - (6.0 / 31.0 + 1.0 / 30.0)).abs() < 1e-12, "{week}");
        assert_eq!(months_in(d(2026, 1, 1), d(2027, 1, 1)), 12.0);
    }
}
