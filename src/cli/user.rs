//! `paceline user add|list|passwd`.

use std::io::{BufRead, IsTerminal};

use anyhow::{Context, bail};
use clap::Subcommand;
use paceline_dialer::users::{self, NewUser, Role, Skill};

use super::App;
use crate::output;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Creates a user; the password is asked for (or read from stdin with --password-stdin).
    Add {
        /// Sign-in name.
        login: String,
        /// Name shown on screens (default: the login).
        #[arg(long)]
        name: Option<String>,
        /// A role: agent, supervisor, admin, analyst (repeat for several).
        #[arg(long = "role", required = true)]
        roles: Vec<Role>,
        /// A team to join (repeat for several).
        #[arg(long = "team")]
        teams: Vec<String>,
        /// A skill as name=level, level 1-100 (repeat for several).
        #[arg(long = "skill")]
        skills: Vec<Skill>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Lists users with their roles, teams and skills.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Sets a user's password.
    Passwd {
        /// Sign-in name.
        login: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

pub async fn run(app: &App, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            login,
            name,
            roles,
            teams,
            skills,
            password_stdin,
        } => {
            let password = read_password(password_stdin)?;
            let new = NewUser {
                display_name: name.unwrap_or_else(|| login.clone()),
                login,
                password,
                roles,
                teams,
                skills,
            };
            let user = users::add_user(&app.db, &new, app.now()).await?;
            println!(
                "created user {} ({}) with roles {}",
                user.login,
                user.display_name,
                user.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
            );
        }
        UserCommand::List { json } => {
            let all = users::list_users(&app.db).await?;
            if json {
                return output::json(&all);
            }
            output::table(
                &["login", "name", "roles", "teams", "skills", "active"],
                all.iter().map(|u| {
                    vec![
                        u.login.clone(),
                        u.display_name.clone(),
                        u.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(","),
                        u.teams.join(","),
                        u.skills
                            .iter()
                            .map(|s| format!("{}={}", s.name, s.level))
                            .collect::<Vec<_>>()
                            .join(","),
                        if u.active { "yes" } else { "no" }.to_string(),
                    ]
                }),
            );
        }
        UserCommand::Passwd { login, password_stdin } => {
            let password = read_password(password_stdin)?;
            users::set_password(&app.db, &login, &password, app.now()).await?;
            println!("password of {login} changed");
        }
    }
    Ok(())
}

/// Reads a password from stdin (scripts) or asks twice on the terminal (people).
fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from stdin")?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_string());
    }
    if !std::io::stdin().is_terminal() {
        bail!("there is no terminal to ask for the password; pass it on stdin with --password-stdin");
    }
    let first = rpassword::prompt_password("password: ")?;
    let second = rpassword::prompt_password("again: ")?;
    if first != second {
        bail!("the two passwords differ");
    }
    Ok(first)
}
