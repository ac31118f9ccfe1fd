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

/// Help and version go out whole; a real usage error is one line, exit 2.
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
    eprintln!("{} (see blackfriday run --help)", redact(first));
    ExitCode::from(ExitStatus::Usage as u8)
}
