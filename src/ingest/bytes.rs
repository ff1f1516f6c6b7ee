//! The bytes of an export as text: read from disk (mapped where they can be used as they are),
//! decompressed when they are gzip's, and decoded from the encoding their byte-order mark or
//! their source declares into UTF-8.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;

/// The bytes of a file: mapped from disk when they can be used as they are, or from the
/// temporary file a long text was decompressed or converted into; owned otherwise.
#[derive(Clone)]
pub enum Bytes {
    Mapped(Arc<memmap2::Mmap>),
    Owned(Arc<Vec<u8>>),
}

impl Bytes {
    pub fn as_slice(&self) -> &[u8] {
        match self {
            Bytes::Mapped(m) => m,
            Bytes::Owned(v) => v,
        }
    }

    /// Gives a mapped file's pages in `range` back to the system: they no longer count towards
    /// the process's memory, and are read again from the file if they are used again. Owned
    /// bytes stay as they are.
    pub fn release(&self, range: std::ops::Range<usize>) {
        if let Bytes::Mapped(m) = self {
            let end = range.end.min(m.len());
            let start = range.start.min(end);
            // SAFETY: the map is read-only; after `DontNeed` a page is read from the file again,
            // and holds what it held (the assumption of mapping the file at all, `map_file`).
            let _ = unsafe {
                m.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start, end - start)
            };
        }
    }
}

fn is_gzip(bytes: &Bytes) -> bool {
    bytes.as_slice().starts_with(&[0x1f, 0x8b])
}

/// The file's bytes, decompressed when they are gzip's, whatever the file is called. A text
/// longer than `long` bytes is decompressed into an unnamed temporary file and mapped, so that
/// its pages can be given back as it is read in stretches ([`Bytes::release`]), which bytes
/// held in memory cannot.
fn gunzip(on_disk: &Bytes, long: Option<usize>) -> Result<Bytes, String> {
    if !is_gzip(on_disk) {
        return Ok(on_disk.clone());
    }
    let fail =
        |e: std::io::Error| format!("it looks gzip-compressed but cannot be decompressed: {e}");
    let mut decoder = flate2::read::MultiGzDecoder::new(on_disk.as_slice());
    let mut out = Vec::new();
    let Some(long) = long else {
        decoder.read_to_end(&mut out).map_err(fail)?;
        return Ok(Bytes::Owned(Arc::new(out)));
    };
    (&mut decoder)
        .take((long as u64).saturating_add(1))
        .read_to_end(&mut out)
        .map_err(fail)?;
    if out.len() <= long {
        return Ok(Bytes::Owned(Arc::new(out)));
    }
    match spill(&out, &mut decoder) {
        Ok(map) => Ok(Bytes::Mapped(Arc::new(map))),
        Err(Spill::Gzip(e)) => Err(fail(e)),
        Err(Spill::File(e)) => {
            crate::log::note(&format!(
                "warning: cannot decompress into a temporary file ({e}; set TMPDIR to a \
                 writable directory): decompressed in memory"
            ));
            // Some of the text went to the file: decompressed again from its start.
            out.clear();
            flate2::read::MultiGzDecoder::new(on_disk.as_slice())
                .read_to_end(&mut out)
                .map_err(fail)?;
            Ok(Bytes::Owned(Arc::new(out)))
        }
    }
}

/// Why a text could not be decompressed into a temporary file.
enum Spill {
    Gzip(std::io::Error),
    File(std::io::Error),
}

/// `start` and the rest of what `decoder` gives, written to an unnamed temporary file, mapped.
fn spill(start: &[u8], decoder: &mut impl Read) -> Result<memmap2::Mmap, Spill> {
    let file = tempfile::tempfile().map_err(Spill::File)?;
    let mut writer = std::io::BufWriter::new(&file);
    writer.write_all(start).map_err(Spill::File)?;
    let mut block = vec![0; 1 << 20];
    loop {
        let n = decoder.read(&mut block).map_err(Spill::Gzip)?;
        if n == 0 {
            break;
        }
        writer.write_all(&block[..n]).map_err(Spill::File)?;
    }
    writer.flush().map_err(Spill::File)?;
    drop(writer);
    // SAFETY: a file of this process's own, which nothing else knows of or writes.
    unsafe { memmap2::Mmap::map(&file) }.map_err(Spill::File)
}

/// The file as it is on disk: mapped, or read where it cannot be mapped.
pub fn map_file(path: &Path) -> std::io::Result<Bytes> {
    let file = std::fs::File::open(path)?;
    if file.metadata()?.len() == 0 {
        return Ok(Bytes::Owned(Arc::new(Vec::new())));
    }
    // SAFETY: the map is read-only; an export changed by another program while deskpulse reads
    // it gives garbled rows, which are reported like any other bad row.
    match unsafe { memmap2::Mmap::map(&file) } {
        Ok(m) => Ok(Bytes::Mapped(Arc::new(m))),
        Err(_) => Ok(Bytes::Owned(Arc::new(std::fs::read(path)?))),
    }
}

/// A file read as text: its bytes as they are on disk, and the UTF-8 text they hold.
pub struct Text {
    pub on_disk: Bytes,
    pub compressed: bool,
    pub text: Bytes,
    /// Where the text starts (after a byte-order mark).
    pub start: usize,
    pub encoding: &'static str,
}

impl Text {
    /// The text after any byte-order mark.
    pub fn body(&self) -> &[u8] {
        &self.text.as_slice()[self.start..]
    }
}

/// Reads a file, decompresses it when it is gzip's and decodes it (see [`decode`]); an
/// encoding assumed rather than known is said on stderr.
pub fn read_text(
    path: &Path,
    shown: &str,
    declared: Option<&'static encoding_rs::Encoding>,
) -> Result<Text, String> {
    let on_disk = map_file(path).map_err(|e| format!("cannot read it: {e}"))?;
    decode_file(on_disk, shown, declared, None)
}

/// [`read_text`] of a file already read. A text of more than `long` bytes, which is read in
/// stretches, is never held whole: its pages are given back as they are checked (see
/// [`Bytes::release`]), and decompressed into a temporary file (see [`gunzip`]).
pub fn decode_file(
    on_disk: Bytes,
    shown: &str,
    declared: Option<&'static encoding_rs::Encoding>,
    long: Option<usize>,
) -> Result<Text, String> {
    let compressed = is_gzip(&on_disk);
    let text = gunzip(&on_disk, long)?;
    let is_long = long.is_some_and(|long| text.as_slice().len() > long);
    let (text, start, encoding) = decode(text, declared, is_long)?;
    if encoding.ends_with(UNMARKED) {
        crate::log::note(&format!(
            "{shown}: the text is {encoding}: recognised by its NUL bytes; if it is not, say \
             which encoding it is in with `encoding = \"...\"` in its [[sources]]"
        ));
    }
    if encoding == ASSUMED_WINDOWS_1252 {
        crate::log::note(&format!(
            "{shown}: the text is not UTF-8 and its source declares no encoding: read as \
             Windows-1252; if it is another, say which with `encoding = \"...\"` in its [[sources]]"
        ));
    }
    Ok(Text {
        on_disk,
        compressed,
        text,
        start,
        encoding,
    })
}

/// How the report's name of an encoding ends when the text was recognised as UTF-16 without a
/// byte-order mark.
const UNMARKED: &str = "(no byte-order mark)";

/// How the report names the encoding of a text that is not UTF-8 and declares none.
pub const ASSUMED_WINDOWS_1252: &str = "Windows-1252 (assumed: not UTF-8, none declared)";

/// The text as UTF-8, where it starts (after a byte-order mark) and the encoding it was in:
/// the one its byte-order mark says (UTF-8, UTF-16LE or UTF-16BE), else the one its source
/// declares, else UTF-8. A text that is none of those is read as Windows-1252, what Excel and
/// older help desks write, and that is said on stderr and in the report, never silently.
fn decode(
    bytes: Bytes,
    declared: Option<&'static encoding_rs::Encoding>,
    long: bool,
) -> Result<(Bytes, usize, &'static str), String> {
    let b = bytes.as_slice();
    if let Some((encoding, bom)) = encoding_rs::Encoding::for_bom(b) {
        if encoding == encoding_rs::UTF_8 {
            return Ok((bytes, bom, "UTF-8"));
        }
        return Ok((transcoded(encoding, &bytes, bom, long), 0, encoding.name()));
    }
    if let (None, Some(encoding)) = (declared, utf16_without_bom(b)) {
        let name = if encoding == encoding_rs::UTF_16LE {
            "UTF-16LE (no byte-order mark)"
        } else {
            "UTF-16BE (no byte-order mark)"
        };
        return Ok((transcoded(encoding, &bytes, 0, long), 0, name));
    }
    if let Some(encoding) = declared
        && encoding != encoding_rs::UTF_8
    {
        return Ok((transcoded(encoding, &bytes, 0, long), 0, encoding.name()));
    }
    match (declared, utf8_up_to(&bytes, long)) {
        (_, None) => Ok((bytes, 0, "UTF-8")),
        (Some(_), Some(at)) => {
            let line = 1 + b[..at].iter().filter(|c| **c == b'\n').count();
            Err(format!(
                "its source declares UTF-8, but line {line} has a byte that is not UTF-8 \
                 (0x{:02x}); declare the encoding the file is in",
                b[at]
            ))
        }
        (None, Some(_)) => Ok((
            transcoded(encoding_rs::WINDOWS_1252, &bytes, 0, long),
            0,
            ASSUMED_WINDOWS_1252,
        )),
    }
}

/// Where the bytes stop being UTF-8, if they do. With `release`, they are checked a block at
/// a time and a mapped file's pages given back once checked, so that a long file is never
/// held whole for it.
fn utf8_up_to(bytes: &Bytes, release: bool) -> Option<usize> {
    const BLOCK: usize = 16 << 20;
    let b = bytes.as_slice();
    if !release {
        return std::str::from_utf8(b).err().map(|e| e.valid_up_to());
    }
    let mut at = 0;
    while at < b.len() {
        let end = (at + BLOCK).min(b.len());
        let checked = match std::str::from_utf8(&b[at..end]) {
            Ok(_) => end,
            // A character the block's end cuts: checked again from its start with the next.
            Err(e) if e.error_len().is_none() && end < b.len() => at + e.valid_up_to(),
            Err(e) => return Some(at + e.valid_up_to()),
        };
        bytes.release(at..checked);
        at = checked;
    }
    None
}

/// UTF-16 written without a byte-order mark, recognised by its start: text whose characters
/// are nearly all ASCII has a NUL in every other byte (the second of each pair in little-endian,
/// the first in big-endian), which no text in an 8-bit encoding or UTF-8 has.
fn utf16_without_bom(bytes: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    let pairs: Vec<&[u8]> = bytes[..bytes.len().min(512)].chunks_exact(2).collect();
    if pairs.len() < 2 {
        return None;
    }
    let share =
        |f: fn(&[u8]) -> bool| pairs.iter().filter(|p| f(p)).count() * 10 >= pairs.len() * 9;
    if share(|p| p[0] != 0 && p[1] == 0) {
        Some(encoding_rs::UTF_16LE)
    } else if share(|p| p[0] == 0 && p[1] != 0) {
        Some(encoding_rs::UTF_16BE)
    } else {
        None
    }
}

/// The text in `encoding` from byte `from` on, as UTF-8: in memory, or where it is `long`, in
/// an unnamed temporary file, mapped (as [`gunzip`] does), the source's pages given back as
/// they are read.
fn transcoded(
    encoding: &'static encoding_rs::Encoding,
    bytes: &Bytes,
    from: usize,
    long: bool,
) -> Bytes {
    if long {
        match transcode_to_file(encoding, bytes, from) {
            Ok(map) => return Bytes::Mapped(Arc::new(map)),
            Err(e) => crate::log::note(&format!(
                "warning: cannot write the text as UTF-8 into a temporary file ({e}; set TMPDIR \
                 to a writable directory): converted in memory"
            )),
        }
    }
    let (text, _) = encoding.decode_without_bom_handling(&bytes.as_slice()[from..]);
    Bytes::Owned(Arc::new(text.into_owned().into_bytes()))
}

/// [`transcoded`] into a temporary file, a block at a time.
fn transcode_to_file(
    encoding: &'static encoding_rs::Encoding,
    bytes: &Bytes,
    from: usize,
) -> std::io::Result<memmap2::Mmap> {
    const BLOCK: usize = 1 << 20;
    let file = tempfile::tempfile()?;
    let mut writer = std::io::BufWriter::new(&file);
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let mut out = vec![0; BLOCK * 3];
    let input = &bytes.as_slice()[from..];
    let mut at = 0;
    loop {
        let end = (at + BLOCK).min(input.len());
        let last = end == input.len();
        let mut piece = &input[at..end];
        loop {
            let (done, read, written, _) = decoder.decode_to_utf8(piece, &mut out, last);
            writer.write_all(&out[..written])?;
            piece = &piece[read..];
            if done == encoding_rs::CoderResult::InputEmpty {
                break;
            }
        }
        bytes.release(from + at..from + end);
        if last {
            break;
        }
        at = end;
    }
    writer.flush()?;
    drop(writer);
    // SAFETY: a file of this process's own, which nothing else knows of or writes.
    unsafe { memmap2::Mmap::map(&file) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_come_from_the_bom_the_declaration_or_are_said_to_be_assumed() {
        let owned = |b: &[u8]| Bytes::Owned(Arc::new(b.to_vec()));
        let text = |bytes: &[u8], declared| {
            let (text, start, encoding) = decode(owned(bytes), declared, false).unwrap();
            let text = std::str::from_utf8(&text.as_slice()[start..])
                .unwrap()
                .to_string();
            (text, encoding)
        };
        assert_eq!(
            text(b"caf\xe9 \x96 ok", None),
            ("café – ok".to_string(), ASSUMED_WINDOWS_1252)
        );
        // not UTF-8 only far into the file: the whole file is read, not a sample
        let mut late = vec![b'a'; 3 << 20];
        late.push(0xe9);
        assert_eq!(text(&late, None).1, ASSUMED_WINDOWS_1252);
        assert_eq!(
            text(b"\xef\xbb\xbfID;Title", None),
            ("ID;Title".to_string(), "UTF-8")
        );
        assert_eq!(
            text(b"\xff\xfeI\0D\0", Some(encoding_rs::WINDOWS_1252)),
            ("ID".to_string(), "UTF-16LE")
        );
        assert_eq!(
            text(b"\xfe\xff\0I\0D", None),
            ("ID".to_string(), "UTF-16BE")
        );
        assert_eq!(
            text(b"caf\xe9", Some(encoding_rs::WINDOWS_1252)),
            ("café".to_string(), "windows-1252")
        );
        assert_eq!(
            text(b"\x83\x65\x83\x58\x83\x67", Some(encoding_rs::SHIFT_JIS)),
            ("テスト".to_string(), "Shift_JIS")
        );
        assert_eq!(text(b"caf\xc3\xa9", None), ("café".to_string(), "UTF-8"));
        assert_eq!(
            text(b"I\0D\0;\0T\0\xed\0t\0", None),
            ("ID;Tít".to_string(), "UTF-16LE (no byte-order mark)")
        );
        assert_eq!(
            text(b"\0I\0D\0\n", None),
            ("ID\n".to_string(), "UTF-16BE (no byte-order mark)")
        );
        assert_eq!(
            text(b"id\n1\0", None).1,
            "UTF-8",
            "a NUL byte alone is no UTF-16"
        );
        let Err(wrong) = decode(owned(b"id\n1\ncaf\xe9\n"), Some(encoding_rs::UTF_8), false) else {
            panic!("a file that is not what it declares is an error");
        };
        assert!(wrong.contains("line 3"), "{wrong}");
    }

    #[test]
    fn a_long_text_checked_a_block_at_a_time_is_checked_as_a_whole() {
        // `é` cut by the first block's end, then a byte no UTF-8 has after it.
        let mut text = vec![b'a'; (16 << 20) - 1];
        text.extend_from_slice("é ok".as_bytes());
        let owned = Bytes::Owned(Arc::new(text.clone()));
        assert_eq!(utf8_up_to(&owned, true), None);
        text.push(0xe9);
        text.extend_from_slice(b" and on");
        let owned = Bytes::Owned(Arc::new(text));
        let whole = utf8_up_to(&owned, false);
        assert_eq!(whole, Some((16 << 20) - 1 + "é ok".len()));
        assert_eq!(utf8_up_to(&owned, true), whole);
    }

    #[test]
    fn a_long_text_converted_in_a_temporary_file_is_the_text_converted_in_memory() {
        // A character of two UTF-16 units cut by the first block's end.
        let text = "a".repeat((1 << 19) - 1) + "😀 é ok";
        let utf16: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let bytes = Bytes::Owned(Arc::new(utf16));
        let in_file = transcoded(encoding_rs::UTF_16LE, &bytes, 0, true);
        assert!(matches!(in_file, Bytes::Mapped(_)));
        assert_eq!(in_file.as_slice(), text.as_bytes());
        let in_memory = transcoded(encoding_rs::UTF_16LE, &bytes, 0, false);
        assert_eq!(in_memory.as_slice(), text.as_bytes());
    }
}
