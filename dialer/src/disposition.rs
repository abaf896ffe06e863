//! Dispositions: the coded result given to a record after a call, its AAPOR code, and what it
//! makes the dialer do next. Each campaign has its own set, seeded from [`default_set`].

use serde::{Deserialize, Serialize};

use crate::campaign::CampaignKind;

/// What a disposition does to the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NextStep {
    /// Dial the record again after `retry_after_minutes`.
    Retry,
    /// An appointment was made; the record waits for its callback time.
    Callback,
    /// The record's goal was reached (interview complete, payment promised).
    Complete,
    /// Never dial the record again.
    Final,
    /// The person asked not to be called: the number goes on the campaign's do-not-call list.
    DoNotCall,
}

impl NextStep {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            NextStep::Retry => "retry",
            NextStep::Callback => "callback",
            NextStep::Complete => "complete",
            NextStep::Final => "final",
            NextStep::DoNotCall => "do_not_call",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "retry" => NextStep::Retry,
            "callback" => NextStep::Callback,
            "complete" => NextStep::Complete,
            "final" => NextStep::Final,
            "do_not_call" => NextStep::DoNotCall,
            _ => return None,
        })
    }
}

/// One disposition of a campaign's set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Disposition {
    /// Short unique code, e.g. `refusal`.
    pub code: String,
    /// Text shown to agents.
    pub label: String,
    /// The AAPOR final disposition code it maps to, e.g. `2.11`.
    pub aapor: String,
    /// What happens to the record.
    pub next: NextStep,
    /// For `retry`: minutes before the record may be dialed again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_minutes: Option<i64>,
    /// Whether the next attempt should use the record's next phone number.
    #[serde(default)]
    pub try_next_number: bool,
    /// Whether the call reached the respondent (counts as contact in AAPOR rates).
    #[serde(default)]
    pub contact: bool,
    /// Whether the outcome shows the case eligible (`true`), not eligible (`false`) or neither.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eligible: Option<bool>,
}

impl Disposition {
    /// Problems with this disposition, as `(setting, message)` pairs.
    pub fn problems(&self, index: usize) -> Vec<(String, String)> {
        let at = format!("dispositions[{index}] ({})", self.code);
        let mut problems = Vec::new();
        if self.code.trim().is_empty() || self.code.contains(char::is_whitespace) {
            problems.push((at.clone(), "the code must be one word".into()));
        }
        let aapor_ok = self.aapor.split('.').count() == 2
            && self
                .aapor
                .split('.')
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
            && matches!(self.aapor.chars().next(), Some('1'..='4'));
        if !aapor_ok {
            problems.push((
                at.clone(),
                format!("'{}' is not an AAPOR code like 1.1, 2.11 or 3.13", self.aapor),
            ));
        }
        match (self.next, self.retry_after_minutes) {
            (NextStep::Retry, None) => problems.push((at, "a retry needs retry_after_minutes".into())),
            (NextStep::Retry, Some(m)) if m < 1 => problems.push((at, "retry_after_minutes must be at least 1".into())),
            (NextStep::Retry, _) | (_, None) => {}
            (_, Some(_)) => problems.push((at, "only a retry takes retry_after_minutes".into())),
        }
        problems
    }
}

/// Problems with a whole set: each disposition's own, codes used twice, an empty set.
pub fn set_problems(set: &[Disposition]) -> Vec<(String, String)> {
    if set.is_empty() {
        return vec![(
            "dispositions".into(),
            "a campaign needs at least one disposition".into(),
        )];
    }
    let mut problems: Vec<_> = set.iter().enumerate().flat_map(|(i, d)| d.problems(i)).collect();
    for (i, d) in set.iter().enumerate() {
        if set[..i].iter().any(|e| e.code == d.code) {
            problems.push((
                format!("dispositions[{i}] ({})", d.code),
                "the code is used twice".into(),
            ));
        }
    }
    problems
}

fn d(
    code: &str,
    label: &str,
    aapor: &str,
    next: NextStep,
    retry: Option<i64>,
    contact: bool,
    eligible: Option<bool>,
) -> Disposition {
    Disposition {
        code: code.into(),
        label: label.into(),
        aapor: aapor.into(),
        next,
        retry_after_minutes: retry,
        try_next_number: false,
        contact,
        eligible,
    }
}

/// The dispositions a new campaign of `kind` starts with, mapped to AAPOR telephone codes
/// (AAPOR Standard Definitions, RDD telephone table).
pub fn default_set(kind: CampaignKind) -> Vec<Disposition> {
    use NextStep::*;
    let mut set = match kind {
        CampaignKind::Survey => vec![
            d(
                "complete",
                "Complete interview",
                "1.1",
                Complete,
                None,
                true,
                Some(true),
            ),
            d(
                "partial",
                "Partial interview, to be continued",
                "1.2",
                Callback,
                None,
                true,
                Some(true),
            ),
            d("refusal", "Refusal", "2.11", Final, None, true, Some(true)),
            d("break_off", "Break-off", "2.12", Final, None, true, Some(true)),
            d(
                "respondent_unavailable",
                "Respondent not available",
                "2.21",
                Retry,
                Some(24 * 60),
                false,
                Some(true),
            ),
            d("language", "Language barrier", "2.33", Final, None, true, Some(true)),
            d(
                "unable",
                "Physically or mentally unable",
                "2.32",
                Final,
                None,
                true,
                Some(true),
            ),
            d("callback", "Appointment made", "2.21", Callback, None, true, Some(true)),
            d(
                "no_screener",
                "Household, screener not completed",
                "3.21",
                Retry,
                Some(4 * 60),
                false,
                None,
            ),
            d(
                "screened_out",
                "Not eligible (screened out)",
                "4.70",
                Final,
                None,
                true,
                Some(false),
            ),
            d("quota_full", "Quota filled", "4.80", Final, None, true, Some(false)),
            d("fax_data", "Fax or data line", "4.20", Final, None, false, Some(false)),
            d(
                "non_working",
                "Non-working or disconnected number",
                "4.30",
                Final,
                None,
                false,
                Some(false),
            ),
            d(
                "business",
                "Business, not a household",
                "4.51",
                Final,
                None,
                false,
                Some(false),
            ),
        ],
        CampaignKind::Collections | CampaignKind::Reminder => vec![
            d("paid", "Already paid", "1.1", Complete, None, true, Some(true)),
            d(
                "promise_to_pay",
                "Promise to pay",
                "1.1",
                Complete,
                None,
                true,
                Some(true),
            ),
            d(
                "partial_promise",
                "Partial promise, follow up",
                "1.2",
                Callback,
                None,
                true,
                Some(true),
            ),
            d(
                "refused_to_pay",
                "Refused to pay",
                "2.11",
                Final,
                None,
                true,
                Some(true),
            ),
            d("callback", "Call back later", "2.21", Callback, None, true, Some(true)),
            d(
                "third_party",
                "Third party, debtor not available",
                "2.21",
                Retry,
                Some(24 * 60),
                false,
                Some(true),
            ),
            d(
                "wrong_party",
                "Wrong party, does not know the customer",
                "4.41",
                Final,
                None,
                false,
                Some(false),
            ),
            d(
                "non_working",
                "Non-working or disconnected number",
                "4.30",
                Final,
                None,
                false,
                Some(false),
            ),
        ],
        CampaignKind::Generic => vec![
            d("success", "Goal reached", "1.1", Complete, None, true, Some(true)),
            d(
                "not_interested",
                "Not interested",
                "2.11",
                Final,
                None,
                true,
                Some(true),
            ),
            d("callback", "Call back later", "2.21", Callback, None, true, Some(true)),
            d(
                "retry_later",
                "Try again later",
                "2.21",
                Retry,
                Some(4 * 60),
                false,
                None,
            ),
            d("wrong_number", "Wrong number", "4.41", Final, None, false, Some(false)),
            d(
                "non_working",
                "Non-working or disconnected number",
                "4.30",
                Final,
                None,
                false,
                Some(false),
            ),
        ],
    };
    for disposition in &mut set {
        if matches!(
            disposition.code.as_str(),
            "non_working" | "fax_data" | "wrong_party" | "wrong_number" | "business"
        ) {
            disposition.try_next_number = true;
        }
    }
    set.push(d(
        "do_not_call",
        "Asked not to be called again",
        "2.11",
        DoNotCall,
        None,
        true,
        None,
    ));
    set
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_sets_are_valid_and_have_an_opt_out() {
        for kind in [
            CampaignKind::Survey,
            CampaignKind::Collections,
            CampaignKind::Reminder,
            CampaignKind::Generic,
        ] {
            let set = default_set(kind);
            assert_eq!(set_problems(&set), Vec::<(String, String)>::new(), "{kind:?}");
            assert!(set.iter().any(|d| d.next == NextStep::DoNotCall));
            assert!(set.iter().any(|d| d.next == NextStep::Complete));
        }
    }

    #[test]
    fn bad_dispositions_are_named() {
        let mut bad = default_set(CampaignKind::Generic);
        bad[0].aapor = "7".into();
        bad[1].code = "success".into();
        bad[2].next = NextStep::Retry;
        let texts: Vec<String> = set_problems(&bad).iter().map(|(s, m)| format!("{s}: {m}")).collect();
        assert_eq!(
            texts,
            [
                "dispositions[0] (success): '7' is not an AAPOR code like 1.1, 2.11 or 3.13",
                "dispositions[2] (callback): a retry needs retry_after_minutes",
                "dispositions[1] (success): the code is used twice",
            ]
        );
    }
}
