//! Importing a sample file into a campaign (CATI-08): read, prepare every row on all cores,
//! screen duplicates and do-not-call numbers, and store the survivors in one transaction;
//! everything refused goes to a reject file with its row, column, value and reason.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufWriter, Read};
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{DateTime, Utc};
use rayon::prelude::*;
use serde::Serialize;
use sqlx::QueryBuilder;
use tokio::sync::mpsc;

use super::fields::FieldType;
use super::mapping::{ColumnMapping, plan};
use super::phone::PhoneNormalizer;
use super::prepare::{Issue, IssueAction, IssueKind, PreparedRow, RowContext, prepare};
use super::record::RecordStatus;
use super::source::{Source, SourceError, SourceOptions, SourceRow};
use crate::campaign::{self, CampaignError, CampaignStatus};
use crate::dnc;
use crate::store::{Db, WriteTx};
use crate::with_db;

/// How to import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Column mapping; without it, columns map to fields of the same name.
    pub mapping: Option<ColumnMapping>,
    /// Where to write the reject file; default `FILE.rejects.csv` beside the input.
    pub rejects: Option<PathBuf>,
    /// File format and sheet.
    pub source: SourceOptions,
    /// Who imports.
    pub user_id: Option<i64>,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportSummary {
    /// The import's id in the store.
    pub import_id: i64,
    /// Data rows read (empty rows skipped).
    pub rows_read: u64,
    /// Records added.
    pub inserted: u64,
    /// Rows repeating an earlier row of the file.
    pub duplicates_in_file: u64,
    /// Rows repeating a record already in the campaign.
    pub duplicates_in_campaign: u64,
    /// Rows whose every number is on a do-not-call list.
    pub do_not_call: u64,
    /// Rows refused for their data.
    pub invalid: u64,
    /// Numbers left out of rows that were imported.
    pub numbers_dropped: u64,
    /// The reject file, when anything was refused.
    pub rejects: Option<PathBuf>,
    /// A note on the file's encoding, when it was converted.
    pub encoding_note: Option<String>,
    /// When the same file (same content) was imported into this campaign before.
    pub previously_imported_at: Option<DateTime<Utc>>,
    /// Wall time taken, in seconds.
    pub seconds: f64,
}

/// Why an import was refused or failed; nothing was stored.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The campaign is the problem.
    #[error(transparent)]
    Campaign(#[from] CampaignError),
    /// Closed campaigns take no sample.
    #[error("campaign '{0}' is closed; it takes no more sample")]
    Closed(String),
    /// The campaign's fields have no phone.
    #[error("campaign '{0}' has no field of type phone; set its field configuration first (paceline campaign update)")]
    NoPhoneField(String),
    /// The campaign's default country is unknown.
    #[error("campaign '{campaign}': {reason}")]
    Country {
        /// The campaign.
        campaign: String,
        /// Why.
        reason: String,
    },
    /// The file's columns do not fit the campaign's fields.
    #[error("{file}: the columns do not fit campaign '{campaign}':\n{}", .problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Columns {
        /// The file.
        file: String,
        /// The campaign.
        campaign: String,
        /// Every problem.
        problems: Vec<String>,
    },
    /// The file could not be read.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The failure.
        source: std::io::Error,
    },
    /// Writing the reject file failed.
    #[error("{path}: writing the reject file failed: {message}")]
    Rejects {
        /// The reject file.
        path: String,
        /// The failure.
        message: String,
    },
    /// The do-not-call screen could not be loaded.
    #[error(transparent)]
    Dnc(#[from] dnc::DncError),
    /// The store failed; the transaction was rolled back.
    #[error(transparent)]
    Store(#[from] sqlx::Error),
}

/// Rows per chunk handed to the workers.
const CHUNK_ROWS: usize = 8192;
/// Records per INSERT statement (13 parameters each, well under SQLite's 32766).
const INSERT_ROWS: usize = 1000;

/// A chunk of prepared rows, in file order.
type PreparedChunk = Vec<Result<PreparedRow, Vec<Issue>>>;

/// Imports `path` into `campaign`. Valid rows are stored in one transaction; refused rows and
/// dropped numbers go to the reject file. Importing the same rows again adds nothing.
pub async fn import_file(
    db: &Db,
    campaign: &str,
    path: &Path,
    options: &ImportOptions,
    at: DateTime<Utc>,
) -> Result<ImportSummary, ImportError> {
    let started = Instant::now();
    let campaign = campaign::store::find(db, campaign).await?;
    if campaign.status == CampaignStatus::Closed {
        return Err(ImportError::Closed(campaign.name));
    }
    let fields = campaign.settings.fields.clone();
    if !fields.iter().any(|f| f.kind == FieldType::Phone) {
        return Err(ImportError::NoPhoneField(campaign.name));
    }
    let normalizer = PhoneNormalizer::new(&campaign.settings.default_country).map_err(|e| ImportError::Country {
        campaign: campaign.name.clone(),
        reason: e.to_string(),
    })?;
    let file_hash = hash_file(path)?;
    let source = Source::open(path, &options.source)?;
    let header = source.header().to_vec();
    let mapping = options.mapping.clone().unwrap_or_default();
    let column_plan = plan(&header, &fields, &mapping).map_err(|problems| ImportError::Columns {
        file: path.display().to_string(),
        campaign: campaign.name.clone(),
        problems,
    })?;
    let encoding_note = source.encoding_note();
    let dnc_screen = dnc::screen_for(db, campaign.id).await?;
    let existing = existing_keys(db, campaign.id).await?;
    let previously_imported_at = previous_import(db, campaign.id, &file_hash).await?;

    // Reading and preparing run on a thread of their own (preparing on rayon's workers) while
    // this task screens and stores the chunks that are ready.
    let (sender, mut receiver) = mpsc::channel::<Result<PreparedChunk, SourceError>>(4);
    let default_zone = campaign.settings.default_time_zone;
    let reader = std::thread::spawn(move || {
        let mut source = source;
        let ctx = RowContext {
            header: &header,
            plan: &column_plan,
            fields: &fields,
            phones: &normalizer,
            default_zone,
        };
        let mut rows: Vec<SourceRow> = Vec::with_capacity(CHUNK_ROWS);
        loop {
            match source.read_chunk(&mut rows, CHUNK_ROWS) {
                Ok(0) => return,
                Ok(_) => {
                    let prepared: PreparedChunk = rows.par_iter().map(|row| prepare(&ctx, row)).collect();
                    if sender.blocking_send(Ok(prepared)).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    let _ = sender.blocking_send(Err(e));
                    return;
                }
            }
        }
    });

    let rejects_path = options.rejects.clone().unwrap_or_else(|| default_rejects_path(path));
    let mut rejects = RejectWriter::new(&rejects_path)?;
    let mut screen = Screen {
        existing,
        in_file: HashMap::new(),
        dnc: dnc_screen,
        counts: Counts::default(),
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();

    let outcome: Result<i64, ImportError> = with_db!(db, |pool| {
        async {
            let mut tx = pool.begin_write().await?;
            let import_id: i64 = sqlx::query_scalar(
                "INSERT INTO imports (campaign_id, file_name, file_hash, rows_read, inserted, duplicates, do_not_call,
                    invalid, numbers_dropped, user_id, started_at, finished_at)
                 VALUES ($1, $2, $3, 0, 0, 0, 0, 0, 0, $4, $5, $5) RETURNING id",
            )
            .bind(campaign.id)
            .bind(&file_name)
            .bind(&file_hash)
            .bind(options.user_id)
            .bind(at)
            .fetch_one(&mut *tx)
            .await?;
            let mut batch: Vec<PreparedRow> = Vec::with_capacity(INSERT_ROWS);
            while let Some(chunk) = receiver.recv().await {
                for prepared in chunk? {
                    screen.counts.rows_read += 1;
                    match screen.admit(prepared) {
                        Ok(row) => {
                            rejects.write_all(&row.dropped)?;
                            batch.push(row);
                        }
                        Err(issues) => rejects.write_all(&issues)?,
                    }
                    if batch.len() == INSERT_ROWS {
                        let inserted = insert_batch!(tx, campaign.id, import_id, at, &batch);
                        screen.settle(&batch, inserted, &mut rejects)?;
                        batch.clear();
                    }
                }
            }
            if !batch.is_empty() {
                let inserted = insert_batch!(tx, campaign.id, import_id, at, &batch);
                screen.settle(&batch, inserted, &mut rejects)?;
            }
            let c = &screen.counts;
            sqlx::query(
                "UPDATE imports SET rows_read = $1, inserted = $2, duplicates = $3, do_not_call = $4, invalid = $5,
                    numbers_dropped = $6, finished_at = $7 WHERE id = $8",
            )
            .bind(c.rows_read as i64)
            .bind(c.inserted as i64)
            .bind((c.duplicates_in_file + c.duplicates_in_campaign) as i64)
            .bind(c.do_not_call as i64)
            .bind(c.invalid as i64)
            .bind(c.numbers_dropped as i64)
            .bind(at + chrono::Duration::from_std(started.elapsed()).unwrap_or_default())
            .bind(import_id)
            .execute(&mut *tx)
            .await?;
            // The reject file is complete before the records are committed, so a failure to
            // write it stores nothing.
            rejects.finish()?;
            tx.commit().await?;
            Ok(import_id)
        }
        .await
    });
    drop(receiver);
    let _ = reader.join();
    let import_id = match outcome {
        Ok(id) => id,
        Err(e) => {
            rejects.discard();
            return Err(e);
        }
    };
    let c = screen.counts;
    Ok(ImportSummary {
        import_id,
        rows_read: c.rows_read,
        inserted: c.inserted,
        duplicates_in_file: c.duplicates_in_file,
        duplicates_in_campaign: c.duplicates_in_campaign,
        do_not_call: c.do_not_call,
        invalid: c.invalid,
        numbers_dropped: c.numbers_dropped,
        rejects: rejects.written.then_some(rejects_path),
        encoding_note,
        previously_imported_at,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Inserts a batch of records and their numbers inside the open transaction `$tx`; evaluates
/// to the keys that were stored (a key missing was stored meanwhile by a concurrent import).
/// A macro because the transaction's type differs per backend.
macro_rules! insert_batch {
    ($tx:ident, $campaign_id:expr, $import_id:expr, $at:expr, $batch:expr) => {{
        let (campaign_id, import_id, at, batch): (i64, i64, DateTime<Utc>, &[PreparedRow]) =
            ($campaign_id, $import_id, $at, $batch);
        let mut records = QueryBuilder::new(
            "INSERT INTO records (campaign_id, dedupe_key, import_id, source_row, status, priority, time_zone,
                time_zone_source, fields, created_at, updated_at) ",
        );
        records.push_values(batch, |mut b, row| {
            b.push_bind(campaign_id)
                .push_bind(row.key.as_str())
                .push_bind(import_id)
                .push_bind(row.row as i64)
                .push_bind(RecordStatus::New.as_str())
                .push_bind(0_i64)
                .push_bind(row.zones.0.to_stored())
                .push_bind(row.zones.1.as_str())
                .push_bind(sqlx::types::Json(&*row.fields))
                .push_bind(at)
                .push_bind(at);
        });
        records.push(" ON CONFLICT (campaign_id, dedupe_key) DO NOTHING RETURNING id, dedupe_key");
        let stored: Vec<(i64, String)> = records.build_query_as().fetch_all(&mut *$tx).await?;
        let ids: HashMap<&str, i64> = stored.iter().map(|(id, key)| (key.as_str(), *id)).collect();
        let phones: Vec<(i64, usize, &super::prepare::PreparedPhone)> = batch
            .iter()
            .filter_map(|row| ids.get(row.key.as_str()).map(|id| (*id, row)))
            .flat_map(|(id, row)| row.phones.iter().enumerate().map(move |(p, phone)| (id, p, phone)))
            .collect();
        for part in phones.chunks(INSERT_ROWS * 2) {
            let mut numbers =
                QueryBuilder::new("INSERT INTO record_phones (record_id, position, field, e164, number_type, region) ");
            numbers.push_values(part, |mut b, (id, position, phone)| {
                b.push_bind(*id)
                    .push_bind(*position as i64)
                    .push_bind(phone.field.as_str())
                    .push_bind(phone.number.e164.as_str())
                    .push_bind(phone.number.number_type.as_str())
                    .push_bind(phone.number.region.as_deref());
            });
            numbers.build().execute(&mut *$tx).await?;
        }
        stored.into_iter().map(|(_, key)| key).collect::<HashSet<String>>()
    }};
}
use insert_batch;

#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    rows_read: u64,
    inserted: u64,
    duplicates_in_file: u64,
    duplicates_in_campaign: u64,
    do_not_call: u64,
    invalid: u64,
    numbers_dropped: u64,
}

/// The sequential screen: duplicates within the file and against the campaign, and
/// do-not-call numbers.
struct Screen {
    existing: HashMap<u128, i64>,
    in_file: HashMap<u128, u64>,
    dnc: HashSet<u64>,
    counts: Counts,
}

impl Screen {
    fn admit(&mut self, prepared: Result<PreparedRow, Vec<Issue>>) -> Result<PreparedRow, Vec<Issue>> {
        let mut row = match prepared {
            Ok(row) => row,
            Err(issues) => {
                self.counts.invalid += 1;
                return Err(issues);
            }
        };
        let whole_row = |reason: String, kind: IssueKind| Issue {
            row: row.row,
            column: String::new(),
            value: String::new(),
            reason,
            action: IssueAction::Rejected,
            kind,
        };
        if let Some(first) = self.in_file.get(&row.key_hash) {
            self.counts.duplicates_in_file += 1;
            return Err(vec![whole_row(
                format!("duplicate of row {first} (same key {})", show_key(&row.key)),
                IssueKind::Duplicate,
            )]);
        }
        if let Some(record) = self.existing.get(&row.key_hash) {
            self.counts.duplicates_in_campaign += 1;
            return Err(vec![whole_row(
                format!(
                    "already in the campaign as record {record} (same key {})",
                    show_key(&row.key)
                ),
                IssueKind::Duplicate,
            )]);
        }
        let (kept, listed): (Vec<_>, Vec<_>) = row.phones.drain(..).partition(|p| !self.dnc.contains(&p.number.digits));
        let listed_issues = listed.iter().map(|p| Issue {
            row: row.row,
            column: p.column.clone(),
            value: p.number.e164.clone(),
            reason: "the number is on a do-not-call list".into(),
            action: if kept.is_empty() {
                IssueAction::Rejected
            } else {
                IssueAction::NumberDropped
            },
            kind: IssueKind::DoNotCall,
        });
        if kept.is_empty() {
            self.counts.do_not_call += 1;
            return Err(listed_issues.collect());
        }
        row.dropped.extend(listed_issues);
        row.phones = kept;
        self.counts.numbers_dropped += row.dropped.len() as u64;
        self.in_file.insert(row.key_hash, row.row);
        Ok(row)
    }

    /// Accounts for a stored batch; rows whose key was not stored lost a race with another
    /// import and are reported as duplicates.
    fn settle(
        &mut self,
        batch: &[PreparedRow],
        stored: HashSet<String>,
        rejects: &mut RejectWriter,
    ) -> Result<(), ImportError> {
        self.counts.inserted += stored.len() as u64;
        for row in batch.iter().filter(|r| !stored.contains(&r.key)) {
            self.counts.duplicates_in_campaign += 1;
            rejects.write_all(&[Issue {
                row: row.row,
                column: String::new(),
                value: String::new(),
                reason: format!(
                    "already in the campaign (same key {}), stored by another import meanwhile",
                    show_key(&row.key)
                ),
                action: IssueAction::Rejected,
                kind: IssueKind::Duplicate,
            }])?;
        }
        Ok(())
    }
}

fn show_key(key: &str) -> String {
    key.replace('\u{1f}', " / ")
}

/// The reject file, written to a temporary name and renamed when complete.
struct RejectWriter {
    path: PathBuf,
    temp: PathBuf,
    writer: Option<csv::Writer<BufWriter<File>>>,
    written: bool,
}

impl RejectWriter {
    fn new(path: &Path) -> Result<Self, ImportError> {
        let mut temp = path.as_os_str().to_owned();
        temp.push(".partial");
        Ok(Self {
            path: path.to_path_buf(),
            temp: PathBuf::from(temp),
            writer: None,
            written: false,
        })
    }

    fn fail(&self, message: impl ToString) -> ImportError {
        ImportError::Rejects {
            path: self.path.display().to_string(),
            message: message.to_string(),
        }
    }

    fn write_all(&mut self, issues: &[Issue]) -> Result<(), ImportError> {
        if issues.is_empty() {
            return Ok(());
        }
        if self.writer.is_none() {
            let file = File::create(&self.temp).map_err(|e| self.fail(e))?;
            let mut writer = csv::Writer::from_writer(BufWriter::new(file));
            writer
                .write_record(["row", "column", "value", "reason", "action"])
                .map_err(|e| self.fail(e))?;
            self.writer = Some(writer);
        }
        let writer = self.writer.as_mut().expect("opened above");
        for issue in issues {
            let row = issue.row.to_string();
            let result = writer.write_record([
                row.as_str(),
                issue.column.as_str(),
                issue.value.as_str(),
                issue.reason.as_str(),
                issue.action.as_str(),
            ]);
            if let Err(e) = result {
                return Err(ImportError::Rejects {
                    path: self.path.display().to_string(),
                    message: e.to_string(),
                });
            }
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), ImportError> {
        let Some(mut writer) = self.writer.take() else {
            // Nothing refused: an old reject file from an earlier import would mislead.
            let _ = std::fs::remove_file(&self.path);
            return Ok(());
        };
        writer.flush().map_err(|e| self.fail(e))?;
        drop(writer);
        std::fs::rename(&self.temp, &self.path).map_err(|e| self.fail(e))?;
        self.written = true;
        Ok(())
    }

    fn discard(&mut self) {
        self.writer = None;
        let _ = std::fs::remove_file(&self.temp);
    }
}

/// `FILE.rejects.csv` beside the input.
pub fn default_rejects_path(input: &Path) -> PathBuf {
    let mut name = input.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".rejects.csv");
    input.with_file_name(name)
}

fn hash_file(path: &Path) -> Result<String, ImportError> {
    let io = |source| ImportError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut file = File::open(path).map_err(io)?;
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    let mut buffer = vec![0; 1 << 20];
    loop {
        let n = file.read(&mut buffer).map_err(io)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(format!("xxh3-128:{:032x}", hasher.digest128()))
}

async fn existing_keys(db: &Db, campaign_id: i64) -> Result<HashMap<u128, i64>, ImportError> {
    let keys: Vec<(i64, String)> = with_db!(db, |pool| {
        sqlx::query_as("SELECT id, dedupe_key FROM records WHERE campaign_id = $1")
            .bind(campaign_id)
            .fetch_all(pool)
            .await?
    });
    Ok(keys
        .into_iter()
        .map(|(id, key)| (xxhash_rust::xxh3::xxh3_128(key.as_bytes()), id))
        .collect())
}

async fn previous_import(db: &Db, campaign_id: i64, file_hash: &str) -> Result<Option<DateTime<Utc>>, ImportError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_scalar("SELECT MIN(started_at) FROM imports WHERE campaign_id = $1 AND file_hash = $2")
            .bind(campaign_id)
            .bind(file_hash)
            .fetch_one(pool)
            .await?
    }))
}
