//! Pacing: how many more numbers a campaign should dial right now.
//!
//! Pure: a [`Strategy`] sees a [`Situation`] (the campaign's agents and calls at this instant,
//! and the abandon counts of its compliance window), learns from [`Observation`]s of how calls
//! turned out, and returns a [`Decision`]. No I/O and no clock of its own: time is a plain
//! [`Secs`] on whatever clock the caller runs (wall time in production, virtual time in the
//! simulator), so the same strategy runs unchanged in both.
//!
//! Strategies: progressive (one dial per ready agent), fixed-ratio (dial level = 1 / person
//! share, no feedback), VICIdial's adaptive dial level (the benchmark baseline) and predictive
//! (ours); see [`StrategyName`].
//!
//! - [`estimate`]: the online estimators strategies learn from (person share, durations).
//! - [`simple`]: the progressive and fixed-ratio baselines.
//! - [`vicidial`]: VICIdial's adaptive dial level, the benchmark's baseline.
//! - [`predictive`]: ours, the model-based pacer.

pub mod estimate;
pub mod predictive;
pub mod simple;
pub mod vicidial;

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// Seconds on the caller's clock, from an arbitrary origin.
pub type Secs = f64;

/// What an agent available to the campaign is doing.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum AgentPhase {
    /// Waiting for a call since `since`.
    Ready,
    /// Held for a call being connected (an answered call on its way, or a preview).
    Reserved,
    /// Talking; the call was bridged at `since`.
    Talking,
    /// Wrapping up the call that ended at `since`.
    WrapUp,
}

/// One agent serving the campaign.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AgentSnapshot {
    /// What they are doing.
    pub phase: AgentPhase,
    /// When they entered that phase.
    pub since: Secs,
    /// The share of the agent this campaign may count on: 1 for an agent on this campaign
    /// alone, 1/k for an agent taking calls from k campaigns.
    pub weight: f64,
    /// Whether this campaign keeps a dial in flight for the agent while they are ready. The
    /// runtime gives each ready agent to exactly one of their campaigns, so that an agent
    /// shared between campaigns, a fraction on each, is never left waiting by all of them.
    pub covers: bool,
}

/// Where one of the campaign's dials is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum DialPhase {
    /// Placed and not yet resolved (ringing, or not yet ringing).
    Ringing,
    /// Answered by a person (or an undetected machine) at `answered_at`, waiting for an agent.
    Waiting {
        /// When the far end answered.
        answered_at: Secs,
    },
}

/// One unresolved dial of the campaign.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DialSnapshot {
    /// When it was placed.
    pub dialed_at: Secs,
    /// Where it is.
    pub phase: DialPhase,
}

/// The abandon counts of the campaign's compliance window, as the runtime keeps them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WindowCounts {
    /// Calls answered by a person in the window (including persons taken for machines).
    pub person_answers: f64,
    /// Abandoned calls in the window, including the estimated persons hung up on as machines.
    pub abandons: f64,
    /// The ceiling on abandons / person answers, e.g. 0.03.
    pub ceiling: f64,
    /// The window's length in seconds.
    pub length_s: f64,
    /// How much of the window has passed, in seconds (the window starts with the campaign's
    /// first call in it, so this is below `length_s` early on).
    pub elapsed_s: f64,
}

impl WindowCounts {
    /// The abandon rate so far (0 before any person answered).
    pub fn rate(&self) -> f64 {
        if self.person_answers > 0.0 {
            self.abandons / self.person_answers
        } else {
            0.0
        }
    }
}

/// The campaign at one instant, as a strategy sees it.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Situation<'a> {
    /// Now.
    pub now: Secs,
    /// The agents serving the campaign in a pacer-driven mode (logged in, not in preview).
    pub agents: &'a [AgentSnapshot],
    /// Agents logged in to the campaign in any state (ready, busy, not ready): VICIdial's
    /// `total`.
    pub logged_in: f64,
    /// The campaign's unresolved dials.
    pub dials: &'a [DialSnapshot],
    /// The compliance window.
    pub window: WindowCounts,
    /// A person not bridged within this many seconds of answering is abandoned.
    pub grace_s: f64,
    /// The most dials the runtime can place now (records ready, lines free).
    pub max_dials: u32,
}

impl Situation<'_> {
    /// Agent weight in `phase`.
    pub fn agents_in(&self, phase: AgentPhase) -> f64 {
        self.agents.iter().filter(|a| a.phase == phase).map(|a| a.weight).sum()
    }

    /// Ready agents, whole, that this campaign covers (see [`AgentSnapshot::covers`]): the
    /// dials in flight below this many cannot be abandoned, as each person finds one of them.
    pub fn covered_ready(&self) -> u32 {
        self.agents
            .iter()
            .filter(|a| a.phase == AgentPhase::Ready && a.covers)
            .count() as u32
    }

    /// Dials still ringing.
    pub fn ringing(&self) -> usize {
        self.dials.iter().filter(|d| d.phase == DialPhase::Ringing).count()
    }

    /// Answered calls waiting for an agent.
    pub fn waiting(&self) -> usize {
        self.dials.len() - self.ringing()
    }
}

/// What the runtime learns as calls go on, fed to the campaign's strategy.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum Observation {
    /// A dial was placed.
    Dialed {
        /// When.
        at: Secs,
    },
    /// A dial resolved: answered by a person (or an undetected machine, which the runtime
    /// cannot tell from one), or not (busy, no answer, invalid, detected machine).
    Resolved {
        /// When it was placed.
        dialed_at: Secs,
        /// When it resolved.
        at: Secs,
        /// Whether it needs an agent.
        person: bool,
    },
    /// A person was bridged to an agent.
    Bridged {
        /// When the person answered.
        answered_at: Secs,
        /// When they were bridged.
        at: Secs,
    },
    /// A person was abandoned (no agent within the grace time).
    Abandoned {
        /// When the person answered.
        answered_at: Secs,
        /// When the abandon was declared.
        at: Secs,
    },
    /// A bridged call ended.
    TalkEnded {
        /// When it was bridged.
        bridged_at: Secs,
        /// When it ended.
        at: Secs,
    },
    /// An agent finished wrap-up.
    WrapUpEnded {
        /// When the call ended.
        started: Secs,
        /// When the agent was done.
        at: Secs,
    },
}

/// Why a strategy chose what it chose: the inputs and intermediate figures of one decision,
/// logged with it so "why did it dial 7 lines at 10:32:05" has an answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Explain {
    /// Named figures, in the order the strategy computed them.
    pub figures: Vec<(&'static str, f64)>,
    /// A short note (e.g. "window over budget: dialing 1:1").
    pub note: &'static str,
}

impl Explain {
    /// Adds a figure.
    pub fn figure(&mut self, name: &'static str, value: f64) {
        self.figures.push((name, value));
    }

    /// The figure called `name`, if the decision gave one.
    pub fn value(&self, name: &str) -> Option<f64> {
        self.figures.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }
}

impl fmt::Display for Explain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (name, value)) in self.figures.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{name}={value:.4}")?;
        }
        if !self.note.is_empty() {
            write!(f, " ({})", self.note)?;
        }
        Ok(())
    }
}

/// A strategy's answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// How many more numbers to dial now (the runtime caps it at `max_dials`).
    pub dial: u32,
    /// The dial level the strategy is working at (lines per agent), for the wallboard.
    pub level: f64,
    /// Why.
    pub explain: Explain,
}

/// A pacing strategy for one campaign.
pub trait Strategy: Send {
    /// Its name, as given on the command line.
    fn name(&self) -> &'static str;
    /// Learns from what happened.
    fn observe(&mut self, observation: &Observation);
    /// Decides how many more to dial now. Called whenever the campaign's situation changes
    /// and at the times [`Strategy::next_wakeup`] asks for.
    fn decide(&mut self, situation: &Situation<'_>) -> Decision;
    /// The next time the strategy wants to decide even if nothing changes (a periodic loop,
    /// a forecast coming due); `None` if only changes matter.
    fn next_wakeup(&self, now: Secs) -> Option<Secs>;
    /// Takes a campaign's changed settings (a new ceiling, say) without forgetting what it
    /// learned; `false` when it cannot, and a new one must be built.
    fn reconfigure(&mut self, config: &PacerConfig) -> bool {
        let _ = config;
        false
    }
}

/// The strategies by name, for settings and the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StrategyName {
    /// One dial per ready agent.
    Progressive,
    /// Dial level = 1 / person share, no feedback.
    FixedRatio,
    /// VICIdial's adaptive dial level.
    VicidialAdaptive,
    /// Ours: a forecast of free agents and answers within the abandon budget.
    Predictive,
}

impl StrategyName {
    /// Every strategy, in the order the benchmark shows them.
    pub const ALL: [StrategyName; 4] = [
        StrategyName::Progressive,
        StrategyName::FixedRatio,
        StrategyName::VicidialAdaptive,
        StrategyName::Predictive,
    ];

    /// The name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            StrategyName::Progressive => "progressive",
            StrategyName::FixedRatio => "fixed-ratio",
            StrategyName::VicidialAdaptive => "vicidial-adaptive",
            StrategyName::Predictive => "predictive",
        }
    }
}

impl FromStr for StrategyName {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StrategyName::ALL
            .into_iter()
            .find(|n| n.as_str() == s.trim())
            .ok_or_else(|| {
                format!(
                    "unknown strategy '{s}'; strategies are {}",
                    StrategyName::ALL.map(StrategyName::as_str).join(", ")
                )
            })
    }
}

impl fmt::Display for StrategyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// What a campaign tells its pacer at the start.
#[derive(Debug, Clone, PartialEq)]
pub struct PacerConfig {
    /// The abandon ceiling.
    pub ceiling: f64,
    /// The grace time in seconds.
    pub grace_s: f64,
    /// The ring timeout in seconds.
    pub ring_timeout_s: f64,
}

impl PacerConfig {
    /// The configuration of a campaign's settings.
    pub fn for_campaign(settings: &crate::campaign::CampaignSettings) -> Self {
        Self {
            ceiling: settings.abandon.ceiling,
            grace_s: settings.abandon.grace_s,
            ring_timeout_s: settings.ring_timeout_s as f64,
        }
    }
}

/// A strategy by name, set up for a campaign.
pub fn build(name: StrategyName, config: &PacerConfig) -> Box<dyn Strategy> {
    match name {
        StrategyName::Progressive => Box::new(simple::Progressive::new()),
        // Without feedback the share is its own estimate, from a neutral prior.
        StrategyName::FixedRatio => Box::new(simple::FixedRatio::new(0.25)),
        StrategyName::VicidialAdaptive => Box::new(vicidial::VicidialAdaptive::new(vicidial::VicidialConfig {
            drop_percentage: Some(config.ceiling),
            ..vicidial::VicidialConfig::default()
        })),
        StrategyName::Predictive => Box::new(predictive::Predictive::new(predictive::PredictiveConfig::new(config))),
    }
}
