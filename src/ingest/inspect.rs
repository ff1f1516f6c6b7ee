//! `deskpulse inspect FILE`: what an export holds and how deskpulse would read it, written as a
//! starter profile whose comments are the analysis, so that `deskpulse inspect export.csv >
//! profiles/mine.toml` is the first step of a profile of one's own.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::Path;

use polars::prelude::*;

use super::IngestError;
use super::profile::{self, HeaderIndex, Profile, Unit, ValueReading, read_value, value_maps};
use super::read::{self, column_name};
use super::timestamps::{DateWords, parses};
use crate::model;

/// Values of each column the timestamp formats are tried on.
const SAMPLE: usize = 500;
/// Share of a column's sampled values a format must read for the column to count as a date.
const DATE_SHARE: f64 = 0.5;
/// Unknown values listed per field.
const UNKNOWN_LISTED: usize = 10;

/// How the export fits the profiles.
enum Fit<'p> {
    Detected(&'p Profile, String),
    /// No profile fits; this one's detection set has the most of its columns.
    NearMiss {
        profile: &'p Profile,
        lacks: Vec<String>,
    },
    Nothing(String),
}

impl<'p> Fit<'p> {
    fn profile(&self) -> Option<&'p Profile> {
        match self {
            Fit::Detected(p, _) | Fit::NearMiss { profile: p, .. } => Some(p),
            Fit::Nothing(_) => None,
        }
    }
}

/// One column of the export as inspected.
struct Column {
    name: String,
    values: usize,
    samples: Vec<String>,
    /// The canonical field the profile reads from it.
    field: Option<String>,
    /// Formats that read some of its sampled values, with the share they read, best first.
    formats: Vec<(String, f64)>,
    /// Whether its dates are read through the profile's date words (`sept`, `a. m.`).
    in_words: bool,
}

impl Column {
    fn is_date(&self) -> bool {
        self.formats.first().is_some_and(|(_, s)| *s >= DATE_SHARE)
    }
}

/// The inspection of `path` against `profiles`, as a commented starter profile.
pub fn inspect(
    path: &Path,
    shown: &str,
    options: read::ReadOptions,
    profiles: &[Profile],
) -> Result<String, IngestError> {
    let mut export = read::open(path, shown, options)?;
    let header = export.header().clone();
    let fit = fit(profiles, &header, shown);
    let nulls = fit
        .profile()
        .map_or_else(|| vec![String::new()], |p| p.nulls.clone());
    let all: Vec<usize> = (0..header.names().len()).collect();
    let raw = read::read_columns(&mut export, &all, &nulls)?;
    let mut summary = format!(
        "{shown}: {} rows, {} columns, {} ({})",
        raw.rows,
        all.len(),
        export.format(),
        export.encoding
    );
    if let Some(first) = raw.malformed.first() {
        summary.push_str(&format!(
            "; {} rows cannot be read, the first row {}: {}",
            raw.malformed.len(),
            first.row,
            first.problem
        ));
    }
    let fields = fit
        .profile()
        .map(|p| p.columns_in(&header))
        .unwrap_or_default();
    let columns = columns(&raw.frame, &header, &fields, fit.profile(), profiles)?;
    let survey = match fit.profile() {
        Some(p) => value_survey(&raw.frame, &header, &fields, p)?,
        None => Vec::new(),
    };
    let mut out = String::new();
    write_analysis(&mut out, &summary, &fit, &columns, &survey);
    write_starter(&mut out, path, &fit, &columns, &fields, &survey);
    Ok(out)
}

/// The profile that fits, or the one that came closest and what it lacked.
fn fit<'p>(profiles: &'p [Profile], header: &HeaderIndex, shown: &str) -> Fit<'p> {
    match profile::choose(profiles, "auto", header, shown) {
        Ok((p, why)) => Fit::Detected(p, why),
        Err(why) => match profile::near_miss(profiles, header) {
            Some((profile, lacks)) => Fit::NearMiss { profile, lacks },
            None => {
                let why = why.strip_prefix(&format!("{shown}: ")).unwrap_or(&why);
                Fit::Nothing(why.replace('\n', " "))
            }
        },
    }
}

/// Every column with its samples, the field the profile reads from it and the formats that
/// read it as a date.
fn columns(
    frame: &DataFrame,
    header: &HeaderIndex,
    fields: &BTreeMap<String, usize>,
    fitting: Option<&Profile>,
    profiles: &[Profile],
) -> PolarsResult<Vec<Column>> {
    let words = fitting.map_or_else(DateWords::default, |p| DateWords::new(&p.timestamps.words));
    let formats = candidate_formats(fitting, profiles);
    let by_index: HashMap<usize, &String> = fields.iter().map(|(f, i)| (*i, f)).collect();
    let mut out = Vec::new();
    for (i, name) in header.names().iter().enumerate() {
        let values = frame.column(&column_name(i))?.str()?.clone();
        let present: Vec<&str> = values
            .iter()
            .flatten()
            .filter(|v| !v.trim().is_empty())
            .collect();
        let mut in_words = false;
        let sample: Vec<String> = present
            .iter()
            .take(SAMPLE)
            .map(|v| {
                let english = words.to_english(v.trim());
                in_words |= matches!(english, std::borrow::Cow::Owned(_));
                english.into_owned()
            })
            .collect();
        out.push(Column {
            name: name.clone(),
            values: present.len(),
            samples: distinct_samples(&present),
            field: by_index.get(&i).map(|f| f.to_string()),
            formats: reading_formats(&sample, &formats),
            in_words,
        });
    }
    Ok(out)
}

/// The fitting profile's formats first, then every other profile's, each once.
fn candidate_formats(fitting: Option<&Profile>, profiles: &[Profile]) -> Vec<String> {
    let mut formats: Vec<String> = Vec::new();
    let all = fitting.into_iter().chain(profiles);
    for f in all.flat_map(|p| &p.timestamps.formats) {
        if !formats.contains(f) {
            formats.push(f.clone());
        }
    }
    formats
}

/// The formats that read some of `sample`, with the share each reads, best first (the
/// candidates' order on a tie).
fn reading_formats(sample: &[String], formats: &[String]) -> Vec<(String, f64)> {
    if sample.is_empty() {
        return Vec::new();
    }
    let mut read: Vec<(String, f64)> = formats
        .iter()
        .map(|f| {
            let n = sample.iter().filter(|v| parses(v, f)).count();
            (f.clone(), n as f64 / sample.len() as f64)
        })
        .filter(|(_, share)| *share > 0.0)
        .collect();
    read.sort_by(|a, b| b.1.total_cmp(&a.1));
    read
}

/// Up to three distinct values, short and on one line.
fn distinct_samples(present: &[&str]) -> Vec<String> {
    let mut samples: Vec<String> = Vec::new();
    for v in present {
        let one_line: String = v.trim().replace(['\r', '\n'], " ");
        let short: String = match one_line.chars().count() > 24 {
            true => one_line.chars().take(23).chain(['…']).collect(),
            false => one_line,
        };
        if !samples.contains(&short) {
            samples.push(short);
        }
        if samples.len() == 3 {
            break;
        }
    }
    samples
}

/// The values of one mapped field's column, each once in the order they first appear, with
/// the rows that have it and how the profile reads it.
struct FieldValues {
    field: &'static str,
    values: Vec<(String, usize, Reading)>,
}

/// [`ValueReading`] with its canonical value owned.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Reading {
    Mapped(String),
    ReadAnyway,
    Unknown,
}

/// Each mapped field's values (a verdict read as time left has none to map).
fn value_survey(
    frame: &DataFrame,
    header: &HeaderIndex,
    fields: &BTreeMap<String, usize>,
    profile: &Profile,
) -> PolarsResult<Vec<FieldValues>> {
    let maps = value_maps(profile.values.iter());
    let mut out = Vec::new();
    for field in model::MAPPED_FIELDS {
        let Some(i) = fields.get(*field) else {
            continue;
        };
        if reads_time_left(profile, field, &header.names()[*i]) {
            continue;
        }
        let value = col(column_name(*i).as_str()).str().strip_chars(lit(NULL));
        let counted = frame
            .clone()
            .lazy()
            .select([value.alias("value")])
            .filter(col("value").neq(lit("")))
            .group_by_stable([col("value")])
            .agg([len().alias("rows")])
            .collect()?;
        let rows = counted.column("rows")?.cast(&DataType::UInt64)?;
        let values = counted
            .column("value")?
            .str()?
            .iter()
            .zip(rows.u64()?.iter())
            .filter_map(|(v, n)| Some((v?.to_string(), n? as usize)))
            .map(|(v, n)| {
                let reading = match read_value(&maps, field, &v) {
                    ValueReading::Mapped(c) => Reading::Mapped(c.to_string()),
                    ValueReading::Canonical(_) | ValueReading::Nothing => Reading::ReadAnyway,
                    ValueReading::Unknown => Reading::Unknown,
                };
                (v, n, reading)
            })
            .collect();
        out.push(FieldValues { field, values });
    }
    Ok(out)
}

/// Whether `field`'s column `name` holds the time an SLA had left, not a value to map.
fn reads_time_left(profile: &Profile, field: &str, name: &str) -> bool {
    model::VERDICT_FIELDS.contains(&field) && profile.reads_time_left(name)
}

/// The analysis, as TOML comments.
fn write_analysis(
    out: &mut String,
    summary: &str,
    fit: &Fit,
    columns: &[Column],
    survey: &[FieldValues],
) {
    let _ = writeln!(out, "# deskpulse inspect · {summary}");
    write_fit(out, fit);
    let _ = writeln!(
        out,
        "#\n# Columns (values: non-empty cells; read as: the canonical field)"
    );
    for c in columns {
        let _ = writeln!(out, "{}", column_line(c).trim_end());
    }
    for FieldValues { field, values } in survey {
        write_unknown_values(out, field, values);
    }
}

/// Which profile reads the export, the one that nearly does, or why none does.
fn write_fit(out: &mut String, fit: &Fit) {
    match fit {
        Fit::Detected(p, why) => {
            let _ = writeln!(
                out,
                "# Profile: {why}; the columns below are as it reads them."
            );
            let _ = writeln!(
                out,
                "# A profile of your own starts from it: deskpulse profiles show {}",
                p.name
            );
        }
        Fit::NearMiss { profile, lacks } => {
            let _ = writeln!(
                out,
                "# No profile recognises this export. Near miss: `{}` ({}) lacks {}; the \
                 columns below are as it would read them.",
                profile.name,
                profile.title,
                quoted(lacks)
            );
        }
        Fit::Nothing(why) => {
            let _ = writeln!(out, "# {why}");
        }
    }
}

/// A column's line: how many values it has, the field it is read as, samples, and the date
/// formats that read it.
fn column_line(c: &Column) -> String {
    let dates = match c.formats.as_slice() {
        [] => String::new(),
        read => {
            let shown: Vec<String> = read
                .iter()
                .take(3)
                .map(|(f, share)| format!("`{f}` reads {:.0} %", share * 100.0))
                .collect();
            format!(" · dates: {}", shown.join(", "))
        }
    };
    let samples = match c.samples.is_empty() {
        true => String::new(),
        false => format!(" e.g. {}", c.samples.join(" | ")),
    };
    format!(
        "#   {:<32} {:>7} values · read as {:<18}{samples}{dates}",
        c.name,
        c.values,
        c.field.as_deref().unwrap_or("-"),
    )
}

/// A field's values that the profile's value map does not know, the most frequent first.
fn write_unknown_values(out: &mut String, field: &str, values: &[(String, usize, Reading)]) {
    let mut unknown: Vec<&(String, usize, Reading)> =
        values.iter().filter(|v| v.2 == Reading::Unknown).collect();
    if unknown.is_empty() {
        return;
    }
    unknown.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let listed: Vec<String> = unknown
        .iter()
        .take(UNKNOWN_LISTED)
        .map(|(v, n, _)| format!("\"{v}\" ({n})"))
        .collect();
    let more = unknown.len().saturating_sub(UNKNOWN_LISTED);
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "#\n# Unknown {field} values (not in the profile's [values.{field}]): {}{more}",
        listed.join(", ")
    );
}

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A TOML string literal, as the `toml` crate writes it.
fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// A TOML array of strings.
fn toml_strings<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let items: Vec<String> = items.into_iter().map(toml_string).collect();
    format!("[{}]", items.join(", "))
}

/// The starter profile: the fields found (or guessed for the id and the creation time), the
/// formats that read the date columns, and the values of the mapped columns.
fn write_starter(
    out: &mut String,
    path: &Path,
    fit: &Fit,
    columns: &[Column],
    fields: &BTreeMap<String, usize>,
    survey: &[FieldValues],
) {
    let mut fields: BTreeMap<String, usize> = fields.clone();
    let guessed = guess_required(&mut fields, columns);
    let name = profile_name(path);
    let _ = writeln!(out, "\nname = {}", toml_string(&name));
    let _ = writeln!(out, "title = {}", toml_string(&format!("{name} export")));
    let kind = match fit {
        Fit::Detected(p, _) => p.kind.as_str(),
        _ => "incident",
    };
    let _ = writeln!(
        out,
        "# the kind of a ticket no column types: {}\nkind = {}",
        model::Kind::NAMES.join(", "),
        toml_string(kind)
    );
    let nulls = fit
        .profile()
        .map_or(vec![String::new()], |p| p.nulls.clone());
    let _ = writeln!(
        out,
        "nulls = {}",
        toml_strings(nulls.iter().map(String::as_str))
    );
    match fit.profile().and_then(|p| p.timezone.as_deref()) {
        // an API that writes one zone (UTC) whatever the account's
        Some(zone) => {
            let _ = writeln!(out, "timezone = {}", toml_string(zone));
        }
        None => {
            let _ = writeln!(
                out,
                "# the export's times carry no zone: each source says it (`timezone` in \
                 [[sources]])\ntimezone_unstated = true"
            );
        }
    }
    if let Some(p) = fit.profile() {
        write_flags(out, p, &fields, columns);
    }
    write_detect(out, &fields, columns);
    write_columns(out, &fields, columns, &guessed);
    write_formats(out, &fields, columns);
    if let Some(p) = fit.profile() {
        write_readers(out, p, &fields, columns);
    }
    write_values(out, survey);
}

/// The fitting profile's top-level settings that its reading of these columns relies on.
fn write_flags(
    out: &mut String,
    p: &Profile,
    fields: &BTreeMap<String, usize>,
    columns: &[Column],
) {
    if p.id_digit_groups {
        let _ = writeln!(out, "id_digit_groups = true");
    }
    if p.rows_repeat_tickets {
        let _ = writeln!(out, "rows_repeat_tickets = true");
    }
    let time_left: Vec<&str> = model::VERDICT_FIELDS
        .iter()
        .filter_map(|f| fields.get(*f))
        .map(|i| columns[*i].name.as_str())
        .filter(|name| p.reads_time_left(name))
        .collect();
    if !time_left.is_empty() {
        let _ = writeln!(out, "sla_time_left = {}", toml_strings(time_left));
    }
}

/// The fitting profile's date words, and the units (and duration words) of the duration
/// columns it reads.
fn write_readers(
    out: &mut String,
    p: &Profile,
    fields: &BTreeMap<String, usize>,
    columns: &[Column],
) {
    let dates_in_words = model::TIMESTAMP_FIELDS
        .iter()
        .filter_map(|f| fields.get(*f))
        .any(|i| columns[*i].in_words);
    if dates_in_words {
        let _ = writeln!(out, "\n[timestamps.words]");
        for (written, english) in &p.timestamps.words {
            let _ = writeln!(out, "{} = {}", toml_string(written), toml_string(english));
        }
    }
    let units: Vec<(&str, Unit)> = fields
        .iter()
        .filter(|(f, _)| model::is_duration_field(f))
        .filter_map(|(_, i)| {
            let name = columns[*i].name.as_str();
            let unit = p
                .units
                .iter()
                .find(|(c, _)| c.eq_ignore_ascii_case(name))?
                .1;
            Some((name, *unit))
        })
        .collect();
    if units.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n[units]");
    for (name, unit) in &units {
        let unit = toml::Value::try_from(unit).expect("a unit serialises as its name");
        let _ = writeln!(out, "{} = {unit}", toml_string(name));
    }
    if units.iter().any(|(_, u)| *u == Unit::Words) {
        let _ = writeln!(out, "\n[duration_words]");
        for (unit, (words, _)) in ["days", "hours", "minutes", "seconds"]
            .iter()
            .zip(p.duration_words.units())
        {
            let _ = writeln!(
                out,
                "{unit} = {}",
                toml_strings(words.iter().map(String::as_str))
            );
        }
    }
}

/// Fills in `id` and `created_at` when the profile found none, from the columns' names and
/// dates; returns the fields guessed.
fn guess_required(fields: &mut BTreeMap<String, usize>, columns: &[Column]) -> Vec<String> {
    let named = |c: &Column, words: &[&str]| {
        let lower = c.name.to_lowercase();
        words.iter().any(|w| lower.contains(w))
    };
    let mut guessed = Vec::new();
    if !fields.contains_key("id") {
        let id = ["id", "number", "key", "ticket", "#", "nº"];
        if let Some(i) = columns.iter().position(|c| !c.is_date() && named(c, &id)) {
            fields.insert("id".into(), i);
            guessed.push("id".to_string());
        }
    }
    if !fields.contains_key("created_at") {
        let created = [
            "creat", "open", "submit", "logged", "report", "abert", "apert",
        ];
        let dates = || columns.iter().enumerate().filter(|(_, c)| c.is_date());
        let pick = dates()
            .find(|(_, c)| named(c, &created))
            .or_else(|| dates().next());
        if let Some((i, _)) = pick {
            fields.insert("created_at".into(), i);
            guessed.push("created_at".to_string());
        }
    }
    guessed
}

fn write_detect(out: &mut String, fields: &BTreeMap<String, usize>, columns: &[Column]) {
    let set: Vec<&str> = ["id", "created_at", "status", "priority"]
        .iter()
        .filter_map(|f| fields.get(*f))
        .map(|i| columns[*i].name.as_str())
        .collect();
    let _ = writeln!(out, "\n[detect]\nany_of = [{}]", toml_strings(set));
}

fn write_columns(
    out: &mut String,
    fields: &BTreeMap<String, usize>,
    columns: &[Column],
    guessed: &[String],
) {
    let _ = writeln!(out, "\n[columns]");
    for required in ["id", "created_at"] {
        if !fields.contains_key(required) {
            let _ = writeln!(
                out,
                "# {required} = [\"...\"]   # required: no column looked like it"
            );
        }
    }
    for (field, i) in fields {
        let note = if guessed.contains(field) {
            "   # guessed from the column's name: check it"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "{field} = {}{note}",
            toml_strings([columns[*i].name.as_str()])
        );
    }
    let unread: Vec<&str> = columns
        .iter()
        .enumerate()
        .filter(|(i, c)| c.values > 0 && !fields.values().any(|j| j == i))
        .map(|(_, c)| c.name.as_str())
        .collect();
    if !unread.is_empty() {
        let unread: Vec<String> = unread.iter().map(|s| s.to_string()).collect();
        let _ = writeln!(
            out,
            "# not read: {}\n# (the canonical fields: {})",
            quoted(&unread),
            model::canonical_fields().join(", ")
        );
    }
}

/// The formats that read the timestamp fields' columns, by how much of them they read.
fn write_formats(out: &mut String, fields: &BTreeMap<String, usize>, columns: &[Column]) {
    let mut score: Vec<(String, f64)> = Vec::new();
    for field in model::TIMESTAMP_FIELDS {
        let Some(i) = fields.get(*field) else {
            continue;
        };
        for (format, share) in &columns[*i].formats {
            match score.iter_mut().find(|(f, _)| f == format) {
                Some((_, s)) => *s += share,
                None => score.push((format.clone(), *share)),
            }
        }
    }
    score.sort_by(|a, b| b.1.total_cmp(&a.1));
    let formats: Vec<&str> = match score.is_empty() {
        true => vec!["%Y-%m-%d %H:%M:%S"],
        false => score.iter().map(|(f, _)| f.as_str()).collect(),
    };
    let _ = writeln!(out, "\n[timestamps]\nformats = {}", toml_strings(formats));
}

/// Each mapped field's values present in the export: those the profile maps with its canonical
/// value, the unknown ones commented out with the values allowed; those read as they are (a
/// canonical value, a 1-5 rating) need no line.
fn write_values(out: &mut String, survey: &[FieldValues]) {
    for FieldValues { field, values } in survey {
        let allowed = model::allowed_values(field).unwrap_or(&[]);
        let lines: Vec<String> = values
            .iter()
            .take(50)
            .filter_map(|(v, _, reading)| match reading {
                Reading::Mapped(c) => Some(format!("{} = {}", toml_string(v), toml_string(c))),
                Reading::ReadAnyway => None,
                Reading::Unknown => Some(format!(
                    "# {} = \"?\"   # one of {}",
                    toml_string(v),
                    allowed.join(", ")
                )),
            })
            .collect();
        if !lines.is_empty() {
            let _ = writeln!(out, "\n[values.{field}]\n{}", lines.join("\n"));
        }
    }
}

/// A profile name from the file's: `Incidents (Oct).csv` → `incidents_oct`.
fn profile_name(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let stem = stem.split('.').next().unwrap_or("");
    let words: Vec<String> = stem
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect();
    match words.is_empty() {
        true => "my_export".to_string(),
        false => words.join("_"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_name_comes_from_the_files() {
        assert_eq!(
            profile_name(Path::new("x/Incidents (Oct).csv")),
            "incidents_oct"
        );
        assert_eq!(profile_name(Path::new("tickets.json.gz")), "tickets");
        assert_eq!(profile_name(Path::new("données.csv")), "donn_es");
    }

    #[test]
    fn formats_are_ranked_by_what_they_read() {
        let sample: Vec<String> = ["2026-10-01 09:00", "2026-10-02 10:00", "01/10/2026 09:00"]
            .map(String::from)
            .to_vec();
        let formats = ["%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"].map(String::from);
        let read = reading_formats(&sample, &formats);
        assert_eq!(read.len(), 2);
        assert_eq!(read[0].0, "%Y-%m-%d %H:%M");
        assert!((read[0].1 - 2.0 / 3.0).abs() < 1e-12);
    }
}
