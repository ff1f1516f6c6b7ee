//! Choosing the one timestamp format a file is written in, and the Polars expressions that read
//! local wall-clock text into UTC instants.

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::NaiveDateTime;
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

/// Which comes first in a date written with numbers only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    DayFirst,
    MonthFirst,
}

/// The order a format reads, when it starts with a numeric day or month (`%d/%m/%Y`,
/// `%m-%d-%Y`); `%Y-%m-%d` reads no ambiguous text and has none.
fn order_of(format: &str) -> Option<Order> {
    let start = format
        .strip_prefix("%-")
        .or_else(|| format.strip_prefix('%'))?;
    match start.chars().next()? {
        'd' | 'e' if format.contains("%m") || format.contains("%-m") => Some(Order::DayFirst),
        'm' if format.contains("%d") || format.contains("%-d") || format.contains("%e") => {
            Some(Order::MonthFirst)
        }
        _ => None,
    }
}

/// The two numbers a date written day or month first starts with (`8/12/2026` → 8, 12).
fn leading_pair(value: &str) -> Option<(u32, u32)> {
    let mut parts = value.trim_start().splitn(3, ['/', '-', '.']);
    let mut number = || -> Option<u32> {
        let part = parts.next()?;
        (1..=2).contains(&part.len()).then(|| part.parse().ok())?
    };
    let pair = (number()?, number()?);
    parts.next()?;
    Some(pair)
}

/// The order a value shows: `29/10/2026` can only be day first, `10/29/2026` only month first;
/// `8/12/2026` shows neither.
fn order_shown((first, second): (u32, u32)) -> Option<Order> {
    match (first, second) {
        (13..=31, 1..=12) => Some(Order::DayFirst),
        (1..=12, 13..=31) => Some(Order::MonthFirst),
        _ => None,
    }
}

/// The profile's formats, less those of the order that the file's dates disprove. Where a
/// file's dates could be read either way (`8/12/2026`), the order is decided on every value of
/// the columns, not on the first ones: a single `10/29/2026` makes the file month-first, so
/// that `8/12/2026` is 12 August in it, never 8 December. With no such value anywhere, the
/// profile's order stands, and the note returned tells the user to pin `timestamp_format`.
pub fn formats_in_shown_order(
    frame: &DataFrame,
    columns: &[String],
    formats: &[String],
    shown: &str,
) -> PolarsResult<(Vec<String>, Option<String>)> {
    let orders: Vec<Option<Order>> = formats.iter().map(|f| order_of(f)).collect();
    let has = |o: Order| orders.contains(&Some(o));
    let mut values = Vec::new();
    for c in columns {
        values.push(frame.column(c)?.str()?.clone());
    }
    // Only files whose first dates are written day or month first are read in full for it.
    let written_so = values.iter().any(|v| {
        v.iter()
            .flatten()
            .take(SAMPLE)
            .any(|t| leading_pair(t).is_some())
    });
    if !(has(Order::DayFirst) && has(Order::MonthFirst) && written_so) {
        return Ok((formats.to_vec(), None));
    }
    let (mut day_first, mut month_first, mut either_way) = (0usize, 0usize, None);
    for value in values.iter().flat_map(|v| v.iter().flatten()) {
        let Some(pair) = leading_pair(value) else {
            continue;
        };
        match order_shown(pair) {
            Some(Order::DayFirst) => day_first += 1,
            Some(Order::MonthFirst) => month_first += 1,
            None => either_way = either_way.or(Some(value)),
        }
    }
    let disproved = match (day_first, month_first) {
        (0, 0) => {
            let first = orders.iter().position(Option::is_some).unwrap_or(0);
            let note = either_way.map(|value| {
                format!(
                    "{shown}: no date tells whether the day or the month comes first (`{value}` \
                     reads either way); read as `{}`, the profile's first. Set the source's \
                     `timestamp_format` to be sure",
                    formats[first]
                )
            });
            return Ok((formats.to_vec(), note));
        }
        (_, 0) => Order::MonthFirst,
        (0, _) => Order::DayFirst,
        // both shown: the file mixes them, and the values of the other order are reported
        _ => return Ok((formats.to_vec(), None)),
    };
    let shown_order = formats
        .iter()
        .zip(&orders)
        .filter(|(_, o)| **o != Some(disproved))
        .map(|(f, _)| f.clone())
        .collect();
    Ok((shown_order, None))
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

/// The words an export writes in its dates in the exporting user's language (`jul`, `août`,
/// `Okt`, `a. m.`), each with the English word the timestamp formats read (`%b`, `%p`).
#[derive(Debug, Clone, Default)]
pub struct DateWords {
    /// Lower-cased written word → English word, longest first so that `sept` wins over `sep`.
    words: Vec<(String, String)>,
}

/// What a date word may stand for: what chrono's `%b` and `%p` read.
pub const ENGLISH_DATE_WORDS: &[&str] = &[
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "AM", "PM",
];

impl DateWords {
    pub fn new(words: &BTreeMap<String, String>) -> DateWords {
        let mut words: Vec<(String, String)> = words
            .iter()
            .map(|(written, english)| (written.trim().to_lowercase(), english.clone()))
            .collect();
        words.sort_by_key(|(written, _)| std::cmp::Reverse(written.len()));
        DateWords { words }
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// `18/jul/26 9:10 a. m.` → `18/Jul/26 9:10 AM`. A word is matched whole, in any case, and
    /// the dot of an abbreviation after it (`janv.`) goes with it; text with none of the words
    /// is returned as it is.
    pub fn to_english<'a>(&self, value: &'a str) -> Cow<'a, str> {
        let lower = value.to_lowercase();
        let mut out = String::with_capacity(lower.len());
        let mut rest = lower.as_str();
        let mut replaced = false;
        let mut after_letter = false;
        while let Some(c) = rest.chars().next() {
            let found = (!after_letter).then(|| self.word_at(rest)).flatten();
            if let Some((len, english)) = found {
                out.push_str(english);
                rest = &rest[len..];
                replaced = true;
                after_letter = true;
                continue;
            }
            out.push(c);
            rest = &rest[c.len_utf8()..];
            after_letter = c.is_alphabetic();
        }
        if replaced {
            Cow::Owned(out)
        } else {
            Cow::Borrowed(value)
        }
    }

    /// The longest word `text` starts with, ending where the letters do: its length (with a
    /// following dot) and its English word.
    fn word_at(&self, text: &str) -> Option<(usize, &str)> {
        self.words.iter().find_map(|(written, english)| {
            let after = text.strip_prefix(written.as_str())?;
            if after.chars().next().is_some_and(char::is_alphabetic) {
                return None;
            }
            let dot = usize::from(!written.ends_with('.') && after.starts_with('.'));
            Some((written.len() + dot, english.as_str()))
        })
    }

    /// A text column with each value's words in English. Value by value in Rust: Polars'
    /// replacements match substrings, not whole words (`mar` inside `mars`), and only a Jira
    /// export in another language comes here.
    pub fn column_to_english(&self, column: &Column) -> PolarsResult<Column> {
        let english: StringChunked = column
            .str()?
            .iter()
            .map(|v| v.map(|v| self.to_english(v)))
            .collect();
        Ok(english.with_name(column.name().clone()).into_column())
    }
}

/// Text → naive local date-time in the first of `formats` that reads it.
pub fn naive_any(text: Expr, formats: &[String]) -> Expr {
    let mut parsed = formats.iter().map(|f| naive(text.clone(), f));
    let first = parsed.next().expect("at least one format");
    parsed.fold(first, |acc, next| acc.fill_null(next))
}

pub(crate) fn parses(value: &str, format: &str) -> bool {
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
    let format = format.to_string();
    text.map(
        move |text| Ok(read_naive(text.str()?, &format)?.into_column()),
        |_, field| {
            let naive = DataType::Datetime(TimeUnit::Microseconds, None);
            Ok(Field::new(field.name().clone(), naive))
        },
    )
}

/// A column of text read in `format` by Polars' own parser where it reads every value itself,
/// else by chrono with the format parsed once. Both read a value as chrono's `parse_from_str`
/// does: Polars' parser reads only `%d`, `%m`, `%H`... of exactly two digits and hands any other
/// value to `parse_from_str`, which parses the format again for each value (polars-time 0.55,
/// `strptime.rs`): a sixth of the CPU of a run over an export written `29/2/2016 04:57`.
fn read_naive(text: &StringChunked, format: &str) -> PolarsResult<DatetimeChunked> {
    let items = match chrono::format::StrftimeItems::new(format).parse_to_owned() {
        Ok(items)
            if crate::config::names_whole_times(&items)
                && !polars_reads_every_value(text, format) =>
        {
            items
        }
        _ => return polars_naive(text, format),
    };
    let micros: Int64Chunked = text
        .iter()
        .map(|value| chrono_naive(value?, &items).map(datetime_to_timestamp_us))
        .collect();
    Ok(micros
        .with_name(text.name().clone())
        .into_datetime(TimeUnit::Microseconds, None))
}

/// A column of text read in `format` by Polars alone, as its `str.to_datetime` reads it (exact,
/// not strict, no cache).
fn polars_naive(text: &StringChunked, format: &str) -> PolarsResult<DatetimeChunked> {
    let raise = StringChunked::from_slice(PlSmallStr::EMPTY, &["raise"]);
    text.as_datetime(
        Some(format),
        TimeUnit::Microseconds,
        false,
        false,
        None,
        &raise,
    )
}

/// What `NaiveDateTime::parse_from_str` reads, or a date alone at midnight (as Polars reads a
/// format without a time), from the format's items.
fn chrono_naive(value: &str, items: &[chrono::format::Item<'static>]) -> Option<NaiveDateTime> {
    use chrono::format::{ParseErrorKind, Parsed};
    let mut parsed = Parsed::new();
    chrono::format::parse(&mut parsed, value, items.iter()).ok()?;
    match parsed.to_naive_datetime_with_offset(0) {
        Ok(read) => Some(read),
        Err(e) if e.kind() == ParseErrorKind::NotEnough => {
            parsed.to_naive_date().ok()?.and_hms_opt(0, 0, 0)
        }
        Err(_) => None,
    }
}

/// Whether every value is as long as Polars' own parser reads in `format`: it reads only
/// formats of fixed-width fields, each value of their exact width.
fn polars_reads_every_value(text: &StringChunked, format: &str) -> bool {
    match fixed_width(format) {
        Some(width) => text.str_len_bytes().equal(width as u32).all(),
        None => false,
    }
}

/// The length of every value `format` reads with Polars' own parser, which reads `%Y` as four
/// digits, `%b` as three letters and `%d`, `%m`, `%y`, `%H`, `%M`, `%S` as two digits; `None` for a
/// format with any other field.
fn fixed_width(format: &str) -> Option<usize> {
    let mut width = 0;
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        width += match c {
            '%' => match chars.next()? {
                'Y' => 4,
                'b' => 3,
                'd' | 'm' | 'y' | 'H' | 'M' | 'S' => 2,
                _ => return None,
            },
            literal => literal.len_utf8(),
        };
    }
    Some(width)
}

/// The earliest instant deskpulse believes: anything before it is a placeholder such as
/// 1900-01-01 or 1970-01-01, not a real ticket event.
pub const PLAUSIBLE_FROM_MICROS: i64 = 315_532_800_000_000; // 1980-01-01T00:00:00Z

/// The first instant deskpulse does not believe: a date in 2100 or later is a typo or a
/// placeholder (`9999-12-31`), and would move the default period to its month.
pub const PLAUSIBLE_UNTIL_MICROS: i64 = 4_102_444_800_000_000; // 2100-01-01T00:00:00Z

pub fn plausible_until() -> Expr {
    lit(PLAUSIBLE_UNTIL_MICROS).cast(DataType::Datetime(
        TimeUnit::Microseconds,
        Some(TimeZone::UTC),
    ))
}

pub fn plausible_from() -> Expr {
    lit(PLAUSIBLE_FROM_MICROS).cast(DataType::Datetime(
        TimeUnit::Microseconds,
        Some(TimeZone::UTC),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Generated values in several shapes, some with a field of one digit, some no date.
    fn written_dates() -> Vec<String> {
        let mut values = Vec::new();
        for (day, month, hour) in [(29, 2, 4), (1, 12, 23), (9, 3, 0), (31, 4, 9), (15, 10, 14)] {
            values.push(format!("{day}/{month}/2016 {hour}:57"));
            values.push(format!("{day:02}/{month:02}/2016 {hour:02}:57"));
            values.push(format!("{day:02}/{month:02}/2016"));
            values.push(format!("2016-{month:02}-{day:02} {hour:02}:07:05.25"));
            values.push(format!(
                "{day}/Feb/16 {}:05 {}",
                hour % 12 + 1,
                ["AM", "PM"][hour / 12]
            ));
        }
        values.extend(["", "31/02/2016 10:00", "not a date", "29/2/2016  4:57"].map(String::from));
        values
    }

    #[test]
    fn every_format_reads_what_polars_own_parser_reads() {
        let text = StringChunked::from_iter_options(
            "t".into(),
            written_dates()
                .iter()
                .map(|v| Some(v.as_str()))
                .chain([None]),
        );
        let formats = [
            "%d/%m/%Y %H:%M",
            "%d/%m/%Y",
            "%m/%d/%Y %H:%M",
            "%Y-%m-%d %H:%M:%S%.f",
            "%d/%b/%y %I:%M %p",
        ];
        for format in formats {
            let ours = read_naive(&text, format).unwrap();
            let polars = polars_naive(&text, format).unwrap();
            assert_eq!(
                ours.physical().iter().collect::<Vec<_>>(),
                polars.physical().iter().collect::<Vec<_>>(),
                "{format}"
            );
            assert!(
                ours.physical().null_count() < text.len(),
                "{format} reads some"
            );
        }
    }

    #[test]
    fn a_format_naming_an_hour_without_its_minute_is_refused_not_read_as_midnight() {
        let text = StringChunked::from_slice("t".into(), &["31/8/2026 16", "1/9/2026 09"]);
        for format in ["%d/%m/%Y %H", "%d/%m/%Y %M", "%d/%m/%Y %I:%M"] {
            let read = read_naive(&text, format);
            assert!(read.is_err(), "{format} read as a date");
        }
        assert!(read_naive(&text, "%d/%m/%Y").is_ok());
    }

    #[test]
    fn only_values_of_the_fixed_width_are_left_to_polars_own_parser() {
        assert_eq!(fixed_width("%d/%m/%Y %H:%M"), Some(16));
        assert_eq!(fixed_width("%d/%b/%y"), Some(9));
        assert_eq!(fixed_width("%Y-%m-%d %H:%M:%S%.f"), None);
        assert_eq!(fixed_width("%d/%b/%y %I:%M %p"), None);
        let padded = StringChunked::from_slice("t".into(), &["29/02/2016 04:57"]);
        let unpadded =
            StringChunked::from_slice("t".into(), &["29/02/2016 04:57", "1/3/2016 04:57"]);
        assert!(polars_reads_every_value(&padded, "%d/%m/%Y %H:%M"));
        assert!(!polars_reads_every_value(&unpadded, "%d/%m/%Y %H:%M"));
    }

    fn frame(values: &[&str]) -> DataFrame {
        DataFrame::new_infer_height(vec![Column::new("at".into(), values)]).unwrap()
    }

    fn ordered(values: &[&str]) -> Vec<String> {
        let formats: Vec<String> = ["%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M"]
            .map(String::from)
            .to_vec();
        formats_in_shown_order(&frame(values), &["at".to_string()], &formats, "t.csv")
            .unwrap()
            .0
    }

    #[test]
    fn the_order_of_day_and_month_comes_from_every_value() {
        // regression: `8/12/2026` was read day first in a column where `10/29/2026` shows
        // month first
        let mut values = vec!["8/12/2026 09:00"; 600];
        values.push("10/29/2026 10:42");
        assert_eq!(ordered(&values), ["%Y-%m-%d %H:%M", "%m/%d/%Y %H:%M"]);
        values.push("9/1/2026 11:00");
        values[0] = "29/10/2026 10:42";
        // both orders shown: nothing is dropped, and the other order's values are reported
        assert_eq!(ordered(&values).len(), 3);
        values.retain(|v| !v.starts_with("10/29"));
        assert_eq!(ordered(&values), ["%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M"]);
        // no evidence either way: the profile's order stands
        assert_eq!(ordered(&["8/12/2026 09:00"]).len(), 3);
        // dates that start with the year are never read in full for it
        assert_eq!(ordered(&["2026-10-29 10:42"]).len(), 3);
    }

    #[test]
    fn formats_and_values_know_their_order() {
        assert_eq!(order_of("%d/%m/%Y %H:%M"), Some(Order::DayFirst));
        assert_eq!(order_of("%m-%d-%Y %H:%M:%S"), Some(Order::MonthFirst));
        assert_eq!(order_of("%-m/%-d/%Y"), Some(Order::MonthFirst));
        assert_eq!(order_of("%Y-%m-%d"), None);
        assert_eq!(order_of("%d/%b/%y %I:%M %p"), None);
        assert_eq!(leading_pair("8/12/2026 09:00"), Some((8, 12)));
        assert_eq!(leading_pair("2026-10-01"), None);
        assert_eq!(leading_pair("18/jul/26 9:10 AM"), None);
        assert_eq!(order_shown((29, 10)), Some(Order::DayFirst));
        assert_eq!(order_shown((10, 29)), Some(Order::MonthFirst));
        assert_eq!(order_shown((8, 12)), None);
    }

    fn words() -> DateWords {
        let map: BTreeMap<String, String> = [
            ("sep", "Sep"),
            ("sept", "Sep"),
            ("jul", "Jul"),
            ("août", "Aug"),
            ("Okt", "Oct"),
            ("mär", "Mar"),
            ("a. m.", "AM"),
            ("p. m.", "PM"),
        ]
        .into_iter()
        .map(|(w, e)| (w.to_string(), e.to_string()))
        .collect();
        DateWords::new(&map)
    }

    #[test]
    fn date_words_in_any_language_read_as_english() {
        let w = words();
        let english = |v: &str| w.to_english(v).into_owned();
        assert_eq!(english("18/jul/26 9:10 AM"), "18/Jul/26 9:10 am");
        assert_eq!(english("18/jul/26 9:10 p. m."), "18/Jul/26 9:10 PM");
        assert_eq!(english("3/sept./26 9:10 AM"), "3/Sep/26 9:10 am");
        assert_eq!(english("3/SEPT/26"), "3/Sep/26");
        assert_eq!(english("7/août/26 10:00"), "7/Aug/26 10:00");
        assert_eq!(english("7/Okt/26 10:00"), "7/Oct/26 10:00");
        assert_eq!(english("7/MÄR/26 10:00"), "7/Mar/26 10:00");
        // whole words only: `julio` is no `jul`, and text without a word is left as it is
        assert_eq!(english("7/julio/26"), "7/julio/26");
        assert!(matches!(
            w.to_english("25/Feb/26 10:17 PM"),
            Cow::Borrowed(_)
        ));
        for written in ["18/jul/26 9:10 p. m.", "3/sept./26 9:10 AM"] {
            let read = NaiveDateTime::parse_from_str(&english(written), "%d/%b/%y %I:%M %p");
            assert!(read.is_ok(), "{written}");
        }
    }
}
