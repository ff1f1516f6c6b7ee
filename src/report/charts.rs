//! Inline SVG charts: no script, no font file, no request. Colours come from the page's CSS
//! classes, so charts follow its light and dark themes and print cleanly. Every label is
//! escaped: group and service names come from tickets.

use std::fmt::Write as _;

const WIDTH: f64 = 640.0;

/// XML text escaping for labels.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A round upper bound for an axis: 1, 2 or 5 times a power of ten.
fn nice_max(max: f64) -> f64 {
    if max <= 0.0 || !max.is_finite() {
        return 1.0;
    }
    let magnitude = 10f64.powf(max.log10().floor());
    for step in [1.0, 2.0, 5.0, 10.0] {
        if max <= step * magnitude {
            return step * magnitude;
        }
    }
    10.0 * magnitude
}

/// Whether a positive number is 1, 2 or 5 times a power of ten.
fn is_round(v: f64) -> bool {
    if v <= 0.0 || !v.is_finite() {
        return false;
    }
    let magnitude = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .any(|s| (v - s * magnitude).abs() < 1e-9 * v)
}

fn short(label: &str, max: usize) -> String {
    if label.chars().count() <= max {
        label.to_string()
    } else {
        let cut: String = label.chars().take(max - 1).collect();
        format!("{cut}…")
    }
}

/// Vertical bars, one group per category, one bar per series (at most three series).
pub fn grouped_bars(title: &str, categories: &[String], series: &[(&str, Vec<f64>)]) -> String {
    let height = 220.0;
    let (left, right, top, bottom) = (44.0, 8.0, 24.0, 36.0);
    let plot_w = WIDTH - left - right;
    let plot_h = height - top - bottom;
    let max = nice_max(
        series
            .iter()
            .flat_map(|(_, v)| v.iter().copied())
            .filter(|v| !v.is_nan())
            .fold(0.0, f64::max),
    );
    let group_w = plot_w / categories.len().max(1) as f64;
    let bar_w = (group_w * 0.8 / series.len().max(1) as f64).max(1.0);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" aria-label="{t}"><title>{t}</title>"#,
        t = escape(title)
    );
    // Five ticks when a fifth of the bound is round (50 → 10s), else four (200 → 50s).
    let ticks = if is_round(max / 5.0) { 5 } else { 4 };
    for i in 0..=ticks {
        let v = max * i as f64 / ticks as f64;
        let y = top + plot_h - plot_h * i as f64 / ticks as f64;
        let _ = write!(
            svg,
            r#"<line class="grid" x1="{left}" y1="{y:.1}" x2="{x2:.1}" y2="{y:.1}"/><text class="axis" x="{lx:.1}" y="{ty:.1}" text-anchor="end">{v}</text>"#,
            x2 = WIDTH - right,
            lx = left - 4.0,
            ty = y + 4.0,
            v = axis_label(v)
        );
    }
    for (c, category) in categories.iter().enumerate() {
        let x0 = left + group_w * c as f64 + group_w * 0.1;
        for (s, (name, values)) in series.iter().enumerate() {
            let v = values.get(c).copied().unwrap_or(0.0);
            // no value (NaN) is no bar, not a bar of zero
            if v.is_nan() {
                continue;
            }
            let h = plot_h * v / max;
            let _ = write!(
                svg,
                r#"<rect class="s{s}" x="{x:.1}" y="{y:.1}" width="{bar_w:.1}" height="{h:.1}"><title>{cat}: {name} {v}</title></rect>"#,
                x = x0 + bar_w * s as f64,
                y = top + plot_h - h,
                cat = escape(category),
                name = escape(name),
                v = axis_label(v)
            );
        }
        let _ = write!(
            svg,
            r#"<text class="axis" x="{x:.1}" y="{y:.1}" text-anchor="middle">{label}</text>"#,
            x = left + group_w * c as f64 + group_w / 2.0,
            y = height - bottom + 14.0,
            label = escape(&short(category, 8))
        );
    }
    for (s, (name, _)) in series.iter().enumerate() {
        let x = left + 120.0 * s as f64;
        let _ = write!(
            svg,
            r#"<rect class="s{s}" x="{x:.1}" y="6" width="10" height="10"/><text class="legend" x="{tx:.1}" y="15">{n}</text>"#,
            tx = x + 14.0,
            n = escape(name)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Horizontal bars with their values written beside them; `max` fixes the scale (100 for
/// percentages), else the largest value sets it.
pub fn hbars(title: &str, rows: &[(String, Option<f64>, String)], max: Option<f64>) -> String {
    let row_h = 22.0;
    let (left, right, top) = (150.0, 90.0, 6.0);
    let height = top * 2.0 + row_h * rows.len().max(1) as f64;
    let plot_w = WIDTH - left - right;
    let scale =
        max.unwrap_or_else(|| nice_max(rows.iter().filter_map(|r| r.1).fold(0.0, f64::max)));
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" aria-label="{t}"><title>{t}</title>"#,
        t = escape(title)
    );
    for (i, (label, value, shown)) in rows.iter().enumerate() {
        let y = top + row_h * i as f64;
        let w = value.map_or(0.0, |v| plot_w * (v / scale).clamp(0.0, 1.0));
        let _ = write!(
            svg,
            r#"<text class="axis" x="{lx:.1}" y="{ty:.1}" text-anchor="end">{l}</text><rect class="track" x="{left}" y="{by:.1}" width="{plot_w:.1}" height="14"/><rect class="s0" x="{left}" y="{by:.1}" width="{w:.1}" height="14"/><text class="value" x="{vx:.1}" y="{ty:.1}">{v}</text>"#,
            lx = left - 6.0,
            ty = y + 15.0,
            l = escape(&short(label, 22)),
            by = y + 4.0,
            vx = left + plot_w + 6.0,
            v = escape(shown)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A small line of values over periods (gaps where a value is missing), with its scale (the
/// lowest and highest value, as `shown` writes them) on the left and the first and last period
/// under it.
pub fn sparkline(
    title: &str,
    values: &[Option<f64>],
    periods: &[String],
    shown: impl Fn(f64) -> String,
) -> String {
    let (w, h, left, pad, below) = (230.0, 50.0, 62.0, 4.0, 14.0);
    let plot_h = h - below - 2.0 * pad;
    let present: Vec<f64> = values.iter().flatten().copied().collect();
    let (lo, hi) = present
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(*v), b.max(*v))
        });
    let span = if hi > lo { hi - lo } else { 1.0 };
    let step = if values.len() > 1 {
        (w - left - 2.0 * pad) / (values.len() - 1) as f64
    } else {
        0.0
    };
    let at = |i: usize, v: f64| {
        let x = left + pad + step * i as f64;
        let y = pad + plot_h - plot_h * if hi > lo { (v - lo) / span } else { 0.5 };
        (x, y)
    };
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="spark" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{t}"><title>{t}</title>"#,
        t = escape(title)
    );
    if !present.is_empty() {
        let _ = write!(
            svg,
            r#"<text class="axis" x="{x}" y="{top:.1}" text-anchor="end">{hi}</text><text class="axis" x="{x}" y="{bottom:.1}" text-anchor="end">{lo}</text>"#,
            x = left - 4.0,
            top = pad + 8.0,
            bottom = pad + plot_h,
            hi = escape(&shown(hi)),
            lo = escape(&shown(lo)),
        );
    }
    svg.push_str(&first_and_last(periods, left + pad, w - pad, h - 2.0));
    let path = line_path(values, at);
    if !path.is_empty() {
        let _ = write!(svg, r#"<path class="line" d="{}"/>"#, path.trim_end());
    }
    if let Some((i, Some(v))) = values.iter().enumerate().rev().find(|(_, v)| v.is_some()) {
        let (x, y) = at(i, *v);
        let _ = write!(
            svg,
            r#"<circle class="dot" cx="{x:.1}" cy="{y:.1}" r="2.5"/>"#
        );
    }
    svg.push_str("</svg>");
    svg
}

/// The first and last periods, under a sparkline's first and last points.
fn first_and_last(periods: &[String], x0: f64, x1: f64, y: f64) -> String {
    let mut labels = String::new();
    if let (Some(first), Some(last)) = (periods.first(), periods.last()) {
        let _ = write!(
            labels,
            r#"<text class="axis" x="{x0:.1}" y="{y}" text-anchor="start">{first}</text>"#,
            first = escape(first)
        );
        if periods.len() > 1 {
            let _ = write!(
                labels,
                r#"<text class="axis" x="{x1:.1}" y="{y}" text-anchor="end">{last}</text>"#,
                last = escape(last)
            );
        }
    }
    labels
}

/// An SVG path through the values placed by `at`, lifted over each missing one.
fn line_path(values: &[Option<f64>], at: impl Fn(usize, f64) -> (f64, f64)) -> String {
    let mut path = String::new();
    let mut pen_down = false;
    for (i, v) in values.iter().enumerate() {
        match v {
            Some(v) => {
                let (x, y) = at(i, *v);
                let _ = write!(path, "{}{x:.1},{y:.1} ", if pen_down { "L" } else { "M" });
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    path
}

fn axis_label(v: f64) -> String {
    if v.fract() == 0.0 {
        super::format::thousands(v as i64)
    } else if v.abs() < 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped() {
        let svg = hbars(
            "<script>",
            &[("<script>alert(1)</script>".into(), Some(3.0), "3".into())],
            None,
        );
        assert!(!svg.contains("<script"));
        assert!(svg.contains("&lt;script&gt;"));
    }

    #[test]
    fn axis_bounds_are_round() {
        assert_eq!(nice_max(137.0), 200.0);
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(45.0), 50.0);
        assert_eq!(nice_max(100.0), 100.0);
    }

    #[test]
    fn sparkline_breaks_at_missing_values() {
        let periods: Vec<String> = ["2026-07", "2026-08", "2026-09", "2026-10"]
            .map(String::from)
            .to_vec();
        let svg = sparkline(
            "x",
            &[Some(1.0), None, Some(3.0), Some(2.0)],
            &periods,
            |v| format!("{v} h"),
        );
        assert_eq!(
            svg.matches(" M").count() + svg.matches("\"M").count(),
            2,
            "{svg}"
        );
        // the scale and the first and last period are written on it
        for text in [">3 h<", ">1 h<", ">2026-07<", ">2026-10<"] {
            assert!(svg.contains(text), "{text}: {svg}");
        }
    }
}
