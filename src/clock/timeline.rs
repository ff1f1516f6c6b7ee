//! A calendar's open time laid out on the UTC timeline for a span of instants, with running
//! totals, so that business time between two instants, business time net of pauses, and the
//! instant at which N business minutes have elapsed are binary searches, not walks.
//!
//! Instants are microseconds since the Unix epoch (UTC).

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};
use chrono_tz::Tz;

use super::calendar::{CalendarSpec, DAY_MINUTES};
use crate::period::local_date;

/// Microseconds in a minute.
pub const MINUTE: i64 = 60_000_000;

/// Half-open interval `[start, end)` in microseconds.
pub type Interval = (i64, i64);

/// Open intervals of one calendar over a span, sorted and disjoint, with the open time before
/// each interval's start.
#[derive(Debug, Clone)]
pub struct Timeline {
    always_open: bool,
    starts: Vec<i64>,
    ends: Vec<i64>,
    /// `before[i]` = open microseconds in intervals `0..i`.
    before: Vec<i64>,
    /// The span the timeline covers; queries outside it are clamped by `open_until`.
    span: Interval,
}

impl Timeline {
    /// Lays out the calendar's open intervals that touch `[from, to)`.
    pub fn new(calendar: &CalendarSpec, from: i64, to: i64) -> Timeline {
        if calendar.is_always_open() {
            return Timeline {
                always_open: true,
                starts: Vec::new(),
                ends: Vec::new(),
                before: Vec::new(),
                span: (from, to),
            };
        }
        let tz = calendar.timezone;
        let first = local_date(to_utc(from), tz) - Duration::days(1);
        let last = local_date(to_utc(to), tz) + Duration::days(1);
        let mut intervals: Vec<Interval> = Vec::new();
        let mut day = first;
        while day <= last {
            for r in calendar.ranges_on(day) {
                let start = local_bound(day, r.start, tz);
                let end_day = if r.end > r.start {
                    day
                } else {
                    day + Duration::days(1)
                };
                let end = local_bound(end_day, r.end, tz);
                if end > start {
                    intervals.push((start, end));
                }
            }
            day += Duration::days(1);
        }
        intervals.sort_unstable();
        // Ranges of adjacent days can touch (a night shift into a morning one): merge them.
        let mut merged: Vec<Interval> = Vec::with_capacity(intervals.len());
        for (s, e) in intervals {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        let mut before = Vec::with_capacity(merged.len());
        let mut total = 0i64;
        for (s, e) in &merged {
            before.push(total);
            total += e - s;
        }
        Timeline {
            always_open: false,
            starts: merged.iter().map(|i| i.0).collect(),
            ends: merged.iter().map(|i| i.1).collect(),
            before,
            span: (from, to),
        }
    }

    /// Open microseconds from the timeline's origin up to `t` (a running total).
    pub fn open_until(&self, t: i64) -> i64 {
        if self.always_open {
            return t - self.span.0;
        }
        // Intervals that start at or before t.
        let i = self.starts.partition_point(|&s| s <= t);
        if i == 0 {
            return 0;
        }
        let k = i - 1;
        self.before[k] + (t.min(self.ends[k]) - self.starts[k])
    }

    /// Open microseconds in `[a, b)`.
    pub fn open_between(&self, a: i64, b: i64) -> i64 {
        if b <= a {
            return 0;
        }
        self.open_until(b) - self.open_until(a)
    }

    /// The first instant at which the running total reaches `total`. `None` when the timeline
    /// ends first.
    pub fn instant_at(&self, total: i64) -> Option<i64> {
        if self.always_open {
            return Some(self.span.0 + total);
        }
        // Last interval whose start total is below `total` (or at it, for total == 0).
        let i = self.before.partition_point(|&b| b < total);
        if i == 0 {
            return self.starts.first().copied();
        }
        let k = i - 1;
        let t = self.starts[k] + (total - self.before[k]);
        (t <= self.ends[k]).then_some(t)
    }

    /// Open time in `[a, b)` net of pause intervals (sorted, disjoint).
    pub fn open_between_net(&self, a: i64, b: i64, pauses: &[Interval]) -> i64 {
        let mut total = self.open_between(a, b);
        for &(ps, pe) in pauses {
            let s = ps.max(a);
            let e = pe.min(b);
            if e > s {
                total -= self.open_between(s, e);
            }
        }
        total
    }

    /// The first instant at which `target` microseconds of open time, net of pauses (sorted,
    /// disjoint), have elapsed since `start`.
    pub fn deadline(&self, start: i64, target: i64, pauses: &[Interval]) -> Option<i64> {
        let mut t = start;
        let mut remaining = target;
        for &(ps, pe) in pauses {
            if pe <= t {
                continue;
            }
            if ps > t {
                let available = self.open_between(t, ps);
                if available >= remaining {
                    return self.instant_at(self.open_until(t) + remaining);
                }
                remaining -= available;
            }
            t = t.max(pe);
        }
        self.instant_at(self.open_until(t) + remaining)
    }
}

fn to_utc(t: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_micros(t).unwrap_or_default()
}

/// A local opening bound as a UTC instant: a time that occurs twice is its first occurrence; one
/// in a spring-forward gap moves forward by the gap (02:30 reads as 03:30).
fn local_bound(day: NaiveDate, minute: u32, tz: Tz) -> i64 {
    let local: NaiveDateTime = if minute >= DAY_MINUTES {
        (day + Duration::days(1)).and_time(NaiveTime::MIN)
    } else {
        day.and_time(
            NaiveTime::from_hms_opt(minute / 60, minute % 60, 0).expect("valid minute of day"),
        )
    };
    use chrono::{LocalResult, Offset, TimeZone};
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.timestamp_micros(),
        LocalResult::Ambiguous(first, _) => first.timestamp_micros(),
        LocalResult::None => {
            // Read the wall time with the offset in force just before the gap: that lands the
            // instant as far past the gap's start as the bound is, i.e. moved forward by the gap.
            let before = local - Duration::hours(3);
            let offset = tz
                .offset_from_local_datetime(&before)
                .earliest()
                .map(|o| o.fix());
            match offset {
                Some(o) => (local - Duration::seconds(o.local_minus_utc() as i64))
                    .and_utc()
                    .timestamp_micros(),
                None => local.and_utc().timestamp_micros(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::calendar::parse_calendar;
    use chrono::TimeZone;
    use std::collections::BTreeMap;

    fn at(tz: Tz, y: i32, m: u32, d: u32, h: u32, min: u32) -> i64 {
        tz.with_ymd_and_hms(y, m, d, h, min, 0)
            .earliest()
            .unwrap()
            .timestamp_micros()
    }

    fn office(tz: Tz, holidays: &[&str]) -> CalendarSpec {
        let hours: BTreeMap<String, String> = ["mon", "tue", "wed", "thu", "fri"]
            .iter()
            .map(|d| (d.to_string(), "08:00-18:00".to_string()))
            .collect();
        parse_calendar(
            "office",
            tz,
            &hours,
            &holidays.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        )
        .unwrap()
    }

    fn hours(us: i64) -> f64 {
        us as f64 / 3.6e9
    }

    #[test]
    fn a_ticket_spanning_a_weekend() {
        let tz = chrono_tz::Europe::Amsterdam;
        let cal = office(tz, &[]);
        // Friday 2026-10-02 16:00 to Monday 2026-10-05 10:00: 2 h Friday + 2 h Monday.
        let (a, b) = (at(tz, 2026, 10, 2, 16, 0), at(tz, 2026, 10, 5, 10, 0));
        let tl = Timeline::new(&cal, a, b);
        assert_eq!(hours(tl.open_between(a, b)), 4.0);
    }

    #[test]
    fn a_holiday_removes_the_whole_day() {
        let tz = chrono_tz::Europe::Amsterdam;
        let cal = office(tz, &["2026-12-25"]);
        // Thursday 24 Dec 17:00 to Monday 28 Dec 09:00: 1 h + (Fri holiday) + 1 h.
        let (a, b) = (at(tz, 2026, 12, 24, 17, 0), at(tz, 2026, 12, 28, 9, 0));
        let tl = Timeline::new(&cal, a, b);
        assert_eq!(hours(tl.open_between(a, b)), 2.0);
    }

    #[test]
    fn created_outside_hours_starts_at_the_next_open_minute() {
        let tz = chrono_tz::America::New_York;
        let cal = office(tz, &[]);
        // Saturday 2026-10-03 11:00; the clock starts Monday 08:00; 2 h later is 10:00.
        let a = at(tz, 2026, 10, 3, 11, 0);
        let tl = Timeline::new(&cal, a, a + 7 * 24 * 60 * MINUTE);
        assert_eq!(
            tl.deadline(a, 120 * MINUTE, &[]),
            Some(at(tz, 2026, 10, 5, 10, 0))
        );
    }

    #[test]
    fn spring_forward_and_fall_back_nights_on_a_night_calendar() {
        for tz in [chrono_tz::Europe::Amsterdam, chrono_tz::America::New_York] {
            let hours_map: BTreeMap<String, String> =
                ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
                    .iter()
                    .map(|d| (d.to_string(), "00:00-06:00".to_string()))
                    .collect();
            let cal = parse_calendar("night", tz, &hours_map, &[]).unwrap();
            let (spring, fall) = if tz == chrono_tz::Europe::Amsterdam {
                ((2026, 3, 29), (2026, 10, 25))
            } else {
                ((2026, 3, 8), (2026, 11, 1))
            };
            // From local midnight to the next local midnight: a 23-hour and a 25-hour day.
            let s0 = at(tz, spring.0, spring.1, spring.2, 0, 0);
            let s1 = at(tz, spring.0, spring.1, spring.2 + 1, 0, 0);
            assert_eq!(hours(s1 - s0), 23.0);
            let tl = Timeline::new(&cal, s0 - 86_400_000_000, s1 + 86_400_000_000);
            assert_eq!(hours(tl.open_between(s0, s1)), 5.0, "{tz} spring");
            let f0 = at(tz, fall.0, fall.1, fall.2, 0, 0);
            let f1 = at(tz, fall.0, fall.1, fall.2 + 1, 0, 0);
            assert_eq!(hours(f1 - f0), 25.0);
            let tl = Timeline::new(&cal, f0 - 86_400_000_000, f1 + 86_400_000_000);
            assert_eq!(hours(tl.open_between(f0, f1)), 7.0, "{tz} fall");
        }
    }

    #[test]
    fn a_bound_in_the_gap_moves_forward_by_the_gap() {
        let tz = chrono_tz::Europe::Amsterdam;
        // 2026-03-29 02:00 -> 03:00. A day opening at 02:30 opens at 03:30 local.
        let mut hours_map = BTreeMap::new();
        hours_map.insert("sun".to_string(), "02:30-05:00".to_string());
        let cal = parse_calendar("c", tz, &hours_map, &[]).unwrap();
        let day = at(tz, 2026, 3, 29, 0, 0);
        let tl = Timeline::new(&cal, day, day + 86_400_000_000);
        assert_eq!(hours(tl.open_between(day, day + 86_400_000_000)), 1.5);
        assert_eq!(
            tl.deadline(day, MINUTE, &[]),
            Some(at(tz, 2026, 3, 29, 3, 31))
        );
    }

    #[test]
    fn pauses_across_a_night_are_not_counted() {
        let tz = chrono_tz::Europe::Amsterdam;
        let cal = office(tz, &[]);
        // Created Tue 09:00, waiting on the customer Tue 17:00 to Wed 10:00, resolved Wed 12:00.
        let a = at(tz, 2026, 10, 6, 9, 0);
        let b = at(tz, 2026, 10, 7, 12, 0);
        let pause = (at(tz, 2026, 10, 6, 17, 0), at(tz, 2026, 10, 7, 10, 0));
        let tl = Timeline::new(&cal, a, b);
        assert_eq!(hours(tl.open_between(a, b)), 13.0);
        assert_eq!(hours(tl.open_between_net(a, b, &[pause])), 10.0);
        // 10 h of open time, net of the pause, run out at Wed 12:00.
        assert_eq!(tl.deadline(a, 600 * MINUTE, &[pause]), Some(b));
    }

    #[test]
    fn two_days_on_an_office_calendar_are_48_open_hours() {
        let tz = chrono_tz::Europe::Amsterdam;
        let cal = office(tz, &[]);
        // Monday 2026-10-05 08:00 + 48 open hours (10 h a day) = Friday 16:00.
        let a = at(tz, 2026, 10, 5, 8, 0);
        let tl = Timeline::new(&cal, a, a + 14 * 86_400_000_000);
        assert_eq!(
            tl.deadline(a, 48 * 60 * MINUTE, &[]),
            Some(at(tz, 2026, 10, 9, 16, 0))
        );
    }

    #[test]
    fn the_target_running_out_at_closing_time_is_closing_time() {
        let tz = chrono_tz::Europe::Amsterdam;
        let cal = office(tz, &[]);
        let a = at(tz, 2026, 10, 5, 14, 0);
        let tl = Timeline::new(&cal, a, a + 7 * 86_400_000_000);
        assert_eq!(
            tl.deadline(a, 240 * MINUTE, &[]),
            Some(at(tz, 2026, 10, 5, 18, 0))
        );
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use crate::clock::calendar::parse_calendar;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    const ZONES: [Tz; 4] = [
        chrono_tz::Europe::Amsterdam,
        chrono_tz::America::New_York,
        chrono_tz::Australia::Sydney,
        chrono_tz::UTC,
    ];
    /// 2026-01-01T00:00:00Z and a year after it: both DST changes of every zone above.
    const T0: i64 = 1_767_225_600_000_000;
    const YEAR: i64 = 365 * 86_400_000_000;

    fn calendar() -> impl Strategy<Value = CalendarSpec> {
        let day = prop_oneof![
            Just(String::new()),
            Just("08:00-18:00".to_string()),
            Just("09:00-12:00,13:00-17:30".to_string()),
            Just("22:00-06:00".to_string()),
            Just("00:00-24:00".to_string()),
            Just("01:30-03:30".to_string()),
        ];
        (
            0usize..ZONES.len(),
            proptest::collection::vec(day, 7),
            proptest::collection::vec(0i64..365, 0..4),
        )
            .prop_map(|(z, days, holidays)| {
                let names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
                let mut hours: BTreeMap<String, String> = BTreeMap::new();
                for (n, d) in names.iter().zip(days) {
                    if !d.is_empty() {
                        hours.insert(n.to_string(), d);
                    }
                }
                if hours.is_empty() {
                    hours.insert("wed".to_string(), "08:00-18:00".to_string());
                }
                let hol: Vec<String> = holidays
                    .iter()
                    .map(|d| {
                        (chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + Duration::days(*d))
                            .to_string()
                    })
                    .collect();
                parse_calendar("p", ZONES[z], &hours, &hol).unwrap()
            })
    }

    fn instants() -> impl Strategy<Value = (i64, i64, i64)> {
        (0..YEAR, 0..YEAR, 0..YEAR).prop_map(|(a, b, c)| {
            let mut v = [T0 + a / 60_000_000 * 60_000_000, T0 + b, T0 + c];
            v.sort();
            (v[0], v[1], v[2])
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn splitting_an_interval_adds_up(cal in calendar(), (a, b, c) in instants()) {
            let tl = Timeline::new(&cal, T0, T0 + YEAR);
            prop_assert_eq!(tl.open_between(a, c), tl.open_between(a, b) + tl.open_between(b, c));
        }

        #[test]
        fn business_time_never_exceeds_calendar_time(cal in calendar(), (a, _, c) in instants()) {
            let tl = Timeline::new(&cal, T0, T0 + YEAR);
            let open = tl.open_between(a, c);
            prop_assert!(open >= 0 && open <= c - a, "{} of {}", open, c - a);
        }

        #[test]
        fn always_open_without_pauses_is_calendar_time((a, _, c) in instants()) {
            let tl = Timeline::new(&CalendarSpec::always_open(), T0, T0 + YEAR);
            prop_assert_eq!(tl.open_between(a, c), c - a);
            prop_assert_eq!(tl.open_between_net(a, c, &[]), c - a);
        }

        #[test]
        fn deadline_and_business_time_agree(
            cal in calendar(),
            (a, p1, p2) in instants(),
            minutes in 1i64..20_000,
            paused in any::<bool>(),
        ) {
            let tl = Timeline::new(&cal, T0, T0 + 3 * YEAR);
            let pauses: Vec<Interval> = if paused && p2 > p1 { vec![(p1, p2)] } else { vec![] };
            let target = minutes * MINUTE;
            if let Some(d) = tl.deadline(a, target, &pauses) {
                prop_assert!(d >= a);
                prop_assert_eq!(tl.open_between_net(a, d, &pauses), target);
                // and not a microsecond earlier
                prop_assert!(tl.open_between_net(a, d - 1, &pauses) < target);
            }
        }
    }
}
