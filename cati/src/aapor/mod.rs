//! AAPOR final disposition codes for telephone surveys (AAPOR Standard Definitions, the
//! telephone table) and the groups the outcome rates count them in.
//!
//! A code is a number such as `1.1`, `2.111` or `3.13`: the digit before the point is the
//! class (1 interview, 2 eligible non-interview, 3 unknown eligibility, 4 not eligible) and
//! the first digit after it the group inside the class; further digits are sub-codes, counted
//! with their group. [`TELEPHONE`] (the dialer's, which seeds survey campaigns' disposition
//! sets with it) lists the standard codes with their names; [`group_of`] places any
//! well-formed code, standard or a campaign's own sub-code; [`exhausted`] is the code of a
//! record out of attempts.

pub mod rates;

use serde::{Deserialize, Serialize};

pub use rates::{Counts, Eligibility, Rates};

/// The groups the AAPOR outcome rates count cases in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Group {
    /// Complete interview (1.1).
    I,
    /// Partial interview (1.2).
    P,
    /// Refusal and break-off (2.1x).
    R,
    /// Non-contact (2.2x).
    NC,
    /// Other eligible non-interview (2.3x and 2.9x).
    O,
    /// Unknown if household or occupied housing unit (3.1x).
    UH,
    /// Unknown eligibility, other (3.2x and 3.9x).
    UO,
    /// Not eligible (4.x).
    NE,
}

impl Group {
    /// Every group, in the order AAPOR's formulas name them.
    pub const ALL: [Group; 8] = [
        Group::I,
        Group::P,
        Group::R,
        Group::NC,
        Group::O,
        Group::UH,
        Group::UO,
        Group::NE,
    ];

    /// The short name used in AAPOR's formulas and in counts files: `I`, `P`, `R`, `NC`, `O`,
    /// `UH`, `UO`, `NE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Group::I => "I",
            Group::P => "P",
            Group::R => "R",
            Group::NC => "NC",
            Group::O => "O",
            Group::UH => "UH",
            Group::UO => "UO",
            Group::NE => "NE",
        }
    }

    /// Whether cases in the group are known to be eligible (interviews and eligible
    /// non-interviews).
    pub fn eligible(self) -> Option<bool> {
        match self {
            Group::I | Group::P | Group::R | Group::NC | Group::O => Some(true),
            Group::UH | Group::UO => None,
            Group::NE => Some(false),
        }
    }

    /// Whether cases in the group reached a respondent or household member (AAPOR's contact).
    pub fn contact(self) -> bool {
        matches!(self, Group::I | Group::P | Group::R | Group::O)
    }
}

/// A string that is not an AAPOR disposition code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{code}' is not an AAPOR disposition code: {why}")]
pub struct CodeError {
    /// The string given.
    pub code: String,
    /// What is wrong with it.
    pub why: &'static str,
}

/// The group an AAPOR disposition code is counted in.
pub fn group_of(code: &str) -> Result<Group, CodeError> {
    let error = |why| CodeError {
        code: code.to_string(),
        why,
    };
    let (class, rest) = code
        .split_once('.')
        .ok_or_else(|| error("it needs a class, a point and a group, as in 2.11"))?;
    if rest.is_empty() || !rest.chars().all(|c| c.is_ascii_digit()) {
        return Err(error("after the point come digits only, as in 2.11"));
    }
    let group = rest.as_bytes()[0] - b'0';
    match (class, group) {
        ("1", 1) if rest == "1" => Ok(Group::I),
        ("1", 2) if rest == "2" => Ok(Group::P),
        ("1", _) => Err(error("interviews are 1.1 (complete) or 1.2 (partial)")),
        ("2", 1) => Ok(Group::R),
        ("2", 2) => Ok(Group::NC),
        ("2", 3 | 9) => Ok(Group::O),
        ("2", _) => Err(error("eligible non-interviews are 2.1x, 2.2x, 2.3x or 2.90")),
        ("3", 1) => Ok(Group::UH),
        ("3", 2 | 9) => Ok(Group::UO),
        ("3", _) => Err(error("unknown eligibility is 3.1x, 3.2x or 3.90")),
        ("4", _) => Ok(Group::NE),
        _ => Err(error("the class before the point is 1, 2, 3 or 4")),
    }
}

pub use paceline_dialer::attempt::max_attempts_aapor as exhausted;
pub use paceline_dialer::disposition::{AAPOR_TELEPHONE as TELEPHONE, AaporCode as StandardCode};

/// The standard disposition with this code, if it is one.
pub fn standard(code: &str) -> Option<&'static StandardCode> {
    TELEPHONE.iter().find(|s| s.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_standard_code_has_its_group() {
        let expect = |prefix: &str| match prefix {
            "1.1" => Group::I,
            "1.2" => Group::P,
            "2.1" => Group::R,
            "2.2" => Group::NC,
            "2.3" => Group::O,
            "3.1" => Group::UH,
            "3.2" | "3.9" => Group::UO,
            _ => Group::NE,
        };
        for s in TELEPHONE {
            assert_eq!(group_of(s.code), Ok(expect(&s.code[..3])), "{}", s.code);
        }
        assert_eq!(group_of(exhausted(true)), Ok(Group::O));
        assert_eq!(group_of(exhausted(false)), Ok(Group::UO));
    }

    #[test]
    fn groups_say_contact_and_eligibility() {
        let contact: Vec<&str> = Group::ALL.iter().filter(|g| g.contact()).map(|g| g.as_str()).collect();
        assert_eq!(contact, ["I", "P", "R", "O"]);
        assert_eq!(Group::NC.eligible(), Some(true));
        assert_eq!(Group::UH.eligible(), None);
        assert_eq!(Group::NE.eligible(), Some(false));
    }

    #[test]
    fn a_campaigns_own_sub_codes_count_with_their_group() {
        assert_eq!(group_of("2.113"), Ok(Group::R));
        assert_eq!(group_of("3.131"), Ok(Group::UH));
        assert_eq!(group_of("4.811"), Ok(Group::NE));
    }

    #[test]
    fn malformed_codes_say_why() {
        for (code, why) in [
            ("7", "it needs a class, a point and a group, as in 2.11"),
            ("2.", "after the point come digits only, as in 2.11"),
            ("2.1a", "after the point come digits only, as in 2.11"),
            ("1.3", "interviews are 1.1 (complete) or 1.2 (partial)"),
            ("1.11", "interviews are 1.1 (complete) or 1.2 (partial)"),
            ("2.5", "eligible non-interviews are 2.1x, 2.2x, 2.3x or 2.90"),
            ("3.4", "unknown eligibility is 3.1x, 3.2x or 3.90"),
            ("5.1", "the class before the point is 1, 2, 3 or 4"),
        ] {
            let e = group_of(code).unwrap_err();
            assert_eq!(e.why, why, "{code}");
            assert!(e.to_string().starts_with(&format!("'{code}' is not")));
        }
    }
}
