//! Parquet files with flat schemas; data row i (from 0) is reported as row i + 2, as if the
//! file were a spreadsheet with a header row.

use std::fs::File;
use std::path::Path;

use chrono::{DateTime, Duration, NaiveDate};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use parquet::record::reader::RowIter;

use super::{SourceError, SourceRow, is_blank, number_text};

pub(super) struct ParquetSource {
    path: String,
    rows: RowIter<'static>,
    row: u64,
}

impl ParquetSource {
    pub(super) fn open(path: &Path) -> Result<(Self, Vec<String>), SourceError> {
        let name = path.display().to_string();
        let fail = |message: String| SourceError::Parquet {
            path: name.clone(),
            message,
        };
        let file = File::open(path).map_err(|source| SourceError::Io {
            path: name.clone(),
            source,
        })?;
        let reader = SerializedFileReader::new(file).map_err(|e| fail(format!("not a readable Parquet file: {e}")))?;
        let schema = reader.metadata().file_metadata().schema_descr_ptr();
        let nested: Vec<String> = schema
            .columns()
            .iter()
            .filter(|c| c.path().parts().len() > 1)
            .map(|c| c.path().string())
            .collect();
        if !nested.is_empty() {
            return Err(fail(format!(
                "nested columns cannot be a sample: {}; flatten them into plain columns",
                nested.join(", ")
            )));
        }
        let header = schema.columns().iter().map(|c| c.name().to_string()).collect();
        let rows = RowIter::from_file_into(Box::new(reader));
        Ok((
            ParquetSource {
                path: name,
                rows,
                row: 1,
            },
            header,
        ))
    }

    pub(super) fn read_chunk(&mut self, out: &mut Vec<SourceRow>, max: usize) -> Result<(), SourceError> {
        while out.len() < max {
            let Some(row) = self.rows.next() else { break };
            self.row += 1;
            let row = row.map_err(|e| SourceError::Parquet {
                path: self.path.clone(),
                message: format!("row {}: {e}", self.row),
            })?;
            let mut cells = csv::StringRecord::new();
            for (_, field) in row.get_column_iter() {
                cells.push_field(&field_text(field));
            }
            if !is_blank(&cells) {
                out.push(SourceRow { row: self.row, cells });
            }
        }
        Ok(())
    }
}

fn field_text(field: &Field) -> String {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
    match field {
        Field::Null => String::new(),
        Field::Bool(b) => b.to_string(),
        Field::Byte(x) => x.to_string(),
        Field::Short(x) => x.to_string(),
        Field::Int(x) => x.to_string(),
        Field::Long(x) => x.to_string(),
        Field::UByte(x) => x.to_string(),
        Field::UShort(x) => x.to_string(),
        Field::UInt(x) => x.to_string(),
        Field::ULong(x) => x.to_string(),
        Field::Float(x) => number_text(f64::from(*x)),
        Field::Double(x) => number_text(*x),
        Field::Str(s) => s.trim().to_string(),
        Field::Date(days) => (epoch + Duration::days(i64::from(*days)))
            .format("%Y-%m-%d")
            .to_string(),
        Field::TimestampMillis(ms) => DateTime::from_timestamp_millis(*ms)
            .map(|t| t.naive_utc().format("%Y-%m-%dT%H:%M:%S").to_string())
            .unwrap_or_default(),
        Field::TimestampMicros(us) => DateTime::from_timestamp_micros(*us)
            .map(|t| t.naive_utc().format("%Y-%m-%dT%H:%M:%S").to_string())
            .unwrap_or_default(),
        // Decimals print exactly; other kinds (bytes, times) in the library's own text form.
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int32Type, Int64Type};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use parquet::schema::parser::parse_message_type;

    use super::super::{Source, SourceOptions};

    #[test]
    fn flat_files_read_as_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.parquet");
        let schema = Arc::new(
            parse_message_type(
                "message sample { required binary name (UTF8); required int64 phone; optional double score; required int32 born (DATE); }",
            )
            .unwrap(),
        );
        let file = std::fs::File::create(&path).unwrap();
        let mut writer =
            SerializedFileWriter::new(file, schema, Arc::new(WriterProperties::builder().build())).unwrap();
        let mut group = writer.next_row_group().unwrap();
        let mut column = group.next_column().unwrap().unwrap();
        column
            .typed::<ByteArrayType>()
            .write_batch(&[ByteArray::from("Ann"), ByteArray::from("Bo")], None, None)
            .unwrap();
        column.close().unwrap();
        let mut column = group.next_column().unwrap().unwrap();
        column
            .typed::<Int64Type>()
            .write_batch(&[13800138000, 2125550123], None, None)
            .unwrap();
        column.close().unwrap();
        let mut column = group.next_column().unwrap().unwrap();
        column
            .typed::<DoubleType>()
            .write_batch(&[7.0], Some(&[1, 0]), None)
            .unwrap();
        column.close().unwrap();
        let mut column = group.next_column().unwrap().unwrap();
        column.typed::<Int32Type>().write_batch(&[3773, 0], None, None).unwrap();
        column.close().unwrap();
        group.close().unwrap();
        writer.close().unwrap();

        let mut source = Source::open(&path, &SourceOptions::default()).unwrap();
        assert_eq!(source.header(), ["name", "phone", "score", "born"]);
        let mut rows = Vec::new();
        source.read_chunk(&mut rows, 10).unwrap();
        let got: Vec<(u64, Vec<&str>)> = rows.iter().map(|r| (r.row, r.cells.iter().collect())).collect();
        assert_eq!(
            got,
            [
                (2, vec!["Ann", "13800138000", "7", "1980-05-01"]),
                (3, vec!["Bo", "2125550123", "", "1970-01-01"])
            ]
        );
    }

    #[test]
    fn nested_columns_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("n.parquet");
        let schema = Arc::new(
            parse_message_type("message s { required group person { required binary name (UTF8); } }").unwrap(),
        );
        let file = std::fs::File::create(&path).unwrap();
        let mut writer =
            SerializedFileWriter::new(file, schema, Arc::new(WriterProperties::builder().build())).unwrap();
        let mut group = writer.next_row_group().unwrap();
        let mut column = group.next_column().unwrap().unwrap();
        column
            .typed::<ByteArrayType>()
            .write_batch(&[ByteArray::from("x")], None, None)
            .unwrap();
        column.close().unwrap();
        group.close().unwrap();
        writer.close().unwrap();
        let err = Source::open(&path, &SourceOptions::default()).err().unwrap();
        assert_eq!(
            err.to_string(),
            format!(
                "{}: nested columns cannot be a sample: person.name; flatten them into plain columns",
                path.display()
            )
        );
    }
}
