//! Source profiles: how a help desk's export is recognised and which column feeds each canonical
//! field, how its values map, which timestamp formats it writes and how its event log collapses.
//! A profile is data (TOML), never code: adding a help desk means adding a profile and a fixture.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use serde::Deserialize;

use super::timestamps::{DateWords, ENGLISH_DATE_WORDS};
use crate::config::SourceConfig;
use crate::model;

/// Profiles that ship with deskpulse.
const BUILT_IN: &[(&str, &str)] = &[
    ("servicenow", include_str!("profiles/servicenow.toml")),
    (
        "servicenow_change",
        include_str!("profiles/servicenow_change.toml"),
    ),
    ("jira", include_str!("profiles/jira.toml")),
    ("zendesk", include_str!("profiles/zendesk.toml")),
    ("zendesk_csv", include_str!("profiles/zendesk_csv.toml")),
    (
        "zendesk_explore",
        include_str!("profiles/zendesk_explore.toml"),
    ),
    ("freshservice", include_str!("profiles/freshservice.toml")),
    (
        "freshservice_csv",
        include_str!("profiles/freshservice_csv.toml"),
    ),
    ("freshdesk", include_str!("profiles/freshdesk.toml")),
    ("freshdesk_csv", include_str!("profiles/freshdesk_csv.toml")),
    ("glpi", include_str!("profiles/glpi.toml")),
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub name: String,
    pub title: String,
    /// Kind of the tickets when neither the export nor the source says.
    pub kind: String,
    /// Cell values that mean "no value".
    #[serde(default)]
    pub nulls: Vec<String>,
    pub detect: Detect,
    pub columns: BTreeMap<String, OneOrMany>,
    #[serde(default)]
    pub timestamps: Timestamps,
    #[serde(default)]
    pub event_log: Option<EventLog>,
    #[serde(default)]
    pub values: BTreeMap<String, BTreeMap<String, String>>,
    /// The zone the export writes its times in, when the format fixes it (API JSON in UTC);
    /// a source's `timezone` still wins.
    #[serde(default)]
    pub timezone: Option<String>,
    /// The export writes local times in a zone it does not state (the account's, or the
    /// exporting user's): a source without its own `timezone` is read in `[report] timezone`,
    /// with a warning naming the key.
    #[serde(default)]
    pub timezone_unstated: bool,
    /// The export writes numeric ids with a thousands separator (`52 267`, as GLPI does in
    /// French, Portuguese or Spanish): the separator between groups of three digits is dropped,
    /// so that the id is the number the help desk's interface and URLs use.
    #[serde(default)]
    pub id_digit_groups: bool,
    /// Source column → the unit its durations are written in (`seconds`, `minutes`, `hours`,
    /// `hh:mm:ss`); durations are read as minutes when the column is not listed.
    #[serde(default)]
    pub units: BTreeMap<String, Unit>,
    /// The words of `words` durations (see [`Unit::Words`]).
    #[serde(default)]
    pub duration_words: DurationWords,
    /// The export writes one ticket on several rows (a Zendesk Explore report: a row per value
    /// of an attribute such as a tag): the rows of one id are that ticket, read from its first
    /// row, not duplicates to reject.
    #[serde(default)]
    pub rows_repeat_tickets: bool,
    /// Columns of a verdict (`source_sla_met`, `source_response_sla_met`) that hold the time
    /// the SLA had left (Jira's `2:18`, `-0:23`) rather than a verdict word: less than nothing
    /// is a breach.
    #[serde(default)]
    pub sla_time_left: Vec<String>,
}

/// How a duration column is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
pub enum Unit {
    #[serde(rename = "seconds")]
    Seconds,
    #[serde(rename = "minutes")]
    Minutes,
    #[serde(rename = "hours")]
    Hours,
    /// `h:mm`, `hh:mm:ss`, or a decimal number of hours.
    #[serde(rename = "hh:mm:ss")]
    Clock,
    /// Numbers followed by the profile's `[duration_words]`: `1 dias 5 horas 40 minutos`.
    #[serde(rename = "words")]
    Words,
}

/// The words a `words` duration column writes after each number, per unit, in every language
/// the export may come in (`days = ["day", "days", "jours", "dias"]`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DurationWords {
    #[serde(default)]
    pub days: Vec<String>,
    #[serde(default)]
    pub hours: Vec<String>,
    #[serde(default)]
    pub minutes: Vec<String>,
    #[serde(default)]
    pub seconds: Vec<String>,
}

impl DurationWords {
    /// Each unit's words with the minutes it stands for.
    pub fn units(&self) -> [(&[String], f64); 4] {
        [
            (&self.days, 1440.0),
            (&self.hours, 60.0),
            (&self.minutes, 1.0),
            (&self.seconds, 1.0 / 60.0),
        ]
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Detect {
    /// The export matches when its columns include every name of one of these sets.
    pub any_of: Vec<Vec<String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timestamps {
    #[serde(default)]
    pub formats: Vec<String>,
    /// Words the export writes in its dates in the exporting user's language, each with the
    /// English word the formats read: `ene = "Jan"`, `"a. m." = "AM"`.
    #[serde(default)]
    pub words: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventLog {
    /// Column with the update sequence number of each row.
    pub sequence: Vec<String>,
    /// Column with the time of each update.
    pub updated_at: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn names(&self) -> Vec<&str> {
        match self {
            OneOrMany::One(s) => vec![s.as_str()],
            OneOrMany::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

impl Profile {
    pub fn parse(name_hint: &str, text: &str) -> Result<Profile, String> {
        let p: Profile = toml::from_str(text).map_err(|e| format!("profile {name_hint}: {e}"))?;
        p.validate()?;
        Ok(p)
    }

    fn validate(&self) -> Result<(), String> {
        let at = format!("profile {}", self.name);
        if !model::Kind::NAMES.contains(&self.kind.as_str()) {
            return Err(format!(
                "{at}: kind `{}` is not one of {}",
                self.kind,
                model::Kind::NAMES.join(", ")
            ));
        }
        if self.detect.any_of.is_empty() || self.detect.any_of.iter().any(Vec::is_empty) {
            return Err(format!(
                "{at}: [detect] any_of needs at least one non-empty set of columns"
            ));
        }
        for field in self.columns.keys() {
            if !model::is_canonical_field(field) {
                return Err(format!(
                    "{at}: [columns] `{field}` is not a canonical field"
                ));
            }
        }
        if !self.columns.contains_key("id") || !self.columns.contains_key("created_at") {
            return Err(format!(
                "{at}: [columns] must name the `id` and `created_at` columns"
            ));
        }
        for (field, map) in &self.values {
            let allowed = model::allowed_values(field)
                .ok_or_else(|| format!("{at}: [values.{field}]: no value map for `{field}`"))?;
            for (from, to) in map {
                if !allowed.contains(&to.as_str()) {
                    return Err(format!(
                        "{at}: [values.{field}] \"{from}\" = \"{to}\": not one of {}",
                        allowed.join(", ")
                    ));
                }
            }
        }
        if self.timestamps.formats.is_empty() {
            return Err(format!("{at}: [timestamps] formats is empty"));
        }
        self.validate_date_words(&at)?;
        if let Some(tz) = &self.timezone {
            tz.parse::<chrono_tz::Tz>()
                .map_err(|_| format!("{at}: timezone `{tz}` is not an IANA time zone"))?;
        }
        for column in self.units.keys() {
            let used = self.columns.iter().any(|(field, names)| {
                model::is_duration_field(field)
                    && names.names().iter().any(|n| n.eq_ignore_ascii_case(column))
            });
            if !used {
                return Err(format!(
                    "{at}: [units] `{column}` is not a column of a duration field in [columns]"
                ));
            }
        }
        self.validate_time_left(&at)?;
        self.validate_duration_words(&at)
    }

    /// A date word stands for what `%b` or `%p` reads, and has a letter to match.
    fn validate_date_words(&self, at: &str) -> Result<(), String> {
        for (written, english) in &self.timestamps.words {
            if !ENGLISH_DATE_WORDS.contains(&english.as_str()) {
                return Err(format!(
                    "{at}: [timestamps.words] \"{written}\" = \"{english}\": not one of {}",
                    ENGLISH_DATE_WORDS.join(", ")
                ));
            }
            if !written.chars().any(char::is_alphabetic) {
                return Err(format!(
                    "{at}: [timestamps.words] \"{written}\" is not a word"
                ));
            }
        }
        Ok(())
    }

    /// A column read as the time an SLA had left is a column of one of the verdicts.
    fn validate_time_left(&self, at: &str) -> Result<(), String> {
        for column in &self.sla_time_left {
            let mapped = model::VERDICT_FIELDS.iter().any(|f| {
                self.columns
                    .get(*f)
                    .is_some_and(|c| c.names().iter().any(|n| n.eq_ignore_ascii_case(column)))
            });
            if !mapped {
                return Err(format!(
                    "{at}: sla_time_left `{column}` is not a column of a verdict ({}) in [columns]",
                    model::VERDICT_FIELDS.join(", ")
                ));
            }
        }
        Ok(())
    }

    /// A `words` column needs words for each unit, and a word is letters only: it goes into a
    /// pattern as it is.
    fn validate_duration_words(&self, at: &str) -> Result<(), String> {
        if !self.units.values().any(|u| *u == Unit::Words) {
            return Ok(());
        }
        for (words, _) in self.duration_words.units() {
            if words.is_empty() {
                return Err(format!(
                    "{at}: a `words` duration needs [duration_words] days, hours, minutes and seconds"
                ));
            }
            if let Some(w) = words
                .iter()
                .find(|w| w.is_empty() || !w.chars().all(char::is_alphabetic))
            {
                return Err(format!(
                    "{at}: [duration_words] `{w}` is not a word (letters only)"
                ));
            }
        }
        Ok(())
    }

    /// Whether the column `name` holds the time an SLA had left (see [`Profile::sla_time_left`]).
    pub fn reads_time_left(&self, name: &str) -> bool {
        self.sla_time_left
            .iter()
            .any(|c| c.trim().eq_ignore_ascii_case(name.trim()))
    }

    /// Canonical field → the index of the first of its columns the header has.
    pub fn columns_in(&self, header: &HeaderIndex) -> BTreeMap<String, usize> {
        self.columns
            .iter()
            .filter_map(|(field, candidates)| {
                let i = candidates
                    .names()
                    .into_iter()
                    .find_map(|c| header.find(c))?;
                Some((field.clone(), i))
            })
            .collect()
    }

    /// Whether a header (or the keys of a JSON record) is this profile's, and the column set that
    /// decided it.
    pub fn matches<'a>(&'a self, header: &HeaderIndex) -> Option<&'a [String]> {
        self.detect
            .any_of
            .iter()
            .find(|set| set.iter().all(|c| header.find(c).is_some()))
            .map(Vec::as_slice)
    }
}

/// Canonical field → (lower-cased, trimmed source value → canonical value), the later maps
/// winning.
pub fn value_maps<'a>(
    maps: impl Iterator<Item = (&'a String, &'a BTreeMap<String, String>)>,
) -> BTreeMap<String, HashMap<String, String>> {
    let mut values: BTreeMap<String, HashMap<String, String>> = BTreeMap::new();
    for (field, map) in maps {
        let entry = values.entry(field.clone()).or_default();
        for (from, to) in map {
            entry.insert(from.trim().to_lowercase(), to.clone());
        }
    }
    values
}

/// How a profile reads one value of a mapped field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueReading<'a> {
    /// Through the value maps.
    Mapped(&'a str),
    /// As it is written (a canonical value), or as every help desk writes it (a 1-5 rating).
    Canonical(&'static str),
    /// As no value (a survey never offered).
    Nothing,
    Unknown,
}

/// How `raw`, a value of `field`, is read under `maps` (see [`value_maps`]): the maps first,
/// then the canonical values, then what the value means in every help desk.
pub fn read_value<'a>(
    maps: &'a BTreeMap<String, HashMap<String, String>>,
    field: &str,
    raw: &str,
) -> ValueReading<'a> {
    let mapped = maps
        .get(field)
        .and_then(|m| m.get(&raw.trim().to_lowercase()));
    if let Some(c) = mapped {
        return ValueReading::Mapped(c);
    }
    let allowed = model::allowed_values(field).unwrap_or(&[]);
    if let Some(c) = allowed.iter().find(|a| a.eq_ignore_ascii_case(raw.trim())) {
        return ValueReading::Canonical(c);
    }
    match model::default_value(field, raw) {
        Some(Some(c)) => ValueReading::Canonical(c),
        Some(None) => ValueReading::Nothing,
        None => ValueReading::Unknown,
    }
}

/// All built-in profiles, parsed.
pub fn built_in() -> Vec<Profile> {
    BUILT_IN
        .iter()
        .map(|(name, text)| Profile::parse(name, text).expect("built-in profiles are valid"))
        .collect()
}

/// A profile with where it came from and its text, for `deskpulse profiles`.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub profile: Profile,
    /// `built-in`, or the file it was read from.
    pub origin: String,
    pub text: String,
    /// The built-in profile of the same name this one replaces.
    pub replaces_built_in: bool,
}

/// The directory next to a configuration that holds its own profiles.
pub const USER_DIR: &str = "profiles";

/// The built-in profiles, then every `*.toml` of each directory in turn; a profile with the
/// name of an earlier one replaces it. A directory that does not exist is an error unless it is
/// optional (the `profiles/` next to a configuration).
pub fn load(dirs: &[(PathBuf, bool)]) -> Result<Vec<Loaded>, String> {
    let mut all: Vec<Loaded> = BUILT_IN
        .iter()
        .map(|(name, text)| Loaded {
            profile: Profile::parse(name, text).expect("built-in profiles are valid"),
            origin: "built-in".to_string(),
            text: text.to_string(),
            replaces_built_in: false,
        })
        .collect();
    for (dir, optional) in dirs {
        if !dir.is_dir() {
            if *optional {
                continue;
            }
            return Err(format!("{}: no such profiles directory", dir.display()));
        }
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| format!("{}: cannot list it: {e}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        for path in files {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("{}: cannot read it: {e}", path.display()))?;
            let profile = Profile::parse(&path.display().to_string(), &text)
                .map_err(|e| e.replacen("profile ", "", 1))
                .map_err(|e| format!("{}: not a valid profile: {e}", path.display()))?;
            let loaded = Loaded {
                replaces_built_in: false,
                profile,
                origin: path.display().to_string(),
                text,
            };
            match all
                .iter_mut()
                .find(|l| l.profile.name == loaded.profile.name)
            {
                Some(slot) => {
                    let built_in = slot.origin == "built-in" || slot.replaces_built_in;
                    *slot = Loaded {
                        replaces_built_in: built_in,
                        ..loaded
                    };
                }
                None => all.push(loaded),
            }
        }
    }
    Ok(all)
}

/// Finds the profile a source names, or detects it from the header.
pub fn choose<'p>(
    profiles: &'p [Profile],
    requested: &str,
    header: &HeaderIndex,
    file: &str,
) -> Result<(&'p Profile, String), String> {
    if requested != "auto" {
        return named(profiles, requested, file);
    }
    let mut fits: Vec<(&Profile, &[String])> = profiles
        .iter()
        .filter_map(|p| p.matches(header).map(|set| (p, set)))
        .collect();
    // The most specific match wins: a change export has an incident export's columns and more.
    let widest = fits.iter().map(|(_, set)| set.len()).max().unwrap_or(0);
    let outmatched: Vec<&str> = fits
        .iter()
        .filter(|(_, set)| set.len() < widest)
        .map(|(p, _)| p.name.as_str())
        .collect();
    fits.retain(|(_, set)| set.len() == widest);
    match fits.as_slice() {
        [(p, set)] => Ok((
            p,
            if outmatched.is_empty() {
                format!("detected `{}`: the header has {}", p.name, quoted(set))
            } else {
                format!(
                    "detected `{}`: the header has {} (more specific than {})",
                    p.name,
                    quoted(set),
                    outmatched.join(", ")
                )
            },
        )),
        [] => Err(none_fits(profiles, header, file)),
        many => Err(format!(
            "{file}: several profiles fit this export: {}. Name one in the configuration (`profile = \"...\"`).",
            many.iter()
                .map(|(p, set)| format!("{} (columns {})", p.name, quoted(set)))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// The profile the configuration names, or an error listing the known ones.
fn named<'p>(
    profiles: &'p [Profile],
    requested: &str,
    file: &str,
) -> Result<(&'p Profile, String), String> {
    let p = profiles
        .iter()
        .find(|p| p.name == requested)
        .ok_or_else(|| {
            format!(
                "{file}: unknown profile `{requested}` (known: {}, or \"auto\")",
                profiles
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
    Ok((
        p,
        format!("profile `{}` named in the configuration", p.name),
    ))
}

/// Why no profile recognises a header: its columns, the nearest profile and what it lacks,
/// and what each profile looks for.
fn none_fits(profiles: &[Profile], header: &HeaderIndex, file: &str) -> String {
    format!(
        "{file}: no profile recognises this export. Its columns are {}.{} Profiles look for: {}. \
         Name the profile in the configuration (`profile = \"...\"`) and map the columns with [sources.columns].",
        preview(header.names()),
        near_miss(profiles, header)
            .map(|(p, lacked)| format!(
                " The nearest is `{}`, which lacks {}.",
                p.name,
                quoted(&lacked)
            ))
            .unwrap_or_default(),
        profiles
            .iter()
            .map(|p| format!(
                "{} ({})",
                p.name,
                p.detect
                    .any_of
                    .iter()
                    .map(|s| quoted(s))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ))
            .collect::<Vec<_>>()
            .join("; ")
    )
}

/// The profile whose detection set the header comes nearest to: it has some of the set's
/// columns and lacks at most two; with the columns it lacks (the first profile and set on a
/// tie).
pub fn near_miss<'p>(
    profiles: &'p [Profile],
    header: &HeaderIndex,
) -> Option<(&'p Profile, Vec<String>)> {
    profiles
        .iter()
        .flat_map(|p| p.detect.any_of.iter().map(move |set| (p, set)))
        .map(|(p, set)| {
            let lacked: Vec<String> = set
                .iter()
                .filter(|c| header.find(c).is_none())
                .cloned()
                .collect();
            (p, set.len(), lacked)
        })
        .filter(|(_, of, lacked)| lacked.len() <= 2 && lacked.len() < *of)
        // fewest lacking, then most present: `Key, Summary, Status, Created` is nearer Jira's
        // four-column set than ServiceNow's `Number` + `Created`
        .min_by_key(|(_, of, lacked)| (lacked.len(), std::cmp::Reverse(*of)))
        .map(|(p, _, lacked)| (p, lacked))
}

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(" + ")
}

/// The first columns of a header, each cut to 40 characters: an error about a file that is no
/// export (a path to any file at all) quotes a short excerpt of it, never whole lines.
fn preview(names: &[String]) -> String {
    let cut = |n: &String| match n.char_indices().nth(40) {
        Some((at, _)) => format!("`{}…`", &n[..at]),
        None => format!("`{n}`"),
    };
    let shown: Vec<String> = names.iter().take(12).map(cut).collect();
    if names.len() > 12 {
        format!("{} and {} more", shown.join(", "), names.len() - 12)
    } else {
        shown.join(", ")
    }
}

/// Case-insensitive lookup of column names in a header, first occurrence wins.
#[derive(Debug, Clone)]
pub struct HeaderIndex {
    names: Vec<String>,
    by_lower: HashMap<String, usize>,
}

impl HeaderIndex {
    pub fn new(names: Vec<String>) -> Self {
        let mut by_lower = HashMap::with_capacity(names.len());
        for (i, n) in names.iter().enumerate() {
            by_lower.entry(n.trim().to_lowercase()).or_insert(i);
        }
        HeaderIndex { names, by_lower }
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The positions of the columns named like column `i`, ignoring case and surrounding
    /// spaces, `i` among them.
    pub fn named_alike(&self, i: usize) -> Vec<usize> {
        let name = self.names[i].trim().to_lowercase();
        (0..self.names.len())
            .filter(|&j| self.names[j].trim().to_lowercase() == name)
            .collect()
    }

    /// The index of a column, matched exactly first, then ignoring case and surrounding spaces.
    pub fn find(&self, name: &str) -> Option<usize> {
        self.names
            .iter()
            .position(|n| n == name)
            .or_else(|| self.by_lower.get(&name.trim().to_lowercase()).copied())
    }
}

/// What one file's columns feed, after the profile and the source's overrides are applied.
#[derive(Debug, Clone)]
pub struct Mapping {
    /// Canonical field → index of the source column.
    pub fields: BTreeMap<String, usize>,
    /// The sequence and update-time columns of an event log, when the file has them.
    pub event_log: Option<(usize, usize)>,
    /// Canonical field → (lower-cased, trimmed source value → canonical value).
    pub values: BTreeMap<String, HashMap<String, String>>,
    pub nulls: Vec<String>,
    pub formats: Vec<String>,
    pub default_kind: String,
    /// Duration field → the unit of the column it is read from.
    pub units: BTreeMap<String, Unit>,
    /// The profile's own zone for the export's times, if it has one.
    pub timezone: Option<chrono_tz::Tz>,
    /// See [`Profile::timezone_unstated`].
    pub timezone_unstated: bool,
    /// See [`Profile::id_digit_groups`].
    pub id_digit_groups: bool,
    /// See [`Profile::duration_words`].
    pub duration_words: DurationWords,
    /// See [`Timestamps::words`].
    pub date_words: DateWords,
    /// The verdict fields read from a column of [`Profile::sla_time_left`].
    pub verdicts_as_time_left: Vec<String>,
    /// See [`Profile::rows_repeat_tickets`].
    pub rows_repeat_tickets: bool,
}

impl Mapping {
    pub fn build(
        profile: &Profile,
        source: &SourceConfig,
        header: &HeaderIndex,
        file: &str,
    ) -> Result<Mapping, String> {
        let fields = mapped_fields(profile, source, header, file)?;
        let event_log = profile.event_log.as_ref().and_then(|log| {
            let seq = log.sequence.iter().find_map(|c| header.find(c))?;
            let at = log.updated_at.iter().find_map(|c| header.find(c))?;
            Some((seq, at))
        });
        let values = value_maps(profile.values.iter().chain(source.values.iter()));
        let formats = match &source.timestamp_format {
            Some(f) => vec![f.clone()],
            None => profile.timestamps.formats.clone(),
        };
        let units = duration_units(profile, header, &fields);
        let verdicts_as_time_left = model::VERDICT_FIELDS
            .iter()
            .filter(|f| {
                fields
                    .get(**f)
                    .is_some_and(|i| profile.reads_time_left(&header.names()[*i]))
            })
            .map(|f| f.to_string())
            .collect();
        Ok(Mapping {
            verdicts_as_time_left,
            rows_repeat_tickets: profile.rows_repeat_tickets,
            units,
            timezone: profile.timezone.as_deref().and_then(|t| t.parse().ok()),
            timezone_unstated: profile.timezone_unstated,
            id_digit_groups: profile.id_digit_groups,
            duration_words: profile.duration_words.clone(),
            date_words: DateWords::new(&profile.timestamps.words),
            fields,
            event_log,
            values,
            nulls: profile.nulls.clone(),
            formats,
            default_kind: source.kind.clone().unwrap_or_else(|| profile.kind.clone()),
        })
    }

    /// A sentence for each field read from a column whose name the header repeats, saying
    /// which of them is read.
    pub fn repeated_columns(&self, header: &HeaderIndex) -> Vec<String> {
        self.fields
            .iter()
            .filter_map(|(field, &i)| {
                let alike = header.named_alike(i);
                let positions: Vec<String> = alike.iter().map(|j| (j + 1).to_string()).collect();
                (alike.len() > 1).then(|| {
                    format!(
                        "the header names `{}` {} times (columns {}); {field} is read from column {}",
                        header.names()[i].trim(),
                        alike.len(),
                        positions.join(", "),
                        i + 1
                    )
                })
            })
            .collect()
    }
}

/// Each field's column: the profile's, then the source's own `[sources.columns]`; an export
/// without an id or a creation (or close) time is refused.
fn mapped_fields(
    profile: &Profile,
    source: &SourceConfig,
    header: &HeaderIndex,
    file: &str,
) -> Result<BTreeMap<String, usize>, String> {
    let mut fields = profile.columns_in(header);
    for (field, column) in &source.columns {
        let i = header.find(column).ok_or_else(|| {
            format!(
                "{file}: [sources.columns] maps {field} to column `{column}`, which this export does not have (its columns: {})",
                preview(header.names())
            )
        })?;
        fields.insert(field.clone(), i);
    }
    for required in ["id", "created_at"] {
        let present = fields.contains_key(required)
            || (required == "created_at" && fields.contains_key("closed_at"));
        if !present {
            let candidates = profile
                .columns
                .get(required)
                .map(|c| c.names().join("`, `"))
                .unwrap_or_default();
            return Err(format!(
                "{file}: no column for `{required}` (profile {} looks for `{candidates}`); map it with [sources.columns] {required} = \"...\"",
                profile.name
            ));
        }
    }
    Ok(fields)
}

/// The unit of each duration field's column, as the profile names it (minutes by default).
fn duration_units(
    profile: &Profile,
    header: &HeaderIndex,
    fields: &BTreeMap<String, usize>,
) -> BTreeMap<String, Unit> {
    fields
        .iter()
        .filter(|(field, _)| model::is_duration_field(field))
        .map(|(field, i)| {
            let column = &header.names()[*i];
            let unit = profile
                .units
                .iter()
                .find(|(c, _)| c.trim().eq_ignore_ascii_case(column.trim()))
                .map_or(Unit::Minutes, |(_, u)| *u);
            (field.clone(), unit)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(cols: &[&str]) -> HeaderIndex {
        HeaderIndex::new(cols.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn a_words_duration_needs_every_unit_in_letters() {
        let profile = |words: &str| {
            let text = format!(
                "name = \"x\"\ntitle = \"x\"\nkind = \"incident\"\n\
                 [detect]\nany_of = [[\"ID\"]]\n\
                 [columns]\nid = [\"ID\"]\ncreated_at = [\"At\"]\nreported_resolve_minutes = [\"Took\"]\n\
                 [units]\n\"Took\" = \"words\"\n\
                 [timestamps]\nformats = [\"%Y-%m-%d %H:%M\"]\n{words}"
            );
            Profile::parse("x", &text)
        };
        let all = "[duration_words]\ndays = [\"d\"]\nhours = [\"h\"]\nminutes = [\"m\"]\n";
        let error = profile(all).unwrap_err();
        assert!(
            error.contains("[duration_words] days, hours, minutes and seconds"),
            "{error}"
        );
        let error = profile(&format!("{all}seconds = [\"s.\"]\n")).unwrap_err();
        assert!(error.contains("`s.` is not a word"), "{error}");
        assert!(profile(&format!("{all}seconds = [\"segundos\"]\n")).is_ok());
    }

    #[test]
    fn date_words_and_time_left_columns_are_checked() {
        let profile = |extra: &str, words: &str| {
            let text = format!(
                "name = \"x\"\ntitle = \"x\"\nkind = \"incident\"\n{extra}\
                 [detect]\nany_of = [[\"ID\"]]\n\
                 [columns]\nid = [\"ID\"]\ncreated_at = [\"At\"]\nsource_sla_met = [\"Left\"]\n\
                 [timestamps]\nformats = [\"%d/%b/%y\"]\n{words}"
            );
            Profile::parse("x", &text)
        };
        let error = profile("", "[timestamps.words]\njanv = \"January\"\n").unwrap_err();
        assert!(
            error.contains("\"janv\" = \"January\": not one of Jan,"),
            "{error}"
        );
        let error = profile("", "[timestamps.words]\n\"1.\" = \"Jan\"\n").unwrap_err();
        assert!(error.contains("\"1.\" is not a word"), "{error}");
        assert!(profile("", "[timestamps.words]\njanv = \"Jan\"\n").is_ok());
        let error = profile("sla_time_left = [\"At\"]\n", "").unwrap_err();
        assert!(
            error.contains("sla_time_left `At` is not a column of a verdict"),
            "{error}"
        );
        assert!(profile("sla_time_left = [\"left\"]\n", "").is_ok());
    }

    #[test]
    fn built_in_profiles_parse() {
        let all = built_in();
        assert!(all.iter().any(|p| p.name == "servicenow"));
    }

    #[test]
    fn detects_servicenow_by_field_names_and_labels() {
        let all = built_in();
        let h = header(&[
            "number",
            "opened_at",
            "short_description",
            "priority",
            "state",
        ]);
        let (p, why) = choose(&all, "auto", &h, "f.csv").unwrap();
        assert_eq!(p.name, "servicenow");
        assert!(why.contains("`number` + `opened_at`"), "{why}");
        let h = header(&["Number", "Opened", "Short description", "Priority", "State"]);
        assert_eq!(
            choose(&all, "auto", &h, "f.csv").unwrap().0.name,
            "servicenow"
        );
    }

    #[test]
    fn unknown_header_lists_columns_and_candidates() {
        let all = built_in();
        let h = header(&["Ticket", "When"]);
        let err = choose(&all, "auto", &h, "f.csv").unwrap_err();
        assert!(
            err.contains("`Ticket`") && err.contains("servicenow"),
            "{err}"
        );
        let err = choose(&all, "nosuch", &h, "f.csv").unwrap_err();
        assert!(err.contains("unknown profile `nosuch`"), "{err}");
    }

    #[test]
    fn a_repeated_column_that_is_read_is_named_with_the_one_read() {
        let h = header(&[
            "number",
            "opened_at",
            "Opened_at ",
            "state",
            "state",
            "priority",
        ]);
        let profile = built_in()
            .into_iter()
            .find(|p| p.name == "servicenow")
            .unwrap();
        let source = SourceConfig {
            pattern: "x.csv".into(),
            resolved_pattern: "x.csv".into(),
            profile: "servicenow".into(),
            timezone: None,
            kind: None,
            columns: BTreeMap::new(),
            values: BTreeMap::new(),
            timestamp_format: None,
            encoding: None,
            backslash_escapes: false,
            sheet: None,
            name: None,
            related: Vec::new(),
        };
        let mapping = Mapping::build(&profile, &source, &h, "x.csv").unwrap();
        assert_eq!(
            mapping.repeated_columns(&h),
            [
                "the header names `opened_at` 2 times (columns 2, 3); created_at is read from column 2",
                "the header names `state` 2 times (columns 4, 5); status is read from column 4",
            ]
        );
    }

    #[test]
    fn a_near_miss_names_the_profile_and_the_columns_it_lacked() {
        let all = built_in();
        // a ServiceNow list whose `opened_at` was renamed
        let h = header(&["number", "open_date", "short_description", "state"]);
        let err = choose(&all, "auto", &h, "f.csv").unwrap_err();
        assert!(
            err.contains("The nearest is `servicenow`, which lacks `opened_at`."),
            "{err}"
        );
        let far = header(&["a", "b"]);
        assert!(
            !choose(&all, "auto", &far, "f.csv")
                .unwrap_err()
                .contains("nearest")
        );
    }

    #[test]
    fn header_lookup_ignores_case_and_spaces() {
        let h = header(&["Number", " Opened "]);
        assert_eq!(h.find("number"), Some(0));
        assert_eq!(h.find("opened"), Some(1));
        assert_eq!(h.find("closed"), None);
    }
}
