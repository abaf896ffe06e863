//! The two simplest baselines: [`Progressive`] (one dial per ready agent) and [`FixedRatio`]
//! (a dial level of 1 / person share, without abandon feedback).
//!
//! Both decide from the situation alone, with no loop of their own, so they never ask for a
//! wakeup.

use super::estimate::PersonRate;
use super::{AgentPhase, Decision, DialPhase, Explain, Observation, PacerConfig, Situation, Strategy};

/// Ready agent weight, dials still ringing, and answered calls waiting: one pass over each list.
fn tally(situation: &Situation<'_>) -> (f64, usize, usize) {
    let ready = situation
        .agents
        .iter()
        .filter(|a| a.phase == AgentPhase::Ready)
        .map(|a| a.weight)
        .sum();
    let ringing = situation.dials.iter().filter(|d| d.phase == DialPhase::Ringing).count();
    (ready, ringing, situation.dials.len() - ringing)
}

/// Progressive dialing: one dial per ready agent, never more lines than ready agents.
///
/// Dials `covered ready agents - (ringing + waiting)`, at least 0 and at most `max_dials`: an
/// answered call always finds its agent unless an agent left in the meantime, so it abandons
/// (almost) nothing and keeps agents waiting through every ring. An agent shared between
/// campaigns is counted whole by the one campaign that covers them (see
/// [`super::AgentSnapshot::covers`]), not by a fraction on each.
#[derive(Debug, Clone, Default)]
pub struct Progressive;

impl Progressive {
    /// A progressive strategy.
    pub fn new() -> Self {
        Self
    }
}

impl Strategy for Progressive {
    fn name(&self) -> &'static str {
        "progressive"
    }

    fn reconfigure(&mut self, _config: &PacerConfig) -> bool {
        // Nothing in the campaign's pacing settings shapes it.
        true
    }

    fn observe(&mut self, _observation: &Observation) {}

    fn decide(&mut self, situation: &Situation<'_>) -> Decision {
        let (ready, ringing, waiting) = tally(situation);
        let lines = f64::from(situation.covered_ready());
        let unresolved = (ringing + waiting) as f64;
        let dial = (lines - unresolved).clamp(0.0, f64::from(situation.max_dials));
        let mut explain = Explain {
            figures: Vec::with_capacity(6),
            note: "",
        };
        explain.figure("ready", ready);
        explain.figure("covered", lines);
        explain.figure("ringing", ringing as f64);
        explain.figure("waiting", waiting as f64);
        explain.figure("unresolved", unresolved);
        explain.figure("max_dials", f64::from(situation.max_dials));
        explain.figure("dial", dial);
        Decision {
            dial: dial as u32,
            level: 1.0,
            explain,
        }
    }

    fn next_wakeup(&self, _now: super::Secs) -> Option<super::Secs> {
        None
    }
}

/// Fixed-ratio dialing: a dial level of 1 / (estimated person share), capped at
/// [`FixedRatio::MAX_LEVEL`], with no feedback from abandons.
///
/// Keeps `round(level x ready agents)` dials unresolved, counting only ready agents
/// (VICIdial's "available only" tally): dials `round(level x ready) - (ringing + waiting)`,
/// at least 0 and at most `max_dials`. The person share is a [`PersonRate`] learned from
/// [`Observation::Resolved`], so the level follows the list's answer rate but not the abandon
/// rate it causes: this is the baseline that shows what feedback is worth.
#[derive(Debug, Clone)]
pub struct FixedRatio {
    rate: PersonRate,
}

impl FixedRatio {
    /// The highest dial level it uses (a person share of 10%).
    pub const MAX_LEVEL: f64 = 10.0;
    /// How many dials the prior share is worth: a few, so the list's own rate soon rules.
    pub const PRIOR_WEIGHT: f64 = 5.0;
    /// How fast old dials are forgotten: slow enough to hold steady, fast enough to follow a
    /// change in the list over an hour.
    pub const HALF_LIFE_S: f64 = 600.0;

    /// A fixed-ratio strategy starting from an expected person share `prior_person_share`
    /// (strictly between 0 and 1).
    ///
    /// # Panics
    /// If the share is not strictly between 0 and 1.
    pub fn new(prior_person_share: f64) -> Self {
        Self::with_rate(PersonRate::new(
            prior_person_share,
            Self::PRIOR_WEIGHT,
            Self::HALF_LIFE_S,
        ))
    }

    /// A fixed-ratio strategy learning the person share with `rate`.
    pub fn with_rate(rate: PersonRate) -> Self {
        Self { rate }
    }

    /// The person share it works with.
    pub fn rate(&self) -> &PersonRate {
        &self.rate
    }

    /// The dial level it works at: 1 / person share, at most [`FixedRatio::MAX_LEVEL`].
    pub fn level(&self) -> f64 {
        (1.0 / self.rate.mean()).min(Self::MAX_LEVEL)
    }
}

impl Strategy for FixedRatio {
    fn name(&self) -> &'static str {
        "fixed-ratio"
    }

    fn reconfigure(&mut self, _config: &PacerConfig) -> bool {
        // Nothing in the campaign's pacing settings shapes it.
        true
    }

    fn observe(&mut self, observation: &Observation) {
        if let Observation::Resolved { at, person, .. } = *observation {
            self.rate.observe(person, at);
        }
    }

    fn decide(&mut self, situation: &Situation<'_>) -> Decision {
        let (ready, ringing, waiting) = tally(situation);
        let share = self.rate.mean();
        let level = self.level();
        let goal = (level * ready).round();
        let unresolved = (ringing + waiting) as f64;
        let dial = (goal - unresolved).clamp(0.0, f64::from(situation.max_dials));
        let mut explain = Explain {
            figures: Vec::with_capacity(9),
            note: "",
        };
        explain.figure("person_share", share);
        explain.figure("level", level);
        explain.figure("ready", ready);
        explain.figure("goal", goal);
        explain.figure("ringing", ringing as f64);
        explain.figure("waiting", waiting as f64);
        explain.figure("unresolved", unresolved);
        explain.figure("max_dials", f64::from(situation.max_dials));
        explain.figure("dial", dial);
        if level >= Self::MAX_LEVEL {
            explain.note = "person share below 10%: level capped at 10";
        }
        Decision {
            dial: dial as u32,
            level,
            explain,
        }
    }

    fn next_wakeup(&self, _now: super::Secs) -> Option<super::Secs> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::super::{AgentSnapshot, DialSnapshot, WindowCounts};
    use super::*;

    fn agent(phase: AgentPhase, weight: f64) -> AgentSnapshot {
        AgentSnapshot {
            phase,
            since: 0.0,
            weight,
            covers: true,
        }
    }

    fn ringing() -> DialSnapshot {
        DialSnapshot {
            dialed_at: 0.0,
            phase: DialPhase::Ringing,
        }
    }

    fn waiting() -> DialSnapshot {
        DialSnapshot {
            dialed_at: 0.0,
            phase: DialPhase::Waiting { answered_at: 1.0 },
        }
    }

    fn situation<'a>(agents: &'a [AgentSnapshot], dials: &'a [DialSnapshot], max_dials: u32) -> Situation<'a> {
        let window = WindowCounts {
            person_answers: 0.0,
            abandons: 0.0,
            ceiling: 0.03,
            length_s: 86_400.0,
            elapsed_s: 0.0,
        };
        Situation {
            now: 10.0,
            agents,
            logged_in: agents.len() as f64,
            dials,
            window,
            grace_s: 2.0,
            max_dials,
        }
    }

    fn figure(decision: &Decision, name: &str) -> f64 {
        decision.explain.value(name).expect(name)
    }

    #[test]
    fn progressive_dials_one_line_per_ready_agent() {
        use AgentPhase::*;
        let mut p = Progressive::new();
        let agents = [
            agent(Ready, 1.0),
            agent(Ready, 1.0),
            agent(Ready, 1.0),
            agent(Talking, 1.0),
            agent(WrapUp, 1.0),
        ];
        let d = p.decide(&situation(&agents, &[], 100));
        assert_eq!((d.dial, d.level), (3, 1.0));
        // Unresolved dials already cover two of them.
        let d = p.decide(&situation(&agents, &[ringing(), waiting()], 100));
        assert_eq!(d.dial, 1);
        assert_eq!(
            (figure(&d, "ready"), figure(&d, "ringing"), figure(&d, "waiting")),
            (3.0, 1.0, 1.0)
        );
        // More unresolved dials than ready agents: nothing, never below 0.
        let d = p.decide(&situation(&agents, &[ringing(); 5], 100));
        assert_eq!(d.dial, 0);
        // The runtime's cap.
        assert_eq!(p.decide(&situation(&agents, &[], 2)).dial, 2);
        assert_eq!(p.next_wakeup(0.0), None);
    }

    #[test]
    fn progressive_counts_the_shared_agents_it_covers_whole() {
        use AgentPhase::*;
        let mut p = Progressive::new();
        let elsewhere = |weight| AgentSnapshot {
            covers: false,
            ..agent(Ready, weight)
        };
        // Three agents, each a third on this campaign and covered by it: three lines.
        let third = 1.0 / 3.0;
        let agents = [agent(Ready, third), agent(Ready, third), agent(Ready, third)];
        assert_eq!(p.decide(&situation(&agents, &[], 10)).dial, 3);
        // One agent shared by two campaigns, covered here: one line, where half an agent
        // would make none on either campaign and leave them waiting.
        assert_eq!(p.decide(&situation(&[agent(Ready, 0.5)], &[], 10)).dial, 1);
        // Covered by another of their campaigns: none here.
        let agents = [elsewhere(0.5), elsewhere(0.5), agent(Ready, 0.5), agent(Talking, 1.0)];
        let d = p.decide(&situation(&agents, &[], 10));
        assert_eq!((d.dial, figure(&d, "ready"), figure(&d, "covered")), (1, 1.5, 1.0));
    }

    #[test]
    fn fixed_ratio_keeps_level_times_ready_unresolved() {
        use AgentPhase::*;
        let mut f = FixedRatio::new(0.25);
        let agents = [
            agent(Ready, 1.0),
            agent(Ready, 1.0),
            agent(Ready, 1.0),
            agent(Talking, 1.0),
        ];
        // Level 4 for three ready agents: 12 unresolved, 6 are already.
        let dials = [ringing(), ringing(), ringing(), ringing(), ringing(), waiting()];
        let d = f.decide(&situation(&agents, &dials, 100));
        assert!((d.level - 4.0).abs() < 1e-12);
        assert_eq!(d.dial, 6);
        assert_eq!((figure(&d, "goal"), figure(&d, "unresolved")), (12.0, 6.0));
        // The runtime's cap, and never below 0.
        assert_eq!(f.decide(&situation(&agents, &dials, 4)).dial, 4);
        assert_eq!(f.decide(&situation(&agents[3..], &dials, 100)).dial, 0);
        // Shared agents count by weight: level 4 x 1.5 ready = 6.
        let halves = [agent(Ready, 0.5), agent(Ready, 0.5), agent(Ready, 0.5)];
        assert_eq!(f.decide(&situation(&halves, &[], 100)).dial, 6);
        // round(), not floor(): level 3.33.. x 2 ready = 6.67 makes 7.
        let mut f = FixedRatio::new(0.3);
        assert_eq!(f.decide(&situation(&agents[1..], &[], 100)).dial, 7);
        assert_eq!(f.next_wakeup(0.0), None);
    }

    #[test]
    fn fixed_ratio_learns_the_person_share_and_caps_the_level() {
        use AgentPhase::*;
        let mut f = FixedRatio::new(0.25);
        // Half the dials answered by persons: the level moves to 2.
        for i in 0..2000 {
            let at = f64::from(i);
            f.observe(&Observation::Resolved {
                dialed_at: at - 10.0,
                at,
                person: i % 2 == 0,
            });
            // Abandons are no feedback to it.
            f.observe(&Observation::Abandoned {
                answered_at: at,
                at: at + 2.0,
            });
        }
        let agents = [agent(Ready, 1.0); 5];
        let d = f.decide(&situation(&agents, &[], 100));
        assert!((d.level - 2.0).abs() < 0.05, "level {}", d.level);
        assert_eq!(d.dial, 10);
        // A list where 2% answer: the level stops at 10.
        let mut f = FixedRatio::new(0.02);
        let d = f.decide(&situation(&agents, &[], 100));
        assert_eq!((d.level, d.dial), (10.0, 50));
        assert!(!d.explain.note.is_empty());
    }
}
