//! What the live view shows, as data: the session sends [`Update`]s, the
//! model keeps one [`Panel`] per strategy, and the draw functions read it.
//! Nothing here talks to Redis: the server's figures arrive in the updates.

use std::time::Duration;

/// The width of one sparkline bar: fine enough that a burst lasting half a
/// second still draws a shape, coarse enough that a bar is a rate.
pub const BUCKET_S: f64 = 0.25;

/// What the session tells the view.
#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    /// The strategies about to run, in order, against `stock` units.
    Planned {
        strategies: Vec<String>,
        stock: u64,
        buyers: u64,
    },
    /// One reading while strategy `index` runs.
    Sample(Sample),
    /// Strategy `index` was audited: the server's final figures.
    Finished(Finished),
}

/// Stock and sold from ONE atomic read of the server (an MGET), so the two
/// always describe the same instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerRead {
    pub stock: i64,
    pub sold: i64,
}

/// The load generator's own counters: what the clients believe, labelled
/// as such on screen.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ClientCounts {
    pub done: u64,
    pub purchased: u64,
    pub attempts: u64,
    /// Lost races, each retried or given up.
    pub conflicts: u64,
    /// Of the buyers with an outcome so far (approximate: live buckets).
    pub p99: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub index: usize,
    /// Seconds since the release.
    pub t_s: f64,
    pub server: ServerRead,
    pub client: ClientCounts,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Finished {
    pub index: usize,
    pub server: ServerRead,
    pub oversold: i64,
    pub client: ClientCounts,
    pub held: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Not released yet.
    Waiting,
    Running,
    /// Audited: the figures are the audit's, and the panel stays.
    Done {
        held: bool,
    },
}

/// Per-bucket rates for a sparkline, from a counter that only grows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rates {
    /// Per second, one value per [`BUCKET_S`] since the release.
    pub per_s: Vec<u64>,
    /// The counter when the current bucket began.
    base: u64,
    last: u64,
}

impl Rates {
    fn push(&mut self, t_s: f64, count: u64) {
        let i = (t_s.max(0.0) / BUCKET_S) as usize;
        while self.per_s.len() <= i {
            if !self.per_s.is_empty() {
                self.base = self.last;
            }
            self.per_s.push(0);
        }
        self.last = count;
        let rate = count.saturating_sub(self.base) as f64 / BUCKET_S;
        if let Some(v) = self.per_s.last_mut() {
            *v = rate.round() as u64;
        }
    }

    /// The latest full bucket's rate, or the current one's at the start.
    pub fn now(&self) -> u64 {
        let n = self.per_s.len();
        match n {
            0 => 0,
            1 => self.per_s[0],
            _ => self.per_s[n - 2],
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    pub name: String,
    pub phase: Phase,
    pub server: Option<ServerRead>,
    pub oversold: i64,
    pub client: ClientCounts,
    pub purchases: Rates,
    pub attempts: Rates,
    pub t_s: f64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Model {
    pub panels: Vec<Panel>,
    pub stock: u64,
    pub buyers: u64,
    /// The session is over: the screen now waits for `q`.
    pub over: bool,
}

impl Model {
    pub fn apply(&mut self, update: Update) {
        match update {
            Update::Planned {
                strategies,
                stock,
                buyers,
            } => {
                self.stock = stock;
                self.buyers = buyers;
                self.panels = strategies.into_iter().map(Panel::waiting).collect();
            }
            Update::Sample(s) => {
                let initial = self.stock as i64;
                if let Some(p) = self.panels.get_mut(s.index) {
                    p.sample(&s, initial);
                }
            }
            Update::Finished(f) => {
                if let Some(p) = self.panels.get_mut(f.index) {
                    p.phase = Phase::Done { held: f.held };
                    p.server = Some(f.server);
                    p.oversold = f.oversold;
                    p.client = f.client;
                }
            }
        }
    }
}

impl Panel {
    fn waiting(name: String) -> Panel {
        Panel {
            name,
            phase: Phase::Waiting,
            server: None,
            oversold: 0,
            client: ClientCounts::default(),
            purchases: Rates::default(),
            attempts: Rates::default(),
            t_s: 0.0,
        }
    }

    fn sample(&mut self, s: &Sample, initial: i64) {
        if matches!(self.phase, Phase::Done { .. }) {
            return;
        }
        self.phase = Phase::Running;
        self.server = Some(s.server);
        // As the audit counts it: by the sold counter or by the stock
        // gone negative, whichever shows more.
        self.oversold = (s.server.sold - initial).max(-s.server.stock).max(0);
        self.client = s.client;
        self.purchases.push(s.t_s, s.client.purchased);
        self.attempts.push(s.t_s, s.client.attempts);
        self.t_s = s.t_s;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_per_second_per_bucket() {
        let mut r = Rates::default();
        r.push(0.1, 10);
        r.push(0.2, 25);
        r.push(0.3, 40);
        r.push(0.6, 40);
        // 25 in the first quarter second, 15 in the second, none after.
        assert_eq!(r.per_s, vec![100, 60, 0]);
        assert_eq!(r.now(), 60);
    }

    #[test]
    fn a_finished_panel_keeps_the_audit_figures() {
        let mut m = Model::default();
        m.apply(Update::Planned {
            strategies: vec!["broken".into()],
            stock: 100,
            buyers: 500,
        });
        let server = ServerRead {
            stock: -400,
            sold: 500,
        };
        m.apply(Update::Finished(Finished {
            index: 0,
            server,
            oversold: 400,
            client: ClientCounts::default(),
            held: true,
        }));
        let late = Sample {
            index: 0,
            t_s: 1.0,
            server: ServerRead { stock: 0, sold: 0 },
            client: ClientCounts::default(),
        };
        m.apply(Update::Sample(late));
        assert_eq!(m.panels[0].server, Some(server));
        assert_eq!(m.panels[0].phase, Phase::Done { held: true });
    }
}
