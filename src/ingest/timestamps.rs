//! Choosing the one timestamp format a file is written in, and the Polars expressions that read
//! local wall-clock text into UTC instants.

use chrono::NaiveDateTime;
use chrono_tz::Tz;
use polars::prelude::*;

/// How many values of each timestamp column the format choice looks at before reading them all.
const SAMPLE: usize = 500;

/// Picks the format that reads the file: among the profile's formats, those that read every
/// sampled value are tried on the whole columns, and the one with the fewest failures wins (the
/// first listed on a tie). Returns `None` when the file has no timestamp values at all.
pub fn choose_format(
    frame: &DataFrame,
    columns: &[String],
    formats: &[String],
) -> PolarsResult<Option<String>> {
    let mut sample: Vec<String> = Vec::new();
    for c in columns {
        let s = frame.column(c)?.str()?;
        sample.extend(s.iter().flatten().take(SAMPLE).map(str::to_string));
    }
    if sample.is_empty() {
        return Ok(None);
    }
    let passing: Vec<&String> = formats
        .iter()
        .filter(|f| sample.iter().all(|v| parses(v, f)))
        .collect();
    let candidates: Vec<&String> = if passing.is_empty() {
        // Nothing reads the whole sample: rank every format by what it reads of the sample and
        // let the full columns decide among the best, so that the failures become ingest issues.
        let best = formats
            .iter()
            .map(|f| sample.iter().filter(|v| parses(v, f)).count())
            .max()
            .unwrap_or(0);
        if best == 0 {
            return Ok(Some(formats[0].clone()));
        }
        formats
            .iter()
            .filter(|f| sample.iter().filter(|v| parses(v, f)).count() == best)
            .collect()
    } else {
        passing
    };
    if candidates.len() == 1 {
        return Ok(Some(candidates[0].clone()));
    }
    let mut best: Option<(usize, &String)> = None;
    for f in candidates {
        let failures = count_failures(frame, columns, f)?;
        if best.is_none_or(|(b, _)| failures < b) {
            best = Some((failures, f));
        }
    }
    Ok(best.map(|(_, f)| f.clone()))
}

/// Whether a column has values and `format` reads none of its sampled ones.
pub fn reads_none(frame: &DataFrame, column: &str, format: &str) -> PolarsResult<bool> {
    let s = frame.column(column)?.str()?;
    let mut sample = s.iter().flatten().take(SAMPLE).peekable();
    if sample.peek().is_none() {
        return Ok(false);
    }
    Ok(!sample.any(|v| parses(v, format)))
}

/// Formats that read the values of a column `primary` leaves unread, in the profile's order,
/// so that a column mixing two shapes (`25/Feb/26 10:17 PM` and `2026-02-25 22:17`) reads whole.
/// A format is taken only if it reads nothing an earlier one reads: `%d/%m` beside `%m/%d`
/// would read the same text as two dates, so such a pair never mixes.
pub fn also_written_in(
    frame: &DataFrame,
    column: &str,
    primary: &str,
    formats: &[String],
) -> PolarsResult<Vec<String>> {
    let s = frame.column(column)?.str()?;
    let sample: Vec<&str> = s.iter().flatten().take(SAMPLE).collect();
    let mut taken: Vec<&str> = vec![primary];
    let unread = |taken: &[&str]| -> Vec<&str> {
        sample
            .iter()
            .copied()
            .filter(|v| !taken.iter().any(|f| parses(v, f)))
            .collect()
    };
    let mut extra = Vec::new();
    for f in formats {
        let left = unread(&taken);
        if left.is_empty() {
            break;
        }
        let read_before = sample
            .iter()
            .any(|v| taken.iter().any(|t| parses(v, t)) && parses(v, f));
        if !read_before && left.iter().any(|v| parses(v, f)) {
            taken.push(f);
            extra.push(f.clone());
        }
    }
    Ok(extra)
}

/// Text → naive local date-time in the first of `formats` that reads it.
pub fn naive_any(text: Expr, formats: &[String]) -> Expr {
    let mut parsed = formats.iter().map(|f| naive(text.clone(), f));
    let first = parsed.next().expect("at least one format");
    parsed.fold(first, |acc, next| acc.fill_null(next))
}

fn parses(value: &str, format: &str) -> bool {
    NaiveDateTime::parse_from_str(value, format).is_ok()
}

fn count_failures(frame: &DataFrame, columns: &[String], format: &str) -> PolarsResult<usize> {
    let exprs: Vec<Expr> = columns
        .iter()
        .map(|c| {
            (col(c.as_str())
                .is_not_null()
                .and(naive(col(c.as_str()), format).is_null()))
            .cast(DataType::UInt32)
            .sum()
            .alias(c.as_str())
        })
        .collect();
    let counts = frame.clone().lazy().select(exprs).collect()?;
    let mut total = 0usize;
    for c in counts.columns() {
        total += c.u32()?.get(0).unwrap_or(0) as usize;
    }
    Ok(total)
}

/// Text → naive local date-time, null where the text does not fit the format.
pub fn naive(text: Expr, format: &str) -> Expr {
    text.str().to_datetime(
        Some(TimeUnit::Microseconds),
        None,
        StrptimeOptions {
            format: Some(format.into()),
            strict: false,
            exact: true,
            cache: false,
        },
        lit("raise"),
    )
}

/// Naive local date-time → UTC instant. A time that occurs twice is read as its first
/// occurrence; one that does not exist (the spring-forward gap) becomes null.
pub fn to_utc(naive: Expr, tz: Tz) -> Expr {
    naive
        .dt()
        .replace_time_zone(
            Some(TimeZone::from_chrono(&tz)),
            lit("earliest"),
            NonExistent::Null,
        )
        .dt()
        .convert_time_zone(TimeZone::UTC)
}

/// The earliest instant deskpulse believes: anything before it is a placeholder such as
/// 1900-01-01 or 1970-01-01, not a real ticket event.
pub const PLAUSIBLE_FROM_MICROS: i64 = 315_532_800_000_000; // 1980-01-01T00:00:00Z

pub fn plausible_from() -> Expr {
    lit(PLAUSIBLE_FROM_MICROS).cast(DataType::Datetime(
        TimeUnit::Microseconds,
        Some(TimeZone::UTC),
    ))
}
