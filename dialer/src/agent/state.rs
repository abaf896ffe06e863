//! The agent state machine, as plain data: which command is legal in which state, and where
//! it leads. No I/O; [`super::pool`] stores and publishes what this decides.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Identifies a live call in the switch (an answered outbound attempt or an inbound call).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CallId(pub String);

impl fmt::Display for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where an agent stands. Calls travel with the states that have one, so an agent that is
/// not on a call cannot hold a call id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum AgentState {
    /// Not signed in; takes no calls.
    LoggedOut,
    /// Signed in and waiting for a call.
    Ready,
    /// Signed in but taking no calls, for a reason (break, training, after-call work...).
    NotReady {
        /// Why, in the words of the agent or supervisor.
        reason: String,
    },
    /// Chosen for a call that is being connected; no other call may be offered.
    Reserved {
        /// The call the agent is reserved for.
        call: CallId,
    },
    /// Talking.
    OnCall {
        /// The call in progress.
        call: CallId,
    },
    /// The call has ended; the agent completes its disposition and notes.
    WrapUp {
        /// The call being wrapped up.
        call: CallId,
    },
}

/// The state names used in storage, events and the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StateKind {
    /// See [`AgentState::LoggedOut`].
    LoggedOut,
    /// See [`AgentState::Ready`].
    Ready,
    /// See [`AgentState::NotReady`].
    NotReady,
    /// See [`AgentState::Reserved`].
    Reserved,
    /// See [`AgentState::OnCall`].
    OnCall,
    /// See [`AgentState::WrapUp`].
    WrapUp,
}

impl StateKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            StateKind::LoggedOut => "logged_out",
            StateKind::Ready => "ready",
            StateKind::NotReady => "not_ready",
            StateKind::Reserved => "reserved",
            StateKind::OnCall => "on_call",
            StateKind::WrapUp => "wrap_up",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "logged_out" => StateKind::LoggedOut,
            "ready" => StateKind::Ready,
            "not_ready" => StateKind::NotReady,
            "reserved" => StateKind::Reserved,
            "on_call" => StateKind::OnCall,
            "wrap_up" => StateKind::WrapUp,
            _ => return None,
        })
    }
}

impl fmt::Display for StateKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl AgentState {
    /// The state's name without its data.
    pub fn kind(&self) -> StateKind {
        match self {
            AgentState::LoggedOut => StateKind::LoggedOut,
            AgentState::Ready => StateKind::Ready,
            AgentState::NotReady { .. } => StateKind::NotReady,
            AgentState::Reserved { .. } => StateKind::Reserved,
            AgentState::OnCall { .. } => StateKind::OnCall,
            AgentState::WrapUp { .. } => StateKind::WrapUp,
        }
    }

    /// The call this state holds, if any.
    pub fn call(&self) -> Option<&CallId> {
        match self {
            AgentState::Reserved { call } | AgentState::OnCall { call } | AgentState::WrapUp { call } => Some(call),
            _ => None,
        }
    }

    /// The not-ready reason, if the state has one.
    pub fn reason(&self) -> Option<&str> {
        match self {
            AgentState::NotReady { reason } => Some(reason),
            _ => None,
        }
    }

    /// Rebuilds a state from its stored parts.
    pub fn from_parts(kind: StateKind, reason: Option<String>, call: Option<CallId>) -> Result<Self, String> {
        let need_call = |call: Option<CallId>| call.ok_or_else(|| format!("state {kind} needs a call id"));
        Ok(match kind {
            StateKind::LoggedOut => AgentState::LoggedOut,
            StateKind::Ready => AgentState::Ready,
            StateKind::NotReady => AgentState::NotReady {
                reason: reason.unwrap_or_default(),
            },
            StateKind::Reserved => AgentState::Reserved { call: need_call(call)? },
            StateKind::OnCall => AgentState::OnCall { call: need_call(call)? },
            StateKind::WrapUp => AgentState::WrapUp { call: need_call(call)? },
        })
    }
}

/// What an agent, a supervisor or the dialer asks of an agent's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    /// Sign in; the agent starts not ready ("logged_in") until they choose to be ready.
    LogIn,
    /// Become ready for calls; during wrap-up, this ends the wrap-up.
    GoReady,
    /// Stop taking calls for a reason. On a call or in wrap-up, it takes effect when the
    /// wrap-up ends.
    GoNotReady {
        /// Why.
        reason: String,
    },
    /// Reserve a ready agent for a call being connected.
    Reserve {
        /// The call.
        call: CallId,
    },
    /// Give back a reservation whose call never reached the agent.
    Release,
    /// The reserved call is connected to the agent.
    Connect {
        /// The call, which must be the reserved one.
        call: CallId,
    },
    /// The call ended (either side hung up); wrap-up begins.
    HangUp,
    /// Wrap-up is done; the agent becomes ready, or not ready if they asked for it meanwhile.
    EndWrapUp,
    /// Sign out, when not on a call.
    LogOut,
    /// A supervisor signs the agent out whatever they are doing (IN-11).
    ForceLogOut,
}

impl Command {
    /// The command's stored name.
    pub fn name(&self) -> &'static str {
        match self {
            Command::LogIn => "log_in",
            Command::GoReady => "go_ready",
            Command::GoNotReady { .. } => "go_not_ready",
            Command::Reserve { .. } => "reserve",
            Command::Release => "release",
            Command::Connect { .. } => "connect",
            Command::HangUp => "hang_up",
            Command::EndWrapUp => "end_wrap_up",
            Command::LogOut => "log_out",
            Command::ForceLogOut => "force_log_out",
        }
    }
}

/// The not-ready reason an agent has right after logging in.
pub const LOGIN_REASON: &str = "logged_in";

/// An agent's state together with what they asked to happen after the current call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentStatus {
    /// The current state.
    pub state: AgentState,
    /// A not-ready reason requested during a call, applied when wrap-up ends.
    pub after_call: Option<String>,
}

impl Default for AgentStatus {
    fn default() -> Self {
        Self {
            state: AgentState::LoggedOut,
            after_call: None,
        }
    }
}

/// Why a command was refused; the state is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The command has no meaning in the current state.
    #[error("cannot {command} while {state}")]
    Illegal {
        /// The refused command's name.
        command: &'static str,
        /// The state it was refused in.
        state: StateKind,
    },
    /// The call named is not the one the agent holds.
    #[error("cannot {command} call {got}: the agent holds call {held}")]
    WrongCall {
        /// The refused command's name.
        command: &'static str,
        /// The call named.
        got: CallId,
        /// The call the agent holds.
        held: CallId,
    },
    /// A not-ready reason must say something.
    #[error("a not-ready reason must not be empty")]
    EmptyReason,
}

impl AgentStatus {
    /// Decides where `command` leads from here; the whole transition table is this one match.
    pub fn apply(&self, command: &Command) -> Result<AgentStatus, TransitionError> {
        use AgentState as S;
        let illegal = || TransitionError::Illegal {
            command: command.name(),
            state: self.state.kind(),
        };
        let to = |state: AgentState, after_call: Option<String>| Ok(AgentStatus { state, after_call });
        if let Command::GoNotReady { reason } = command
            && reason.trim().is_empty()
        {
            return Err(TransitionError::EmptyReason);
        }
        match (&self.state, command) {
            (S::LoggedOut, Command::LogIn) => to(
                S::NotReady {
                    reason: LOGIN_REASON.to_string(),
                },
                None,
            ),
            (S::NotReady { .. }, Command::GoReady) => to(S::Ready, None),
            (S::Ready | S::NotReady { .. }, Command::GoNotReady { reason }) => {
                to(S::NotReady { reason: reason.clone() }, None)
            }
            (S::Reserved { .. } | S::OnCall { .. }, Command::GoNotReady { reason }) => {
                to(self.state.clone(), Some(reason.clone()))
            }
            (S::WrapUp { .. }, Command::GoNotReady { reason }) => to(self.state.clone(), Some(reason.clone())),
            (S::Ready, Command::Reserve { call }) => to(S::Reserved { call: call.clone() }, None),
            (S::Reserved { .. }, Command::Release) => match &self.after_call {
                Some(reason) => to(S::NotReady { reason: reason.clone() }, None),
                None => to(S::Ready, None),
            },
            (S::Reserved { call: held }, Command::Connect { call }) => {
                if held == call {
                    to(S::OnCall { call: call.clone() }, self.after_call.clone())
                } else {
                    Err(TransitionError::WrongCall {
                        command: command.name(),
                        got: call.clone(),
                        held: held.clone(),
                    })
                }
            }
            (S::OnCall { call }, Command::HangUp) => to(S::WrapUp { call: call.clone() }, self.after_call.clone()),
            (S::WrapUp { .. }, Command::EndWrapUp | Command::GoReady) => match (&self.after_call, command) {
                (Some(reason), Command::EndWrapUp) => to(S::NotReady { reason: reason.clone() }, None),
                _ => to(S::Ready, None),
            },
            (S::Ready | S::NotReady { .. } | S::WrapUp { .. }, Command::LogOut) => to(S::LoggedOut, None),
            (S::LoggedOut, Command::ForceLogOut) => Err(illegal()),
            (_, Command::ForceLogOut) => to(S::LoggedOut, None),
            _ => Err(illegal()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn call(n: u8) -> CallId {
        CallId(format!("c{n}"))
    }

    fn status(state: AgentState) -> AgentStatus {
        AgentStatus {
            state,
            after_call: None,
        }
    }

    #[test]
    fn a_day_at_the_desk() {
        let mut s = AgentStatus::default();
        for (command, expect) in [
            (Command::LogIn, StateKind::NotReady),
            (Command::GoReady, StateKind::Ready),
            (Command::Reserve { call: call(1) }, StateKind::Reserved),
            (Command::Connect { call: call(1) }, StateKind::OnCall),
            (Command::GoNotReady { reason: "lunch".into() }, StateKind::OnCall),
            (Command::HangUp, StateKind::WrapUp),
            (Command::EndWrapUp, StateKind::NotReady),
            (Command::LogOut, StateKind::LoggedOut),
        ] {
            s = s.apply(&command).unwrap();
            assert_eq!(s.state.kind(), expect, "after {command:?}");
        }
    }

    #[test]
    fn not_ready_requested_on_a_call_applies_after_wrap_up() {
        let s = status(AgentState::OnCall { call: call(1) })
            .apply(&Command::GoNotReady { reason: "break".into() })
            .unwrap();
        assert_eq!(s.after_call.as_deref(), Some("break"));
        let s = s.apply(&Command::HangUp).unwrap().apply(&Command::EndWrapUp).unwrap();
        assert_eq!(s.state, AgentState::NotReady { reason: "break".into() });
        assert_eq!(s.after_call, None);
    }

    #[test]
    fn going_ready_in_wrap_up_overrides_a_pending_not_ready() {
        let s = AgentStatus {
            state: AgentState::WrapUp { call: call(1) },
            after_call: Some("break".into()),
        };
        assert_eq!(s.apply(&Command::GoReady).unwrap(), status(AgentState::Ready));
    }

    #[test]
    fn illegal_commands_name_the_command_and_state() {
        let err = status(AgentState::LoggedOut).apply(&Command::GoReady).unwrap_err();
        assert_eq!(err.to_string(), "cannot go_ready while logged_out");
        let err = status(AgentState::OnCall { call: call(1) })
            .apply(&Command::LogOut)
            .unwrap_err();
        assert_eq!(err.to_string(), "cannot log_out while on_call");
        let err = status(AgentState::NotReady { reason: "x".into() })
            .apply(&Command::Reserve { call: call(1) })
            .unwrap_err();
        assert_eq!(err.to_string(), "cannot reserve while not_ready");
    }

    #[test]
    fn connecting_another_call_than_the_reserved_one_is_refused() {
        let err = status(AgentState::Reserved { call: call(1) })
            .apply(&Command::Connect { call: call(2) })
            .unwrap_err();
        assert_eq!(err.to_string(), "cannot connect call c2: the agent holds call c1");
    }

    #[test]
    fn empty_reasons_are_refused() {
        let err = status(AgentState::Ready)
            .apply(&Command::GoNotReady { reason: "  ".into() })
            .unwrap_err();
        assert_eq!(err, TransitionError::EmptyReason);
    }

    #[test]
    fn force_log_out_works_from_every_signed_in_state() {
        for state in [
            AgentState::Ready,
            AgentState::NotReady { reason: "x".into() },
            AgentState::Reserved { call: call(1) },
            AgentState::OnCall { call: call(1) },
            AgentState::WrapUp { call: call(1) },
        ] {
            let s = status(state).apply(&Command::ForceLogOut).unwrap();
            assert_eq!(s, AgentStatus::default());
        }
        assert!(AgentStatus::default().apply(&Command::ForceLogOut).is_err());
    }

    pub(crate) fn any_command() -> impl Strategy<Value = Command> {
        prop_oneof![
            Just(Command::LogIn),
            Just(Command::GoReady),
            "[a-z]{0,3}".prop_map(|reason| Command::GoNotReady { reason }),
            (0u8..4).prop_map(|n| Command::Reserve { call: call(n) }),
            Just(Command::Release),
            (0u8..4).prop_map(|n| Command::Connect { call: call(n) }),
            Just(Command::HangUp),
            Just(Command::EndWrapUp),
            Just(Command::LogOut),
            Just(Command::ForceLogOut),
        ]
    }

    /// What a state must satisfy, whatever led to it.
    fn well_formed(s: &AgentStatus) -> Result<(), String> {
        match &s.state {
            AgentState::LoggedOut | AgentState::Ready if s.after_call.is_some() => {
                Err(format!("{:?} keeps a pending not-ready", s.state))
            }
            AgentState::NotReady { reason } if reason.trim().is_empty() => Err("not ready without a reason".into()),
            AgentState::NotReady { .. } if s.after_call.is_some() => Err("not ready keeps a pending not-ready".into()),
            _ => Ok(()),
        }
    }

    proptest! {
        #[test]
        fn no_sequence_reaches_an_ill_formed_state(commands in prop::collection::vec(any_command(), 0..200)) {
            let mut s = AgentStatus::default();
            for command in &commands {
                // A refusal changes nothing: `s` stays as it was.
                if let Ok(next) = s.apply(command) {
                    // A call id is only ever introduced by reserve, and kept until log-out.
                    match (&s.state.call(), &next.state.call()) {
                        (None, Some(c)) => prop_assert_eq!(command, &Command::Reserve { call: (*c).clone() }),
                        (Some(a), Some(b)) => prop_assert_eq!(a, b),
                        _ => {}
                    }
                    s = next;
                }
                prop_assert!(well_formed(&s).is_ok(), "{:?}", well_formed(&s));
            }
        }

        #[test]
        fn a_signed_in_agent_can_always_be_signed_out(commands in prop::collection::vec(any_command(), 0..50)) {
            let mut s = AgentStatus::default();
            for command in &commands {
                if let Ok(next) = s.apply(command) { s = next; }
            }
            if s.state != AgentState::LoggedOut {
                prop_assert_eq!(s.apply(&Command::ForceLogOut).unwrap(), AgentStatus::default());
            }
        }
    }
}
