//! The strict record count of a CSV text: how many data rows it has, which of them are
//! malformed (more or fewer fields than the header, text after a quoted field's closing quote,
//! a NUL byte), where its blank lines are, and whether carriage returns end lines alone. The CSV
//! reader fills short rows, ignores extra fields when it reads only some columns, and takes some
//! value from a quote that is not doubled; this count finds those rows so that they are rejected
//! with their row number. The CSV reader reads a blank line as a row of nulls; this count finds
//! them so that they are dropped.
//!
//! Why not a library: Polars' reader reports no malformed rows; the `csv` crate does, but skips
//! blank lines, which spreadsheet row numbers count and Polars reads as rows. A test holds this
//! count to the `csv` crate's answer on generated texts.
//!
//! It reads byte by byte, on a thread of its own beside Polars' parse. Reading 64 bytes at a time
//! as bit masks saved 4–6% of a run's time, too little for that machinery (docs/benchmarks.md).

/// Counts data rows and finds those whose field count differs from the header's. Quote-aware
/// (RFC 4180: a quote opens a quoted field only at its start, `""` inside one is a quote).
/// Rows are numbered as a spreadsheet shows the file: the header is row 1, a record is one row
/// whatever line ends its quoted fields hold, and a blank line is a row too (it is no data row).
/// It may be fed piece by piece.
pub struct FieldCounter {
    separator: u8,
    width: usize,
    state: u8,
    fields: usize,
    blank: bool,
    header: bool,
    /// Records and blank lines read whole, the header included: the last one's row number.
    lines: u64,
    rows: u64,
    malformed: Vec<MalformedRow>,
    blank_rows: Vec<u64>,
    /// What is wrong with the record being read besides its field count, and in which field
    /// (from 0): the first found.
    problem: Option<(&'static str, usize)>,
    /// A carriage return outside quotes was the last byte read: a line end if no line feed
    /// follows.
    carriage_return: bool,
    /// Whether a carriage return outside quotes ends a line on its own (classic Mac line ends).
    lone_carriage_return: bool,
    /// Bytes fed so far.
    fed: usize,
    /// Offset just past the line end of the last record (or blank line) read whole.
    ended: usize,
}

/// A record that could not be read as the header says: too few or too many fields, text after
/// a quoted field's closing quote (a quote escaped by a backslash, a stray quote), a NUL byte.
#[derive(Debug, Clone)]
pub struct MalformedRow {
    pub row: u64,
    pub problem: String,
    /// The field (from 0) the problem is in, when it is in one.
    pub field: Option<usize>,
    /// Where the record is in the text fed: from its first byte to just past its line end.
    pub span: std::ops::Range<usize>,
}

/// What a count found.
pub struct Counted {
    /// Data rows: records after the header, blank lines not included.
    pub rows: u64,
    /// Rows whose field count differs from the header's.
    pub malformed: Vec<MalformedRow>,
    /// Row numbers of the blank lines after the header.
    pub blank: Vec<u64>,
    /// The last row's number.
    pub lines: u64,
    /// Whether some line ends with a carriage return alone (outside quotes).
    pub lone_carriage_return: bool,
}

/// How far a count fed piece by piece has read: up to the line end of its last whole record.
pub struct Progress {
    /// Offset just past that line end.
    pub ended: usize,
    /// That record's row number.
    pub lines: u64,
    /// Whether some record read so far is malformed, or some line ends with a carriage return
    /// alone: the text is then read whole.
    pub irregular: bool,
}

/// Why a record whose quoted field goes on after its closing quote is rejected: a quote inside
/// quotes that is not doubled, most often one escaped with a backslash (`\"`).
pub const TEXT_AFTER_QUOTE: &str = "a quote inside a quoted field is not doubled (text follows \
     the closing quote; if the export escapes quotes with a backslash, set escape = \"\\\\\" on its source)";

/// Why a record holding a NUL byte is rejected: no export writes one in text; it is a sign of a
/// binary or corrupted file.
pub const NUL_BYTE: &str = "a NUL byte (binary data, not text)";

// States: at a field's start, inside an unquoted field, inside quotes, just after a quote inside
// quotes (which closes the field or, doubled, is a literal quote).
const START: u8 = 0;
const UNQUOTED: u8 = 1;
const QUOTED: u8 = 2;
const QUOTE: u8 = 3;

impl FieldCounter {
    pub fn new(separator: u8, width: usize) -> Self {
        FieldCounter {
            separator,
            width,
            state: START,
            fields: 1,
            blank: true,
            header: true,
            lines: 0,
            rows: 0,
            malformed: Vec::new(),
            blank_rows: Vec::new(),
            problem: None,
            carriage_return: false,
            lone_carriage_return: false,
            fed: 0,
            ended: 0,
        }
    }

    /// Ends the record (or blank line) whose line end is just before offset `end`.
    fn end_record(&mut self, blank: bool, end: usize) {
        let start = std::mem::replace(&mut self.ended, end);
        let problem = self.problem.take();
        self.lines += 1;
        if blank {
            if !self.header {
                self.blank_rows.push(self.lines);
            }
            return;
        }
        if self.header {
            self.header = false;
            return;
        }
        self.rows += 1;
        let (problem, field) = match problem {
            Some((what, field)) => (what.to_string(), Some(field)),
            None if self.fields != self.width => (
                format!(
                    "row has {} fields, the header has {}",
                    self.fields, self.width
                ),
                None,
            ),
            None => return,
        };
        self.malformed.push(MalformedRow {
            row: self.lines,
            problem,
            field,
            span: start..end,
        });
    }

    /// Notes the first problem of the record being read, in the field being read.
    fn note(&mut self, what: &'static str) {
        if self.problem.is_none() {
            self.problem = Some((what, self.fields - 1));
        }
    }

    /// Reads the next piece of the text.
    pub fn feed(&mut self, bytes: &[u8]) {
        let base = self.fed;
        let separator = self.separator;
        let mut state = self.state;
        for (i, &b) in bytes.iter().enumerate() {
            if std::mem::take(&mut self.carriage_return) && b != b'\n' {
                self.lone_carriage_return = true;
            }
            if b == 0 {
                self.note(NUL_BYTE);
            }
            match state {
                QUOTED => {
                    if b == b'"' {
                        state = QUOTE;
                    }
                }
                QUOTE => {
                    state = if b == b'"' { QUOTED } else { UNQUOTED };
                    if b == separator {
                        self.fields += 1;
                        state = START;
                    } else if b == b'\n' {
                        self.end_record(false, base + i + 1);
                        self.fields = 1;
                        self.blank = true;
                        state = START;
                    } else if b == b'\r' {
                        self.carriage_return = true;
                    } else if b != b'"' {
                        self.note(TEXT_AFTER_QUOTE);
                    }
                }
                _ => {
                    if b == separator {
                        self.fields += 1;
                        self.blank = false;
                        state = START;
                    } else if b == b'\n' {
                        let blank = self.blank && self.fields == 1;
                        self.end_record(blank, base + i + 1);
                        self.fields = 1;
                        self.blank = true;
                        state = START;
                    } else if b == b'"' && state == START {
                        self.blank = false;
                        state = QUOTED;
                    } else if b == b'\r' {
                        self.carriage_return = true;
                    } else {
                        self.blank = false;
                        state = UNQUOTED;
                    }
                }
            }
        }
        self.state = state;
        self.fed += bytes.len();
    }

    /// How far the records fed so far have been read.
    pub fn progress(&self) -> Progress {
        Progress {
            ended: self.ended,
            lines: self.lines,
            irregular: !self.malformed.is_empty() || self.lone_carriage_return,
        }
    }

    /// The row numbers of the blank lines read so far.
    pub fn blank_rows(&self) -> &[u64] {
        &self.blank_rows
    }

    /// What the count found, once the whole text is fed.
    pub fn finish(mut self) -> Result<Counted, String> {
        if self.state == QUOTED {
            return Err(format!(
                "the quoted field {} of row {} is never closed: the file ends inside it; a \
                 quote inside a quoted field is written twice (`\"\"`)",
                self.fields,
                self.lines + 1
            ));
        }
        if self.carriage_return {
            self.lone_carriage_return = true;
        }
        // the last line, unless the text ends with a line end
        if self.fed > self.ended {
            let blank = self.blank && self.fields == 1;
            self.end_record(blank, self.fed);
        }
        Ok(Counted {
            rows: self.rows,
            malformed: self.malformed,
            blank: self.blank_rows,
            lines: self.lines,
            lone_carriage_return: self.lone_carriage_return,
        })
    }
}

#[cfg(test)]
pub fn check_field_counts(text: &[u8], separator: u8, width: usize) -> Result<Counted, String> {
    let mut counter = FieldCounter::new(separator, width);
    counter.feed(text);
    counter.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A CSV text of a header of `width` fields and the given records, each field plain or
    /// quoted (with separators, quotes and line ends inside), lines ending in LF or CRLF.
    fn csv_text(width: usize, records: &[Vec<(String, bool)>], crlf: bool) -> Vec<u8> {
        let end = if crlf { "\r\n" } else { "\n" };
        let mut text = vec!["h"; width].join(",") + end;
        for record in records {
            let fields: Vec<String> = record
                .iter()
                .map(|(f, quoted)| {
                    if *quoted {
                        format!("\"{}\"", f.replace('"', "\"\""))
                    } else {
                        f.clone()
                    }
                })
                .collect();
            text.push_str(&fields.join(","));
            text.push_str(end);
        }
        text.into_bytes()
    }

    proptest! {
        /// The count agrees with the `csv` crate on the records, and on which of them have
        /// another number of fields than the header, on texts without blank lines.
        #[test]
        fn counts_agree_with_the_csv_crate(
            width in 1usize..5,
            records in proptest::collection::vec(
                proptest::collection::vec(
                    prop_oneof![
                        "[a-z0-9 ]{1,4}".prop_map(|f| (f, false)),
                        "[a-z,\"\n\r ]{0,6}".prop_map(|f| (f, true)),
                    ],
                    1..6,
                ),
                0..40,
            ),
            crlf in any::<bool>(),
        ) {
            let text = csv_text(width, &records, crlf);
            let counted = check_field_counts(&text, b',', width).unwrap();
            let mut reader = csv::ReaderBuilder::new()
                .flexible(true)
                .from_reader(text.as_slice());
            let mut rows = 0u64;
            let mut malformed = Vec::new();
            for (i, record) in reader.byte_records().enumerate() {
                rows += 1;
                if record.unwrap().len() != width {
                    malformed.push(i as u64 + 2);
                }
            }
            prop_assert_eq!(counted.rows, rows);
            let found: Vec<u64> = counted.malformed.iter().map(|m| m.row).collect();
            prop_assert_eq!(found, malformed);
            prop_assert!(counted.blank.is_empty());
        }
    }

    type Outcome = (u64, Vec<(u64, String)>, Vec<u64>, bool);

    /// The count of the text fed in two pieces, split at `split`.
    fn in_two_pieces(text: &[u8], separator: u8, width: usize, split: usize) -> Outcome {
        let mut counter = FieldCounter::new(separator, width);
        let split = split.min(text.len());
        counter.feed(&text[..split]);
        counter.feed(&text[split..]);
        match counter.finish() {
            Ok(c) => (
                c.rows,
                c.malformed
                    .into_iter()
                    .map(|m| (m.row, m.problem))
                    .collect(),
                c.blank,
                c.lone_carriage_return,
            ),
            Err(_) => (u64::MAX, Vec::new(), Vec::new(), false),
        }
    }

    #[test]
    fn field_counts_are_checked() {
        let counted =
            check_field_counts(b"a,b,c\n1,2,3\n\n1,2\n\"x\ny\",2,3,4\n\r\n", b',', 3).unwrap();
        assert_eq!(counted.rows, 3);
        let bad: Vec<u64> = counted.malformed.iter().map(|m| m.row).collect();
        assert_eq!(bad, vec![4, 5]);
        assert_eq!(counted.blank, vec![3, 6]);
    }

    #[test]
    fn quotes_not_doubled_and_nul_bytes_make_a_row_malformed() {
        let text =
            b"a,b\n\"\\\"><img>\",1\n\"ok\",2\n\"a \"stray\" quote\",3\nx\0y,4\n\"\"\"ok\"\"\",5";
        let counted = check_field_counts(text, b',', 2).unwrap();
        assert_eq!(counted.rows, 5);
        let found: Vec<(u64, &str, Option<usize>, &[u8])> = counted
            .malformed
            .iter()
            .map(|m| (m.row, m.problem.as_str(), m.field, &text[m.span.clone()]))
            .collect();
        assert_eq!(
            found,
            [
                (2, TEXT_AFTER_QUOTE, Some(0), &b"\"\\\"><img>\",1\n"[..]),
                (
                    4,
                    TEXT_AFTER_QUOTE,
                    Some(0),
                    &b"\"a \"stray\" quote\",3\n"[..]
                ),
                (5, NUL_BYTE, Some(0), &b"x\0y,4\n"[..]),
            ]
        );
        assert!(!counted.lone_carriage_return);
    }

    #[test]
    fn carriage_returns_alone_are_line_ends_only_outside_quotes() {
        let lone = |text: &[u8]| {
            check_field_counts(text, b',', 2)
                .unwrap()
                .lone_carriage_return
        };
        assert!(lone(b"a,b\r1,2\r"));
        assert!(lone(b"a,b\n1,2\r\n3,4\r5,6\n"));
        assert!(lone(b"a,b\n\"x\"\r"));
        assert!(!lone(b"a,b\r\n\"two\rlines\",2\r\n"));
        assert!(!lone(b"a,b\n1,2"));
        // after stray quotes, the carriage returns of a quoted field are inside it
        let field = &b"\"\\\"x\\\"\""[..];
        let quoted = &b"\"quoted, with \"\" and \n inside\""[..];
        let text = [
            field, field, b"\"\"", field, b"abc", field, b"abc", b"abc", field, quoted, b"\n",
            b"\"", b"\r\r", quoted, quoted,
        ]
        .concat();
        assert!(!in_two_pieces(&text, b',', 1, text.len()).3);
    }

    #[test]
    fn long_quoted_rows_with_line_ends_are_counted() {
        let mut text = b"\"number\",\"opened_at\",\"short_description\"\r\n".to_vec();
        for i in 0..500 {
            text.extend_from_slice(
                format!("\"INC{i:07}\",\"2026-10-01 08:00:00\",\"printer, \"\"3rd\"\" floor\nroom {i}\"\r\n")
                    .as_bytes(),
            );
        }
        text.extend_from_slice(b"\"INC9\",\"short\"\r\n\r\n");
        let counted = check_field_counts(&text, b',', 3).unwrap();
        assert_eq!(counted.rows, 501);
        assert_eq!(counted.malformed.len(), 1);
        assert_eq!(counted.malformed[0].row, 502);
        assert_eq!(counted.blank, vec![503]);
    }

    proptest! {
        // Texts made of the bytes that matter, in long runs and short: a text fed in two pieces
        // counts as the whole text does, wherever the pieces meet (a CRLF, a doubled quote).
        #[test]
        fn pieces_count_as_the_whole_text(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just(&b"abc"[..]), Just(&b","[..]), Just(&b"\""[..]), Just(&b"\"\""[..]),
                    Just(&b"\n"[..]), Just(&b"\r\n"[..]), Just(&b"\r"[..]),
                    Just(&b"\"quoted, with \"\" and \n inside\""[..]),
                    Just(&b"plain text of some length"[..]),
                    Just(&b"\"\\\"x\\\"\""[..]), Just(&b"\0"[..]), Just(&b"\r\r"[..]),
                ],
                0..120,
            ),
            width in 1usize..5,
            split in 0usize..400,
        ) {
            let text: Vec<u8> = parts.concat();
            prop_assert_eq!(
                in_two_pieces(&text, b',', width, split),
                in_two_pieces(&text, b',', width, text.len())
            );
        }
    }
}
