//! Numbers as people read them. Rounding happens here, for display only; `kpis.json` keeps
//! every value unrounded.

/// A KPI value in its unit: `1,234`, `3.25 h`, `91.5 %`; `—` when there is no value.
pub fn value(v: Option<f64>, unit: &str) -> String {
    let Some(v) = v else {
        return "—".to_string();
    };
    match unit {
        "count" => thousands(v.round() as i64),
        "hours" => format!("{} h", decimals(v)),
        "days" => format!("{} d", decimals(v)),
        "percent" => format!("{:.1} %", v),
        "currency" => thousands_f(v),
        _ => decimals(v),
    }
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
    format!("{}.{:02}", thousands(cents / 100), (cents % 100).abs())
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
    fn values_in_their_units() {
        assert_eq!(value(Some(1234.0), "count"), "1,234");
        assert_eq!(value(Some(3.254), "hours"), "3.25 h");
        assert_eq!(value(Some(31.26), "hours"), "31.3 h");
        assert_eq!(value(Some(1520.4), "hours"), "1,520 h");
        assert_eq!(value(Some(91.46), "percent"), "91.5 %");
        assert_eq!(value(None, "percent"), "—");
        assert_eq!(value(Some(-1234567.891), "currency"), "-1,234,567.89");
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(-1000), "-1,000");
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
