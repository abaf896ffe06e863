//! Campaigns in the admin console: created from a configuration file, copied, and through
//! their lifecycle (publish, start, pause, resume, close).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use paceline_dialer::campaign::store as campaigns;
use paceline_dialer::campaign::{CampaignConfig, CampaignKind, LifecycleStep};
use paceline_dialer::users::Role;
use serde::{Deserialize, Serialize};

use super::campaign_error;
use crate::web::AppState;
use crate::web::auth::Authed;
use crate::web::error::WebError;

/// What `POST /api/campaigns` takes.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewCampaign {
    /// The campaign's name.
    name: String,
    /// Its configuration, in the TOML format of `docs/campaign-settings.md`.
    config: String,
}

/// A campaign after a change.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CampaignState {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its status after the change.
    pub status: String,
}

/// `POST /api/campaigns`: creates a draft campaign (admin).
#[utoipa::path(post, path = "/api/campaigns", tag = "campaigns", request_body = NewCampaign, responses((status = 201, body = CampaignState), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the CSRF token is missing", body = crate::web::error::ErrorBody), (status = 422, description = "bad input: the message and the field at fault", body = crate::web::error::ErrorBody)))]
pub async fn create_campaign(
    State(state): State<AppState>,
    user: Authed,
    Json(new): Json<NewCampaign>,
) -> Result<(StatusCode, Json<CampaignState>), WebError> {
    user.require(&[Role::Admin])?;
    let config = CampaignConfig::from_toml(&new.config).map_err(|e| WebError::invalid("config", e))?;
    let kind = config.kind.unwrap_or(CampaignKind::Survey);
    let campaign = campaigns::create(&state.db, &new.name, kind, &config, state.clock.now())
        .await
        .map_err(campaign_error)?;
    Ok((
        StatusCode::CREATED,
        Json(CampaignState {
            id: campaign.id,
            name: campaign.name,
            status: campaign.status.to_string(),
        }),
    ))
}

/// What a copy takes.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct CopyTo {
    /// The new campaign's name.
    new_name: Option<String>,
}

/// `POST /api/campaigns/{name}/{step}`: `publish`, `start`, `pause`, `resume`, `close`, or
/// `copy` (with `new_name`) (admin). A campaign the server's live runtime runs takes the step
/// there before the answer: paused or closed, it dials no more; resumed, it dials again.
#[utoipa::path(post, path = "/api/campaigns/{name}/{step}", tag = "campaigns", params(("name" = String, Path, description = "the campaign's name"), ("step" = String, Path, description = "publish, start, pause, resume, close or copy")), request_body(content = Option<CopyTo>, description = "copy: the new campaign's name"), responses((status = 200, body = CampaignState), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the CSRF token is missing", body = crate::web::error::ErrorBody), (status = 422, description = "bad input: the message and the field at fault", body = crate::web::error::ErrorBody)))]
pub async fn campaign_step(
    State(state): State<AppState>,
    user: Authed,
    Path((name, step)): Path<(String, String)>,
    body: Option<Json<CopyTo>>,
) -> Result<Json<CampaignState>, WebError> {
    user.require(&[Role::Admin])?;
    let now = state.clock.now();
    let campaign = match step.as_str() {
        "copy" => {
            let new_name = body
                .and_then(|Json(b)| b.new_name)
                .filter(|n| !n.trim().is_empty())
                .ok_or_else(|| WebError::invalid("new_name", "a copy needs a name"))?;
            campaigns::copy(&state.db, &name, &new_name, now)
                .await
                .map_err(campaign_error)?
        }
        other => {
            let step = match other {
                "publish" => LifecycleStep::Publish,
                "start" => LifecycleStep::Start,
                "pause" => LifecycleStep::Pause,
                "resume" => LifecycleStep::Resume,
                "close" => LifecycleStep::Close,
                other => {
                    return Err(WebError::invalid(
                        "step",
                        format!("'{other}' is not a step: publish, start, pause, resume, close or copy"),
                    ));
                }
            };
            let campaign = campaigns::step(&state.db, &name, step, Some(user.session.user), now)
                .await
                .map_err(campaign_error)?;
            // A campaign the live runtime runs stops or starts dialing before the answer.
            state.campaign_changed(campaign.id).await?;
            campaign
        }
    };
    Ok(Json(CampaignState {
        id: campaign.id,
        name: campaign.name,
        status: campaign.status.to_string(),
    }))
}
