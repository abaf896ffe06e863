//! A sample record on screen (CATI-01): read with its edit history, and edited — its fields
//! by the agents of its campaign, its priority and status by supervisors and admins — each
//! change checked by the field's type and audited. A record on an agent's call is shown
//! anew on their desktop.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use paceline_dialer::sample::record::{self, Record, RecordChanges, RecordEdit, RecordError, RecordStatus};
use paceline_dialer::users;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::auth::Authed;
use super::error::WebError;

/// A record with what was changed in it, newest change last.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RecordPage {
    /// The record.
    #[schema(value_type = Object)]
    pub record: Record,
    /// Its field configuration: name, type, required, label.
    #[schema(value_type = Vec<Object>)]
    pub fields: Vec<paceline_dialer::sample::fields::FieldSpec>,
    /// Every edit, oldest first.
    #[schema(value_type = Vec<Object>)]
    pub edits: Vec<RecordEdit>,
}

fn record_error(e: RecordError) -> WebError {
    match e {
        RecordError::NotFound(_) => WebError::invalid("record", e.to_string()),
        RecordError::Forbidden { .. } => WebError::Forbidden(e.to_string()),
        RecordError::UnknownField { ref field, .. } | RecordError::BadValue { ref field, .. } => {
            WebError::invalid(&field.clone(), e.to_string())
        }
        RecordError::StatusNotSettable(_) => WebError::invalid("status", e.to_string()),
        RecordError::UnknownAgent(_) => WebError::invalid("agent", e.to_string()),
        RecordError::UnknownTeam(_) => WebError::invalid("team", e.to_string()),
        e => WebError::Internal(e.into()),
    }
}

async fn visible(
    state: &AppState,
    user: &Authed,
    id: i64,
) -> Result<(Record, Vec<paceline_dialer::sample::fields::FieldSpec>), WebError> {
    let found = record::get(&state.db, id).await.map_err(record_error)?;
    let campaign = paceline_dialer::campaign::store::find(&state.db, &found.campaign_id.to_string())
        .await
        .map_err(|e| WebError::Internal(e.into()))?;
    if !super::api::may_see(user, &campaign) {
        return Err(WebError::Forbidden(format!(
            "'{}' may not see the records of campaign '{}'",
            user.session.login, campaign.name
        )));
    }
    Ok((found, campaign.settings.fields))
}

/// `GET /api/records/{id}`: the record, its field configuration and its edits, for those who
/// may see its campaign.
#[utoipa::path(get, path = "/api/records/{record}", tag = "records", params(("record" = i64, Path, description = "the record's id")), responses((status = 200, body = RecordPage), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the CSRF token is missing", body = crate::web::error::ErrorBody), (status = 422, description = "bad input: the message and the field at fault", body = crate::web::error::ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    user: Authed,
    Path(id): Path<i64>,
) -> Result<Json<RecordPage>, WebError> {
    let (found, fields) = visible(&state, &user, id).await?;
    let edits = record::edits(&state.db, id).await.map_err(record_error)?;
    Ok(Json(RecordPage {
        record: found,
        fields,
        edits,
    }))
}

/// What `POST /api/records/{id}` takes: any of the three.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct Changes {
    /// Field values as text, by field name; an empty text clears the field.
    #[serde(default)]
    fields: BTreeMap<String, serde_json::Value>,
    /// A new priority (supervisors and admins).
    priority: Option<i64>,
    /// A new status (supervisors and admins): new, ready, completed, final, do_not_call, invalid.
    status: Option<String>,
}

/// `POST /api/records/{id}`: edits the record in one transaction, one audit row per changed
/// value; the record as it is after. Refusals name the field and why, and change nothing.
#[utoipa::path(post, path = "/api/records/{record}", tag = "records", params(("record" = i64, Path, description = "the record's id")), request_body = Changes, responses((status = 200, description = "the record after the change", body = RecordPage), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the CSRF token is missing", body = crate::web::error::ErrorBody), (status = 422, description = "bad input: the message and the field at fault", body = crate::web::error::ErrorBody)))]
pub async fn edit(
    State(state): State<AppState>,
    user: Authed,
    Path(id): Path<i64>,
    Json(changes): Json<Changes>,
) -> Result<Json<RecordPage>, WebError> {
    let (_, specs) = visible(&state, &user, id).await?;
    let status = match changes.status.as_deref() {
        None => None,
        Some(text) => Some(
            text.parse::<RecordStatus>()
                .map_err(|e| WebError::invalid("status", e.to_string()))?,
        ),
    };
    let fields = changes
        .fields
        .into_iter()
        .map(|(name, value)| {
            let text = match value {
                serde_json::Value::String(s) => s,
                serde_json::Value::Null => String::new(),
                other => other.to_string(),
            };
            (name, text)
        })
        .collect();
    let by = users::find_user(&state.db, &user.session.login)
        .await
        .map_err(|e| WebError::Internal(e.into()))?
        .ok_or(WebError::Unauthenticated)?;
    let changed = record::edit(
        &state.db,
        id,
        &RecordChanges {
            fields,
            priority: changes.priority,
            status,
        },
        &by,
        state.clock.now(),
    )
    .await
    .map_err(record_error)?;
    if let Some(live) = &state.live {
        live.record_changed(changed.id, serde_json::Value::Object(changed.fields.clone()))
            .await;
    }
    let edits = record::edits(&state.db, id).await.map_err(record_error)?;
    Ok(Json(RecordPage {
        record: changed,
        fields: specs,
        edits,
    }))
}
