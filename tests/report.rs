//! The terminal report is a pure function of a finished `Report`: snapshot it
//! from fixed figures, so any change to what users read is reviewed.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use blackfriday::cpu::{CpuSample, CpuUse};
use blackfriday::schedule::{Arrivals, Curve, LoadShape};

use blackfriday::report::{table, Report, View};
use common::fixture::report;
use unicode_width::UnicodeWidthStr;

/// The header and the report as a reader sees them at `width`.
fn screen(r: &Report, width: usize, details: bool) -> String {
    let view = View::new(width, false, details);
    format!(
        "{}{}",
        table::header(&r.meta, &view),
        table::render(r, &view)
    )
}

#[test]
fn tables_snapshot() {
    insta::assert_snapshot!(screen(&report(), 100, true));
}

#[test]
fn default_output_snapshot() {
    insta::assert_snapshot!(screen(&report(), 80, false));
}

/// Every word and number of the report, whatever the lines and borders.
fn words(text: &str) -> BTreeSet<String> {
    text.split(|c: char| c.is_whitespace() || "│┆┌┐└┘├┤┬┴┼─═╞╡╪".contains(c))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn fits_every_width_without_splitting_a_word() {
    for details in [false, true] {
        let wide = words(&screen(&report(), 400, details));
        for width in [80, 100, 160] {
            let text = screen(&report(), width, details);
            for line in text.lines() {
                assert!(
                    line.width() <= width,
                    "{} columns > {width} (details {details}):\n{line}",
                    line.width()
                );
            }
            assert_eq!(
                words(&text),
                wide,
                "at {width} columns a word or number was cut or lost (details {details})"
            );
        }
    }
}

#[test]
fn every_key_figure_appears_intact() {
    let r = report();
    for width in [80, 100, 160] {
        let w = words(&screen(&r, width, false));
        for s in &r.strategies {
            for figure in [
                s.server.sold.to_string(),
                s.server.oversold().to_string(),
                s.server.stock.to_string(),
                s.figures.sold_out.to_string(),
                format!("{:.0}", s.figures.purchases_per_s),
            ] {
                // Big numbers are grouped in thousands: 1,920.
                assert!(
                    w.iter().any(|t| t.replace(',', "") == figure),
                    "{figure} missing at {width} columns"
                );
            }
        }
    }
}

#[test]
fn headlines_come_first_and_the_verdict_last() {
    let text = screen(&report(), 80, false);
    let lines: Vec<&str> = text.lines().collect();
    let first = lines.iter().position(|l| l.starts_with("broken ")).unwrap();
    assert_eq!(
        lines[first],
        "broken OVERSOLD 380 units — sold 480 of 100 (expected: the control group)"
    );
    assert!(
        lines[first + 1]
            .starts_with("watch  sold exactly 100 of 100 · 0 oversold · 400 purchases/s · p99"),
        "{}",
        lines[first + 1]
    );
    assert!(lines[first + 2].starts_with("watch  FAILED no lost sales, no undersell"));
    assert_eq!(
        lines.last().unwrap(),
        &"verdict: FAILED — watch failed: no lost sales, no undersell (exit 1)"
    );
}

#[test]
fn the_verdict_names_what_happened() {
    let mut held = report();
    held.strategies.truncate(2);
    let text = screen(&held, 80, false);
    assert_eq!(
        text.lines().last().unwrap(),
        "verdict: held — broken oversold 380 units (as expected); watch clean (exit 0)"
    );
    // A clean strategy that oversold.
    let mut oversold = held.clone();
    oversold.strategies[1] = common::fixture::strategy(
        blackfriday::strategy::StrategyKind::Watch,
        blackfriday::gate::Expect::Clean,
        &common::fixture::crowd(103, 397, 0),
        common::fixture::facts(-3, 103),
    );
    let text = screen(&oversold, 80, false);
    assert!(text.contains("watch  OVERSOLD 3 units — sold 103 of 100 (expected clean: FAILED)"));
    assert_eq!(
        text.lines().last().unwrap(),
        "verdict: FAILED — watch oversold 3 units, expected clean (exit 1)"
    );
    // A strategy the server could not run: exit 3.
    let mut incomplete = held.clone();
    incomplete
        .unavailable
        .push(blackfriday::report::Unavailable {
            strategy: blackfriday::strategy::StrategyKind::Function,
            reason: "functions need Redis 7".into(),
        });
    let text = screen(&incomplete, 80, false);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[lines.len() - 2],
        "not run: function: functions need Redis 7"
    );
    assert_eq!(
        lines[lines.len() - 1],
        "verdict: incomplete — function not run (exit 3)"
    );
}

#[test]
fn the_detailed_tables_only_with_details() {
    let short = screen(&report(), 160, false);
    let long = screen(&report(), 160, true);
    for title in [
        "Latency",
        "Retries of each buyer",
        "CPU while",
        "Validation",
    ] {
        assert!(!short.contains(title) && long.contains(title), "{title}");
    }
    // A failed check prints its evidence either way.
    assert!(short.contains("400 of 400 sold-out answers while stock 10 remained"));
}

/// Broken and watch with a generator that kept two cores busy while the
/// server idled: the generator limited a burst's throughput.
fn generator_bound(mut r: Report) -> Report {
    r.strategies.truncate(2);
    for s in &mut r.strategies {
        s.cpu = CpuUse::between(
            CpuSample {
                server_s: Some(1.0),
                generator_s: Some(1.0),
                nodes: Vec::new(),
            },
            CpuSample {
                server_s: Some(1.05),
                generator_s: Some(1.5),
                nodes: Vec::new(),
            },
            Duration::from_millis(250),
            s.figures.purchased,
        );
    }
    r
}

#[test]
fn the_generator_warning_once_and_only_in_a_burst() {
    let burst = screen(&generator_bound(report()), 100, true);
    let warnings: Vec<&str> = burst
        .lines()
        .filter(|l| l.contains("the load generator, not the server"))
        .collect();
    assert_eq!(warnings.len(), 1, "{burst}");
    assert!(warnings[0].contains("throughput of broken, watch:"));
    let mut open = generator_bound(report());
    open.meta.load = LoadShape::open(Curve::Constant { per_s: 2000.0 }, Arrivals::Poisson, None);
    let open = screen(&open, 100, true);
    assert!(!open.contains("the load generator"), "{open}");
}

#[test]
fn exit_status_follows_the_verdicts() {
    let r = report();
    assert!(r.strategies[0].verdict.held, "broken oversold as expected");
    assert!(r.strategies[1].verdict.held);
    assert!(
        !r.strategies[2].verdict.held,
        "units left while buyers failed is an undersell"
    );
    assert_eq!(r.status(), blackfriday::ExitStatus::ExpectationFailed);
}
