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
use tokio::sync::mpsc;

use super::fields::FieldType;
use super::mapping::{ColumnMapping, plan};
use super::phone::PhoneNormalizer;
use super::prepare::{Issue, IssueAction, IssueKind, PreparedRow, RowContext, prepare};
use super::record::RecordStatus;
use super::source::{Source, SourceError, SourceOptions, SourceRow};
use crate::campaign::{self, CampaignError, CampaignStatus};
use crate::dnc;
use crate::store::{Backend, Db, WriteTx, dialect};
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
/// Records per INSERT statement.
const INSERT_ROWS: usize = 4096;

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
    let previously_imported_at = previous_import(db, campaign.id, &file_hash).await?;

    // Three stages overlap: reading and preparing (on rayon's workers), screening (one thread,
    // as duplicates depend on every earlier row) and storing (this task and the database).
    let (prepared_tx, prepared_rx) = mpsc::channel::<Result<PreparedChunk, SourceError>>(4);
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
                    if prepared_tx.blocking_send(Ok(prepared)).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    let _ = prepared_tx.blocking_send(Err(e));
                    return;
                }
            }
        }
    });

    let rejects_path = options.rejects.clone().unwrap_or_else(|| default_rejects_path(path));
    let rejects = RejectWriter::new(&rejects_path)?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut screener: Option<std::thread::JoinHandle<Screened>> = None;

    let outcome: Result<(i64, Screened), ImportError> = with_db!(db, |pool| {
        async {
            let mut tx = pool.begin_write().await?;
            // No other import may add to this campaign until we commit, so the keys read now
            // are all there will be, and ids can be handed out without asking back.
            if let Some(lock) = dialect::lock_campaign(db.backend()) {
                sqlx::query(lock).bind(campaign.id).execute(&mut *tx).await?;
            }
            let keys: Vec<(i64, String)> = sqlx::query_as("SELECT id, dedupe_key FROM records WHERE campaign_id = $1")
                .bind(campaign.id)
                .fetch_all(&mut *tx)
                .await?;
            let screen = Screen {
                existing: keys
                    .into_iter()
                    .map(|(id, key)| (xxhash_rust::xxh3::xxh3_128(key.as_bytes()), id))
                    .collect(),
                in_file: HashMap::new(),
                dnc: dnc_screen,
                counts: Counts::default(),
            };
            let (batches_tx, mut batches) = mpsc::channel::<Result<StoreBatch, ImportError>>(2);
            screener = Some(std::thread::spawn(move || {
                screen_stage(screen, rejects, prepared_rx, batches_tx)
            }));
            let mut next_id: i64 = match dialect::max_id(db.backend(), "records") {
                Some(sql) => sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut *tx).await? + 1,
                None => 0,
            };
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
            while let Some(batch) = batches.recv().await {
                let batch = batch?;
                insert_batch!(tx, db.backend(), next_id, campaign.id, import_id, at, batch);
            }
            // The screen has sent everything, so its thread is ending.
            let mut screened = screener
                .take()
                .expect("started above")
                .join()
                .expect("the screen does not panic");
            let c = &screened.counts;
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
            if let Err(e) = screened.rejects.finish() {
                screened.rejects.discard();
                return Err(e);
            }
            tx.commit().await?;
            Ok((import_id, screened))
        }
        .await
    });
    let _ = reader.join();
    let (import_id, screened) = match outcome {
        Ok(done) => done,
        Err(e) => {
            // Whatever stage failed, the others stop when their channels close.
            if let Some(Ok(mut screened)) = screener.map(|s| s.join()) {
                screened.rejects.discard();
            }
            return Err(e);
        }
    };
    if let Err(e) = db.refresh_statistics().await {
        // The records are stored; stale statistics only make later selections slower.
        tracing::warn!(error = %e, "could not refresh the planner's statistics after an import");
    }
    let c = screened.counts;
    Ok(ImportSummary {
        import_id,
        rows_read: c.rows_read,
        inserted: c.inserted,
        duplicates_in_file: c.duplicates_in_file,
        duplicates_in_campaign: c.duplicates_in_campaign,
        do_not_call: c.do_not_call,
        invalid: c.invalid,
        numbers_dropped: c.numbers_dropped,
        rejects: screened.rejects.written.then_some(rejects_path),
        encoding_note,
        previously_imported_at,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// What the screen hands back when the file is done.
struct Screened {
    counts: Counts,
    rejects: RejectWriter,
}

/// Admitted rows, ready to store: the documents refer to records by their place in the batch,
/// as ids are handed out only when the batch is stored.
struct StoreBatch {
    rows: usize,
    records: String,
    phones: String,
}

/// The screening stage: takes prepared chunks in file order, screens each row, writes refusals
/// to the reject file and sends admitted rows on as batches. Ends when the chunks end, a
/// chunk is an error, or the storing side hangs up.
fn screen_stage(
    mut screen: Screen,
    mut rejects: RejectWriter,
    mut chunks: mpsc::Receiver<Result<PreparedChunk, SourceError>>,
    batches: mpsc::Sender<Result<StoreBatch, ImportError>>,
) -> Screened {
    let mut batch: Vec<PreparedRow> = Vec::with_capacity(INSERT_ROWS);
    let send = |batch: &mut Vec<PreparedRow>, counts: &mut Counts| {
        counts.inserted += batch.len() as u64;
        let (records, phones) = batch_documents(batch);
        let sent = batches.blocking_send(Ok(StoreBatch {
            rows: batch.len(),
            records,
            phones,
        }));
        batch.clear();
        sent.is_ok()
    };
    let failed = |error: ImportError| {
        let _ = batches.blocking_send(Err(error));
    };
    while let Some(chunk) = chunks.blocking_recv() {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(e) => {
                failed(e.into());
                return Screened {
                    counts: screen.counts,
                    rejects,
                };
            }
        };
        for prepared in chunk {
            screen.counts.rows_read += 1;
            let written = match screen.admit(prepared) {
                Ok(row) => {
                    let written = rejects.write_all(&row.dropped);
                    batch.push(row);
                    written
                }
                Err(issues) => rejects.write_all(&issues),
            };
            if let Err(e) = written {
                failed(e);
                return Screened {
                    counts: screen.counts,
                    rejects,
                };
            }
            if batch.len() == INSERT_ROWS && !send(&mut batch, &mut screen.counts) {
                return Screened {
                    counts: screen.counts,
                    rejects,
                };
            }
        }
    }
    if !batch.is_empty() {
        send(&mut batch, &mut screen.counts);
    }
    Screened {
        counts: screen.counts,
        rejects,
    }
}

/// Stores a batch of records and their numbers inside the open transaction `$tx`, with ids
/// from the counter `$next_id` (SQLite, under its write lock) or the table's sequence
/// (PostgreSQL). The batch travels as one JSON document per table, which the database
/// unpacks itself: binding a dozen values per row costs more than the insert.
/// A macro because the transaction's type differs per backend.
macro_rules! insert_batch {
    ($tx:ident, $backend:expr, $next_id:ident, $campaign_id:expr, $import_id:expr, $at:expr, $batch:expr) => {{
        let (backend, campaign_id, import_id, at, batch): (Backend, i64, i64, DateTime<Utc>, StoreBatch) =
            ($backend, $campaign_id, $import_id, $at, $batch);
        let ids: Vec<i64> = match dialect::reserve_ids(backend, "records") {
            Some(sql) => {
                sqlx::query_scalar(sql)
                    .bind(batch.rows as i64)
                    .fetch_all(&mut *$tx)
                    .await?
            }
            None => {
                let first = $next_id;
                $next_id += batch.rows as i64;
                vec![first]
            }
        };
        let ids = dialect::ids_param(backend, &ids);
        sqlx::query(dialect::insert_records_from_json(backend))
            .bind(batch.records)
            .bind(campaign_id)
            .bind(import_id)
            .bind(at)
            .bind(RecordStatus::New.as_str())
            .bind(&ids)
            .execute(&mut *$tx)
            .await?;
        sqlx::query(dialect::insert_phones_from_json(backend))
            .bind(batch.phones)
            .bind(&ids)
            .execute(&mut *$tx)
            .await?;
    }};
}
use insert_batch;

/// The JSON documents (records, phones) that carry a batch to the database. A record is
/// `[n, key, source_row, tz, tz_source, fields]` and a number `[n, position, field, e164,
/// number_type, region]`, where `n` is the record's place in the batch: arrays, because the
/// database picks an array's element by index faster than an object's by name.
fn batch_documents(batch: &[PreparedRow]) -> (String, String) {
    type RecordDoc<'a> = (
        usize,
        &'a str,
        u64,
        String,
        &'static str,
        &'a serde_json::value::RawValue,
    );
    type PhoneDoc<'a> = (usize, usize, &'a str, &'a str, &'static str, Option<&'a str>);
    let records: Vec<RecordDoc<'_>> = batch
        .iter()
        .enumerate()
        .map(|(n, row)| {
            (
                n,
                row.key.as_str(),
                row.row,
                row.zones.0.to_stored(),
                row.zones.1.as_str(),
                &*row.fields,
            )
        })
        .collect();
    let phones: Vec<PhoneDoc<'_>> = batch
        .iter()
        .enumerate()
        .flat_map(|(n, row)| {
            row.phones.iter().enumerate().map(move |(position, phone)| {
                (
                    n,
                    position,
                    phone.field.as_str(),
                    phone.number.e164.as_str(),
                    phone.number.number_type.as_str(),
                    phone.number.region.as_deref(),
                )
            })
        })
        .collect();
    let records = serde_json::to_string(&records).expect("plain data serialises");
    let phones = serde_json::to_string(&phones).expect("plain data serialises");
    (records, phones)
}

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

async fn previous_import(db: &Db, campaign_id: i64, file_hash: &str) -> Result<Option<DateTime<Utc>>, ImportError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_scalar("SELECT MIN(started_at) FROM imports WHERE campaign_id = $1 AND file_hash = $2")
            .bind(campaign_id)
            .bind(file_hash)
            .fetch_one(pool)
            .await?
    }))
}
