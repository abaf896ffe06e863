//! A campaign's settings: dial mode, abandon ceiling, calling hours, retry rules, caller ID,
//! recording and the field configuration of its records; and the checks that refuse bad ones.

use std::fmt;
use std::str::FromStr;

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::calling_hours::CallingHours;
use crate::sample::fields::{FieldSpec, FieldType, configuration_problems};

/// What a campaign is for; decides its default dispositions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignKind {
    /// A survey project with a questionnaire.
    Survey,
    /// Debt collection.
    Collections,
    /// Bill-payment or appointment reminders.
    Reminder,
    /// Anything else.
    Generic,
}

impl CampaignKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            CampaignKind::Survey => "survey",
            CampaignKind::Collections => "collections",
            CampaignKind::Reminder => "reminder",
            CampaignKind::Generic => "generic",
        }
    }
}

impl FromStr for CampaignKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "survey" => CampaignKind::Survey,
            "collections" => CampaignKind::Collections,
            "reminder" => CampaignKind::Reminder,
            "generic" => CampaignKind::Generic,
            _ => {
                return Err(format!(
                    "unknown campaign kind '{s}'; kinds are survey, collections, reminder, generic"
                ));
            }
        })
    }
}

impl fmt::Display for CampaignKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// How numbers are dialed (DIAL-02, DIAL-04, DIAL-05, DIAL-14).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DialMode {
    /// The agent sees the record first, then dials or skips.
    Preview,
    /// One dial per ready agent.
    Progressive,
    /// The pacer dials ahead of free agents within the abandon ceiling.
    #[default]
    Predictive,
    /// No agent: play a message, collect a keypad reply.
    Agentless,
}

impl DialMode {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            DialMode::Preview => "preview",
            DialMode::Progressive => "progressive",
            DialMode::Predictive => "predictive",
            DialMode::Agentless => "agentless",
        }
    }
}

impl FromStr for DialMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "preview" => DialMode::Preview,
            "progressive" => DialMode::Progressive,
            "predictive" => DialMode::Predictive,
            "agentless" => DialMode::Agentless,
            _ => {
                return Err(format!(
                    "unknown dial mode '{s}'; modes are preview, progressive, predictive, agentless"
                ));
            }
        })
    }
}

/// The abandon-rate ceiling and the window it is measured over (DIAL-12, BEY-01).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AbandonLimit {
    /// Highest share of person-answered calls that may be abandoned, e.g. 0.03.
    pub ceiling: f64,
    /// The compliance window in hours (24 for Ofcom, 720 for the FTC's 30 days).
    pub window_hours: u32,
    /// Seconds after answering within which a person must reach an agent (FTC: 2 s after
    /// the completed greeting).
    #[serde(default = "default_grace")]
    pub grace_s: f64,
    /// The information message an abandoned person hears; `{campaign}` and `{caller_id}` are
    /// replaced. It must say who called and give a number to call back.
    #[serde(default = "default_abandon_message")]
    pub message: String,
}

fn default_grace() -> f64 {
    2.0
}

fn default_abandon_message() -> String {
    "Sorry we missed you: this was a call from {campaign}. We will call you again; to reach us, call {caller_id}."
        .into()
}

impl Default for AbandonLimit {
    fn default() -> Self {
        Self {
            ceiling: 0.03,
            window_hours: 24,
            grace_s: default_grace(),
            message: default_abandon_message(),
        }
    }
}

/// Answering-machine detection (AMD).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AmdSettings {
    /// Whether the switch runs detection on answered calls.
    #[serde(default)]
    pub enabled: bool,
    /// The share of persons the detector takes for machines, as measured for it: they are hung
    /// up on, so they count as abandons (Ofcom asks for a reasoned estimate).
    #[serde(default)]
    pub false_positive: f64,
    /// A message left on machines; none: hang up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine_message: Option<String>,
}

/// What happens when a preview card is not acted on in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PreviewTimeout {
    /// The record is dialed.
    #[default]
    Dial,
    /// The record is put back and the next one shown.
    Skip,
}

/// Preview dialing (DIAL-02).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviewSettings {
    /// Seconds an agent has to dial or skip a record; 0: no limit.
    #[serde(default = "default_preview_timeout")]
    pub timeout_s: i64,
    /// What happens then.
    #[serde(default)]
    pub on_timeout: PreviewTimeout,
    /// Minutes before a skipped record is offered again.
    #[serde(default = "default_skip_minutes")]
    pub skip_minutes: i64,
}

fn default_preview_timeout() -> i64 {
    60
}

fn default_skip_minutes() -> i64 {
    15
}

impl Default for PreviewSettings {
    fn default() -> Self {
        Self {
            timeout_s: default_preview_timeout(),
            on_timeout: PreviewTimeout::default(),
            skip_minutes: default_skip_minutes(),
        }
    }
}

/// Agentless campaigns (DIAL-14): a message, a keypad reply, and what each reply does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentlessSettings {
    /// Calls in progress at most.
    #[serde(default = "default_lines")]
    pub lines: u32,
    /// What the called person hears, e.g. a payment reminder ending with the choices.
    #[serde(default = "default_agentless_message")]
    pub message: String,
    /// Seconds to wait for a key after the message.
    #[serde(default = "default_keypad_timeout")]
    pub keypad_timeout_s: i64,
    /// Keys and what they do: a disposition code of the campaign, or `agent` to speak to an
    /// agent.
    #[serde(default = "default_replies")]
    pub replies: std::collections::BTreeMap<String, String>,
    /// The disposition when no key is pressed.
    #[serde(default = "default_no_reply")]
    pub no_reply: String,
    /// What a person hears after a reply.
    #[serde(default = "default_thanks")]
    pub thanks: String,
}

fn default_lines() -> u32 {
    10
}

fn default_agentless_message() -> String {
    "This is a reminder from {campaign}: your payment is due. Press 1 to confirm you will pay by the due date, \
     press 2 to speak to an agent, press 9 not to be called again."
        .into()
}

fn default_keypad_timeout() -> i64 {
    10
}

fn default_replies() -> std::collections::BTreeMap<String, String> {
    [("1", "promise_to_pay"), ("2", "agent"), ("9", "do_not_call")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn default_no_reply() -> String {
    "callback".into()
}

fn default_thanks() -> String {
    "Thank you. Goodbye.".into()
}

impl Default for AgentlessSettings {
    fn default() -> Self {
        Self {
            lines: default_lines(),
            message: default_agentless_message(),
            keypad_timeout_s: default_keypad_timeout(),
            replies: default_replies(),
            no_reply: default_no_reply(),
            thanks: default_thanks(),
        }
    }
}

/// The highest abandon ceiling any rule we know allows (FTC TSR safe harbor, Ofcom).
pub const LEGAL_ABANDON_CEILING: f64 = 0.03;

/// What the switch reports at the end of a dial that no agent dispositioned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Answered by a person (then an agent or the system gives a disposition).
    Person,
    /// Answered by a machine.
    Machine,
    /// Busy signal.
    Busy,
    /// Rang until the ring timeout.
    NoAnswer,
    /// The network says the number does not exist or is out of service.
    Invalid,
    /// The call failed in the network for another reason.
    Failed,
    /// A person answered and no agent reached them in time.
    Abandoned,
}

impl Outcome {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Person => "person",
            Outcome::Machine => "machine",
            Outcome::Busy => "busy",
            Outcome::NoAnswer => "no_answer",
            Outcome::Invalid => "invalid",
            Outcome::Failed => "failed",
            Outcome::Abandoned => "abandoned",
        }
    }
}

/// How to retry a record after an outcome (DIAL-11).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryRule {
    /// The outcome the rule is for.
    pub outcome: Outcome,
    /// Minutes before the next attempt; absent means this number is not dialed again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_minutes: Option<i64>,
    /// Attempts ending in this outcome after which the record is not dialed again.
    pub max_attempts: i64,
    /// Whether the next attempt uses the record's next phone number.
    #[serde(default)]
    pub next_number: bool,
}

/// The order in which fresh records are dialed (DIAL-10); due callbacks and retries come first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CallOrder {
    /// Highest priority first, then in import order.
    #[default]
    Sequential,
    /// Highest priority first, then in random order.
    Random,
}

impl CallOrder {
    /// The name used in settings.
    pub fn as_str(self) -> &'static str {
        match self {
            CallOrder::Sequential => "sequential",
            CallOrder::Random => "random",
        }
    }
}

/// Every setting of a campaign, as written in its TOML configuration file. Unknown top-level
/// keys are refused by [`super::CampaignConfig::from_toml`], nested ones here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignSettings {
    /// The dial mode agents start in.
    #[serde(default)]
    pub dial_mode: DialMode,
    /// Modes agents may switch to; empty means only `dial_mode`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_dial_modes: Vec<DialMode>,
    /// The number shown to called persons, E.164 (DIAL-16).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller_id: Option<String>,
    /// Whether calls are recorded (DIAL-18).
    #[serde(default)]
    pub recording: bool,
    /// ISO country code used for numbers written without a country code.
    #[serde(default = "default_country")]
    pub default_country: String,
    /// Time zone for records whose own zone cannot be determined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_time_zone: Option<Tz>,
    /// Abandon-rate ceiling and window.
    #[serde(default)]
    pub abandon: AbandonLimit,
    /// How the predictive mode paces its dials.
    #[serde(default = "default_pacer")]
    pub pacer: crate::pacer::StrategyName,
    /// Answering-machine detection.
    #[serde(default)]
    pub amd: AmdSettings,
    /// Preview dialing.
    #[serde(default)]
    pub preview: PreviewSettings,
    /// Agentless dialing.
    #[serde(default)]
    pub agentless: AgentlessSettings,
    /// Seconds a dial may ring before it is given up.
    #[serde(default = "default_ring_timeout")]
    pub ring_timeout_s: i64,
    /// When calls may be made.
    #[serde(default)]
    pub calling_hours: CallingHours,
    /// Attempts after which a record is not dialed again, whatever the outcomes.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: i64,
    /// Retry rules per outcome.
    #[serde(default = "default_retry_rules")]
    pub retry: Vec<RetryRule>,
    /// Order of fresh records.
    #[serde(default)]
    pub call_order: CallOrder,
    /// Minutes a personal callback waits for its interviewer after its time before it is
    /// missed (the interviewer was not in, or busy).
    #[serde(default = "default_callback_wait")]
    pub personal_callback_wait_minutes: i64,
    /// What happens to a missed personal callback.
    #[serde(default)]
    pub missed_callbacks: MissedCallbacks,
    /// The questionnaire a survey asks (a name from the questionnaire library).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub questionnaire: Option<String>,
    /// The fields of the campaign's records.
    #[serde(default)]
    pub fields: Vec<FieldSpec>,
}

fn default_country() -> String {
    "US".into()
}
fn default_pacer() -> crate::pacer::StrategyName {
    crate::pacer::StrategyName::Predictive
}
fn default_ring_timeout() -> i64 {
    25
}
fn default_max_attempts() -> i64 {
    10
}
fn default_callback_wait() -> i64 {
    15
}

/// The campaign's rule for personal callbacks their interviewer did not make in time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissedCallbacks {
    /// Anyone on the campaign may make it (the respondent expects the call).
    #[default]
    ToAnyone,
    /// It waits for its interviewer, however long (a respondent who asked for that person).
    KeepPersonal,
}

/// Retry rules a campaign starts with.
pub fn default_retry_rules() -> Vec<RetryRule> {
    let rule = |outcome, after: Option<i64>, max, next_number| RetryRule {
        outcome,
        after_minutes: after,
        max_attempts: max,
        next_number,
    };
    vec![
        rule(Outcome::Busy, Some(15), 5, false),
        rule(Outcome::NoAnswer, Some(120), 6, false),
        rule(Outcome::Machine, Some(240), 4, false),
        rule(Outcome::Failed, Some(30), 3, false),
        rule(Outcome::Invalid, None, 1, true),
        // Ofcom: no call within 72 h of an abandoned call unless an agent is guaranteed.
        rule(Outcome::Abandoned, Some(72 * 60), 2, false),
    ]
}

impl Default for CampaignSettings {
    fn default() -> Self {
        Self {
            dial_mode: DialMode::default(),
            allowed_dial_modes: Vec::new(),
            caller_id: None,
            recording: false,
            default_country: default_country(),
            default_time_zone: None,
            abandon: AbandonLimit::default(),
            pacer: default_pacer(),
            amd: AmdSettings::default(),
            preview: PreviewSettings::default(),
            agentless: AgentlessSettings::default(),
            ring_timeout_s: default_ring_timeout(),
            calling_hours: CallingHours::default(),
            max_attempts: default_max_attempts(),
            retry: default_retry_rules(),
            call_order: CallOrder::default(),
            personal_callback_wait_minutes: default_callback_wait(),
            missed_callbacks: MissedCallbacks::default(),
            questionnaire: None,
            fields: Vec::new(),
        }
    }
}

/// One problem with a campaign's settings: the setting and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SettingProblem {
    /// The setting, as a path into the configuration (`abandon.ceiling`, `fields[2] (age)`).
    pub setting: String,
    /// What is wrong and, where it helps, what is allowed.
    pub message: String,
}

impl fmt::Display for SettingProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.setting, self.message)
    }
}

impl CampaignSettings {
    /// The top-level keys of the settings.
    pub const KEYS: [&'static str; 20] = [
        "dial_mode",
        "allowed_dial_modes",
        "caller_id",
        "recording",
        "default_country",
        "default_time_zone",
        "abandon",
        "pacer",
        "amd",
        "preview",
        "agentless",
        "ring_timeout_s",
        "calling_hours",
        "max_attempts",
        "retry",
        "call_order",
        "personal_callback_wait_minutes",
        "missed_callbacks",
        "questionnaire",
        "fields",
    ];

    /// Problems that make these settings unusable at all, in any status.
    pub fn problems(&self) -> Vec<SettingProblem> {
        let mut p: Vec<(String, String)> = Vec::new();
        let ceiling = self.abandon.ceiling;
        if !(0.0..=LEGAL_ABANDON_CEILING).contains(&ceiling) {
            p.push((
                "abandon.ceiling".into(),
                format!("{ceiling} is outside 0 to 0.03: 3% of person-answered calls is the most the FTC (16 CFR 310.4(b)(4)) and Ofcom allow"),
            ));
        }
        if !(1..=720).contains(&self.abandon.window_hours) {
            p.push((
                "abandon.window_hours".into(),
                format!(
                    "{} is outside 1 to 720 hours (24 h for Ofcom, 30 days for the FTC)",
                    self.abandon.window_hours
                ),
            ));
        }
        let grace = self.abandon.grace_s;
        if !(grace > 0.0 && grace <= 2.0) {
            p.push((
                "abandon.grace_s".into(),
                format!("{grace} s is outside 0 to 2 s: a person must reach an agent within 2 s of answering (FTC 16 CFR 310.4(b)(4))"),
            ));
        }
        if !self.abandon.message.contains("{caller_id}") {
            p.push((
                "abandon.message".into(),
                "the information message must give a number to call back: put {caller_id} in it".into(),
            ));
        }
        let fp = self.amd.false_positive;
        if !(0.0..0.5).contains(&fp) {
            p.push(("amd.false_positive".into(), format!("{fp} is outside 0 to 0.5")));
        }
        if self.preview.timeout_s < 0 {
            p.push(("preview.timeout_s".into(), "must be 0 (no limit) or more".into()));
        }
        if self.preview.skip_minutes < 1 {
            p.push(("preview.skip_minutes".into(), "must be at least 1".into()));
        }
        if !(1..=1000).contains(&self.agentless.lines) {
            p.push((
                "agentless.lines".into(),
                format!("{} is outside 1 to 1000", self.agentless.lines),
            ));
        }
        if !(1..=60).contains(&self.agentless.keypad_timeout_s) {
            p.push((
                "agentless.keypad_timeout_s".into(),
                format!("{} s is outside 1 to 60 s", self.agentless.keypad_timeout_s),
            ));
        }
        for key in self.agentless.replies.keys() {
            if !(key.len() == 1 && key.chars().all(|c| c.is_ascii_digit() || c == '*' || c == '#')) {
                p.push((
                    format!("agentless.replies.{key}"),
                    "a reply is one key: 0-9, * or #".into(),
                ));
            }
        }
        if !(15..=120).contains(&self.ring_timeout_s) {
            p.push((
                "ring_timeout_s".into(),
                format!(
                    "{} s is outside 15 to 120 s; the FTC and Ofcom require at least 15 s of ringing",
                    self.ring_timeout_s
                ),
            ));
        }
        if !self.allowed_dial_modes.is_empty() && !self.allowed_dial_modes.contains(&self.dial_mode) {
            p.push((
                "allowed_dial_modes".into(),
                format!(
                    "the dial mode {} is not among the allowed modes",
                    self.dial_mode.as_str()
                ),
            ));
        }
        if let Some(caller_id) = &self.caller_id
            && let Err(reason) = check_caller_id(caller_id)
        {
            p.push(("caller_id".into(), reason));
        }
        if self.default_country.parse::<phonenumber::country::Id>().is_err() {
            p.push((
                "default_country".into(),
                format!(
                    "'{}' is not an ISO 3166 country code like US, GB, CN, DE",
                    self.default_country
                ),
            ));
        }
        if !(0..=7 * 24 * 60).contains(&self.personal_callback_wait_minutes) {
            p.push((
                "personal_callback_wait_minutes".into(),
                format!("{} is outside 0 to 10080 (a week)", self.personal_callback_wait_minutes),
            ));
        }
        if !(1..=100).contains(&self.max_attempts) {
            p.push((
                "max_attempts".into(),
                format!("{} is outside 1 to 100", self.max_attempts),
            ));
        }
        for (i, rule) in self.retry.iter().enumerate() {
            let at = format!("retry[{i}] ({})", rule.outcome.as_str());
            if rule.outcome == Outcome::Person {
                p.push((
                    at.clone(),
                    "person-answered calls are decided by dispositions, not retry rules".into(),
                ));
            }
            if self.retry[..i].iter().any(|r| r.outcome == rule.outcome) {
                p.push((at.clone(), "there is already a rule for this outcome".into()));
            }
            if rule.after_minutes.is_some_and(|m| m < 1) {
                p.push((at.clone(), "after_minutes must be at least 1".into()));
            }
            if rule.outcome == Outcome::Abandoned && rule.after_minutes.is_some_and(|m| m < 72 * 60) {
                p.push((
                    at.clone(),
                    "an abandoned number may not be called again within 72 hours (4320 minutes; Ofcom)".into(),
                ));
            }
            if rule.max_attempts < 1 {
                p.push((at, "max_attempts must be at least 1".into()));
            }
        }
        p.extend(self.calling_hours.problems());
        p.extend(configuration_problems(&self.fields));
        p.into_iter()
            .map(|(setting, message)| SettingProblem { setting, message })
            .collect()
    }

    /// Problems that keep a campaign from being published: the above, plus what dialing needs.
    pub fn publish_problems(&self) -> Vec<SettingProblem> {
        let mut problems = self.problems();
        let mut need = |setting: &str, message: &str| {
            problems.push(SettingProblem {
                setting: setting.into(),
                message: message.into(),
            });
        };
        if self.caller_id.is_none() {
            need(
                "caller_id",
                "a published campaign needs a caller ID to show to called persons",
            );
        }
        if !self.fields.iter().any(|f| f.kind == FieldType::Phone) {
            need("fields", "a published campaign needs at least one field of type phone");
        }
        problems
    }

    /// The modes agents may use.
    pub fn dial_modes(&self) -> Vec<DialMode> {
        if self.allowed_dial_modes.is_empty() {
            vec![self.dial_mode]
        } else {
            self.allowed_dial_modes.clone()
        }
    }

    /// The retry rule for `outcome`, if any.
    pub fn retry_rule(&self, outcome: Outcome) -> Option<&RetryRule> {
        self.retry.iter().find(|r| r.outcome == outcome)
    }
}

fn check_caller_id(caller_id: &str) -> Result<(), String> {
    let parsed = phonenumber::parse(None, caller_id)
        .map_err(|_| format!("'{caller_id}' is not a phone number in international form like +442071234567"))?;
    if !phonenumber::is_valid(&parsed) {
        return Err(format!("'{caller_id}' is not a valid phone number"));
    }
    let e164 = parsed.format().mode(phonenumber::Mode::E164).to_string();
    if e164 != caller_id {
        return Err(format!("write the caller ID in E.164 form: {e164}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(problems: &[SettingProblem]) -> Vec<String> {
        problems.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn defaults_are_valid_but_not_publishable() {
        let settings = CampaignSettings::default();
        assert!(settings.problems().is_empty(), "{:?}", settings.problems());
        assert_eq!(
            texts(&settings.publish_problems()),
            [
                "caller_id: a published campaign needs a caller ID to show to called persons",
                "fields: a published campaign needs at least one field of type phone",
            ]
        );
    }

    #[test]
    fn toml_settings_parse() {
        let settings: CampaignSettings = toml::from_str(
            r#"
            dial_mode = "preview"
            allowed_dial_modes = ["preview", "progressive"]
            caller_id = "+442079460958"
            default_country = "GB"
            [abandon]
            ceiling = 0.01
            window_hours = 720
            [calling_hours]
            days = ["mon", "tue", "saturday"]
            ranges = ["09:00-12:30", "13:30-20:00"]
            holidays = ["2026-12-25"]
            [[fields]]
            name = "phone"
            type = "phone"
            required = true
            "#,
        )
        .unwrap();
        assert!(
            settings.publish_problems().is_empty(),
            "{:?}",
            settings.publish_problems()
        );
        assert_eq!(settings.retry, default_retry_rules());
    }

    #[test]
    fn bad_settings_are_named_with_the_rule() {
        let settings = CampaignSettings {
            abandon: AbandonLimit {
                ceiling: 0.05,
                window_hours: 0,
                grace_s: 3.0,
                message: "Sorry.".into(),
            },
            ring_timeout_s: 10,
            caller_id: Some("+44 20 7946 0958".into()),
            default_country: "XX".into(),
            dial_mode: DialMode::Predictive,
            allowed_dial_modes: vec![DialMode::Preview],
            retry: vec![
                RetryRule {
                    outcome: Outcome::Abandoned,
                    after_minutes: Some(60),
                    max_attempts: 1,
                    next_number: false,
                },
                RetryRule {
                    outcome: Outcome::Busy,
                    after_minutes: Some(0),
                    max_attempts: 0,
                    next_number: false,
                },
            ],
            ..CampaignSettings::default()
        };
        assert_eq!(
            texts(&settings.problems()),
            [
                "abandon.ceiling: 0.05 is outside 0 to 0.03: 3% of person-answered calls is the most the FTC (16 CFR 310.4(b)(4)) and Ofcom allow",
                "abandon.window_hours: 0 is outside 1 to 720 hours (24 h for Ofcom, 30 days for the FTC)",
                "abandon.grace_s: 3 s is outside 0 to 2 s: a person must reach an agent within 2 s of answering (FTC 16 CFR 310.4(b)(4))",
                "abandon.message: the information message must give a number to call back: put {caller_id} in it",
                "ring_timeout_s: 10 s is outside 15 to 120 s; the FTC and Ofcom require at least 15 s of ringing",
                "allowed_dial_modes: the dial mode predictive is not among the allowed modes",
                "caller_id: write the caller ID in E.164 form: +442079460958",
                "default_country: 'XX' is not an ISO 3166 country code like US, GB, CN, DE",
                "retry[0] (abandoned): an abandoned number may not be called again within 72 hours (4320 minutes; Ofcom)",
                "retry[1] (busy): after_minutes must be at least 1",
                "retry[1] (busy): max_attempts must be at least 1",
            ]
        );
    }
}
