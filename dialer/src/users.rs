//! Users, their roles, teams and skills; passwords hashed with argon2.
//!
//! An agent is a user holding the `agent` role; the agent pool keeps their live state.

use std::fmt;
use std::str::FromStr;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::store::{Db, WriteTx, is_unique_violation};
use crate::with_db;

/// A user's id in the store.
pub type UserId = i64;
/// A team's id in the store.
pub type TeamId = i64;

/// What a user may do; a user may hold several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Takes calls and conducts interviews.
    Agent,
    /// Watches and steers their teams and campaigns.
    Supervisor,
    /// Configures the system.
    Admin,
    /// Reads reports and exports; changes nothing.
    Analyst,
}

impl Role {
    /// Every role, in display order.
    pub const ALL: [Role; 4] = [Role::Agent, Role::Supervisor, Role::Admin, Role::Analyst];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
            Role::Analyst => "analyst",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Role {
    type Err = UserError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| UserError::UnknownRole(s.to_string()))
    }
}

/// A skill and its level (1-100), used by inbound routing and campaign assignment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skill {
    /// The skill's name, e.g. `english` or `collections`.
    pub name: String,
    /// Proficiency from 1 (lowest) to 100.
    pub level: i64,
}

impl FromStr for Skill {
    type Err = UserError;
    /// Parses `name=level`, or a bare `name` at level 50.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |reason: &str| UserError::BadSkill {
            skill: s.to_string(),
            reason: reason.into(),
        };
        let (name, level) = match s.split_once('=') {
            Some((name, level)) => (
                name.trim(),
                level
                    .trim()
                    .parse::<i64>()
                    .map_err(|_| bad("the level is not a whole number"))?,
            ),
            None => (s.trim(), 50),
        };
        if name.is_empty() {
            return Err(bad("the skill has no name"));
        }
        if !(1..=100).contains(&level) {
            return Err(bad("the level must be from 1 to 100"));
        }
        Ok(Skill {
            name: name.to_string(),
            level,
        })
    }
}

/// Everything needed to create a user.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Unique sign-in name.
    pub login: String,
    /// The name shown on screens and reports.
    pub display_name: String,
    /// The password in clear; only its argon2 hash is stored.
    pub password: String,
    /// At least one role.
    pub roles: Vec<Role>,
    /// Names of existing teams to join.
    pub teams: Vec<String>,
    /// Skills with levels.
    pub skills: Vec<Skill>,
}

/// A stored user, without the password hash.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct User {
    /// Store id.
    pub id: UserId,
    /// Sign-in name.
    pub login: String,
    /// Shown name.
    pub display_name: String,
    /// False once disabled; a disabled user cannot sign in.
    pub active: bool,
    /// Roles held, sorted.
    pub roles: Vec<Role>,
    /// Teams joined, by name, sorted.
    pub teams: Vec<String>,
    /// Skills, sorted by name.
    pub skills: Vec<Skill>,
    /// When the user was created.
    pub created_at: DateTime<Utc>,
}

impl User {
    /// Whether the user holds `role`.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// A team of agents, with its members' logins.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Team {
    /// Store id.
    pub id: TeamId,
    /// Unique name.
    pub name: String,
    /// Members' logins, sorted.
    pub members: Vec<String>,
}

/// Why a user operation was refused; nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// Another user has this login.
    #[error("login '{0}' is already taken")]
    DuplicateLogin(String),
    /// The login breaks the naming rule.
    #[error("login '{login}' is not allowed: {reason}")]
    BadLogin {
        /// The login given.
        login: String,
        /// The rule it breaks.
        reason: String,
    },
    /// The display name is empty.
    #[error("the display name must not be empty")]
    EmptyDisplayName,
    /// The password is too weak to store.
    #[error("the password is too short: it needs at least {min} characters")]
    WeakPassword {
        /// The minimum length.
        min: usize,
    },
    /// No role was given.
    #[error("a user needs at least one role (agent, supervisor, admin, analyst)")]
    NoRoles,
    /// The role name is unknown.
    #[error("unknown role '{0}'; roles are agent, supervisor, admin, analyst")]
    UnknownRole(String),
    /// The skill is malformed.
    #[error("skill '{skill}': {reason}")]
    BadSkill {
        /// The skill as given.
        skill: String,
        /// What is wrong.
        reason: String,
    },
    /// No user has this login.
    #[error("no user with login '{0}'")]
    UnknownUser(String),
    /// No team has this name.
    #[error("no team named '{0}'")]
    UnknownTeam(String),
    /// Another team has this name.
    #[error("a team named '{0}' already exists")]
    DuplicateTeam(String),
    /// Hashing the password failed.
    #[error("hashing the password failed: {0}")]
    Hash(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] sqlx::Error),
}

/// The shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 8;

fn check_login(login: &str) -> Result<(), UserError> {
    let bad = |reason: &str| UserError::BadLogin {
        login: login.to_string(),
        reason: reason.into(),
    };
    if login.is_empty() || login.len() > 64 {
        return Err(bad("it must be 1 to 64 characters long"));
    }
    if let Some(c) = login.chars().find(|c| !(c.is_alphanumeric() || "._@-".contains(*c))) {
        return Err(bad(&format!("it contains '{c}'; use letters, digits and . _ @ -")));
    }
    Ok(())
}

fn hash_password(password: &str) -> Result<String, UserError> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(UserError::WeakPassword { min: MIN_PASSWORD_LEN });
    }
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| UserError::Hash(e.to_string()))
}

/// Creates many agents who share one password and one team (a training room, a simulated
/// call centre) in one transaction; the password is hashed once. Returns their ids in order.
pub async fn add_agent_batch(
    db: &Db,
    logins: &[(String, String)],
    password: &str,
    team: &str,
    at: DateTime<Utc>,
) -> Result<Vec<UserId>, UserError> {
    for (login, name) in logins {
        check_login(login)?;
        if name.trim().is_empty() {
            return Err(UserError::EmptyDisplayName);
        }
    }
    let hash = hash_password(password)?;
    with_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let team_id: Option<i64> = sqlx::query_scalar("SELECT id FROM teams WHERE name = $1")
            .bind(team)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(team_id) = team_id else {
            return Err(UserError::UnknownTeam(team.to_string()));
        };
        let mut ids = Vec::with_capacity(logins.len());
        for (login, name) in logins {
            let inserted = sqlx::query_scalar::<_, i64>(
                "INSERT INTO users (login, display_name, password_hash, active, created_at, password_changed_at)
                 VALUES ($1, $2, $3, TRUE, $4, $4) RETURNING id",
            )
            .bind(login)
            .bind(name.trim())
            .bind(&hash)
            .bind(at)
            .fetch_one(&mut *tx)
            .await;
            let id = match inserted {
                Err(e) if is_unique_violation(&e) => return Err(UserError::DuplicateLogin(login.clone())),
                other => other?,
            };
            sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, 'agent')")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO team_members (team_id, user_id) VALUES ($1, $2)")
                .bind(team_id)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            ids.push(id);
        }
        tx.commit().await?;
        Ok(ids)
    })
}

/// Creates a user with roles, teams and skills in one transaction.
pub async fn add_user(db: &Db, new: &NewUser, at: DateTime<Utc>) -> Result<User, UserError> {
    check_login(&new.login)?;
    if new.display_name.trim().is_empty() {
        return Err(UserError::EmptyDisplayName);
    }
    if new.roles.is_empty() {
        return Err(UserError::NoRoles);
    }
    let hash = hash_password(&new.password)?;
    let mut roles = new.roles.clone();
    roles.sort();
    roles.dedup();
    with_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let inserted = sqlx::query_scalar::<_, i64>(
            "INSERT INTO users (login, display_name, password_hash, active, created_at, password_changed_at)
             VALUES ($1, $2, $3, TRUE, $4, $4) RETURNING id",
        )
        .bind(&new.login)
        .bind(new.display_name.trim())
        .bind(&hash)
        .bind(at)
        .fetch_one(&mut *tx)
        .await;
        let id = match inserted {
            Err(e) if is_unique_violation(&e) => return Err(UserError::DuplicateLogin(new.login.clone())),
            other => other?,
        };
        for role in &roles {
            sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)")
                .bind(id)
                .bind(role.as_str())
                .execute(&mut *tx)
                .await?;
        }
        for team in &new.teams {
            let team_id: Option<i64> = sqlx::query_scalar("SELECT id FROM teams WHERE name = $1")
                .bind(team)
                .fetch_optional(&mut *tx)
                .await?;
            let team_id = team_id.ok_or_else(|| UserError::UnknownTeam(team.clone()))?;
            sqlx::query("INSERT INTO team_members (team_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(team_id)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        for skill in &new.skills {
            sqlx::query(
                "INSERT INTO user_skills (user_id, skill, level) VALUES ($1, $2, $3)
                 ON CONFLICT (user_id, skill) DO UPDATE SET level = excluded.level",
            )
            .bind(id)
            .bind(&skill.name)
            .bind(skill.level)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
    });
    find_user(db, &new.login)
        .await?
        .ok_or_else(|| UserError::UnknownUser(new.login.clone()))
}

/// Replaces a user's password.
pub async fn set_password(db: &Db, login: &str, password: &str, at: DateTime<Utc>) -> Result<(), UserError> {
    let hash = hash_password(password)?;
    let changed = with_db!(db, |pool| {
        sqlx::query("UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE login = $3")
            .bind(&hash)
            .bind(at)
            .bind(login)
            .execute(pool)
            .await?
            .rows_affected()
    });
    if changed == 0 {
        return Err(UserError::UnknownUser(login.to_string()));
    }
    Ok(())
}

/// Checks a login and password; `Ok(None)` when either is wrong or the user is disabled.
pub async fn verify_password(db: &Db, login: &str, password: &str) -> Result<Option<User>, UserError> {
    let hash: Option<String> = with_db!(db, |pool| {
        sqlx::query_scalar("SELECT password_hash FROM users WHERE login = $1 AND active")
            .bind(login)
            .fetch_optional(pool)
            .await?
    });
    let Some(hash) = hash else { return Ok(None) };
    let parsed = PasswordHash::new(&hash).map_err(|e| UserError::Hash(e.to_string()))?;
    if Argon2::default().verify_password(password.as_bytes(), &parsed).is_err() {
        return Ok(None);
    }
    find_user(db, login).await
}

/// Looks a user up by login.
pub async fn find_user(db: &Db, login: &str) -> Result<Option<User>, UserError> {
    Ok(load_users(db, Some(login)).await?.pop())
}

/// Every user, sorted by login.
pub async fn list_users(db: &Db) -> Result<Vec<User>, UserError> {
    load_users(db, None).await
}

async fn load_users(db: &Db, login: Option<&str>) -> Result<Vec<User>, UserError> {
    // One query per table, joined in memory: simple on both backends and cheap at the
    // sizes a contact centre's staff list reaches.
    let (users, roles, teams, skills) = with_db!(db, |pool| {
        let users = sqlx::query(
            "SELECT id, login, display_name, active, created_at FROM users
             WHERE ($1 IS NULL OR login = $1) ORDER BY login",
        )
        .bind(login)
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|row| {
            Ok::<_, sqlx::Error>(User {
                id: row.try_get("id")?,
                login: row.try_get("login")?,
                display_name: row.try_get("display_name")?,
                active: row.try_get("active")?,
                created_at: row.try_get("created_at")?,
                roles: Vec::new(),
                teams: Vec::new(),
                skills: Vec::new(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
        let roles: Vec<(i64, String)> = sqlx::query_as("SELECT user_id, role FROM user_roles ORDER BY user_id, role")
            .fetch_all(pool)
            .await?;
        let teams: Vec<(i64, String)> = sqlx::query_as(
            "SELECT m.user_id, t.name FROM team_members m JOIN teams t ON t.id = m.team_id
             ORDER BY m.user_id, t.name",
        )
        .fetch_all(pool)
        .await?;
        let skills: Vec<(i64, String, i64)> =
            sqlx::query_as("SELECT user_id, skill, level FROM user_skills ORDER BY user_id, skill")
                .fetch_all(pool)
                .await?;
        (users, roles, teams, skills)
    });
    let mut users = users;
    for user in &mut users {
        user.roles = roles
            .iter()
            .filter(|(id, _)| *id == user.id)
            .filter_map(|(_, role)| role.parse().ok())
            .collect();
        user.roles.sort();
        user.teams = teams
            .iter()
            .filter(|(id, _)| *id == user.id)
            .map(|(_, t)| t.clone())
            .collect();
        user.skills = skills
            .iter()
            .filter(|(id, ..)| *id == user.id)
            .map(|(_, name, level)| Skill {
                name: name.clone(),
                level: *level,
            })
            .collect();
    }
    Ok(users)
}

/// Creates a team.
pub async fn add_team(db: &Db, name: &str, at: DateTime<Utc>) -> Result<Team, UserError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(UserError::UnknownTeam(String::new()));
    }
    let id = with_db!(db, |pool| {
        let inserted =
            sqlx::query_scalar::<_, i64>("INSERT INTO teams (name, created_at) VALUES ($1, $2) RETURNING id")
                .bind(name)
                .bind(at)
                .fetch_one(pool)
                .await;
        match inserted {
            Err(e) if is_unique_violation(&e) => return Err(UserError::DuplicateTeam(name.to_string())),
            other => other?,
        }
    });
    Ok(Team {
        id,
        name: name.to_string(),
        members: Vec::new(),
    })
}

/// Every team with its members, sorted by name.
pub async fn list_teams(db: &Db) -> Result<Vec<Team>, UserError> {
    let (teams, members) = with_db!(db, |pool| {
        let teams: Vec<(i64, String)> = sqlx::query_as("SELECT id, name FROM teams ORDER BY name")
            .fetch_all(pool)
            .await?;
        let members: Vec<(i64, String)> = sqlx::query_as(
            "SELECT m.team_id, u.login FROM team_members m JOIN users u ON u.id = m.user_id ORDER BY u.login",
        )
        .fetch_all(pool)
        .await?;
        (teams, members)
    });
    Ok(teams
        .into_iter()
        .map(|(id, name)| Team {
            id,
            name,
            members: members
                .iter()
                .filter(|(t, _)| *t == id)
                .map(|(_, l)| l.clone())
                .collect(),
        })
        .collect())
}

/// Puts a user in a team (`member`) or takes them out; true when that changed anything.
pub async fn set_team_member(db: &Db, team: &str, login: &str, member: bool) -> Result<bool, UserError> {
    let team_id = team_id(db, team).await?;
    let user_id = user_id(db, login).await?;
    let changed = with_db!(db, |pool| {
        let sql = if member {
            "INSERT INTO team_members (team_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"
        } else {
            "DELETE FROM team_members WHERE team_id = $1 AND user_id = $2"
        };
        sqlx::query(sql)
            .bind(team_id)
            .bind(user_id)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(changed > 0)
}

/// Replaces a user's roles (at least one) in one transaction; the user after.
pub async fn set_roles(db: &Db, login: &str, roles: &[Role]) -> Result<User, UserError> {
    if roles.is_empty() {
        return Err(UserError::NoRoles);
    }
    let id = user_id(db, login).await?;
    let mut roles = roles.to_vec();
    roles.sort();
    roles.dedup();
    with_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        sqlx::query("DELETE FROM user_roles WHERE user_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        for role in &roles {
            sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)")
                .bind(id)
                .bind(role.as_str())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    });
    find_user(db, login)
        .await?
        .ok_or_else(|| UserError::UnknownUser(login.to_string()))
}

/// Disables a user (who can then no longer sign in) or enables them again.
pub async fn set_active(db: &Db, login: &str, active: bool) -> Result<(), UserError> {
    let changed = with_db!(db, |pool| {
        sqlx::query("UPDATE users SET active = $1 WHERE login = $2")
            .bind(active)
            .bind(login)
            .execute(pool)
            .await?
            .rows_affected()
    });
    if changed == 0 {
        return Err(UserError::UnknownUser(login.to_string()));
    }
    Ok(())
}

/// Looks a team's id up by name.
pub async fn team_id(db: &Db, name: &str) -> Result<TeamId, UserError> {
    let id: Option<i64> = with_db!(db, |pool| {
        sqlx::query_scalar("SELECT id FROM teams WHERE name = $1")
            .bind(name)
            .fetch_optional(pool)
            .await?
    });
    id.ok_or_else(|| UserError::UnknownTeam(name.to_string()))
}

/// Looks a user's id up by login.
pub async fn user_id(db: &Db, login: &str) -> Result<UserId, UserError> {
    let id: Option<i64> = with_db!(db, |pool| {
        sqlx::query_scalar("SELECT id FROM users WHERE login = $1")
            .bind(login)
            .fetch_optional(pool)
            .await?
    });
    id.ok_or_else(|| UserError::UnknownUser(login.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skills_parse_with_and_without_level() {
        assert_eq!(
            "english=80".parse::<Skill>().unwrap(),
            Skill {
                name: "english".into(),
                level: 80
            }
        );
        assert_eq!("spanish".parse::<Skill>().unwrap().level, 50);
        let err = "english=0".parse::<Skill>().unwrap_err();
        assert_eq!(err.to_string(), "skill 'english=0': the level must be from 1 to 100");
        assert!("=5".parse::<Skill>().is_err());
        assert!("x=high".parse::<Skill>().is_err());
    }

    #[test]
    fn logins_are_checked() {
        assert!(check_login("li.wei@example").is_ok());
        assert!(check_login("张伟").is_ok());
        let err = check_login("li wei").unwrap_err();
        assert_eq!(
            err.to_string(),
            "login 'li wei' is not allowed: it contains ' '; use letters, digits and . _ @ -"
        );
        assert!(check_login("").is_err());
    }

    #[test]
    fn roles_parse_case_insensitively() {
        assert_eq!("Supervisor".parse::<Role>().unwrap(), Role::Supervisor);
        assert_eq!(
            "boss".parse::<Role>().unwrap_err().to_string(),
            "unknown role 'boss'; roles are agent, supervisor, admin, analyst"
        );
    }
}
