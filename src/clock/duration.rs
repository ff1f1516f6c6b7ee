//! Durations as the configuration writes them: `30m`, `4h`, `3d`.
//!
//! On a business calendar `d` means 24 hours of that calendar's open time (ServiceNow's rule), so
//! a duration is kept as a number of minutes and never converted to calendar days here.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BusinessDuration {
    minutes: u64,
}

impl BusinessDuration {
    pub fn from_minutes(minutes: u64) -> Self {
        BusinessDuration { minutes }
    }

    pub fn minutes(self) -> u64 {
        self.minutes
    }

    pub fn micros(self) -> i64 {
        (self.minutes as i64) * 60_000_000
    }
}

/// The longest duration a configuration may give.
pub const LONGEST: BusinessDuration = BusinessDuration {
    minutes: 36_500 * 24 * 60,
};

impl FromStr for BusinessDuration {
    type Err = String;

    /// Accepts one or more `<number><unit>` parts (`1d4h`, `90m`), units `m`, `h`, `d`.
    fn from_str(s: &str) -> Result<Self, String> {
        let text = s.trim();
        let bad = || format!("`{s}` is not a duration (write e.g. `30m`, `4h`, `3d` or `1h30m`)");
        if text.is_empty() {
            return Err(bad());
        }
        let mut minutes: u64 = 0;
        let mut digits = String::new();
        for ch in text.chars() {
            if ch.is_ascii_digit() {
                digits.push(ch);
                continue;
            }
            let factor = match ch {
                'm' => 1,
                'h' => 60,
                'd' => 24 * 60,
                _ => return Err(bad()),
            };
            let n: u64 = digits.parse().map_err(|_| bad())?;
            minutes = n
                .checked_mul(factor)
                .and_then(|v| minutes.checked_add(v))
                .ok_or_else(bad)?;
            digits.clear();
        }
        if !digits.is_empty() || minutes == 0 {
            return Err(bad());
        }
        if minutes > LONGEST.minutes {
            // Beyond it, the instant a target falls due overflows (`106751991d`), and no
            // service level is set a century ahead.
            return Err(format!(
                "`{s}` is longer than a century ({LONGEST}), the longest duration"
            ));
        }
        Ok(BusinessDuration { minutes })
    }
}

impl fmt::Display for BusinessDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.minutes;
        if m.is_multiple_of(24 * 60) {
            write!(f, "{}d", m / (24 * 60))
        } else if m.is_multiple_of(60) {
            write!(f, "{}h", m / 60)
        } else {
            write!(f, "{m}m")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_duration_beyond_a_century_is_refused() {
        // regression: `106751991d` overflowed the instant it falls due, and every ticket's
        // SLA came out unmeasured without a word
        assert!("106751991d".parse::<BusinessDuration>().is_err());
        assert!("36501d".parse::<BusinessDuration>().is_err());
        assert_eq!("36500d".parse::<BusinessDuration>(), Ok(LONGEST));
    }

    #[test]
    fn parses_units() {
        assert_eq!("30m".parse::<BusinessDuration>().unwrap().minutes(), 30);
        assert_eq!("4h".parse::<BusinessDuration>().unwrap().minutes(), 240);
        assert_eq!("3d".parse::<BusinessDuration>().unwrap().minutes(), 4320);
        assert_eq!("1h30m".parse::<BusinessDuration>().unwrap().minutes(), 90);
        assert_eq!(
            " 2d ".parse::<BusinessDuration>().unwrap().to_string(),
            "2d"
        );
    }

    #[test]
    fn rejects_nonsense() {
        for bad in ["", "4", "h", "4x", "0m", "-4h", "4.5h"] {
            assert!(bad.parse::<BusinessDuration>().is_err(), "{bad}");
        }
    }
}
