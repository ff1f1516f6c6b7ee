//! `deskpulse profiles list` and `deskpulse profiles show NAME`: what a user starts their own
//! profile from.

use super::profile::Loaded;

/// One line per profile: name, title, where it comes from, and the columns that detect it.
pub fn list(profiles: &[Loaded]) -> String {
    let width = profiles
        .iter()
        .map(|l| l.profile.name.len())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for l in profiles {
        let origin = if l.replaces_built_in {
            format!("{} (replaces the built-in one)", l.origin)
        } else {
            l.origin.clone()
        };
        let detect: Vec<String> = l
            .profile
            .detect
            .any_of
            .iter()
            .map(|set| set.join(" + "))
            .collect();
        out.push_str(&format!(
            "{:width$}  {} [{origin}]\n{:width$}  detected by: {}\n",
            l.profile.name,
            l.profile.title,
            "",
            detect.join(" | "),
        ));
    }
    out
}

/// The profile's TOML exactly as written, or an error naming the known profiles.
pub fn show<'a>(profiles: &'a [Loaded], name: &str) -> Result<&'a str, String> {
    profiles
        .iter()
        .find(|l| l.profile.name == name)
        .map(|l| l.text.as_str())
        .ok_or_else(|| {
            format!(
                "no profile named `{name}` (known: {})",
                profiles
                    .iter()
                    .map(|l| l.profile.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}
