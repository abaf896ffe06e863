//! Scenario files: the simulated world a benchmark or test runs in (how long, how many agents,
//! who answers, how long everything takes), read from TOML and checked.
//!
//! The format is specified key by key in `benches/scenarios/README.md`. Reading goes in two
//! steps: serde reads the file into plain `Raw*` structs that refuse unknown keys (toml keeps
//! the line and column of those errors), then [`Scenario::from_toml`] checks every rule and
//! fills in defaults, naming the key at fault.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Deserialize;

use super::distribution::{Dist, num};
use super::world::TrueOutcome;

/// The virtual instant a run starts at unless the scenario says otherwise: a Monday, 09:00 in
/// New York.
pub const DEFAULT_START: &str = "2026-11-23T14:00:00Z";

/// How far the shares of a period may be from summing to 1.
const SHARE_TOLERANCE: f64 = 1e-6;

/// A scenario file that could not be read or is not valid.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("scenario {source_name}: cannot read it: {error}")]
    Read {
        /// The file.
        source_name: String,
        /// Why.
        #[source]
        error: std::io::Error,
    },
    /// The file is not TOML, or a key is unknown, missing or of the wrong type; toml's message
    /// gives the line and column.
    #[error("scenario {source_name}: {error}")]
    Syntax {
        /// The file.
        source_name: String,
        /// toml's error, with the line and column.
        #[source]
        error: toml::de::Error,
    },
    /// A value breaks a rule.
    #[error("scenario {source_name}: {key}: {why}")]
    Invalid {
        /// The file.
        source_name: String,
        /// The key at fault, dotted (`outcomes.by_hour[1]`, `talk_time_s.parts[0]`).
        key: String,
        /// What is wrong.
        why: String,
    },
}

/// A checked scenario: every default filled in, every rule kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Its name.
    pub name: String,
    /// Simulated hours after the warm-up: the measured part of the run.
    pub hours: f64,
    /// Hours simulated before measuring starts.
    pub warmup_hours: f64,
    /// The ceiling on abandons / person-answered calls.
    pub abandon_target: f64,
    /// The compliance window in hours; longer than the run means the whole run.
    pub window_hours: f64,
    /// A person not bridged within this many seconds of answering is abandoned.
    pub connect_grace_s: f64,
    /// How long the dialer lets a call ring, in seconds.
    pub ring_timeout_s: f64,
    /// How many records to generate (`None`: the caller sizes the sample).
    pub records: Option<u64>,
    /// The virtual instant the run starts.
    pub start: DateTime<Utc>,
    /// The records' time zones, assigned round-robin.
    pub time_zones: Vec<Tz>,
    /// How long a played prompt lasts, in seconds.
    pub prompt_s: f64,
    /// How long an answered far end with nobody on the line waits before hanging up, in seconds.
    pub patience_s: f64,
    /// How long an agent bridged to a machine stays before hanging up.
    pub machine_talk_s: Dist,
    /// The agents.
    pub agents: Agents,
    /// The shares of dial outcomes, over the run.
    pub outcomes: Outcomes,
    /// Time from dial to outcome, per outcome.
    pub delay_s: Delays,
    /// How long a bridged person talks.
    pub talk_time_s: Dist,
    /// Answering-machine detection.
    pub amd: Amd,
    /// Keypad replies to a digit collection (`None`: nobody presses anything).
    pub keypad: Option<Keypad>,
}

/// The agents of a scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Agents {
    /// How many are logged in at the start.
    pub count: u32,
    /// Wrap-up time after each call.
    pub wrap_up_s: Dist,
    /// Changes over the day, by increasing hour.
    pub by_hour: Vec<AgentsFrom>,
}

/// From `hour` on (counted from the start of the run, warm-up included), `count` agents are
/// logged in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AgentsFrom {
    /// The hour it starts.
    pub hour: f64,
    /// Agents logged in.
    pub count: u32,
}

/// The shares of the five dial outcomes; they sum to 1.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Shares {
    /// Answered by a person.
    pub person: f64,
    /// Answered by a machine.
    pub machine: f64,
    /// Busy.
    pub busy: f64,
    /// Rings without answer.
    pub no_answer: f64,
    /// Not a working number.
    pub invalid: f64,
}

impl Shares {
    /// The share of one outcome.
    pub fn of(&self, outcome: TrueOutcome) -> f64 {
        match outcome {
            TrueOutcome::Person => self.person,
            TrueOutcome::Machine => self.machine,
            TrueOutcome::Busy => self.busy,
            TrueOutcome::NoAnswer => self.no_answer,
            TrueOutcome::Invalid => self.invalid,
        }
    }

    /// The sum of the shares (1 within 1e-6 once checked).
    pub fn sum(&self) -> f64 {
        TrueOutcome::ALL.iter().map(|&o| self.of(o)).sum()
    }

    /// Maps a uniform draw `u` in [0, 1) to an outcome, through the shares stacked in the order
    /// of [`TrueOutcome::ALL`] (person first), so the same `u` maps consistently whichever
    /// period's shares apply: a draw that is a person at share 0.15 is a person at 0.30.
    pub fn pick(&self, u: f64) -> TrueOutcome {
        let mut acc = 0.0;
        let mut last = TrueOutcome::NoAnswer;
        for outcome in TrueOutcome::ALL {
            let share = self.of(outcome);
            if share > 0.0 {
                acc += share;
                last = outcome;
                if u < acc {
                    return outcome;
                }
            }
        }
        // The shares may sum to a hair under 1.
        last
    }
}

/// The outcome shares over the run.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcomes {
    /// The shares from the start, until the first `by_hour` entry.
    pub base: Shares,
    /// Changes over the day, by increasing hour.
    pub by_hour: Vec<SharesFrom>,
}

/// From `hour` on (counted from the start of the run, warm-up included), these shares apply.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SharesFrom {
    /// The hour it starts.
    pub hour: f64,
    /// The shares.
    pub shares: Shares,
}

/// Time from dial to outcome, per outcome. An outcome that never happens (share 0 all day)
/// may have none; a no-answer always has one (by default the ring timeout).
#[derive(Debug, Clone, PartialEq)]
pub struct Delays {
    /// Dial to answer by a person.
    pub person: Option<Dist>,
    /// Dial to answer by a machine.
    pub machine: Option<Dist>,
    /// Dial to busy signal.
    pub busy: Option<Dist>,
    /// Dial to the network giving up (the call ends at the ring timeout if that is sooner).
    pub no_answer: Dist,
    /// Dial to the network refusing the number.
    pub invalid: Option<Dist>,
}

impl Delays {
    /// The delay of one outcome, if it has one.
    pub fn of(&self, outcome: TrueOutcome) -> Option<&Dist> {
        match outcome {
            TrueOutcome::Person => self.person.as_ref(),
            TrueOutcome::Machine => self.machine.as_ref(),
            TrueOutcome::Busy => self.busy.as_ref(),
            TrueOutcome::NoAnswer => Some(&self.no_answer),
            TrueOutcome::Invalid => self.invalid.as_ref(),
        }
    }
}

/// Answering-machine detection.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Amd {
    /// Whether the switch has a detector (the dialer still asks for it per call).
    pub enabled: bool,
    /// Seconds from answer to the verdict; counts against the connect grace.
    pub analysis_s: f64,
    /// Share of persons taken for machines.
    pub false_positive: f64,
    /// Share of machines passed as persons.
    pub false_negative: f64,
}

/// How answered persons reply to a digit collection (agentless campaigns).
#[derive(Debug, Clone, PartialEq)]
pub struct Keypad {
    /// Share of persons pressing each key, by key; the rest press nothing.
    pub replies: Vec<(char, f64)>,
    /// From the start of the collection to the key press.
    pub delay_s: Dist,
}

impl Keypad {
    /// Maps a uniform draw `u` in [0, 1) to the key pressed, if any.
    pub fn pick(&self, u: f64) -> Option<char> {
        let mut acc = 0.0;
        for &(key, share) in &self.replies {
            acc += share;
            if u < acc {
                return Some(key);
            }
        }
        None
    }
}

impl Scenario {
    /// Reads and checks a scenario file.
    pub fn load(path: impl AsRef<Path>) -> Result<Scenario, ScenarioError> {
        let path = path.as_ref();
        let source_name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|error| ScenarioError::Read {
            source_name: source_name.clone(),
            error,
        })?;
        Scenario::from_toml(&text, &source_name)
    }

    /// Reads and checks a scenario from its text; `source_name` names it in errors.
    pub fn from_toml(text: &str, source_name: &str) -> Result<Scenario, ScenarioError> {
        let raw: RawScenario = toml::from_str(text).map_err(|error| ScenarioError::Syntax {
            source_name: source_name.to_owned(),
            error,
        })?;
        raw.check().map_err(|(key, why)| ScenarioError::Invalid {
            source_name: source_name.to_owned(),
            key,
            why,
        })
    }

    /// Warm-up plus measured hours: the length of the run.
    pub fn total_hours(&self) -> f64 {
        self.warmup_hours + self.hours
    }

    /// The outcome shares that apply at `hour` (from the start of the run, warm-up included).
    pub fn shares_at(&self, hour: f64) -> &Shares {
        let after = self.outcomes.by_hour.partition_point(|s| s.hour <= hour);
        match after {
            0 => &self.outcomes.base,
            i => &self.outcomes.by_hour[i - 1].shares,
        }
    }

    /// The agents logged in at `hour` (from the start of the run, warm-up included).
    pub fn agents_at(&self, hour: f64) -> u32 {
        let after = self.agents.by_hour.partition_point(|a| a.hour <= hour);
        match after {
            0 => self.agents.count,
            i => self.agents.by_hour[i - 1].count,
        }
    }

    /// The same scenario with `n` agents at the start, every `by_hour` count scaled by
    /// n / the old count (rounded), so the shape of the day is kept.
    ///
    /// # Panics
    /// If `n` is 0: a scenario has at least one agent.
    pub fn with_agents(mut self, n: u32) -> Self {
        assert!(n >= 1, "a scenario needs at least one agent");
        let factor = f64::from(n) / f64::from(self.agents.count);
        for step in &mut self.agents.by_hour {
            step.count = (f64::from(step.count) * factor).round() as u32;
        }
        self.agents.count = n;
        self
    }

    /// The same scenario with another abandon ceiling.
    ///
    /// # Panics
    /// If `x` is not strictly between 0 and 1.
    pub fn with_abandon_target(mut self, x: f64) -> Self {
        assert!(
            x > 0.0 && x < 1.0,
            "the abandon target must be between 0 and 1, not {x}"
        );
        self.abandon_target = x;
        self
    }
}

type Failure = (String, String);

fn fail<T>(key: impl Into<String>, why: impl Into<String>) -> Result<T, Failure> {
    Err((key.into(), why.into()))
}

fn required<T>(value: Option<T>, key: &str, what: &str) -> Result<T, Failure> {
    match value {
        Some(v) => Ok(v),
        None => fail(key, format!("missing: {what}")),
    }
}

fn finite(key: &str, x: f64) -> Result<f64, Failure> {
    if x.is_finite() {
        Ok(x)
    } else {
        fail(key, format!("must be a finite number, it is {x}"))
    }
}

fn above_zero(key: &str, x: f64) -> Result<f64, Failure> {
    if finite(key, x)? > 0.0 {
        Ok(x)
    } else {
        fail(key, format!("must be above 0, it is {}", num(x)))
    }
}

fn at_least_zero(key: &str, x: f64) -> Result<f64, Failure> {
    if finite(key, x)? >= 0.0 {
        Ok(x)
    } else {
        fail(key, format!("must be 0 or more, it is {}", num(x)))
    }
}

fn share(key: &str, x: f64) -> Result<f64, Failure> {
    if (0.0..=1.0).contains(&finite(key, x)?) {
        Ok(x)
    } else {
        fail(key, format!("must be between 0 and 1, it is {}", num(x)))
    }
}

/// Checks the hours of a `by_hour` list: inside the run, each after the one before.
fn check_hours(key: &str, hours: impl Iterator<Item = f64>, total_hours: f64) -> Result<(), Failure> {
    let mut previous: Option<f64> = None;
    for (i, hour) in hours.enumerate() {
        let at = format!("{key}[{i}].hour");
        at_least_zero(&at, hour)?;
        if hour >= total_hours {
            return fail(
                at,
                format!(
                    "{} is not inside the run, which lasts {} hours (warm-up included)",
                    num(hour),
                    num(total_hours)
                ),
            );
        }
        if let Some(before) = previous
            && hour <= before
        {
            return fail(
                at,
                format!(
                    "{} is not after the hour before it, {}: hours must increase",
                    num(hour),
                    num(before)
                ),
            );
        }
        previous = Some(hour);
    }
    Ok(())
}

fn dist(key: &str, d: Dist) -> Result<Dist, Failure> {
    d.check_at(key)?;
    Ok(d)
}

fn optional_dist(key: &str, d: Option<Dist>) -> Result<Option<Dist>, Failure> {
    d.map(|d| dist(key, d)).transpose()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: Option<String>,
    hours: Option<f64>,
    #[serde(default)]
    warmup_hours: f64,
    abandon_target: Option<f64>,
    window_hours: Option<f64>,
    connect_grace_s: Option<f64>,
    ring_timeout_s: Option<f64>,
    records: Option<i64>,
    start: Option<String>,
    time_zones: Option<Vec<String>>,
    prompt_s: Option<f64>,
    patience_s: Option<f64>,
    machine_talk_s: Option<Dist>,
    agents: Option<RawAgents>,
    outcomes: Option<RawOutcomes>,
    delay_s: Option<RawDelays>,
    talk_time_s: Option<Dist>,
    amd: Option<RawAmd>,
    keypad: Option<RawKeypad>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAgents {
    count: Option<i64>,
    wrap_up_s: Option<Dist>,
    #[serde(default)]
    by_hour: Vec<RawAgentsFrom>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAgentsFrom {
    hour: f64,
    count: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutcomes {
    #[serde(default)]
    person: f64,
    #[serde(default)]
    machine: f64,
    #[serde(default)]
    busy: f64,
    #[serde(default)]
    no_answer: f64,
    #[serde(default)]
    invalid: f64,
    #[serde(default)]
    by_hour: Vec<RawSharesFrom>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSharesFrom {
    hour: f64,
    #[serde(default)]
    person: f64,
    #[serde(default)]
    machine: f64,
    #[serde(default)]
    busy: f64,
    #[serde(default)]
    no_answer: f64,
    #[serde(default)]
    invalid: f64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDelays {
    person: Option<Dist>,
    machine: Option<Dist>,
    busy: Option<Dist>,
    no_answer: Option<Dist>,
    invalid: Option<Dist>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAmd {
    #[serde(default)]
    enabled: bool,
    analysis_s: Option<f64>,
    false_positive: Option<f64>,
    false_negative: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKeypad {
    #[serde(default)]
    replies: BTreeMap<String, f64>,
    delay_s: Option<Dist>,
}

fn check_shares(key: &str, shares: Shares) -> Result<Shares, Failure> {
    for outcome in TrueOutcome::ALL {
        share(&format!("{key}.{}", outcome.as_str()), shares.of(outcome))?;
    }
    let sum = shares.sum();
    if (sum - 1.0).abs() > SHARE_TOLERANCE {
        return fail(key, format!("shares sum to {}, they must sum to 1", num(sum)));
    }
    Ok(shares)
}

impl RawScenario {
    fn check(self) -> Result<Scenario, Failure> {
        let name = required(self.name, "name", "the scenario's name")?;
        if name.trim().is_empty() {
            return fail("name", "must not be empty");
        }
        let hours = above_zero(
            "hours",
            required(self.hours, "hours", "simulated hours after the warm-up")?,
        )?;
        let warmup_hours = at_least_zero("warmup_hours", self.warmup_hours)?;
        let total_hours = warmup_hours + hours;
        let abandon_target = required(self.abandon_target, "abandon_target", "the ceiling on the abandon rate")?;
        if !(abandon_target > 0.0 && abandon_target < 1.0) {
            return fail(
                "abandon_target",
                format!("must be between 0 and 1 (excluded), it is {}", num(abandon_target)),
            );
        }
        let window_hours = above_zero(
            "window_hours",
            required(self.window_hours, "window_hours", "the compliance window in hours")?,
        )?;
        let connect_grace_s = above_zero(
            "connect_grace_s",
            required(
                self.connect_grace_s,
                "connect_grace_s",
                "seconds an answered person may wait for an agent",
            )?,
        )?;
        let ring_timeout_s = finite("ring_timeout_s", self.ring_timeout_s.unwrap_or(25.0))?;
        if ring_timeout_s < 1.0 {
            return fail(
                "ring_timeout_s",
                format!("must be at least 1 second, it is {}", num(ring_timeout_s)),
            );
        }
        let records = match self.records {
            None => None,
            Some(n) if n >= 1 => Some(n as u64),
            Some(n) => return fail("records", format!("must be at least 1, it is {n}")),
        };
        let start_text = self.start.as_deref().unwrap_or(DEFAULT_START);
        let start = DateTime::parse_from_rfc3339(start_text)
            .map(|t| t.with_timezone(&Utc))
            .or_else(|e| {
                fail(
                    "start",
                    format!("\"{start_text}\" is not an RFC 3339 instant such as \"{DEFAULT_START}\": {e}"),
                )
            })?;
        let zone_names = self.time_zones.unwrap_or_else(|| vec!["America/New_York".to_owned()]);
        if zone_names.is_empty() {
            return fail("time_zones", "give at least one time zone");
        }
        let time_zones = zone_names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                name.parse::<Tz>().or_else(|_| {
                    fail(
                        format!("time_zones[{i}]"),
                        format!("\"{name}\" is not a time zone of the tz database (such as \"Europe/Paris\")"),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let prompt_s = above_zero("prompt_s", self.prompt_s.unwrap_or(6.0))?;
        let patience_s = above_zero("patience_s", self.patience_s.unwrap_or(30.0))?;
        let machine_talk_s = dist("machine_talk_s", self.machine_talk_s.unwrap_or(Dist::fixed(8.0)))?;

        let raw_agents = required(self.agents, "agents", "the [agents] table (count, wrap_up_s)")?;
        let count = required(
            raw_agents.count,
            "agents.count",
            "how many agents are logged in at the start",
        )?;
        if !(1..=i64::from(u32::MAX)).contains(&count) {
            return fail("agents.count", format!("must be at least 1, it is {count}"));
        }
        let wrap_up_s = dist(
            "agents.wrap_up_s",
            required(
                raw_agents.wrap_up_s,
                "agents.wrap_up_s",
                "the wrap-up time after each call",
            )?,
        )?;
        check_hours("agents.by_hour", raw_agents.by_hour.iter().map(|a| a.hour), total_hours)?;
        let by_hour = raw_agents
            .by_hour
            .iter()
            .enumerate()
            .map(|(i, a)| match u32::try_from(a.count) {
                Ok(count) => Ok(AgentsFrom { hour: a.hour, count }),
                Err(_) => fail(
                    format!("agents.by_hour[{i}].count"),
                    format!("must be 0 or more, it is {}", a.count),
                ),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let agents = Agents {
            count: count as u32,
            wrap_up_s,
            by_hour,
        };

        let raw_outcomes = required(self.outcomes, "outcomes", "the [outcomes] table of shares")?;
        let base = check_shares(
            "outcomes",
            Shares {
                person: raw_outcomes.person,
                machine: raw_outcomes.machine,
                busy: raw_outcomes.busy,
                no_answer: raw_outcomes.no_answer,
                invalid: raw_outcomes.invalid,
            },
        )?;
        check_hours(
            "outcomes.by_hour",
            raw_outcomes.by_hour.iter().map(|s| s.hour),
            total_hours,
        )?;
        let by_hour = raw_outcomes
            .by_hour
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let shares = Shares {
                    person: s.person,
                    machine: s.machine,
                    busy: s.busy,
                    no_answer: s.no_answer,
                    invalid: s.invalid,
                };
                Ok(SharesFrom {
                    hour: s.hour,
                    shares: check_shares(&format!("outcomes.by_hour[{i}]"), shares)?,
                })
            })
            .collect::<Result<Vec<_>, Failure>>()?;
        let outcomes = Outcomes { base, by_hour };

        let raw_delays = self.delay_s.unwrap_or_default();
        let delay_s = Delays {
            person: optional_dist("delay_s.person", raw_delays.person)?,
            machine: optional_dist("delay_s.machine", raw_delays.machine)?,
            busy: optional_dist("delay_s.busy", raw_delays.busy)?,
            no_answer: dist(
                "delay_s.no_answer",
                raw_delays.no_answer.unwrap_or(Dist::fixed(ring_timeout_s)),
            )?,
            invalid: optional_dist("delay_s.invalid", raw_delays.invalid)?,
        };
        for outcome in TrueOutcome::ALL {
            let periods = std::iter::once((None, &outcomes.base))
                .chain(outcomes.by_hour.iter().map(|s| (Some(s.hour), &s.shares)));
            for (from, shares) in periods {
                let s = shares.of(outcome);
                if s > 0.0 && delay_s.of(outcome).is_none() {
                    let when = from.map_or(String::new(), |h| format!(" from hour {}", num(h)));
                    return fail(
                        format!("delay_s.{}", outcome.as_str()),
                        format!(
                            "missing, and outcomes give {} a share of {}{when}: say how long such dials take to resolve",
                            outcome.as_str(),
                            num(s)
                        ),
                    );
                }
            }
        }

        let talk_time_s = dist(
            "talk_time_s",
            required(self.talk_time_s, "talk_time_s", "how long a bridged person talks")?,
        )?;

        let raw_amd = self.amd.unwrap_or_default();
        let amd = if raw_amd.enabled {
            let what = "with amd.enabled, say how the detector behaves";
            let analysis_s = at_least_zero("amd.analysis_s", required(raw_amd.analysis_s, "amd.analysis_s", what)?)?;
            let false_positive = required(raw_amd.false_positive, "amd.false_positive", what)?;
            let false_negative = required(raw_amd.false_negative, "amd.false_negative", what)?;
            for (key, rate) in [
                ("amd.false_positive", false_positive),
                ("amd.false_negative", false_negative),
            ] {
                if !(finite(key, rate)? >= 0.0 && rate < 1.0) {
                    return fail(key, format!("must be at least 0 and below 1, it is {}", num(rate)));
                }
            }
            if analysis_s >= connect_grace_s {
                return fail(
                    "amd.analysis_s",
                    format!(
                        "{} is not below connect_grace_s {}: every person would be abandoned before the verdict",
                        num(analysis_s),
                        num(connect_grace_s)
                    ),
                );
            }
            Amd {
                enabled: true,
                analysis_s,
                false_positive,
                false_negative,
            }
        } else {
            Amd::default()
        };

        let keypad = match self.keypad {
            None => None,
            Some(raw) => {
                let mut replies = Vec::with_capacity(raw.replies.len());
                for (key, s) in &raw.replies {
                    let at = format!("keypad.replies.\"{key}\"");
                    let mut chars = key.chars();
                    let (Some(c), None) = (chars.next(), chars.next()) else {
                        return fail(at, "a reply is one key of the keypad: 0-9, * or #");
                    };
                    if !(c.is_ascii_digit() || c == '*' || c == '#') {
                        return fail(at, "a reply is one key of the keypad: 0-9, * or #");
                    }
                    replies.push((c, share(&at, *s)?));
                }
                let sum: f64 = replies.iter().map(|r| r.1).sum();
                if sum > 1.0 + SHARE_TOLERANCE {
                    return fail(
                        "keypad.replies",
                        format!("shares sum to {}, they must sum to 1 or less", num(sum)),
                    );
                }
                let delay_s = match raw.delay_s {
                    Some(d) => dist("keypad.delay_s", d)?,
                    None if sum > 0.0 => {
                        return fail(
                            "keypad.delay_s",
                            "missing: how long after the collection starts a key is pressed",
                        );
                    }
                    None => Dist::fixed(0.0),
                };
                Some(Keypad { replies, delay_s })
            }
        };

        Ok(Scenario {
            name,
            hours,
            warmup_hours,
            abandon_target,
            window_hours,
            connect_grace_s,
            ring_timeout_s,
            records,
            start,
            time_zones,
            prompt_s,
            patience_s,
            machine_talk_s,
            agents,
            outcomes,
            delay_s,
            talk_time_s,
            amd,
            keypad,
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, Timelike};

    use super::*;

    /// A small valid scenario; tests change it with `replace`.
    const BASE: &str = r#"
name = "t"
hours = 8
warmup_hours = 0.5
abandon_target = 0.03
window_hours = 24
connect_grace_s = 2.0

[agents]
count = 50
wrap_up_s = { dist = "fixed", value = 10 }

[outcomes]
person = 0.30
machine = 0.15
busy = 0.08
no_answer = 0.40
invalid = 0.07

[delay_s]
person = { dist = "uniform", min = 4, max = 20 }
machine = { dist = "lognormal", mean = 10, sd = 4 }
busy = { dist = "uniform", min = 2, max = 6 }
invalid = { dist = "uniform", min = 1, max = 3 }

[talk_time_s]
dist = "lognormal"
mean = 120
sd = 120
"#;

    fn load(text: &str) -> Result<Scenario, String> {
        Scenario::from_toml(text, "t.toml").map_err(|e| e.to_string())
    }

    fn scenarios_dir() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../benches/scenarios")
    }

    #[test]
    fn defaults_are_filled_in() {
        let s = load(BASE).unwrap();
        assert_eq!(s.ring_timeout_s, 25.0);
        assert_eq!(s.delay_s.no_answer, Dist::fixed(25.0));
        assert_eq!(s.start, DateTime::parse_from_rfc3339(DEFAULT_START).unwrap());
        assert_eq!(s.time_zones, vec![chrono_tz::America::New_York]);
        assert_eq!((s.prompt_s, s.patience_s), (6.0, 30.0));
        assert_eq!(s.machine_talk_s, Dist::fixed(8.0));
        assert_eq!(s.amd, Amd::default());
        assert_eq!(s.keypad, None);
        assert_eq!(s.records, None);
        assert_eq!(s.total_hours(), 8.5);
        // The default start is 09:00 in New York.
        assert_eq!(s.start.with_timezone(&chrono_tz::America::New_York).hour(), 9);
    }

    #[test]
    fn by_hour_lookups_and_overrides() {
        let text = format!(
            "{BASE}\n[[agents.by_hour]]\nhour = 4\ncount = 35\n[[agents.by_hour]]\nhour = 6\ncount = 0\n\
             [[outcomes.by_hour]]\nhour = 3\nperson = 0.15\nno_answer = 0.85\n\
             [[outcomes.by_hour]]\nhour = 4\nperson = 0.3\nno_answer = 0.7\n"
        );
        let s = load(&text).unwrap();
        assert_eq!(s.shares_at(0.0).machine, 0.15);
        assert_eq!(s.shares_at(2.999).person, 0.30);
        assert_eq!(s.shares_at(3.0).person, 0.15);
        assert_eq!(s.shares_at(3.5).machine, 0.0);
        assert_eq!(s.shares_at(4.0).person, 0.3);
        assert_eq!(s.shares_at(100.0).no_answer, 0.7);
        assert_eq!(
            (s.agents_at(0.0), s.agents_at(3.99), s.agents_at(4.0), s.agents_at(7.0)),
            (50, 50, 35, 0)
        );
        let s = s.with_agents(10).with_abandon_target(0.05);
        assert_eq!((s.agents_at(0.0), s.agents_at(5.0), s.agents_at(6.0)), (10, 7, 0));
        assert_eq!(s.abandon_target, 0.05);
    }

    #[test]
    fn the_same_draw_maps_through_any_period() {
        let low = Shares {
            person: 0.15,
            no_answer: 0.85,
            ..Shares::default()
        };
        let high = Shares {
            person: 0.30,
            no_answer: 0.70,
            ..Shares::default()
        };
        assert_eq!(low.pick(0.1), TrueOutcome::Person);
        assert_eq!(low.pick(0.2), TrueOutcome::NoAnswer);
        assert_eq!(high.pick(0.2), TrueOutcome::Person);
        // A sum a hair under 1 falls to the last outcome with a share.
        let short = Shares {
            person: 0.3,
            busy: 0.6999999,
            ..Shares::default()
        };
        assert_eq!(short.pick(0.99999999), TrueOutcome::Busy);
    }

    /// Every rule, with the message it gives: (what to change in BASE, expected message).
    #[test]
    fn broken_rules_are_named() {
        let grace = "connect_grace_s = 2.0";
        let cases: Vec<(String, &str)> = vec![
            (
                BASE.replace("hours = 8", "hours = 0"),
                "scenario t.toml: hours: must be above 0, it is 0.0",
            ),
            (
                BASE.replace("warmup_hours = 0.5", "warmup_hours = -1"),
                "warmup_hours: must be 0 or more, it is -1.0",
            ),
            (
                BASE.replace("abandon_target = 0.03", "abandon_target = 1"),
                "abandon_target: must be between 0 and 1 (excluded), it is 1.0",
            ),
            (
                BASE.replace("abandon_target = 0.03", "abandon_target = 0"),
                "abandon_target: must be between 0 and 1",
            ),
            (
                BASE.replace("window_hours = 24", "window_hours = 0"),
                "window_hours: must be above 0",
            ),
            (
                BASE.replace(grace, "connect_grace_s = -2"),
                "connect_grace_s: must be above 0, it is -2.0",
            ),
            (
                BASE.replace(grace, "connect_grace_s = 2\nring_timeout_s = 0.5"),
                "ring_timeout_s: must be at least 1 second, it is 0.5",
            ),
            (
                BASE.replace("count = 50", "count = 0"),
                "agents.count: must be at least 1, it is 0",
            ),
            (
                BASE.replace("person = 0.30", "person = 0.25"),
                "scenario t.toml: outcomes: shares sum to 0.95, they must sum to 1",
            ),
            (
                BASE.replace("busy = 0.08", "busy = -0.02")
                    .replace("invalid = 0.07", "invalid = 0.17"),
                "outcomes.busy: must be between 0 and 1, it is -0.02",
            ),
            (
                BASE.replace("machine = { dist = \"lognormal\", mean = 10, sd = 4 }", ""),
                "delay_s.machine: missing, and outcomes give machine a share of 0.15: say how long such dials take to resolve",
            ),
            (
                BASE.replace("sd = 120", "sd = 0"),
                "talk_time_s: sd must be above 0, it is 0.0",
            ),
            (
                BASE.replace("[talk_time_s]\ndist = \"lognormal\"\nmean = 120\nsd = 120", ""),
                "talk_time_s: missing: how long a bridged person talks",
            ),
            (BASE.replace("name = \"t\"", ""), "name: missing"),
            (
                BASE.replace(
                    grace,
                    "connect_grace_s = 2\ntime_zones = [\"Europe/Paris\", \"Mars/Olympus\"]",
                ),
                "time_zones[1]: \"Mars/Olympus\" is not a time zone of the tz database",
            ),
            (
                BASE.replace(grace, "connect_grace_s = 2\ntime_zones = []"),
                "time_zones: give at least one time zone",
            ),
            (
                BASE.replace(grace, "connect_grace_s = 2\nstart = \"Monday\""),
                "start: \"Monday\" is not an RFC 3339 instant",
            ),
            (
                BASE.replace(grace, "connect_grace_s = 2\nrecords = 0"),
                "records: must be at least 1, it is 0",
            ),
            (
                BASE.replace(grace, "connect_grace_s = 2\npatience_s = 0"),
                "patience_s: must be above 0",
            ),
            (
                format!(
                    "{BASE}\n[amd]\nenabled = true\nanalysis_s = 2.5\nfalse_positive = 0.02\nfalse_negative = 0.1\n"
                ),
                "amd.analysis_s: 2.5 is not below connect_grace_s 2.0: every person would be abandoned before the verdict",
            ),
            (
                format!("{BASE}\n[amd]\nenabled = true\nanalysis_s = 1.5\nfalse_positive = 1\nfalse_negative = 0.1\n"),
                "amd.false_positive: must be at least 0 and below 1, it is 1.0",
            ),
            (
                format!("{BASE}\n[amd]\nenabled = true\nfalse_positive = 0.1\nfalse_negative = 0.1\n"),
                "amd.analysis_s: missing",
            ),
            (
                format!(
                    "{BASE}\n[keypad]\nreplies = {{ \"1\" = 0.7, \"2\" = 0.4 }}\ndelay_s = {{ dist = \"fixed\", value = 3 }}\n"
                ),
                "keypad.replies: shares sum to 1.1, they must sum to 1 or less",
            ),
            (
                format!(
                    "{BASE}\n[keypad]\nreplies = {{ \"12\" = 0.7 }}\ndelay_s = {{ dist = \"fixed\", value = 3 }}\n"
                ),
                "keypad.replies.\"12\": a reply is one key of the keypad",
            ),
            (
                format!("{BASE}\n[keypad]\nreplies = {{ \"1\" = 0.7 }}\n"),
                "keypad.delay_s: missing",
            ),
            (
                format!("{BASE}\n[[agents.by_hour]]\nhour = 4\ncount = -1\n"),
                "agents.by_hour[0].count: must be 0 or more, it is -1",
            ),
            (
                format!("{BASE}\n[[agents.by_hour]]\nhour = 4\ncount = 3\n[[agents.by_hour]]\nhour = 4\ncount = 5\n"),
                "agents.by_hour[1].hour: 4.0 is not after the hour before it, 4.0: hours must increase",
            ),
            (
                format!("{BASE}\n[[agents.by_hour]]\nhour = 8.5\ncount = 3\n"),
                "agents.by_hour[0].hour: 8.5 is not inside the run, which lasts 8.5 hours (warm-up included)",
            ),
            (
                format!("{BASE}\n[[outcomes.by_hour]]\nhour = 2\nperson = 0.5\n"),
                "outcomes.by_hour[0]: shares sum to 0.5, they must sum to 1",
            ),
            (
                format!(
                    "{BASE}\n[[outcomes.by_hour]]\nhour = 3\nperson = 1\n[[outcomes.by_hour]]\nhour = 2\nperson = 1\n"
                ),
                "outcomes.by_hour[1].hour: 2.0 is not after",
            ),
            (
                BASE.replace("busy = { dist = \"uniform\", min = 2, max = 6 }", "")
                    .replace("busy = 0.08", "busy = 0")
                    .replace("no_answer = 0.40", "no_answer = 0.48")
                    + "\n[[outcomes.by_hour]]\nhour = 3\nbusy = 1\n",
                "delay_s.busy: missing, and outcomes give busy a share of 1.0 from hour 3.0",
            ),
        ];
        for (text, message) in cases {
            let err = load(&text).unwrap_err();
            assert!(err.contains(message), "expected «{message}» in «{err}»");
        }
    }

    #[test]
    fn unknown_keys_are_refused_with_line_and_column() {
        for (text, key) in [
            (BASE.replace("hours = 8", "hours = 8\nhuors = 3"), "huors"),
            (BASE.replace("count = 50", "count = 50\nshifts = 2"), "shifts"),
            (BASE.replace("invalid = 0.07", "invalid = 0.07\nfax = 0"), "fax"),
            (
                BASE.replace("[delay_s]", "[delay_s]\nfax = { dist = \"fixed\", value = 1 }"),
                "fax",
            ),
            (BASE.replace("sd = 120", "sd = 120\nmedian = 3"), "median"),
            (format!("{BASE}\n[amd]\nenable = true\n"), "enable"),
        ] {
            let err = load(&text).unwrap_err();
            assert!(err.starts_with("scenario t.toml: TOML parse error at line "), "{err}");
            assert!(err.contains(&format!("unknown field `{key}`")), "{err}");
        }
        let err = load("name = \"x\"\nhours = = 3\n").unwrap_err();
        assert!(err.contains("line 2, column"), "{err}");
    }

    #[test]
    fn a_missing_file_is_named() {
        let err = Scenario::load("/nonexistent/none.toml").unwrap_err().to_string();
        assert!(
            err.starts_with("scenario /nonexistent/none.toml: cannot read it: "),
            "{err}"
        );
    }

    #[test]
    fn every_shipped_scenario_loads() {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(scenarios_dir()).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                let s = Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(
                    format!("{}.toml", s.name),
                    path.file_name().unwrap().to_string_lossy(),
                    "name = file name"
                );
                names.push(s.name);
            }
        }
        assert!(names.len() >= 8, "{names:?}");
    }

    #[test]
    fn ref_p30_is_exactly_the_reference() {
        let s = Scenario::load(scenarios_dir().join("ref-p30.toml")).unwrap();
        assert_eq!(s.name, "ref-p30");
        assert_eq!((s.warmup_hours, s.hours, s.abandon_target), (1.0, 6.0, 0.03));
        assert_eq!((s.window_hours, s.connect_grace_s), (24.0, 2.0));
        assert_eq!(
            s.outcomes.base,
            Shares {
                person: 0.30,
                no_answer: 0.70,
                ..Shares::default()
            }
        );
        assert!(s.outcomes.by_hour.is_empty());
        assert_eq!(s.delay_s.person, Some(Dist::uniform(4.0, 20.0)));
        assert_eq!(s.delay_s.no_answer, Dist::uniform(2.0, 25.0));
        assert_eq!(s.talk_time_s, Dist::lognormal(120.0, 120.0));
        assert_eq!(s.agents.wrap_up_s, Dist::fixed(10.0));
        assert_eq!((s.agents.count, s.agents.by_hour.len()), (20, 0));
        assert!(!s.amd.enabled);
        let p15 = Scenario::load(scenarios_dir().join("ref-p15.toml")).unwrap();
        assert_eq!(
            p15.outcomes.base,
            Shares {
                person: 0.15,
                no_answer: 0.85,
                ..Shares::default()
            }
        );
        assert_eq!(
            Scenario {
                name: "ref-p30".into(),
                outcomes: s.outcomes.clone(),
                ..p15
            },
            s
        );
    }

    /// The round-the-world scenario keeps some zone between 08:00 and 21:00 local at every
    /// minute of the run, so a dialer obeying calling hours always has someone to call.
    #[test]
    fn the_24_hour_scenario_is_always_inside_calling_hours_somewhere() {
        let s = Scenario::load(scenarios_dir().join("global-500.toml")).unwrap();
        assert_eq!((s.hours, s.agents.count), (24.0, 500));
        let minutes = (s.total_hours() * 60.0) as i64;
        for minute in 0..=minutes {
            let at = s.start + Duration::minutes(minute);
            let open = s
                .time_zones
                .iter()
                .filter(|tz| {
                    let local = at.with_timezone(*tz);
                    (8..21).contains(&local.hour())
                })
                .count();
            assert!(open >= 2, "at {at} only {open} zones are inside 08:00-21:00");
        }
    }
}
