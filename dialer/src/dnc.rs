//! Do-not-call lists (DIAL-17): a global list and one per campaign, imported from files,
//! checked when a sample is imported and again at dial time.

use std::collections::HashSet;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::campaign::CampaignId;
use crate::sample::phone::PhoneNormalizer;
use crate::sample::source::{Source, SourceError, SourceOptions, SourceRow};
use crate::store::{Db, WriteTx};
use crate::with_db;

/// Which list an entry belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Scope {
    /// Applies to every campaign.
    Global,
    /// Applies to one campaign.
    Campaign(CampaignId),
}

impl Scope {
    fn campaign_id(self) -> Option<CampaignId> {
        match self {
            Scope::Global => None,
            Scope::Campaign(id) => Some(id),
        }
    }
}

/// A listed number.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// The number in E.164.
    pub e164: String,
    /// The list.
    pub scope: Scope,
    /// Where it came from (a file name, "opt-out", "record edit").
    pub source: String,
    /// When it was listed.
    pub added_at: DateTime<Utc>,
}

/// What importing a list file did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ImportSummary {
    /// Numbers read.
    pub read: u64,
    /// Numbers newly listed.
    pub added: u64,
    /// Numbers that were on the list already (or twice in the file).
    pub already_listed: u64,
    /// Cells refused, with row number, value and reason.
    pub invalid: Vec<(u64, String, String)>,
}

/// Why a do-not-call operation failed; nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum DncError {
    /// The file could not be read.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// A number given by hand is not valid.
    #[error("'{number}' is not a valid phone number: {reason}")]
    BadNumber {
        /// The number given.
        number: String,
        /// Why.
        reason: String,
    },
    /// The default country is unknown.
    #[error("{0}")]
    Country(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] sqlx::Error),
}

/// Column names taken as the number column of a list file; otherwise the first column is.
const NUMBER_COLUMNS: [&str; 6] = ["phone", "number", "e164", "telephone", "msisdn", "phone_number"];

/// Imports a list file (CSV, XLSX or Parquet) into a list in one transaction. The number
/// column is one named like `phone`/`number`, else the first; a file of bare numbers without
/// a header works too.
pub async fn import(
    db: &Db,
    path: &Path,
    scope: Scope,
    default_country: &str,
    user_id: Option<i64>,
    at: DateTime<Utc>,
) -> Result<ImportSummary, DncError> {
    let normalizer = PhoneNormalizer::new(default_country).map_err(|e| DncError::Country(e.to_string()))?;
    let mut source = Source::open(path, &SourceOptions::default())?;
    let header = source.header().to_vec();
    let column = header
        .iter()
        .position(|h| NUMBER_COLUMNS.contains(&h.to_ascii_lowercase().as_str()))
        .unwrap_or(0);
    let mut summary = ImportSummary::default();
    let mut numbers: Vec<(String, u64)> = Vec::new();
    let mut seen = HashSet::new();
    let mut take = |row: u64, cell: &str, summary: &mut ImportSummary, numbers: &mut Vec<(String, u64)>| {
        summary.read += 1;
        match normalizer.normalize(cell) {
            Ok(n) if seen.insert(n.digits) => numbers.push((n.e164, row)),
            Ok(_) => summary.already_listed += 1,
            Err(e) => summary.invalid.push((row, cell.to_string(), e.to_string())),
        }
    };
    // A headerless list: its "header" is the first number.
    if let Some(first) = header.get(column)
        && normalizer.normalize(first).is_ok()
    {
        take(1, first, &mut summary, &mut numbers);
    }
    let mut chunk: Vec<SourceRow> = Vec::new();
    while source.read_chunk(&mut chunk, 8192)? > 0 {
        for row in &chunk {
            take(row.row, row.cells.get(column).unwrap_or(""), &mut summary, &mut numbers);
        }
    }
    let label = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    summary.added = insert(db, &numbers, scope, &label, user_id, at).await?;
    summary.already_listed += numbers.len() as u64 - summary.added;
    Ok(summary)
}

async fn insert(
    db: &Db,
    numbers: &[(String, u64)],
    scope: Scope,
    source: &str,
    user_id: Option<i64>,
    at: DateTime<Utc>,
) -> Result<u64, DncError> {
    let mut added = 0;
    with_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        for (e164, _) in numbers {
            added += sqlx::query(
                "INSERT INTO dnc_entries (campaign_id, e164, source, added_at, user_id)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            )
            .bind(scope.campaign_id())
            .bind(e164)
            .bind(source)
            .bind(at)
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
    });
    Ok(added)
}

/// Lists one number; returns false when it was listed already.
pub async fn add(
    db: &Db,
    number: &str,
    scope: Scope,
    default_country: &str,
    source: &str,
    user_id: Option<i64>,
    at: DateTime<Utc>,
) -> Result<bool, DncError> {
    let normalizer = PhoneNormalizer::new(default_country).map_err(|e| DncError::Country(e.to_string()))?;
    let n = normalizer.normalize(number).map_err(|e| DncError::BadNumber {
        number: number.to_string(),
        reason: e.to_string(),
    })?;
    Ok(insert(db, &[(n.e164, 0)], scope, source, user_id, at).await? == 1)
}

/// Takes a number off a list; returns false when it was not on it.
pub async fn remove(db: &Db, e164: &str, scope: Scope) -> Result<bool, DncError> {
    let removed = with_db!(db, |pool| {
        sqlx::query("DELETE FROM dnc_entries WHERE e164 = $1 AND campaign_id IS NOT DISTINCT FROM $2")
            .bind(e164)
            .bind(scope.campaign_id())
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(removed > 0)
}

/// The entries that forbid dialing `e164` for a campaign: the global list's and the campaign's.
pub async fn check(db: &Db, e164: &str, campaign: Option<CampaignId>) -> Result<Vec<Entry>, DncError> {
    let rows: Vec<(Option<i64>, String, String, DateTime<Utc>)> = with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT campaign_id, e164, source, added_at FROM dnc_entries
             WHERE e164 = $1 AND (campaign_id IS NULL OR campaign_id = $2) ORDER BY campaign_id NULLS FIRST",
        )
        .bind(e164)
        .bind(campaign)
        .fetch_all(pool)
        .await?
    });
    Ok(rows.into_iter().map(entry).collect())
}

/// A list's entries, newest first, up to `limit`.
pub async fn list(db: &Db, scope: Scope, limit: i64) -> Result<Vec<Entry>, DncError> {
    let rows: Vec<(Option<i64>, String, String, DateTime<Utc>)> = with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT campaign_id, e164, source, added_at FROM dnc_entries
             WHERE campaign_id IS NOT DISTINCT FROM $1 ORDER BY added_at DESC, id DESC LIMIT $2",
        )
        .bind(scope.campaign_id())
        .bind(limit)
        .fetch_all(pool)
        .await?
    });
    Ok(rows.into_iter().map(entry).collect())
}

fn entry((campaign_id, e164, source, added_at): (Option<i64>, String, String, DateTime<Utc>)) -> Entry {
    Entry {
        e164,
        scope: campaign_id.map_or(Scope::Global, Scope::Campaign),
        source,
        added_at,
    }
}

/// Every number forbidden for a campaign (global and its own), as E.164 digits: the screen
/// a sample import runs each row through.
pub async fn screen_for(db: &Db, campaign: CampaignId) -> Result<HashSet<u64>, DncError> {
    let numbers: Vec<String> = with_db!(db, |pool| {
        sqlx::query_scalar("SELECT e164 FROM dnc_entries WHERE campaign_id IS NULL OR campaign_id = $1")
            .bind(campaign)
            .fetch_all(pool)
            .await?
    });
    Ok(numbers
        .iter()
        .filter_map(|n| n.trim_start_matches('+').parse().ok())
        .collect())
}
