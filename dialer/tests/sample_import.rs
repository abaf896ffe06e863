//! Importing samples into a campaign on a real store: typed fields, E.164 numbers, time
//! zones, duplicates, do-not-call screening, reject files, and all-or-nothing storage.

use std::path::{Path, PathBuf};

use chrono::Utc;
use paceline_dialer::Db;
use paceline_dialer::campaign::store as campaigns;
use paceline_dialer::campaign::{CampaignConfig, CampaignKind, LifecycleStep};
use paceline_dialer::dnc::{self, Scope};
use paceline_dialer::sample::import::{ImportError, ImportOptions, import_file};
use paceline_dialer::sample::mapping::ColumnMapping;
use paceline_dialer::sample::record::{self, RecordFilter, RecordStatus};
use paceline_dialer::store::testing::TestDb;

const SURVEY: &str = r#"
caller_id = "+12125550100"
default_country = "US"
[[fields]]
name = "respondent_id"
type = "text"
required = true
key = true
[[fields]]
name = "phone1"
type = "phone"
required = true
[[fields]]
name = "phone2"
type = "phone"
[[fields]]
name = "state"
type = "category"
values = ["NY", "CA", "TX"]
time_zones = { NY = "America/New_York", CA = "America/Los_Angeles" }
[[fields]]
name = "age"
type = "integer"
[[fields]]
name = "born"
type = "date"
"#;

async fn campaign(db: &Db, name: &str, config: &str) {
    let config = CampaignConfig::from_toml(config).unwrap();
    campaigns::create(db, name, CampaignKind::Survey, &config, Utc::now())
        .await
        .unwrap();
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

async fn count(db: &Db, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    match db {
        Db::Sqlite(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(p).await.unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(p).await.unwrap(),
    }
}

const CSV: &str = "respondent_id,phone1,phone2,state,age,born\r\n\
R1,(212) 555-0101,,NY,34,1990-04-01\r\n\
R2,415-555-0102,+1 415 555 0199,CA,51,\r\n\
R3,(123) 555-0103,,NY,40,\r\n\
R1,212 555 0101,,NY,34,1990-04-01\r\n\
R4,+1 214 555 0104,n/a,TX,29,1995/7/3\r\n\
R5,212-555-0105,,FL,44,\r\n\
R6,212-555-0106,,NY,old,\r\n\
R7,,,NY,30,\r\n\
R8,718-555-0108,,NY,30,\r\n";

#[tokio::test]
async fn a_csv_imports_with_every_refusal_reported() {
    let test = TestDb::new().await;
    let db = &test.db;
    campaign(db, "poll", SURVEY).await;
    dnc::add(db, "718-555-0108", Scope::Global, "US", "test", None, Utc::now())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "sample.csv", CSV.as_bytes());

    let summary = import_file(db, "poll", &path, &ImportOptions::default(), Utc::now())
        .await
        .unwrap();
    assert_eq!(
        (
            summary.rows_read,
            summary.inserted,
            summary.duplicates_in_file,
            summary.do_not_call,
            summary.invalid
        ),
        (9, 3, 1, 1, 4)
    );
    assert_eq!(summary.numbers_dropped, 1);
    let rejects = std::fs::read_to_string(summary.rejects.as_ref().unwrap()).unwrap();
    assert_eq!(
        rejects,
        "row,column,value,reason,action\n\
         4,phone1,(123) 555-0103,not a valid number for US,rejected\n\
         5,,,duplicate of row 2 (same key R1),rejected\n\
         6,phone2,n/a,not a phone number: it contains 'n',number_dropped\n\
         7,state,FL,\"'FL' is not one of the allowed values: NY, CA, TX\",rejected\n\
         8,age,old,'old' is not a whole number,rejected\n\
         9,phone1,,field 'phone1' is required and the cell is empty,rejected\n\
         10,phone1,+17185550108,the number is on a do-not-call list,rejected\n"
    );

    let records = record::list(db, "poll", &RecordFilter::default()).await.unwrap();
    /// Key, numbers, time zone and its source of one record.
    type Seen = (String, Vec<String>, Option<String>, Option<String>);
    let got: Vec<Seen> = records
        .iter()
        .map(|r| {
            (
                r.fields["respondent_id"].as_str().unwrap().to_string(),
                r.phones.iter().map(|p| p.e164.clone()).collect(),
                r.time_zone.clone(),
                r.time_zone_source.clone(),
            )
        })
        .collect();
    let zones_of_texas = got[2].2.clone().unwrap();
    assert_eq!(
        got,
        [
            (
                "R1".into(),
                vec!["+12125550101".into()],
                Some("America/New_York".into()),
                Some("region".into())
            ),
            (
                "R2".into(),
                vec!["+14155550102".into(), "+14155550199".into()],
                Some("America/Los_Angeles".into()),
                Some("region".into())
            ),
            (
                "R4".into(),
                vec!["+12145550104".into()],
                Some(zones_of_texas.clone()),
                Some("number".into())
            ),
        ]
    );
    // Texas has no zone in the field configuration: every US zone is a candidate.
    assert!(zones_of_texas.contains("America/Chicago") && zones_of_texas.contains("Pacific/Honolulu"));
    assert_eq!(records[0].fields["age"], serde_json::json!(34));
    assert_eq!(records[0].fields["born"], serde_json::json!("1990-04-01"));
    assert_eq!(records[2].fields["born"], serde_json::json!("1995-07-03"));
    assert!(records.iter().all(|r| r.status == RecordStatus::New));
    assert_eq!(records[0].source_row, Some(2));

    // The same file again adds nothing, and says it was seen before.
    let again = import_file(db, "poll", &path, &ImportOptions::default(), Utc::now())
        .await
        .unwrap();
    assert_eq!((again.inserted, again.duplicates_in_campaign), (0, 4));
    assert!(again.previously_imported_at.is_some());
    assert_eq!(count(db, "records").await, 3);
    assert_eq!(count(db, "record_phones").await, 4);
}

#[tokio::test]
async fn a_chinese_spreadsheet_export_in_gb18030_is_converted() {
    let test = TestDb::new().await;
    let db = &test.db;
    let config = r#"
        caller_id = "+861065529988"
        default_country = "CN"
        [[fields]]
        name = "name"
        type = "text"
        [[fields]]
        name = "mobile"
        type = "phone"
        required = true
        [[fields]]
        name = "region"
        type = "text"
    "#;
    campaign(db, "回访", config).await;
    let dir = tempfile::tempdir().unwrap();
    let text = "姓名,手机,地区\r\n张伟,138 0013 8000,北京\r\n李娜,139-0013-9000,上海\r\n";
    let (bytes, _, _) = encoding_rs::GB18030.encode(text);
    let path = write(dir.path(), "名单.csv", &bytes);
    let mapping =
        ColumnMapping::from_toml("[columns]\n\"姓名\" = \"name\"\n\"手机\" = \"mobile\"\n\"地区\" = \"region\"\n")
            .unwrap();
    let options = ImportOptions {
        mapping: Some(mapping),
        ..ImportOptions::default()
    };
    let summary = import_file(db, "回访", &path, &options, Utc::now()).await.unwrap();
    assert_eq!(
        (summary.inserted, summary.encoding_note.as_deref()),
        (2, Some("converted from gb18030"))
    );
    assert_eq!(summary.rejects, None);
    let records = record::list(db, "回访", &RecordFilter::default()).await.unwrap();
    assert_eq!(records[0].fields["name"], serde_json::json!("张伟"));
    assert_eq!(records[1].phones[0].e164, "+8613900139000");
    assert_eq!(records[1].time_zone.as_deref(), Some("Asia/Shanghai"));
}

#[tokio::test]
async fn xlsx_and_parquet_import_like_csv() {
    let test = TestDb::new().await;
    let db = &test.db;
    campaign(db, "poll", SURVEY).await;
    let dir = tempfile::tempdir().unwrap();

    let xlsx = dir.path().join("sample.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (col, name) in ["respondent_id", "Mobile", "state", "Notes"].iter().enumerate() {
        sheet.write_string(0, col as u16, *name).unwrap();
    }
    sheet.write_string(1, 0, "X1").unwrap();
    sheet.write_number(1, 1, 2125550111.0).unwrap();
    sheet.write_string(1, 2, "NY").unwrap();
    sheet.write_string(1, 3, "call after 6").unwrap();
    book.save(&xlsx).unwrap();
    let mapping = ColumnMapping::from_toml("ignore = [\"Notes\"]\n[columns]\nMobile = \"phone1\"\n").unwrap();
    let options = ImportOptions {
        mapping: Some(mapping),
        ..ImportOptions::default()
    };
    let summary = import_file(db, "poll", &xlsx, &options, Utc::now()).await.unwrap();
    assert_eq!(summary.inserted, 1);

    let parquet = dir.path().join("sample.parquet");
    write_parquet(&parquet);
    let summary = import_file(db, "poll", &parquet, &ImportOptions::default(), Utc::now())
        .await
        .unwrap();
    assert_eq!(summary.inserted, 2);
    let records = record::list(db, "poll", &RecordFilter::default()).await.unwrap();
    let numbers: Vec<&str> = records.iter().map(|r| r.phones[0].e164.as_str()).collect();
    assert_eq!(numbers, ["+12125550111", "+12125550121", "+14155550122"]);
}

fn write_parquet(path: &Path) {
    use std::sync::Arc;

    use parquet::data_type::{ByteArray, ByteArrayType, Int64Type};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use parquet::schema::parser::parse_message_type;

    let schema = Arc::new(
        parse_message_type(
            "message s { required binary respondent_id (UTF8); required int64 phone1; required binary state (UTF8); }",
        )
        .unwrap(),
    );
    let file = std::fs::File::create(path).unwrap();
    let mut writer = SerializedFileWriter::new(file, schema, Arc::new(WriterProperties::builder().build())).unwrap();
    let mut group = writer.next_row_group().unwrap();
    let mut column = group.next_column().unwrap().unwrap();
    column
        .typed::<ByteArrayType>()
        .write_batch(&[ByteArray::from("P1"), ByteArray::from("P2")], None, None)
        .unwrap();
    column.close().unwrap();
    let mut column = group.next_column().unwrap().unwrap();
    column
        .typed::<Int64Type>()
        .write_batch(&[2125550121, 4155550122], None, None)
        .unwrap();
    column.close().unwrap();
    let mut column = group.next_column().unwrap().unwrap();
    column
        .typed::<ByteArrayType>()
        .write_batch(&[ByteArray::from("NY"), ByteArray::from("CA")], None, None)
        .unwrap();
    column.close().unwrap();
    group.close().unwrap();
    writer.close().unwrap();
}

#[tokio::test]
async fn bad_files_store_nothing() {
    let test = TestDb::new().await;
    let db = &test.db;
    campaign(db, "poll", SURVEY).await;
    let dir = tempfile::tempdir().unwrap();

    // Not UTF-8 and not a Chinese encoding.
    let (latin, _, _) = encoding_rs::WINDOWS_1252.encode("respondent_id,phone1\nR1,2125550101\nR2é,2125550102\n");
    let path = write(dir.path(), "latin.csv", &latin);
    let err = import_file(db, "poll", &path, &ImportOptions::default(), Utc::now())
        .await
        .unwrap_err();
    assert!(
        err.to_string().ends_with(
            "row 3 is not UTF-8 (the file looks like windows-1252); save it as \"CSV UTF-8\" and import it again"
        ),
        "{err}"
    );

    // Valid rows first, then bad bytes after the part examined up front: the valid rows are
    // rolled back with the rest.
    let mut late = String::from("respondent_id,phone1\n");
    for i in 0..60_000 {
        late.push_str(&format!("L{i},212555{:04}\n", i % 10_000));
    }
    let mut late = late.into_bytes();
    late.extend(b"bad\xff,2125550100\n");
    let path = write(dir.path(), "late.csv", &late);
    let err = import_file(db, "poll", &path, &ImportOptions::default(), Utc::now())
        .await
        .unwrap_err();
    assert!(matches!(err, ImportError::Source(_)), "{err}");
    assert!(!dir.path().join("late.csv.rejects.csv").exists());

    // Columns that fit no field.
    let path = write(
        dir.path(),
        "cols.csv",
        b"respondent_id,telephone,shoe_size\nR1,2125550101,9\n",
    );
    let err = import_file(db, "poll", &path, &ImportOptions::default(), Utc::now())
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("column 2 'telephone' is not a field of the campaign"),
        "{text}"
    );
    assert!(
        text.contains("column 3 'shoe_size' is not a field of the campaign"),
        "{text}"
    );
    assert!(
        text.contains("field 'phone1' is required but no column of the file feeds it"),
        "{text}"
    );

    assert_eq!((count(db, "records").await, count(db, "imports").await), (0, 0));

    // A closed campaign takes no sample.
    for step in [LifecycleStep::Publish, LifecycleStep::Close] {
        campaigns::step(db, "poll", step, None, Utc::now()).await.unwrap();
    }
    let path = write(dir.path(), "ok.csv", b"respondent_id,phone1\nR1,2125550101\n");
    let err = import_file(db, "poll", &path, &ImportOptions::default(), Utc::now())
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "campaign 'poll' is closed; it takes no more sample");
}

#[tokio::test]
async fn campaign_do_not_call_lists_apply_only_to_their_campaign() {
    let test = TestDb::new().await;
    let db = &test.db;
    campaign(db, "a", SURVEY).await;
    campaign(db, "b", SURVEY).await;
    let a = campaigns::find(db, "a").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let list = write(
        dir.path(),
        "optouts.csv",
        b"2125550101\n212-555-0102\nnonsense\n(212) 555-0101\n",
    );
    let summary = dnc::import(db, &list, Scope::Campaign(a.id), "US", None, Utc::now())
        .await
        .unwrap();
    assert_eq!(
        (
            summary.read,
            summary.added,
            summary.already_listed,
            summary.invalid.len()
        ),
        (4, 2, 1, 1)
    );
    assert_eq!(summary.invalid[0].0, 3);

    let sample = write(
        dir.path(),
        "s.csv",
        b"respondent_id,phone1,phone2\nR1,2125550101,\nR2,2125550102,2125550103\n",
    );
    let into_a = import_file(db, "a", &sample, &ImportOptions::default(), Utc::now())
        .await
        .unwrap();
    assert_eq!((into_a.inserted, into_a.do_not_call, into_a.numbers_dropped), (1, 1, 1));
    let kept = record::list(db, "a", &RecordFilter::default()).await.unwrap();
    assert_eq!(
        kept[0].phones.iter().map(|p| p.e164.as_str()).collect::<Vec<_>>(),
        ["+12125550103"]
    );
    let into_b = import_file(db, "b", &sample, &ImportOptions::default(), Utc::now())
        .await
        .unwrap();
    assert_eq!(into_b.inserted, 2);
    assert_eq!(dnc::check(db, "+12125550101", Some(a.id)).await.unwrap().len(), 1);
    assert!(dnc::check(db, "+12125550101", None).await.unwrap().is_empty());
}
