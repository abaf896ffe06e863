//! Excel workbooks (calamine): the first sheet or one named, row 1 of its used range as the
//! header.

use std::path::Path;

use calamine::{Data, Range, Reader, Xlsx, open_workbook};

use super::{SourceError, SourceRow, is_blank, number_text};

pub(super) struct XlsxSource {
    path: String,
    sheet: String,
    header: Vec<String>,
    range: Range<Data>,
    /// Sheet row (1-based) of the range's first row.
    first_row: u64,
    /// Index in the range of the next row to read.
    next: usize,
}

impl XlsxSource {
    pub(super) fn open(path: &Path, sheet: Option<&str>) -> Result<(Self, Vec<String>), SourceError> {
        let name = path.display().to_string();
        let fail = |message: String| SourceError::Xlsx {
            path: name.clone(),
            message,
        };
        let mut workbook: Xlsx<_> =
            open_workbook(path).map_err(|e| fail(format!("not a readable XLSX workbook: {e}")))?;
        let names = workbook.sheet_names();
        let sheet = match sheet {
            Some(wanted) => names.iter().find(|n| n.as_str() == wanted).cloned().ok_or_else(|| {
                fail(format!(
                    "there is no sheet '{wanted}'; the sheets are {}",
                    names.join(", ")
                ))
            })?,
            None => names
                .first()
                .cloned()
                .ok_or_else(|| fail("the workbook has no sheets".into()))?,
        };
        let range = workbook
            .worksheet_range(&sheet)
            .map_err(|e| fail(format!("sheet '{sheet}': {e}")))?;
        let first_row = range.start().map_or(1, |(row, _)| u64::from(row) + 1);
        let mut source = XlsxSource {
            path: name.clone(),
            sheet,
            header: Vec::new(),
            range,
            first_row,
            next: 0,
        };
        let Some(header) = source.row_cells(0)? else {
            return Err(SourceError::Empty { path: name });
        };
        source.header = header.iter().map(str::to_string).collect();
        source.next = 1;
        let header = source.header.clone();
        Ok((source, header))
    }

    pub(super) fn read_chunk(&mut self, out: &mut Vec<SourceRow>, max: usize) -> Result<(), SourceError> {
        while out.len() < max {
            let index = self.next;
            let Some(cells) = self.row_cells(index)? else { break };
            self.next += 1;
            if !is_blank(&cells) {
                out.push(SourceRow {
                    row: self.first_row + index as u64,
                    cells,
                });
            }
        }
        Ok(())
    }

    fn row_cells(&self, index: usize) -> Result<Option<csv::StringRecord>, SourceError> {
        let Some(row) = self.range.rows().nth(index) else {
            return Ok(None);
        };
        let mut cells = csv::StringRecord::new();
        for (column, cell) in row.iter().enumerate() {
            let text = match cell {
                Data::Empty => String::new(),
                Data::String(s) => s.trim().to_string(),
                Data::Int(i) => i.to_string(),
                Data::Float(x) => number_text(*x),
                Data::Bool(b) => b.to_string(),
                Data::DateTime(dt) => match dt.as_datetime() {
                    Some(at) if at.time() == chrono::NaiveTime::MIN => at.format("%Y-%m-%d").to_string(),
                    Some(at) => at.format("%Y-%m-%dT%H:%M:%S").to_string(),
                    None => number_text(dt.as_f64()),
                },
                Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
                Data::Error(e) => {
                    return Err(SourceError::CellError {
                        path: self.path.clone(),
                        sheet: self.sheet.clone(),
                        row: self.first_row + index as u64,
                        column: column + 1,
                        name: self.header.get(column).cloned().unwrap_or_default(),
                        value: e.to_string(),
                    });
                }
            };
            cells.push_field(&text);
        }
        // Trailing empty cells beyond the header are the sheet's used range, not data.
        while cells.len() > self.header.len().max(1) && cells.get(cells.len() - 1) == Some("") {
            let mut trimmed = csv::StringRecord::new();
            cells.iter().take(cells.len() - 1).for_each(|c| trimmed.push_field(c));
            cells = trimmed;
        }
        Ok(Some(cells))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Source, SourceOptions};
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

    fn workbook(dir: &tempfile::TempDir) -> std::path::PathBuf {
        let path = dir.path().join("sample.xlsx");
        let mut book = Workbook::new();
        let sheet = book.add_worksheet().set_name("Respondents").unwrap();
        for (col, name) in ["id", "phone", "born", "note"].iter().enumerate() {
            sheet.write_string(0, col as u16, *name).unwrap();
        }
        sheet.write_number(1, 0, 1).unwrap();
        sheet.write_number(1, 1, 13800138000.0).unwrap();
        let date = ExcelDateTime::from_ymd(1980, 5, 17).unwrap();
        sheet
            .write_datetime_with_format(1, 2, &date, &Format::new().set_num_format("yyyy-mm-dd"))
            .unwrap();
        sheet.write_string(1, 3, " hello ").unwrap();
        sheet.write_number(3, 0, 2.5).unwrap();
        sheet.write_string(3, 1, "+44 20 7946 0958").unwrap();
        let other = book.add_worksheet().set_name("Other").unwrap();
        other.write_string(0, 0, "x").unwrap();
        other.write_string(1, 0, "y").unwrap();
        book.save(&path).unwrap();
        path
    }

    #[test]
    fn cells_read_as_text_with_sheet_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = workbook(&dir);
        let mut source = Source::open(&path, &SourceOptions::default()).unwrap();
        assert_eq!(source.header(), ["id", "phone", "born", "note"]);
        let mut rows = Vec::new();
        source.read_chunk(&mut rows, 10).unwrap();
        let got: Vec<(u64, Vec<&str>)> = rows.iter().map(|r| (r.row, r.cells.iter().collect())).collect();
        assert_eq!(
            got,
            [
                (2, vec!["1", "13800138000", "1980-05-17", "hello"]),
                (4, vec!["2.5", "+44 20 7946 0958", "", ""])
            ]
        );
    }

    #[test]
    fn sheets_are_chosen_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = workbook(&dir);
        let options = SourceOptions {
            sheet: Some("Other".into()),
            ..SourceOptions::default()
        };
        let mut source = Source::open(&path, &options).unwrap();
        let mut rows = Vec::new();
        source.read_chunk(&mut rows, 10).unwrap();
        assert_eq!(
            (source.header(), rows[0].cells.get(0)),
            (&["x".to_string()][..], Some("y"))
        );
        let options = SourceOptions {
            sheet: Some("Missing".into()),
            ..SourceOptions::default()
        };
        let err = Source::open(&path, &options).err().unwrap();
        assert_eq!(
            err.to_string(),
            format!(
                "{}: there is no sheet 'Missing'; the sheets are Respondents, Other",
                path.display()
            )
        );
    }
}
