//! What a simulated run measured, from the simulated world's ground truth (who really
//! answered, who was really abandoned) and the agents' stored state changes; only the
//! measured period (after warm-up) counts.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::agent::{StateChange, StateKind};
use crate::users::UserId;

/// The truth about one finished call, as the simulated world knows it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CallTruth {
    /// When it was dialed.
    pub dialed_at: DateTime<Utc>,
    /// When a real person answered it (none: nobody, or a machine).
    pub person_answered_at: Option<DateTime<Utc>>,
    /// Whether that person was abandoned.
    pub abandoned: bool,
}

/// The figures of one run (the benchmark's JSON keys).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    /// Dials in the measured period.
    pub dials: u64,
    /// Calls a real person answered.
    pub person_answers: u64,
    /// Of those, abandoned (including persons taken for machines).
    pub abandons: u64,
    /// abandons / person_answers.
    pub abandon_rate: f64,
    /// The highest abandon rate over any compliance window inside the measured period (the
    /// whole period when the window is longer).
    pub worst_window_abandon_rate: f64,
    /// Share of logged-in agent time spent talking or in wrap-up.
    pub occupancy: f64,
    /// Mean time an agent waited from becoming free to the next call reaching them, seconds.
    pub agent_wait_mean_s: f64,
    /// Its 95th percentile.
    pub agent_wait_p95_s: f64,
    /// Calls that reached an agent, per logged-in agent hour.
    pub contacts_per_agent_hour: f64,
    /// Logged-in agent hours.
    pub agent_hours: f64,
}

/// Where an agent is, for the clock of occupancy.
#[derive(Debug, Clone, Copy)]
struct AgentClock {
    state: StateKind,
    since: DateTime<Utc>,
    /// When the agent last became free for a call, while they wait.
    free_since: Option<DateTime<Utc>>,
}

/// Collects a run's measurements.
#[derive(Debug)]
pub struct Metrics {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    window: Duration,
    calls: Vec<CallTruth>,
    agents: HashMap<UserId, AgentClock>,
    logged_in: f64,
    busy: f64,
    contacts: u64,
    waits: Vec<f64>,
}

impl Metrics {
    /// Measures `[from, to)` with this compliance window.
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>, window: Duration) -> Self {
        Self {
            from,
            to,
            window,
            calls: Vec::new(),
            agents: HashMap::new(),
            logged_in: 0.0,
            busy: 0.0,
            contacts: 0,
            waits: Vec::new(),
        }
    }

    /// Seconds of `[a, b)` inside the measured period.
    fn overlap(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> f64 {
        let (a, b) = (a.max(self.from), b.min(self.to));
        if b > a {
            (b - a).num_microseconds().unwrap_or(0) as f64 / 1e6
        } else {
            0.0
        }
    }

    fn inside(&self, at: DateTime<Utc>) -> bool {
        at >= self.from && at < self.to
    }

    /// A finished call.
    pub fn call(&mut self, truth: CallTruth) {
        self.calls.push(truth);
    }

    /// An agent's state change.
    pub fn agent(&mut self, change: &StateChange) {
        let to = change.to.kind();
        let at = change.at;
        let clock = self.agents.entry(change.agent).or_insert(AgentClock {
            state: StateKind::LoggedOut,
            since: at,
            free_since: None,
        });
        let (state, since) = (clock.state, clock.since);
        let mut free_since = clock.free_since;
        match to {
            StateKind::Ready if free_since.is_none() => free_since = Some(at),
            StateKind::OnCall => {
                if let Some(free) = free_since.take()
                    && at >= self.from
                    && at < self.to
                {
                    self.waits
                        .push((at - free).num_microseconds().unwrap_or(0) as f64 / 1e6);
                }
            }
            StateKind::Ready | StateKind::Reserved => {}
            _ => free_since = None,
        }
        *self.agents.get_mut(&change.agent).expect("inserted above") = AgentClock {
            state: to,
            since: at,
            free_since,
        };
        self.close(state, since, at);
        if to == StateKind::OnCall && self.inside(at) {
            self.contacts += 1;
        }
    }

    /// Books the time an agent spent in `state` from `since` to `until`.
    fn close(&mut self, state: StateKind, since: DateTime<Utc>, until: DateTime<Utc>) {
        let seconds = self.overlap(since, until);
        if state != StateKind::LoggedOut {
            self.logged_in += seconds;
        }
        if matches!(state, StateKind::OnCall | StateKind::WrapUp) {
            self.busy += seconds;
        }
    }

    /// The figures, with every agent's current state booked up to the end.
    pub fn figures(mut self) -> Figures {
        let open: Vec<(StateKind, DateTime<Utc>)> = self.agents.values().map(|c| (c.state, c.since)).collect();
        for (state, since) in open {
            self.close(state, since, self.to);
        }
        let measured: Vec<&CallTruth> = self.calls.iter().collect();
        let dials = measured.iter().filter(|c| self.inside(c.dialed_at)).count() as u64;
        let mut answers: Vec<(DateTime<Utc>, bool)> = measured
            .iter()
            .filter_map(|c| c.person_answered_at.map(|at| (at, c.abandoned)))
            .filter(|(at, _)| self.inside(*at))
            .collect();
        answers.sort_by_key(|(at, _)| *at);
        let person_answers = answers.len() as u64;
        let abandons = answers.iter().filter(|(_, a)| *a).count() as u64;
        let rate = |n: u64, d: u64| if d == 0 { 0.0 } else { n as f64 / d as f64 };
        let worst = worst_window(&answers, self.window, self.from, self.to);
        self.waits.sort_by(f64::total_cmp);
        let wait_mean = if self.waits.is_empty() {
            0.0
        } else {
            self.waits.iter().sum::<f64>() / self.waits.len() as f64
        };
        let wait_p95 = percentile(&self.waits, 0.95);
        let hours = self.logged_in / 3600.0;
        Figures {
            dials,
            person_answers,
            abandons,
            abandon_rate: rate(abandons, person_answers),
            worst_window_abandon_rate: worst,
            occupancy: if self.logged_in > 0.0 {
                self.busy / self.logged_in
            } else {
                0.0
            },
            agent_wait_mean_s: wait_mean,
            agent_wait_p95_s: wait_p95,
            contacts_per_agent_hour: if hours > 0.0 { self.contacts as f64 / hours } else { 0.0 },
            agent_hours: hours,
        }
    }
}

/// The highest abandon rate over windows of `length` inside `[from, to)`, taking every window
/// that starts at the period's start or ends at an answer; the whole period when it is
/// shorter than a window. `answers` are sorted by time.
pub fn worst_window(
    answers: &[(DateTime<Utc>, bool)],
    length: Duration,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> f64 {
    let rate = |slice: &[(DateTime<Utc>, bool)]| {
        if slice.is_empty() {
            0.0
        } else {
            slice.iter().filter(|(_, a)| *a).count() as f64 / slice.len() as f64
        }
    };
    if to - from <= length {
        return rate(answers);
    }
    let mut worst: f64 = 0.0;
    let mut start = 0;
    for end in 0..answers.len() {
        while answers[end].0 - answers[start].0 >= length {
            start += 1;
        }
        // Only full windows count: a window must end at least `length` after the start.
        if answers[end].0 - from >= length {
            worst = worst.max(rate(&answers[start..=end]));
        }
    }
    worst
}

/// The `q` quantile of sorted values (nearest rank), 0 when empty.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::agent::{AgentState, CallId, Command};

    fn at(s: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 14, 0, 0).unwrap() + Duration::seconds(s)
    }

    fn change(agent: UserId, s: i64, to: AgentState) -> StateChange {
        StateChange {
            agent,
            seq: 0,
            at: at(s),
            command: Command::GoReady,
            from: AgentState::LoggedOut,
            to,
            after_call: None,
        }
    }

    #[test]
    fn occupancy_waits_and_contacts_count_the_measured_period_only() {
        let mut m = Metrics::new(at(100), at(400), Duration::hours(24));
        let call = CallId("c".into());
        m.agent(&change(1, 0, AgentState::NotReady { reason: "x".into() }));
        m.agent(&change(1, 50, AgentState::Ready));
        m.agent(&change(1, 150, AgentState::Reserved { call: call.clone() }));
        m.agent(&change(1, 160, AgentState::OnCall { call: call.clone() }));
        m.agent(&change(1, 260, AgentState::WrapUp { call }));
        m.agent(&change(1, 300, AgentState::Ready));
        let f = m.figures();
        // Logged in the whole 300 s measured; talking 100 s + wrap-up 40 s.
        assert!((f.occupancy - 140.0 / 300.0).abs() < 1e-9, "{}", f.occupancy);
        assert_eq!(f.agent_wait_mean_s, 110.0);
        assert!((f.contacts_per_agent_hour - 12.0).abs() < 1e-9);
    }

    #[test]
    fn abandon_rates_and_the_worst_window() {
        let mut m = Metrics::new(at(0), at(7200), Duration::hours(1));
        for s in 0..100 {
            m.call(CallTruth {
                dialed_at: at(s * 70),
                person_answered_at: Some(at(s * 70 + 5)),
                abandoned: (60..70).contains(&s),
            });
        }
        m.call(CallTruth {
            dialed_at: at(10),
            person_answered_at: None,
            abandoned: false,
        });
        let f = m.figures();
        assert_eq!((f.dials, f.person_answers, f.abandons), (101, 100, 10));
        assert_eq!(f.abandon_rate, 0.1);
        // The hour holding all ten abandons holds about 52 answers.
        assert!(f.worst_window_abandon_rate > 0.18, "{}", f.worst_window_abandon_rate);
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 0.95), 4.0);
    }
}
