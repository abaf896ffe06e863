//! A campaign's quotas (CATI-07) with their progress. Quotas are set in the campaign's
//! questionnaire (its `[[quotas]]`, targets per cell) and so are versioned with it: a change
//! of targets is a new version, published from the questionnaire panel.

use axum::Json;
use axum::extract::{Path, State};
use paceline_dialer::users::Role;
use serde::Serialize;

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
