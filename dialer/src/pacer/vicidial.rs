//! VICIdial's adaptive dial level, re-implemented as the pacing benchmark's baseline.
//!
//! It follows the description in `shared/reference/vicidial-adaptive.md`, taken from
//! VICIdial's `AST_VDadapt.pl` (v2.14), `AST_VDauto_dial.pl`, `docs/PREDICTIVE.txt` and the
//! campaign help text:
//!
//! - a loop samples once a second, keeping 15-sample moving averages of ready agents, logged-in
//!   agents (`total`) and answered calls waiting for an agent;
//! - every 15 s the dial level moves by the differential `avg_ready - avg_waiting` (plus
//!   `dl_diff_target`) relative to `avg_total`, scaled by the intensity, clamped to
//!   [1, `max_level`]; then it is halved if more than half of the last minute's dials (over 20)
//!   were dropped, and cut by the method (HARD_LIMIT, AVERAGE, TAPERED) if the drop rate since
//!   the start (over 50 dials) is above the drop percentage; it never goes below 1;
//! - drop statistics (dials and drops of the last minute, and dials, drops and person answers
//!   since the start) are refreshed every 60 s;
//! - every 2.5 s it places `round(level x agents) - calls in progress`.
//!
//! Where it differs from VICIdial, and why:
//! - "today" is since the strategy's first decision, not since midnight: the strategy has no
//!   wall clock and a benchmark run is one shift;
//! - the moving averages average the samples there are until 15 have been taken;
//! - agents are counted by their weight on the campaign (1 for an agent on this campaign
//!   alone), so `make` is rounded to whole dials;
//! - with the available-only tally, calls already bridged are not counted as in progress
//!   (they do not occupy a ready agent);
//! - TAPERED compares the time left to the shift's latest time written as HHMM (6 h 30 min =
//!   630) where VICIdial subtracts two clock times as HHMM numbers (2100 - 1430 = 670): the
//!   strategy's clock has no time of day, and the two differ by at most 40, i.e. by 0.04 in
//!   the factor.

use super::{AgentPhase, Decision, DialPhase, Explain, Observation, PacerConfig, Secs, Situation, Strategy};

/// What the level does when the drop rate since the start is above the drop percentage
/// (VICIdial's dial methods ADAPT_HARD_LIMIT, ADAPT_AVERAGE, ADAPT_TAPERED).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AdaptMethod {
    /// Back to 1.0 at once: the strictest, the benchmark's default.
    #[default]
    HardLimit,
    /// Halved at each 15-second update while over.
    Average,
    /// Cut in proportion to the time left before the shift's latest time
    /// ([`VicidialConfig::shift_latest`]); 1.0 after it; like [`AdaptMethod::Average`] without
    /// a shift end.
    Tapered,
}

/// The settings of VICIdial's adaptive pacing, with VICIdial's defaults from [`Default`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VicidialConfig {
    /// Added to the differential: -1 keeps about one agent waiting, +1 about one call (0).
    pub dl_diff_target: f64,
    /// How hard the level reacts, -40 to 40 in VICIdial (0).
    pub intensity: f64,
    /// The highest dial level (3.0).
    pub max_level: f64,
    /// The ceiling on drops / person answers since the start, as a fraction (0.03, where
    /// VICIdial's setting says 3); `None`: the campaign's abandon ceiling from
    /// [`Situation::window`].
    pub drop_percentage: Option<f64>,
    /// What happens over the drop percentage ([`AdaptMethod::HardLimit`]).
    pub method: AdaptMethod,
    /// The level at the start (1.0).
    pub start_level: f64,
    /// Count only ready agents when turning the level into dials (off).
    pub available_only_tally: bool,
    /// The shift's latest time on the strategy's clock, for [`AdaptMethod::Tapered`] (none).
    pub shift_latest: Option<Secs>,
}

impl Default for VicidialConfig {
    fn default() -> Self {
        Self {
            dl_diff_target: 0.0,
            intensity: 0.0,
            max_level: 3.0,
            drop_percentage: None,
            method: AdaptMethod::HardLimit,
            start_level: 1.0,
            available_only_tally: false,
            shift_latest: None,
        }
    }
}

/// A setting of [`VicidialConfig`] out of its range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("vicidial-adaptive: {setting} is {value}, it must be {rule}")]
pub struct ConfigError {
    /// The setting at fault.
    pub setting: &'static str,
    /// Its value.
    pub value: f64,
    /// What it must be.
    pub rule: &'static str,
}

impl VicidialConfig {
    /// Checks every setting: levels at least 1 and finite, the start level at most the maximum,
    /// intensity in [-100, 100], a drop percentage in (0, 1).
    pub fn check(&self) -> Result<(), ConfigError> {
        let rule = |ok: bool, setting, value, rule| {
            if ok {
                Ok(())
            } else {
                Err(ConfigError { setting, value, rule })
            }
        };
        let max = self.max_level;
        rule(max >= 1.0 && max.is_finite(), "max_level", max, "1 or more, finite")?;
        let start = self.start_level;
        rule(
            (1.0..=max).contains(&start),
            "start_level",
            start,
            "between 1 and max_level",
        )?;
        rule(
            (-100.0..=100.0).contains(&self.intensity),
            "intensity",
            self.intensity,
            "between -100 and 100",
        )?;
        rule(
            self.dl_diff_target.is_finite(),
            "dl_diff_target",
            self.dl_diff_target,
            "finite",
        )?;
        if let Some(p) = self.drop_percentage {
            rule(
                p > 0.0 && p < 1.0,
                "drop_percentage",
                p,
                "a fraction strictly between 0 and 1",
            )?;
        }
        if let Some(t) = self.shift_latest {
            rule(t.is_finite(), "shift_latest", t, "finite")?;
        }
        Ok(())
    }
}

/// Half a second: every loop's period is a whole number of ticks.
const TICK_S: f64 = 0.5;
const SAMPLE_TICKS: u64 = 2;
const PLACE_TICKS: u64 = 5;
const LEVEL_TICKS: u64 = 30;
const STATS_TICKS: u64 = 120;
/// Samples in each moving average.
const SAMPLES: usize = 15;
/// Instants closer than this are the same instant.
const EPS: f64 = 1e-6;

/// What the loops read from one situation.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    ready: f64,
    reserved: f64,
    talking: f64,
    logged_in: f64,
    ringing: usize,
    waiting: usize,
    ceiling: f64,
}

impl Tally {
    fn of(situation: &Situation<'_>) -> Self {
        let mut tally = Tally {
            logged_in: situation.logged_in,
            ceiling: situation.window.ceiling,
            ..Tally::default()
        };
        for agent in situation.agents {
            match agent.phase {
                AgentPhase::Ready => tally.ready += agent.weight,
                AgentPhase::Reserved => tally.reserved += agent.weight,
                AgentPhase::Talking => tally.talking += agent.weight,
                AgentPhase::WrapUp => {}
            }
        }
        tally.ringing = situation.dials.iter().filter(|d| d.phase == DialPhase::Ringing).count();
        tally.waiting = situation.dials.len() - tally.ringing;
        tally
    }
}

/// The last 15 samples of ready, logged-in and waiting.
#[derive(Debug, Clone, Copy, Default)]
struct Samples {
    ready: [f64; SAMPLES],
    total: [f64; SAMPLES],
    waiting: [f64; SAMPLES],
    len: usize,
    next: usize,
}

impl Samples {
    fn push(&mut self, tally: &Tally) {
        self.ready[self.next] = tally.ready;
        self.total[self.next] = tally.logged_in;
        self.waiting[self.next] = tally.waiting as f64;
        self.next = (self.next + 1) % SAMPLES;
        self.len = (self.len + 1).min(SAMPLES);
    }

    /// The averages of ready, total and waiting (0 before any sample).
    fn averages(&self) -> (f64, f64, f64) {
        if self.len == 0 {
            return (0.0, 0.0, 0.0);
        }
        let n = self.len as f64;
        let mean = |values: &[f64; SAMPLES]| values[..self.len].iter().sum::<f64>() / n;
        (mean(&self.ready), mean(&self.total), mean(&self.waiting))
    }
}

/// Dial, drop and person-answer counts.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Counts {
    dials: f64,
    drops: f64,
    persons: f64,
}

/// The figures of the latest level update, shown with each placing decision.
#[derive(Debug, Clone, Copy, Default)]
struct Update {
    avg_ready: f64,
    avg_total: f64,
    avg_waiting: f64,
    differential: f64,
    adjustment: f64,
    minute: Counts,
    today: Counts,
    note: &'static str,
}

/// VICIdial's adaptive dial level (see the module's documentation for what it follows).
///
/// Its loops run on its own schedule from the first [`Strategy::decide`]: samples every
/// second, the level every 15 s, drop statistics every 60 s, placing every 2.5 s.
/// [`Strategy::next_wakeup`] asks for each sample and placing instant; `decide` catches up
/// with everything that came due since its last call, in time order (what came due before now
/// saw the situation of the last call, since nothing changed in between), and returns dials
/// only at a placing instant, once.
#[derive(Debug, Clone)]
pub struct VicidialAdaptive {
    config: VicidialConfig,
    level: f64,
    /// The first decision's time: the loops' origin.
    start: Option<Secs>,
    /// The next tick whose samples and updates are not done.
    next_tick: u64,
    /// The tick of the next placing.
    next_place: u64,
    last: Tally,
    samples: Samples,
    /// Counts since the start, as observed.
    observed: Counts,
    /// `observed` at the latest statistics refresh.
    refreshed: Counts,
    /// The last minute's counts at the latest refresh.
    minute: Counts,
    update: Update,
}

impl VicidialAdaptive {
    /// VICIdial's adaptive pacing with `config`.
    ///
    /// # Panics
    /// If a setting is out of range (see [`VicidialConfig::check`]).
    pub fn new(config: VicidialConfig) -> Self {
        Self::try_new(config).unwrap_or_else(|e| panic!("{e}"))
    }

    /// As [`VicidialAdaptive::new`], refusing settings out of range.
    pub fn try_new(config: VicidialConfig) -> Result<Self, ConfigError> {
        config.check()?;
        Ok(Self {
            config,
            level: config.start_level,
            start: None,
            next_tick: 0,
            next_place: 0,
            last: Tally::default(),
            samples: Samples::default(),
            observed: Counts::default(),
            refreshed: Counts::default(),
            minute: Counts::default(),
            update: Update::default(),
        })
    }

    /// The current dial level.
    pub fn level(&self) -> f64 {
        self.level
    }

    /// Its settings.
    pub fn config(&self) -> &VicidialConfig {
        &self.config
    }

    fn tick_time(&self, tick: u64) -> Secs {
        self.start.unwrap_or(0.0) + tick as f64 * TICK_S
    }

    /// Runs the samples and updates due before `until` (also at `until` if `inclusive`),
    /// reading `tally` as the situation.
    fn advance(&mut self, until: Secs, inclusive: bool, tally: &Tally) {
        if self.start.is_none() {
            return;
        }
        loop {
            let at = self.tick_time(self.next_tick);
            let due = if inclusive { at <= until + EPS } else { at < until - EPS };
            if !due {
                break;
            }
            let tick = self.next_tick;
            if tick.is_multiple_of(SAMPLE_TICKS) {
                self.samples.push(tally);
            }
            if tick > 0 && tick.is_multiple_of(STATS_TICKS) {
                self.refresh_stats();
            }
            if tick > 0 && tick.is_multiple_of(LEVEL_TICKS) {
                self.update_level(at, tally.ceiling);
            }
            self.next_tick += 1;
        }
    }

    fn refresh_stats(&mut self) {
        self.minute = Counts {
            dials: self.observed.dials - self.refreshed.dials,
            drops: self.observed.drops - self.refreshed.drops,
            persons: self.observed.persons - self.refreshed.persons,
        };
        self.refreshed = self.observed;
    }

    /// The 15-second update of the dial level, at `at`.
    fn update_level(&mut self, at: Secs, ceiling: f64) {
        let config = &self.config;
        let (avg_ready, avg_total, avg_waiting) = self.samples.averages();
        let differential = avg_ready - avg_waiting;
        let target = differential + config.dl_diff_target;
        let mul = if target != 0.0 && avg_total > 0.0 {
            target / avg_total
        } else {
            0.0
        };
        let intensity = config.intensity / 100.0;
        let adjustment = if mul < 0.0 {
            mul * (intensity - 1.0).abs()
        } else {
            mul * (intensity + 1.0)
        };
        let mut level = (self.level * (1.0 + adjustment)).clamp(1.0, config.max_level);
        let mut note = "";

        let minute = self.minute;
        if minute.dials > 20.0 && minute.drops / minute.dials > 0.5 {
            level /= 2.0;
            note = "over half of the last minute's dials dropped: level halved";
        }
        let today = self.refreshed;
        let limit = config.drop_percentage.unwrap_or(ceiling);
        if today.dials > 50.0 && drop_rate(today) > limit {
            let (cut, why) = match (config.method, config.shift_latest) {
                (AdaptMethod::HardLimit, _) => (1.0, "drop rate over the limit: HARD_LIMIT, level 1"),
                (AdaptMethod::Average, _) | (AdaptMethod::Tapered, None) => {
                    (level / 2.0, "drop rate over the limit: AVERAGE, level halved")
                }
                (AdaptMethod::Tapered, Some(latest)) if at >= latest => (
                    1.0,
                    "drop rate over the limit: TAPERED after the shift's latest time, level 1",
                ),
                (AdaptMethod::Tapered, Some(latest)) => (
                    level * (hhmm(latest - at) / 1000.0).min(1.0),
                    "drop rate over the limit: TAPERED by time left",
                ),
            };
            level = cut;
            note = why;
        }
        self.level = level.max(1.0);
        self.update = Update {
            avg_ready,
            avg_total,
            avg_waiting,
            differential,
            adjustment,
            minute,
            today,
            note,
        };
    }

    fn explain_placing(&self, tally: &Tally, figures: PlacingFigures) -> Explain {
        let u = &self.update;
        let values = [
            ("level", self.level),
            ("avg_ready", u.avg_ready),
            ("avg_waiting", u.avg_waiting),
            ("avg_total", u.avg_total),
            ("differential", u.differential),
            ("adjustment", u.adjustment),
            ("dials_minute", u.minute.dials),
            ("drops_minute", u.minute.drops),
            ("dials_today", u.today.dials),
            ("drops_today", u.today.drops),
            ("person_answers_today", u.today.persons),
            ("ready", tally.ready),
            ("in_call", tally.talking + tally.reserved),
            ("agents", figures.agents),
            ("goal", figures.goal),
            ("ringing", tally.ringing as f64),
            ("waiting", tally.waiting as f64),
            ("bridged", figures.bridged),
            ("in_progress", figures.in_progress),
            ("make", figures.make),
            ("max_dials", figures.max_dials),
            ("dial", figures.dial),
        ];
        Explain {
            figures: values.to_vec(),
            note: u.note,
        }
    }
}

/// The intermediate values of one placing.
struct PlacingFigures {
    agents: f64,
    goal: f64,
    bridged: f64,
    in_progress: f64,
    make: f64,
    max_dials: f64,
    dial: f64,
}

/// Drops per person answer (infinite with drops and no answers).
fn drop_rate(counts: Counts) -> f64 {
    if counts.persons > 0.0 {
        counts.drops / counts.persons
    } else if counts.drops > 0.0 {
        f64::INFINITY
    } else {
        0.0
    }
}

/// A duration written the way VICIdial compares clock times: hours x 100 + minutes.
fn hhmm(seconds: f64) -> f64 {
    let minutes = (seconds.max(0.0) / 60.0).floor();
    (minutes / 60.0).floor() * 100.0 + minutes % 60.0
}

impl Strategy for VicidialAdaptive {
    fn name(&self) -> &'static str {
        "vicidial-adaptive"
    }

    fn reconfigure(&mut self, config: &PacerConfig) -> bool {
        self.config.drop_percentage = Some(config.ceiling);
        true
    }

    fn observe(&mut self, observation: &Observation) {
        // Statistics refreshed before the observation must not count it.
        let last = self.last;
        match *observation {
            Observation::Dialed { at } => {
                self.advance(at, false, &last);
                self.observed.dials += 1.0;
            }
            Observation::Abandoned { at, .. } => {
                self.advance(at, false, &last);
                self.observed.drops += 1.0;
            }
            Observation::Resolved { at, person: true, .. } => {
                self.advance(at, false, &last);
                self.observed.persons += 1.0;
            }
            _ => {}
        }
    }

    fn decide(&mut self, situation: &Situation<'_>) -> Decision {
        let now = situation.now;
        let tally = Tally::of(situation);
        if self.start.is_none() {
            self.start = Some(now);
        } else {
            let last = self.last;
            self.advance(now, false, &last);
        }
        self.advance(now, true, &tally);
        self.last = tally;

        let place_at = self.tick_time(self.next_place);
        if place_at > now + EPS {
            let mut explain = Explain {
                figures: Vec::with_capacity(2),
                note: "between placing instants",
            };
            explain.figure("level", self.level);
            explain.figure("next_placing", place_at);
            return Decision {
                dial: 0,
                level: self.level,
                explain,
            };
        }
        // One placing per instant, however often it is asked; a late call places once.
        let elapsed_ticks = ((now - self.tick_time(0)) / TICK_S + EPS).floor() as u64;
        self.next_place = (elapsed_ticks / PLACE_TICKS + 1) * PLACE_TICKS;

        let in_call = tally.talking + tally.reserved;
        let (agents, bridged) = if self.config.available_only_tally {
            (tally.ready, 0.0)
        } else {
            (tally.ready + in_call, tally.talking)
        };
        let goal = (self.level * agents).round();
        let in_progress = (tally.ringing + tally.waiting) as f64 + bridged;
        let make = goal - in_progress;
        let max_dials = f64::from(situation.max_dials);
        let dial = make.round().clamp(0.0, max_dials);
        let figures = PlacingFigures {
            agents,
            goal,
            bridged,
            in_progress,
            make,
            max_dials,
            dial,
        };
        let explain = self.explain_placing(&tally, figures);
        Decision {
            dial: dial as u32,
            level: self.level,
            explain,
        }
    }

    fn next_wakeup(&self, _now: Secs) -> Option<Secs> {
        self.start?;
        let sample = self.next_tick.div_ceil(SAMPLE_TICKS) * SAMPLE_TICKS;
        Some(self.tick_time(sample.min(self.next_place)))
    }
}

#[cfg(test)]
mod tests {
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::super::{AgentSnapshot, DialSnapshot, WindowCounts};
    use super::*;

    const T0: Secs = 1000.0;

    fn agents(ready: usize, talking: usize, reserved: usize, wrap_up: usize) -> Vec<AgentSnapshot> {
        let mut out = Vec::new();
        for (phase, n) in [
            (AgentPhase::Ready, ready),
            (AgentPhase::Talking, talking),
            (AgentPhase::Reserved, reserved),
            (AgentPhase::WrapUp, wrap_up),
        ] {
            out.extend((0..n).map(|_| AgentSnapshot {
                phase,
                since: 0.0,
                weight: 1.0,
                covers: true,
            }));
        }
        out
    }

    fn dials(ringing: usize, waiting: usize) -> Vec<DialSnapshot> {
        let ring = DialSnapshot {
            dialed_at: 0.0,
            phase: DialPhase::Ringing,
        };
        let wait = DialSnapshot {
            dialed_at: 0.0,
            phase: DialPhase::Waiting { answered_at: 0.0 },
        };
        let mut out = vec![ring; ringing];
        out.extend(std::iter::repeat_n(wait, waiting));
        out
    }

    /// One campaign state: agents, dials and the window's ceiling.
    struct World {
        agents: Vec<AgentSnapshot>,
        dials: Vec<DialSnapshot>,
        ceiling: f64,
        max_dials: u32,
    }

    impl World {
        fn new(agents: Vec<AgentSnapshot>, dials: Vec<DialSnapshot>) -> Self {
            Self {
                agents,
                dials,
                ceiling: 0.03,
                max_dials: 1000,
            }
        }

        fn at(&self, now: Secs) -> Situation<'_> {
            let window = WindowCounts {
                person_answers: 0.0,
                abandons: 0.0,
                ceiling: self.ceiling,
                length_s: 86_400.0,
                elapsed_s: 0.0,
            };
            Situation {
                now,
                agents: &self.agents,
                logged_in: self.agents.len() as f64,
                dials: &self.dials,
                window,
                grace_s: 2.0,
                max_dials: self.max_dials,
            }
        }
    }

    /// Decides at `from` and at every wakeup up to `until`, in an unchanging world.
    fn drive(v: &mut VicidialAdaptive, world: &World, from: Secs, until: Secs) -> Vec<(Secs, Decision)> {
        let mut out = Vec::new();
        let mut now = from;
        loop {
            out.push((now, v.decide(&world.at(now))));
            match v.next_wakeup(now) {
                Some(next) if next <= until + EPS => {
                    assert!(next > now, "wakeup {next} is not after {now}");
                    now = next;
                }
                _ => return out,
            }
        }
    }

    fn figure(decision: &Decision, name: &str) -> f64 {
        decision.explain.value(name).expect(name)
    }

    fn config(start_level: f64) -> VicidialConfig {
        VicidialConfig {
            start_level,
            ..VicidialConfig::default()
        }
    }

    #[test]
    fn defaults_are_vicidials() {
        let c = VicidialConfig::default();
        assert_eq!(
            (c.dl_diff_target, c.intensity, c.max_level, c.start_level),
            (0.0, 0.0, 3.0, 1.0)
        );
        assert_eq!(
            (c.method, c.drop_percentage, c.available_only_tally),
            (AdaptMethod::HardLimit, None, false)
        );
        let err = VicidialAdaptive::try_new(VicidialConfig { start_level: 4.0, ..c }).unwrap_err();
        assert_eq!(
            err.to_string(),
            "vicidial-adaptive: start_level is 4, it must be between 1 and max_level"
        );
    }

    #[test]
    fn level_rises_while_agents_sit_ready() {
        let mut v = VicidialAdaptive::new(VicidialConfig::default());
        let world = World::new(agents(10, 0, 0, 0), vec![]);
        let run = drive(&mut v, &world, T0, T0 + 30.0);
        // Placed at the start with the start level.
        assert_eq!((run[0].1.dial, run[0].1.level), (10, 1.0));
        // 15 s: ready 10 of 10, nothing waiting: mul 1, level doubles; the placing at the same
        // instant uses it.
        let (at, d) = run.iter().find(|(t, _)| *t == T0 + 15.0).unwrap();
        assert_eq!(*at, T0 + 15.0);
        assert_eq!(d.level, 2.0);
        assert_eq!(
            (
                figure(d, "avg_ready"),
                figure(d, "avg_total"),
                figure(d, "differential")
            ),
            (10.0, 10.0, 10.0)
        );
        assert_eq!(
            (figure(d, "adjustment"), figure(d, "goal"), figure(d, "make")),
            (1.0, 20.0, 20.0)
        );
        assert_eq!(d.dial, 20);
        // 30 s: it would double again; max_level holds it at 3.
        assert_eq!(v.level(), 3.0);
    }

    #[test]
    fn level_falls_while_answered_calls_wait() {
        let mut v = VicidialAdaptive::new(config(3.0));
        let world = World::new(agents(0, 10, 0, 0), dials(0, 5));
        drive(&mut v, &world, T0, T0 + 15.0);
        // Differential -5 over 10 logged in: the level loses half.
        assert_eq!(v.level(), 1.5);
        drive(&mut v, &world, T0 + 15.5, T0 + 30.0);
        assert_eq!(v.level(), 1.0, "never below 1");
    }

    #[test]
    fn intensity_and_differential_target_shape_the_step() {
        // Intensity 20: a rise is 1.2 times as steep, a fall 0.8 times.
        let mut v = VicidialAdaptive::new(VicidialConfig {
            intensity: 20.0,
            ..config(1.0)
        });
        drive(&mut v, &World::new(agents(2, 8, 0, 0), vec![]), T0, T0 + 15.0);
        assert!((v.level() - 1.24).abs() < 1e-12, "{}", v.level());
        let mut v = VicidialAdaptive::new(VicidialConfig {
            intensity: 20.0,
            ..config(2.0)
        });
        drive(&mut v, &World::new(agents(0, 10, 0, 0), dials(0, 2)), T0, T0 + 15.0);
        assert!((v.level() - 2.0 * (1.0 - 0.2 * 0.8)).abs() < 1e-12, "{}", v.level());
        // A target of -1 with one agent ready: balanced, the level stays.
        let mut v = VicidialAdaptive::new(VicidialConfig {
            dl_diff_target: -1.0,
            ..config(2.0)
        });
        drive(&mut v, &World::new(agents(1, 9, 0, 0), vec![]), T0, T0 + 15.0);
        assert_eq!(v.level(), 2.0);
    }

    #[test]
    fn averages_span_fifteen_samples_and_catch_up_sees_the_past() {
        let before = World::new(agents(10, 0, 0, 0), vec![]);
        let after = World::new(agents(0, 10, 0, 0), vec![]);
        // Woken at every sample: ready for 10 s, then all talking.
        let mut woken = VicidialAdaptive::new(config(1.0));
        drive(&mut woken, &before, T0, T0 + 9.0);
        drive(&mut woken, &after, T0 + 10.0, T0 + 15.0);
        // Samples at 1..=15 s are kept: 9 with 10 ready, 6 with none: average 6, level 1.6.
        assert!((woken.level() - 1.6).abs() < 1e-12, "{}", woken.level());
        // Told only of the change and woken at 15 s: samples before 10 s saw the old situation.
        let mut lazy = VicidialAdaptive::new(config(1.0));
        lazy.decide(&before.at(T0));
        lazy.decide(&after.at(T0 + 10.0));
        let d = lazy.decide(&after.at(T0 + 15.0));
        assert!((lazy.level() - 1.6).abs() < 1e-12, "{}", lazy.level());
        assert_eq!(figure(&d, "avg_ready"), 6.0);
    }

    /// Feeds `dials` dials, `persons` person answers and `drops` drops during the first minute.
    fn feed(v: &mut VicidialAdaptive, dials: usize, persons: usize, drops: usize) {
        for i in 0..dials {
            let at = T0 + 1.0 + i as f64 * 50.0 / dials as f64;
            v.observe(&Observation::Dialed { at });
            if i < persons {
                v.observe(&Observation::Resolved {
                    dialed_at: at,
                    at: at + 5.0,
                    person: true,
                });
            } else {
                v.observe(&Observation::Resolved {
                    dialed_at: at,
                    at: at + 5.0,
                    person: false,
                });
            }
            if i < drops {
                v.observe(&Observation::Abandoned {
                    answered_at: at + 5.0,
                    at: at + 7.0,
                });
            }
        }
    }

    /// A balanced world (differential 0): only the drop rules move the level.
    fn balanced() -> World {
        World::new(agents(0, 10, 0, 0), vec![])
    }

    #[test]
    fn half_the_last_minute_dropped_halves_the_level() {
        let world = balanced();
        let mut v = VicidialAdaptive::new(config(3.0));
        v.decide(&world.at(T0));
        feed(&mut v, 30, 25, 20);
        let run = drive(&mut v, &world, T0 + 0.5, T0 + 60.0);
        let (_, d) = run.last().unwrap();
        assert_eq!(d.level, 1.5);
        assert_eq!((figure(d, "dials_minute"), figure(d, "drops_minute")), (30.0, 20.0));
        assert!(d.explain.note.contains("last minute"), "{}", d.explain.note);
        // The minute's figures hold until the next refresh: halved again at 75 s, floored at 1.
        drive(&mut v, &world, T0 + 60.5, T0 + 75.0);
        assert_eq!(v.level(), 1.0);
        // 20 dials are not enough for the rule.
        let mut v = VicidialAdaptive::new(config(3.0));
        v.decide(&world.at(T0));
        feed(&mut v, 20, 20, 15);
        drive(&mut v, &world, T0 + 0.5, T0 + 60.0);
        assert_eq!(v.level(), 3.0);
    }

    /// The level after a first minute of 100 dials, 100 person answers and `drops` drops.
    fn after_drops(config: VicidialConfig, drops: usize, ceiling: f64) -> (f64, &'static str) {
        let mut world = balanced();
        world.ceiling = ceiling;
        let mut v = VicidialAdaptive::new(config);
        v.decide(&world.at(T0));
        feed(&mut v, 100, 100, drops);
        let run = drive(&mut v, &world, T0 + 0.5, T0 + 60.0);
        (v.level(), run.last().unwrap().1.explain.note)
    }

    #[test]
    fn daily_drop_rate_rule_follows_the_method() {
        let base = config(2.4);
        let tapered = |left: Option<f64>| VicidialConfig {
            method: AdaptMethod::Tapered,
            shift_latest: left.map(|s| T0 + 60.0 + s),
            ..base
        };
        // 5 drops per 100 person answers is over 3%.
        let (level, note) = after_drops(base, 5, 0.03);
        assert_eq!(level, 1.0);
        assert!(note.contains("HARD_LIMIT"), "{note}");
        let average = VicidialConfig {
            method: AdaptMethod::Average,
            ..base
        };
        assert!((after_drops(average, 5, 0.03).0 - 1.2).abs() < 1e-12);
        // TAPERED: by the time left as HHMM / 1000, 1 after the latest time, AVERAGE without one.
        let eight_45 = (8.0 * 60.0 + 45.0) * 60.0;
        assert!((after_drops(tapered(Some(eight_45)), 5, 0.03).0 - 2.4 * 0.845).abs() < 1e-12);
        assert_eq!(
            after_drops(tapered(Some(2.5 * 3600.0)), 5, 0.03).0,
            1.0,
            "0.23 x 2.4 is below 1"
        );
        assert_eq!(
            after_drops(tapered(Some(12.0 * 3600.0)), 5, 0.03).0,
            2.4,
            "over 10 hours left: no cut"
        );
        assert_eq!(
            after_drops(tapered(Some(-60.0)), 5, 0.03).0,
            1.0,
            "after the latest time"
        );
        assert!((after_drops(tapered(None), 5, 0.03).0 - 1.2).abs() < 1e-12);
        // Under the limit nothing happens; the limit is the campaign's ceiling unless set.
        assert_eq!(after_drops(base, 2, 0.03).0, 2.4);
        assert_eq!(after_drops(base, 5, 0.06).0, 2.4);
        let own_limit = VicidialConfig {
            drop_percentage: Some(0.04),
            ..base
        };
        assert_eq!(after_drops(own_limit, 5, 0.06).0, 1.0);
        // The rule needs over 50 dials.
        let mut v = VicidialAdaptive::new(base);
        v.decide(&balanced().at(T0));
        feed(&mut v, 50, 50, 5);
        drive(&mut v, &balanced(), T0 + 0.5, T0 + 60.0);
        assert_eq!(v.level(), 2.4);
    }

    #[test]
    fn drops_after_the_refresh_wait_for_the_next_one() {
        let world = balanced();
        let mut v = VicidialAdaptive::new(config(2.4));
        drive(&mut v, &world, T0, T0 + 59.0);
        feed(&mut v, 100, 100, 0);
        // Dropped at 60.5 s, after the refresh at 60 s: the update at 60 s must not see them.
        for _ in 0..10 {
            v.observe(&Observation::Abandoned {
                answered_at: T0 + 58.5,
                at: T0 + 60.5,
            });
        }
        drive(&mut v, &world, T0 + 60.0, T0 + 60.0);
        assert_eq!(v.level(), 2.4);
        drive(&mut v, &world, T0 + 60.5, T0 + 120.0);
        assert_eq!(v.level(), 1.0);
    }

    #[test]
    fn places_only_every_two_and_a_half_seconds() {
        let mut v = VicidialAdaptive::new(VicidialConfig::default());
        let world = World::new(agents(10, 0, 0, 0), vec![]);
        let mut placed = Vec::new();
        for k in 0..=600 {
            let now = T0 + k as f64 * 0.1;
            // Twice at each instant: the second one must not place again.
            for _ in 0..2 {
                if v.decide(&world.at(now)).dial > 0 {
                    placed.push(k);
                }
            }
        }
        let expected: Vec<i32> = (0..=600).step_by(25).collect();
        assert_eq!(placed, expected);
        // Wakeups: each second's sample and each placing.
        let mut v = VicidialAdaptive::new(VicidialConfig::default());
        assert_eq!(v.next_wakeup(T0), None, "no schedule before the first decision");
        let times: Vec<f64> = drive(&mut v, &world, T0, T0 + 8.0)
            .into_iter()
            .map(|(t, _)| t - T0)
            .collect();
        assert_eq!(times, [0.0, 1.0, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.0, 7.5, 8.0]);
        // Between placings: nothing, and why.
        let d = v.decide(&world.at(T0 + 8.2));
        assert_eq!(d.dial, 0);
        assert_eq!(figure(&d, "next_placing"), T0 + 10.0);
        // A late call places once, then waits for the next instant on the grid.
        assert!(v.decide(&world.at(T0 + 11.0)).dial > 0);
        assert_eq!(v.decide(&world.at(T0 + 12.0)).dial, 0);
        assert!(v.decide(&world.at(T0 + 12.5)).dial > 0);
    }

    #[test]
    fn placing_turns_the_level_into_dials() {
        let mut world = World::new(agents(4, 2, 1, 3), dials(3, 1));
        world.max_dials = 5;
        let mut v = VicidialAdaptive::new(config(2.0));
        let d = v.decide(&world.at(T0));
        // agents 4 ready + 3 in call = 7, goal 14; in progress 3 ringing + 1 waiting + 2 bridged.
        assert_eq!(
            (figure(&d, "agents"), figure(&d, "goal"), figure(&d, "in_progress")),
            (7.0, 14.0, 6.0)
        );
        assert_eq!((figure(&d, "make"), d.dial), (8.0, 5));
        // Available-only tally: 4 ready, goal 8, the 4 unresolved dials count.
        let mut v = VicidialAdaptive::new(VicidialConfig {
            available_only_tally: true,
            ..config(2.0)
        });
        world.max_dials = 100;
        let d = v.decide(&world.at(T0));
        assert_eq!(
            (figure(&d, "goal"), figure(&d, "in_progress"), d.dial as f64),
            (8.0, 4.0, 4.0)
        );
        // More in progress than the goal: nothing.
        let mut v = VicidialAdaptive::new(config(1.0));
        let d = v.decide(&World::new(agents(1, 2, 0, 0), dials(4, 0)).at(T0));
        assert_eq!((figure(&d, "make"), d.dial), (-3.0, 0));
    }

    #[test]
    fn level_stays_within_one_and_max_level() {
        let cfg = VicidialConfig {
            max_level: 2.5,
            intensity: 40.0,
            method: AdaptMethod::Average,
            drop_percentage: Some(0.2),
            ..config(1.0)
        };
        let mut v = VicidialAdaptive::new(cfg);
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut now = T0;
        let (mut low, mut high, mut halved) = (false, false, false);
        for _ in 0..20_000 {
            let world = World::new(
                agents(
                    rng.random_range(0..12),
                    rng.random_range(0..12),
                    rng.random_range(0..3),
                    rng.random_range(0..3),
                ),
                dials(rng.random_range(0..20), rng.random_range(0..8)),
            );
            let d = v.decide(&world.at(now));
            assert!((1.0..=2.5).contains(&d.level), "level {} at {now}", d.level);
            low |= d.level == 1.0;
            high |= d.level == 2.5;
            halved |= d.explain.note.contains("last minute");
            // Every tenth minute most answers are dropped, tripping the one-minute rule.
            let bad_minute = ((now - T0) / 60.0) as u64 % 10 == 9;
            for _ in 0..rng.random_range(0..4) {
                v.observe(&Observation::Dialed { at: now });
                v.observe(&Observation::Resolved {
                    dialed_at: now,
                    at: now,
                    person: true,
                });
                if bad_minute && rng.random_bool(0.8) {
                    v.observe(&Observation::Abandoned {
                        answered_at: now,
                        at: now,
                    });
                }
            }
            now += rng.random_range(0.0..2.0);
        }
        assert!(
            low && high && halved,
            "the run reaches both bounds and the one-minute rule"
        );
    }
}
