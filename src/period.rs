//! Report periods and the `as_of` instant. Boundaries are local midnights in the report's time
//! zone; a period is half-open, `[start, end)`.

use std::fmt;

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, SecondsFormat,
    TimeZone, Utc,
};
use chrono_tz::Tz;

/// What a period covers, in local dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodKind {
    Month {
        year: i32,
        month: u32,
    },
    Quarter {
        year: i32,
        quarter: u32,
    },
    Week {
        year: i32,
        week: u32,
    },
    Year {
        year: i32,
    },
    /// `--from/--to`: `to` is exclusive.
    Range {
        from: NaiveDate,
        to: NaiveDate,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub kind: PeriodKind,
    pub timezone: Tz,
    /// First local date in the period.
    pub first_date: NaiveDate,
    /// First local date after the period.
    pub end_date: NaiveDate,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl PeriodKind {
    /// Parses `2026-10`, `2026-Q4`, `2026-W44`, `2026`.
    pub fn parse(text: &str) -> Result<PeriodKind, String> {
        let t = text.trim();
        let bad = || {
            format!(
                "`{text}` is not a period (write a month `2026-10`, a quarter `2026-Q4`, an ISO week `2026-W44` or a year `2026`)"
            )
        };
        let year = |s: &str| -> Result<i32, String> {
            if s.len() != 4 {
                return Err(bad());
            }
            s.parse::<i32>().map_err(|_| bad())
        };
        if let Some((y, rest)) = t.split_once('-') {
            let year = year(y)?;
            if let Some(q) = rest.strip_prefix(['Q', 'q']) {
                let quarter: u32 = q.parse().map_err(|_| bad())?;
                if !(1..=4).contains(&quarter) {
                    return Err(bad());
                }
                return Ok(PeriodKind::Quarter { year, quarter });
            }
            if let Some(w) = rest.strip_prefix(['W', 'w']) {
                let week: u32 = w.parse().map_err(|_| bad())?;
                if NaiveDate::from_isoywd_opt(year, week, chrono::Weekday::Mon).is_none() {
                    return Err(format!("`{text}`: {year} has no ISO week {week}"));
                }
                return Ok(PeriodKind::Week { year, week });
            }
            if rest.len() != 2 {
                return Err(bad());
            }
            let month: u32 = rest.parse().map_err(|_| bad())?;
            if !(1..=12).contains(&month) {
                return Err(bad());
            }
            return Ok(PeriodKind::Month { year, month });
        }
        Ok(PeriodKind::Year { year: year(t)? })
    }

    /// The period's local dates: first day and the day after the last.
    pub fn dates(self) -> (NaiveDate, NaiveDate) {
        let ymd = |y, m| NaiveDate::from_ymd_opt(y, m, 1).expect("valid first of month");
        match self {
            PeriodKind::Month { year, month } => {
                let next = if month == 12 {
                    ymd(year + 1, 1)
                } else {
                    ymd(year, month + 1)
                };
                (ymd(year, month), next)
            }
            PeriodKind::Quarter { year, quarter } => {
                let first = ymd(year, (quarter - 1) * 3 + 1);
                let next = if quarter == 4 {
                    ymd(year + 1, 1)
                } else {
                    ymd(year, quarter * 3 + 1)
                };
                (first, next)
            }
            PeriodKind::Week { year, week } => {
                let first = NaiveDate::from_isoywd_opt(year, week, chrono::Weekday::Mon)
                    .expect("validated week");
                (first, first + Duration::days(7))
            }
            PeriodKind::Year { year } => (ymd(year, 1), ymd(year + 1, 1)),
            PeriodKind::Range { from, to } => (from, to),
        }
    }

    /// The period of the same length just before this one.
    pub fn previous(self) -> PeriodKind {
        match self {
            PeriodKind::Month { year, month } => {
                if month == 1 {
                    PeriodKind::Month {
                        year: year - 1,
                        month: 12,
                    }
                } else {
                    PeriodKind::Month {
                        year,
                        month: month - 1,
                    }
                }
            }
            PeriodKind::Quarter { year, quarter } => {
                if quarter == 1 {
                    PeriodKind::Quarter {
                        year: year - 1,
                        quarter: 4,
                    }
                } else {
                    PeriodKind::Quarter {
                        year,
                        quarter: quarter - 1,
                    }
                }
            }
            PeriodKind::Week { year, week } => {
                let monday = NaiveDate::from_isoywd_opt(year, week, chrono::Weekday::Mon)
                    .expect("validated week");
                let prev = (monday - Duration::days(7)).iso_week();
                PeriodKind::Week {
                    year: prev.year(),
                    week: prev.week(),
                }
            }
            PeriodKind::Year { year } => PeriodKind::Year { year: year - 1 },
            PeriodKind::Range { from, to } => {
                let len = to - from;
                PeriodKind::Range {
                    from: from - len,
                    to: from,
                }
            }
        }
    }

    /// The calendar month that contains a local date.
    pub fn month_of(date: NaiveDate) -> PeriodKind {
        PeriodKind::Month {
            year: date.year(),
            month: date.month(),
        }
    }
}

impl fmt::Display for PeriodKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeriodKind::Month { year, month } => write!(f, "{year:04}-{month:02}"),
            PeriodKind::Quarter { year, quarter } => write!(f, "{year:04}-Q{quarter}"),
            PeriodKind::Week { year, week } => write!(f, "{year:04}-W{week:02}"),
            PeriodKind::Year { year } => write!(f, "{year:04}"),
            PeriodKind::Range { from, to } => write!(f, "{from}..{to}"),
        }
    }
}

impl Period {
    pub fn new(kind: PeriodKind, timezone: Tz) -> Result<Period, String> {
        let (first_date, end_date) = kind.dates();
        if end_date <= first_date {
            return Err(format!(
                "the period {kind} is empty (--to must be after --from)"
            ));
        }
        Ok(Period {
            kind,
            timezone,
            first_date,
            end_date,
            start: local_midnight(first_date, timezone),
            end: local_midnight(end_date, timezone),
        })
    }

    pub fn label(&self) -> String {
        self.kind.to_string()
    }

    pub fn previous(&self) -> Period {
        Period::new(self.kind.previous(), self.timezone)
            .expect("the previous period of a valid period is valid")
    }
}

/// The UTC instant of a local midnight. Where midnight falls in a DST gap, the day starts at the
/// first local minute that exists.
pub fn local_midnight(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    local_instant(date.and_time(NaiveTime::MIN), tz)
}

/// A local wall-clock time read in a zone: the first occurrence when it occurs twice, and the
/// first existing minute after it when it falls in a gap.
pub fn local_instant(local: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        LocalResult::None => {
            let mut probe = local;
            loop {
                probe += Duration::minutes(1);
                if let Some(t) = tz.from_local_datetime(&probe).earliest() {
                    return t.with_timezone(&Utc);
                }
            }
        }
    }
}

/// An instant written with the offset it has in a zone, to the second (`2026-11-01T00:00:00+01:00`).
pub fn format_instant(instant: DateTime<Utc>, tz: Tz) -> String {
    instant
        .with_timezone(&tz)
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// Parses `--as-of`: an RFC 3339 instant, or a local date or date-time in the report zone.
pub fn parse_as_of(text: &str, tz: Tz) -> Result<DateTime<Utc>, String> {
    let t = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(dt.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(local) = NaiveDateTime::parse_from_str(t, fmt) {
            return Ok(local_instant(local, tz));
        }
    }
    if let Ok(date) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(local_midnight(date, tz));
    }
    Err(format!(
        "`{text}` is not an instant (write 2026-11-01, 2026-11-01T08:30 in the report's zone, or 2026-11-01T08:30:00+01:00)"
    ))
}

/// Parses a `--from`/`--to` date.
pub fn parse_date(text: &str, flag: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| format!("{flag} `{text}` is not a date (YYYY-MM-DD)"))
}

/// The local date of an instant in a zone.
pub fn local_date(instant: DateTime<Utc>, tz: Tz) -> NaiveDate {
    instant.with_timezone(&tz).date_naive()
}

/// The calendar month before the one that contains `today`, for scheduled jobs.
pub fn previous_month(today: NaiveDate) -> PeriodKind {
    PeriodKind::month_of(today).previous()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America, Europe};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn month_boundaries_follow_the_report_zone() {
        let p = Period::new(PeriodKind::parse("2026-10").unwrap(), Europe::Amsterdam).unwrap();
        assert_eq!(
            format_instant(p.start, p.timezone),
            "2026-10-01T00:00:00+02:00"
        );
        assert_eq!(
            format_instant(p.end, p.timezone),
            "2026-11-01T00:00:00+01:00"
        );
        assert_eq!((p.end - p.start).num_hours(), 31 * 24 + 1);
    }

    #[test]
    fn parses_every_period_form() {
        assert_eq!(
            PeriodKind::parse("2026-Q4").unwrap().dates(),
            (d(2026, 10, 1), d(2027, 1, 1))
        );
        assert_eq!(
            PeriodKind::parse("2026-W44").unwrap().dates(),
            (d(2026, 10, 26), d(2026, 11, 2))
        );
        assert_eq!(
            PeriodKind::parse("2026").unwrap().dates(),
            (d(2026, 1, 1), d(2027, 1, 1))
        );
        assert_eq!(
            PeriodKind::parse("2026-02").unwrap().dates(),
            (d(2026, 2, 1), d(2026, 3, 1))
        );
        for bad in [
            "2026-13", "26-10", "2026-Q5", "2026-W54", "october", "2026-1",
        ] {
            assert!(PeriodKind::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            PeriodKind::parse("2026-w01").unwrap().to_string(),
            "2026-W01"
        );
    }

    #[test]
    fn previous_periods() {
        let prev = |s: &str| PeriodKind::parse(s).unwrap().previous().to_string();
        assert_eq!(prev("2026-01"), "2025-12");
        assert_eq!(prev("2026-Q1"), "2025-Q4");
        assert_eq!(prev("2026-W01"), "2025-W52");
        assert_eq!(prev("2026"), "2025");
        let r = PeriodKind::Range {
            from: d(2026, 1, 10),
            to: d(2026, 1, 20),
        };
        assert_eq!(r.previous().to_string(), "2025-12-31..2026-01-10");
        assert_eq!(previous_month(d(2026, 11, 24)).to_string(), "2026-10");
    }

    #[test]
    fn as_of_forms() {
        let tz = Europe::Amsterdam;
        assert_eq!(
            parse_as_of("2026-11-01", tz).unwrap(),
            local_midnight(d(2026, 11, 1), tz)
        );
        assert_eq!(
            parse_as_of("2026-11-01T00:00:00+01:00", tz).unwrap(),
            Utc.with_ymd_and_hms(2026, 10, 31, 23, 0, 0).unwrap()
        );
        assert_eq!(
            parse_as_of("2026-07-01 12:00", tz).unwrap(),
            Utc.with_ymd_and_hms(2026, 7, 1, 10, 0, 0).unwrap()
        );
        assert!(parse_as_of("yesterday", tz).is_err());
    }

    #[test]
    fn midnight_in_a_gap_moves_to_the_first_existing_minute() {
        // Santiago springs forward at local midnight: 2026-09-06 00:00 does not exist.
        let t = local_midnight(d(2026, 9, 6), America::Santiago);
        assert_eq!(
            format_instant(t, America::Santiago),
            "2026-09-06T01:00:00-03:00"
        );
    }
}
