use std::process::ExitCode;

use clap::Parser;

use blackfriday::cli::Cli;
use blackfriday::redis::redact;
use blackfriday::ExitStatus;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(ExitStatus::Infra as u8);
        }
    };
    match runtime.block_on(blackfriday::execute(cli)) {
        Ok(status) => ExitCode::from(status as u8),
        Err(e) => {
            // Masked here too: no message ever prints a URL's password.
            eprintln!("error: {}", redact(&e.to_string()));
            ExitCode::from(e.status() as u8)
        }
    }
}

/// Help and version go out whole; a real usage error is one line, with
/// clap's tip when it has one, exit 2.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        let _ = e.print();
        return ExitCode::from(ExitStatus::Usage as u8);
    }
    let text = e.render().to_string();
    let first = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("error: invalid usage");
    // clap's own hints ("a similar argument exists: '--buyers'") are the
    // fastest fix for a typo: keep them, on the same line.
    let tips: String = text
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("tip:"))
        .map(|tip| format!("; {tip}"))
        .collect();
    eprintln!(
        "{}{} (see {} --help)",
        redact(first),
        redact(&tips),
        used_command()
    );
    ExitCode::from(ExitStatus::Usage as u8)
}

/// `blackfriday run`, `blackfriday clean`, …: the subcommand on the command
/// line, whose help lists the flags it takes; the top level without one.
fn used_command() -> String {
    use clap::CommandFactory;
    let cli = Cli::command();
    let names: Vec<&str> = cli.get_subcommands().map(|c| c.get_name()).collect();
    std::env::args()
        .skip(1)
        .find(|a| names.contains(&a.as_str()))
        .map_or_else(|| "blackfriday".to_string(), |s| format!("blackfriday {s}"))
}
