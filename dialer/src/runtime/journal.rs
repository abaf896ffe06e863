//! The runtime's journal: every fact the runtime decides (an agent's transition, a step of an
//! attempt, a record's next dialing state, an opt-out), kept in order until the runtime
//! commits them together in one transaction.
//!
//! The runtime commits before any action that depends on what it decided (bridging a call
//! to a reserved agent, answering a person's request) and at the latest a second after the
//! first uncommitted entry, so the store is never more than a second behind and nothing a
//! person did is acknowledged before it is stored.

use chrono::{DateTime, Utc};

use crate::agent::StateChange;
use crate::attempt::DialingState;
use crate::campaign::{DialMode, Outcome};
use crate::sample::record::RecordStatus;
use crate::store::sql::{Param, Statement};
use crate::telephony::{CallId, Side, Verdict};
use crate::users::UserId;

/// One fact to store.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    /// An agent's transition.
    Agent(StateChange),
    /// The switch took the call.
    Dialed {
        /// The attempt.
        attempt: i64,
        /// The switch's call.
        call: CallId,
        /// When.
        at: DateTime<Utc>,
        /// The mode it was dialed in.
        mode: DialMode,
    },
    /// The far end answered.
    Answered {
        /// The attempt.
        attempt: i64,
        /// When the far end picked up (before detection).
        at: DateTime<Utc>,
        /// The detector's verdict.
        verdict: Verdict,
    },
    /// The call reached an agent.
    Bridged {
        /// The attempt.
        attempt: i64,
        /// The agent.
        agent: UserId,
        /// When.
        at: DateTime<Utc>,
    },
    /// The call ended.
    Ended {
        /// The attempt.
        attempt: i64,
        /// The record, whose number's attempt count goes up.
        record: i64,
        /// Which of its numbers was dialed.
        position: i64,
        /// When.
        at: DateTime<Utc>,
        /// How it ended.
        outcome: Outcome,
        /// Who hung up, when it was answered.
        by: Option<Side>,
    },
    /// A disposition was given.
    Disposed {
        /// The attempt.
        attempt: i64,
        /// The disposition's code.
        code: String,
        /// By whom (none: the system).
        by: Option<UserId>,
        /// When.
        at: DateTime<Utc>,
        /// The agent's note.
        note: Option<String>,
    },
    /// What the agent found the call to be, correcting what the switch reported (an
    /// answering machine that detection missed).
    Reclassified {
        /// The attempt.
        attempt: i64,
        /// The outcome.
        outcome: Outcome,
    },
    /// The keys a called person pressed.
    Keypad {
        /// The attempt.
        attempt: i64,
        /// The digits.
        digits: String,
    },
    /// A reserved record was given back undialed; its queued attempt never happened.
    Dropped {
        /// The attempt.
        attempt: i64,
    },
    /// A record's dialing state after an attempt; it is no longer reserved.
    Record {
        /// The record.
        record: i64,
        /// Its new state.
        state: DialingState,
        /// When.
        at: DateTime<Utc>,
        /// The attempt's outcome.
        outcome: Option<Outcome>,
        /// The disposition given.
        disposition: Option<String>,
        /// A personal callback's agent: `Some(None)` clears an assignment.
        assign: Option<Option<UserId>>,
    },
    /// A reserved record goes back to the status it had, to be dialed from `next_call_at`.
    Released {
        /// The record.
        record: i64,
        /// When it may be dialed again (`None`: at once).
        next_call_at: Option<DateTime<Utc>>,
        /// When.
        at: DateTime<Utc>,
    },
    /// A reserved record found undialable (do-not-call, closed quota, no number).
    Marked {
        /// The record.
        record: i64,
        /// Its status from now on.
        status: RecordStatus,
        /// When.
        at: DateTime<Utc>,
    },
    /// A number goes on the campaign's do-not-call list.
    DoNotCall {
        /// The campaign.
        campaign: i64,
        /// The number.
        e164: String,
        /// Who took the request (none: the system, e.g. a keypad opt-out).
        by: Option<UserId>,
        /// When.
        at: DateTime<Utc>,
    },
}

impl Entry {
    /// The statements that store this entry. An agent's transition is two statements, the
    /// second run only if the first changed a row (see [`crate::agent::store::write_state`]).
    pub fn statements(&self) -> Vec<Statement> {
        match self {
            Entry::Agent(change) => vec![
                crate::agent::store::write_state(change),
                crate::agent::store::write_history(change),
            ],
            Entry::Dialed { attempt, call, at, mode } => vec![Statement::new(
                "UPDATE attempts SET dialed_at = $1, call_id = $2, dial_mode = $3 WHERE id = $4",
                vec![(*at).into(), call.0.as_str().into(), mode.as_str().into(), (*attempt).into()],
            )],
            Entry::Answered { attempt, at, verdict } => vec![Statement::new(
                "UPDATE attempts SET answered_at = $1, amd_verdict = $2 WHERE id = $3",
                vec![(*at).into(), verdict.as_str().into(), (*attempt).into()],
            )],
            Entry::Bridged { attempt, agent, at } => vec![Statement::new(
                "UPDATE attempts SET bridged_at = $1, agent_id = $2 WHERE id = $3",
                vec![(*at).into(), (*agent).into(), (*attempt).into()],
            )],
            Entry::Ended {
                attempt,
                record,
                position,
                at,
                outcome,
                by,
            } => vec![
                Statement::new(
                    "UPDATE attempts SET ended_at = $1, outcome = $2, abandoned = $3, ended_by = $4 WHERE id = $5",
                    vec![
                        (*at).into(),
                        outcome.as_str().into(),
                        (*outcome == Outcome::Abandoned).into(),
                        by.map(side_name).into(),
                        (*attempt).into(),
                    ],
                ),
                Statement::new(
                    "UPDATE record_phones SET attempts = attempts + 1 WHERE record_id = $1 AND position = $2",
                    vec![(*record).into(), (*position).into()],
                ),
            ],
            Entry::Disposed {
                attempt,
                code,
                by,
                at,
                note,
            } => vec![Statement::new(
                "UPDATE attempts SET disposition = $1, disposed_by = $2, disposed_at = $3, note = $4 WHERE id = $5",
                vec![
                    code.as_str().into(),
                    (*by).into(),
                    (*at).into(),
                    note.as_deref().into(),
                    (*attempt).into(),
                ],
            )],
            Entry::Reclassified { attempt, outcome } => vec![Statement::new(
                "UPDATE attempts SET outcome = $1 WHERE id = $2",
                vec![outcome.as_str().into(), (*attempt).into()],
            )],
            Entry::Keypad { attempt, digits } => vec![Statement::new(
                "UPDATE attempts SET keypad = $1 WHERE id = $2",
                vec![digits.as_str().into(), (*attempt).into()],
            )],
            Entry::Dropped { attempt } => vec![Statement::new(
                "DELETE FROM attempts WHERE id = $1 AND dialed_at IS NULL",
                vec![(*attempt).into()],
            )],
            Entry::Record {
                record,
                state,
                at,
                outcome,
                disposition,
                assign,
            } => {
                let mut params: Vec<Param> = vec![
                    state.status.as_str().into(),
                    state.attempts.into(),
                    state.next_call_at.into(),
                    state.phone_position.into(),
                    state.ever_eligible.into(),
                    state.aapor.as_deref().into(),
                    (*at).into(),
                    outcome.map(Outcome::as_str).into(),
                    disposition.as_deref().into(),
                    (*record).into(),
                ];
                let sql = match assign {
                    None => {
                        "UPDATE records SET status = $1, attempts = $2, next_call_at = $3, phone_position = $4,
                            ever_eligible = $5, aapor = $6, last_attempt_at = $7, updated_at = $7,
                            last_outcome = COALESCE($8, last_outcome), last_disposition = COALESCE($9, last_disposition),
                            reserved_by = NULL, reserved_at = NULL, reserved_from = NULL
                         WHERE id = $10"
                    }
                    Some(agent) => {
                        params.push((*agent).into());
                        "UPDATE records SET status = $1, attempts = $2, next_call_at = $3, phone_position = $4,
                            ever_eligible = $5, aapor = $6, last_attempt_at = $7, updated_at = $7,
                            last_outcome = COALESCE($8, last_outcome), last_disposition = COALESCE($9, last_disposition),
                            reserved_by = NULL, reserved_at = NULL, reserved_from = NULL, assigned_agent_id = $11
                         WHERE id = $10"
                    }
                };
                vec![Statement::new(sql, params)]
            }
            Entry::Released {
                record,
                next_call_at,
                at,
            } => vec![Statement::new(
                "UPDATE records SET status = COALESCE(reserved_from, 'ready'), next_call_at = COALESCE($1, next_call_at),
                    reserved_by = NULL, reserved_at = NULL, reserved_from = NULL, updated_at = $2
                 WHERE id = $3",
                vec![(*next_call_at).into(), (*at).into(), (*record).into()],
            )],
            Entry::Marked { record, status, at } => vec![Statement::new(
                "UPDATE records SET status = $1, next_call_at = NULL, reserved_by = NULL, reserved_at = NULL,
                    reserved_from = NULL, updated_at = $2
                 WHERE id = $3",
                vec![status.as_str().into(), (*at).into(), (*record).into()],
            )],
            Entry::DoNotCall { campaign, e164, by, at } => vec![Statement::new(
                "INSERT INTO dnc_entries (campaign_id, e164, source, note, added_at, user_id)
                 VALUES ($1, $2, 'disposition', NULL, $3, $4) ON CONFLICT DO NOTHING",
                vec![(*campaign).into(), e164.as_str().into(), (*at).into(), (*by).into()],
            )],
        }
    }
}

/// The stored name of a side.
pub fn side_name(side: Side) -> &'static str {
    match side {
        Side::Remote => "remote",
        Side::Agent => "agent",
        Side::Dialer => "dialer",
    }
}

/// Entries waiting to be committed, and when the oldest was written.
#[derive(Debug, Default)]
pub struct Journal {
    entries: Vec<Entry>,
    oldest: Option<DateTime<Utc>>,
}

/// The longest an entry waits before it is committed, in seconds.
pub const MAX_DELAY_S: i64 = 1;
/// Entries that force a commit when they pile up.
pub const MAX_ENTRIES: usize = 512;

impl Journal {
    /// Adds an entry written at `at`.
    pub fn push(&mut self, entry: Entry, at: DateTime<Utc>) {
        self.oldest.get_or_insert(at);
        self.entries.push(entry);
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many entries wait.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// When the waiting entries must be committed at the latest.
    pub fn due_at(&self) -> Option<DateTime<Utc>> {
        self.oldest.map(|at| at + chrono::Duration::seconds(MAX_DELAY_S))
    }

    /// Whether the journal should be committed now.
    pub fn should_commit(&self, now: DateTime<Utc>) -> bool {
        self.entries.len() >= MAX_ENTRIES || self.due_at().is_some_and(|due| due <= now)
    }

    /// Takes every waiting entry, oldest first.
    pub fn take(&mut self) -> Vec<Entry> {
        self.oldest = None;
        std::mem::take(&mut self.entries)
    }
}
