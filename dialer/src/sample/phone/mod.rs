//! Phone numbers: any way people write them, normalised to E.164 with the `phonenumber` crate
//! (libphonenumber's metadata), fully validated, with their country and type.

mod rules;

use std::fmt;

use phonenumber::country::Id;
use phonenumber::metadata::DATABASE;
use phonenumber::{PhoneNumber, Type};

/// A valid phone number in its canonical forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalized {
    /// E.164 text, e.g. `+442079460958`.
    pub e164: String,
    /// The same digits as an integer (E.164 has at most 15 digits): a cheap key for sets.
    pub digits: u64,
    /// The number's country (ISO 3166 alpha-2), when the metadata tells it.
    pub region: Option<String>,
    /// Mobile, fixed line...
    pub number_type: NumberType,
}

/// What kind of line a number is, as libphonenumber tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NumberType {
    /// A fixed line.
    FixedLine,
    /// A mobile phone.
    Mobile,
    /// Either (the US and Canada cannot tell them apart).
    FixedLineOrMobile,
    /// Free to the caller.
    TollFree,
    /// Shared-cost service.
    SharedCost,
    /// Voice over IP.
    Voip,
    /// A personal number routed elsewhere.
    PersonalNumber,
    /// A pager.
    Pager,
    /// A company's universal access number.
    Uan,
    /// A voicemail access number.
    Voicemail,
}

impl NumberType {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            NumberType::FixedLine => "fixed_line",
            NumberType::Mobile => "mobile",
            NumberType::FixedLineOrMobile => "fixed_line_or_mobile",
            NumberType::TollFree => "toll_free",
            NumberType::SharedCost => "shared_cost",
            NumberType::Voip => "voip",
            NumberType::PersonalNumber => "personal_number",
            NumberType::Pager => "pager",
            NumberType::Uan => "uan",
            NumberType::Voicemail => "voicemail",
        }
    }
}

/// Why a cell is not a dialable number. The texts are short: callers add row and column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    /// The campaign's default country is unknown.
    #[error("unknown default country '{0}'; use an ISO 3166 code like US, GB, CN, DE")]
    UnknownCountry(String),
    /// Letters or other characters no number has.
    #[error("not a phone number: it contains '{0}'")]
    NotANumber(char),
    /// Too few digits.
    #[error("too short to be a phone number")]
    TooShort,
    /// Too many digits.
    #[error("too long to be a phone number")]
    TooLong,
    /// An extension, which a dialer cannot dial.
    #[error("has an extension, which cannot be dialed; put the main number alone")]
    Extension,
    /// The country code does not exist.
    #[error("the country code does not exist")]
    BadCountryCode,
    /// The digits are not a number in use in their country.
    #[error("not a valid number for {0}")]
    Invalid(String),
    /// A premium-rate number.
    #[error("premium-rate numbers are not dialed")]
    PremiumRate,
}

/// Normalises numbers for one default country; cheap to share between threads.
#[derive(Debug, Clone)]
pub struct PhoneNormalizer {
    country: Id,
    country_code: String,
    /// The default country's calling code, e.g. 44.
    calling_code: u16,
}

/// Characters people put in numbers besides digits.
fn is_punctuation(c: char) -> bool {
    matches!(
        c,
        ' ' | '-' | '.' | '(' | ')' | '/' | '\u{a0}' | '\u{2010}'
            ..='\u{2015}' | '\u{3000}' | '\u{ff08}' | '\u{ff09}' | '\u{ff0d}'
    )
}

impl PhoneNormalizer {
    /// A normaliser reading national-format numbers as numbers of `default_country`.
    pub fn new(default_country: &str) -> Result<Self, PhoneError> {
        let code = default_country.trim().to_ascii_uppercase();
        let unknown = || PhoneError::UnknownCountry(default_country.to_string());
        let country: Id = code.parse().map_err(|_| unknown())?;
        let calling_code = DATABASE.by_id(code.as_str()).ok_or_else(unknown)?.country_code();
        Ok(Self {
            country,
            country_code: code,
            calling_code,
        })
    }

    /// The default country's ISO code.
    pub fn country(&self) -> &str {
        &self.country_code
    }

    /// Normalises one cell to E.164, or says why it is not a dialable number.
    pub fn normalize(&self, raw: &str) -> Result<Normalized, PhoneError> {
        let text = raw.trim();
        let text = text.strip_prefix("tel:").unwrap_or(text);
        // A cheap screen before the parser: most junk fails here without touching regexes.
        let mut digits = 0;
        for (i, c) in text.char_indices() {
            match c {
                '0'..='9' | '\u{ff10}'..='\u{ff19}' => digits += 1,
                '+' | '\u{ff0b}' if i == 0 => {}
                ';' | '#' | ',' => return Err(PhoneError::Extension),
                c if is_punctuation(c) => {}
                'x' | 'X' if text[i..].len() > 1 => return Err(PhoneError::Extension),
                'e' | 'E' if text[i..].to_ascii_lowercase().starts_with("ext") => return Err(PhoneError::Extension),
                c => return Err(PhoneError::NotANumber(c)),
            }
        }
        if digits < 6 {
            return Err(PhoneError::TooShort);
        }
        if digits > 17 {
            return Err(PhoneError::TooLong);
        }
        // Full-width digits (common in Chinese and Japanese input) are digits to people.
        let ascii: String;
        let text = if text.chars().any(|c| matches!(c, '\u{ff10}'..='\u{ff19}' | '\u{ff0b}')) {
            ascii = text
                .chars()
                .map(|c| match c {
                    '\u{ff10}'..='\u{ff19}' => char::from(b'0' + (c as u32 - 0xff10) as u8),
                    '\u{ff0b}' => '+',
                    c => c,
                })
                .collect();
            ascii.as_str()
        } else {
            text
        };
        let number = phonenumber::parse(Some(self.country), text).map_err(|e| match e {
            phonenumber::ParseError::InvalidCountryCode => PhoneError::BadCountryCode,
            phonenumber::ParseError::TooLong => PhoneError::TooLong,
            phonenumber::ParseError::NoNumber => PhoneError::NotANumber(text.chars().next().unwrap_or(' ')),
            _ => PhoneError::TooShort,
        })?;
        if number.extension().is_some() {
            return Err(PhoneError::Extension);
        }
        self.classify(&number)
    }

    fn classify(&self, number: &PhoneNumber) -> Result<Normalized, PhoneError> {
        let code = number.code().value();
        let national = number.national().to_string();
        let (region, kind) = rules::classify(code, &national);
        let region = region.filter(|id| id != "001");
        let number_type = match kind {
            Type::PremiumRate => return Err(PhoneError::PremiumRate),
            Type::FixedLine => NumberType::FixedLine,
            Type::Mobile => NumberType::Mobile,
            Type::FixedLineOrMobile => NumberType::FixedLineOrMobile,
            Type::TollFree => NumberType::TollFree,
            Type::SharedCost => NumberType::SharedCost,
            Type::Voip => NumberType::Voip,
            Type::PersonalNumber => NumberType::PersonalNumber,
            Type::Pager => NumberType::Pager,
            Type::Uan => NumberType::Uan,
            Type::Voicemail => NumberType::Voicemail,
            _ => {
                let region = region.or_else(|| (code == self.calling_code).then(|| self.country_code.clone()));
                return Err(PhoneError::Invalid(
                    region.unwrap_or_else(|| format!("country code +{code}")),
                ));
            }
        };
        let e164 = format!("+{code}{national}");
        let digits = e164[1..].parse().map_err(|_| PhoneError::TooLong)?;
        Ok(Normalized {
            e164,
            digits,
            region,
            number_type,
        })
    }
}

impl fmt::Display for Normalized {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.e164)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// An input and the (E.164, region) or error text it should give.
    type Case<'a> = (&'a str, Result<(&'a str, &'a str), &'a str>);

    fn check(country: &str, cases: &[Case<'_>]) {
        let normalizer = PhoneNormalizer::new(country).unwrap();
        for (raw, expect) in cases {
            let got = normalizer
                .normalize(raw)
                .map(|n| (n.e164, n.region.unwrap_or_default()))
                .map_err(|e| e.to_string());
            let expect = expect
                .map(|(e, r)| (e.to_string(), r.to_string()))
                .map_err(str::to_string);
            assert_eq!(got, expect, "{country}: {raw:?}");
        }
    }

    #[test]
    fn us_numbers_in_every_writing() {
        check(
            "US",
            &[
                ("(212) 555-0123", Ok(("+12125550123", "US"))),
                ("212-555-0123", Ok(("+12125550123", "US"))),
                ("1-212-555-0123", Ok(("+12125550123", "US"))),
                ("+1 212 555 0123", Ok(("+12125550123", "US"))),
                ("2125550123", Ok(("+12125550123", "US"))),
                (" tel:+1-212-555-0123 ", Ok(("+12125550123", "US"))),
                ("+1 416 555 0199", Ok(("+14165550199", "CA"))),
                ("(123) 555-0123", Err("not a valid number for US")),
                ("212-555-012", Err("not a valid number for US")),
                (
                    "212-555-0123 ext. 12",
                    Err("has an extension, which cannot be dialed; put the main number alone"),
                ),
                (
                    "212-555-0123 x12",
                    Err("has an extension, which cannot be dialed; put the main number alone"),
                ),
                ("1-900-555-0123", Err("premium-rate numbers are not dialed")),
                ("n/a", Err("not a phone number: it contains 'n'")),
                ("555-CALL", Err("not a phone number: it contains 'C'")),
                ("12345", Err("too short to be a phone number")),
                ("", Err("too short to be a phone number")),
            ],
        );
    }

    #[test]
    fn other_countries_and_international_forms() {
        check(
            "GB",
            &[
                ("020 7946 0958", Ok(("+442079460958", "GB"))),
                ("07400 123456", Ok(("+447400123456", "GB"))),
                ("0044 20 7946 0958", Ok(("+442079460958", "GB"))),
                ("+33 1 42 68 53 00", Ok(("+33142685300", "FR"))),
                ("+49 30 901820", Ok(("+4930901820", "DE"))),
                ("+999 1234 5678", Err("the country code does not exist")),
            ],
        );
        check(
            "CN",
            &[
                ("138 0013 8000", Ok(("+8613800138000", "CN"))),
                ("13800138000", Ok(("+8613800138000", "CN"))),
                ("010-6552 9988", Ok(("+861065529988", "CN"))),
                ("+86 138 0013 8000", Ok(("+8613800138000", "CN"))),
                (
                    "\u{ff11}\u{ff13}\u{ff18}\u{ff10}\u{ff10}\u{ff11}\u{ff13}\u{ff18}\u{ff10}\u{ff10}\u{ff10}",
                    Ok(("+8613800138000", "CN")),
                ),
                ("1380013800", Err("not a valid number for CN")),
            ],
        );
    }

    #[test]
    fn unknown_default_countries_are_refused() {
        assert_eq!(
            PhoneNormalizer::new("XX").unwrap_err().to_string(),
            "unknown default country 'XX'; use an ISO 3166 code like US, GB, CN, DE"
        );
        assert_eq!(PhoneNormalizer::new("gb").unwrap().country(), "GB");
    }

    #[test]
    fn types_and_digits() {
        let n = PhoneNormalizer::new("GB").unwrap().normalize("07400 123456").unwrap();
        assert_eq!((n.number_type, n.digits), (NumberType::Mobile, 447400123456));
    }

    proptest! {
        #[test]
        fn never_panics_and_is_idempotent(raw in "\\PC{0,24}") {
            let normalizer = PhoneNormalizer::new("US").unwrap();
            if let Ok(n) = normalizer.normalize(&raw) {
                prop_assert_eq!(normalizer.normalize(&n.e164).unwrap().e164, n.e164);
            }
        }

        #[test]
        fn digit_strings_round_trip(raw in "\\+?[0-9 ()-]{6,20}") {
            let normalizer = PhoneNormalizer::new("GB").unwrap();
            if let Ok(n) = normalizer.normalize(&raw) {
                let again = normalizer.normalize(&n.e164).unwrap();
                prop_assert_eq!(again.e164, n.e164.clone());
                prop_assert_eq!(n.e164[1..].parse::<u64>().unwrap(), n.digits);
            }
        }
    }
}
