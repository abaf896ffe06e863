//! A campaign's lifecycle (CATI-06): draft -> published -> running <-> paused -> closed.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where a campaign is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignStatus {
    /// Being set up; settings change freely, nothing is dialed.
    Draft,
    /// Settings checked and frozen for launch; ready to start.
    Published,
    /// Dialing.
    Running,
    /// Stopped for now; may resume.
    Paused,
    /// Finished for good.
    Closed,
}

/// A step in the lifecycle, as the CLI and API name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LifecycleStep {
    /// draft -> published.
    Publish,
    /// published -> running.
    Start,
    /// running -> paused.
    Pause,
    /// paused -> running.
    Resume,
    /// published, running or paused -> closed.
    Close,
}

/// A lifecycle step that is not allowed from the campaign's status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {step} a campaign that is {status}{}", hint(*step, *status))]
pub struct IllegalStep {
    /// The refused step.
    pub step: LifecycleStep,
    /// The status it was refused in.
    pub status: CampaignStatus,
}

fn hint(step: LifecycleStep, status: CampaignStatus) -> &'static str {
    match (step, status) {
        (LifecycleStep::Start, CampaignStatus::Draft) => "; publish it first",
        (LifecycleStep::Resume, CampaignStatus::Published) => "; start it",
        (_, CampaignStatus::Closed) => "; a closed campaign can be copied into a new one",
        _ => "",
    }
}

impl CampaignStatus {
    /// Where `step` leads from here.
    pub fn after(self, step: LifecycleStep) -> Result<CampaignStatus, IllegalStep> {
        use CampaignStatus::*;
        use LifecycleStep::*;
        match (self, step) {
            (Draft, Publish) => Ok(Published),
            (Published, Start) => Ok(Running),
            (Running, Pause) => Ok(Paused),
            (Paused, Resume) => Ok(Running),
            (Published | Running | Paused, Close) => Ok(Closed),
            _ => Err(IllegalStep { step, status: self }),
        }
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            CampaignStatus::Draft => "draft",
            CampaignStatus::Published => "published",
            CampaignStatus::Running => "running",
            CampaignStatus::Paused => "paused",
            CampaignStatus::Closed => "closed",
        }
    }
}

impl FromStr for CampaignStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "draft" => CampaignStatus::Draft,
            "published" => CampaignStatus::Published,
            "running" => CampaignStatus::Running,
            "paused" => CampaignStatus::Paused,
            "closed" => CampaignStatus::Closed,
            _ => return Err(format!("unknown campaign status '{s}'")),
        })
    }
}

impl fmt::Display for CampaignStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl fmt::Display for LifecycleStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LifecycleStep::Publish => "publish",
            LifecycleStep::Start => "start",
            LifecycleStep::Pause => "pause",
            LifecycleStep::Resume => "resume",
            LifecycleStep::Close => "close",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CampaignStatus::*;
    use LifecycleStep::*;

    #[test]
    fn the_legal_path() {
        let mut status = Draft;
        for (step, expect) in [
            (Publish, Published),
            (Start, Running),
            (Pause, Paused),
            (Resume, Running),
            (Pause, Paused),
            (Close, Closed),
        ] {
            status = status.after(step).unwrap();
            assert_eq!(status, expect);
        }
    }

    #[test]
    fn every_illegal_step_is_refused_with_a_message() {
        let all_status = [Draft, Published, Running, Paused, Closed];
        let all_steps = [Publish, Start, Pause, Resume, Close];
        let mut legal = 0;
        for status in all_status {
            for step in all_steps {
                match status.after(step) {
                    Ok(_) => legal += 1,
                    Err(e) => assert!(
                        e.to_string()
                            .starts_with(&format!("cannot {step} a campaign that is {status}"))
                    ),
                }
            }
        }
        assert_eq!(legal, 7);
        assert_eq!(
            Draft.after(Start).unwrap_err().to_string(),
            "cannot start a campaign that is draft; publish it first"
        );
        assert_eq!(
            Closed.after(Resume).unwrap_err().to_string(),
            "cannot resume a campaign that is closed; a closed campaign can be copied into a new one"
        );
    }
}
