//! Storage of questionnaire versions and interviews, on either backend of the dialer's
//! [`Db`]: a version is the published file itself, so an interview started on it is always
//! read back with it; an interview's answers are stored as they are given (each step in one
//! transaction), so a crash or a dropped call loses nothing, and [`load`] rebuilds it exactly.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use paceline_dialer::store::{Db, WriteTx};
use paceline_dialer::with_db;
use serde::Serialize;
use sqlx::types::Json;

use crate::expr::Value;
use crate::interview::{Interview, Saved, State};
use crate::questionnaire::{self, LoadError, Questionnaire};

/// A published questionnaire version's id.
pub type VersionId = i64;
/// A stored interview's id.
pub type InterviewId = i64;

/// Why a storage operation failed; nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store refused a statement.
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    /// The file does not load as a questionnaire.
    #[error("{file} does not load: {}", .errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Questionnaire {
        /// The file's name.
        file: String,
        /// Every problem, with its location.
        errors: Vec<LoadError>,
    },
    /// The version is published already with other content; versions never change.
    #[error("version {version} of {key} is already published with other content; publish the change as a new version")]
    VersionTaken {
        /// The questionnaire's id.
        key: String,
        /// Its version label.
        version: String,
    },
    /// The questionnaire has no quota of this name.
    #[error("the questionnaire has no quota '{quota}'; its quotas: {known}")]
    NoQuota {
        /// The quota named.
        quota: String,
        /// The quotas there are.
        known: String,
    },
    /// The quota has no such cell.
    #[error("quota '{quota}' has no cell '{cell}'; its cells: {known}")]
    NoQuotaCell {
        /// The quota named.
        quota: String,
        /// The cell named.
        cell: String,
        /// The quota's cells.
        known: String,
    },
    /// No interview has this id.
    #[error("there is no interview {0}")]
    NoInterview(InterviewId),
    /// What is stored cannot be read back (a path naming a question the version lacks).
    #[error("interview {id} cannot be read back: {why}")]
    Unreadable {
        /// The interview.
        id: InterviewId,
        /// Why.
        why: String,
    },
}

/// A published version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Published {
    /// Its id.
    pub id: VersionId,
    /// The questionnaire's id.
    pub key: String,
    /// Its version label.
    pub version: String,
    /// Whether this call published it (false: the same file was published before).
    pub new: bool,
}

/// Publishes a questionnaire file (own format or XLSForm) as a version: it must load, and a
/// version label once published keeps its content.
pub async fn publish(db: &Db, file_name: &str, bytes: &[u8], now: DateTime<Utc>) -> Result<Published, StoreError> {
    let q = questionnaire::load_bytes(file_name, bytes).map_err(|errors| StoreError::Questionnaire {
        file: file_name.to_string(),
        errors,
    })?;
    let existing: Option<(i64, Vec<u8>)> = with_db!(db, |pool| {
        sqlx::query_as("SELECT id, source FROM questionnaire_versions WHERE key = $1 AND version = $2")
            .bind(&q.id)
            .bind(&q.version)
            .fetch_optional(pool)
            .await?
    });
    if let Some((id, source)) = existing {
        if source != bytes {
            return Err(StoreError::VersionTaken {
                key: q.id,
                version: q.version,
            });
        }
        return Ok(Published {
            id,
            key: q.id,
            version: q.version,
            new: false,
        });
    }
    let id: i64 = with_db!(db, |pool| {
        sqlx::query_scalar(
            "INSERT INTO questionnaire_versions (key, version, file_name, source, published_at)
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(&q.id)
        .bind(&q.version)
        .bind(file_name)
        .bind(bytes)
        .bind(now)
        .fetch_one(pool)
        .await?
    });
    Ok(Published {
        id,
        key: q.id,
        version: q.version,
        new: true,
    })
}

/// The questionnaire of a published version, loaded from its stored file.
pub async fn version(db: &Db, id: VersionId) -> Result<Questionnaire, StoreError> {
    let (file_name, source): (String, Vec<u8>) = with_db!(db, |pool| {
        sqlx::query_as("SELECT file_name, source FROM questionnaire_versions WHERE id = $1")
            .bind(id)
            .fetch_one(pool)
            .await?
    });
    questionnaire::load_bytes(&file_name, &source).map_err(|errors| StoreError::Questionnaire {
        file: file_name,
        errors,
    })
}

fn state_columns(state: &State) -> (&'static str, Option<String>) {
    match state {
        State::Asking => ("asking", None),
        State::Suspended => ("suspended", None),
        State::Complete => ("complete", None),
        State::ScreenedOut { at } => ("screened_out", Some(at.clone())),
        State::Terminated { reason } => ("terminated", Some(reason.clone())),
    }
}

fn state_from(state: &str, detail: Option<String>) -> Option<State> {
    Some(match state {
        "asking" => State::Asking,
        "suspended" => State::Suspended,
        "complete" => State::Complete,
        "screened_out" => State::ScreenedOut { at: detail? },
        "terminated" => State::Terminated { reason: detail? },
        _ => return None,
    })
}

fn json_of<T: Serialize>(value: &T) -> Json<serde_json::Value> {
    Json(serde_json::to_value(value).expect("interview data serialises"))
}

/// Who an interview is with and for.
#[derive(Debug, Clone, Copy, Default)]
pub struct Party {
    /// The sample record, when the interview is a campaign's.
    pub record: Option<i64>,
    /// The interviewer.
    pub interviewer: Option<i64>,
}

/// Stores a new interview of `version` (as started: its first question routed to, the
/// calculations before it made); returns its id.
pub async fn start(
    db: &Db,
    version: VersionId,
    party: Party,
    interview: &Interview<'_>,
    now: DateTime<Utc>,
) -> Result<InterviewId, StoreError> {
    let saved = interview.saved();
    let (state, detail) = state_columns(&saved.state);
    let id = with_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO interviews (questionnaire_version, record_id, interviewer_id, sample, language, seed, state,
                 state_detail, path, orders, interview_date, started_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id",
        )
        .bind(version)
        .bind(party.record)
        .bind(party.interviewer)
        .bind(json_of(&saved.sample))
        .bind(&saved.language)
        .bind(saved.seed as i64)
        .bind(state)
        .bind(&detail)
        .bind(json_of(&saved.path))
        .bind(json_of(&saved.orders))
        .bind(saved.today)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        for (question, value, set_aside) in changes(&Saved::empty_like(&saved), &saved) {
            sqlx::query(
                "INSERT INTO interview_answers (interview_id, question, value, set_aside, given_at)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(question)
            .bind(json_of(&value))
            .bind(set_aside)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        id
    });
    Ok(id)
}

/// The answers that differ between two snapshots: (question, value, set aside), a removed
/// answer as an empty value.
fn changes(before: &Saved, after: &Saved) -> Vec<(String, Value, bool)> {
    let mut out = Vec::new();
    for (name, value) in &after.answers {
        if before.answers.get(name) != Some(value) {
            out.push((name.clone(), value.clone(), false));
        }
    }
    for (name, value) in &after.set_aside {
        if before.set_aside.get(name) != Some(value) {
            out.push((name.clone(), value.clone(), true));
        }
    }
    for name in before.answers.keys().chain(before.set_aside.keys()) {
        if !after.answers.contains_key(name) && !after.set_aside.contains_key(name) {
            out.push((name.clone(), Value::Empty, false));
        }
    }
    out
}

impl Saved {
    fn empty_like(saved: &Saved) -> Saved {
        Saved {
            answers: BTreeMap::new(),
            set_aside: BTreeMap::new(),
            ..saved.clone()
        }
    }
}

/// Stores one step of an interview: the answers that changed since `before` (what was last
/// stored) and where it stands, in one transaction.
pub async fn save(
    db: &Db,
    id: InterviewId,
    before: &Saved,
    interview: &Interview<'_>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let saved = interview.saved();
    let (state, detail) = state_columns(&saved.state);
    let changed = changes(before, &saved);
    let updated = with_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE interviews SET state = $2, state_detail = $3, path = $4, orders = $5, language = $6, updated_at = $7
             WHERE id = $1",
        )
        .bind(id)
        .bind(state)
        .bind(&detail)
        .bind(json_of(&saved.path))
        .bind(json_of(&saved.orders))
        .bind(&saved.language)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        for (question, value, set_aside) in &changed {
            if matches!(value, Value::Empty) && !saved.answers.contains_key(question) {
                sqlx::query("DELETE FROM interview_answers WHERE interview_id = $1 AND question = $2")
                    .bind(id)
                    .bind(question)
                    .execute(&mut *tx)
                    .await?;
                continue;
            }
            sqlx::query(
                "INSERT INTO interview_answers (interview_id, question, value, set_aside, given_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (interview_id, question)
                 DO UPDATE SET value = excluded.value, set_aside = excluded.set_aside, given_at = excluded.given_at",
            )
            .bind(id)
            .bind(question)
            .bind(json_of(value))
            .bind(*set_aside)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        updated
    });
    if updated == 0 {
        return Err(StoreError::NoInterview(id));
    }
    Ok(())
}

/// A stored interview: its questionnaire version and everything needed to rebuild it with
/// [`Interview::restore`].
#[derive(Debug, Clone)]
pub struct Stored {
    /// The version it runs on.
    pub version: VersionId,
    /// That version's questionnaire.
    pub questionnaire: Questionnaire,
    /// The interview as stored.
    pub saved: Saved,
}

type InterviewRow = (
    i64,
    Json<serde_json::Value>,
    String,
    i64,
    String,
    Option<String>,
    Json<serde_json::Value>,
    Json<serde_json::Value>,
    NaiveDate,
);

/// Reads an interview back.
pub async fn load(db: &Db, id: InterviewId) -> Result<Stored, StoreError> {
    let row: Option<InterviewRow> = with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT questionnaire_version, sample, language, seed, state, state_detail, path, orders, interview_date
             FROM interviews WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await?
    });
    let Some((version, sample, language, seed, state, detail, path, orders, today)) = row else {
        return Err(StoreError::NoInterview(id));
    };
    let answers: Vec<(String, Json<serde_json::Value>, bool)> = with_db!(db, |pool| {
        sqlx::query_as("SELECT question, value, set_aside FROM interview_answers WHERE interview_id = $1")
            .bind(id)
            .fetch_all(pool)
            .await?
    });
    let unreadable = |why: String| StoreError::Unreadable { id, why };
    let questionnaire = self::version(db, version).await?;
    let mut saved = Saved {
        sample: serde_json::from_value::<BTreeMap<String, serde_json::Value>>(sample.0)
            .map_err(|e| unreadable(format!("its sample: {e}")))?
            .into_iter()
            .map(|(k, v)| {
                let value = questionnaire
                    .sample_value(&k, &v)
                    .unwrap_or_else(|_| Value::from_json(&v));
                (k, value)
            })
            .collect(),
        answers: BTreeMap::new(),
        set_aside: BTreeMap::new(),
        orders: serde_json::from_value(orders.0).map_err(|e| unreadable(format!("its option orders: {e}")))?,
        path: serde_json::from_value(path.0).map_err(|e| unreadable(format!("its path: {e}")))?,
        language,
        today,
        seed: seed as u64,
        state: state_from(&state, detail).ok_or_else(|| unreadable(format!("its state '{state}'")))?,
    };
    for (question, value, set_aside) in answers {
        // Answers come back typed by their question (a date as a date); computed values as
        // their JSON says.
        let typed = questionnaire
            .question(&question)
            .and_then(|q| crate::interview::parse_answer(q, &value.0).ok())
            .unwrap_or_else(|| Value::from_json(&value.0));
        if set_aside {
            saved.set_aside.insert(question, typed);
        } else {
            saved.answers.insert(question, typed);
        }
    }
    Ok(Stored {
        version,
        questionnaire,
        saved,
    })
}

/// A record whose AAPOR code is not one (an imported or hand-edited value).
#[derive(Debug, thiserror::Error)]
pub enum CountError {
    /// The store refused a statement.
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    /// Records carry a code that is not an AAPOR code.
    #[error("{records} record(s) of the campaign have the AAPOR code '{code}': {why}")]
    BadCode {
        /// The code stored.
        code: String,
        /// How many records have it.
        records: i64,
        /// Why it is not one.
        why: String,
    },
}

/// The AAPOR counts of a campaign's sample: each record counted once, in the group of its
/// final disposition code; a record never dialed counts as 3.11 (not attempted).
pub async fn campaign_counts(db: &Db, campaign: i64) -> Result<crate::aapor::Counts, CountError> {
    let rows: Vec<(Option<String>, i64)> = with_db!(db, |pool| {
        sqlx::query_as("SELECT aapor, COUNT(*) FROM records WHERE campaign_id = $1 GROUP BY aapor")
            .bind(campaign)
            .fetch_all(pool)
            .await?
    });
    tally(rows)
}

/// AAPOR case counts from records' final codes, each with how many records have it (a record
/// without a code yet is 3.11, not attempted).
pub fn tally(rows: impl IntoIterator<Item = (Option<String>, i64)>) -> Result<crate::aapor::Counts, CountError> {
    let mut counts = crate::aapor::Counts::default();
    for (code, n) in rows {
        let code = code.unwrap_or_else(|| "3.11".to_string());
        let group = crate::aapor::group_of(&code).map_err(|e| CountError::BadCode {
            code: code.clone(),
            records: n,
            why: e.why.to_string(),
        })?;
        counts.add(group, n as f64);
    }
    Ok(counts)
}

/// A campaign's quota book, counted from its stored interviews (the facts, so the counts
/// cannot drift from them): completes, and interviews in progress, in the cells their answers
/// and sample fields put them in.
pub async fn quota_book(
    db: &Db,
    campaign: i64,
    questionnaire: &Questionnaire,
) -> Result<crate::quota::QuotaBook, StoreError> {
    let mut book = crate::quota::QuotaBook::new(questionnaire);
    if questionnaire.quotas.is_empty() {
        return Ok(book);
    }
    let interviews: Vec<(i64, String, Json<serde_json::Value>, NaiveDate)> = with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT i.id, i.state, i.sample, i.interview_date FROM interviews i JOIN records r ON r.id = i.record_id
             WHERE r.campaign_id = $1 AND i.state IN ('complete', 'asking', 'suspended') ORDER BY i.id",
        )
        .bind(campaign)
        .fetch_all(pool)
        .await?
    });
    let answers: Vec<(i64, String, Json<serde_json::Value>)> = with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT a.interview_id, a.question, a.value FROM interview_answers a
             JOIN interviews i ON i.id = a.interview_id JOIN records r ON r.id = i.record_id
             WHERE r.campaign_id = $1 AND a.set_aside = FALSE AND i.state IN ('complete', 'asking', 'suspended')",
        )
        .bind(campaign)
        .fetch_all(pool)
        .await?
    });
    let mut by_interview: std::collections::HashMap<i64, BTreeMap<String, Value>> = Default::default();
    for (interview, question, value) in answers {
        by_interview
            .entry(interview)
            .or_default()
            .insert(question, Value::from_json(&value.0));
    }
    for (id, state, sample, today) in interviews {
        let answers = by_interview.remove(&id).unwrap_or_default();
        let cells = book.cells_of(&answers, &crate::quota::sample_values(&sample.0), today);
        if state == "complete" {
            // Started, then completed: `completed` takes one off the in-progress count, which
            // must be this interview's, not one of another counted before it.
            book.started(&cells);
            book.completed(&cells);
        } else {
            book.started(&cells);
        }
    }
    for (quota, cell, target) in quota_targets(db, campaign).await? {
        // A target kept for a cell a later version dropped applies to nothing.
        book.set_target(&crate::quota::CellId { quota, cell }, target);
    }
    Ok(book)
}

/// The targets a campaign set over its questionnaire's, as (quota, cell, target).
async fn quota_targets(db: &Db, campaign: i64) -> Result<Vec<(String, String, u32)>, StoreError> {
    let rows: Vec<(String, String, i64)> = with_db!(db, |pool| {
        sqlx::query_as("SELECT quota, cell, target FROM quota_targets WHERE campaign_id = $1 ORDER BY quota, cell")
            .bind(campaign)
            .fetch_all(pool)
            .await?
    });
    Ok(rows
        .into_iter()
        .map(|(q, c, t)| (q, c, u32::try_from(t).unwrap_or(0)))
        .collect())
}

/// Sets a campaign's target for one quota cell in the field (CATI-07), over the one its
/// questionnaire sets, for this version and the next ones with the same cell. A cell the
/// questionnaire lacks is refused with the cells there are.
pub async fn set_quota_target(
    db: &Db,
    campaign: i64,
    questionnaire: &Questionnaire,
    cell: &crate::quota::CellId,
    target: u32,
    by: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut book = crate::quota::QuotaBook::new(questionnaire);
    if !book.set_target(cell, target) {
        let list = |names: Vec<String>| {
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        };
        let Some(quota) = questionnaire.quotas.iter().find(|q| q.name == cell.quota) else {
            return Err(StoreError::NoQuota {
                quota: cell.quota.clone(),
                known: list(questionnaire.quotas.iter().map(|q| q.name.clone()).collect()),
            });
        };
        return Err(StoreError::NoQuotaCell {
            quota: cell.quota.clone(),
            cell: cell.cell.clone(),
            known: list(quota.cells.iter().map(|c| c.key.clone()).collect()),
        });
    }
    with_db!(db, |pool| {
        sqlx::query(
            "INSERT INTO quota_targets (campaign_id, quota, cell, target, set_by, set_at) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (campaign_id, quota, cell) DO UPDATE SET target = excluded.target, set_by = excluded.set_by, set_at = excluded.set_at",
        )
        .bind(campaign)
        .bind(&cell.quota)
        .bind(&cell.cell)
        .bind(i64::from(target))
        .bind(by)
        .bind(now)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// The latest published version of the questionnaire `key` (a campaign's `questionnaire`
/// setting names it): new interviews start on it.
pub async fn latest_version(db: &Db, key: &str) -> Result<Option<VersionId>, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_scalar("SELECT id FROM questionnaire_versions WHERE key = $1 ORDER BY id DESC LIMIT 1")
            .bind(key)
            .fetch_optional(pool)
            .await?
    }))
}

/// A record's interview still open (suspended for a callback, or left on a question when
/// the line dropped), the latest if several: its next call resumes it.
pub async fn open_for_record(db: &Db, record: i64) -> Result<Option<InterviewId>, StoreError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_scalar(
            "SELECT id FROM interviews WHERE record_id = $1 AND state IN ('asking', 'suspended')
             ORDER BY id DESC LIMIT 1",
        )
        .bind(record)
        .fetch_optional(pool)
        .await?
    }))
}

/// A record's sample fields as stored.
pub async fn record_fields(db: &Db, record: i64) -> Result<serde_json::Value, StoreError> {
    let fields: Json<serde_json::Value> = with_db!(db, |pool| {
        sqlx::query_scalar("SELECT fields FROM records WHERE id = $1")
            .bind(record)
            .fetch_one(pool)
            .await?
    });
    Ok(fields.0)
}
