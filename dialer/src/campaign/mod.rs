//! Campaigns: settings and their checks ([`settings`]), calling hours ([`calling_hours`]), the
//! lifecycle ([`lifecycle`]) and their storage ([`store`]).

pub mod calling_hours;
pub mod lifecycle;
pub mod settings;
pub mod store;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use calling_hours::{CallingHours, Day, TimeRange};
pub use lifecycle::{CampaignStatus, IllegalStep, LifecycleStep};
pub use settings::{
    AbandonLimit, AgentlessSettings, AmdSettings, CallOrder, CampaignKind, CampaignSettings, DialMode, MissedCallbacks,
    Outcome, PreviewSettings, PreviewTimeout, RetryRule, SettingProblem,
};
pub use store::CampaignError;

use crate::disposition::Disposition;

/// A campaign's id in the store.
pub type CampaignId = i64;

/// A stored campaign.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Campaign {
    /// Store id.
    pub id: CampaignId,
    /// Unique name.
    pub name: String,
    /// What it is for.
    pub kind: CampaignKind,
    /// Where it is in its life.
    pub status: CampaignStatus,
    /// Its settings.
    pub settings: CampaignSettings,
    /// Logins of the agents assigned one by one.
    pub agents: Vec<String>,
    /// Names of the teams assigned.
    pub teams: Vec<String>,
    /// The campaign this one was copied from.
    pub copied_from: Option<CampaignId>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When its settings or status last changed.
    pub updated_at: DateTime<Utc>,
}

/// A campaign configuration file: the settings plus the assignments and dispositions that are
/// stored beside them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CampaignConfig {
    /// The kind, when the file names one.
    pub kind: Option<CampaignKind>,
    /// Logins of agents to assign.
    pub agents: Vec<String>,
    /// Names of teams to assign.
    pub teams: Vec<String>,
    /// A disposition set replacing the kind's default.
    pub dispositions: Option<Vec<Disposition>>,
    /// Everything else.
    pub settings: CampaignSettings,
}

#[derive(Deserialize)]
struct ConfigHead {
    #[serde(default)]
    kind: Option<CampaignKind>,
    #[serde(default)]
    agents: Vec<String>,
    #[serde(default)]
    teams: Vec<String>,
    #[serde(default)]
    dispositions: Option<Vec<Disposition>>,
}

/// Top-level keys of a configuration file besides the settings'.
const HEAD_KEYS: [&str; 4] = ["kind", "agents", "teams", "dispositions"];

impl CampaignConfig {
    /// A campaign's configuration as it stands, to change a part of and save through
    /// `campaign::store::update`; its dispositions are kept as they are.
    pub fn of(campaign: &Campaign) -> Self {
        Self {
            kind: Some(campaign.kind),
            agents: campaign.agents.clone(),
            teams: campaign.teams.clone(),
            dispositions: None,
            settings: campaign.settings.clone(),
        }
    }

    /// Parses a TOML configuration; errors name the line and the key.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        let table: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
        for key in table.keys() {
            if !HEAD_KEYS.contains(&key.as_str()) && !CampaignSettings::KEYS.contains(&key.as_str()) {
                let line = text
                    .lines()
                    .position(|l| l.trim_start().starts_with(key.as_str()) || l.contains(&format!("[{key}")))
                    .map(|n| format!(" (line {})", n + 1))
                    .unwrap_or_default();
                return Err(format!(
                    "unknown setting `{key}`{line}; settings are {}, {}",
                    HEAD_KEYS.join(", "),
                    CampaignSettings::KEYS.join(", ")
                ));
            }
        }
        let head: ConfigHead = toml::from_str(text).map_err(|e| e.to_string())?;
        let settings: CampaignSettings = toml::from_str(text).map_err(|e| e.to_string())?;
        Ok(Self {
            kind: head.kind,
            agents: head.agents,
            teams: head.teams,
            dispositions: head.dispositions,
            settings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_file_splits_into_head_and_settings() {
        let config = CampaignConfig::from_toml(
            "kind = \"survey\"\nagents = [\"ann\"]\ncaller_id = \"+14155550100\"\n[abandon]\nceiling = 0.02\nwindow_hours = 24\n",
        )
        .unwrap();
        assert_eq!(config.kind, Some(CampaignKind::Survey));
        assert_eq!(config.agents, ["ann"]);
        assert_eq!(config.settings.abandon.ceiling, 0.02);
    }

    #[test]
    fn unknown_and_misspelt_keys_are_named() {
        let err = CampaignConfig::from_toml("kind = \"survey\"\ncaler_id = \"+14155550100\"\n").unwrap_err();
        assert!(
            err.starts_with("unknown setting `caler_id` (line 2); settings are kind, agents"),
            "{err}"
        );
        let err = CampaignConfig::from_toml("[abandon]\nceilng = 0.02\n").unwrap_err();
        assert!(
            err.contains("unknown field `ceilng`") && err.contains("line 2"),
            "{err}"
        );
    }

    #[test]
    fn the_key_list_matches_the_settings() {
        let mut full = CampaignSettings {
            caller_id: Some("+14155550100".into()),
            default_time_zone: Some(chrono_tz::UTC),
            questionnaire: Some("q".into()),
            allowed_dial_modes: vec![DialMode::Preview],
            ..CampaignSettings::default()
        };
        full.fields.push(crate::sample::fields::FieldSpec::new(
            "phone",
            crate::sample::fields::FieldType::Phone,
        ));
        let value = serde_json::to_value(&full).unwrap();
        let mut keys: Vec<&str> = value.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort();
        let mut known = CampaignSettings::KEYS.to_vec();
        known.sort();
        assert_eq!(keys, known);
    }
}
