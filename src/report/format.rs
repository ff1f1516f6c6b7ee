//! Numbers as people read them. Rounding happens here, for display only; `kpis.json` keeps
//! every value unrounded.

/// A KPI value in its unit: `1,234`, `3.25 h`, `91.5 %`; `—` when there is no value.
pub fn value(v: Option<f64>, unit: &str) -> String {
    let Some(v) = v else {
        return "—".to_string();
    };
    match unit {
        "count" => thousands(v.round() as i64),
        "hours" | "business_hours" => format!("{} h", decimals(v)),
        "days" => format!("{} d", decimals(v)),
        "percent" => format!("{:.1} %", v),
        "currency" => thousands_f(v),
        _ => decimals(v),
    }
}

/// A value as the report shows it to people: [`value`], but a duration in the unit a reader
/// uses (minutes under an hour, hours under two days, days above). Business hours stay hours:
/// a day of them is not 24 hours.
pub fn readable(v: Option<f64>, unit: &str) -> String {
    match (v, unit) {
        (Some(v), "hours") => duration(v),
        (Some(v), "days") => duration(v * 24.0),
        (Some(v), "business_hours") if v.abs() < 1.0 => duration(v),
        _ => value(v, unit),
    }
}

/// A duration in hours, in the unit a reader uses: minutes under an hour, hours under two
/// days, days above.
fn duration(hours: f64) -> String {
    let a = hours.abs();
    if a < 1.0 {
        format!("{} min", (hours * 60.0).round() as i64)
    } else if a < 48.0 {
        format!("{} h", decimals(hours))
    } else {
        format!("{} d", decimals(hours / 24.0))
    }
}

/// An instant as a reader reads it, in the report's zone (named once in the report's header):
/// `26 Oct 2026 11:32`. Files for machines keep ISO 8601.
pub fn local_time(at: chrono::DateTime<chrono::Utc>, tz: chrono_tz::Tz) -> String {
    at.with_timezone(&tz).format("%-d %b %Y %H:%M").to_string()
}

/// Text for a page: a minus sign (U+2212) for a leading hyphen, and a no-break space between a
/// number and its unit, so that a line break never tears either from the number.
pub fn on_page(text: &str) -> String {
    let text = match text.strip_prefix('-') {
        Some(rest) => format!("\u{2212}{rest}"),
        None => text.to_string(),
    };
    // only the space after the number: a currency's own text keeps its spaces
    text.replacen(' ', "\u{a0}", 1)
}

/// Two decimals below 10, one up to 100, none above: enough to compare, no false precision.
fn decimals(v: f64) -> String {
    let a = v.abs();
    if a < 10.0 {
        format!("{v:.2}")
    } else if a < 100.0 {
        format!("{v:.1}")
    } else {
        thousands(v.round() as i64)
    }
}

pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if n < 0 { format!("-{out}") } else { out }
}

fn thousands_f(v: f64) -> String {
    let cents = (v * 100.0).round() as i64;
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.abs();
    format!("{sign}{}.{:02}", thousands(cents / 100), cents % 100)
}

/// Text as a Markdown code span that stays in its table cell: copied from the page, it gives
/// the text back. The fence is longer than any run of backticks inside; a pipe is escaped,
/// because GFM splits a table's cells before it reads code spans; a line break is a space.
pub fn markdown_code(text: &str) -> String {
    if text.is_empty() {
        return String::new();
    }
    let text = text.replace(['\n', '\r'], " ").replace('|', "\\|");
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = match text.starts_with('`') || text.ends_with('`') {
        true => " ",
        false => "",
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// Escapes text for a Markdown table cell: no markup, no HTML, no column breaks.
pub fn markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '|' => out.push_str("\\|"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '~' | '!' => {
                out.push('\\');
                out.push(ch);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // Only an ampersand that could start an entity needs escaping.
            '&' if chars
                .peek()
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '#') =>
            {
                out.push_str("&amp;")
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(ch),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_span_gives_its_text_back_and_stays_in_its_cell() {
        assert_eq!(markdown_code("sample_data *x*"), "`sample_data *x*`");
        assert_eq!(markdown_code("a|b"), "`a\\|b`");
        assert_eq!(markdown_code("a`b"), "``a`b``");
        assert_eq!(markdown_code("`a``"), "``` `a`` ```");
        assert_eq!(markdown_code("two\nlines"), "`two lines`");
        assert_eq!(markdown_code(""), "");
    }

    #[test]
    fn values_in_their_units() {
        assert_eq!(value(Some(1234.0), "count"), "1,234");
        assert_eq!(value(Some(3.254), "hours"), "3.25 h");
        assert_eq!(value(Some(31.26), "hours"), "31.3 h");
        assert_eq!(value(Some(1520.4), "hours"), "1,520 h");
        // for people: minutes under an hour, days from two days; business hours stay hours
        assert_eq!(readable(Some(1520.4), "hours"), "63.4 d");
        assert_eq!(readable(Some(47.9), "hours"), "47.9 h");
        assert_eq!(readable(Some(48.0), "hours"), "2.00 d");
        assert_eq!(readable(Some(0.62), "hours"), "37 min");
        assert_eq!(readable(Some(0.5), "days"), "12.0 h");
        assert_eq!(readable(Some(3.65), "days"), "3.65 d");
        assert_eq!(readable(Some(72.3), "business_hours"), "72.3 h");
        assert_eq!(readable(Some(0.25), "business_hours"), "15 min");
        assert_eq!(readable(Some(-0.5), "currency"), "-0.50");
        assert_eq!(value(Some(91.46), "percent"), "91.5 %");
        assert_eq!(value(None, "percent"), "—");
        assert_eq!(value(Some(-1234567.891), "currency"), "-1,234,567.89");
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(-1000), "-1,000");
        assert_eq!(on_page("-1,000.00 EUR"), "\u{2212}1,000.00\u{a0}EUR");
        assert_eq!(on_page("+2.5 pts"), "+2.5\u{a0}pts");
        assert_eq!(on_page("1.00 US $"), "1.00\u{a0}US $");
        let at = chrono::DateTime::parse_from_rfc3339("2026-10-26T10:32:00Z").unwrap();
        let tz = chrono_tz::Europe::Amsterdam;
        assert_eq!(local_time(at.to_utc(), tz), "26 Oct 2026 11:32");
    }

    #[test]
    fn markdown_cells_cannot_break_out() {
        assert_eq!(markdown("a|b"), "a\\|b");
        assert_eq!(
            markdown("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(markdown("**bold** [x](y)"), "\\*\\*bold\\*\\* \\[x\\](y)");
        assert_eq!(markdown("Identity & Access"), "Identity & Access");
        assert_eq!(markdown("&lt;"), "&amp;lt;");
    }
}
