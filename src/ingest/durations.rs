//! Duration columns (a help desk's own time to resolve, in seconds, hours, `h:mm` or words)
//! read as minutes, as Polars expressions.

use polars::prelude::*;

use super::profile::{DurationWords, Unit};

/// A duration column's text → minutes (null where it is not a number in its unit).
pub(super) fn minutes(text: Expr, unit: Unit, words: &DurationWords) -> Expr {
    let number = |e: Expr| e.cast(DataType::Float64);
    match unit {
        Unit::Words => worded_minutes(text, words),
        Unit::Seconds => number(text) / lit(60.0),
        Unit::Minutes => number(text),
        Unit::Hours => number(text) * lit(60.0),
        Unit::Clock => {
            // `h:mm` or `h:mm:ss`; a plain number is hours (some exports write decimals).
            let parts = text.clone().str().split(lit(":"));
            let part = |i: i64| {
                parts
                    .clone()
                    .list()
                    .get(lit(i), true)
                    .str()
                    .strip_chars(lit(NULL))
                    .cast(DataType::Float64)
            };
            let n = parts.clone().list().len();
            let seconds = when(n.clone().eq(lit(3u32)))
                .then(part(2))
                .otherwise(lit(0.0));
            let clock = part(0) * lit(60.0) + part(1) + seconds / lit(60.0);
            let sane = part(1).lt(lit(60.0));
            when(n.clone().eq(lit(1u32)))
                .then(number(text) * lit(60.0))
                .when(n.clone().gt_eq(lit(2u32)).and(n.lt_eq(lit(3u32))).and(sane))
                .then(clock)
                .otherwise(lit(NULL).cast(DataType::Float64))
        }
    }
}

/// `1 dias 5 horas 40 minutos`, `2 jours 3 heures`, `15 seconds` → minutes: each number is
/// followed by one of the profile's words for its unit, in any case; a text that is anything
/// else (a unit twice, a word the profile does not list) is no duration.
fn worded_minutes(text: Expr, words: &DurationWords) -> Expr {
    // longest first, so that `dias` is tried before `dia`
    let alternation = |words: &[String]| {
        let mut words = words.to_vec();
        words.sort_by_key(|w| std::cmp::Reverse(w.chars().count()));
        words.join("|")
    };
    let units = words.units();
    let every: Vec<String> = units.iter().map(|(w, _)| alternation(w)).collect();
    let each = format!("[0-9]+\\s*(?:{})", every.join("|"));
    let whole = format!("(?i)^\\s*{each}(?:\\s+{each})*\\s*$");
    let (mut total, mut once_each) = (lit(0.0), lit(true));
    for ((_, per), pattern) in units.iter().zip(&every) {
        let amount = lit(format!("(?i)([0-9]+)\\s*(?:{pattern})\\b"));
        let value = text.clone().str().extract(amount.clone(), 1);
        let count = text.clone().str().count_matches(amount, false);
        total = total + value.cast(DataType::Float64).fill_null(lit(0.0)) * lit(*per);
        once_each = once_each.and(count.lt_eq(lit(1u32)));
    }
    when(text.str().contains(lit(whole), true).and(once_each))
        .then(total)
        .otherwise(lit(NULL).cast(DataType::Float64))
}

/// How a message names a unit.
pub(super) fn unit_name(unit: Unit) -> &'static str {
    match unit {
        Unit::Words => "words (`1 day 2 hours 5 minutes`)",
        Unit::Seconds => "seconds",
        Unit::Minutes => "minutes",
        Unit::Hours => "hours",
        Unit::Clock => "hours (h:mm:ss)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(values: &[&str], unit: Unit, words: &DurationWords) -> Vec<Option<f64>> {
        let frame = df!("text" => values).unwrap();
        let read = frame
            .lazy()
            .select([minutes(col("text"), unit, words).alias("minutes")])
            .collect()
            .unwrap();
        read.column("minutes")
            .unwrap()
            .f64()
            .unwrap()
            .iter()
            .collect()
    }

    #[test]
    fn clock_durations_are_hours_minutes_and_seconds_or_decimal_hours() {
        let words = DurationWords::default();
        assert_eq!(
            read(
                &["1:30", "1:30:30", "2", "0:05", "1:75", "1:2:3:4", "soon"],
                Unit::Clock,
                &words
            ),
            [
                Some(90.0),
                Some(90.5),
                Some(120.0),
                Some(5.0),
                None,
                None,
                None
            ]
        );
    }

    #[test]
    fn worded_durations_take_each_unit_once_in_any_listed_word_and_case() {
        let words = DurationWords {
            days: vec!["dia".into(), "dias".into()],
            hours: vec!["hora".into(), "horas".into()],
            minutes: vec!["minutos".into()],
            seconds: vec!["segundos".into()],
        };
        assert_eq!(
            read(
                &[
                    "1 dias 5 horas 40 minutos",
                    "2 DIA",
                    "30 segundos",
                    "1 hora 2 horas",
                    "3 weeks",
                    ""
                ],
                Unit::Words,
                &words
            ),
            [
                Some(1440.0 + 300.0 + 40.0),
                Some(2880.0),
                Some(0.5),
                None,
                None,
                None
            ]
        );
    }

    #[test]
    fn plain_numbers_are_read_in_their_unit() {
        let words = DurationWords::default();
        assert_eq!(read(&["90", "x"], Unit::Seconds, &words), [Some(1.5), None]);
        assert_eq!(read(&["90"], Unit::Minutes, &words), [Some(90.0)]);
        assert_eq!(read(&["1.5"], Unit::Hours, &words), [Some(90.0)]);
    }
}
