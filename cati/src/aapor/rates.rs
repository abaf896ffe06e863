//! AAPOR outcome rates from disposition counts: response (RR1-RR6), cooperation
//! (COOP1-COOP4), refusal (REF1-REF3) and contact (CON1-CON3), with the share `e` of cases of
//! unknown eligibility taken as eligible.
//!
//! The formulas are AAPOR Standard Definitions'. A rate whose denominator is zero (no case
//! counts towards it) is `None`, not a number.

use serde::{Deserialize, Serialize};

use super::Group;

/// Case counts per AAPOR group; the keys of a counts file are the group names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(non_snake_case)]
pub struct Counts {
    /// Complete interviews.
    #[serde(default)]
    pub I: f64,
    /// Partial interviews.
    #[serde(default)]
    pub P: f64,
    /// Refusals and break-offs.
    #[serde(default)]
    pub R: f64,
    /// Non-contacts.
    #[serde(default)]
    pub NC: f64,
    /// Other eligible non-interviews.
    #[serde(default)]
    pub O: f64,
    /// Unknown if household.
    #[serde(default)]
    pub UH: f64,
    /// Unknown eligibility, other.
    #[serde(default)]
    pub UO: f64,
    /// Not eligible.
    #[serde(default)]
    pub NE: f64,
}

impl Counts {
    /// The count of one group.
    pub fn get(&self, group: Group) -> f64 {
        match group {
            Group::I => self.I,
            Group::P => self.P,
            Group::R => self.R,
            Group::NC => self.NC,
            Group::O => self.O,
            Group::UH => self.UH,
            Group::UO => self.UO,
            Group::NE => self.NE,
        }
    }

    /// Adds `n` cases to a group.
    pub fn add(&mut self, group: Group, n: f64) {
        let slot = match group {
            Group::I => &mut self.I,
            Group::P => &mut self.P,
            Group::R => &mut self.R,
            Group::NC => &mut self.NC,
            Group::O => &mut self.O,
            Group::UH => &mut self.UH,
            Group::UO => &mut self.UO,
            Group::NE => &mut self.NE,
        };
        *slot += n;
    }

    /// The first group whose count is negative or not a number, with it.
    fn invalid(&self) -> Option<(Group, f64)> {
        Group::ALL
            .iter()
            .map(|&g| (g, self.get(g)))
            .find(|(_, n)| !n.is_finite() || *n < 0.0)
    }
}

/// How `e`, the share of unknown-eligibility cases (UH, UO) taken as eligible, is set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Eligibility {
    /// The proportional allocation: the eligible share among cases whose eligibility is known,
    /// e = (I+P+R+NC+O) / (I+P+R+NC+O+NE).
    Proportional,
    /// A value set by the analyst, in [0, 1].
    Fixed(f64),
}

/// Counts or an `e` the rates cannot be computed from.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RatesError {
    /// A count is negative or not a number.
    #[error("the count of {group} is {value}: counts are numbers of cases, 0 or more")]
    Count {
        /// The group's name (`I`, `NC`, ...).
        group: &'static str,
        /// Its count.
        value: f64,
    },
    /// A set `e` outside [0, 1].
    #[error("e is {0}: it is a share of cases, from 0 to 1")]
    E(f64),
    /// Proportional `e` with no case of known eligibility.
    #[error(
        "e cannot be estimated: no case has a known eligibility (I, P, R, NC, O and NE are all 0); set it with --e"
    )]
    NoKnownEligibility,
}

/// The AAPOR outcome rates of one set of counts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rates {
    /// The share of unknown-eligibility cases taken as eligible.
    pub e: f64,
    /// RR1: completes over every case that may be eligible, I / (I+P+R+NC+O+UH+UO).
    pub rr1: Option<f64>,
    /// RR2: RR1 with partials counted as interviews.
    pub rr2: Option<f64>,
    /// RR3: completes over the known eligible and a share e of the unknown.
    pub rr3: Option<f64>,
    /// RR4: RR3 with partials counted as interviews.
    pub rr4: Option<f64>,
    /// RR5: completes over the known eligible, I / (I+P+R+NC+O).
    pub rr5: Option<f64>,
    /// RR6: RR5 with partials counted as interviews.
    pub rr6: Option<f64>,
    /// COOP1: completes over contacted eligible cases, I / (I+P+R+O).
    pub coop1: Option<f64>,
    /// COOP2: COOP1 with partials counted as interviews.
    pub coop2: Option<f64>,
    /// COOP3: completes over cases able to cooperate, I / (I+P+R).
    pub coop3: Option<f64>,
    /// COOP4: COOP3 with partials counted as interviews.
    pub coop4: Option<f64>,
    /// REF1: refusals over every case that may be eligible.
    pub ref1: Option<f64>,
    /// REF2: refusals over the known eligible and a share e of the unknown.
    pub ref2: Option<f64>,
    /// REF3: refusals over the known eligible.
    pub ref3: Option<f64>,
    /// CON1: contacted cases (I+P+R+O) over every case that may be eligible.
    pub con1: Option<f64>,
    /// CON2: contacted cases over the known eligible and a share e of the unknown.
    pub con2: Option<f64>,
    /// CON3: contacted cases over the known eligible.
    pub con3: Option<f64>,
}

fn ratio(numerator: f64, denominator: f64) -> Option<f64> {
    (denominator > 0.0).then(|| numerator / denominator)
}

impl Rates {
    /// The rates of `counts`, with `e` set by `eligibility`.
    pub fn compute(counts: &Counts, eligibility: Eligibility) -> Result<Rates, RatesError> {
        if let Some((group, value)) = counts.invalid() {
            return Err(RatesError::Count {
                group: group.as_str(),
                value,
            });
        }
        let Counts {
            I,
            P,
            R,
            NC,
            O,
            UH,
            UO,
            NE,
        } = *counts;
        let known_eligible = I + P + R + NC + O;
        let e = match eligibility {
            Eligibility::Fixed(e) if (0.0..=1.0).contains(&e) => e,
            Eligibility::Fixed(e) => return Err(RatesError::E(e)),
            Eligibility::Proportional => {
                ratio(known_eligible, known_eligible + NE).ok_or(RatesError::NoKnownEligibility)?
            }
        };
        let interviews = I + P;
        let unknown = UH + UO;
        // The three denominators of the response, refusal and contact rates: every unknown
        // case counted as eligible, a share e of them, none.
        let all = known_eligible + unknown;
        let estimated = known_eligible + e * unknown;
        let known = known_eligible;
        let contacted = interviews + R + O;
        Ok(Rates {
            e,
            rr1: ratio(I, all),
            rr2: ratio(interviews, all),
            rr3: ratio(I, estimated),
            rr4: ratio(interviews, estimated),
            rr5: ratio(I, known),
            rr6: ratio(interviews, known),
            coop1: ratio(I, interviews + R + O),
            coop2: ratio(interviews, interviews + R + O),
            coop3: ratio(I, interviews + R),
            coop4: ratio(interviews, interviews + R),
            ref1: ratio(R, all),
            ref2: ratio(R, estimated),
            ref3: ratio(R, known),
            con1: ratio(contacted, all),
            con2: ratio(contacted, estimated),
            con3: ratio(contacted, known),
        })
    }

    /// The rates by their AAPOR names, in AAPOR's order (`e` first).
    pub fn named(&self) -> [(&'static str, Option<f64>); 17] {
        [
            ("e", Some(self.e)),
            ("RR1", self.rr1),
            ("RR2", self.rr2),
            ("RR3", self.rr3),
            ("RR4", self.rr4),
            ("RR5", self.rr5),
            ("RR6", self.rr6),
            ("COOP1", self.coop1),
            ("COOP2", self.coop2),
            ("COOP3", self.coop3),
            ("COOP4", self.coop4),
            ("REF1", self.ref1),
            ("REF2", self.ref2),
            ("REF3", self.ref3),
            ("CON1", self.con1),
            ("CON2", self.con2),
            ("CON3", self.con3),
        ]
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn vector() -> Counts {
        Counts {
            I: 4.0,
            P: 2.0,
            R: 1.0,
            NC: 1.0,
            O: 1.0,
            UH: 1.0,
            UO: 1.0,
            NE: 1.0,
        }
    }

    #[test]
    fn the_issues_test_vector() {
        let rates = Rates::compute(&vector(), Eligibility::Proportional).unwrap();
        let want = [
            ("e", 0.9),
            ("RR1", 0.364),
            ("RR2", 0.545),
            ("RR3", 0.370),
            ("RR4", 0.556),
            ("RR5", 0.444),
            ("RR6", 0.667),
            ("COOP1", 0.500),
            ("COOP2", 0.750),
            ("COOP3", 0.571),
            ("COOP4", 0.857),
            ("REF1", 0.091),
            ("REF2", 0.093),
            ("REF3", 0.111),
            ("CON1", 0.727),
            ("CON2", 0.741),
            ("CON3", 0.889),
        ];
        for ((name, got), (want_name, want)) in rates.named().iter().zip(want) {
            assert_eq!(*name, want_name);
            let got = got.unwrap();
            assert!((got - want).abs() < 0.0005, "{name}: {got} against {want}");
        }
    }

    #[test]
    fn a_set_e_replaces_the_estimate() {
        let rates = Rates::compute(&vector(), Eligibility::Fixed(0.5)).unwrap();
        assert_eq!(rates.e, 0.5);
        // RR3 = I / (I+P+R+NC+O + 0.5 (UH+UO)) = 4 / 10.
        assert!((rates.rr3.unwrap() - 0.4).abs() < 1e-12);
        // e = 1 counts every unknown case: RR3 = RR1; e = 0 none: RR3 = RR5.
        let one = Rates::compute(&vector(), Eligibility::Fixed(1.0)).unwrap();
        assert_eq!(one.rr3, one.rr1);
        let zero = Rates::compute(&vector(), Eligibility::Fixed(0.0)).unwrap();
        assert_eq!(zero.rr3, zero.rr5);
    }

    #[test]
    fn bad_counts_and_e_are_refused_by_name() {
        let mut bad = vector();
        bad.NC = -1.0;
        assert_eq!(
            Rates::compute(&bad, Eligibility::Proportional).unwrap_err().to_string(),
            "the count of NC is -1: counts are numbers of cases, 0 or more"
        );
        assert_eq!(
            Rates::compute(&vector(), Eligibility::Fixed(1.5)).unwrap_err(),
            RatesError::E(1.5)
        );
        let unknown_only = Counts {
            UH: 3.0,
            ..Counts::default()
        };
        assert_eq!(
            Rates::compute(&unknown_only, Eligibility::Proportional).unwrap_err(),
            RatesError::NoKnownEligibility
        );
    }

    #[test]
    fn a_rate_with_nothing_to_count_is_none() {
        let only_unknown = Counts {
            UH: 3.0,
            ..Counts::default()
        };
        let rates = Rates::compute(&only_unknown, Eligibility::Fixed(0.5)).unwrap();
        assert_eq!(rates.rr1, Some(0.0));
        assert_eq!(rates.rr5, None);
        assert_eq!(rates.coop1, None);
    }

    proptest! {
        /// AAPOR's rates keep their order whatever the counts: each response rate is at most
        /// the next one of its pair, RR1 <= RR3 <= RR5, and every rate is a share.
        #[test]
        fn rates_are_shares_in_aapors_order(
            counts in proptest::collection::vec(0u32..50, 8),
            e in 0.0f64..=1.0,
        ) {
            let mut c = Counts::default();
            for (group, n) in Group::ALL.iter().zip(&counts) {
                c.add(*group, f64::from(*n));
            }
            let rates = Rates::compute(&c, Eligibility::Fixed(e)).unwrap();
            let le = |a: Option<f64>, b: Option<f64>| match (a, b) {
                (Some(a), Some(b)) => a <= b + 1e-12,
                _ => true,
            };
            for (_, r) in rates.named() {
                if let Some(r) = r {
                    prop_assert!((0.0..=1.0 + 1e-12).contains(&r));
                }
            }
            prop_assert!(le(rates.rr1, rates.rr2) && le(rates.rr3, rates.rr4) && le(rates.rr5, rates.rr6));
            prop_assert!(le(rates.rr1, rates.rr3) && le(rates.rr3, rates.rr5));
            prop_assert!(le(rates.coop1, rates.coop3) && le(rates.coop2, rates.coop4));
            prop_assert!(le(rates.ref1, rates.ref2) && le(rates.ref2, rates.ref3));
            prop_assert!(le(rates.con1, rates.con2) && le(rates.con2, rates.con3));
        }
    }
}
