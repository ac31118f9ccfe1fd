//! The README's flag and exit-code tables against `--help`, so neither can
//! drift from the other again; and the first-day commands: completions, man,
//! and a typo's tip.

use std::collections::BTreeSet;

use assert_cmd::Command;
use predicates::prelude::*;

fn blackfriday() -> Command {
    let mut cmd = Command::cargo_bin("blackfriday").unwrap();
    cmd.env_remove("REDIS_URL");
    cmd
}

fn stdout(args: &[&str]) -> String {
    let out = blackfriday().args(args).assert().code(0);
    String::from_utf8_lossy(&out.get_output().stdout).to_string()
}

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap()
}

/// The rows of the first table under `heading`.
fn table_rows<'a>(text: &'a str, heading: &str) -> Vec<&'a str> {
    let at = text
        .find(heading)
        .unwrap_or_else(|| panic!("README lacks {heading}"));
    text[at..]
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .collect()
}

/// `--flag` words in `text` (the short `-s` is named by its long form).
fn flags(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .map(str::to_string)
        .collect()
}

#[test]
fn the_readme_options_table_lists_exactly_the_flags_of_run_help() {
    let readme = readme();
    let rows = table_rows(&readme, "## Options");
    let documented: BTreeSet<String> = rows
        .iter()
        .flat_map(|r| flags(r.split(" | ").next().unwrap_or("")))
        .collect();
    let help = stdout(&["run", "--help"]);
    let mut offered: BTreeSet<String> = help
        .lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with('-'))
        .flat_map(|l| flags(l.split(" <").next().unwrap_or("")))
        .collect();
    offered.remove("--help");
    assert_eq!(documented, offered, "README ## Options vs run --help");
}

/// Codes in "Exit codes: 0 held, 1 ..., 130 interrupted": each a number
/// right after "codes:" or a comma.
fn codes_in_help(help: &str) -> BTreeSet<u32> {
    let at = help
        .find("Exit codes:")
        .expect("--help lists the exit codes");
    let words: Vec<&str> = help[at..].split_whitespace().take(120).collect();
    words
        .windows(2)
        .filter(|w| w[0].ends_with(':') || w[0].ends_with(','))
        .filter_map(|w| w[1].parse().ok())
        .collect()
}

#[test]
fn the_readme_exit_codes_are_the_ones_help_lists() {
    let readme = readme();
    let documented: BTreeSet<u32> = table_rows(&readme, "## Expectations and exit codes")
        .iter()
        .filter_map(|r| r.trim_matches('|').split('|').next()?.trim().parse().ok())
        .collect();
    assert_eq!(documented, BTreeSet::from([0, 1, 2, 3, 4, 130]));
    assert_eq!(codes_in_help(&stdout(&["--help"])), documented);
    assert_eq!(codes_in_help(&stdout(&["run", "--help"])), documented);
}

#[test]
fn completions_and_man_page_are_generated() {
    for (shell, marker) in [
        ("bash", "_blackfriday()"),
        ("zsh", "#compdef blackfriday"),
        ("fish", "complete -c blackfriday"),
        ("elvish", "blackfriday"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let script = stdout(&["completions", shell]);
        assert!(script.contains(marker), "{shell}: {script:.200}");
        assert!(script.contains("threshold"), "{shell} lacks run's flags");
    }
    let man = stdout(&["man"]);
    assert!(
        man.starts_with(".ie") || man.contains(".TH blackfriday 1"),
        "{man:.200}"
    );
}

#[test]
fn a_typo_keeps_clap_tip_and_points_at_the_subcommand_help() {
    blackfriday()
        .args(["run", "--buyer", "5"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "a similar argument exists: '--buyers'",
        ))
        .stderr(predicate::str::contains("see blackfriday run --help"));
    blackfriday()
        .args(["clean", "--bogus"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("see blackfriday clean --help"));
}
