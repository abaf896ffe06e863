//! Failed sign-ins are limited per login and per client address: after `max` failures within
//! `window`, further attempts are refused until the oldest failure leaves the window, so a
//! password cannot be guessed at speed (and one address cannot try many logins).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

/// What is counted: a login, or a client address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Login(String),
    Address(IpAddr),
}

/// The failure counts.
#[derive(Debug)]
pub struct LoginLimit {
    max: usize,
    window: Duration,
    failures: Mutex<HashMap<Key, VecDeque<DateTime<Utc>>>>,
}

impl LoginLimit {
    /// At most `max` failures per login and per address within `window`.
    pub fn new(max: usize, window: Duration) -> Self {
        LoginLimit {
            max,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn keys(login: &str, address: IpAddr) -> [Key; 2] {
        [Key::Login(login.trim().to_lowercase()), Key::Address(address)]
    }

    /// Whether an attempt may be made now; if not, when the next may.
    pub fn check(&self, login: &str, address: IpAddr, now: DateTime<Utc>) -> Result<(), DateTime<Utc>> {
        let mut failures = self.failures.lock().expect("login failures");
        let mut until = None;
        for key in Self::keys(login, address) {
            if let Some(times) = failures.get_mut(&key) {
                while times.front().is_some_and(|t| *t + self.window <= now) {
                    times.pop_front();
                }
                if times.len() >= self.max {
                    let free = times[times.len() - self.max] + self.window;
                    until = Some(until.map_or(free, |u: DateTime<Utc>| u.max(free)));
                }
            }
        }
        until.map_or(Ok(()), Err)
    }

    /// Counts a failed attempt.
    pub fn failed(&self, login: &str, address: IpAddr, now: DateTime<Utc>) {
        let mut failures = self.failures.lock().expect("login failures");
        for key in Self::keys(login, address) {
            failures.entry(key).or_default().push_back(now);
        }
    }

    /// A successful sign-in clears the login's failures (not the address's).
    pub fn succeeded(&self, login: &str) {
        let mut failures = self.failures.lock().expect("login failures");
        failures.remove(&Key::Login(login.trim().to_lowercase()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sixth_failure_within_the_window_waits_for_the_first_to_leave_it() {
        let limit = LoginLimit::new(5, Duration::minutes(15));
        let here: IpAddr = "127.0.0.1".parse().unwrap();
        let t0 = Utc::now();
        for i in 0..5 {
            let at = t0 + Duration::minutes(i);
            assert!(limit.check("Agent", here, at).is_ok());
            limit.failed("Agent", here, at);
        }
        let refused = limit.check("agent", here, t0 + Duration::minutes(5));
        assert_eq!(refused, Err(t0 + Duration::minutes(15)));
        assert!(limit.check("agent", here, t0 + Duration::minutes(15)).is_ok());
    }

    #[test]
    fn one_address_cannot_try_many_logins() {
        let limit = LoginLimit::new(3, Duration::minutes(15));
        let here: IpAddr = "10.0.0.9".parse().unwrap();
        let elsewhere: IpAddr = "10.0.0.10".parse().unwrap();
        let t0 = Utc::now();
        for login in ["a", "b", "c"] {
            limit.failed(login, here, t0);
        }
        assert!(limit.check("d", here, t0).is_err());
        assert!(limit.check("d", elsewhere, t0).is_ok());
    }

    #[test]
    fn success_clears_the_logins_count() {
        let limit = LoginLimit::new(2, Duration::minutes(15));
        let t0 = Utc::now();
        limit.failed("a", "10.0.0.1".parse().unwrap(), t0);
        limit.failed("a", "10.0.0.2".parse().unwrap(), t0);
        assert!(limit.check("a", "10.0.0.3".parse().unwrap(), t0).is_err());
        limit.succeeded("a");
        assert!(limit.check("a", "10.0.0.3".parse().unwrap(), t0).is_ok());
    }
}
