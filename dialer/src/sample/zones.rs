//! A record's time zone: read from a cell, taken from a region, or inferred from the number's
//! country with the IANA tz database's country table (`data/zone.tab`, public domain).

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::LazyLock;

use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;

/// The tz database's table of zones by country, as shipped by IANA.
const ZONE_TAB: &str = include_str!("../../data/zone.tab");

static ZONES_BY_COUNTRY: LazyLock<HashMap<String, Vec<Tz>>> = LazyLock::new(|| {
    let mut map: HashMap<String, Vec<Tz>> = HashMap::new();
    for line in ZONE_TAB.lines().filter(|l| !l.starts_with('#')) {
        let mut columns = line.split('\t');
        let (Some(country), Some(_), Some(zone)) = (columns.next(), columns.next(), columns.next()) else {
            continue;
        };
        if let Ok(tz) = zone.parse::<Tz>() {
            map.entry(country.to_string()).or_default().push(tz);
        }
    }
    // China has one official time, Beijing time, for the whole country; zone.tab also lists
    // Xinjiang's unofficial time, which would needlessly narrow calling hours for every number.
    map.insert("CN".into(), vec![chrono_tz::Asia::Shanghai]);
    map
});

/// The zones of a country (ISO 3166 alpha-2), or `None` for an unknown code.
pub fn zones_for_country(code: &str) -> Option<&'static [Tz]> {
    ZONES_BY_COUNTRY.get(code).map(Vec::as_slice)
}

/// A record's time zone: one when known, several candidates when only the country is known.
/// A call is allowed only when it is inside calling hours in every candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordZones(pub Vec<Tz>);

/// Where a record's time zone came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZoneSource {
    /// A time-zone column of the file.
    Column,
    /// A region column mapped to a zone in the field configuration.
    Region,
    /// The number's country.
    Number,
    /// The campaign's default time zone.
    CampaignDefault,
}

impl ZoneSource {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ZoneSource::Column => "column",
            ZoneSource::Region => "region",
            ZoneSource::Number => "number",
            ZoneSource::CampaignDefault => "campaign_default",
        }
    }
}

/// Why a time-zone cell or stored value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZoneError {
    /// Not a zone name or offset.
    #[error("'{0}' is not a time zone; use an IANA name like Europe/London or an offset like +08:00")]
    Unknown(String),
    /// An offset that is not a whole hour.
    #[error("'{0}' is not a whole-hour offset; use the IANA name of the place (e.g. Asia/Kolkata)")]
    PartHour(String),
    /// An offset beyond what exists.
    #[error("'{0}' is beyond the offsets in use (-12 to +14 hours)")]
    OutOfRange(String),
}

impl RecordZones {
    /// The stored form: names joined by single spaces.
    pub fn to_stored(&self) -> String {
        self.0.iter().map(|tz| tz.name()).collect::<Vec<_>>().join(" ")
    }

    /// Reads the stored form back.
    pub fn from_stored(stored: &str) -> Result<Self, ZoneError> {
        stored
            .split_whitespace()
            .map(|name| Tz::from_str(name).map_err(|_| ZoneError::Unknown(name.to_string())))
            .collect::<Result<Vec<_>, _>>()
            .map(RecordZones)
    }

    /// Whether the zone is known exactly.
    pub fn is_single(&self) -> bool {
        self.0.len() == 1
    }

    /// The local date and time at `at` in each candidate zone.
    pub fn local_times(&self, at: DateTime<Utc>) -> impl Iterator<Item = NaiveDateTime> + '_ {
        self.0.iter().map(move |tz| at.with_timezone(tz).naive_local())
    }
}

/// Parses a time-zone cell: an IANA name (any case), `UTC`, or a whole-hour offset such as
/// `+08:00`, `UTC+8` or `GMT-5`.
pub fn parse_zone(cell: &str) -> Result<Tz, ZoneError> {
    let text = cell.trim();
    if let Ok(tz) = Tz::from_str(text) {
        return Ok(tz);
    }
    if let Some(tz) = chrono_tz::TZ_VARIANTS
        .iter()
        .find(|tz| tz.name().eq_ignore_ascii_case(text))
    {
        return Ok(*tz);
    }
    let upper = text.to_ascii_uppercase();
    let offset = upper
        .strip_prefix("UTC")
        .or_else(|| upper.strip_prefix("GMT"))
        .unwrap_or(&upper)
        .trim();
    if offset.is_empty() {
        return Ok(chrono_tz::UTC);
    }
    let unknown = || ZoneError::Unknown(text.to_string());
    let (sign, rest) = match offset.as_bytes().first() {
        Some(b'+') => (1, &offset[1..]),
        Some(b'-') => (-1, &offset[1..]),
        _ => return Err(unknown()),
    };
    let (hours, minutes) = match rest.split_once(':') {
        Some((h, m)) => (h, m),
        None if rest.len() == 4 => rest.split_at(2),
        None => (rest, "0"),
    };
    let hours: i32 = hours.parse().map_err(|_| unknown())?;
    let minutes: i32 = minutes.parse().map_err(|_| unknown())?;
    if minutes != 0 {
        return Err(ZoneError::PartHour(text.to_string()));
    }
    let hours = sign * hours;
    if !(-12..=14).contains(&hours) {
        return Err(ZoneError::OutOfRange(text.to_string()));
    }
    if hours == 0 {
        return Ok(chrono_tz::UTC);
    }
    // POSIX signs are inverted in the Etc area: UTC+8 is Etc/GMT-8.
    let name = format!("Etc/GMT{:+}", -hours);
    Tz::from_str(&name).map_err(|_| unknown())
}

/// Infers a record's zones from its number's country and the campaign's default zone.
pub fn infer_zones(region: Option<&str>, campaign_default: Option<Tz>) -> Option<(RecordZones, ZoneSource)> {
    let default = campaign_default.map(|tz| (RecordZones(vec![tz]), ZoneSource::CampaignDefault));
    let Some(zones) = region.and_then(zones_for_country) else {
        return default;
    };
    match zones {
        [single] => Some((RecordZones(vec![*single]), ZoneSource::Number)),
        many => match campaign_default {
            Some(tz) if many.contains(&tz) => default,
            _ => Some((RecordZones(many.to_vec()), ZoneSource::Number)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America, Asia, Europe, Pacific};

    #[test]
    fn countries_have_their_zones() {
        let us = zones_for_country("US").unwrap();
        assert!(us.contains(&America::New_York) && us.contains(&Pacific::Honolulu));
        assert_eq!(zones_for_country("FR").unwrap(), [Europe::Paris]);
        assert_eq!(zones_for_country("GB").unwrap(), [Europe::London]);
        assert_eq!(zones_for_country("CN").unwrap(), [Asia::Shanghai]);
        assert_eq!(zones_for_country("ZZ"), None);
    }

    #[test]
    fn cells_parse_to_zones() {
        for (cell, expect) in [
            ("Europe/London", "Europe/London"),
            ("europe/london", "Europe/London"),
            ("UTC", "UTC"),
            ("+08:00", "Etc/GMT-8"),
            ("UTC+8", "Etc/GMT-8"),
            ("GMT-5", "Etc/GMT+5"),
            ("-0300", "Etc/GMT+3"),
            ("+00:00", "UTC"),
        ] {
            assert_eq!(parse_zone(cell).unwrap().name(), expect, "{cell}");
        }
        assert_eq!(
            parse_zone("+05:30").unwrap_err().to_string(),
            "'+05:30' is not a whole-hour offset; use the IANA name of the place (e.g. Asia/Kolkata)"
        );
        assert_eq!(
            parse_zone("Mars/Olympus").unwrap_err().to_string(),
            "'Mars/Olympus' is not a time zone; use an IANA name like Europe/London or an offset like +08:00"
        );
        assert_eq!(
            parse_zone("+15").unwrap_err().to_string(),
            "'+15' is beyond the offsets in use (-12 to +14 hours)"
        );
    }

    #[test]
    fn zones_are_inferred_from_the_country_and_the_default() {
        let (zones, source) = infer_zones(Some("FR"), None).unwrap();
        assert_eq!((zones.0, source), (vec![Europe::Paris], ZoneSource::Number));
        let (zones, source) = infer_zones(Some("US"), Some(America::Chicago)).unwrap();
        assert_eq!((zones.0, source), (vec![America::Chicago], ZoneSource::CampaignDefault));
        let (zones, source) = infer_zones(Some("US"), Some(Europe::Paris)).unwrap();
        assert_eq!((zones.0.len() > 20, source), (true, ZoneSource::Number));
        let (zones, _) = infer_zones(None, Some(Europe::Paris)).unwrap();
        assert_eq!(zones.0, [Europe::Paris]);
        assert_eq!(infer_zones(None, None), None);
    }

    #[test]
    fn stored_zones_round_trip() {
        let zones = RecordZones(vec![America::New_York, America::Chicago]);
        assert_eq!(zones.to_stored(), "America/New_York America/Chicago");
        assert_eq!(RecordZones::from_stored(&zones.to_stored()).unwrap(), zones);
        assert!(!zones.is_single());
        assert!(RecordZones::from_stored("Nowhere/City").is_err());
    }
}
