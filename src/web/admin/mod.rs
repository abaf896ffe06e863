//! The admin console: its page, and its JSON API in one module per subject: [`campaigns`]
//! (created from a configuration, copied, through their lifecycle), [`questionnaires`]
//! (checked, published, listed).

pub mod campaigns;
pub mod questionnaires;

pub use campaigns::{campaign_step, create_campaign};
pub use questionnaires::{check_questionnaire, list_questionnaires, publish_questionnaire};

use axum::extract::State;
use paceline_dialer::campaign::CampaignError;
use paceline_dialer::users::Role;

use super::AppState;
use super::auth::{Me, PageUser};
use super::error::{PageError, WebError};

/// `GET /admin`: the admin console page (its script drives the API below).
pub async fn page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
) -> Result<axum::response::Html<String>, PageError> {
    user.require(&[Role::Admin])?;
    Ok(axum::response::Html(state.pages.render(
        "admin.html",
        minijinja::context! { user => Me::from(&user.session) },
    )))
}

/// A campaign refusal as the client needs it: the field at fault named.
pub(crate) fn campaign_error(e: CampaignError) -> WebError {
    match e {
        CampaignError::DuplicateName(_) | CampaignError::BadName { .. } => WebError::invalid("name", e.to_string()),
        CampaignError::NotFound(_) => WebError::invalid("campaign", e.to_string()),
        CampaignError::Invalid(_) | CampaignError::UnknownAgent(_) | CampaignError::UnknownTeam(_) => {
            WebError::invalid("config", e.to_string())
        }
        CampaignError::Closed(_) => WebError::invalid("step", e.to_string()),
        CampaignError::Lifecycle(_) => WebError::invalid("step", e.to_string()),
        e => WebError::Internal(e.into()),
    }
}
