//! The demo's simulated world: who answers the demo campaign's dials and how. People stay on
//! the line until the interviewer ends the call (an interview takes as long as it takes).

use chrono::{DateTime, Utc};
use paceline_dialer::sim::scenario::Scenario;

/// The world of the demo (a scenario, whose agent and staffing parts the live runtime does
/// not use: its interviewers are the simulated ones and the people signed in).
const DEMO_WORLD: &str = r#"
name = "demo"
hours = 24
abandon_target = 0.03
window_hours = 24
connect_grace_s = 2

[agents]
count = 1
wrap_up_s = { dist = "fixed", value = 5 }

[outcomes]
person = 0.35
machine = 0.10
busy = 0.10
no_answer = 0.35
invalid = 0.10

[delay_s]
person = { dist = "uniform", min = 4, max = 18 }
machine = { dist = "uniform", min = 5, max = 12 }
busy = { dist = "uniform", min = 1, max = 3 }
no_answer = { dist = "uniform", min = 15, max = 30 }
invalid = { dist = "uniform", min = 1, max = 2 }

[talk_time_s]
dist = "fixed"
value = 3600

[amd]
enabled = false
"#;

/// The demo world, starting at `start`.
pub fn demo_world(start: DateTime<Utc>) -> Scenario {
    let mut scenario = Scenario::from_toml(DEMO_WORLD, "demo world").expect("the demo world is a valid scenario");
    scenario.start = start;
    scenario
}
