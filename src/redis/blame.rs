//! Blame the right party: a Redis failure is sorted by what the server (or
//! the socket) said, not by the step that was running, and each class gets
//! its own message and its own fix. Every class is an infrastructure error
//! (exit 3); what differs is who must act and how.

use std::path::Path;

use fred::error::{Error as FredError, ErrorKind};

use super::redact;

mod tls;
use crate::error::Error;
pub use tls::TlsCause;

/// Who a failure is blamed on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blame {
    /// Refused, timed out, TLS, connection lost: the network or the server process.
    Connectivity,
    /// WRONGPASS, NOAUTH: the user and password in the URL.
    Authentication,
    /// NOPERM: the ACL user lacks a command (lower case, as Redis names it,
    /// e.g. `evalsha` or `script|load`) or `None` for a key pattern.
    Permission { command: Option<String> },
    /// The Lua script: it does not compile, failed at run time, or ran past
    /// the server's busy threshold. `line` when the reply names one.
    Script {
        fault: ScriptFault,
        line: Option<u32>,
    },
    /// The server's own state: out of memory, loading, read-only, ...
    ServerState(&'static str),
    /// The TLS handshake failed: a certificate, or no TLS at all.
    Tls(TlsCause),
    /// Anything else the server answered.
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptFault {
    Compile,
    Runtime,
    Busy,
    Unkillable,
}

/// Sort one fred error by its reply.
pub fn classify(e: &FredError) -> Blame {
    let reply = e.details();
    let word = reply.split_whitespace().next().unwrap_or("");
    // Server states first: an OOM inside a script also names `user_script`.
    if let Some(state) = server_state(word) {
        return Blame::ServerState(state);
    }
    match word {
        "NOPERM" => {
            return Blame::Permission {
                command: denied_command(reply),
            }
        }
        "WRONGPASS" | "NOAUTH" => return Blame::Authentication,
        "BUSY" => return script(ScriptFault::Busy, reply),
        "UNKILLABLE" => return script(ScriptFault::Unkillable, reply),
        _ => {}
    }
    if reply.contains("Error compiling script") {
        return script(ScriptFault::Compile, reply);
    }
    if reply.contains("user_script:") || reply.contains("Script killed") {
        return script(ScriptFault::Runtime, reply);
    }
    if let Some(cause) = TlsCause::of(reply) {
        return Blame::Tls(cause);
    }
    match e.kind() {
        ErrorKind::Auth => Blame::Authentication,
        ErrorKind::IO
        | ErrorKind::Timeout
        | ErrorKind::Canceled
        | ErrorKind::Routing
        | ErrorKind::Sentinel => Blame::Connectivity,
        _ if reply.contains("Connection refused") || reply.contains("onnection reset") => {
            Blame::Connectivity
        }
        _ => Blame::Other,
    }
}

/// Whether a reply met by a buyer should stop the whole run rather than be
/// counted as one unknown outcome: every other buyer would meet it too.
/// Takes a buyer's `Failure::message` (`Kind: reply`, see [`from_failure`])
/// or a bare reply.
///
/// BUSY is left out on purpose: the liveness watchdog owns a stuck script
/// (it must SCRIPT KILL it before anything else can run), and stopping the
/// driver first would leave the script running and the namespace behind.
pub fn fatal(reply: &str) -> bool {
    matches!(
        classify(&from_failure(reply)),
        Blame::Permission { .. }
            | Blame::Authentication
            | Blame::Script {
                fault: ScriptFault::Compile | ScriptFault::Runtime,
                ..
            }
            | Blame::ServerState(_)
    )
}

/// A buyer's failure as the driver counted it (`Kind: reply`, the form
/// `Attempt::from` writes) back as an error that [`classify`] and
/// [`explain`] can read. A bare reply is taken as the server's answer.
pub fn from_failure(message: &str) -> FredError {
    let kinds = [
        ("Auth", ErrorKind::Auth),
        ("IO", ErrorKind::IO),
        ("Timeout", ErrorKind::Timeout),
        ("Canceled", ErrorKind::Canceled),
        ("Routing", ErrorKind::Routing),
    ];
    let Some((kind, reply)) = message.split_once(": ") else {
        return FredError::new(ErrorKind::Unknown, message.to_string());
    };
    if kind.is_empty() || !kind.chars().all(|c| c.is_ascii_alphabetic()) {
        return FredError::new(ErrorKind::Unknown, message.to_string());
    }
    let kind = kinds
        .iter()
        .find(|(name, _)| *name == kind)
        .map_or(ErrorKind::Unknown, |(_, k)| k.clone());
    FredError::new(kind, reply.to_string())
}

fn server_state(word: &str) -> Option<&'static str> {
    Some(match word {
        "OOM" => "the server is out of memory (maxmemory)",
        "LOADING" => "the server is still loading its dataset into memory",
        "MISCONF" => "the server refuses writes because it cannot save its snapshot (MISCONF)",
        "READONLY" => "the server is a read-only replica",
        "MASTERDOWN" => "the replica lost its link to the primary (MASTERDOWN)",
        _ => return None,
    })
}

fn script(fault: ScriptFault, reply: &str) -> Blame {
    Blame::Script {
        fault,
        line: script_line(reply),
    }
}

/// The line of `user_script:LINE:` (or `@user_script:LINE.`) in a reply.
pub fn script_line(reply: &str) -> Option<u32> {
    let (_, after) = reply.split_once("user_script:")?;
    let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// `NOPERM this user has no permissions to run the 'evalsha' command`
/// names the command; the key form names none.
pub fn denied_command(reply: &str) -> Option<String> {
    let (_, after) = reply.split_once("to run the '")?;
    let (command, _) = after.split_once('\'')?;
    Some(command.to_string())
}

/// The key pattern every run's keys live under, for ACL grants.
pub const KEY_PATTERN: &str = "bf:*";

/// The ACL grant that lets `user` run `commands` on the run's keys.
pub fn grant(user: &str, commands: &[String]) -> String {
    let mut line = format!("ACL SETUSER {user}");
    for c in commands {
        line.push_str(&format!(" +{c}"));
    }
    line.push_str(&format!(" ~{KEY_PATTERN}"));
    line
}

/// Who and what a message can name.
pub struct Context<'a> {
    /// The URL, password masked.
    pub url: &'a str,
    /// The ACL user the connection logs in as.
    pub user: &'a str,
    /// The user's script file, when the failing script is theirs.
    pub script: Option<&'a Path>,
}

/// An infrastructure error whose message and fix follow the class of `e`.
pub fn explain(ctx: &Context<'_>, doing: &str, e: &FredError) -> Error {
    let url = ctx.url;
    let reply = readable(e);
    let text = match classify(e) {
        Blame::Connectivity => format!(
            "Redis at {url} could not be reached while {doing}: {reply}\n\
             fix: check {} reachable (running, right host and port, no firewall in the way), \
             or leave out --redis and REDIS_URL to let blackfriday start a throwaway \
             redis-server",
            reached(url)
        ),
        Blame::Authentication => format!(
            "Redis at {url} refused the credentials of user '{}' while {doing}: {reply}\n\
             fix: check user and password in the URL (redis://user:password@host:port)",
            ctx.user
        ),
        Blame::Permission { command } => permission(ctx, doing, &reply, command),
        Blame::Script { fault, line } => script_message(ctx, doing, &reply, fault, line),
        Blame::ServerState(state) => format!(
            "Redis at {url}: {state}, while {doing}: {reply}\nfix: {}",
            state_fix(state)
        ),
        Blame::Tls(cause) => {
            let (what, fix) = cause.words();
            format!(
                "Redis at {url}: TLS refused the connection while {doing}: {what}\n\
                 (rustls: {})\nfix: {fix}",
                tls::inner(&reply)
            )
        }
        Blame::Other => format!("Redis at {url} answered an error while {doing}: {reply}"),
    };
    Error::infra(redact(&text))
}

/// What must answer for `url` to be reached: a Sentinel URL goes through
/// the sentinels, which must also know the service by the URL's name.
fn reached(url: &str) -> &'static str {
    if url.contains("-sentinel://") {
        "the sentinels watch the service named in the URL \
         (SENTINEL get-master-addr-by-name SERVICE names its primary), and are"
    } else {
        "the server is"
    }
}

fn permission(ctx: &Context<'_>, doing: &str, reply: &str, command: Option<String>) -> String {
    let (url, user) = (ctx.url, ctx.user);
    match command {
        Some(command) => format!(
            "Redis at {url}: ACL user '{user}' may not run {} (while {doing}): {reply}\n\
             fix: grant it, e.g. {}",
            command.to_uppercase(),
            grant(user, &[command])
        ),
        None => format!(
            "Redis at {url}: ACL user '{user}' may not access the run's keys ({KEY_PATTERN}) \
             (while {doing}): {reply}\nfix: grant the key pattern, e.g. {}",
            grant(user, &[])
        ),
    }
}

fn script_message(
    ctx: &Context<'_>,
    doing: &str,
    reply: &str,
    fault: ScriptFault,
    line: Option<u32>,
) -> String {
    let name = ctx.script.map_or_else(
        || "the Lua script".to_string(),
        |p| format!("the script {}", p.display()),
    );
    let at = line.map(|l| format!(", line {l}")).unwrap_or_default();
    match fault {
        ScriptFault::Compile => format!(
            "{name} does not compile{at} (while {doing}): {reply}\n\
             fix: correct the script{at}; the server's own words are above"
        ),
        ScriptFault::Runtime => {
            format!("{name} failed{at} while {doing}: {reply}\nfix: correct the script{at}")
        }
        ScriptFault::Busy | ScriptFault::Unkillable => format!(
            "{name} ran past the server's busy threshold (busy-reply-threshold) at {} \
             while {doing}: {reply}\nfix: make sure every path of the script returns",
            ctx.url
        ),
    }
}

fn state_fix(state: &str) -> &'static str {
    if state.contains("out of memory") {
        "free memory on the server or raise maxmemory (CONFIG SET maxmemory ...), then run again"
    } else if state.contains("loading") {
        "wait until the server has loaded its data, then run again"
    } else {
        "point --redis at a writable primary in a healthy state"
    }
}

/// fred renders I/O errors with their Debug form; keep only the message.
pub fn readable(e: &FredError) -> String {
    let details = e.details();
    let message = details
        .split_once("message: \"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map_or(details, |(msg, _)| msg);
    match e.kind() {
        ErrorKind::IO | ErrorKind::Timeout | ErrorKind::Canceled => {
            format!("{:?} error: {message}", e.kind())
        }
        _ => message.to_string(),
    }
}

#[cfg(test)]
mod tests;
