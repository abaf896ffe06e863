//! `paceline return-visit`: return-visit lists (CATI-10): draw by rule, list with overdue
//! flags, mark done.

use anyhow::Context;
use chrono::NaiveDate;
use paceline_cati::return_visit::{self, Rule};
use paceline_dialer::campaign::store as campaigns;
use paceline_dialer::users;

use super::App;
use crate::output::{self, or_dash};

#[derive(Debug, clap::Subcommand)]
pub enum ReturnVisitCommand {
    /// Draws the records a rule has come due for (so many days after a date field) and
    /// assigns them in turn to the campaign's agents, with a deadline.
    Draw {
        /// The campaign (name or id).
        #[arg(long)]
        campaign: String,
        /// The record field with the date to count from (YYYY-MM-DD).
        #[arg(long)]
        field: String,
        /// Days after that date.
        #[arg(long)]
        after_days: i64,
        /// Days the interviewer has, from the draw.
        #[arg(long, default_value_t = 2)]
        deadline_days: i64,
        /// The day of the draw (default: today, UTC).
        #[arg(long, value_name = "YYYY-MM-DD")]
        today: Option<NaiveDate>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The campaign's return visits, open ones by default, by deadline, overdue ones flagged.
    List {
        /// The campaign (name or id).
        #[arg(long)]
        campaign: String,
        /// One interviewer's only (login).
        #[arg(long)]
        agent: Option<String>,
        /// Done ones too.
        #[arg(long)]
        all: bool,
        /// The day overdue is judged on (default: today, UTC).
        #[arg(long, value_name = "YYYY-MM-DD")]
        today: Option<NaiveDate>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Marks a return visit done.
    Done {
        /// The visit's id.
        id: i64,
    },
}

/// Runs a return-visit command.
pub async fn run(app: &App, command: ReturnVisitCommand) -> anyhow::Result<()> {
    match command {
        ReturnVisitCommand::Draw {
            campaign,
            field,
            after_days,
            deadline_days,
            today,
            json,
        } => {
            let campaign = campaigns::find(&app.db, &campaign).await?;
            let mut agents = Vec::new();
            for login in &campaign.agents {
                if let Some(user) = users::find_user(&app.db, login).await? {
                    agents.push(user.id);
                }
            }
            let rule = Rule {
                field,
                after_days,
                deadline_days,
            };
            let today = today.unwrap_or_else(|| app.now().date_naive());
            let drawn = return_visit::draw(&app.db, campaign.id, &rule, &agents, today)
                .await
                .with_context(|| format!("drawing return visits for {}", campaign.name))?;
            if json {
                return output::json(&drawn);
            }
            println!(
                "drew {} return visit(s) for {}, due by {}",
                drawn.visits.len(),
                campaign.name,
                today + chrono::Duration::days(deadline_days)
            );
            for (record, value) in &drawn.without_date {
                println!("record {record}: {} is {value}, not a date", rule.field);
            }
            Ok(())
        }
        ReturnVisitCommand::List {
            campaign,
            agent,
            all,
            today,
            json,
        } => {
            let campaign = campaigns::find(&app.db, &campaign).await?;
            let agent_id = match &agent {
                Some(login) => Some(
                    users::find_user(&app.db, login)
                        .await?
                        .with_context(|| format!("no user with login '{login}'"))?
                        .id,
                ),
                None => None,
            };
            let today = today.unwrap_or_else(|| app.now().date_naive());
            let visits = return_visit::list(&app.db, campaign.id, agent_id, !all, today).await?;
            if json {
                return output::json(&visits);
            }
            output::table(
                &["id", "record", "rule", "agent", "due by", "state"],
                visits.iter().map(|v| {
                    let state = match (v.done_at, v.overdue) {
                        (Some(at), _) => format!("done {}", at.format("%Y-%m-%d")),
                        (None, true) => "OVERDUE".into(),
                        (None, false) => "open".into(),
                    };
                    vec![
                        v.id.to_string(),
                        v.record.to_string(),
                        v.rule.clone(),
                        or_dash(v.agent),
                        v.due_by.to_string(),
                        state,
                    ]
                }),
            );
            Ok(())
        }
        ReturnVisitCommand::Done { id } => {
            anyhow::ensure!(
                return_visit::done(&app.db, id, app.now()).await?,
                "there is no open return visit {id}"
            );
            println!("return visit {id} done");
            Ok(())
        }
    }
}
