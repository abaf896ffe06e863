//! Storing campaigns: create, copy, update, lifecycle steps, assignments and dispositions.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;
use sqlx::types::Json;

use super::{
    Campaign, CampaignConfig, CampaignId, CampaignKind, CampaignStatus, IllegalStep, LifecycleStep, SettingProblem,
};
use crate::disposition::{Disposition, NextStep, default_set, set_problems};
use crate::store::{Db, WriteTx, is_unique_violation};
use crate::users::UserId;
use crate::with_db;

/// Why a campaign operation was refused; nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    /// No campaign has this name or id.
    #[error("no campaign named '{0}'")]
    NotFound(String),
    /// Another campaign has this name.
    #[error("a campaign named '{0}' already exists")]
    DuplicateName(String),
    /// The name breaks the naming rule.
    #[error("campaign name '{name}' is not allowed: {reason}")]
    BadName {
        /// The name given.
        name: String,
        /// The rule it breaks.
        reason: &'static str,
    },
    /// The settings have problems.
    #[error("the settings have {} problem(s):\n{}", .0.len(), .0.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<SettingProblem>),
    /// The lifecycle step is not allowed now.
    #[error(transparent)]
    Lifecycle(#[from] IllegalStep),
    /// A login to assign is not an agent.
    #[error("cannot assign '{0}': no agent has this login")]
    UnknownAgent(String),
    /// A team to assign does not exist.
    #[error("cannot assign team '{0}': no team has this name")]
    UnknownTeam(String),
    /// The campaign is closed and cannot change.
    #[error("campaign '{0}' is closed; copy it to run it again")]
    Closed(String),
    /// A field with stored data would be removed or retyped.
    #[error("field '{field}' holds data in {records} record(s); it cannot be removed or change type")]
    FieldInUse {
        /// The field.
        field: String,
        /// How many records have a value for it.
        records: i64,
    },
    /// A stored campaign could not be read back.
    #[error("campaign {id} is stored in a form this version cannot read: {reason}")]
    Corrupt {
        /// The campaign.
        id: CampaignId,
        /// What is wrong.
        reason: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] sqlx::Error),
}

/// A line of the campaign list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CampaignSummary {
    /// Store id.
    pub id: CampaignId,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: CampaignKind,
    /// Status.
    pub status: CampaignStatus,
    /// Records in its sample.
    pub records: i64,
}

/// Writes a campaign's agents, teams and dispositions inside an open transaction `$tx`
/// (a macro because the transaction's type differs per backend).
macro_rules! write_assignments {
    ($tx:ident, $id:expr, $config:expr, $dispositions:expr) => {{
        let (id, config, dispositions): (i64, &CampaignConfig, &[Disposition]) = ($id, $config, $dispositions);
        let tx = &mut $tx;
            for login in &config.agents {
                let user: Option<i64> = sqlx::query_scalar(
                        "SELECT u.id FROM users u JOIN user_roles r ON r.user_id = u.id AND r.role = 'agent' WHERE u.login = $1",
                )
                .bind(login)
                .fetch_optional(&mut **tx)
                .await?;
                let user = user.ok_or_else(|| CampaignError::UnknownAgent(login.clone()))?;
                sqlx::query("INSERT INTO campaign_agents (campaign_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                        .bind(id)
                        .bind(user)
                        .execute(&mut **tx)
                        .await?;
            }
            for team in &config.teams {
                let team_id: Option<i64> = sqlx::query_scalar("SELECT id FROM teams WHERE name = $1")
                        .bind(team)
                        .fetch_optional(&mut **tx)
                        .await?;
                let team_id = team_id.ok_or_else(|| CampaignError::UnknownTeam(team.clone()))?;
                sqlx::query("INSERT INTO campaign_teams (campaign_id, team_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                        .bind(id)
                        .bind(team_id)
                        .execute(&mut **tx)
                        .await?;
            }
            for (position, d) in dispositions.iter().enumerate() {
                sqlx::query(
                        "INSERT INTO dispositions (campaign_id, code, label, aapor, next_step, retry_after_s,
                            try_next_number, contact, eligible, position)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(id)
                .bind(&d.code)
                .bind(&d.label)
                .bind(&d.aapor)
                .bind(d.next.as_str())
                .bind(d.retry_after_minutes.map(|m| m * 60))
                .bind(d.try_next_number)
                .bind(d.contact)
                .bind(d.eligible)
                .bind(position as i64)
                .execute(&mut **tx)
                .await?;
            }
    }};
}

fn check_name(name: &str) -> Result<(), CampaignError> {
    let bad = |reason| CampaignError::BadName {
        name: name.to_string(),
        reason,
    };
    if name.trim().is_empty() || name.trim() != name {
        return Err(bad("it must not be empty or start or end with spaces"));
    }
    if name.chars().count() > 100 {
        return Err(bad("it must be at most 100 characters long"));
    }
    if name.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad("it must not be a number, which would read as a campaign id"));
    }
    Ok(())
}

fn check(config: &CampaignConfig, dispositions: &[Disposition]) -> Result<(), CampaignError> {
    let mut problems = config.settings.problems();
    problems.extend(
        set_problems(dispositions)
            .into_iter()
            .map(|(setting, message)| SettingProblem { setting, message }),
    );
    if problems.is_empty() {
        Ok(())
    } else {
        Err(CampaignError::Invalid(problems))
    }
}

/// Creates a draft campaign with its assignments and disposition set, in one transaction.
pub async fn create(
    db: &Db,
    name: &str,
    kind: CampaignKind,
    config: &CampaignConfig,
    at: DateTime<Utc>,
) -> Result<Campaign, CampaignError> {
    check_name(name)?;
    let dispositions = config.dispositions.clone().unwrap_or_else(|| default_set(kind));
    check(config, &dispositions)?;
    let id = with_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let inserted = sqlx::query_scalar::<_, i64>(
            "INSERT INTO campaigns (name, kind, status, settings, created_at, updated_at)
             VALUES ($1, $2, 'draft', $3, $4, $4) RETURNING id",
        )
        .bind(name)
        .bind(kind.as_str())
        .bind(Json(&config.settings))
        .bind(at)
        .fetch_one(&mut *tx)
        .await;
        let id = match inserted {
            Err(e) if is_unique_violation(&e) => return Err(CampaignError::DuplicateName(name.to_string())),
            other => other?,
        };
        write_assignments!(tx, id, config, &dispositions);
        tx.commit().await?;
        id
    });
    find(db, &id.to_string()).await
}

/// Looks a campaign up by name, or by id when `reference` is a number.
pub async fn find(db: &Db, reference: &str) -> Result<Campaign, CampaignError> {
    let by_id: Option<i64> = reference.parse().ok();
    let row = with_db!(db, |pool| {
        let row = sqlx::query(
            "SELECT id, name, kind, status, settings, copied_from, created_at, updated_at FROM campaigns
             WHERE ($1 IS NOT NULL AND id = $1) OR ($1 IS NULL AND name = $2)",
        )
        .bind(by_id)
        .bind(reference)
        .fetch_optional(pool)
        .await?;
        match row {
            None => None,
            Some(row) => {
                let id: i64 = row.try_get("id")?;
                let agents: Vec<String> = sqlx::query_scalar(
                    "SELECT u.login FROM campaign_agents a JOIN users u ON u.id = a.user_id
                     WHERE a.campaign_id = $1 ORDER BY u.login",
                )
                .bind(id)
                .fetch_all(pool)
                .await?;
                let teams: Vec<String> = sqlx::query_scalar(
                    "SELECT t.name FROM campaign_teams c JOIN teams t ON t.id = c.team_id
                     WHERE c.campaign_id = $1 ORDER BY t.name",
                )
                .bind(id)
                .fetch_all(pool)
                .await?;
                Some((
                    id,
                    row.try_get::<String, _>("name")?,
                    row.try_get::<String, _>("kind")?,
                    row.try_get::<String, _>("status")?,
                    row.try_get::<Json<serde_json::Value>, _>("settings")?.0,
                    row.try_get::<Option<i64>, _>("copied_from")?,
                    row.try_get::<DateTime<Utc>, _>("created_at")?,
                    row.try_get::<DateTime<Utc>, _>("updated_at")?,
                    agents,
                    teams,
                ))
            }
        }
    });
    let Some((id, name, kind, status, settings, copied_from, created_at, updated_at, agents, teams)) = row else {
        return Err(CampaignError::NotFound(reference.to_string()));
    };
    let corrupt = |reason: String| CampaignError::Corrupt { id, reason };
    Ok(Campaign {
        id,
        name,
        kind: kind.parse().map_err(corrupt)?,
        status: status.parse().map_err(corrupt)?,
        settings: serde_json::from_value(settings).map_err(|e| corrupt(e.to_string()))?,
        agents,
        teams,
        copied_from,
        created_at,
        updated_at,
    })
}

/// Every campaign with its record count, by name.
pub async fn list(db: &Db) -> Result<Vec<CampaignSummary>, CampaignError> {
    let rows: Vec<(i64, String, String, String, i64)> = with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT c.id, c.name, c.kind, c.status, (SELECT COUNT(*) FROM records r WHERE r.campaign_id = c.id)
             FROM campaigns c ORDER BY c.name",
        )
        .fetch_all(pool)
        .await?
    });
    rows.into_iter()
        .map(|(id, name, kind, status, records)| {
            let corrupt = |reason: String| CampaignError::Corrupt { id, reason };
            Ok(CampaignSummary {
                id,
                name,
                kind: kind.parse().map_err(corrupt)?,
                status: status.parse().map_err(corrupt)?,
                records,
            })
        })
        .collect()
}

/// Takes a lifecycle step, recording who took it; publishing checks the settings in full.
pub async fn step(
    db: &Db,
    reference: &str,
    step: LifecycleStep,
    by: Option<UserId>,
    at: DateTime<Utc>,
) -> Result<Campaign, CampaignError> {
    let campaign = find(db, reference).await?;
    let to = campaign.status.after(step)?;
    if step == LifecycleStep::Publish {
        let problems = campaign.settings.publish_problems();
        if !problems.is_empty() {
            return Err(CampaignError::Invalid(problems));
        }
    }
    let changed = with_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        // The status in the WHERE clause makes a concurrent step lose cleanly.
        let changed = sqlx::query("UPDATE campaigns SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4")
            .bind(to.as_str())
            .bind(at)
            .bind(campaign.id)
            .bind(campaign.status.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if changed == 1 {
            sqlx::query(
                "INSERT INTO campaign_status_changes (campaign_id, from_status, to_status, at, user_id)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(campaign.id)
            .bind(campaign.status.as_str())
            .bind(to.as_str())
            .bind(at)
            .bind(by)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        changed
    });
    let now = find(db, &campaign.id.to_string()).await?;
    if changed == 0 {
        // Someone else moved it first; report against what it is now.
        now.status.after(step)?;
    }
    Ok(now)
}

/// Copies a campaign's settings, questionnaire link, assignments and dispositions into a new
/// draft; its sample and results stay behind.
pub async fn copy(db: &Db, from: &str, new_name: &str, at: DateTime<Utc>) -> Result<Campaign, CampaignError> {
    let source = find(db, from).await?;
    let config = CampaignConfig {
        kind: Some(source.kind),
        agents: source.agents.clone(),
        teams: source.teams.clone(),
        dispositions: Some(dispositions(db, source.id).await?),
        settings: source.settings.clone(),
    };
    let copy = create(db, new_name, source.kind, &config, at).await?;
    with_db!(db, |pool| {
        sqlx::query("UPDATE campaigns SET copied_from = $1 WHERE id = $2")
            .bind(source.id)
            .bind(copy.id)
            .execute(pool)
            .await?;
    });
    find(db, &copy.id.to_string()).await
}

/// Replaces a campaign's settings (and assignments and dispositions when the config gives
/// them). Fields that hold data may not be removed or retyped.
pub async fn update(
    db: &Db,
    reference: &str,
    config: &CampaignConfig,
    at: DateTime<Utc>,
) -> Result<Campaign, CampaignError> {
    let campaign = find(db, reference).await?;
    if campaign.status == CampaignStatus::Closed {
        return Err(CampaignError::Closed(campaign.name));
    }
    let dispositions = match &config.dispositions {
        Some(set) => set.clone(),
        None => dispositions(db, campaign.id).await?,
    };
    check(config, &dispositions)?;
    if campaign.status != CampaignStatus::Draft {
        let problems = config.settings.publish_problems();
        if !problems.is_empty() {
            return Err(CampaignError::Invalid(problems));
        }
    }
    for old in &campaign.settings.fields {
        let kept = config
            .settings
            .fields
            .iter()
            .any(|f| f.name == old.name && f.kind == old.kind);
        if !kept {
            let records = records_with_field(db, campaign.id, &old.name).await?;
            if records > 0 {
                return Err(CampaignError::FieldInUse {
                    field: old.name.clone(),
                    records,
                });
            }
        }
    }
    with_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        sqlx::query("UPDATE campaigns SET settings = $1, updated_at = $2 WHERE id = $3")
            .bind(Json(&config.settings))
            .bind(at)
            .bind(campaign.id)
            .execute(&mut *tx)
            .await?;
        for table in ["campaign_agents", "campaign_teams", "dispositions"] {
            let sql = format!("DELETE FROM {table} WHERE campaign_id = $1");
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(campaign.id)
                .execute(&mut *tx)
                .await?;
        }
        write_assignments!(tx, campaign.id, config, &dispositions);
        tx.commit().await?;
    });
    find(db, &campaign.id.to_string()).await
}

async fn records_with_field(db: &Db, id: CampaignId, field: &str) -> Result<i64, CampaignError> {
    // Field values live in the JSON document; counting in Rust keeps the SQL portable.
    let docs: Vec<Json<serde_json::Value>> = with_db!(db, |pool| {
        sqlx::query_scalar("SELECT fields FROM records WHERE campaign_id = $1")
            .bind(id)
            .fetch_all(pool)
            .await?
    });
    Ok(docs
        .iter()
        .filter(|d| d.0.get(field).is_some_and(|v| !v.is_null()))
        .count() as i64)
}

/// A campaign's disposition set, in display order.
pub async fn dispositions(db: &Db, id: CampaignId) -> Result<Vec<Disposition>, CampaignError> {
    type Row = (String, String, String, String, Option<i64>, bool, bool, Option<bool>);
    let rows: Vec<Row> = with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT code, label, aapor, next_step, retry_after_s, try_next_number, contact, eligible
             FROM dispositions WHERE campaign_id = $1 ORDER BY position",
        )
        .bind(id)
        .fetch_all(pool)
        .await?
    });
    rows.into_iter()
        .map(
            |(code, label, aapor, next, retry_s, try_next_number, contact, eligible)| {
                Ok(Disposition {
                    next: NextStep::parse(&next).ok_or_else(|| CampaignError::Corrupt {
                        id,
                        reason: format!("unknown next step '{next}'"),
                    })?,
                    code,
                    label,
                    aapor,
                    retry_after_minutes: retry_s.map(|s| s / 60),
                    try_next_number,
                    contact,
                    eligible,
                })
            },
        )
        .collect()
}

/// How many of a campaign's records are in each status.
pub async fn status_counts(db: &Db, id: CampaignId) -> Result<Vec<(String, i64)>, CampaignError> {
    Ok(with_db!(db, |pool| {
        sqlx::query_as("SELECT status, COUNT(*) FROM records WHERE campaign_id = $1 GROUP BY status ORDER BY status")
            .bind(id)
            .fetch_all(pool)
            .await?
    }))
}
