//! A survey campaign's interviews read from the store, with their answers, the sample record
//! they were asked of and its call history: what the answers export and the survey progress
//! reports are made of. Reads only.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use paceline_cati::questionnaire::Questionnaire;
use paceline_dialer::Db;
use paceline_dialer::campaign::Campaign;
use paceline_dialer::with_db;
use sqlx::types::Json;

use crate::ReportError;

/// Which interviews to take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// Every interview, whatever its state.
    All,
    /// Completed interviews only.
    Complete,
    /// Interviews not completed: open, suspended, screened out or terminated.
    Partial,
}

impl std::str::FromStr for Which {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "all" => Ok(Which::All),
            "complete" => Ok(Which::Complete),
            "partial" => Ok(Which::Partial),
            other => Err(format!(
                "'{other}' is not a choice of interviews: all, complete or partial"
            )),
        }
    }
}

/// One interview and what the store knows around it.
#[derive(Debug, Clone, PartialEq)]
pub struct InterviewFact {
    /// The interview's id.
    pub id: i64,
    /// The sample record it was asked of.
    pub record: i64,
    /// The questionnaire version's store id.
    pub version: i64,
    /// The questionnaire version's label (its `version` setting).
    pub version_label: String,
    /// The interviewer (login), if any.
    pub interviewer: Option<String>,
    /// The language it was asked in.
    pub language: String,
    /// asking, suspended, complete, screened_out or terminated.
    pub state: String,
    /// The end point, or why it was terminated.
    pub state_detail: Option<String>,
    /// The answer keys shown, in order.
    pub path: Vec<String>,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it last changed (when it ended, for a finished interview).
    pub updated_at: DateTime<Utc>,
    /// Its answers on the route, by answer key, as stored (JSON).
    pub answers: BTreeMap<String, serde_json::Value>,
    /// The record's sample fields, as stored.
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// The record's call attempts so far.
    pub attempts: i64,
    /// The record's last disposition.
    pub disposition: Option<String>,
    /// The record's AAPOR final code.
    pub aapor: Option<String>,
}

impl InterviewFact {
    /// Whether it ended (completed, screened out or terminated), so that its length is known.
    pub fn finished(&self) -> bool {
        matches!(self.state.as_str(), "complete" | "screened_out" | "terminated")
    }
}

/// A survey campaign's interviews, with the questionnaire version that lays out the export.
#[derive(Debug, Clone)]
pub struct SurveyFacts {
    /// The campaign.
    pub campaign: Campaign,
    /// The layout: the latest questionnaire version its interviews were asked on.
    pub questionnaire: Questionnaire,
    /// The interviews, in the order they started.
    pub interviews: Vec<InterviewFact>,
}

type InterviewRow = (
    i64,
    i64,
    i64,
    String,
    Option<String>,
    String,
    String,
    Option<String>,
    Json<Vec<String>>,
    DateTime<Utc>,
    DateTime<Utc>,
    Json<serde_json::Map<String, serde_json::Value>>,
    i64,
    Option<String>,
    Option<String>,
);

/// Reads the interviews of the campaign named `campaign` (name or id) that `which` selects,
/// started in `[from, to)` when given. An unknown campaign, one without a questionnaire, or
/// one whose questionnaire has no interviews is a clear error.
pub async fn read(
    db: &Db,
    campaign: &str,
    which: Which,
    range: Option<(DateTime<Utc>, DateTime<Utc>)>,
) -> Result<SurveyFacts, ReportError> {
    let (campaign, key) = survey_campaign(db, campaign).await?;
    let states = match which {
        Which::All => "",
        Which::Complete => "AND i.state = 'complete'",
        Which::Partial => "AND i.state <> 'complete'",
    };
    let (from, to) = range.unzip();
    let sql = format!(
        "SELECT i.id, i.record_id, i.questionnaire_version, v.version, u.login, i.language, i.state, i.state_detail,
                i.path, i.started_at, i.updated_at, r.fields, r.attempts, r.last_disposition, r.aapor
         FROM interviews i JOIN records r ON r.id = i.record_id
         JOIN questionnaire_versions v ON v.id = i.questionnaire_version
         LEFT JOIN users u ON u.id = i.interviewer_id
         WHERE r.campaign_id = $1 {states}
           AND (CAST($2 AS TEXT) IS NULL OR i.started_at >= $2) AND (CAST($3 AS TEXT) IS NULL OR i.started_at < $3)
         ORDER BY i.started_at, i.id"
    );
    let rows: Vec<InterviewRow> = with_db!(db, |pool| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(campaign.id)
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await?
    });
    let answers_sql = format!(
        "SELECT a.interview_id, a.question, a.value FROM interview_answers a
         JOIN interviews i ON i.id = a.interview_id JOIN records r ON r.id = i.record_id
         WHERE r.campaign_id = $1 AND a.set_aside = FALSE {states}
           AND (CAST($2 AS TEXT) IS NULL OR i.started_at >= $2) AND (CAST($3 AS TEXT) IS NULL OR i.started_at < $3)"
    );
    let answers: Vec<(i64, String, Json<serde_json::Value>)> = with_db!(db, |pool| {
        sqlx::query_as(sqlx::AssertSqlSafe(answers_sql))
            .bind(campaign.id)
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await?
    });
    let mut by_interview: BTreeMap<i64, BTreeMap<String, serde_json::Value>> = BTreeMap::new();
    for (interview, question, value) in answers {
        by_interview.entry(interview).or_default().insert(question, value.0);
    }
    let interviews: Vec<InterviewFact> = rows
        .into_iter()
        .map(
            |(
                id,
                record,
                version,
                version_label,
                interviewer,
                language,
                state,
                state_detail,
                path,
                started_at,
                updated_at,
                fields,
                attempts,
                disposition,
                aapor,
            )| InterviewFact {
                id,
                record,
                version,
                version_label,
                interviewer,
                language,
                state,
                state_detail,
                path: path.0,
                started_at,
                updated_at,
                answers: by_interview.remove(&id).unwrap_or_default(),
                fields: fields.0,
                attempts,
                disposition,
                aapor,
            },
        )
        .collect();
    let layout = match interviews.iter().map(|i| i.version).max() {
        Some(version) => version,
        None => latest_version(db, &campaign, &key).await?,
    };
    let questionnaire = paceline_cati::store::version(db, layout).await.map_err(store_error)?;
    Ok(SurveyFacts {
        campaign,
        questionnaire,
        interviews,
    })
}

/// The campaign named `reference` (name or id) and the key of the questionnaire it asks; a
/// campaign that is not a survey is refused.
pub async fn survey_campaign(db: &Db, reference: &str) -> Result<(Campaign, String), ReportError> {
    let campaign = paceline_dialer::campaign::store::find(db, reference)
        .await
        .map_err(|e| ReportError::BadOption {
            option: "--campaign".into(),
            message: e.to_string(),
        })?;
    match campaign.settings.questionnaire.clone() {
        Some(key) => Ok((campaign, key)),
        None => Err(ReportError::BadOption {
            option: "--campaign".into(),
            message: format!("campaign '{}' has no questionnaire, so no interviews", campaign.name),
        }),
    }
}

/// The campaign's questionnaire as new interviews are asked it: its latest published version.
pub async fn current_questionnaire(db: &Db, reference: &str) -> Result<(Campaign, Questionnaire), ReportError> {
    let (campaign, key) = survey_campaign(db, reference).await?;
    let version = latest_version(db, &campaign, &key).await?;
    let questionnaire = paceline_cati::store::version(db, version).await.map_err(store_error)?;
    Ok((campaign, questionnaire))
}

async fn latest_version(db: &Db, campaign: &Campaign, key: &str) -> Result<i64, ReportError> {
    paceline_cati::store::latest_version(db, key)
        .await
        .map_err(store_error)?
        .ok_or_else(|| ReportError::BadOption {
            option: "--campaign".into(),
            message: format!(
                "campaign '{}' asks questionnaire '{key}', which has never been published",
                campaign.name
            ),
        })
}

fn store_error(e: paceline_cati::store::StoreError) -> ReportError {
    ReportError::BadOption {
        option: "--campaign".into(),
        message: format!("reading its questionnaire: {e}"),
    }
}
