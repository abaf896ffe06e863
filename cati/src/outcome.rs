//! What an interview's end means for its record: the disposition of the survey campaign's
//! default set (see the dialer's `disposition::default_set`) that the interviewer's desk, or
//! the runtime, gives the record when the interview ends or stops.

use crate::interview::State;

/// The disposition code for an interview in `state`, or none while it is on a question.
pub fn disposition(state: &State) -> Option<&'static str> {
    Some(match state {
        State::Asking => return None,
        // Stopped for a callback: the interviewer books its time.
        State::Suspended => "callback",
        State::Complete => "complete",
        State::ScreenedOut { at } if at.starts_with("quota ") => "quota_full",
        State::ScreenedOut { .. } => "screened_out",
        State::Terminated { .. } => "break_off",
    })
}

#[cfg(test)]
mod tests {
    use paceline_dialer::campaign::CampaignKind;
    use paceline_dialer::disposition::default_set;

    use super::*;

    #[test]
    fn each_ending_has_its_disposition_in_the_survey_set() {
        let set = default_set(CampaignKind::Survey);
        let aapor = |state: State| {
            let code = disposition(&state).unwrap();
            set.iter()
                .find(|d| d.code == code)
                .unwrap_or_else(|| panic!("{code} is not in the survey set"))
                .aapor
                .clone()
        };
        assert_eq!(aapor(State::Complete), "1.1");
        assert_eq!(aapor(State::ScreenedOut { at: "too_young".into() }), "4.70");
        assert_eq!(
            aapor(State::ScreenedOut {
                at: "quota rga north/f/55+".into()
            }),
            "4.80"
        );
        assert_eq!(
            aapor(State::Terminated {
                reason: "hung up".into()
            }),
            "2.12"
        );
        assert_eq!(aapor(State::Suspended), "2.21");
        assert_eq!(disposition(&State::Asking), None);
    }
}
