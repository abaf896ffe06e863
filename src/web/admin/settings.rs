//! A campaign's settings in the admin console (CATI-07, DIAL-09): read as data and as its
//! TOML configuration; changed setting by setting from the form (calling hours, dial modes,
//! abandon ceiling, retry rules, caller ID, attempts, the field configuration), or whole
//! from the TOML box. Both are saved through `campaign::store::update`, which checks every
//! setting and refuses removing fields that hold data; a refusal names the setting.

use axum::Json;
use axum::extract::{Path, State};
use paceline_dialer::campaign::store as campaigns;
use paceline_dialer::campaign::{Campaign, CampaignConfig, CampaignError, CampaignSettings};
use paceline_dialer::users::Role;
use serde::{Deserialize, Serialize};

use super::{campaign_error, visible_campaign};
use crate::web::AppState;
use crate::web::auth::Authed;
use crate::web::error::WebError;

/// A campaign's settings as the form and the TOML box show them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SettingsView {
    /// The campaign.
    pub name: String,
    /// Its kind.
    pub kind: String,
    /// Where it is in its life (a closed campaign changes no more).
    pub status: String,
    /// Every setting, as data.
    #[schema(value_type = Object)]
    pub settings: CampaignSettings,
    /// The whole configuration in TOML (kind, agents, teams and the settings), for the box.
    pub config: String,
}

fn view(campaign: Campaign) -> Result<SettingsView, WebError> {
    let mut config = toml::Table::new();
    config.insert("kind".into(), toml::Value::String(campaign.kind.to_string()));
    let list = |names: &[String]| toml::Value::Array(names.iter().cloned().map(toml::Value::String).collect());
    config.insert("agents".into(), list(&campaign.agents));
    config.insert("teams".into(), list(&campaign.teams));
    let settings = toml::Table::try_from(&campaign.settings).map_err(|e| WebError::Internal(e.into()))?;
    config.extend(settings);
    Ok(SettingsView {
        name: campaign.name,
        kind: campaign.kind.to_string(),
        status: campaign.status.to_string(),
        config: toml::to_string(&config).map_err(|e| WebError::Internal(e.into()))?,
        settings: campaign.settings,
    })
}

/// `GET /api/campaigns/{name}/settings`: the settings as data and as TOML (admins, analysts,
/// and supervisors of the campaign's teams).
#[utoipa::path(get, path = "/api/campaigns/{name}/settings", tag = "campaigns", params(("name" = String, Path, description = "the campaign's name")), responses((status = 200, body = SettingsView), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the CSRF token is missing", body = crate::web::error::ErrorBody), (status = 422, description = "bad input: the message and the field at fault", body = crate::web::error::ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    user: Authed,
    Path(name): Path<String>,
) -> Result<Json<SettingsView>, WebError> {
    user.require(&[Role::Admin, Role::Analyst, Role::Supervisor])?;
    let campaign = visible_campaign(&state, &user, &name).await?;
    Ok(Json(view(campaign)?))
}

/// A refusal of the settings, naming the setting at fault (the first, when there are several;
/// the message lists them all).
fn settings_error(e: CampaignError) -> WebError {
    match e {
        CampaignError::Invalid(ref problems) => {
            let field = problems
                .first()
                .map(|p| p.setting.clone())
                .unwrap_or_else(|| "settings".into());
            let message = problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; ");
            WebError::invalid(&field, message)
        }
        CampaignError::FieldInUse { .. } => WebError::invalid("fields", e.to_string()),
        CampaignError::UnknownAgent(_) => WebError::invalid("agents", e.to_string()),
        CampaignError::UnknownTeam(_) => WebError::invalid("teams", e.to_string()),
        CampaignError::Closed(_) => WebError::invalid("campaign", e.to_string()),
        e => campaign_error(e),
    }
}

/// What the form sends: the settings it changes, by their names in the configuration
/// (`calling_hours`, `dial_mode`, `allowed_dial_modes`, `abandon`, `retry`, `caller_id`,
/// `max_attempts`, `fields`, ...), each whole; the others stay as they are.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SettingsChange {
    /// Setting name to its new value.
    settings: serde_json::Map<String, serde_json::Value>,
}

/// `POST /api/campaigns/{name}/settings`: changes the settings the form sends (admin); the
/// settings after. A value of the wrong shape, a setting that breaks a rule, or a field that
/// holds data removed is refused with the setting named, and nothing changes.
#[utoipa::path(post, path = "/api/campaigns/{name}/settings", tag = "campaigns", params(("name" = String, Path, description = "the campaign's name")), request_body = SettingsChange, responses((status = 200, description = "the settings after the change", body = SettingsView), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the CSRF token is missing", body = crate::web::error::ErrorBody), (status = 422, description = "bad input: the message and the field at fault", body = crate::web::error::ErrorBody)))]
pub async fn change(
    State(state): State<AppState>,
    user: Authed,
    Path(name): Path<String>,
    Json(change): Json<SettingsChange>,
) -> Result<Json<SettingsView>, WebError> {
    user.require(&[Role::Admin])?;
    let campaign = visible_campaign(&state, &user, &name).await?;
    let current = serde_json::to_value(&campaign.settings).map_err(|e| WebError::Internal(e.into()))?;
    let mut merged = current.clone();
    for (key, value) in &change.settings {
        if !CampaignSettings::KEYS.contains(&key.as_str()) {
            return Err(WebError::invalid(
                key,
                format!(
                    "unknown setting `{key}`; settings are {}",
                    CampaignSettings::KEYS.join(", ")
                ),
            ));
        }
        // Each setting alone over the current ones, so a refusal names the one at fault.
        let mut alone = current.clone();
        alone[key.as_str()] = value.clone();
        if let Err(e) = serde_json::from_value::<CampaignSettings>(alone) {
            return Err(WebError::invalid(key, format!("{key}: {e}")));
        }
        merged[key.as_str()] = value.clone();
    }
    let settings: CampaignSettings =
        serde_json::from_value(merged).map_err(|e| WebError::invalid("settings", e.to_string()))?;
    let config = CampaignConfig {
        settings,
        ..CampaignConfig::of(&campaign)
    };
    let updated = campaigns::update(&state.db, &campaign.name, &config, state.clock.now())
        .await
        .map_err(settings_error)?;
    state.campaign_changed(updated.id).await?;
    Ok(Json(view(updated)?))
}

/// What the TOML box sends.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ConfigText {
    /// The whole configuration, as in `docs/campaign-settings.md`.
    config: String,
}

/// `POST /api/campaigns/{name}/config`: replaces the configuration with the TOML given, the
/// "advanced" way (admin): its agents and teams too; dispositions only when it gives them.
#[utoipa::path(post, path = "/api/campaigns/{name}/config", tag = "campaigns", params(("name" = String, Path, description = "the campaign's name")), request_body = ConfigText, responses((status = 200, description = "the settings after the change", body = SettingsView), (status = 401, description = "not signed in", body = crate::web::error::ErrorBody), (status = 403, description = "the role does not allow it, or the CSRF token is missing", body = crate::web::error::ErrorBody), (status = 422, description = "bad input: the message and the field at fault", body = crate::web::error::ErrorBody)))]
pub async fn replace(
    State(state): State<AppState>,
    user: Authed,
    Path(name): Path<String>,
    Json(text): Json<ConfigText>,
) -> Result<Json<SettingsView>, WebError> {
    user.require(&[Role::Admin])?;
    let campaign = visible_campaign(&state, &user, &name).await?;
    let mut config = CampaignConfig::from_toml(&text.config).map_err(|e| WebError::invalid("config", e))?;
    if let Some(kind) = config.kind
        && kind != campaign.kind
    {
        return Err(WebError::invalid(
            "kind",
            format!(
                "a campaign's kind does not change (it is {}); copy the campaign instead",
                campaign.kind
            ),
        ));
    }
    config.kind = Some(campaign.kind);
    let updated = campaigns::update(&state.db, &campaign.name, &config, state.clock.now())
        .await
        .map_err(settings_error)?;
    state.campaign_changed(updated.id).await?;
    Ok(Json(view(updated)?))
}
