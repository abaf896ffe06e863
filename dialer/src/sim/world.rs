//! Call fates: everything random about one dial, decided by the world before the dial is made.
//!
//! A fate depends only on (seed, number, how many times that number was dialed before) and
//! the hour, never on the order calls are made in: every pacing strategy run on the same seed
//! faces the same people, machines and busy lines, so their results differ only by what the
//! strategies did.

use std::sync::Arc;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::{Xxh3, xxh3_64_with_seed};

use super::distribution::Dist;
use super::scenario::Scenario;
use crate::telephony::Verdict;

/// What really is at the other end of a dial (the switch tells the dialer less than this).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrueOutcome {
    /// A person answers.
    Person,
    /// An answering machine or voicemail answers.
    Machine,
    /// The line is busy.
    Busy,
    /// Nobody answers.
    NoAnswer,
    /// The number does not work.
    Invalid,
}

impl TrueOutcome {
    /// Every outcome, in the order shares are stacked (see [`super::scenario::Shares::pick`]).
    pub const ALL: [TrueOutcome; 5] = [
        TrueOutcome::Person,
        TrueOutcome::Machine,
        TrueOutcome::Busy,
        TrueOutcome::NoAnswer,
        TrueOutcome::Invalid,
    ];

    /// The name used in scenario files.
    pub fn as_str(self) -> &'static str {
        match self {
            TrueOutcome::Person => "person",
            TrueOutcome::Machine => "machine",
            TrueOutcome::Busy => "busy",
            TrueOutcome::NoAnswer => "no_answer",
            TrueOutcome::Invalid => "invalid",
        }
    }

    /// Whether somebody or something picks up (given time to).
    pub fn answers(self) -> bool {
        matches!(self, TrueOutcome::Person | TrueOutcome::Machine)
    }
}

/// Everything random about one dial.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fate {
    /// What is at the other end.
    pub outcome: TrueOutcome,
    /// Seconds from dial to the outcome (the answer, the busy signal...), before any ring
    /// timeout cuts it short.
    pub delay_s: f64,
    /// Seconds a bridged call lasts: talk time for a person, `machine_talk_s` for a machine,
    /// 0 otherwise.
    pub talk_s: f64,
    /// What the detector would say, if the scenario has one: the truth except for the
    /// scenario's error rates; `Unknown` without detection or when nothing answers.
    pub amd_verdict: Verdict,
    /// The key a person presses when asked for digits, and seconds from the start of the
    /// collection to the press; `None` if they press nothing (always for machines).
    pub keypad: Option<(char, f64)>,
}

/// The simulated world: a scenario and a seed.
#[derive(Debug, Clone)]
pub struct World {
    /// The scenario.
    pub scenario: Arc<Scenario>,
    /// The seed; a run is reproducible from it.
    pub seed: u64,
}

/// ChaCha stream numbers of the fields of a fate. Fixed-size draws share stream 0 (always
/// drawn, in a fixed order); each draw of variable size (rejection samplers) has its own
/// stream, so no field shifts another, and a field added later takes a new stream.
mod stream {
    pub const UNIFORMS: u64 = 0;
    pub const DELAY: u64 = 1;
    pub const TALK: u64 = 2;
    pub const KEYPAD_DELAY: u64 = 3;
}

impl World {
    /// A world from a scenario and a seed.
    pub fn new(scenario: Arc<Scenario>, seed: u64) -> Self {
        Self { scenario, seed }
    }

    /// The fate of the `dial_index`-th dial (0 for the first) of `number` at `hour` from the
    /// start of the run (the hour picks the outcome shares; everything else is the same
    /// whenever the dial happens).
    pub fn fate(&self, number: &str, dial_index: u32, hour: f64) -> Fate {
        let scenario = &*self.scenario;
        let mut rng = ChaCha8Rng::seed_from_u64(self.key(number, dial_index));

        // Always these three uniforms, in this order.
        select(&mut rng, stream::UNIFORMS);
        let u_outcome: f64 = rng.random();
        let u_amd: f64 = rng.random();
        let u_key: f64 = rng.random();

        let outcome = scenario.shares_at(hour).pick(u_outcome);
        let delay_s = scenario
            .delay_s
            .of(outcome)
            .map_or(0.0, |dist| draw(&mut rng, stream::DELAY, dist));
        let talk_s = match outcome {
            TrueOutcome::Person => draw(&mut rng, stream::TALK, &scenario.talk_time_s),
            TrueOutcome::Machine => draw(&mut rng, stream::TALK, &scenario.machine_talk_s),
            _ => 0.0,
        };
        let amd = &scenario.amd;
        let amd_verdict = match outcome {
            _ if !amd.enabled => Verdict::Unknown,
            TrueOutcome::Person if u_amd < amd.false_positive => Verdict::Machine,
            TrueOutcome::Person => Verdict::Person,
            TrueOutcome::Machine if u_amd < amd.false_negative => Verdict::Person,
            TrueOutcome::Machine => Verdict::Machine,
            _ => Verdict::Unknown,
        };
        let keypad = match (&scenario.keypad, outcome) {
            (Some(keypad), TrueOutcome::Person) => keypad
                .pick(u_key)
                .map(|key| (key, draw(&mut rng, stream::KEYPAD_DELAY, &keypad.delay_s))),
            _ => None,
        };
        Fate {
            outcome,
            delay_s,
            talk_s,
            amd_verdict,
            keypad,
        }
    }

    /// xxh3 of (number, dial_index) seeded with the world's seed.
    fn key(&self, number: &str, dial_index: u32) -> u64 {
        let index = dial_index.to_le_bytes();
        let mut buffer = [0u8; 64];
        let length = number.len() + index.len();
        if length <= buffer.len() {
            buffer[..number.len()].copy_from_slice(number.as_bytes());
            buffer[number.len()..length].copy_from_slice(&index);
            xxh3_64_with_seed(&buffer[..length], self.seed)
        } else {
            // The same hash as the one-shot form over the same bytes.
            let mut hasher = Xxh3::with_seed(self.seed);
            hasher.update(number.as_bytes());
            hasher.update(&index);
            hasher.digest()
        }
    }
}

/// Moves to the start of a stream.
fn select(rng: &mut ChaCha8Rng, stream: u64) {
    rng.set_stream(stream);
    rng.set_word_pos(0);
}

/// Samples `dist` from the start of `stream`; a fixed value needs no stream (moving to one
/// costs a ChaCha block, and most dials are no-answers with a fixed delay).
fn draw(rng: &mut ChaCha8Rng, stream: u64, dist: &Dist) -> f64 {
    if let Dist::Fixed { value } = dist {
        return value.max(0.0);
    }
    select(rng, stream);
    dist.sample(rng)
}

#[cfg(test)]
mod tests {
    use statrs::distribution::{ChiSquared, ContinuousCDF};

    use super::*;

    const N: u32 = 40_000;

    fn world(extra: &str, seed: u64) -> World {
        let text = format!(
            r#"
name = "t"
hours = 8
abandon_target = 0.03
window_hours = 24
connect_grace_s = 2.0
[agents]
count = 5
wrap_up_s = {{ dist = "fixed", value = 10 }}
[outcomes]
person = 0.30
machine = 0.15
busy = 0.08
no_answer = 0.40
invalid = 0.07
[[outcomes.by_hour]]
hour = 3
person = 0.15
no_answer = 0.80
invalid = 0.05
[delay_s]
person = {{ dist = "uniform", min = 4, max = 20 }}
machine = {{ dist = "lognormal", mean = 10, sd = 4 }}
busy = {{ dist = "uniform", min = 2, max = 6 }}
invalid = {{ dist = "uniform", min = 1, max = 3 }}
[talk_time_s]
dist = "gamma"
shape = 2
scale = 60
{extra}
"#
        );
        World::new(Arc::new(Scenario::from_toml(&text, "t.toml").unwrap()), seed)
    }

    const AMD: &str = "[amd]\nenabled = true\nanalysis_s = 1.5\nfalse_positive = 0.02\nfalse_negative = 0.10\n";
    const KEYPAD: &str =
        "[keypad]\nreplies = { \"1\" = 0.55, \"2\" = 0.15 }\ndelay_s = { dist = \"uniform\", min = 2, max = 8 }\n";

    fn number(i: u32) -> String {
        format!("+1212555{i:04}")
    }

    /// Chi-square statistic of observed counts against expected shares, and its critical value
    /// at alpha = 0.001 (outcomes with share 0 must not occur at all).
    fn chi_square(counts: &[u32], shares: &[f64]) -> (f64, f64) {
        let n: u32 = counts.iter().sum();
        let mut statistic = 0.0;
        let mut cells = 0;
        for (&count, &share) in counts.iter().zip(shares) {
            if share == 0.0 {
                assert_eq!(count, 0, "an outcome with share 0 happened");
                continue;
            }
            let expected = f64::from(n) * share;
            statistic += (f64::from(count) - expected).powi(2) / expected;
            cells += 1;
        }
        let critical = ChiSquared::new(f64::from(cells - 1)).unwrap().inverse_cdf(0.999);
        (statistic, critical)
    }

    fn outcome_counts(world: &World, hour: f64, dial_index: u32) -> [u32; 5] {
        let mut counts = [0u32; 5];
        for i in 0..N {
            let fate = world.fate(&number(i), dial_index, hour);
            counts[TrueOutcome::ALL.iter().position(|&o| o == fate.outcome).unwrap()] += 1;
        }
        counts
    }

    #[test]
    fn outcome_shares_follow_the_period() {
        let w = world("", 11);
        for hour in [0.0, 2.5, 3.0, 7.9] {
            let shares = w.scenario.shares_at(hour);
            let expected: Vec<f64> = TrueOutcome::ALL.iter().map(|&o| shares.of(o)).collect();
            let (statistic, critical) = chi_square(&outcome_counts(&w, hour, 0), &expected);
            assert!(
                statistic < critical,
                "hour {hour}: chi-square {statistic} above {critical}"
            );
        }
        // The test has power: base-period counts are refused against the lunch shares.
        let lunch: Vec<f64> = TrueOutcome::ALL
            .iter()
            .map(|&o| w.scenario.shares_at(3.0).of(o))
            .collect();
        let counts = outcome_counts(&w, 0.0, 0);
        let n: u32 = counts.iter().sum();
        let statistic: f64 = counts
            .iter()
            .zip(&lunch)
            .filter(|(_, s)| **s > 0.0)
            .map(|(&c, &s)| (f64::from(c) - f64::from(n) * s).powi(2) / (f64::from(n) * s))
            .sum();
        assert!(statistic > 1000.0);
    }

    #[test]
    fn the_outcome_draw_is_shared_across_periods() {
        // Person is stacked first, so every person at share 0.15 is a person at share 0.30.
        let w = world("", 3);
        for i in 0..5_000 {
            let lunch = w.fate(&number(i), 0, 3.5);
            let morning = w.fate(&number(i), 0, 1.0);
            if lunch.outcome == TrueOutcome::Person {
                assert_eq!(morning.outcome, TrueOutcome::Person);
                // Fields other than the outcome do not depend on the hour.
                assert_eq!(morning, lunch);
            }
        }
    }

    #[test]
    fn delays_and_talk_times_follow_their_distributions() {
        let w = world("", 5);
        let (mut person_delay, mut talk, mut machine_delay) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..N {
            let fate = w.fate(&number(i), 0, 0.0);
            match fate.outcome {
                TrueOutcome::Person => {
                    person_delay.push(fate.delay_s);
                    talk.push(fate.talk_s);
                }
                TrueOutcome::Machine => {
                    machine_delay.push(fate.delay_s);
                    assert_eq!(fate.talk_s, 8.0, "machine_talk_s defaults to fixed 8");
                }
                _ => assert_eq!(fate.talk_s, 0.0),
            }
            assert_eq!(fate.amd_verdict, Verdict::Unknown, "detection is disabled");
            assert_eq!(fate.keypad, None, "no keypad section");
        }
        let s = &w.scenario;
        for (values, dist) in [
            (person_delay, s.delay_s.person.as_ref().unwrap()),
            (talk, &s.talk_time_s),
            (machine_delay, s.delay_s.machine.as_ref().unwrap()),
        ] {
            let n = values.len() as f64;
            let mean = values.iter().sum::<f64>() / n;
            let se = (dist.variance() / n).sqrt();
            assert!((mean - dist.mean()).abs() < 4.0 * se, "{dist:?}: mean {mean}");
            // KS distance against the cdf, alpha = 0.001.
            let mut sorted = values;
            sorted.sort_by(f64::total_cmp);
            let d = sorted
                .iter()
                .enumerate()
                .map(|(i, &x)| {
                    (dist.cdf(x) - i as f64 / n)
                        .abs()
                        .max(((i + 1) as f64 / n - dist.cdf(x)).abs())
                })
                .fold(0.0, f64::max);
            assert!(d < 1.9495 / n.sqrt(), "{dist:?}: KS distance {d}");
        }
    }

    #[test]
    fn detector_errors_happen_at_their_rates() {
        let w = world(AMD, 17);
        let (mut persons, mut persons_as_machines, mut machines, mut machines_as_persons) = (0u32, 0u32, 0u32, 0u32);
        for i in 0..100_000 {
            let fate = w.fate(&number(i), 0, 0.0);
            match (fate.outcome, fate.amd_verdict) {
                (TrueOutcome::Person, v) => {
                    persons += 1;
                    persons_as_machines += u32::from(v == Verdict::Machine);
                }
                (TrueOutcome::Machine, v) => {
                    machines += 1;
                    machines_as_persons += u32::from(v == Verdict::Person);
                }
                (_, v) => assert_eq!(v, Verdict::Unknown),
            }
        }
        for (errors, n, p) in [
            (persons_as_machines, persons, 0.02),
            (machines_as_persons, machines, 0.10),
        ] {
            let rate = f64::from(errors) / f64::from(n);
            let se = (p * (1.0 - p) / f64::from(n)).sqrt();
            assert!(
                (rate - p).abs() < 4.0 * se,
                "error rate {rate} is not within 4 standard errors of {p}"
            );
        }
    }

    #[test]
    fn keypad_replies_at_their_shares() {
        let w = world(KEYPAD, 23);
        let mut counts = [0u32; 3]; // "1", "2", none
        for i in 0..N {
            let fate = w.fate(&number(i), 0, 0.0);
            if fate.outcome != TrueOutcome::Person {
                assert_eq!(fate.keypad, None);
                continue;
            }
            match fate.keypad {
                Some(('1', d)) | Some(('2', d)) if !(2.0..8.0).contains(&d) => panic!("delay {d}"),
                Some(('1', _)) => counts[0] += 1,
                Some(('2', _)) => counts[1] += 1,
                Some(other) => panic!("{other:?}"),
                None => counts[2] += 1,
            }
        }
        let (statistic, critical) = chi_square(&counts, &[0.55, 0.15, 0.30]);
        assert!(statistic < critical, "chi-square {statistic} above {critical}");
    }

    #[test]
    fn fates_are_deterministic_and_independent_of_order() {
        let a = world(AMD, 99);
        let b = world(AMD, 99);
        let forward: Vec<Fate> = (0..1000).map(|i| a.fate(&number(i), i % 3, 0.0)).collect();
        let backward: Vec<Fate> = (0..1000).rev().map(|i| b.fate(&number(i), i % 3, 0.0)).collect();
        assert!(forward.iter().eq(backward.iter().rev()));
        // Another seed, another world.
        let c = world(AMD, 100);
        let persons = forward.iter().filter(|f| f.outcome == TrueOutcome::Person).count();
        let same = (0..1000).filter(|&i| c.fate(&number(i), i % 3, 0.0) == forward[i as usize]);
        assert!(persons > 200);
        assert_eq!(
            same.filter(|&i| forward[i as usize].outcome == TrueOutcome::Person)
                .count(),
            0
        );
        // A long number (hashed by the streaming path) is as deterministic.
        let long = "9".repeat(100);
        assert_eq!(a.fate(&long, 0, 0.0), b.fate(&long, 0, 0.0));
        assert_eq!(a.key(&long, 7), {
            let bytes = [long.as_bytes(), &7u32.to_le_bytes()].concat();
            xxh3_64_with_seed(&bytes, 99)
        });
    }

    #[test]
    fn redials_are_independent() {
        // 2x2 contingency of "person on dial 0" against "person on dial 1" for the same
        // numbers: chi-square with 1 degree of freedom, alpha = 0.001.
        let w = world("", 41);
        let mut table = [[0f64; 2]; 2];
        for i in 0..N {
            let first = w.fate(&number(i), 0, 0.0).outcome == TrueOutcome::Person;
            let second = w.fate(&number(i), 1, 0.0).outcome == TrueOutcome::Person;
            table[usize::from(first)][usize::from(second)] += 1.0;
        }
        let n = f64::from(N);
        let rows = [table[0][0] + table[0][1], table[1][0] + table[1][1]];
        let cols = [table[0][0] + table[1][0], table[0][1] + table[1][1]];
        let mut statistic = 0.0;
        for r in 0..2 {
            for c in 0..2 {
                let expected = rows[r] * cols[c] / n;
                statistic += (table[r][c] - expected).powi(2) / expected;
            }
        }
        let critical = ChiSquared::new(1.0).unwrap().inverse_cdf(0.999);
        assert!(
            statistic < critical,
            "chi-square {statistic} above {critical}: redials are correlated"
        );
        // And the delays of the two dials differ.
        let f0 = w.fate(&number(1), 0, 0.0);
        let f1 = w.fate(&number(1), 1, 0.0);
        assert_ne!(f0.delay_s, f1.delay_s);
    }
}
