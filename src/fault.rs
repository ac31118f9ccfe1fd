//! Fault steps as data: what to break, when (from the release) and for how
//! long. A leaf: config parses them, the session runs them, findings and
//! report show them, and none of those depend on each other for it.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::Serialize;

/// One kind of fault, with its argument where it takes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// SIGKILL the managed server, restart it on its port and directory.
    Kill,
    /// A clean SHUTDOWN (saving per the persistence setting), then restart.
    Restart,
    /// SIGSTOP the managed server for this long, then SIGCONT.
    Pause(Duration),
    /// `CLIENT KILL TYPE normal SKIPME yes`: every connection but the admin one.
    ClientKill,
    /// `CLIENT PAUSE <ms> WRITE`.
    ClientPause(Duration),
    /// `SCRIPT FLUSH`: every strategy's script is forgotten.
    ScriptFlush,
}

pub const KINDS: &str = "kill, restart, pause:D, client-kill, client-pause:D, script-flush";

impl FaultKind {
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Kill => "kill",
            FaultKind::Restart => "restart",
            FaultKind::Pause(_) => "pause",
            FaultKind::ClientKill => "client-kill",
            FaultKind::ClientPause(_) => "client-pause",
            FaultKind::ScriptFlush => "script-flush",
        }
    }

    /// Faults that act on the redis-server process need the managed one.
    pub fn needs_process(self) -> bool {
        matches!(
            self,
            FaultKind::Kill | FaultKind::Restart | FaultKind::Pause(_)
        )
    }

    /// Faults after which the server replays its persistence: acknowledged
    /// writes not yet on disk can be lost.
    pub fn restarts(self) -> bool {
        matches!(self, FaultKind::Kill | FaultKind::Restart)
    }

    /// The planned length of the fault, for those that have one.
    pub fn duration(self) -> Option<Duration> {
        match self {
            FaultKind::Pause(d) | FaultKind::ClientPause(d) => Some(d),
            _ => None,
        }
    }

    /// `kind` and an optional `duration` (a scenario's `[[fault]]` table,
    /// or `KIND:D` on the command line).
    pub fn parse(kind: &str, duration: Option<&str>) -> Result<FaultKind, String> {
        let d = || -> Result<Duration, String> {
            let raw =
                duration.ok_or_else(|| format!("{kind} needs a duration, e.g. {kind}:300ms"))?;
            let d = humantime::parse_duration(raw.trim())
                .map_err(|e| format!("{kind}: duration '{raw}': {e}"))?;
            if d.is_zero() || d > Duration::from_secs(60) {
                return Err(format!(
                    "{kind}: duration must be from 1ms to 60s, got '{raw}'"
                ));
            }
            Ok(d)
        };
        let kind_of = match kind.trim() {
            "kill" => FaultKind::Kill,
            "restart" => FaultKind::Restart,
            "client-kill" => FaultKind::ClientKill,
            "script-flush" => FaultKind::ScriptFlush,
            "pause" => return Ok(FaultKind::Pause(d()?)),
            "client-pause" => return Ok(FaultKind::ClientPause(d()?)),
            other => return Err(format!("unknown fault '{other}' (known: {KINDS})")),
        };
        match duration {
            Some(raw) => Err(format!("{kind} takes no duration, got '{raw}'")),
            None => Ok(kind_of),
        }
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.duration() {
            Some(d) => write!(f, "{}:{}", self.name(), humantime::format_duration(d)),
            None => f.write_str(self.name()),
        }
    }
}

impl Serialize for FaultKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// One planned fault: its kind and when, from the release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FaultStep {
    pub kind: FaultKind,
    /// From the release, µs.
    #[serde(rename = "at_us", serialize_with = "micros")]
    pub at: Duration,
    /// Pauses: how long, µs.
    #[serde(rename = "duration_us", serialize_with = "opt_micros")]
    pub duration: Option<Duration>,
}

fn micros<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

fn opt_micros<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => micros(d, s),
        None => s.serialize_none(),
    }
}

impl FaultStep {
    pub fn new(kind: FaultKind, at: Duration) -> FaultStep {
        FaultStep {
            kind,
            at,
            duration: kind.duration(),
        }
    }
}

impl FromStr for FaultStep {
    type Err = String;
    /// `KIND@AT` or `KIND:D@AT`, e.g. `kill@2s`, `pause:300ms@1500ms`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (what, at) = s
            .split_once('@')
            .ok_or_else(|| format!("expected KIND@AT (e.g. kill@2s, pause:300ms@1s), got '{s}'"))?;
        let (kind, duration) = match what.split_once(':') {
            Some((k, d)) => (k, Some(d)),
            None => (what, None),
        };
        let kind = FaultKind::parse(kind, duration)?;
        let at = humantime::parse_duration(at.trim())
            .map_err(|e| format!("'{s}': time '{at}': {e} (examples: 1500ms, 2s)"))?;
        Ok(FaultStep::new(kind, at))
    }
}

impl fmt::Display for FaultStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.kind, humantime::format_duration(self.at))
    }
}

/// What one planned fault did during one strategy's run, as measured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FaultRecord {
    #[serde(flatten)]
    pub step: FaultStep,
    /// When it actually began and ended, µs from the release; None when the
    /// crowd was done before its time came.
    pub began_us: Option<u64>,
    pub ended_us: Option<u64>,
    /// Buyers ended with an unknown outcome from its start until a second
    /// after its end.
    pub errors: u64,
    /// Purchases acknowledged in that window.
    pub purchased: u64,
    /// Restarts: acknowledged purchases the server no longer holds (the
    /// whole run's count, put on the last restart before the audit).
    pub acked_lost: Option<u64>,
}

/// The managed server's AOF fsync policy (`--appendfsync`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Fsync {
    Always,
    Everysec,
    No,
}

impl Fsync {
    pub fn name(self) -> &'static str {
        match self {
            Fsync::Always => "always",
            Fsync::Everysec => "everysec",
            Fsync::No => "no",
        }
    }

    /// Whether an acknowledged write is on disk before the reply: only then
    /// must a kill lose none.
    pub fn durable(self) -> bool {
        self == Fsync::Always
    }
}

impl FromStr for Fsync {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "always" => Ok(Fsync::Always),
            "everysec" => Ok(Fsync::Everysec),
            "no" => Ok(Fsync::No),
            other => Err(format!(
                "unknown appendfsync '{other}' (known: always, everysec, no)"
            )),
        }
    }
}

impl fmt::Display for Fsync {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_parse_and_name_what_is_wrong() {
        let s: FaultStep = "pause:300ms@1500ms".parse().unwrap();
        assert_eq!(s.kind, FaultKind::Pause(Duration::from_millis(300)));
        assert_eq!(s.at, Duration::from_millis(1500));
        assert_eq!(s.to_string(), "pause:300ms@1s 500ms");
        let k: FaultStep = "kill@2s".parse().unwrap();
        assert!(k.kind.needs_process() && k.kind.restarts());
        assert!("kill:1s@2s"
            .parse::<FaultStep>()
            .unwrap_err()
            .contains("no duration"));
        assert!("pause@2s"
            .parse::<FaultStep>()
            .unwrap_err()
            .contains("needs a duration"));
        assert!("nuke@2s"
            .parse::<FaultStep>()
            .unwrap_err()
            .contains("known:"));
        assert!("kill".parse::<FaultStep>().unwrap_err().contains("KIND@AT"));
    }
}
