//! The abandon rate over a campaign's compliance window: person-answered calls and abandons,
//! counted per minute and summed over the last `window` (24 hours for Ofcom, 30 days for the
//! FTC). Persons the answering-machine detector took for machines are hung up on, which is an
//! abandon, but the runtime cannot see them; they are added as an estimate from the
//! detector's known false-positive rate (the "reasoned estimate" Ofcom asks for).

use std::collections::VecDeque;

use chrono::{DateTime, Duration, Utc};

use crate::pacer::WindowCounts;

/// Sliding per-minute counts of one campaign's person answers and abandons.
#[derive(Debug, Clone)]
pub struct AbandonWindow {
    length: Duration,
    ceiling: f64,
    /// The share of persons the detector takes for machines.
    false_positive: f64,
    /// (minute since the epoch, person answers, abandons, machine verdicts)
    minutes: VecDeque<(i64, f64, f64, f64)>,
    first: Option<DateTime<Utc>>,
}

impl AbandonWindow {
    /// An empty window of `length` with this ceiling; `false_positive` is the detector's
    /// estimated rate of persons taken for machines (0 without detection).
    pub fn new(length: Duration, ceiling: f64, false_positive: f64) -> Self {
        Self {
            length,
            ceiling,
            false_positive,
            minutes: VecDeque::new(),
            first: None,
        }
    }

    /// Takes new settings while keeping its counts, when it can: a longer window needs
    /// history it never held, so it answers false then and changes nothing.
    pub fn retune(&mut self, length: Duration, ceiling: f64, false_positive: f64) -> bool {
        if length > self.length {
            return false;
        }
        (self.length, self.ceiling, self.false_positive) = (length, ceiling, false_positive);
        true
    }

    fn bucket(&mut self, at: DateTime<Utc>) -> &mut (i64, f64, f64, f64) {
        let minute = at.timestamp().div_euclid(60);
        self.first = Some(self.first.map_or(at, |f| f.min(at)));
        match self.minutes.back() {
            Some(last) if last.0 == minute => {}
            Some(last) if last.0 > minute => {
                // Late news of an earlier minute (loading history): find or insert its bucket.
                let index = self.minutes.partition_point(|b| b.0 < minute);
                if self.minutes.get(index).is_none_or(|b| b.0 != minute) {
                    self.minutes.insert(index, (minute, 0.0, 0.0, 0.0));
                }
                return &mut self.minutes[index];
            }
            _ => self.minutes.push_back((minute, 0.0, 0.0, 0.0)),
        }
        self.minutes.back_mut().expect("pushed above")
    }

    /// A person (or an undetected machine) answered.
    pub fn person_answered(&mut self, at: DateTime<Utc>) {
        self.bucket(at).1 += 1.0;
    }

    /// A person was abandoned.
    pub fn abandoned(&mut self, at: DateTime<Utc>) {
        self.bucket(at).2 += 1.0;
    }

    /// The detector said "machine" (some of these were persons).
    pub fn machine_detected(&mut self, at: DateTime<Utc>) {
        self.bucket(at).3 += 1.0;
    }

    fn prune(&mut self, now: DateTime<Utc>) {
        let oldest = (now - self.length).timestamp().div_euclid(60);
        while self.minutes.front().is_some_and(|b| b.0 < oldest) {
            self.minutes.pop_front();
        }
    }

    /// The counts over the window ending `now`, as the pacer takes them.
    pub fn counts(&mut self, now: DateTime<Utc>) -> WindowCounts {
        self.prune(now);
        let (mut answers, mut abandons, mut machines) = (0.0, 0.0, 0.0);
        for (_, a, b, m) in &self.minutes {
            answers += a;
            abandons += b;
            machines += m;
        }
        // Persons taken for machines: if a share f of persons is misread, the persons seen
        // are (1 - f) of all persons, so f / (1 - f) of them again were hung up on.
        let hidden = if self.false_positive > 0.0 {
            (answers * self.false_positive / (1.0 - self.false_positive)).min(machines)
        } else {
            0.0
        };
        let elapsed = self
            .first
            .map_or(0.0, |f| (now - f).num_milliseconds() as f64 / 1000.0)
            .clamp(0.0, self.length.num_seconds() as f64);
        WindowCounts {
            person_answers: answers + hidden,
            abandons: abandons + hidden,
            ceiling: self.ceiling,
            length_s: self.length.num_seconds() as f64,
            elapsed_s: elapsed,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(minutes: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap() + Duration::minutes(minutes)
    }

    #[test]
    fn counts_slide_with_the_window() {
        let mut w = AbandonWindow::new(Duration::hours(1), 0.03, 0.0);
        for m in 0..90 {
            w.person_answered(at(m));
        }
        w.abandoned(at(10));
        w.abandoned(at(80));
        let c = w.counts(at(89));
        assert_eq!((c.person_answers, c.abandons), (61.0, 1.0));
        assert_eq!(c.length_s, 3600.0);
        assert_eq!(c.elapsed_s, 3600.0);
        assert!((c.rate() - 1.0 / 61.0).abs() < 1e-12);
        // Early in a campaign the window has not filled yet.
        let mut fresh = AbandonWindow::new(Duration::hours(24), 0.03, 0.0);
        fresh.person_answered(at(0));
        assert_eq!(fresh.counts(at(30)).elapsed_s, 1800.0);
    }

    #[test]
    fn hidden_amd_false_positives_are_estimated() {
        let mut w = AbandonWindow::new(Duration::hours(24), 0.03, 0.02);
        for _ in 0..980 {
            w.person_answered(at(1));
        }
        for _ in 0..300 {
            w.machine_detected(at(1));
        }
        let c = w.counts(at(2));
        // 980 seen = 98% of 1000 persons: 20 were hung up on as machines.
        assert!((c.person_answers - 1000.0).abs() < 1e-9);
        assert!((c.abandons - 20.0).abs() < 1e-9);
    }

    #[test]
    fn a_retuned_window_keeps_its_counts_unless_it_grows() {
        let mut w = AbandonWindow::new(Duration::hours(2), 0.03, 0.0);
        for m in 0..120 {
            w.person_answered(at(m));
        }
        w.abandoned(at(10));
        assert!(w.retune(Duration::hours(2), 0.01, 0.0));
        let c = w.counts(at(119));
        assert_eq!((c.person_answers, c.abandons, c.ceiling), (120.0, 1.0, 0.01));
        // Shorter: the older minutes leave it.
        assert!(w.retune(Duration::hours(1), 0.01, 0.0));
        let c = w.counts(at(119));
        assert_eq!((c.person_answers, c.abandons, c.length_s), (61.0, 0.0, 3600.0));
        // Longer: it cannot know the minutes it dropped.
        assert!(!w.retune(Duration::hours(3), 0.02, 0.0));
        assert_eq!(w.counts(at(119)).ceiling, 0.01);
    }

    #[test]
    fn history_loads_in_any_order() {
        let mut w = AbandonWindow::new(Duration::hours(24), 0.03, 0.0);
        w.person_answered(at(30));
        w.person_answered(at(5));
        w.abandoned(at(5));
        let c = w.counts(at(40));
        assert_eq!((c.person_answers, c.abandons), (2.0, 1.0));
        assert_eq!(c.elapsed_s, 35.0 * 60.0);
    }
}
