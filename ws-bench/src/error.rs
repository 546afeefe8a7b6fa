//! The benchmark's one error type: a message that says which client, case and step failed.
//!
//! A benchmark has no caller that recovers from an error, so a description is all it needs;
//! keeping it a plain string lets every library's error (tungstenite, the adapters, I/O,
//! a failed echo check) convert with `?`.

use std::fmt;

/// What went wrong, in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error(pub String);

impl Error {
    /// An error with `message`.
    pub fn new(message: impl Into<String>) -> Self {
        Error(message.into())
    }

    /// The same error, prefixed with where it happened.
    #[must_use]
    pub fn context(self, place: impl fmt::Display) -> Self {
        Error(format!("{place}: {}", self.0))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

macro_rules! from_error {
    ($($source:ty),* $(,)?) => {
        $(impl From<$source> for Error {
            fn from(error: $source) -> Self {
                Error(error.to_string())
            }
        })*
    };
}

from_error!(
    std::io::Error,
    tungstenite::Error,
    ws_tokio::Error,
    ws_tokio::SendError,
    crate::workload::Mismatch,
    tokio::task::JoinError,
    serde_json::Error,
    ws_core::ConfigError,
);

/// The benchmark's result type.
pub type Result<T> = std::result::Result<T, Error>;
