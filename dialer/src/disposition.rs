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

/// A standard AAPOR final disposition code for telephone surveys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AaporCode {
    /// The code, e.g. `2.111`.
    pub code: &'static str,
    /// AAPOR's name for it.
    pub name: &'static str,
}

/// The final disposition codes of AAPOR's telephone table (Standard Definitions), with their
/// sub-codes: the default disposition set of survey campaigns is built from it.
pub const AAPOR_TELEPHONE: &[AaporCode] = &[
    AaporCode {
        code: "1.1",
        name: "Complete",
    },
    AaporCode {
        code: "1.2",
        name: "Partial",
    },
    AaporCode {
        code: "2.10",
        name: "Refusal and break-off",
    },
    AaporCode {
        code: "2.11",
        name: "Refusal",
    },
    AaporCode {
        code: "2.111",
        name: "Household-level refusal",
    },
    AaporCode {
        code: "2.112",
        name: "Known-respondent refusal",
    },
    AaporCode {
        code: "2.12",
        name: "Break-off",
    },
    AaporCode {
        code: "2.20",
        name: "Non-contact",
    },
    AaporCode {
        code: "2.21",
        name: "Respondent never available",
    },
    AaporCode {
        code: "2.22",
        name: "Telephone answering device (confirming household)",
    },
    AaporCode {
        code: "2.221",
        name: "Message left",
    },
    AaporCode {
        code: "2.222",
        name: "No message left",
    },
    AaporCode {
        code: "2.30",
        name: "Other",
    },
    AaporCode {
        code: "2.31",
        name: "Dead",
    },
    AaporCode {
        code: "2.32",
        name: "Physically or mentally unable/incompetent",
    },
    AaporCode {
        code: "2.33",
        name: "Language",
    },
    AaporCode {
        code: "2.331",
        name: "Household-level language problem",
    },
    AaporCode {
        code: "2.332",
        name: "Respondent language problem",
    },
    AaporCode {
        code: "2.333",
        name: "No interviewer available for needed language",
    },
    AaporCode {
        code: "2.34",
        name: "Inadequate audio quality",
    },
    AaporCode {
        code: "2.35",
        name: "Location/activity not allowing interview",
    },
    AaporCode {
        code: "2.36",
        name: "Miscellaneous",
    },
    AaporCode {
        code: "3.10",
        name: "Unknown if housing unit",
    },
    AaporCode {
        code: "3.11",
        name: "Not attempted or worked",
    },
    AaporCode {
        code: "3.12",
        name: "Always busy",
    },
    AaporCode {
        code: "3.13",
        name: "No answer",
    },
    AaporCode {
        code: "3.14",
        name: "Telephone answering device (don't know if household)",
    },
    AaporCode {
        code: "3.15",
        name: "Telecommunication technological barriers, e.g. call blocking",
    },
    AaporCode {
        code: "3.16",
        name: "Technical phone problems",
    },
    AaporCode {
        code: "3.161",
        name: "Phone circuit overloaded",
    },
    AaporCode {
        code: "3.162",
        name: "Bad phone line",
    },
    AaporCode {
        code: "3.163",
        name: "Very noisy connection",
    },
    AaporCode {
        code: "3.17",
        name: "Ambiguous operator's message",
    },
    AaporCode {
        code: "3.20",
        name: "Housing unit, unknown if eligible respondent",
    },
    AaporCode {
        code: "3.21",
        name: "No screener completed",
    },
    AaporCode {
        code: "3.90",
        name: "Other",
    },
    AaporCode {
        code: "4.10",
        name: "Out of sample",
    },
    AaporCode {
        code: "4.20",
        name: "Fax/data line",
    },
    AaporCode {
        code: "4.30",
        name: "Non-working/disconnected number",
    },
    AaporCode {
        code: "4.31",
        name: "Non-working number",
    },
    AaporCode {
        code: "4.32",
        name: "Disconnected number",
    },
    AaporCode {
        code: "4.33",
        name: "Temporarily out of service",
    },
    AaporCode {
        code: "4.40",
        name: "Special technological circumstances",
    },
    AaporCode {
        code: "4.41",
        name: "Number changed",
    },
    AaporCode {
        code: "4.42",
        name: "Cell phone",
    },
    AaporCode {
        code: "4.43",
        name: "Call forwarding",
    },
    AaporCode {
        code: "4.44",
        name: "Pagers",
    },
    AaporCode {
        code: "4.45",
        name: "Residence to business",
    },
    AaporCode {
        code: "4.50",
        name: "Non-residence",
    },
    AaporCode {
        code: "4.51",
        name: "Business, government office, other organization",
    },
    AaporCode {
        code: "4.52",
        name: "Institution",
    },
    AaporCode {
        code: "4.53",
        name: "Group quarters",
    },
    AaporCode {
        code: "4.54",
        name: "Person not household resident",
    },
    AaporCode {
        code: "4.70",
        name: "No eligible respondent",
    },
    AaporCode {
        code: "4.80",
        name: "Quota filled",
    },
    AaporCode {
        code: "4.90",
        name: "Other",
    },
];

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

/// What a survey disposition with a standard AAPOR code does, as queXS's outcome table has it.
struct AaporRule {
    next: NextStep,
    retry_after_minutes: Option<i64>,
    try_next_number: bool,
    contact: bool,
    eligible: Option<bool>,
}

/// The rule of an AAPOR telephone code: interviews end the record's dialing; refusals and the
/// respondent's own impossibilities are final; non-contacts and unknown eligibility are tried
/// again after a delay that fits the outcome (a busy line soon, a message left the next day);
/// numbers that reach no household move on to the record's next number.
fn aapor_rule(code: &str) -> AaporRule {
    use NextStep::*;
    const HOUR: i64 = 60;
    const DAY: i64 = 24 * HOUR;
    let rule = |next, retry: Option<i64>, try_next_number, contact, eligible| AaporRule {
        next,
        retry_after_minutes: retry,
        try_next_number,
        contact,
        eligible,
    };
    match code {
        "1.1" => rule(Complete, None, false, true, Some(true)),
        "1.2" => rule(Callback, None, false, true, Some(true)),
        "2.10" | "2.11" | "2.111" | "2.112" | "2.12" => rule(Final, None, false, true, Some(true)),
        "2.20" | "2.21" | "2.22" | "2.221" => rule(Retry, Some(DAY), false, false, Some(true)),
        "2.222" => rule(Retry, Some(4 * HOUR), false, false, Some(true)),
        "2.333" => rule(Retry, Some(7 * DAY), false, true, Some(true)),
        "2.34" => rule(Retry, Some(HOUR), false, true, Some(true)),
        "2.35" => rule(Retry, Some(2 * HOUR), false, true, Some(true)),
        "2.36" => rule(Retry, Some(DAY), false, true, Some(true)),
        c if c.starts_with("2.3") => rule(Final, None, false, true, Some(true)),
        "3.12" => rule(Retry, Some(30), false, false, None),
        "3.11" | "3.16" | "3.161" | "3.162" | "3.163" => rule(Retry, Some(HOUR), false, false, None),
        "3.15" => rule(Final, None, true, false, None),
        "3.17" => rule(Retry, Some(DAY), true, false, None),
        "3.90" => rule(Final, None, false, false, None),
        c if c.starts_with('3') => rule(Retry, Some(4 * HOUR), false, false, None),
        "4.33" => rule(Retry, Some(DAY), false, false, None),
        "4.70" | "4.80" => rule(Final, None, false, true, Some(false)),
        "4.20" | "4.30" | "4.31" | "4.32" | "4.41" | "4.44" | "4.50" | "4.51" => {
            rule(Final, None, true, false, Some(false))
        }
        _ => rule(Final, None, false, false, Some(false)),
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
    if kind == CampaignKind::Survey {
        // Every other AAPOR telephone code, so that interviewers and the record keep the
        // standard's full detail.
        for standard in AAPOR_TELEPHONE {
            if set.iter().any(|d| d.aapor == standard.code) {
                continue;
            }
            let rule = aapor_rule(standard.code);
            set.push(Disposition {
                code: format!("aapor_{}", standard.code.replace('.', "_")),
                label: format!("{} ({})", standard.name, standard.code),
                aapor: standard.code.to_string(),
                next: rule.next,
                retry_after_minutes: rule.retry_after_minutes,
                try_next_number: rule.try_next_number,
                contact: rule.contact,
                eligible: rule.eligible,
            });
        }
    }
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
    fn a_survey_set_has_every_aapor_telephone_code_with_its_rule() {
        let set = default_set(CampaignKind::Survey);
        for standard in AAPOR_TELEPHONE {
            assert!(
                set.iter().any(|d| d.aapor == standard.code),
                "{} missing",
                standard.code
            );
        }
        let by = |aapor: &str| set.iter().find(|d| d.aapor == aapor).unwrap();
        assert_eq!(
            (by("3.12").next, by("3.12").retry_after_minutes),
            (NextStep::Retry, Some(30))
        );
        assert_eq!(
            (by("2.222").next, by("2.222").retry_after_minutes),
            (NextStep::Retry, Some(240))
        );
        assert_eq!(by("2.111").next, NextStep::Final);
        assert!(by("4.32").try_next_number && by("4.32").eligible == Some(false));
        assert_eq!(by("4.80").label, "Quota filled");
        assert_eq!(
            by("2.333").label,
            "No interviewer available for needed language (2.333)"
        );
        assert_eq!(by("2.333").code, "aapor_2_333");
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
