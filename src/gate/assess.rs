//! Compute, then carry: one strategy's evidence becomes its audit checks,
//! its thresholds and its verdict, put together as the finished
//! [`StrategyReport`]. Nothing after this decides anything.

use std::time::Duration;

use super::{judge, thresholds, Expect, Expectation};
use crate::audit::{self, CheckId, ServerFacts};
use crate::cpu::CpuUse;
use crate::findings::{Figures, HoldFigures, Spectra, Spectrum, StrategyReport};
use crate::metrics::{Percentiles, Tally};
use crate::strategy::reserve::ReapStats;
use crate::strategy::StrategyKind;

/// What one strategy's run left behind: the client's side (the driver's
/// tally), the server's (read back by the audit), and the CPU both used.
pub struct Evidence<'a> {
    pub tally: &'a Tally,
    pub elapsed: Duration,
    pub server: ServerFacts,
    pub cpu: CpuUse,
    /// Reservation runs: what the reaper did.
    pub reaped: Option<&'a ReapStats>,
}

/// Audit facts → checks → thresholds → verdict, for one strategy.
/// `tolerated` lists checks whose failure is shown without failing the
/// verdict.
pub fn assess(
    strategy: StrategyKind,
    expectation: &Expectation,
    tolerated: &[CheckId],
    evidence: Evidence<'_>,
) -> StrategyReport {
    let Evidence {
        tally,
        elapsed,
        server,
        cpu,
        reaped,
    } = evidence;
    let figures = Figures::new(tally, elapsed, &server);
    let latency = Percentiles::of(&tally.latency);
    let mut checks = audit::checks(&server, tally);
    checks.extend(thresholds(expectation, &figures, &latency, &server));
    let expect = expectation.oversell.unwrap_or(Expect::Clean);
    StrategyReport {
        strategy,
        figures,
        latency,
        latency_by_outcome: tally.by_outcome.map(Percentiles::of),
        service: Percentiles::of(&tally.service),
        retries: Percentiles::of(&tally.retries),
        timeline: tally.timeline.clone().squared(),
        cpu,
        verdict: judge(expect, tolerated, &checks),
        checks,
        server,
        holds: reaped.map(|r| HoldFigures::new(&tally.holds, r)),
        faults: Vec::new(),
        // The session adds what its sampler read from the server.
        stock_series: Vec::new(),
        spectra: Spectra {
            latency: Spectrum::of(&tally.latency),
            by_outcome: tally.by_outcome.map(Spectrum::of),
            service: Spectrum::of(&tally.service),
        },
        race: tally.race.explain(),
    }
}
