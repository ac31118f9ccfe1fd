//! A scenario's `[expect.<strategy>]` thresholds, each evaluated as a check.

use super::Expectation;
use crate::audit::{Check, CheckId, ServerFacts};
use crate::findings::Figures;
use crate::metrics::Percentiles;

/// The thresholds as checks. Each one set is evaluated, even when its metric
/// recorded nothing: zero is a value, and "no samples" fails a latency budget
/// rather than passing it unseen.
pub fn thresholds(
    e: &Expectation,
    f: &Figures,
    latency: &Percentiles,
    server: &ServerFacts,
) -> Vec<Check> {
    let check = |id, passed, detail: String| Check { id, passed, detail };
    let mut checks = Vec::new();
    checks.extend(e.max_p99_ms.map(|max| p99_within(max, latency)));
    checks.extend(e.min_purchases_per_s.map(|min| {
        let got = f.purchases_per_s;
        check(
            CheckId::MinPurchasesPerS,
            got >= min,
            format!("{got:.0} purchases/s vs min {min}"),
        )
    }));
    checks.extend(e.max_gave_up.map(|max| {
        check(
            CheckId::MaxGaveUp,
            f.gave_up <= max,
            format!("{} gave up vs max {max}", f.gave_up),
        )
    }));
    checks.extend(e.max_errors.map(|max| {
        check(
            CheckId::MaxErrors,
            f.errors <= max,
            format!("{} errors vs max {max}", f.errors),
        )
    }));
    checks.extend(e.max_false_sold_out.map(|max| {
        let n = f.false_sold_outs;
        check(
            CheckId::MaxFalseSoldOut,
            n <= max,
            format!("{n} false sold-outs vs max {max}"),
        )
    }));
    checks.extend(e.sold_out.map(|want| sold_out(want, server)));
    checks
}

fn p99_within(max: f64, latency: &Percentiles) -> Check {
    let (passed, detail) = if latency.count == 0 {
        (
            false,
            format!("no samples: nothing to show p99 <= {max} ms"),
        )
    } else {
        let p99 = latency.p99 as f64 / 1e3;
        (
            p99 <= max,
            format!(
                "p99 {p99:.2} ms vs max {max} ms over {} buyers",
                latency.count
            ),
        )
    };
    Check {
        id: CheckId::MaxP99,
        passed,
        detail,
    }
}

fn sold_out(want: bool, server: &ServerFacts) -> Check {
    Check {
        id: CheckId::SoldOut,
        passed: (server.stock == 0) == want,
        detail: format!(
            "final stock {} (sold {} of {})",
            server.stock, server.sold, server.initial
        ),
    }
}
