//! What the application asks of the driver.

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
}
