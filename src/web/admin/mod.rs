//! The admin console: its page, and its JSON API in one module per subject: [`campaigns`]
//! (created from a configuration, copied, through their lifecycle), [`questionnaires`]
//! (checked, published, listed), [`sample`] (upload with column mapping and the per-row report,
//! status counts, the record list, allocation), [`settings`] (the settings form and the TOML
//! box), [`teams`] (teams, their members, a campaign's
//! agents and teams), [`users`] (roles, password reset, disabling), [`dnc`] (do-not-call
//! lists).

pub mod campaigns;
pub mod dnc;
pub mod questionnaires;
pub mod quotas;
pub mod sample;
pub mod settings;
pub mod teams;
pub mod users;

use axum::extract::State;
use paceline_dialer::campaign::CampaignError;
use paceline_dialer::users::Role;

use super::AppState;
use super::auth::{Authed, Me, PageUser};
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

/// The largest sample or list file taken (axum's default of 2 MiB is a few thousand rows).
pub const UPLOAD_LIMIT: axum::extract::DefaultBodyLimit = axum::extract::DefaultBodyLimit::max(512 << 20);

/// The campaign `name` when the signed-in user may see it (admins and analysts see every
/// campaign, supervisors their teams'), or why not.
pub(crate) async fn visible_campaign(
    state: &AppState,
    user: &Authed,
    name: &str,
) -> Result<paceline_dialer::campaign::Campaign, WebError> {
    let campaign = paceline_dialer::campaign::store::find(&state.db, name)
        .await
        .map_err(campaign_error)?;
    if !super::api::may_see(user, &campaign) {
        return Err(WebError::Forbidden(format!(
            "'{}' may not see campaign '{}'",
            user.session.login, campaign.name
        )));
    }
    Ok(campaign)
}

/// An uploaded file, written under its own name in a temporary folder that is removed when
/// this is dropped: the library's importers read paths, and their messages name the file.
pub(crate) struct Upload {
    dir: tempfile::TempDir,
    /// The file's path in the folder.
    pub path: std::path::PathBuf,
    /// The name it was uploaded under.
    pub name: String,
}

impl Upload {
    /// Writes `bytes` as `name` (only its last component: a name is not a place to write to).
    pub fn new(name: &str, bytes: &[u8]) -> Result<Self, WebError> {
        let name = name.rsplit(['/', '\\']).next().unwrap_or("").trim().to_string();
        if name.is_empty() || name.starts_with('.') {
            return Err(WebError::invalid("file", "give the file's name (?file=NAME.csv)"));
        }
        if bytes.is_empty() {
            return Err(WebError::invalid("file", format!("{name} is empty")));
        }
        let dir = tempfile::tempdir().map_err(|e| WebError::Internal(e.into()))?;
        let path = dir.path().join(&name);
        std::fs::write(&path, bytes).map_err(|e| WebError::Internal(e.into()))?;
        Ok(Upload { dir, path, name })
    }

    /// A message about the file with the temporary folder taken out, so it names the file as
    /// the person uploaded it.
    pub fn tell(&self, message: impl ToString) -> String {
        let folder = format!("{}{}", self.dir.path().display(), std::path::MAIN_SEPARATOR);
        message.to_string().replace(&folder, "")
    }

    /// A path beside the file, for what an importer writes (a reject file).
    pub fn beside(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }
}
