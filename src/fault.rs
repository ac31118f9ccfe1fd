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
    /// Through the proxy: every reply chunk held back `min..=max` (drawn
    /// from the seed), for `window` or until the crowd is done.
    Latency {
        min: Duration,
        max: Duration,
        window: Option<Duration>,
    },
    /// Through the proxy: reset every buyer connection at once.
    Drop,
    /// Through the proxy: forward nothing either way for this long.
    Blackhole(Duration),
    /// On a cluster with replicas: `CLUSTER FAILOVER` on a replica of the
    /// primary that owns the strategy's keys, which promotes it. On a
    /// Sentinel service: `SENTINEL FAILOVER`.
    Failover,
}

pub const KINDS: &str = "kill, restart, pause:D, client-kill, client-pause:D, script-flush, \
                         latency:D[..D2][:FOR], drop, blackhole:D, failover";

/// The longest any fault may last, or delay a reply.
const LONGEST: Duration = Duration::from_secs(60);

impl FaultKind {
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Kill => "kill",
            FaultKind::Restart => "restart",
            FaultKind::Pause(_) => "pause",
            FaultKind::ClientKill => "client-kill",
            FaultKind::ClientPause(_) => "client-pause",
            FaultKind::ScriptFlush => "script-flush",
            FaultKind::Latency { .. } => "latency",
            FaultKind::Drop => "drop",
            FaultKind::Blackhole(_) => "blackhole",
            FaultKind::Failover => "failover",
        }
    }

    /// Network faults act between buyers and server: they need the local
    /// proxy, and so a plain TCP connection the proxy can stand in.
    pub fn needs_proxy(self) -> bool {
        matches!(
            self,
            FaultKind::Latency { .. } | FaultKind::Drop | FaultKind::Blackhole(_)
        )
    }

    /// Faults that act on the redis-server process need the managed one.
    pub fn needs_process(self) -> bool {
        matches!(
            self,
            FaultKind::Kill | FaultKind::Restart | FaultKind::Pause(_)
        )
    }

    /// A failover needs a replica to promote: a cluster whose primaries
    /// have replicas, or a Sentinel service; every other kind acts on one
    /// server.
    pub fn needs_replica(self) -> bool {
        self == FaultKind::Failover
    }

    /// A latency without a length lasts until the crowd is done.
    pub fn until_done(self) -> bool {
        matches!(self, FaultKind::Latency { window: None, .. })
    }

    /// Faults after which the server replays its persistence: acknowledged
    /// writes not yet on disk can be lost.
    pub fn restarts(self) -> bool {
        matches!(self, FaultKind::Kill | FaultKind::Restart)
    }

    /// Faults an acknowledged write may not survive: a restart (what was
    /// not on disk) or a failover (what the replica had not received).
    /// Lost acknowledgements are put on these.
    pub fn may_lose_acks(self) -> bool {
        self.restarts() || self == FaultKind::Failover
    }

    /// The planned length of the fault, for those that have one.
    pub fn duration(self) -> Option<Duration> {
        match self {
            FaultKind::Pause(d) | FaultKind::ClientPause(d) | FaultKind::Blackhole(d) => Some(d),
            FaultKind::Latency { window, .. } => window,
            _ => None,
        }
    }

    /// `spec` is `KIND`, `KIND:ARG` or (latency) `KIND:ARG:FOR`, as on the
    /// command line; `duration` is a scenario `[[fault]]` table's, which
    /// stands for the argument of a pause-like kind and for a latency's FOR.
    pub fn parse(spec: &str, duration: Option<&str>) -> Result<FaultKind, String> {
        let mut parts = spec.trim().splitn(3, ':');
        let kind = parts.next().unwrap_or_default().trim();
        let (arg, window) = (parts.next(), parts.next());
        if kind == "latency" {
            let delay =
                arg.ok_or("latency needs a delay, e.g. latency:5ms or latency:5ms..20ms")?;
            if window.is_some() && duration.is_some() {
                return Err("latency: give its length once, as :FOR or as duration".into());
            }
            return latency(delay, window.or(duration));
        }
        if let Some(extra) = window {
            return Err(format!("{kind} takes one argument, got ':{extra}' too"));
        }
        let length = match (arg, duration) {
            (Some(_), Some(_)) => {
                return Err(format!(
                    "{kind}: give its duration once, as {kind}:D or duration"
                ))
            }
            (a, d) => a.or(d),
        };
        let d = || -> Result<Duration, String> {
            let raw =
                length.ok_or_else(|| format!("{kind} needs a duration, e.g. {kind}:300ms"))?;
            span(kind, raw)
        };
        let kind_of = match kind {
            "kill" => FaultKind::Kill,
            "restart" => FaultKind::Restart,
            "client-kill" => FaultKind::ClientKill,
            "script-flush" => FaultKind::ScriptFlush,
            "drop" => FaultKind::Drop,
            "failover" => FaultKind::Failover,
            "pause" => return Ok(FaultKind::Pause(d()?)),
            "client-pause" => return Ok(FaultKind::ClientPause(d()?)),
            "blackhole" => return Ok(FaultKind::Blackhole(d()?)),
            other => return Err(format!("unknown fault '{other}' (known: {KINDS})")),
        };
        match length {
            Some(raw) => Err(format!("{kind} takes no duration, got '{raw}'")),
            None => Ok(kind_of),
        }
    }
}

/// A duration from 1 ms to a minute.
fn span(kind: &str, raw: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(raw.trim())
        .map_err(|e| format!("{kind}: duration '{raw}': {e}"))?;
    if d.is_zero() || d > LONGEST {
        return Err(format!(
            "{kind}: duration must be from 1ms to 60s, got '{raw}'"
        ));
    }
    Ok(d)
}

/// `D` or `D..D2` (each reply held back a time drawn between the two), and
/// how long the latency lasts, when not until the crowd is done.
fn latency(delay: &str, window: Option<&str>) -> Result<FaultKind, String> {
    let (lo, hi) = delay.split_once("..").unwrap_or((delay, delay));
    let (min, max) = (span("latency", lo)?, span("latency", hi)?);
    if min > max {
        return Err(format!("latency: '{delay}' runs backwards; write MIN..MAX"));
    }
    let window = window.map(|w| span("latency", w)).transpose()?;
    Ok(FaultKind::Latency { min, max, window })
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = humantime::format_duration;
        match *self {
            FaultKind::Latency { min, max, window } => {
                write!(f, "latency:{}", h(min))?;
                if max != min {
                    write!(f, "..{}", h(max))?;
                }
                match window {
                    Some(w) => write!(f, ":{}", h(w)),
                    None => Ok(()),
                }
            }
            _ => match self.duration() {
                Some(d) => write!(f, "{}:{}", self.name(), h(d)),
                None => f.write_str(self.name()),
            },
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
    /// Latency: the range each reply is held back, µs.
    #[serde(rename = "delay_us", serialize_with = "opt_range")]
    pub delay: Option<(Duration, Duration)>,
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

fn opt_range<S: serde::Serializer>(
    r: &Option<(Duration, Duration)>,
    s: S,
) -> Result<S::Ok, S::Error> {
    let us = |d: &Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
    match r {
        Some((lo, hi)) => s.collect_seq([us(lo), us(hi)]),
        None => s.serialize_none(),
    }
}

impl FaultStep {
    pub fn new(kind: FaultKind, at: Duration) -> FaultStep {
        let delay = match kind {
            FaultKind::Latency { min, max, .. } => Some((min, max)),
            _ => None,
        };
        FaultStep {
            kind,
            at,
            duration: kind.duration(),
            delay,
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
        let kind = FaultKind::parse(what, None)?;
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
    /// Attempts ended with an unknown outcome (also those `--retry-unknown`
    /// tried again) from its start until a second after its end.
    pub errors: u64,
    /// Purchases acknowledged in that window.
    pub purchased: u64,
    /// Restarts: acknowledged purchases the server no longer holds, each
    /// put on the first restart that began after it was acknowledged.
    pub acked_lost: Option<u64>,
    /// Purchases per second in the second before it began.
    pub pre_fault_per_s: Option<u64>,
    /// From its end until purchases per second were back to half the
    /// pre-fault rate (over 500 ms windows, 50 ms apart). None: no
    /// pre-fault rate, a fault lasting to the end, or never recovered
    /// (then `pre_fault_per_s` is set).
    pub recovery_us: Option<u64>,
    /// Restarts and failovers that lost acknowledged orders: from the
    /// earliest of them to the fault's start, or to the last when later.
    pub loss_window_us: Option<u64>,
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
mod tests;
