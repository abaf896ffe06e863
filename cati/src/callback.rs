//! Callbacks booked in the respondent's own time: "call me tomorrow at 7 pm" means 7 pm where
//! the respondent is, whatever the interviewer's clock says.

use chrono::offset::LocalResult;
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// A local time that cannot be a callback time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    /// The clocks skip this time (the spring change to summer time).
    #[error("{local} does not exist in {zone}: the clocks skip it (summer time begins); book a time after the change")]
    Skipped {
        /// The time asked for.
        local: NaiveDateTime,
        /// The respondent's zone.
        zone: Tz,
    },
    /// The time is already past.
    #[error("{local} in {zone} has already passed")]
    Past {
        /// The time asked for.
        local: NaiveDateTime,
        /// The respondent's zone.
        zone: Tz,
    },
}

/// The instant of a callback booked for `local` time in the respondent's `zone`, not before
/// `now`. A time the autumn change repeats is taken at its first occurrence, as the
/// respondent would most likely mean.
pub fn local_to_utc(local: NaiveDateTime, zone: Tz, now: DateTime<Utc>) -> Result<DateTime<Utc>, CallbackError> {
    let at = match zone.from_local_datetime(&local) {
        LocalResult::Single(at) => at,
        LocalResult::Ambiguous(first, _) => first,
        LocalResult::None => return Err(CallbackError::Skipped { local, zone }),
    }
    .with_timezone(&Utc);
    if at < now {
        return Err(CallbackError::Past { local, zone });
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, min, 0)
            .unwrap()
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
    }

    #[test]
    fn seven_pm_is_the_respondents_seven_pm() {
        let ny: Tz = "America/New_York".parse().unwrap();
        let tokyo: Tz = "Asia/Tokyo".parse().unwrap();
        assert_eq!(
            local_to_utc(local(2026, 3, 2, 19, 0), ny, now()).unwrap(),
            Utc.with_ymd_and_hms(2026, 3, 3, 0, 0, 0).unwrap()
        );
        assert_eq!(
            local_to_utc(local(2026, 3, 2, 19, 0), tokyo, now()).unwrap(),
            Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap()
        );
    }

    #[test]
    fn clock_changes_and_the_past_are_handled() {
        let ny: Tz = "America/New_York".parse().unwrap();
        // 2026-03-08 02:30 does not exist in New York; 2026-11-01 01:30 happens twice.
        let e = local_to_utc(local(2026, 3, 8, 2, 30), ny, now()).unwrap_err();
        assert!(e.to_string().contains("the clocks skip it"), "{e}");
        assert_eq!(
            local_to_utc(local(2026, 11, 1, 1, 30), ny, now()).unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 1, 5, 30, 0).unwrap(),
            "the first 01:30, still summer time"
        );
        assert!(matches!(
            local_to_utc(local(2026, 2, 27, 9, 0), ny, now()),
            Err(CallbackError::Past { .. })
        ));
    }
}
