//! Local wall-clock times to UTC instants: a time that occurs twice is its first occurrence, one
//! in a spring-forward gap is null, as Polars' `replace_time_zone` (ambiguous `earliest`,
//! non-existent null) then `convert_time_zone("UTC")` has them.
//!
//! Written here rather than left to Polars because Polars asks chrono-tz for each value, which
//! searches the zone's transitions every time (about 130 ns a value: a seventh of `kpis` on the
//! million-ticket export read in Europe/Amsterdam, docs/benchmarks.md). An offset is the same
//! for every time of a local hour that holds no transition, so it is asked once per hour; only
//! the hours a transition falls in are asked value by value. A test holds the result to Polars'
//! on generated times around the transitions of several zones.

use chrono::{DateTime, LocalResult, NaiveDateTime, Offset, TimeZone as _};
use chrono_tz::Tz;
use polars::prelude::*;

use super::timestamps::{PLAUSIBLE_FROM_MICROS, PLAUSIBLE_UNTIL_MICROS};

const HOUR_MICROS: i64 = 3_600_000_000;
/// An hour whose offset has not been asked yet.
const UNKNOWN: i32 = i32::MIN;
/// An hour that a transition falls in: each of its times is asked on its own.
const IN_TRANSITION: i32 = i32::MIN + 1;
/// The hours given a table of their own: the plausible years and a day either side. A
/// placeholder such as `1900-01-01` is asked on its own, rather than stretching the table over
/// the century between.
const TABLE_FROM_HOUR: i64 = PLAUSIBLE_FROM_MICROS / HOUR_MICROS - 24;
const TABLE_UNTIL_HOUR: i64 = PLAUSIBLE_UNTIL_MICROS / HOUR_MICROS + 24;

/// Naive local date-time (microseconds) → UTC instant.
pub fn to_utc(naive: Expr, tz: Tz) -> Expr {
    if tz == Tz::UTC {
        return naive.dt().replace_time_zone(
            Some(TimeZone::UTC),
            lit("earliest"),
            NonExistent::Null,
        );
    }
    naive.map(
        move |column| Ok(column_to_utc(column.datetime()?, tz)?.into_column()),
        |_, field| {
            let utc = DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC));
            Ok(Field::new(field.name().clone(), utc))
        },
    )
}

fn column_to_utc(naive: &DatetimeChunked, tz: Tz) -> PolarsResult<DatetimeChunked> {
    polars_ensure!(
        naive.time_unit() == TimeUnit::Microseconds,
        ComputeError: "local times are read in microseconds"
    );
    let local = naive.physical();
    let mut offsets = HourOffsets::new(tz, local.min(), local.max());
    let utc: Int64Chunked = local
        .iter()
        .map(|value| value.and_then(|v| offsets.utc_of(v)))
        .collect();
    Ok(utc
        .with_name(naive.name().clone())
        .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC)))
}

/// Each local hour's offset from UTC in seconds, asked of the zone on the hour's first use.
struct HourOffsets {
    tz: Tz,
    first_hour: i64,
    seconds: Vec<i32>,
}

impl HourOffsets {
    /// A table for the hours from `min` to `max` (local microseconds) that lie among the plausible
    /// years.
    fn new(tz: Tz, min: Option<i64>, max: Option<i64>) -> Self {
        let hour = |micros: i64| micros.div_euclid(HOUR_MICROS);
        let (first_hour, last_hour) = match (min, max) {
            (Some(min), Some(max)) => (
                hour(min).max(TABLE_FROM_HOUR),
                hour(max).min(TABLE_UNTIL_HOUR),
            ),
            _ => (0, -1),
        };
        let hours = usize::try_from(last_hour - first_hour + 1).unwrap_or(0);
        HourOffsets {
            tz,
            first_hour,
            seconds: vec![UNKNOWN; hours],
        }
    }

    fn utc_of(&mut self, local: i64) -> Option<i64> {
        let hour = local.div_euclid(HOUR_MICROS);
        let slot = usize::try_from(hour - self.first_hour)
            .ok()
            .and_then(|i| self.seconds.get_mut(i));
        if let Some(seconds) = slot {
            if *seconds == UNKNOWN {
                *seconds = hour_offset(hour, self.tz);
            }
            if *seconds != IN_TRANSITION {
                return Some(local - i64::from(*seconds) * 1_000_000);
            }
        }
        one_to_utc(local, self.tz)
    }
}

/// The offset of every time of the local hour, or [`IN_TRANSITION`] where its first and last
/// microsecond do not have one and the same offset (a gap or an overlap begins or ends in it).
fn hour_offset(hour: i64, tz: Tz) -> i32 {
    let (Some(first), Some(last)) = (
        naive(hour * HOUR_MICROS),
        naive((hour + 1) * HOUR_MICROS - 1),
    ) else {
        return IN_TRANSITION;
    };
    match (
        tz.offset_from_local_datetime(&first),
        tz.offset_from_local_datetime(&last),
    ) {
        (LocalResult::Single(a), LocalResult::Single(b)) if a.fix() == b.fix() => {
            a.fix().local_minus_utc()
        }
        _ => IN_TRANSITION,
    }
}

/// One local time asked of the zone: its first occurrence, or none in a gap.
fn one_to_utc(local: i64, tz: Tz) -> Option<i64> {
    match tz.from_local_datetime(&naive(local)?) {
        LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => Some(at.timestamp_micros()),
        LocalResult::None => None,
    }
}

fn naive(micros: i64) -> Option<NaiveDateTime> {
    DateTime::from_timestamp_micros(micros).map(|at| at.naive_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What Polars makes of the same local times.
    fn polars_utc(local: &[Option<i64>], tz: Tz) -> Vec<Option<i64>> {
        let naive = Int64Chunked::from_iter(local.iter().copied())
            .into_datetime(TimeUnit::Microseconds, None)
            .into_column();
        let frame = DataFrame::new(local.len(), vec![naive.with_name("t".into())]).unwrap();
        let out = frame
            .lazy()
            .select([col("t")
                .dt()
                .replace_time_zone(
                    Some(TimeZone::from_chrono(&tz)),
                    lit("earliest"),
                    NonExistent::Null,
                )
                .dt()
                .convert_time_zone(TimeZone::UTC)])
            .collect()
            .unwrap();
        let utc = out.column("t").unwrap().datetime().unwrap();
        utc.physical().iter().collect()
    }

    fn ours(local: &[Option<i64>], tz: Tz) -> Vec<Option<i64>> {
        let naive = Int64Chunked::from_iter(local.iter().copied())
            .into_datetime(TimeUnit::Microseconds, None);
        let utc = column_to_utc(&naive, tz).unwrap();
        assert_eq!(utc.time_zone(), &Some(TimeZone::UTC));
        utc.physical().iter().collect()
    }

    /// Local times every 7 minutes 13.000017 seconds over years with transitions (Sao Paulo's at
    /// midnight, Lord Howe's of half an hour, Chatham's at 2:45), in a shuffled order, with
    /// nulls, placeholders far outside the plausible years and a value on each side of them.
    fn generated_times() -> Vec<Option<i64>> {
        let start = 1_483_228_800_000_000i64; // 2017-01-01
        let until = 1_609_459_200_000_000i64; // 2021-01-01
        let step = (7 * 60 + 13) * 1_000_000 + 17;
        let mut times: Vec<Option<i64>> = (start..until).step_by(step as usize).map(Some).collect();
        let n = times.len();
        for i in 0..n {
            times.swap(i, (i * 7919 + 13) % n);
        }
        times.extend([
            None,
            Some(-2_208_988_800_000_000),  // 1900-01-01
            Some(0),                       // 1970-01-01
            Some(253_402_214_400_000_000), // 9999-12-31
            Some(TABLE_FROM_HOUR * HOUR_MICROS - 1),
            Some(TABLE_UNTIL_HOUR * HOUR_MICROS + 1),
        ]);
        times
    }

    #[test]
    fn local_times_reach_utc_as_polars_takes_them_there() {
        let times = generated_times();
        for (tz, has_gaps) in [
            (chrono_tz::Europe::Amsterdam, true),
            (chrono_tz::America::Sao_Paulo, true),
            (chrono_tz::America::New_York, true),
            (chrono_tz::America::St_Johns, true),
            (chrono_tz::Australia::Lord_Howe, true),
            (chrono_tz::Pacific::Chatham, true),
            (chrono_tz::Asia::Kolkata, false),
        ] {
            let want = polars_utc(&times, tz);
            let nulls = want.iter().filter(|v| v.is_none()).count();
            assert_eq!(nulls > 1, has_gaps, "{tz}: generated times in a gap");
            assert_eq!(ours(&times, tz), want, "{tz}");
        }
    }

    #[test]
    fn a_time_that_occurs_twice_is_its_first_occurrence_and_one_in_a_gap_is_none() {
        let at = |s: &str| {
            NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M")
                .unwrap()
                .and_utc()
                .timestamp_micros()
        };
        let amsterdam = chrono_tz::Europe::Amsterdam;
        let local = [
            Some(at("2026-10-25 02:30")),
            Some(at("2026-03-29 02:30")),
            Some(at("2026-07-01 12:00")),
        ];
        let want = vec![
            Some(at("2026-10-25 00:30")), // 02:30 CEST, before the clocks go back
            None,
            Some(at("2026-07-01 10:00")),
        ];
        assert_eq!(ours(&local, amsterdam), want);
    }
}
