//! Simulated interviewers for the demo: signed in beside the people, they take the calls the
//! dialer gives them, answer the questionnaire with a simulated respondent's answers, end the
//! call after a plausible interview length, wrap up, and give the disposition the interview's
//! ending means, as an interviewer at a browser would.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};

use chrono::{DateTime, Duration, Utc};
use paceline_cati::desk::{Ending, SurveyDesk};
use paceline_cati::interview::State;
use paceline_cati::respondent;
use paceline_dialer::users::UserId;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// What a simulated interviewer does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Act {
    /// The interview is done: hang up.
    HangUp(UserId),
    /// Wrap-up is over: give the disposition and go ready.
    Dispose(UserId),
}

/// The simulated interviewers of a live runtime.
pub struct Interviewers {
    agents: BTreeSet<UserId>,
    acts: BinaryHeap<Reverse<(DateTime<Utc>, Act)>>,
    rng: ChaCha8Rng,
}

impl Interviewers {
    /// These agents, simulated.
    pub fn new(agents: impl IntoIterator<Item = UserId>, seed: u64) -> Self {
        Interviewers {
            agents: agents.into_iter().collect(),
            acts: BinaryHeap::new(),
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// Whether `agent` is one of them.
    pub fn simulates(&self, agent: UserId) -> bool {
        self.agents.contains(&agent)
    }

    /// When they next act.
    pub fn next_at(&self) -> Option<DateTime<Utc>> {
        self.acts.peek().map(|Reverse((at, _))| *at)
    }

    /// The next act due at `now`, if any.
    pub fn due(&mut self, now: DateTime<Utc>) -> Option<Act> {
        if self.next_at()? > now {
            return None;
        }
        self.acts.pop().map(|Reverse((_, act))| act)
    }

    /// An interview opened for `agent`: the respondent answers every question (drawing again
    /// when one is refused), and the call ends after an interview's length.
    pub async fn conduct(
        &mut self,
        desk: &mut SurveyDesk,
        agent: UserId,
        now: DateTime<Utc>,
        today: chrono::NaiveDate,
    ) {
        let mut asked = 0;
        while let Some((State::Asking, Some(shown))) = desk.current(agent) {
            let Some(question) = desk.question(agent, &shown.question) else {
                break;
            };
            let mut taken = false;
            for _ in 0..40 {
                let value = respondent::answer(&shown, &question, today, &mut self.rng);
                if desk.answer(agent, value, Some("something else")).await.is_ok() {
                    taken = true;
                    break;
                }
            }
            asked += 1;
            if !taken || asked > 500 {
                break;
            }
        }
        let minutes = self.rng.random_range(1.0..4.0);
        self.acts.push(Reverse((
            now + Duration::milliseconds((minutes * 60_000.0) as i64),
            Act::HangUp(agent),
        )));
    }

    /// The call of `agent` ended: wrap-up, then the disposition.
    pub fn wrap_up(&mut self, agent: UserId, now: DateTime<Utc>) {
        let seconds = self.rng.random_range(3.0..12.0);
        self.acts.push(Reverse((
            now + Duration::milliseconds((seconds * 1000.0) as i64),
            Act::Dispose(agent),
        )));
    }

    /// How a simulated interviewer ends an interview: as it ended, or, when the respondent's
    /// answers did not get it to the end, as a break-off.
    pub fn ending(desk: &SurveyDesk, agent: UserId) -> Ending {
        match desk.current(agent) {
            Some((State::Asking, _)) => Ending::BreakOff {
                reason: "the respondent stopped".into(),
            },
            _ => Ending::AsItEnded,
        }
    }
}
