//! CSV files: UTF-8 with or without a byte-order mark, UTF-16 with one, or GB18030/GBK as
//! Chinese spreadsheet software writes them; comma, semicolon or tab separated.

use std::fs::File;
use std::io::{Cursor, Read};
use std::path::Path;

use csv::{ByteRecord, StringRecord};
use encoding_rs::{Encoding, GB18030, GBK, UTF_16BE, UTF_16LE};
use encoding_rs_io::DecodeReaderBytesBuilder;

use super::{SourceError, SourceRow, is_blank};

/// How much of the file is examined to tell its encoding.
const SNIFF_BYTES: usize = 1 << 20;

pub(super) struct CsvSource {
    path: String,
    reader: csv::Reader<Box<dyn Read + Send>>,
    note: Option<String>,
    /// Spreadsheet row of the last record read.
    row: u64,
    /// The line just after the last record read, to count the blank lines skipped.
    next_line: u64,
}

impl CsvSource {
    pub(super) fn open(path: &Path, tab_separated: bool) -> Result<(Self, Vec<String>), SourceError> {
        let name = path.display().to_string();
        let io = |source| SourceError::Io {
            path: name.clone(),
            source,
        };
        let mut file = File::open(path).map_err(io)?;
        let mut prefix = Vec::with_capacity(SNIFF_BYTES);
        file.by_ref()
            .take(SNIFF_BYTES as u64)
            .read_to_end(&mut prefix)
            .map_err(io)?;
        let at_end = prefix.len() < SNIFF_BYTES;

        let (encoding, skip) = detect(&name, &prefix, at_end)?;
        let delimiter = if tab_separated {
            b'\t'
        } else {
            sniff_delimiter(&prefix[skip..])
        };
        let body = Cursor::new(prefix).chain(file);
        let (stream, note): (Box<dyn Read + Send>, _) = match encoding {
            None => {
                let mut body = body;
                std::io::copy(&mut body.by_ref().take(skip as u64), &mut std::io::sink()).map_err(io)?;
                (Box::new(body), None)
            }
            Some(encoding) => {
                let decoder = DecodeReaderBytesBuilder::new()
                    .encoding(Some(encoding))
                    .bom_override(true)
                    .build(body);
                (Box::new(decoder), Some(format!("converted from {}", encoding.name())))
            }
        };
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .buffer_capacity(1 << 20)
            .from_reader(stream);
        let mut source = CsvSource {
            path: name.clone(),
            reader,
            note,
            row: 0,
            next_line: 1,
        };
        let header = match source.next_record()? {
            Some(record) => record.iter().map(str::to_string).collect(),
            None => return Err(SourceError::Empty { path: name }),
        };
        Ok((source, header))
    }

    pub(super) fn encoding_note(&self) -> Option<String> {
        self.note.clone()
    }

    pub(super) fn read_chunk(&mut self, out: &mut Vec<SourceRow>, max: usize) -> Result<(), SourceError> {
        while out.len() < max {
            let Some(cells) = self.next_record()? else { break };
            if !is_blank(&cells) {
                out.push(SourceRow { row: self.row, cells });
            }
        }
        Ok(())
    }

    /// The next record with its spreadsheet row set; blank lines count as rows, as in a
    /// spreadsheet, though the CSV reader skips them.
    fn next_record(&mut self) -> Result<Option<StringRecord>, SourceError> {
        let mut bytes = ByteRecord::new();
        let more = self.reader.read_byte_record(&mut bytes).map_err(|e| SourceError::Csv {
            path: self.path.clone(),
            row: self.row + 1,
            message: e.to_string(),
        })?;
        if !more {
            return Ok(None);
        }
        // The reader skips blank lines without reporting them; a spreadsheet shows them as
        // rows. The record's own first line is where the reader stands now, less the line
        // breaks of the record itself; the gap to where the last record ended is blank lines.
        let end_line = self.reader.position().line();
        let breaks = bytes
            .iter()
            .map(|f| f.iter().filter(|b| **b == b'\n').count() as u64)
            .sum::<u64>();
        let first_line = end_line.saturating_sub(1 + breaks);
        self.row += 1 + first_line.saturating_sub(self.next_line);
        self.next_line = end_line;
        match StringRecord::from_byte_record(bytes) {
            Ok(record) => Ok(Some(record)),
            Err(e) => {
                let bad = e.into_byte_record();
                let sample: Vec<u8> = bad.iter().flat_map(|f| f.iter().copied().chain([b' '])).collect();
                Err(SourceError::Encoding {
                    path: self.path.clone(),
                    row: self.row,
                    guess: guess(&sample, true).name().into(),
                })
            }
        }
    }
}

/// The encoding to convert from (`None` for UTF-8) and how many leading bytes (a UTF-8
/// byte-order mark) to skip.
fn detect(path: &str, prefix: &[u8], at_end: bool) -> Result<(Option<&'static Encoding>, usize), SourceError> {
    if prefix.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return Ok((None, 3));
    }
    if prefix.starts_with(&[0xFF, 0xFE]) {
        return Ok((Some(UTF_16LE), 0));
    }
    if prefix.starts_with(&[0xFE, 0xFF]) {
        return Ok((Some(UTF_16BE), 0));
    }
    let valid_up_to = match std::str::from_utf8(prefix) {
        Ok(_) => return Ok((None, 0)),
        // A character cut in two at the end of the prefix is not an error.
        Err(e) if e.error_len().is_none() && !at_end => return Ok((None, 0)),
        Err(e) => e.valid_up_to(),
    };
    let guessed = guess(prefix, at_end);
    if guessed == GBK || guessed == GB18030 {
        // GB18030 is a superset of GBK: decoding as GB18030 reads both.
        return Ok((Some(GB18030), 0));
    }
    let row = 1 + prefix[..valid_up_to].iter().filter(|b| **b == b'\n').count() as u64;
    Err(SourceError::Encoding {
        path: path.to_string(),
        row,
        guess: guessed.name().to_string(),
    })
}

fn guess(bytes: &[u8], last: bool) -> &'static Encoding {
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, last);
    detector.guess(None, chardetng::Utf8Detection::Deny)
}

/// Comma, unless the first line has none and has semicolons (European Excel) or tabs.
/// (UTF-16 text shows its ASCII delimiters as bytes too, beside zero bytes.)
fn sniff_delimiter(text: &[u8]) -> u8 {
    let first_line = text.split(|b| *b == b'\n').next().unwrap_or(&[]);
    let count = |d: u8| first_line.iter().filter(|b| **b == d).count();
    if count(b',') > 0 {
        b','
    } else if count(b';') > 0 {
        b';'
    } else if count(b'\t') > 0 {
        b'\t'
    } else {
        b','
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::super::{Source, SourceOptions};
    use super::*;

    fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let path = dir.path().join(name);
        File::create(&path).unwrap().write_all(bytes).unwrap();
        path
    }

    /// Header, rows with their numbers, and the encoding note of a file.
    type FileContents = (Vec<String>, Vec<(u64, Vec<String>)>, Option<String>);

    fn read_all(path: &Path) -> FileContents {
        let mut source = Source::open(path, &SourceOptions::default()).unwrap();
        let mut rows = Vec::new();
        let mut chunk = Vec::new();
        while source.read_chunk(&mut chunk, 2).unwrap() > 0 {
            rows.extend(
                chunk
                    .iter()
                    .map(|r| (r.row, r.cells.iter().map(str::to_string).collect())),
            );
        }
        (source.header().to_vec(), rows, source.encoding_note())
    }

    fn cells(values: &[&str]) -> Vec<String> {
        values.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn bom_crlf_quotes_blank_lines_and_ragged_rows() {
        let dir = tempfile::tempdir().unwrap();
        let text =
            "\u{feff}id,name,note\r\n1,\"Lee, Ann\",\"two\r\nlines\"\r\n\r\n2,Bob,\"say \"\"hi\"\"\"\r\n,,\r\n3,Cy\r\n";
        let path = write(&dir, "s.csv", text.as_bytes());
        let (header, rows, note) = read_all(&path);
        assert_eq!(header, cells(&["id", "name", "note"]));
        assert_eq!(note, None);
        assert_eq!(
            rows,
            [
                (2, cells(&["1", "Lee, Ann", "two\r\nlines"])),
                (4, cells(&["2", "Bob", "say \"hi\""])),
                (6, cells(&["3", "Cy"])),
            ]
        );
    }

    #[test]
    fn semicolons_and_tabs() {
        let dir = tempfile::tempdir().unwrap();
        let (header, rows, _) = read_all(&write(&dir, "s.csv", b"id;phone\n1;0301234567\n"));
        assert_eq!(
            (header, rows),
            (cells(&["id", "phone"]), vec![(2, cells(&["1", "0301234567"]))])
        );
        let (header, _, _) = read_all(&write(&dir, "s.tsv", b"id\tphone, with comma\n1\t2\n"));
        assert_eq!(header, cells(&["id", "phone, with comma"]));
    }

    #[test]
    fn gb18030_is_converted() {
        let dir = tempfile::tempdir().unwrap();
        let text = "编号,姓名,手机,地区\n1,张伟,13800138000,北京\n2,李娜,13900139000,上海\n";
        let (bytes, _, _) = GB18030.encode(text);
        let (header, rows, note) = read_all(&write(&dir, "gb.csv", &bytes));
        assert_eq!(header, cells(&["编号", "姓名", "手机", "地区"]));
        assert_eq!(rows[1], (3, cells(&["2", "李娜", "13900139000", "上海"])));
        assert_eq!(note.as_deref(), Some("converted from gb18030"));
    }

    #[test]
    fn utf16_with_bom_is_converted() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = vec![0xFF, 0xFE];
        for unit in "id\tname\n1\tZoë\n".encode_utf16() {
            bytes.extend(unit.to_le_bytes());
        }
        let (header, rows, note) = read_all(&write(&dir, "u.txt", &bytes));
        assert_eq!(
            (header, rows),
            (cells(&["id", "name"]), vec![(2, cells(&["1", "Zoë"]))])
        );
        assert_eq!(note.as_deref(), Some("converted from UTF-16LE"));
    }

    #[test]
    fn other_encodings_are_refused_with_the_row() {
        let dir = tempfile::tempdir().unwrap();
        let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode("id,name\n1,Ann\n2,José Müller\n");
        let path = write(&dir, "latin.csv", &bytes);
        let err = Source::open(&path, &SourceOptions::default()).err().unwrap();
        assert_eq!(
            err.to_string(),
            format!(
                "{}: row 3 is not UTF-8 (the file looks like windows-1252); save it as \"CSV UTF-8\" and import it again",
                path.display()
            )
        );
    }

    #[test]
    fn bad_bytes_after_the_sniffed_prefix_name_their_row() {
        let dir = tempfile::tempdir().unwrap();
        let mut text = String::from("id,name\n");
        let mut rows = 1;
        while text.len() < SNIFF_BYTES + 10_000 {
            rows += 1;
            text.push_str(&format!("{rows},Person {rows}\n"));
        }
        let mut bytes = text.into_bytes();
        bytes.extend(b"999999,Jos\xe9\n");
        let path = write(&dir, "late.csv", &bytes);
        let mut source = Source::open(&path, &SourceOptions::default()).unwrap();
        let mut chunk = Vec::new();
        let err = loop {
            match source.read_chunk(&mut chunk, 4096) {
                Ok(0) => panic!("the bad row was not noticed"),
                Ok(_) => {}
                Err(e) => break e,
            }
        };
        let expect = format!("row {} is not UTF-8", rows + 1);
        assert!(err.to_string().contains(&expect), "{err}");
    }

    #[test]
    fn many_rows_in_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let mut text = String::from("id,a,b\n");
        for i in 0..200_000 {
            text.push_str(&format!("{i},x{i},y\n"));
        }
        let path = write(&dir, "big.csv", text.as_bytes());
        let mut source = Source::open(&path, &SourceOptions::default()).unwrap();
        let (mut count, mut last) = (0, 0);
        let mut chunk = Vec::new();
        while source.read_chunk(&mut chunk, 4096).unwrap() > 0 {
            count += chunk.len();
            last = chunk.last().unwrap().row;
        }
        assert_eq!((count, last), (200_000, 200_001));
    }

    #[test]
    fn empty_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "empty.csv", b"");
        let err = Source::open(&path, &SourceOptions::default()).err().unwrap();
        assert_eq!(
            err.to_string(),
            format!(
                "{}: the file is empty; row 1 must hold the column names",
                path.display()
            )
        );
    }
}
