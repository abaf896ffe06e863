//! Records: their status, fields and numbers; listing, edits by agents and supervisors with an
//! audit trail, and assignment to agents or teams (CATI-01, CATI-08).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use sqlx::Row;
use sqlx::types::Json;

use super::fields::FieldType;
use super::phone::PhoneNormalizer;
use super::zones::{ZoneSource, parse_zone};
use crate::campaign::{self, CampaignError};
use crate::store::{Db, WriteTx};
use crate::users::{Role, User};
use crate::with_db;

/// A record's id in the store.
pub type RecordId = i64;

/// Where a record stands in dialing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordStatus {
    /// Imported, never dialed.
    New,
    /// Dialed before; may be dialed again from `next_call_at`.
    Ready,
    /// Reserved for dialing or on a call right now.
    InProgress,
    /// Waiting for an appointment at `next_call_at`.
    Callback,
    /// Its goal was reached.
    Completed,
    /// Not to be dialed again (refusal, attempt limit, not eligible).
    Final,
    /// The person asked not to be called, or the number is on a do-not-call list.
    DoNotCall,
    /// Falls in a quota cell that is full.
    QuotaClosed,
    /// No dialable number.
    Invalid,
}

impl RecordStatus {
    /// Every status, in display order.
    pub const ALL: [RecordStatus; 9] = [
        RecordStatus::New,
        RecordStatus::Ready,
        RecordStatus::InProgress,
        RecordStatus::Callback,
        RecordStatus::Completed,
        RecordStatus::Final,
        RecordStatus::DoNotCall,
        RecordStatus::QuotaClosed,
        RecordStatus::Invalid,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordStatus::New => "new",
            RecordStatus::Ready => "ready",
            RecordStatus::InProgress => "in_progress",
            RecordStatus::Callback => "callback",
            RecordStatus::Completed => "completed",
            RecordStatus::Final => "final",
            RecordStatus::DoNotCall => "do_not_call",
            RecordStatus::QuotaClosed => "quota_closed",
            RecordStatus::Invalid => "invalid",
        }
    }
}

impl FromStr for RecordStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RecordStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown record status '{s}'; statuses are {}",
                    RecordStatus::ALL.map(RecordStatus::as_str).join(", ")
                )
            })
    }
}

impl fmt::Display for RecordStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// One of a record's phone numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordPhone {
    /// Order among the record's numbers, from 0.
    pub position: i64,
    /// The field it came from.
    pub field: String,
    /// The number in E.164.
    pub e164: String,
    /// Mobile, fixed line...
    pub number_type: String,
    /// The number's country.
    pub region: Option<String>,
}

/// A stored record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Record {
    /// Store id.
    pub id: RecordId,
    /// Its campaign.
    pub campaign_id: i64,
    /// Status.
    pub status: RecordStatus,
    /// Higher is dialed sooner.
    pub priority: i64,
    /// Time zone(s), space-separated IANA names; several when only the country is known.
    pub time_zone: Option<String>,
    /// Where the time zone came from.
    pub time_zone_source: Option<String>,
    /// Field values by name.
    pub fields: Map<String, Value>,
    /// Phone numbers.
    pub phones: Vec<RecordPhone>,
    /// Attempts so far.
    pub attempts: i64,
    /// When it may next be dialed.
    pub next_call_at: Option<DateTime<Utc>>,
    /// The last attempt's outcome.
    pub last_outcome: Option<String>,
    /// The current AAPOR code.
    pub aapor: Option<String>,
    /// The agent it is assigned to.
    pub assigned_agent: Option<String>,
    /// The team it is assigned to.
    pub assigned_team: Option<String>,
    /// The row of the imported file it came from.
    pub source_row: Option<i64>,
    /// When it was imported.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// One edit of one field of a record.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct RecordEdit {
    /// When.
    pub at: DateTime<Utc>,
    /// Who (login).
    pub user: String,
    /// Which field (or `status`, `priority`, `assigned_agent`, `assigned_team`).
    pub field: String,
    /// Value before.
    pub old_value: Option<String>,
    /// Value after.
    pub new_value: Option<String>,
}

/// Why a record operation was refused; nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// No record has this id.
    #[error("no record {0}")]
    NotFound(RecordId),
    /// The user may not do this.
    #[error("{user} may not {action}")]
    Forbidden {
        /// Login.
        user: String,
        /// What was refused.
        action: String,
    },
    /// The field is not in the campaign's field configuration.
    #[error("field '{field}' is not a field of campaign '{campaign}'; fields are {known}")]
    UnknownField {
        /// The field named.
        field: String,
        /// The campaign.
        campaign: String,
        /// Its fields.
        known: String,
    },
    /// The value does not fit the field.
    #[error("field '{field}': {reason}")]
    BadValue {
        /// The field.
        field: String,
        /// Why.
        reason: String,
    },
    /// The status cannot be set by hand.
    #[error("status {0} cannot be set by hand; it is set by the dialer")]
    StatusNotSettable(RecordStatus),
    /// The assignee does not exist or is not an agent.
    #[error("cannot assign to '{0}': no agent has this login")]
    UnknownAgent(String),
    /// The team does not exist.
    #[error("cannot assign to team '{0}': no team has this name")]
    UnknownTeam(String),
    /// The campaign is the problem.
    #[error(transparent)]
    Campaign(#[from] CampaignError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] sqlx::Error),
}

/// Which records to list.
#[derive(Debug, Clone, Default)]
pub struct RecordFilter {
    /// Only this status.
    pub status: Option<RecordStatus>,
    /// Only records assigned to this agent (login).
    pub agent: Option<String>,
    /// Only records assigned to this team.
    pub team: Option<String>,
    /// At most this many (default 100).
    pub limit: Option<i64>,
    /// Skip this many first.
    pub offset: Option<i64>,
}

const RECORD_COLUMNS: &str = "r.id, r.campaign_id, r.status, r.priority, r.time_zone, r.time_zone_source, r.fields,
    r.attempts, r.next_call_at, r.last_outcome, r.aapor, u.login AS agent_login, t.name AS team_name,
    r.source_row, r.created_at, r.updated_at";
const RECORD_FROM: &str =
    "FROM records r LEFT JOIN users u ON u.id = r.assigned_agent_id LEFT JOIN teams t ON t.id = r.assigned_team_id";

/// Lists a campaign's records, highest priority first, then in import order.
pub async fn list(db: &Db, campaign: &str, filter: &RecordFilter) -> Result<Vec<Record>, RecordError> {
    let campaign = campaign::store::find(db, campaign).await?;
    let sql = format!(
        "SELECT {RECORD_COLUMNS} {RECORD_FROM}
         WHERE r.campaign_id = $1 AND ($2 IS NULL OR r.status = $2) AND ($3 IS NULL OR u.login = $3)
           AND ($4 IS NULL OR t.name = $4)
         ORDER BY r.priority DESC, r.id LIMIT $5 OFFSET $6"
    );
    let mut records = with_db!(db, |pool| {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(campaign.id)
            .bind(filter.status.map(RecordStatus::as_str))
            .bind(filter.agent.as_deref())
            .bind(filter.team.as_deref())
            .bind(filter.limit.unwrap_or(100))
            .bind(filter.offset.unwrap_or(0))
            .fetch_all(pool)
            .await?;
        rows.iter()
            .map(record_from_row)
            .collect::<Result<Vec<_>, sqlx::Error>>()?
    });
    attach_phones(db, &mut records).await?;
    Ok(records)
}

/// One record with its numbers.
pub async fn get(db: &Db, id: RecordId) -> Result<Record, RecordError> {
    let sql = format!("SELECT {RECORD_COLUMNS} {RECORD_FROM} WHERE r.id = $1");
    let record = with_db!(db, |pool| {
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(pool)
            .await?;
        row.as_ref().map(record_from_row).transpose()?
    });
    let mut records = vec![record.ok_or(RecordError::NotFound(id))?];
    attach_phones(db, &mut records).await?;
    Ok(records.remove(0))
}

/// A record's edit history, oldest first.
pub async fn edits(db: &Db, id: RecordId) -> Result<Vec<RecordEdit>, RecordError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT e.at, u.login AS user, e.field, e.old_value, e.new_value FROM record_edits e
             JOIN users u ON u.id = e.user_id WHERE e.record_id = $1 ORDER BY e.id",
        )
        .bind(id)
        .fetch_all(pool)
        .await?
    }))
}

fn record_from_row<R: Row>(row: &R) -> Result<Record, sqlx::Error>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    i64: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    String: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    DateTime<Utc>: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    Json<Map<String, Value>>: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let status: String = row.try_get("status")?;
    Ok(Record {
        id: row.try_get("id")?,
        campaign_id: row.try_get("campaign_id")?,
        status: status.parse().map_err(|e: String| sqlx::Error::Decode(e.into()))?,
        priority: row.try_get("priority")?,
        time_zone: row.try_get("time_zone")?,
        time_zone_source: row.try_get("time_zone_source")?,
        fields: row.try_get::<Json<Map<String, Value>>, _>("fields")?.0,
        phones: Vec::new(),
        attempts: row.try_get("attempts")?,
        next_call_at: row.try_get("next_call_at")?,
        last_outcome: row.try_get("last_outcome")?,
        aapor: row.try_get("aapor")?,
        assigned_agent: row.try_get("agent_login")?,
        assigned_team: row.try_get("team_name")?,
        source_row: row.try_get("source_row")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

async fn attach_phones(db: &Db, records: &mut [Record]) -> Result<(), RecordError> {
    for record in records {
        let rows: Vec<(i64, String, String, String, Option<String>)> = with_db!(db, |pool| {
            sqlx::query_as(
                "SELECT position, field, e164, number_type, region FROM record_phones WHERE record_id = $1 ORDER BY position",
            )
            .bind(record.id)
            .fetch_all(pool)
            .await?
        });
        record.phones = rows
            .into_iter()
            .map(|(position, field, e164, number_type, region)| RecordPhone {
                position,
                field,
                e164,
                number_type,
                region,
            })
            .collect();
    }
    Ok(())
}

/// Changes to make to a record; every change is checked and audited.
#[derive(Debug, Clone, Default)]
pub struct RecordChanges {
    /// Field values as text, parsed by the field's type; an empty text clears the field.
    pub fields: Vec<(String, String)>,
    /// New priority (supervisors).
    pub priority: Option<i64>,
    /// New status (supervisors); `new`, `ready`, `completed`, `final`, `do_not_call`, `invalid`.
    pub status: Option<RecordStatus>,
}

fn is_supervisor(user: &User) -> bool {
    user.has_role(Role::Supervisor) || user.has_role(Role::Admin)
}

async fn agent_may_touch(db: &Db, user: &User, record: &Record) -> Result<bool, RecordError> {
    if record.assigned_agent.as_deref().is_some_and(|a| a != user.login) {
        return Ok(false);
    }
    let assigned: Option<i64> = with_db!(db, |pool| {
        sqlx::query_scalar(
            "SELECT campaign_id FROM campaign_agents WHERE campaign_id = $1 AND user_id = $2
             UNION SELECT c.campaign_id FROM campaign_teams c JOIN team_members m ON m.team_id = c.team_id
             WHERE c.campaign_id = $1 AND m.user_id = $2",
        )
        .bind(record.campaign_id)
        .bind(user.id)
        .fetch_optional(pool)
        .await?
    });
    Ok(assigned.is_some())
}

/// Applies `changes` to a record as `user`, in one transaction with one audit row per changed
/// value. Agents may edit the fields of records of their campaigns; supervisors and admins may
/// also change priority and status.
pub async fn edit(
    db: &Db,
    id: RecordId,
    changes: &RecordChanges,
    user: &User,
    at: DateTime<Utc>,
) -> Result<Record, RecordError> {
    let record = get(db, id).await?;
    let forbidden = |action: &str| RecordError::Forbidden {
        user: user.login.clone(),
        action: action.into(),
    };
    let supervisor = is_supervisor(user);
    if !supervisor {
        if !user.has_role(Role::Agent) || !agent_may_touch(db, user, &record).await? {
            return Err(forbidden(&format!("edit record {id}")));
        }
        if changes.priority.is_some() || changes.status.is_some() {
            return Err(forbidden("change a record's priority or status (supervisors do)"));
        }
    }
    if let Some(status) = changes.status
        && matches!(
            status,
            RecordStatus::InProgress | RecordStatus::Callback | RecordStatus::QuotaClosed
        )
    {
        return Err(RecordError::StatusNotSettable(status));
    }
    let campaign = campaign::store::find(db, &record.campaign_id.to_string()).await?;
    let specs = &campaign.settings.fields;
    let normalizer = PhoneNormalizer::new(&campaign.settings.default_country).map_err(|e| RecordError::BadValue {
        field: "default_country".into(),
        reason: e.to_string(),
    })?;

    let mut fields = record.fields.clone();
    let mut audit: Vec<(String, Option<String>, Option<String>)> = Vec::new();
    let mut phones_changed = false;
    let mut zone: Option<(Option<String>, Option<String>)> = None;
    for (name, text) in &changes.fields {
        let spec = specs
            .iter()
            .find(|f| &f.name == name)
            .ok_or_else(|| RecordError::UnknownField {
                field: name.clone(),
                campaign: campaign.name.clone(),
                known: specs.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(", "),
            })?;
        let bad = |reason: String| RecordError::BadValue {
            field: name.clone(),
            reason,
        };
        let value = if text.trim().is_empty() {
            if spec.required {
                return Err(bad("the field is required".into()));
            }
            Value::Null
        } else {
            match spec.kind {
                FieldType::Phone => Value::String(normalizer.normalize(text).map_err(|e| bad(e.to_string()))?.e164),
                FieldType::TimeZone => {
                    let tz = parse_zone(text).map_err(|e| bad(e.to_string()))?;
                    zone = Some((
                        Some(tz.name().to_string()),
                        Some(ZoneSource::Column.as_str().to_string()),
                    ));
                    Value::String(tz.name().to_string())
                }
                _ => spec.parse_value(text).map_err(bad)?,
            }
        };
        let old = fields.get(name).cloned().unwrap_or(Value::Null);
        if old != value {
            phones_changed |= spec.kind == FieldType::Phone;
            audit.push((name.clone(), value_text(&old), value_text(&value)));
            if value.is_null() {
                fields.remove(name);
            } else {
                fields.insert(name.clone(), value);
            }
        }
    }
    if let Some(priority) = changes.priority
        && priority != record.priority
    {
        audit.push((
            "priority".into(),
            Some(record.priority.to_string()),
            Some(priority.to_string()),
        ));
    }
    if let Some(status) = changes.status
        && status != record.status
    {
        audit.push((
            "status".into(),
            Some(record.status.to_string()),
            Some(status.to_string()),
        ));
    }
    if audit.is_empty() {
        return Ok(record);
    }
    // The record's numbers follow its phone fields, in configuration order.
    let phones: Vec<(String, super::phone::Normalized)> = if phones_changed {
        specs
            .iter()
            .filter(|f| f.kind == FieldType::Phone)
            .filter_map(|f| {
                fields
                    .get(&f.name)
                    .and_then(Value::as_str)
                    .map(|v| (f.name.clone(), v.to_string()))
            })
            .filter_map(|(field, e164)| normalizer.normalize(&e164).ok().map(|n| (field, n)))
            .collect()
    } else {
        Vec::new()
    };
    let status = changes.status.unwrap_or(record.status);
    let priority = changes.priority.unwrap_or(record.priority);
    with_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        sqlx::query(
            "UPDATE records SET fields = $1, status = $2, priority = $3, updated_at = $4,
                time_zone = COALESCE($5, time_zone), time_zone_source = COALESCE($6, time_zone_source)
             WHERE id = $7",
        )
        .bind(Json(&fields))
        .bind(status.as_str())
        .bind(priority)
        .bind(at)
        .bind(zone.as_ref().and_then(|z| z.0.clone()))
        .bind(zone.as_ref().and_then(|z| z.1.clone()))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if phones_changed {
            sqlx::query("DELETE FROM record_phones WHERE record_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            for (position, (field, n)) in phones.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO record_phones (record_id, position, field, e164, number_type, region)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(id)
                .bind(position as i64)
                .bind(field)
                .bind(&n.e164)
                .bind(n.number_type.as_str())
                .bind(n.region.as_deref())
                .execute(&mut *tx)
                .await?;
            }
        }
        if status == RecordStatus::DoNotCall && record.status != RecordStatus::DoNotCall {
            // Honour the opt-out at once: the record's numbers go on the campaign's list.
            for phone in &record.phones {
                sqlx::query(
                    "INSERT INTO dnc_entries (campaign_id, e164, source, note, added_at, user_id)
                     VALUES ($1, $2, 'record edit', $3, $4, $5) ON CONFLICT DO NOTHING",
                )
                .bind(record.campaign_id)
                .bind(&phone.e164)
                .bind(format!("record {id}"))
                .bind(at)
                .bind(user.id)
                .execute(&mut *tx)
                .await?;
            }
        }
        for (field, old, new) in &audit {
            sqlx::query(
                "INSERT INTO record_edits (record_id, user_id, at, field, old_value, new_value)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id)
            .bind(user.id)
            .bind(at)
            .bind(field)
            .bind(old.as_deref())
            .bind(new.as_deref())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
    });
    get(db, id).await
}

fn value_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Who records are assigned to.
#[derive(Debug, Clone, PartialEq)]
pub enum Assignee {
    /// One agent, by login.
    Agent(String),
    /// A team, by name.
    Team(String),
    /// Nobody: the records go back to the common pool.
    Nobody,
}

/// Assigns records to an agent or a team (supervisors and admins), auditing each; returns
/// how many changed.
pub async fn assign(
    db: &Db,
    ids: &[RecordId],
    to: &Assignee,
    user: &User,
    at: DateTime<Utc>,
) -> Result<u64, RecordError> {
    if !is_supervisor(user) {
        return Err(RecordError::Forbidden {
            user: user.login.clone(),
            action: "assign records (supervisors do)".into(),
        });
    }
    let (agent_id, team_id, label): (Option<i64>, Option<i64>, Option<String>) = match to {
        Assignee::Agent(login) => {
            let id: Option<i64> = with_db!(db, |pool| {
                sqlx::query_scalar(
                    "SELECT u.id FROM users u JOIN user_roles r ON r.user_id = u.id AND r.role = 'agent' WHERE u.login = $1",
                )
                .bind(login)
                .fetch_optional(pool)
                .await?
            });
            (
                Some(id.ok_or_else(|| RecordError::UnknownAgent(login.clone()))?),
                None,
                Some(login.clone()),
            )
        }
        Assignee::Team(name) => {
            let id: Option<i64> = with_db!(db, |pool| {
                sqlx::query_scalar("SELECT id FROM teams WHERE name = $1")
                    .bind(name)
                    .fetch_optional(pool)
                    .await?
            });
            (
                None,
                Some(id.ok_or_else(|| RecordError::UnknownTeam(name.clone()))?),
                Some(name.clone()),
            )
        }
        Assignee::Nobody => (None, None, None),
    };
    let mut changed = 0;
    with_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        for id in ids {
            let before: Option<(Option<String>, Option<String>)> = sqlx::query_as(
                "SELECT u.login, t.name FROM records r LEFT JOIN users u ON u.id = r.assigned_agent_id
                 LEFT JOIN teams t ON t.id = r.assigned_team_id WHERE r.id = $1",
            )
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((old_agent, old_team)) = before else {
                return Err(RecordError::NotFound(*id));
            };
            let old = old_agent.or(old_team);
            if old == label {
                continue;
            }
            sqlx::query(
                "UPDATE records SET assigned_agent_id = $1, assigned_team_id = $2, updated_at = $3 WHERE id = $4",
            )
            .bind(agent_id)
            .bind(team_id)
            .bind(at)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            let field = if team_id.is_some() {
                "assigned_team"
            } else {
                "assigned_agent"
            };
            sqlx::query(
                "INSERT INTO record_edits (record_id, user_id, at, field, old_value, new_value)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id)
            .bind(user.id)
            .bind(at)
            .bind(field)
            .bind(old.as_deref())
            .bind(label.as_deref())
            .execute(&mut *tx)
            .await?;
            changed += 1;
        }
        tx.commit().await?;
    });
    Ok(changed)
}

/// Ids of a campaign's records in a status, in dialing order, up to `limit`: the input of a
/// bulk assignment ("assign 500 new records to team A").
pub async fn ids_in_status(
    db: &Db,
    campaign_id: i64,
    status: Option<RecordStatus>,
    limit: i64,
) -> Result<Vec<RecordId>, RecordError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_scalar(
            "SELECT id FROM records WHERE campaign_id = $1 AND ($2 IS NULL OR status = $2)
             ORDER BY priority DESC, id LIMIT $3",
        )
        .bind(campaign_id)
        .bind(status.map(RecordStatus::as_str))
        .bind(limit)
        .fetch_all(pool)
        .await?
    }))
}
