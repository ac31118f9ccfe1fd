//! Cell texts and notes shared by every format: the terminal tables and the
//! exporters take their rows from here, so they cannot drift apart and do
//! not import each other. A leaf: it reads the findings and nothing else of
//! `report/`.

pub(super) mod gate;
pub(super) mod headline;
pub(super) mod measures;
pub(super) mod repeat;
pub(super) mod results;
pub(super) mod shop;

use crate::findings::RunMeta;
use crate::redis::Transport;

/// Microseconds as the shortest readable unit.
pub(in crate::report) fn micros(us: u64) -> String {
    match us {
        0..=999 => format!("{us}µs"),
        1_000..=999_999 => format!("{:.2}ms", us as f64 / 1e3),
        _ => format!("{:.2}s", us as f64 / 1e6),
    }
}

/// The crowd line of every header: who comes, for how much stock.
pub(in crate::report) fn crowd(m: &RunMeta) -> String {
    format!(
        "{} buyers wanting {} unit(s) {}, {} units demanded, {} in stock · {} in flight · {} \
         watch connections",
        m.buyers,
        m.qty,
        if m.carts.is_some() {
            "per cart line"
        } else {
            "each"
        },
        m.demand,
        m.stock,
        m.concurrency,
        m.connections,
    )
}

pub(in crate::report) fn think(m: &RunMeta) -> String {
    if m.think.is_zero() {
        String::new()
    } else {
        format!(" · think {} before each retry", m.think)
    }
}

/// How the run reached its server, without the password:
/// `tcp · TLS · user 'shop' · cluster, 3 primaries`.
pub(in crate::report) fn connection(m: &RunMeta) -> String {
    let l = &m.link;
    let transport = match l.transport {
        Transport::Tcp => "tcp",
        Transport::Unix => "unix socket",
    };
    let tls = match (l.tls, l.tls_insecure) {
        (false, _) => "no TLS",
        (true, false) => "TLS",
        (true, true) => "TLS, certificate NOT verified (--tls-insecure)",
    };
    format!(
        "{transport} · {tls} · user '{}' · {}",
        l.user,
        l.topology.describe()
    )
}
