//! "How the first oversold unit was sold": the buyers whose decrements took
//! the last units, what each read and when, and the order in which their
//! DECRBYs landed, ending at the first negative stock. Formats
//! [`crate::metrics::Race`], recorded from the server's replies; shared by
//! the terminal and the Markdown report.

use std::fmt::Write;

use crate::findings::{Report, StrategyReport};
use crate::metrics::{Race, RaceStep};

pub const TITLE: &str = "How the first oversold unit was sold";

/// The strategies that oversold and carry a race, with their lines.
pub fn sections(report: &Report) -> Vec<(&StrategyReport, Vec<String>)> {
    report
        .strategies
        .iter()
        .filter_map(|s| s.race.as_ref().map(|r| (s, lines(r))))
        .collect()
}

/// The reads in the order they came back, then the writes in the order
/// they landed, then what it means.
pub fn lines(race: &Race) -> Vec<String> {
    let mut reads: Vec<&RaceStep> = race.steps.iter().collect();
    reads.sort_by_key(|s| s.read_us);
    let mut out: Vec<String> = reads
        .iter()
        .map(|s| {
            format!(
                "{} read stock {} at {}",
                who(s),
                minus(s.read),
                ms(s.read_us)
            )
        })
        .collect();
    if race.partial {
        out.push("… earlier decrements, further from zero, were not kept".into());
    }
    for s in &race.steps {
        let qty = if s.qty > 1 {
            format!(" {}", s.qty)
        } else {
            String::new()
        };
        out.push(format!(
            "{} DECRBY{qty} → {} at {}",
            who(s),
            minus(s.result),
            ms(s.wrote_us)
        ));
    }
    out.push(meaning(race));
    out
}

/// What the steps show, in one sentence.
fn meaning(race: &Race) -> String {
    let last = race.last();
    let n = race.steps.len();
    let mut text = if race.all_read_first() && n > 1 {
        let either = if n == 2 { "either" } else { "any of them" };
        format!("{} buyers passed the check before {either} wrote", count(n))
    } else {
        let others = n - 1;
        format!(
            "#{} passed the check on stock {}, and {} other decrement{} landed before its own",
            last.buyer,
            minus(last.read),
            others,
            if others == 1 { "" } else { "s" }
        )
    };
    let mut servers: Vec<u32> = race.steps.iter().filter_map(|s| s.app_server).collect();
    servers.sort_unstable();
    servers.dedup();
    if servers.len() > 1 {
        let list: Vec<String> = servers.iter().map(u32::to_string).collect();
        let _ = write!(
            text,
            "; app servers {} were inside their critical sections at once: \
             each lock excludes only its own server",
            list.join(", ")
        );
    }
    text
}

fn who(s: &RaceStep) -> String {
    match s.app_server {
        Some(k) => format!("#{} (server {k})", s.buyer),
        None => format!("#{}", s.buyer),
    }
}

fn ms(us: u64) -> String {
    format!("{:.3} ms", us as f64 / 1000.0)
}

/// A true minus sign, as the room reads it.
fn minus(v: i64) -> String {
    if v < 0 {
        format!("−{}", v.unsigned_abs())
    } else {
        v.to_string()
    }
}

fn count(n: usize) -> String {
    match n {
        2 => "two".into(),
        3 => "three".into(),
        4 => "four".into(),
        5 => "five".into(),
        n => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(buyer: u32, read: i64, read_us: u64, result: i64, wrote_us: u64) -> RaceStep {
        RaceStep {
            buyer,
            qty: 1,
            read,
            read_us,
            result,
            wrote_us,
            app_server: None,
        }
    }

    #[test]
    fn the_issue_example_reads_as_written() {
        let race = Race {
            steps: vec![step(17, 1, 3212, 0, 3400), step(42, 1, 3215, -1, 3510)],
            partial: false,
        };
        assert_eq!(
            lines(&race),
            [
                "#17 read stock 1 at 3.212 ms",
                "#42 read stock 1 at 3.215 ms",
                "#17 DECRBY → 0 at 3.400 ms",
                "#42 DECRBY → −1 at 3.510 ms",
                "two buyers passed the check before either wrote",
            ]
        );
    }

    #[test]
    fn app_servers_whose_sections_overlapped_are_named() {
        let mut a = step(3, 2, 10, 0, 900);
        a.app_server = Some(1);
        let mut b = step(5, 1, 500, -1, 1400);
        b.app_server = Some(3);
        let race = Race {
            steps: vec![a, b],
            partial: false,
        };
        let text = lines(&race).join("\n");
        assert!(text.contains("#5 (server 3) read stock 1 at 0.500 ms"), "{text}");
        assert!(text.contains("app servers 1, 3 were inside"), "{text}");
    }
}
