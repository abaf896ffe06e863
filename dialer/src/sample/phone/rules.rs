//! libphonenumber's validity rules (the per-region patterns of the `phonenumber` crate's
//! metadata), compiled once per thread.
//!
//! The crate matches these patterns through one regex cache shared by every thread behind a
//! mutex, hashing the pattern text on each use and evicting (then recompiling) when more than
//! 100 patterns are in play; on a sample import's worker threads that cost more than the
//! matching. Here each thread compiles the rules of the calling codes it meets, once, and
//! matches without locks. The verdicts follow libphonenumber: a number is valid when its
//! region's general pattern matches it entirely and one of the type patterns does.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use phonenumber::Type;
use phonenumber::metadata::{DATABASE, Descriptor, Metadata};
use regex::{Regex, RegexBuilder};

/// One descriptor: possible lengths and the pattern the whole national number must match.
struct Rule {
    lengths: Vec<u16>,
    regex: Regex,
}

impl Rule {
    fn new(descriptor: &Descriptor) -> Option<Rule> {
        let regex = compile(&format!("^(?:{})$", descriptor.national_number().as_str()))?;
        Some(Rule {
            lengths: descriptor.possible_length().to_vec(),
            regex,
        })
    }

    fn matches(&self, national: &str) -> bool {
        (self.lengths.is_empty() || self.lengths.contains(&(national.len() as u16))) && self.regex.is_match(national)
    }
}

fn compile(pattern: &str) -> Option<Regex> {
    // The metadata writes its patterns with whitespace for readability.
    RegexBuilder::new(pattern).ignore_whitespace(true).build().ok()
}

/// The rules of one region.
struct RegionRules {
    /// ISO 3166 code, or "001" for non-geographic numbers.
    id: String,
    leading_digits: Option<Regex>,
    general: Option<Rule>,
    /// Types in the order libphonenumber tries them, before fixed line and mobile.
    special: Vec<(Type, Rule)>,
    fixed_line: Option<Rule>,
    mobile: Option<Rule>,
    /// Whether fixed-line and mobile numbers share one pattern (the US and Canada).
    same_fixed_and_mobile: bool,
}

impl RegionRules {
    fn new(meta: &Metadata) -> RegionRules {
        let d = meta.descriptors();
        let special = [
            (Type::PremiumRate, d.premium_rate()),
            (Type::TollFree, d.toll_free()),
            (Type::SharedCost, d.shared_cost()),
            (Type::Voip, d.voip()),
            (Type::PersonalNumber, d.personal_number()),
            (Type::Pager, d.pager()),
            (Type::Uan, d.uan()),
            (Type::Voicemail, d.voicemail()),
        ]
        .into_iter()
        .filter_map(|(kind, descriptor)| Some((kind, Rule::new(descriptor?)?)))
        .collect();
        let pattern = |d: Option<&Descriptor>| d.map(|d| d.national_number().as_str().to_string());
        RegionRules {
            id: meta.id().to_string(),
            leading_digits: meta
                .leading_digits()
                .and_then(|r| compile(&format!("^(?:{})", r.as_str()))),
            general: Rule::new(d.general()),
            special,
            fixed_line: d.fixed_line().and_then(Rule::new),
            mobile: d.mobile().and_then(Rule::new),
            same_fixed_and_mobile: pattern(d.fixed_line()) == pattern(d.mobile()),
        }
    }

    fn number_type(&self, national: &str) -> Type {
        if !self.general.as_ref().is_some_and(|g| g.matches(national)) {
            return Type::Unknown;
        }
        if let Some((kind, _)) = self.special.iter().find(|(_, rule)| rule.matches(national)) {
            return *kind;
        }
        let mobile = || self.mobile.as_ref().is_some_and(|m| m.matches(national));
        if self.fixed_line.as_ref().is_some_and(|f| f.matches(national)) {
            return if self.same_fixed_and_mobile || mobile() {
                Type::FixedLineOrMobile
            } else {
                Type::FixedLine
            };
        }
        if mobile() { Type::Mobile } else { Type::Unknown }
    }
}

thread_local! {
    static BY_CODE: RefCell<HashMap<u16, Rc<Vec<RegionRules>>>> = RefCell::new(HashMap::new());
}

fn rules_for(code: u16) -> Option<Rc<Vec<RegionRules>>> {
    BY_CODE.with(|cache| {
        if let Some(rules) = cache.borrow().get(&code) {
            return Some(rules.clone());
        }
        let regions = DATABASE.region(&code)?;
        let metas: Vec<&Metadata> = if regions.len() == 1 && regions[0] == "001" {
            DATABASE.by_code(&code)?.into_iter().take(1).collect()
        } else {
            regions.iter().filter_map(|id| DATABASE.by_id(*id)).collect()
        };
        let rules = Rc::new(metas.into_iter().map(RegionRules::new).collect::<Vec<_>>());
        cache.borrow_mut().insert(code, rules.clone());
        Some(rules)
    })
}

/// The region (ISO code, or "001") and type of a national number under a calling code;
/// `Type::Unknown` when libphonenumber's rules deem it invalid.
pub(super) fn classify(code: u16, national: &str) -> (Option<String>, Type) {
    let Some(rules) = rules_for(code) else {
        return (None, Type::Unknown);
    };
    if let [only] = rules.as_slice() {
        return (Some(only.id.clone()), only.number_type(national));
    }
    // A code shared by several regions (+1, +7, +44...): the first region whose leading digits
    // match, or (for regions without them) whose patterns accept the number.
    for region in rules.iter() {
        match &region.leading_digits {
            Some(leading) if leading.is_match(national) => {
                return (Some(region.id.clone()), region.number_type(national));
            }
            Some(_) => {}
            None => {
                let kind = region.number_type(national);
                if kind != Type::Unknown {
                    return (Some(region.id.clone()), kind);
                }
            }
        }
    }
    (None, Type::Unknown)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The compiled rules agree with the crate's own validator, except where the crate accepts
    /// a number because a pattern matched only its beginning (libphonenumber requires the
    /// whole number to match).
    #[test]
    fn verdicts_agree_with_the_crate() {
        let (mut checked, mut stricter) = (0, 0);
        for (country, prefixes) in [
            (
                "US",
                &["212", "415", "713", "900", "800", "123", "555", "416", "787"][..],
            ),
            ("GB", &["20", "7400", "7700", "1481", "7624", "800", "9"][..]),
            ("CN", &["138", "10", "21", "400", "170"][..]),
            ("DE", &["30", "151", "89", "900"][..]),
        ] {
            for prefix in prefixes {
                for tail in 0..200u32 {
                    let text = format!("{prefix}{:07}", tail * 48_271 % 10_000_000);
                    let Ok(number) = phonenumber::parse(Some(country.parse().unwrap()), &text) else {
                        continue;
                    };
                    let national = number.national().to_string();
                    let (region, kind) = classify(number.code().value(), &national);
                    let crate_type = number.number_type(&DATABASE);
                    checked += 1;
                    if kind == Type::Unknown && crate_type != Type::Unknown {
                        let meta = number.metadata(&DATABASE).unwrap();
                        let whole = compile(&format!(
                            "^(?:{})$",
                            meta.descriptors().general().national_number().as_str()
                        ));
                        assert!(
                            !whole.unwrap().is_match(&national),
                            "{country} {text}: refused though it matches"
                        );
                        stricter += 1;
                        continue;
                    }
                    assert_eq!(kind, crate_type, "{country} {text}");
                    if kind != Type::Unknown {
                        let crate_region = number.metadata(&DATABASE).map(|m| m.id().to_string());
                        assert_eq!(region, crate_region, "{country} {text}");
                    }
                }
            }
        }
        assert!(checked > 4000, "{checked}");
        assert!(stricter * 50 < checked, "{stricter} of {checked} refused only here");
    }
}
