//! Business calendars as the configuration describes them: weekly local opening hours in an
//! IANA zone, several ranges a day, ranges past midnight, and holidays that remove whole
//! local dates.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate, Weekday};
use chrono_tz::Tz;

/// The name of the built-in round-the-clock calendar.
pub const ALWAYS_OPEN: &str = "24x7";

/// Minutes in a local day.
pub const DAY_MINUTES: u32 = 24 * 60;

/// One opening range of a weekday, in local minutes after midnight. `end <= start` means the
/// range runs past midnight into the next day (`22:00-06:00`); `end` may be 1440 (`24:00`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct OpenRange {
    pub start: u32,
    pub end: u32,
}

impl OpenRange {
    /// Length in local wall-clock minutes (ignoring any DST change inside it).
    pub fn nominal_minutes(self) -> u32 {
        if self.end > self.start {
            self.end - self.start
        } else {
            DAY_MINUTES - self.start + self.end
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CalendarSpec {
    pub name: String,
    pub timezone: Tz,
    /// Opening ranges per weekday, Monday first, sorted by start.
    pub week: [Vec<OpenRange>; 7],
    pub holidays: BTreeSet<NaiveDate>,
}

impl CalendarSpec {
    /// The built-in calendar: open all the time, no holidays.
    pub fn always_open() -> Self {
        let full = vec![OpenRange {
            start: 0,
            end: DAY_MINUTES,
        }];
        CalendarSpec {
            name: ALWAYS_OPEN.to_string(),
            timezone: Tz::UTC,
            week: std::array::from_fn(|_| full.clone()),
            holidays: BTreeSet::new(),
        }
    }

    pub fn is_always_open(&self) -> bool {
        self.holidays.is_empty()
            && self
                .week
                .iter()
                .all(|day| day.len() == 1 && day[0].start == 0 && day[0].end == DAY_MINUTES)
    }

    /// The ranges that start on a local date (none on a holiday).
    pub fn ranges_on(&self, date: NaiveDate) -> &[OpenRange] {
        if self.holidays.contains(&date) {
            return &[];
        }
        &self.week[date.weekday().num_days_from_monday() as usize]
    }

    /// Nominal open minutes in a week, for the report's description of a calendar.
    pub fn weekly_open_minutes(&self) -> u32 {
        self.week
            .iter()
            .flatten()
            .map(|r| r.nominal_minutes())
            .sum()
    }
}

/// The configuration's names of the weekdays, Monday first (the order of [`CalendarSpec::week`]).
pub const WEEKDAYS: [(&str, Weekday); 7] = [
    ("mon", Weekday::Mon),
    ("tue", Weekday::Tue),
    ("wed", Weekday::Wed),
    ("thu", Weekday::Thu),
    ("fri", Weekday::Fri),
    ("sat", Weekday::Sat),
    ("sun", Weekday::Sun),
];

/// Builds a calendar from the configuration's `hours` table and `holidays` list.
pub fn parse_calendar(
    name: &str,
    timezone: Tz,
    hours: &BTreeMap<String, String>,
    holidays: &[String],
) -> Result<CalendarSpec, String> {
    let mut week: [Vec<OpenRange>; 7] = Default::default();
    for (day, text) in hours {
        let Some((_, weekday)) = WEEKDAYS.iter().find(|(n, _)| n.eq_ignore_ascii_case(day)) else {
            return Err(format!(
                "hours: unknown day `{day}` (expected mon, tue, wed, thu, fri, sat, sun)"
            ));
        };
        let ranges = parse_day_ranges(text).map_err(|e| format!("hours.{day}: {e}"))?;
        week[weekday.num_days_from_monday() as usize] = ranges;
    }
    if week.iter().all(Vec::is_empty) {
        return Err(
            "hours: the calendar is never open (give at least one day, e.g. mon = \"08:00-17:00\")"
                .into(),
        );
    }
    let mut days = BTreeSet::new();
    for h in holidays {
        let (first, last) = parse_date_range(h).map_err(|e| format!("holidays: {e}"))?;
        let mut d = first;
        while d <= last {
            days.insert(d);
            d = d
                .succ_opt()
                .ok_or_else(|| format!("holidays: `{h}` runs past the end of time"))?;
        }
    }
    Ok(CalendarSpec {
        name: name.to_string(),
        timezone,
        week,
        holidays: days,
    })
}

/// `"08:00-12:00,13:00-17:00"` → sorted, non-overlapping ranges.
fn parse_day_ranges(text: &str) -> Result<Vec<OpenRange>, String> {
    let mut ranges = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (a, b) = part
            .split_once('-')
            .ok_or_else(|| format!("`{part}` is not a range (write `08:00-17:00`)"))?;
        let start =
            parse_clock(a.trim()).ok_or_else(|| format!("`{a}` is not a time of day (HH:MM)"))?;
        let end =
            parse_clock(b.trim()).ok_or_else(|| format!("`{b}` is not a time of day (HH:MM)"))?;
        if start == DAY_MINUTES {
            return Err(format!("`{part}`: a range cannot start at 24:00"));
        }
        if start == end {
            return Err(format!("`{part}` is empty"));
        }
        ranges.push(OpenRange { start, end });
    }
    ranges.sort();
    // Ranges that run past midnight occupy [start, 1440) today; the rest [start, end).
    let span = |r: &OpenRange| (r.start, if r.end > r.start { r.end } else { DAY_MINUTES });
    for pair in ranges.windows(2) {
        let (_, a_end) = span(&pair[0]);
        let (b_start, _) = span(&pair[1]);
        if b_start < a_end {
            return Err(format!("`{text}`: ranges overlap"));
        }
    }
    if ranges.iter().filter(|r| r.end <= r.start).count() > 1 {
        return Err(format!(
            "`{text}`: only the last range of a day may run past midnight"
        ));
    }
    Ok(ranges)
}

fn parse_clock(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let h: u32 = h.parse().ok()?;
    let m: u32 = m.parse().ok()?;
    if m >= 60 || h > 24 || (h == 24 && m != 0) {
        return None;
    }
    Some(h * 60 + m)
}

/// `2026-12-25` or `2026-12-24..2026-12-31` (inclusive).
fn parse_date_range(s: &str) -> Result<(NaiveDate, NaiveDate), String> {
    let date = |t: &str| {
        NaiveDate::parse_from_str(t.trim(), "%Y-%m-%d").map_err(|_| {
            format!("`{t}` is not a date (YYYY-MM-DD, or a range YYYY-MM-DD..YYYY-MM-DD)")
        })
    };
    match s.split_once("..") {
        Some((a, b)) => {
            let (first, last) = (date(a)?, date(b)?);
            if last < first {
                return Err(format!("`{s}` ends before it starts"));
            }
            Ok((first, last))
        }
        None => {
            let d = date(s)?;
            Ok((d, d))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hours(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parses_several_ranges_and_holiday_ranges() {
        let cal = parse_calendar(
            "office",
            chrono_tz::Europe::Amsterdam,
            &hours(&[("mon", "13:00-17:00, 08:00-12:00"), ("fri", "22:00-06:00")]),
            &[
                "2026-12-24..2026-12-26".to_string(),
                "2027-01-01".to_string(),
            ],
        )
        .unwrap();
        assert_eq!(
            cal.week[0],
            vec![
                OpenRange {
                    start: 480,
                    end: 720
                },
                OpenRange {
                    start: 780,
                    end: 1020
                }
            ]
        );
        assert_eq!(cal.week[4][0].nominal_minutes(), 8 * 60);
        assert_eq!(cal.holidays.len(), 4);
        let christmas = NaiveDate::from_ymd_opt(2026, 12, 25).unwrap();
        assert!(cal.ranges_on(christmas).is_empty());
        assert_eq!(cal.weekly_open_minutes(), 16 * 60);
    }

    #[test]
    fn rejects_bad_hours() {
        let tz = chrono_tz::UTC;
        for bad in [
            "8-17",
            "08:00-08:00",
            "08:00-12:00,11:00-13:00",
            "25:00-26:00",
            "08:00",
        ] {
            assert!(
                parse_calendar("c", tz, &hours(&[("mon", bad)]), &[]).is_err(),
                "{bad}"
            );
        }
        assert!(parse_calendar("c", tz, &hours(&[("monday", "08:00-17:00")]), &[]).is_err());
        assert!(
            parse_calendar(
                "c",
                tz,
                &hours(&[("mon", "08:00-17:00")]),
                &["2026-13-01".into()]
            )
            .is_err()
        );
    }

    #[test]
    fn always_open_is_recognised() {
        assert!(CalendarSpec::always_open().is_always_open());
        let full_day = parse_calendar(
            "c",
            chrono_tz::UTC,
            &hours(&[
                ("mon", "00:00-24:00"),
                ("tue", "00:00-24:00"),
                ("wed", "00:00-24:00"),
                ("thu", "00:00-24:00"),
                ("fri", "00:00-24:00"),
                ("sat", "00:00-24:00"),
                ("sun", "00:00-24:00"),
            ]),
            &[],
        )
        .unwrap();
        assert!(full_day.is_always_open());
    }
}
