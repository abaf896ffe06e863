//! The agents' logged-in time per interval, and each campaign's: the time of the agents
//! assigned to it (by name or through a team). The dialer report divides by it for contacts
//! per agent hour and the dial level. Pure: the state changes and assignments come in.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::facts::StateChange;
use crate::period::{Bucket, Interval};

/// Seconds each agent was logged in (in any state but logged out), per interval start (ms
/// since the epoch). `changes` come by agent, then in order, as [`crate::facts::state_changes`]
/// returns them; each state runs until the agent's next change, or until `to`.
/// Intervals are those of `zone`'s wall clock.
pub fn logged_in(
    changes: &[StateChange],
    to: DateTime<Utc>,
    interval: Interval,
    zone: Tz,
) -> HashMap<String, HashMap<i64, f64>> {
    let mut out: HashMap<String, HashMap<i64, f64>> = HashMap::new();
    for (i, change) in changes.iter().enumerate() {
        if change.to_state == "logged_out" {
            continue;
        }
        let end = match changes.get(i + 1) {
            Some(next) if next.agent == change.agent => next.at.min(to),
            _ => to,
        };
        let agent = out.entry(change.agent.clone()).or_default();
        for (start, from, until) in Bucket::Interval(interval).split_in(zone, change.at, end) {
            *agent.entry(start.timestamp_millis()).or_default() += (until - from).num_milliseconds() as f64 / 1000.0;
        }
    }
    out
}

/// Each campaign's agent seconds per interval start: the sum of its assigned agents' time
/// (`assignments` as `(campaign, agent)`; an agent on two campaigns counts in both).
pub fn per_campaign(
    logged_in: &HashMap<String, HashMap<i64, f64>>,
    assignments: &[(String, String)],
) -> HashMap<(String, i64), f64> {
    let mut out = HashMap::new();
    let mut seen = std::collections::HashSet::new();
    for (campaign, agent) in assignments {
        // An agent assigned by name and through a team is one agent.
        if !seen.insert((campaign, agent)) {
            continue;
        }
        for (start, seconds) in logged_in.get(agent).into_iter().flatten() {
            *out.entry((campaign.clone(), *start)).or_default() += seconds;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn change(agent: &str, at: &str, seq: i64, state: &str) -> StateChange {
        StateChange {
            agent: agent.into(),
            at: t(at),
            seq,
            to_state: state.into(),
            reason: None,
        }
    }

    #[test]
    fn logged_in_time_is_cut_at_each_interval_and_ends_at_log_out() {
        let changes = vec![
            change("ann", "2026-11-25T09:50:00Z", 1, "ready"),
            change("ann", "2026-11-25T10:05:00Z", 2, "on_call"),
            change("ann", "2026-11-25T10:20:00Z", 3, "logged_out"),
            change("bob", "2026-11-25T10:30:00Z", 1, "not_ready"),
        ];
        let time = logged_in(&changes, t("2026-11-25T11:00:00Z"), Interval::Hour, chrono_tz::UTC);
        let at = |s: &str| t(s).timestamp_millis();
        assert_eq!(time["ann"][&at("2026-11-25T09:00:00Z")], 600.0);
        assert_eq!(time["ann"][&at("2026-11-25T10:00:00Z")], 1200.0);
        // Bob never logged out: his time runs to the end of the range.
        assert_eq!(time["bob"][&at("2026-11-25T10:00:00Z")], 1800.0);

        let assignments = vec![
            ("poll".to_string(), "ann".to_string()),
            ("poll".to_string(), "bob".to_string()),
            ("poll".to_string(), "ann".to_string()),
            ("bills".to_string(), "bob".to_string()),
        ];
        let campaigns = per_campaign(&time, &assignments);
        assert_eq!(campaigns[&("poll".to_string(), at("2026-11-25T10:00:00Z"))], 3000.0);
        assert_eq!(campaigns[&("poll".to_string(), at("2026-11-25T09:00:00Z"))], 600.0);
        assert_eq!(campaigns[&("bills".to_string(), at("2026-11-25T10:00:00Z"))], 1800.0);
    }
}
