//! What the application asks of the driver.

use std::fmt;

use ws_core::{CloseCode, CloseError, Message, Text};

/// A request from an application handle to its driver, carried over the command channel in
/// the order the application made them.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Command {
    /// Send now if open, else queue (see `Supervisor::send`).
    Send(Message),
    /// Send ahead of the queue, only on an open connection (login or subscribe messages with
    /// `hold_queue_until_ready`).
    SendNow(Message),
    /// Release the queue held by `hold_queue_until_ready`.
    Ready,
    /// Close gracefully; never followed by a reconnect.
    Close {
        /// The code to send.
        code: CloseCode,
        /// The reason to send.
        reason: Text,
    },
    /// Replace the connection now (e.g. after a network change).
    ReconnectNow,
    /// The network changed: probe an open connection at once, or skip a backoff wait.
    NetworkChanged,
}

/// Checks a close code and reason the way the supervisor will ([`CloseError::check`]), so a
/// handle can report a bad one to its caller at once instead of through the event stream.
pub fn check_close(code: CloseCode, reason: &Text) -> Result<(), CloseError> {
    CloseError::check(code, reason)
}

/// Why a handle's `try_send` handed a message back (the same in every adapter).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum TrySendError {
    /// The command channel is full: the driver is behind (the socket does not take writes,
    /// or the application is not reading events). Retry later, or use the waiting `send`.
    Full(Message),
    /// The client has stopped for good.
    Stopped(Message),
}

impl TrySendError {
    /// The error for a [`Command::Send`] the command channel refused: [`Full`](Self::Full)
    /// when it had no room, else [`Stopped`](Self::Stopped).
    ///
    /// # Panics
    ///
    /// If `command` is not a [`Command::Send`]: `try_send` offers nothing else.
    pub fn refused(command: Command, full: bool) -> Self {
        let Command::Send(message) = command else {
            panic!("try_send offers only Command::Send, got {command:?}");
        };
        if full {
            TrySendError::Full(message)
        } else {
            TrySendError::Stopped(message)
        }
    }

    /// The message, untouched.
    pub fn into_message(self) -> Message {
        match self {
            TrySendError::Full(message) | TrySendError::Stopped(message) => message,
        }
    }
}

impl fmt::Display for TrySendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(m) => write!(
                f,
                "message of {} bytes not taken: the command channel is full",
                m.len()
            ),
            TrySendError::Stopped(m) => write!(
                f,
                "message of {} bytes not taken: the connection has stopped",
                m.len()
            ),
        }
    }
}

impl std::error::Error for TrySendError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_arguments_are_checked_like_the_supervisor_does() {
        assert_eq!(check_close(CloseCode::NORMAL, &Text::from("bye")), Ok(()));
        assert_eq!(
            check_close(CloseCode::ABNORMAL, &Text::new()),
            Err(CloseError::CodeNotSendable(CloseCode::ABNORMAL))
        );
        let long = Text::from("x".repeat(124));
        assert_eq!(
            check_close(CloseCode::NORMAL, &long),
            Err(CloseError::ReasonTooLong(124))
        );
    }

    #[test]
    fn a_refused_send_gives_its_message_back_with_the_reason() {
        let full = TrySendError::refused(Command::Send(Message::from("a")), true);
        assert_eq!(
            full.to_string(),
            "message of 1 bytes not taken: the command channel is full"
        );
        let stopped = TrySendError::refused(Command::Send(Message::from("bc")), false);
        assert!(matches!(&stopped, TrySendError::Stopped(_)));
        assert_eq!(stopped.into_message().as_text(), Some("bc"));
    }
}
