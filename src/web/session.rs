//! Signed-in sessions: a random token in an HttpOnly, SameSite=Strict cookie names a session
//! held here, with the user, their roles and the session's CSRF token. Sessions end on
//! sign-out, on a password change, or after `idle` without a request.

use std::collections::HashMap;
use std::sync::RwLock;

use chrono::{DateTime, Duration, Utc};
use paceline_dialer::users::{Role, User, UserId};
use rand::RngExt;

/// The session cookie's name.
pub const COOKIE: &str = "paceline_session";

/// One signed-in user's session.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// The user.
    pub user: UserId,
    /// Their sign-in name.
    pub login: String,
    /// Their shown name.
    pub display_name: String,
    /// Their roles.
    pub roles: Vec<Role>,
    /// Their teams, by name.
    pub teams: Vec<String>,
    /// The token every state-changing request of this session carries (form field `csrf` or
    /// header `X-CSRF-Token`).
    pub csrf: String,
    /// When it ends unless used.
    pub expires: DateTime<Utc>,
}

impl Session {
    /// Whether the user holds `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// The sessions of this server.
#[derive(Debug)]
pub struct Sessions {
    map: RwLock<HashMap<String, Session>>,
    idle: Duration,
}

/// A random token: 32 bytes from the operating system's generator, hex.
pub fn token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Sessions {
    /// Sessions that end after `idle` without a request.
    pub fn new(idle: Duration) -> Self {
        Sessions {
            map: RwLock::new(HashMap::new()),
            idle,
        }
    }

    /// Opens a session for `user`; returns its token (the cookie's value).
    pub fn open(&self, user: &User, now: DateTime<Utc>) -> (String, Session) {
        let session = Session {
            user: user.id,
            login: user.login.clone(),
            display_name: user.display_name.clone(),
            roles: user.roles.clone(),
            teams: user.teams.clone(),
            csrf: token(),
            expires: now + self.idle,
        };
        let key = token();
        self.map.write().expect("sessions").insert(key.clone(), session.clone());
        (key, session)
    }

    /// The session of `token`, if it is open; using it keeps it open for another `idle`.
    pub fn get(&self, token: &str, now: DateTime<Utc>) -> Option<Session> {
        let mut map = self.map.write().expect("sessions");
        let session = map.get_mut(token)?;
        if session.expires <= now {
            map.remove(token);
            return None;
        }
        session.expires = now + self.idle;
        Some(session.clone())
    }

    /// Ends one session.
    pub fn close(&self, token: &str) {
        self.map.write().expect("sessions").remove(token);
    }

    /// Ends every session of a user but `keep` (after a password change, or when disabled).
    pub fn close_user(&self, user: UserId, keep: Option<&str>) {
        self.map
            .write()
            .expect("sessions")
            .retain(|key, s| s.user != user || Some(key.as_str()) == keep);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: UserId) -> User {
        User {
            id,
            login: format!("u{id}"),
            display_name: "U".into(),
            active: true,
            roles: vec![Role::Agent],
            teams: vec![],
            skills: vec![],
            created_at: Utc::now(),
        }
    }

    #[test]
    fn a_session_lasts_while_used_and_ends_when_idle() {
        let sessions = Sessions::new(Duration::minutes(30));
        let t0 = Utc::now();
        let (key, session) = sessions.open(&user(1), t0);
        assert_eq!(key.len(), 64);
        assert_ne!(session.csrf, key);
        assert!(sessions.get(&key, t0 + Duration::minutes(29)).is_some());
        // Used at 29 minutes: open until 59.
        assert!(sessions.get(&key, t0 + Duration::minutes(58)).is_some());
        assert!(sessions.get(&key, t0 + Duration::minutes(90)).is_none());
        assert!(sessions.get(&key, t0).is_none(), "an expired session is gone");
        assert!(sessions.get("not a token", t0).is_none());
    }

    #[test]
    fn a_password_change_ends_the_users_other_sessions() {
        let sessions = Sessions::new(Duration::hours(1));
        let now = Utc::now();
        let (a, _) = sessions.open(&user(1), now);
        let (b, _) = sessions.open(&user(1), now);
        let (c, _) = sessions.open(&user(2), now);
        sessions.close_user(1, Some(&a));
        assert!(sessions.get(&a, now).is_some());
        assert!(sessions.get(&b, now).is_none());
        assert!(sessions.get(&c, now).is_some());
    }
}
