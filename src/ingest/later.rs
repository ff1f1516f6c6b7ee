//! Columns of a CSV export read only for the rows that need them: in a run that writes the
//! ledger, the text it shows and nothing computes with (titles, requesters, assignees, ...; see
//! `aside`). Parsing a title for each of a million tickets, to show the tenth of them that touch
//! the period, was a tenth of `report`'s time. Instead the export's text is kept with where each
//! row ends, and the rows shown are found again by their number and parsed as every row was: by
//! the same reader, with the same null markers. Their values are trimmed (surrounding spaces
//! removed, nothing left is null): reading a column whole trims it when its first values show
//! padding, which spares a pass over every value; here there is no such pass to spare.

use polars::prelude::*;

use super::normalize::trimmed;
use super::read::{ParsedText, column_name, parse_rows};

/// The export's text, and the columns to read from it later.
pub struct LaterColumns {
    text: ParsedText,
    /// Canonical field and its column in the export.
    fields: Vec<(String, usize)>,
}

impl LaterColumns {
    /// `fields`: canonical field and column index.
    pub fn new(text: ParsedText, fields: Vec<(String, usize)>) -> LaterColumns {
        LaterColumns { text, fields }
    }

    /// The canonical fields read later.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|(f, _)| f.as_str())
    }

    /// The fields' values on `rows` (row numbers in the export), one row each in that order;
    /// where a row is `None`, nulls.
    pub fn read(&self, rows: &[Option<u64>]) -> PolarsResult<DataFrame> {
        let wanted: Vec<u64> = rows.iter().flatten().copied().collect();
        // Read in the file's order, which finds each row's text after the one before.
        let mut order: Vec<usize> = (0..wanted.len()).collect();
        order.sort_by_key(|&k| wanted[k]);
        let mut place = vec![0 as IdxSize; wanted.len()];
        for (at, &k) in order.iter().enumerate() {
            place[k] = at as IdxSize;
        }
        let in_order: Vec<u64> = order.iter().map(|&k| wanted[k]).collect();
        let indices: Vec<usize> = self.fields.iter().map(|(_, i)| *i).collect();
        let raw = parse_rows(&self.text, &indices, &in_order)?;
        let values = raw
            .lazy()
            .select(
                self.fields
                    .iter()
                    .map(|(field, i)| trimmed(&column_name(*i)).alias(field.as_str()))
                    .collect::<Vec<_>>(),
            )
            .collect()?;
        let mut next = 0;
        let at: IdxCa = rows
            .iter()
            .map(|r| {
                r.map(|_| {
                    next += 1;
                    place[next - 1]
                })
            })
            .collect();
        values.take(&at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::read::{KeptText, ROW_COLUMN, parse_text_keeping_ends};

    fn row_numbers(frame: &DataFrame) -> Vec<u64> {
        frame
            .column(ROW_COLUMN)
            .unwrap()
            .u64()
            .unwrap()
            .iter()
            .flatten()
            .collect()
    }

    fn strings(frame: &DataFrame, name: &str) -> Vec<Option<String>> {
        frame
            .column(name)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|v| v.map(str::to_string))
            .collect()
    }

    #[test]
    fn rows_are_found_again_by_number_and_read_as_the_rest() {
        // a quoted line end, a doubled quote, a null marker, a blank line, a short row, a
        // carriage return, and a last row without a line end
        let text = "id,title,who\r\n\
                    1,\"printer\njam\",Ana\r\n\
                    2,\"say \"\"hi\"\"\",?\r\n\
                    \r\n\
                    3,short\r\n\
                    4,  padded  ,Bo\r\n\
                    5,,Cem";
        let (raw, parsed) = parse_text_keeping_ends(text.as_bytes(), &["?".to_string()]);
        assert_eq!(row_numbers(&raw), [2, 3, 5, 6, 7]);
        let later = LaterColumns::new(
            parsed,
            vec![("title".to_string(), 1), ("requester".to_string(), 2)],
        );
        assert_eq!(later.fields().collect::<Vec<_>>(), ["title", "requester"]);
        let read = later
            .read(&[Some(7), None, Some(2), Some(6), Some(3)])
            .unwrap();
        assert_eq!(
            strings(&read, "title"),
            [
                None,
                None,
                Some("printer\njam".into()),
                Some("padded".into()),
                Some("say \"hi\"".into())
            ]
        );
        assert_eq!(
            strings(&read, "requester"),
            [
                Some("Cem".into()),
                None,
                Some("Ana".into()),
                Some("Bo".into()),
                None
            ]
        );
        assert_eq!(later.read(&[]).unwrap().height(), 0);
    }

    #[test]
    fn rows_are_read_again_from_the_file_and_a_changed_file_is_refused() {
        let mut text = String::from("id,title\n");
        for i in 0..20_000 {
            text.push_str(&format!("{i},\"title {i}\"\n"));
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("export.csv");
        std::fs::write(&path, &text).unwrap();
        let (_, mut parsed) = parse_text_keeping_ends(text.as_bytes(), &[]);
        let meta = std::fs::metadata(&path).unwrap();
        parsed.text = KeptText::File {
            path: path.clone(),
            len: meta.len(),
            modified: meta.modified().ok(),
        };
        let later = LaterColumns::new(parsed, vec![("title".to_string(), 1)]);
        // rows far apart (each read on its own) and close together (read in one window)
        let rows = [20_001u64, 2, 10_000, 10_001, 10_003, 3];
        let read = later
            .read(&rows.iter().map(|r| Some(*r)).collect::<Vec<_>>())
            .unwrap();
        let expected: Vec<Option<String>> = rows
            .iter()
            .map(|r| Some(format!("title {}", r - 2)))
            .collect();
        assert_eq!(strings(&read, "title"), expected);

        std::fs::write(&path, text.replace("title 7", "title seven")).unwrap();
        let err = later.read(&[Some(2)]).unwrap_err().to_string();
        assert!(err.contains("changed"), "{err}");
    }
}
