//! A change of a figure split by the keys of one dimension into parts that add up to it.
//!
//! A count is the sum of its keys' counts, so each key's part is its own change. A mean (and a
//! percentage, the mean of a yes/no) is `M = Σ w·m` over the keys, with `w` a key's share of the
//! tickets and `m` its mean. Its change splits exactly into
//!
//! - *rate*: `w̄·(m₁ − m₀)`, the key got slower or faster at its average share, and
//! - *mix*: `(m̄ − M̄)·(w₁ − w₀)`, the key's share moved, counted by how far the key sits from
//!   the overall mean (a larger share of a slower-than-average key raises the mean),
//!
//! where a bar is the average of the two periods. Summed over the keys, rate and mix give
//! `M₁ − M₀` (the `M̄` term drops out because the shares add up to one in both periods). A key
//! with tickets in one period only has no change of its own mean: all of its part is mix.

use serde::Serialize;

/// One key's figure in one period: its tickets and its value (none without tickets).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Cell {
    pub n: u64,
    pub value: Option<f64>,
}

/// A key, its cell in the previous period and its cell now.
pub type KeyCells = (String, Cell, Cell);

/// One key's part of a change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Part {
    pub key: String,
    pub n_before: u64,
    pub n_after: u64,
    pub before: Option<f64>,
    pub after: Option<f64>,
    /// Of a mean: the part due to the key's share of the tickets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mix: Option<f64>,
    /// Of a mean: the part due to the key's own value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// The key's part of the change: its change of count, or mix + rate.
    pub change: f64,
}

/// Each key's change of a count; a key absent from a period counts 0 there.
pub fn count_parts(cells: &[KeyCells]) -> Vec<Part> {
    cells
        .iter()
        .map(|(key, before, after)| {
            let (before_count, after_count) =
                (before.value.unwrap_or(0.0), after.value.unwrap_or(0.0));
            Part {
                key: key.clone(),
                n_before: before.n,
                n_after: after.n,
                before: Some(before_count),
                after: Some(after_count),
                mix: None,
                rate: None,
                change: after_count - before_count,
            }
        })
        .collect()
}

/// The weighted mean of the cells, and their tickets: what the keys add up to.
pub fn weighted_mean(cells: impl Iterator<Item = Cell>) -> Option<(f64, u64)> {
    let (mut sum, mut n) = (0.0, 0u64);
    for cell in cells {
        if let Some(v) = cell.value {
            sum += v * cell.n as f64;
            n += cell.n;
        }
    }
    (n > 0).then(|| (sum / n as f64, n))
}

/// Each key's mix and rate parts of the change of a mean; none when a period has no tickets.
pub fn mean_parts(cells: &[KeyCells]) -> Option<Vec<Part>> {
    let (mean_before, n_before) = weighted_mean(cells.iter().map(|c| c.1))?;
    let (mean_after, n_after) = weighted_mean(cells.iter().map(|c| c.2))?;
    let overall = (mean_before + mean_after) / 2.0;
    let share = |cell: &Cell, total: u64| match cell.value {
        Some(_) => cell.n as f64 / total as f64,
        None => 0.0,
    };
    let parts = cells
        .iter()
        .filter_map(|(key, before, after)| {
            // a key measured in one period only keeps that mean in the other: no rate part
            let m0 = before.value.or(after.value)?;
            let m1 = after.value.or(before.value)?;
            let (w0, w1) = (share(before, n_before), share(after, n_after));
            let rate = (w0 + w1) / 2.0 * (m1 - m0);
            let mix = ((m0 + m1) / 2.0 - overall) * (w1 - w0);
            Some(Part {
                key: key.clone(),
                n_before: before.n,
                n_after: after.n,
                before: before.value,
                after: after.value,
                mix: Some(mix),
                rate: Some(rate),
                change: mix + rate,
            })
        })
        .collect();
    Some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cell(n: u64, value: f64) -> Cell {
        Cell {
            n,
            value: (n > 0).then_some(value),
        }
    }

    fn keyed(cells: &[(&str, Cell, Cell)]) -> Vec<(String, Cell, Cell)> {
        cells
            .iter()
            .map(|(k, a, b)| (k.to_string(), *a, *b))
            .collect()
    }

    fn part<'a>(parts: &'a [Part], key: &str) -> &'a Part {
        parts.iter().find(|p| p.key == key).unwrap()
    }

    #[test]
    fn a_pure_rate_change_has_no_mix() {
        // 50 tickets each in both periods; A went from 10 h to 20 h, B stayed at 10 h:
        // the mean went from 10 h to 15 h, all of it A's rate.
        let parts = mean_parts(&keyed(&[
            ("A", cell(50, 10.0), cell(50, 20.0)),
            ("B", cell(50, 10.0), cell(50, 10.0)),
        ]))
        .unwrap();
        let a = part(&parts, "A");
        assert_eq!((a.rate, a.mix, a.change), (Some(5.0), Some(0.0), 5.0));
        let b = part(&parts, "B");
        assert_eq!((b.rate, b.mix, b.change), (Some(0.0), Some(0.0), 0.0));
    }

    #[test]
    fn a_pure_mix_change_has_no_rate() {
        // A takes 10 h, B 30 h in both periods; B's share went from a quarter to three
        // quarters: the mean went from 15 h to 25 h. Average of the means 20 h, so each key
        // moved it by |m − 20| × 0.5 = 5 h, both upwards (fewer fast tickets, more slow ones).
        let parts = mean_parts(&keyed(&[
            ("A", cell(75, 10.0), cell(25, 10.0)),
            ("B", cell(25, 30.0), cell(75, 30.0)),
        ]))
        .unwrap();
        for key in ["A", "B"] {
            let p = part(&parts, key);
            assert_eq!(
                (p.rate, p.mix, p.change),
                (Some(0.0), Some(5.0), 5.0),
                "{key}"
            );
        }
    }

    #[test]
    fn a_key_of_one_period_only_is_all_mix() {
        // Before: A 10 tickets at 4 h. After: A 10 at 4 h and a new C 10 at 8 h: mean 4 → 6.
        let parts = mean_parts(&keyed(&[
            ("A", cell(10, 4.0), cell(10, 4.0)),
            ("C", cell(0, 0.0), cell(10, 8.0)),
        ]))
        .unwrap();
        let c = part(&parts, "C");
        assert_eq!(c.rate, Some(0.0));
        // C sits 3 h above the average mean of 5 h and gained half the tickets: 1.5 h;
        // A sits 1 h below it and lost half: 0.5 h.
        assert_eq!(c.mix, Some(1.5));
        assert_eq!(part(&parts, "A").mix, Some(0.5));
    }

    #[test]
    fn a_count_splits_into_each_keys_change() {
        let parts = count_parts(&keyed(&[
            ("A", cell(40, 40.0), cell(70, 70.0)),
            ("B", cell(60, 60.0), cell(50, 50.0)),
        ]));
        assert_eq!(part(&parts, "A").change, 30.0);
        assert_eq!(part(&parts, "B").change, -10.0);
    }

    #[test]
    fn a_period_without_tickets_has_no_split() {
        assert_eq!(
            mean_parts(&keyed(&[("A", cell(0, 0.0), cell(5, 1.0))])),
            None
        );
    }

    proptest! {
        /// Whatever the keys, their counts and means, mix and rate add up to the change of the
        /// weighted mean.
        #[test]
        fn the_parts_add_up_to_the_change(
            cells in prop::collection::vec((0u64..500, 0.0f64..1000.0, 0u64..500, 0.0f64..1000.0), 1..12)
        ) {
            let cells: Vec<(String, Cell, Cell)> = cells
                .iter()
                .enumerate()
                .map(|(i, (n0, m0, n1, m1))| (format!("k{i}"), cell(*n0, *m0), cell(*n1, *m1)))
                .collect();
            let before = weighted_mean(cells.iter().map(|c| c.1));
            let after = weighted_mean(cells.iter().map(|c| c.2));
            let parts = mean_parts(&cells);
            prop_assert_eq!(parts.is_some(), before.is_some() && after.is_some());
            if let (Some(parts), Some((m0, _)), Some((m1, _))) = (parts, before, after) {
                let sum: f64 = parts.iter().map(|p| p.change).sum();
                prop_assert!((sum - (m1 - m0)).abs() <= 1e-9 * m0.abs().max(m1.abs()).max(1.0));
                for p in &parts {
                    prop_assert_eq!(p.change, p.mix.unwrap() + p.rate.unwrap());
                }
            }
        }
    }
}
