//! `paceline team add|list`.

use clap::Subcommand;
use paceline_dialer::users;

use super::App;
use crate::output;

#[derive(Debug, Subcommand)]
pub enum TeamCommand {
    /// Creates a team.
    Add {
        /// Team name.
        name: String,
    },
    /// Lists teams and their members.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(app: &App, command: TeamCommand) -> anyhow::Result<()> {
    match command {
        TeamCommand::Add { name } => {
            let team = users::add_team(&app.db, &name, app.now()).await?;
            println!("created team {}", team.name);
        }
        TeamCommand::List { json } => {
            let teams = users::list_teams(&app.db).await?;
            if json {
                return output::json(&teams);
            }
            output::table(
                &["team", "members"],
                teams.iter().map(|t| vec![t.name.clone(), t.members.join(", ")]),
            );
        }
    }
    Ok(())
}
