//! "How the first oversold unit was sold": the buyers whose decrements took
//! the last units, what each read and when, and the order in which their
//! DECRBYs landed, ending at the first negative stock. Formats
//! [`crate::metrics::Race`], recorded from the server's replies; shared by
//! the terminal and the Markdown report.

use std::fmt::Write;

use crate::findings::{Report, StrategyReport};
use crate::metrics::{Race, RaceStep};

pub const TITLE: &str = "How the first oversold unit was sold";

/// Width the terminal section keeps within: the narrowest terminal.
const WIDTH: usize = 80;

/// The section for the terminal, each strategy under its own title, long
/// sentences wrapped between words.
pub fn terminal(report: &Report) -> String {
    let mut out = String::new();
    for (s, lines) in sections(report) {
        let _ = writeln!(out, "{TITLE} ({})", s.strategy.name());
        for line in lines {
            wrap(&mut out, &line);
        }
    }
    out
}

/// Indented by two, continued by four, never split inside a word.
fn wrap(out: &mut String, line: &str) {
    let mut row = String::from("  ");
    for word in line.split(' ') {
        if row.trim().is_empty() || row.chars().count() + 1 + word.chars().count() <= WIDTH {
            if !row.trim().is_empty() {
                row.push(' ');
            }
            row.push_str(word);
        } else {
            let _ = writeln!(out, "{row}");
            row = format!("    {word}");
        }
    }
    let _ = writeln!(out, "{row}");
}

/// The strategies that oversold and carry a race, with their lines.
pub fn sections(report: &Report) -> Vec<(&StrategyReport, Vec<String>)> {
    report
        .strategies
        .iter()
        .filter_map(|s| s.race.as_ref().map(|r| (s, lines(r))))
        .collect()
}

/// Steps shown: the buyer who took the stock below zero and the few whose
/// decrements landed just before; the sentence counts the rest.
const SHOWN: usize = 4;

/// The reads, then the writes in the order they landed, then what it means.
pub fn lines(race: &Race) -> Vec<String> {
    let shown = &race.steps[race.steps.len().saturating_sub(SHOWN)..];
    // The server's order of the reads: a read that returned more stock came
    // before a decrement that a lower read already saw. Reply times alone
    // can disagree by a few hundred µs under a burst: a task wakes late.
    let mut reads: Vec<&RaceStep> = shown.iter().collect();
    reads.sort_by_key(|s| (std::cmp::Reverse(s.read), s.read_us));
    let mut out = vec!["(times: when each reply came back, since the release)".to_string()];
    out.extend(reads.iter().map(|s| {
        format!(
            "{} read stock {} at {}",
            who(s),
            minus(s.read),
            ms(s.read_us)
        )
    }));
    for s in shown {
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
    out.push(meaning(shown));
    out
}

/// What the steps show, in one sentence.
fn meaning(shown: &[RaceStep]) -> String {
    let last = shown.last().expect("a race has its last step");
    let n = shown.len();
    let first_write = shown.iter().map(|s| s.wrote_us).min();
    let last_read = shown.iter().map(|s| s.read_us).max();
    let mut text = if n > 1 && last_read <= first_write {
        let either = if n == 2 { "either" } else { "any of them" };
        format!("{} buyers passed the check before {either} wrote", count(n))
    } else {
        format!(
            "#{} passed the check on stock {}",
            last.buyer,
            minus(last.read)
        )
    };
    // Units others took between the last buyer's read and its write: two
    // replies of its own say it exactly, however many steps were kept.
    let taken = last.read - i64::from(last.qty) - last.result;
    let shown_units: i64 = shown[..n - 1].iter().map(|s| i64::from(s.qty)).sum();
    if taken > shown_units {
        let _ = write!(
            text,
            "; {taken} units were sold between #{}'s read and its write",
            last.buyer
        );
    }
    let mut servers: Vec<u32> = shown.iter().filter_map(|s| s.app_server).collect();
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
                "(times: when each reply came back, since the release)",
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
        assert!(
            text.contains("#5 (server 3) read stock 1 at 0.500 ms"),
            "{text}"
        );
        assert!(text.contains("app servers 1, 3 were inside"), "{text}");
    }

    #[test]
    fn a_long_race_shows_its_end_and_counts_the_rest() {
        // A burst: #22 read 100 at the start, and 100 units went before its write.
        let steps: Vec<RaceStep> = (0..9)
            .map(|i| step(i, 100, 10 + u64::from(i), 7 - i64::from(i), 900))
            .collect();
        let race = Race {
            steps,
            partial: true,
        };
        let out = lines(&race);
        assert_eq!(out.len(), 1 + 4 + 4 + 1, "{out:#?}");
        assert_eq!(out[8], "#8 DECRBY → −1 at 0.900 ms");
        assert_eq!(
            out[9],
            "four buyers passed the check before any of them wrote; \
             100 units were sold between #8's read and its write"
        );
    }

    #[test]
    fn long_sentences_wrap_between_words_within_80_columns() {
        let mut out = String::new();
        let line = "three buyers passed the check before any of them wrote; app servers \
                    1, 2, 3 were inside their critical sections at once: each lock \
                    excludes only its own server";
        wrap(&mut out, line);
        assert!(out.lines().count() > 1);
        assert!(out.lines().all(|l| l.chars().count() <= WIDTH), "{out}");
        let words: Vec<&str> = out.split_whitespace().collect();
        assert_eq!(words, line.split(' ').collect::<Vec<_>>());
    }
}
