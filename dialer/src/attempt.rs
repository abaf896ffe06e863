//! Attempts: one dial of one number of one record, with its timestamps, outcome and
//! disposition; and [`next_dialing_state`], the rule that decides what a record does next.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::campaign::{CampaignSettings, DialMode, Outcome};
use crate::disposition::{Disposition, NextStep};
use crate::sample::record::RecordStatus;

/// An attempt's id in the store.
pub type AttemptId = i64;

/// A record's dialing state: what the dialer needs to decide when, and whether, to call it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DialingState {
    /// Status.
    pub status: RecordStatus,
    /// Attempts made so far, on all numbers.
    pub attempts: i64,
    /// When the record may next be dialed (retries and callbacks).
    pub next_call_at: Option<DateTime<Utc>>,
    /// Which of the record's numbers the next attempt uses (0-based).
    pub phone_position: i64,
    /// Whether any call so far showed the case eligible.
    pub ever_eligible: bool,
    /// The record's current AAPOR disposition code, once it has one.
    pub aapor: Option<String>,
}

/// How an attempt ended, as far as the record's next step is concerned.
#[derive(Debug, Clone, PartialEq)]
pub enum AttemptEnd<'a> {
    /// The switch's outcome, with no disposition by a person (busy, no answer, machine...).
    Outcome {
        /// The outcome.
        outcome: Outcome,
        /// Earlier attempts of this record that ended in the same outcome (not counting this one).
        earlier_same: i64,
    },
    /// An agent or the system gave a disposition.
    Disposed {
        /// The disposition.
        disposition: &'a Disposition,
        /// For a callback: when.
        callback_at: Option<DateTime<Utc>>,
    },
}

/// The AAPOR code a record gets when it reaches its attempt limit: 2.30 if it was ever shown
/// eligible, else 3.90 (as queXS does).
pub fn max_attempts_aapor(ever_eligible: bool) -> &'static str {
    if ever_eligible { "2.30" } else { "3.90" }
}

fn outcome_aapor(outcome: Outcome, ever_eligible: bool) -> &'static str {
    match outcome {
        Outcome::Busy => "3.12",
        Outcome::NoAnswer => "3.13",
        Outcome::Machine if ever_eligible => "2.22",
        Outcome::Machine => "3.14",
        Outcome::Invalid => "4.30",
        Outcome::Failed => "3.16",
        Outcome::Abandoned | Outcome::Person => "2.36",
    }
}

/// Decides a record's dialing state after an attempt, from the campaign's retry rules and
/// attempt limit, or the disposition given. `phones` is how many numbers the record has.
pub fn next_dialing_state(
    before: &DialingState,
    end: &AttemptEnd<'_>,
    settings: &CampaignSettings,
    phones: i64,
    now: DateTime<Utc>,
) -> DialingState {
    let mut next = before.clone();
    next.attempts += 1;
    let exhausted = next.attempts >= settings.max_attempts;
    let has_next_number = next.phone_position + 1 < phones;
    let give_up = |next: &mut DialingState| {
        next.status = RecordStatus::Final;
        next.next_call_at = None;
        next.aapor = Some(max_attempts_aapor(next.ever_eligible).to_string());
    };
    match end {
        AttemptEnd::Outcome { outcome, earlier_same } => {
            next.aapor = Some(outcome_aapor(*outcome, next.ever_eligible).to_string());
            let rule = settings.retry_rule(*outcome);
            let same = earlier_same + 1;
            let rule_done = rule.is_none_or(|r| r.after_minutes.is_none() || same >= r.max_attempts);
            let next_number = rule.is_some_and(|r| r.next_number) && has_next_number;
            if exhausted {
                give_up(&mut next);
            } else if rule_done && next_number {
                next.phone_position += 1;
                next.status = RecordStatus::Ready;
                next.next_call_at = Some(now);
            } else if rule_done {
                next.status = if *outcome == Outcome::Invalid {
                    RecordStatus::Invalid
                } else {
                    RecordStatus::Final
                };
                next.next_call_at = None;
                if *outcome != Outcome::Invalid {
                    next.aapor = Some(max_attempts_aapor(next.ever_eligible).to_string());
                }
            } else {
                let minutes = rule.and_then(|r| r.after_minutes).unwrap_or(60);
                next.status = RecordStatus::Ready;
                next.next_call_at = Some(now + Duration::minutes(minutes));
            }
        }
        AttemptEnd::Disposed {
            disposition,
            callback_at,
        } => {
            next.ever_eligible |= disposition.eligible == Some(true);
            next.aapor = Some(disposition.aapor.clone());
            match disposition.next {
                NextStep::Complete => {
                    next.status = RecordStatus::Completed;
                    next.next_call_at = None;
                }
                NextStep::Final => {
                    if disposition.try_next_number && has_next_number && !exhausted {
                        next.phone_position += 1;
                        next.status = RecordStatus::Ready;
                        next.next_call_at = Some(now);
                    } else {
                        next.status = RecordStatus::Final;
                        next.next_call_at = None;
                    }
                }
                NextStep::DoNotCall => {
                    next.status = RecordStatus::DoNotCall;
                    next.next_call_at = None;
                }
                // An appointment is kept even at the attempt limit: the person asked for it.
                NextStep::Callback => {
                    next.status = RecordStatus::Callback;
                    next.next_call_at = Some(callback_at.unwrap_or(now + Duration::hours(1)));
                }
                NextStep::Retry if exhausted => give_up(&mut next),
                NextStep::Retry => {
                    next.status = RecordStatus::Ready;
                    next.next_call_at = Some(now + Duration::minutes(disposition.retry_after_minutes.unwrap_or(60)));
                    if disposition.try_next_number && has_next_number {
                        next.phone_position += 1;
                    }
                }
            }
        }
    }
    next
}

/// A new attempt, written when the record is queued for dialing.
#[derive(Debug, Clone)]
pub struct NewAttempt {
    /// The campaign.
    pub campaign_id: i64,
    /// The record.
    pub record_id: i64,
    /// Which of the record's numbers (0-based).
    pub phone_position: i64,
    /// The number dialed.
    pub e164: String,
    /// The mode it is dialed in.
    pub dial_mode: DialMode,
    /// The agent reserved for it, if any (preview and progressive reserve first).
    pub agent_id: Option<i64>,
    /// When it was queued.
    pub queued_at: DateTime<Utc>,
}

/// A step in an attempt's life, each stamped when it happens.
#[derive(Debug, Clone, PartialEq)]
pub enum AttemptStep {
    /// The switch started the call.
    Dialed {
        /// The switch's call id.
        call_id: String,
    },
    /// Someone or something answered.
    Answered {
        /// The answering-machine detector's verdict: person, machine or unknown.
        amd_verdict: Option<String>,
    },
    /// The call was connected to an agent.
    Bridged {
        /// The agent.
        agent_id: i64,
    },
    /// The call ended.
    Ended {
        /// How.
        outcome: Outcome,
    },
}

/// Storage of attempts.
pub mod store {
    use chrono::{DateTime, Utc};
    use sqlx::Row;

    use super::{AttemptId, AttemptStep, NewAttempt};
    use crate::campaign::Outcome;
    use crate::store::Db;
    use crate::with_db;

    /// A stored attempt.
    #[derive(Debug, Clone, PartialEq, serde::Serialize)]
    pub struct Attempt {
        /// Store id.
        pub id: AttemptId,
        /// The record.
        pub record_id: i64,
        /// Number dialed.
        pub e164: String,
        /// Dial mode.
        pub dial_mode: String,
        /// Agent, if one took or was reserved for it.
        pub agent_id: Option<i64>,
        /// Queued.
        pub queued_at: DateTime<Utc>,
        /// Dialed.
        pub dialed_at: Option<DateTime<Utc>>,
        /// Answered.
        pub answered_at: Option<DateTime<Utc>>,
        /// Connected to the agent.
        pub bridged_at: Option<DateTime<Utc>>,
        /// Ended.
        pub ended_at: Option<DateTime<Utc>>,
        /// Outcome.
        pub outcome: Option<String>,
        /// Whether it was abandoned.
        pub abandoned: bool,
        /// Disposition code.
        pub disposition: Option<String>,
    }

    /// Writes a queued attempt; returns its id.
    pub async fn open(db: &Db, new: &NewAttempt) -> Result<AttemptId, sqlx::Error> {
        with_db!(db, |pool| {
            sqlx::query_scalar(
                "INSERT INTO attempts (campaign_id, record_id, phone_position, e164, dial_mode, agent_id, queued_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(new.campaign_id)
            .bind(new.record_id)
            .bind(new.phone_position)
            .bind(&new.e164)
            .bind(new.dial_mode.as_str())
            .bind(new.agent_id)
            .bind(new.queued_at)
            .fetch_one(pool)
            .await
        })
    }

    /// Stamps a step of an attempt's life.
    pub async fn mark(db: &Db, id: AttemptId, step: &AttemptStep, at: DateTime<Utc>) -> Result<(), sqlx::Error> {
        with_db!(db, |pool| {
            let query = match step {
                AttemptStep::Dialed { call_id } => {
                    sqlx::query("UPDATE attempts SET dialed_at = $1, call_id = $2 WHERE id = $3")
                        .bind(at)
                        .bind(call_id)
                }
                AttemptStep::Answered { amd_verdict } => {
                    sqlx::query("UPDATE attempts SET answered_at = $1, amd_verdict = $2 WHERE id = $3")
                        .bind(at)
                        .bind(amd_verdict)
                }
                AttemptStep::Bridged { agent_id } => {
                    sqlx::query("UPDATE attempts SET bridged_at = $1, agent_id = $2 WHERE id = $3")
                        .bind(at)
                        .bind(*agent_id)
                }
                AttemptStep::Ended { outcome } => {
                    sqlx::query("UPDATE attempts SET ended_at = $1, outcome = $2, abandoned = $3 WHERE id = $4")
                        .bind(at)
                        .bind(outcome.as_str())
                        .bind(*outcome == Outcome::Abandoned)
                }
            };
            query.bind(id).execute(pool).await?;
            Ok(())
        })
    }

    /// Records the disposition given to an attempt.
    pub async fn dispose(
        db: &Db,
        id: AttemptId,
        code: &str,
        by: Option<i64>,
        at: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        with_db!(db, |pool| {
            sqlx::query("UPDATE attempts SET disposition = $1, disposed_by = $2, disposed_at = $3 WHERE id = $4")
                .bind(code)
                .bind(by)
                .bind(at)
                .bind(id)
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    /// A record's attempts, oldest first.
    pub async fn for_record(db: &Db, record_id: i64) -> Result<Vec<Attempt>, sqlx::Error> {
        with_db!(db, |pool| {
            let rows = sqlx::query(
                "SELECT id, record_id, e164, dial_mode, agent_id, queued_at, dialed_at, answered_at, bridged_at,
                        ended_at, outcome, abandoned, disposition
                 FROM attempts WHERE record_id = $1 ORDER BY queued_at, id",
            )
            .bind(record_id)
            .fetch_all(pool)
            .await?;
            rows.into_iter()
                .map(|r| {
                    Ok(Attempt {
                        id: r.try_get("id")?,
                        record_id: r.try_get("record_id")?,
                        e164: r.try_get("e164")?,
                        dial_mode: r.try_get("dial_mode")?,
                        agent_id: r.try_get("agent_id")?,
                        queued_at: r.try_get("queued_at")?,
                        dialed_at: r.try_get("dialed_at")?,
                        answered_at: r.try_get("answered_at")?,
                        bridged_at: r.try_get("bridged_at")?,
                        ended_at: r.try_get("ended_at")?,
                        outcome: r.try_get("outcome")?,
                        abandoned: r.try_get("abandoned")?,
                        disposition: r.try_get("disposition")?,
                    })
                })
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::CampaignKind;
    use crate::disposition::default_set;

    fn fresh() -> DialingState {
        DialingState {
            status: RecordStatus::New,
            attempts: 0,
            next_call_at: None,
            phone_position: 0,
            ever_eligible: false,
            aapor: None,
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-23T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn outcome(outcome: Outcome, earlier_same: i64) -> AttemptEnd<'static> {
        AttemptEnd::Outcome { outcome, earlier_same }
    }

    #[test]
    fn busy_is_retried_after_its_interval_until_its_limit() {
        let settings = CampaignSettings::default();
        let s = next_dialing_state(&fresh(), &outcome(Outcome::Busy, 0), &settings, 1, now());
        assert_eq!(
            (s.status, s.attempts, s.next_call_at),
            (RecordStatus::Ready, 1, Some(now() + Duration::minutes(15)))
        );
        assert_eq!(s.aapor.as_deref(), Some("3.12"));
        // The fifth busy ends it: the rule allows 5.
        let s = next_dialing_state(&s, &outcome(Outcome::Busy, 4), &settings, 1, now());
        assert_eq!((s.status, s.next_call_at), (RecordStatus::Final, None));
        assert_eq!(s.aapor.as_deref(), Some("3.90"));
    }

    #[test]
    fn invalid_numbers_move_to_the_next_number_then_give_up() {
        let settings = CampaignSettings::default();
        let s = next_dialing_state(&fresh(), &outcome(Outcome::Invalid, 0), &settings, 2, now());
        assert_eq!(
            (s.status, s.phone_position, s.next_call_at),
            (RecordStatus::Ready, 1, Some(now()))
        );
        let s = next_dialing_state(&s, &outcome(Outcome::Invalid, 1), &settings, 2, now());
        assert_eq!((s.status, s.next_call_at), (RecordStatus::Invalid, None));
        assert_eq!(s.aapor.as_deref(), Some("4.30"));
    }

    #[test]
    fn the_attempt_limit_ends_a_record_as_2_30_once_eligible() {
        let settings = CampaignSettings {
            max_attempts: 2,
            ..CampaignSettings::default()
        };
        let set = default_set(CampaignKind::Survey);
        let unavailable = set.iter().find(|d| d.code == "respondent_unavailable").unwrap();
        let s = next_dialing_state(
            &fresh(),
            &AttemptEnd::Disposed {
                disposition: unavailable,
                callback_at: None,
            },
            &settings,
            1,
            now(),
        );
        assert_eq!(
            (s.status, s.next_call_at),
            (RecordStatus::Ready, Some(now() + Duration::days(1)))
        );
        assert!(s.ever_eligible);
        let s = next_dialing_state(&s, &outcome(Outcome::NoAnswer, 0), &settings, 1, now());
        assert_eq!((s.status, s.aapor.as_deref()), (RecordStatus::Final, Some("2.30")));
    }

    #[test]
    fn dispositions_decide_after_a_person_answers() {
        let settings = CampaignSettings::default();
        let set = default_set(CampaignKind::Survey);
        let by = |code: &str| set.iter().find(|d| d.code == code).unwrap();
        let at = now() + Duration::days(2);
        let cases = [
            ("complete", None, RecordStatus::Completed, None),
            ("refusal", None, RecordStatus::Final, None),
            ("callback", Some(at), RecordStatus::Callback, Some(at)),
            ("do_not_call", None, RecordStatus::DoNotCall, None),
        ];
        for (code, callback_at, status, next_call_at) in cases {
            let s = next_dialing_state(
                &fresh(),
                &AttemptEnd::Disposed {
                    disposition: by(code),
                    callback_at,
                },
                &settings,
                1,
                now(),
            );
            assert_eq!((s.status, s.next_call_at), (status, next_call_at), "{code}");
            assert_eq!(s.aapor.as_deref(), Some(by(code).aapor.as_str()));
        }
        // A non-working number with a second number to try moves on to it.
        let s = next_dialing_state(
            &fresh(),
            &AttemptEnd::Disposed {
                disposition: by("non_working"),
                callback_at: None,
            },
            &settings,
            2,
            now(),
        );
        assert_eq!((s.status, s.phone_position), (RecordStatus::Ready, 1));
    }
}
