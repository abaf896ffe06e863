//! When a campaign may call (DIAL-09, BEY-02): days of the week, time ranges and holidays,
//! always read in the called person's own local time.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A day of the week, written `mon` .. `sun` in settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Day {
    /// Monday.
    #[serde(alias = "monday")]
    Mon,
    /// Tuesday.
    #[serde(alias = "tuesday")]
    Tue,
    /// Wednesday.
    #[serde(alias = "wednesday")]
    Wed,
    /// Thursday.
    #[serde(alias = "thursday")]
    Thu,
    /// Friday.
    #[serde(alias = "friday")]
    Fri,
    /// Saturday.
    #[serde(alias = "saturday")]
    Sat,
    /// Sunday.
    #[serde(alias = "sunday")]
    Sun,
}

impl Day {
    /// The name used in settings.
    pub fn as_str(self) -> &'static str {
        match self {
            Day::Mon => "mon",
            Day::Tue => "tue",
            Day::Wed => "wed",
            Day::Thu => "thu",
            Day::Fri => "fri",
            Day::Sat => "sat",
            Day::Sun => "sun",
        }
    }
}

impl From<Weekday> for Day {
    fn from(day: Weekday) -> Self {
        match day {
            Weekday::Mon => Day::Mon,
            Weekday::Tue => Day::Tue,
            Weekday::Wed => Day::Wed,
            Weekday::Thu => Day::Thu,
            Weekday::Fri => Day::Fri,
            Weekday::Sat => Day::Sat,
            Weekday::Sun => Day::Sun,
        }
    }
}

/// A time range within one day, `start` included and `end` excluded, written `"09:00-12:30"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    /// First minute inside the range.
    pub start: NaiveTime,
    /// First minute after the range.
    pub end: NaiveTime,
}

impl TimeRange {
    /// Whether `time` falls inside the range.
    pub fn contains(&self, time: NaiveTime) -> bool {
        self.start <= time && time < self.end
    }
}

impl fmt::Display for TimeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.start.format("%H:%M"), self.end.format("%H:%M"))
    }
}

impl FromStr for TimeRange {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("'{s}' is not a time range like \"09:00-20:30\"");
        let (start, end) = s.split_once('-').ok_or_else(bad)?;
        let parse = |t: &str| {
            let t = t.trim();
            // "21:00" as an end is common; "24:00" means the end of the day.
            if t == "24:00" {
                return Ok(NaiveTime::from_hms_milli_opt(23, 59, 59, 999).expect("valid time"));
            }
            NaiveTime::parse_from_str(t, "%H:%M").map_err(|_| bad())
        };
        let range = TimeRange {
            start: parse(start)?,
            end: parse(end)?,
        };
        if range.start >= range.end {
            return Err(format!("'{s}' ends before it starts"));
        }
        Ok(range)
    }
}

impl Serialize for TimeRange {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TimeRange {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The hours a campaign may call, in the called person's local time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallingHours {
    /// Days on which calls are made.
    pub days: Vec<Day>,
    /// Ranges of the day in which calls are made, on every day in `days`.
    pub ranges: Vec<TimeRange>,
    /// Other ranges for particular days (a shorter Saturday, say), replacing `ranges` there.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub by_day: BTreeMap<Day, Vec<TimeRange>>,
    /// Dates on which no calls are made at all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holidays: Vec<NaiveDate>,
}

/// The legal window for calls in the called person's local time (FCC 47 CFR 64.1200(c)(1)).
pub const LEGAL_START: (u32, u32) = (8, 0);
/// The end of the legal window.
pub const LEGAL_END: (u32, u32) = (21, 0);

impl Default for CallingHours {
    fn default() -> Self {
        Self {
            days: vec![Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri, Day::Sat],
            ranges: vec!["09:00-20:00".parse().expect("valid default range")],
            by_day: BTreeMap::new(),
            holidays: Vec::new(),
        }
    }
}

impl CallingHours {
    /// The ranges that apply on `day` (empty when the campaign does not call that day).
    pub fn ranges_on(&self, day: Day) -> &[TimeRange] {
        if !self.days.contains(&day) {
            return &[];
        }
        self.by_day.get(&day).map(Vec::as_slice).unwrap_or(&self.ranges)
    }

    /// Whether a local date and time is inside calling hours.
    pub fn is_open_local(&self, local: NaiveDateTime) -> bool {
        let date = local.date();
        !self.holidays.contains(&date)
            && self
                .ranges_on(date.weekday().into())
                .iter()
                .any(|r| r.contains(local.time()))
    }

    /// Whether `at` is inside calling hours in `zone`.
    pub fn is_open(&self, zone: Tz, at: DateTime<Utc>) -> bool {
        self.is_open_local(at.with_timezone(&zone).naive_local())
    }

    /// Whether `at` is inside calling hours in every one of `zones` (a record whose exact zone is
    /// unknown is called only when it is a proper hour wherever the person may be).
    pub fn is_open_everywhere(&self, zones: &[Tz], at: DateTime<Utc>) -> bool {
        !zones.is_empty() && zones.iter().all(|zone| self.is_open(*zone, at))
    }

    /// The first instant at or after `after` inside calling hours in every one of `zones`, looking
    /// up to `horizon_days` ahead; `None` when there is none.
    pub fn next_open(&self, zones: &[Tz], after: DateTime<Utc>, horizon_days: i64) -> Option<DateTime<Utc>> {
        if zones.is_empty() {
            return None;
        }
        if self.is_open_everywhere(zones, after) {
            return Some(after);
        }
        // Every moment the answer can change is a range boundary in one of the zones, so
        // checking the start of each range (mapped to UTC) in every zone finds the first one.
        let mut candidates: Vec<DateTime<Utc>> = Vec::new();
        for zone in zones {
            let first_day = after.with_timezone(zone).date_naive();
            for offset in 0..=horizon_days {
                let date = first_day + Duration::days(offset);
                for range in self.ranges_on(date.weekday().into()) {
                    if let Some(at) = earliest_instant(*zone, date.and_time(range.start))
                        && at > after
                    {
                        candidates.push(at);
                    }
                }
            }
        }
        candidates.sort();
        candidates.into_iter().find(|at| self.is_open_everywhere(zones, *at))
    }

    /// Problems with these hours, as `(setting, message)` pairs; empty when they are usable.
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        if self.days.is_empty() {
            problems.push(("calling_hours.days".into(), "no calling days are set".into()));
        }
        let legal_start = NaiveTime::from_hms_opt(LEGAL_START.0, LEGAL_START.1, 0).expect("valid");
        let legal_end = NaiveTime::from_hms_opt(LEGAL_END.0, LEGAL_END.1, 0).expect("valid");
        let mut check = |setting: String, ranges: &[TimeRange]| {
            if ranges.is_empty() {
                problems.push((setting.clone(), "no time ranges are set".into()));
            }
            for range in ranges {
                if range.start < legal_start || range.end > legal_end {
                    problems.push((
                        setting.clone(),
                        format!(
                            "{range} is outside 08:00-21:00, the hours the law allows in the called person's local time (FCC 47 CFR 64.1200(c)(1))"
                        ),
                    ));
                }
            }
            let mut sorted = ranges.to_vec();
            sorted.sort_by_key(|r| r.start);
            for pair in sorted.windows(2) {
                if pair[1].start < pair[0].end {
                    problems.push((setting.clone(), format!("{} overlaps {}", pair[0], pair[1])));
                }
            }
        };
        check("calling_hours.ranges".into(), &self.ranges);
        for (day, ranges) in &self.by_day {
            check(format!("calling_hours.by_day.{}", day.as_str()), ranges);
        }
        problems
    }
}

/// The first UTC instant showing `local` in `zone`; a local time skipped by a daylight-saving
/// change maps to the first valid minute after it.
fn earliest_instant(zone: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    (0..=120)
        .step_by(15)
        .find_map(|minutes| {
            zone.from_local_datetime(&(local + Duration::minutes(minutes)))
                .earliest()
        })
        .map(|at| at.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America, Asia, Europe};

    fn hours(days: &[Day], ranges: &[&str]) -> CallingHours {
        CallingHours {
            days: days.to_vec(),
            ranges: ranges.iter().map(|r| r.parse().unwrap()).collect(),
            by_day: BTreeMap::new(),
            holidays: Vec::new(),
        }
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn open_is_decided_in_the_called_persons_zone() {
        let h = hours(&[Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri], &["09:00-21:00"]);
        // Monday 2026-11-23 14:00 UTC is 09:00 in New York and 06:00 in Los Angeles.
        let at = utc("2026-11-23T14:00:00Z");
        assert!(h.is_open(America::New_York, at));
        assert!(!h.is_open(America::Los_Angeles, at));
        assert!(!h.is_open_everywhere(&[America::New_York, America::Los_Angeles], at));
        // 22:30 in Shanghai is past the end.
        assert!(!h.is_open(Asia::Shanghai, utc("2026-11-23T14:30:00Z")));
    }

    #[test]
    fn holidays_weekends_and_by_day_ranges() {
        let mut h = hours(&[Day::Mon, Day::Sat], &["09:00-20:00"]);
        h.by_day.insert(Day::Sat, vec!["10:00-14:00".parse().unwrap()]);
        h.holidays.push(NaiveDate::from_ymd_opt(2026, 12, 28).unwrap());
        let london = Europe::London;
        assert!(h.is_open(london, utc("2026-11-23T19:59:00Z")));
        assert!(!h.is_open(london, utc("2026-11-23T20:00:00Z")), "end is excluded");
        assert!(
            !h.is_open(london, utc("2026-11-24T12:00:00Z")),
            "Tuesday is not a calling day"
        );
        assert!(
            h.is_open(london, utc("2026-11-28T13:00:00Z")),
            "Saturday has its own range"
        );
        assert!(!h.is_open(london, utc("2026-11-28T15:00:00Z")));
        assert!(!h.is_open(london, utc("2026-12-28T12:00:00Z")), "holiday Monday");
    }

    #[test]
    fn next_open_finds_the_first_moment_legal_everywhere() {
        let h = hours(&[Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri], &["09:00-21:00"]);
        let zones = [America::New_York, America::Los_Angeles];
        // Friday 23:00 New York: the next moment open in both is Monday 09:00 Los Angeles.
        let next = h.next_open(&zones, utc("2026-11-28T04:00:00Z"), 14).unwrap();
        assert_eq!(next, utc("2026-11-30T17:00:00Z"));
        let now = utc("2026-11-30T18:00:00Z");
        assert_eq!(h.next_open(&zones, now, 14), Some(now));
        assert_eq!(h.next_open(&[], now, 14), None);
    }

    #[test]
    fn next_open_skips_a_daylight_saving_gap() {
        // 2026-03-29 is the night London moves from 01:00 to 02:00.
        let h = hours(&[Day::Sun], &["01:30-03:00"]);
        let next = h.next_open(&[Europe::London], utc("2026-03-28T12:00:00Z"), 7).unwrap();
        assert_eq!(
            next,
            utc("2026-03-29T01:00:00Z"),
            "02:00 BST, the first minute that exists"
        );
    }

    #[test]
    fn problems_name_the_setting_and_the_rule() {
        let mut h = hours(&[], &["07:00-10:00", "09:30-12:00"]);
        h.by_day.insert(Day::Sat, vec![]);
        let problems = h.problems();
        let texts: Vec<String> = problems.iter().map(|(s, m)| format!("{s}: {m}")).collect();
        assert_eq!(
            texts,
            [
                "calling_hours.days: no calling days are set",
                "calling_hours.ranges: 07:00-10:00 is outside 08:00-21:00, the hours the law allows in the called person's local time (FCC 47 CFR 64.1200(c)(1))",
                "calling_hours.ranges: 07:00-10:00 overlaps 09:30-12:00",
                "calling_hours.by_day.sat: no time ranges are set",
            ]
        );
        assert!(CallingHours::default().problems().is_empty());
    }

    #[test]
    fn time_ranges_parse_and_refuse() {
        assert_eq!("09:00-12:30".parse::<TimeRange>().unwrap().to_string(), "09:00-12:30");
        assert_eq!(
            "12:00-09:00".parse::<TimeRange>().unwrap_err(),
            "'12:00-09:00' ends before it starts"
        );
        assert_eq!(
            "9am-5pm".parse::<TimeRange>().unwrap_err(),
            "'9am-5pm' is not a time range like \"09:00-20:30\""
        );
    }
}
