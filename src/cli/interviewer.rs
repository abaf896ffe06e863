//! `paceline interviewer`: what interviewers and supervisors look up: an interviewer's calls,
//! a record's answers, today's and this week's leaderboard.

use anyhow::Context;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use paceline_cati::lookups;
use paceline_dialer::users;

use super::App;
use crate::output::{self, or_dash};

#[derive(Debug, clap::Subcommand)]
pub enum InterviewerCommand {
    /// An interviewer's calls on a day (UTC), newest first.
    Calls {
        /// The interviewer's login.
        login: String,
        /// The day (default: today).
        #[arg(long, value_name = "YYYY-MM-DD")]
        day: Option<NaiveDate>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// A record's interviews with their answers.
    Answers {
        /// The record's id.
        record: i64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Calls, completes and completes per hour logged in, per interviewer, today or this week
    /// (UTC, weeks from Monday).
    Leaderboard {
        /// Only this campaign (name or id).
        #[arg(long)]
        campaign: Option<String>,
        /// This week instead of today.
        #[arg(long)]
        week: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

fn day_start(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0).expect("midnight").and_utc()
}

/// Runs an interviewer look-up.
pub async fn run(app: &App, command: InterviewerCommand) -> anyhow::Result<()> {
    match command {
        InterviewerCommand::Calls { login, day, json } => {
            let user = users::find_user(&app.db, &login)
                .await?
                .with_context(|| format!("no user with login '{login}'"))?;
            let from = day_start(day.unwrap_or_else(|| app.now().date_naive()));
            let calls = lookups::call_records(&app.db, user.id, from, from + Duration::days(1), 1000).await?;
            if json {
                return output::json(&calls);
            }
            output::table(
                &[
                    "attempt",
                    "campaign",
                    "record",
                    "number",
                    "queued",
                    "outcome",
                    "disposition",
                ],
                calls.iter().map(|c| {
                    vec![
                        c.attempt.to_string(),
                        c.campaign.clone(),
                        c.record.to_string(),
                        c.e164.clone(),
                        c.queued_at.format("%H:%M:%S").to_string(),
                        or_dash(c.outcome.clone()),
                        or_dash(c.disposition.clone()),
                    ]
                }),
            );
            Ok(())
        }
        InterviewerCommand::Answers { record, json } => {
            let interviews = lookups::record_answers(&app.db, record).await?;
            if json {
                return output::json(&interviews);
            }
            if interviews.is_empty() {
                println!("record {record} has no interviews");
            }
            for i in &interviews {
                println!(
                    "interview {} ({} version {}), {}, started {}",
                    i.interview, i.questionnaire, i.version, i.state, i.started_at
                );
                output::table(
                    &["question", "answer"],
                    i.answers.iter().map(|(q, v)| vec![q.clone(), v.to_string()]),
                );
            }
            Ok(())
        }
        InterviewerCommand::Leaderboard { campaign, week, json } => {
            let campaign_id = match &campaign {
                Some(reference) => Some(paceline_dialer::campaign::store::find(&app.db, reference).await?.id),
                None => None,
            };
            let today = app.now().date_naive();
            let (from, days) = if week {
                (
                    today - Duration::days(i64::from(today.weekday().num_days_from_monday())),
                    7,
                )
            } else {
                (today, 1)
            };
            let board = lookups::leaderboard(
                &app.db,
                campaign_id,
                day_start(from),
                day_start(from + Duration::days(days)),
            )
            .await?;
            if json {
                return output::json(&board);
            }
            output::table(
                &[
                    "interviewer",
                    "calls",
                    "completes",
                    "screened out",
                    "hours",
                    "completes/hour",
                ],
                board.iter().map(|t| {
                    vec![
                        t.login.clone(),
                        t.calls.to_string(),
                        t.completes.to_string(),
                        t.screened_out.to_string(),
                        format!("{:.2}", t.hours),
                        t.completes_per_hour.map_or_else(|| "-".into(), |c| format!("{c:.2}")),
                    ]
                }),
            );
            Ok(())
        }
    }
}
