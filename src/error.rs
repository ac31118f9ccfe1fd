//! The error type and the exit-code contract.
//!
//! Every failure is sorted at the point it happens into one of two classes the
//! user can act on: something they typed (exit 2) or the infrastructure (exit 3).
//! A failed expectation is not an error at all; it is a verdict (exit 1).

use std::fmt;

/// The process exit codes, as documented in the README and `--help`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Every expectation held.
    Held = 0,
    /// A correctness expectation failed (oversell, lost order, lost teeth).
    ExpectationFailed = 1,
    /// Bad usage or configuration: fix the flag or file named in the message.
    Usage = 2,
    /// Redis unreachable, credentials refused, redis-server missing or died.
    Infra = 3,
    /// Correctness held, but a performance threshold was missed.
    ThresholdsMissed = 4,
    /// Interrupted with Ctrl-C (the conventional 128 + SIGINT).
    Interrupted = 130,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A flag, value or file the user can fix. The message names it.
    #[error("{0}")]
    Usage(String),
    /// Redis or redis-server failed. The message names the (masked) URL and a fix.
    #[error("{0}")]
    Infra(String),
    /// The server lacks a feature a strategy needs (e.g. functions before
    /// Redis 7). The run goes on without that strategy, then exits 3.
    #[error("{0}")]
    Unavailable(String),
}

impl Error {
    pub fn usage(msg: impl fmt::Display) -> Self {
        Error::Usage(msg.to_string())
    }

    pub fn infra(msg: impl fmt::Display) -> Self {
        Error::Infra(msg.to_string())
    }

    pub fn status(&self) -> ExitStatus {
        match self {
            Error::Usage(_) => ExitStatus::Usage,
            Error::Infra(_) | Error::Unavailable(_) => ExitStatus::Infra,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
