//! A campaign's quotas (CATI-07) with their progress, and their targets changed in the field.
//! The cells are the campaign's questionnaire's (its `[[quotas]]`); a target the campaign sets
//! over the questionnaire's is the campaign's own and stays with it across versions.

use axum::Json;
use axum::extract::{Path, State};
use paceline_cati::quota::CellId;
use paceline_dialer::users::Role;
use serde::{Deserialize, Serialize};

use super::visible_campaign;
use crate::web::AppState;
use crate::web::auth::Authed;
use crate::web::error::WebError;

/// A campaign's quota cells as they stand.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QuotaView {
    /// The campaign.
    pub campaign: String,
    /// The questionnaire that sets them (its id), if the campaign has one.
    pub questionnaire: Option<String>,
    /// The published version read (the latest), if there is one.
    pub version: Option<String>,
    /// Each cell: its quota and key, target, completes and interviews in progress, whether full.
    #[schema(value_type = Vec<Object>)]
    pub cells: Vec<paceline_cati::quota::CellProgress>,
}

/// `GET /api/campaigns/{name}/quotas`: the quota cells of the campaign's questionnaire (its
/// latest published version) with the campaign's completes and interviews in progress in each
/// (admins, analysts, and supervisors of the campaign's teams).
#[utoipa::path(get, path = "/api/campaigns/{name}/quotas", tag = "campaigns", params(("name" = String, Path, description = "the campaign's name")), responses((status = 200, body = QuotaView), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it", body = crate::web::error::ErrorBody), (status = 422, description = "bad input: the message and the field at fault", body = crate::web::error::ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    user: Authed,
    Path(name): Path<String>,
) -> Result<Json<QuotaView>, WebError> {
    user.require(&[Role::Admin, Role::Analyst, Role::Supervisor])?;
    let campaign = visible_campaign(&state, &user, &name).await?;
    let internal = |e: paceline_cati::store::StoreError| WebError::Internal(e.into());
    let Some(key) = campaign.settings.questionnaire.clone() else {
        return Ok(Json(QuotaView {
            campaign: campaign.name,
            questionnaire: None,
            version: None,
            cells: vec![],
        }));
    };
    let Some(id) = paceline_cati::store::latest_version(&state.db, &key)
        .await
        .map_err(internal)?
    else {
        return Ok(Json(QuotaView {
            campaign: campaign.name,
            questionnaire: Some(key),
            version: None,
            cells: vec![],
        }));
    };
    let questionnaire = paceline_cati::store::version(&state.db, id).await.map_err(internal)?;
    let book = paceline_cati::store::quota_book(&state.db, campaign.id, &questionnaire)
        .await
        .map_err(internal)?;
    Ok(Json(QuotaView {
        campaign: campaign.name,
        questionnaire: Some(key),
        version: Some(questionnaire.version.clone()),
        cells: book.progress(),
    }))
}

/// A new target for one cell.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TargetChange {
    /// The quota's name.
    quota: String,
    /// The cell's key within it (e.g. `north/f/55+`).
    cell: String,
    /// The new target: completes the cell takes (0 closes it).
    target: u32,
}

/// `POST /api/campaigns/{name}/quotas`: sets one cell's target for the campaign (admin), over
/// the questionnaire's; the cells after. A campaign the live runtime runs counts by it at
/// once: a lowered target can fill the cell (its records are held back, its interviews
/// screened out), a raised one opens it again. An unknown quota or cell is refused with the
/// cells there are.
#[utoipa::path(post, path = "/api/campaigns/{name}/quotas", tag = "campaigns", params(("name" = String, Path, description = "the campaign's name")), request_body = TargetChange, responses((status = 200, description = "the cells after the change", body = QuotaView), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the CSRF token is missing", body = crate::web::error::ErrorBody), (status = 422, description = "bad input: the message and the field at fault", body = crate::web::error::ErrorBody)))]
pub async fn set_target(
    State(state): State<AppState>,
    user: Authed,
    Path(name): Path<String>,
    Json(change): Json<TargetChange>,
) -> Result<Json<QuotaView>, WebError> {
    user.require(&[Role::Admin])?;
    let campaign = visible_campaign(&state, &user, &name).await?;
    let internal = |e: paceline_cati::store::StoreError| WebError::Internal(e.into());
    let key = campaign
        .settings
        .questionnaire
        .clone()
        .ok_or_else(|| WebError::invalid("campaign", format!("'{name}' has no questionnaire, so no quotas")))?;
    let id = paceline_cati::store::latest_version(&state.db, &key)
        .await
        .map_err(internal)?
        .ok_or_else(|| {
            WebError::invalid(
                "campaign",
                format!("'{name}' has no published version of questionnaire '{key}', so no quotas yet"),
            )
        })?;
    let questionnaire = paceline_cati::store::version(&state.db, id).await.map_err(internal)?;
    let cell = CellId {
        quota: change.quota.trim().to_string(),
        cell: change.cell.trim().to_string(),
    };
    paceline_cati::store::set_quota_target(
        &state.db,
        campaign.id,
        &questionnaire,
        &cell,
        change.target,
        Some(user.session.user),
        state.clock.now(),
    )
    .await
    .map_err(|e| match e {
        paceline_cati::store::StoreError::NoQuota { .. } => WebError::invalid("quota", e.to_string()),
        paceline_cati::store::StoreError::NoQuotaCell { .. } => WebError::invalid("cell", e.to_string()),
        e => internal(e),
    })?;
    state.campaign_changed(campaign.id).await?;
    let book = paceline_cati::store::quota_book(&state.db, campaign.id, &questionnaire)
        .await
        .map_err(internal)?;
    Ok(Json(QuotaView {
        campaign: campaign.name,
        questionnaire: Some(key),
        version: Some(questionnaire.version.clone()),
        cells: book.progress(),
    }))
}
