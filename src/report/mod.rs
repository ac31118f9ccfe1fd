//! Presentation: formats a finished [`Report`] and computes nothing. The
//! result itself is data in [`crate::findings`], built by the session and the
//! gate; nothing under `report/` talks to Redis or decides pass or fail.
//!
//! `cells` holds every cell text and note shared by the terminal tables
//! (`table`) and the exporters (`export/`), which do not import each other.

mod cells;
pub mod export;
mod faults;
mod layout;
pub mod live;
mod plots;
mod progress;
pub mod race;
pub mod sweep;
pub mod table;

pub use crate::findings::{
    Figures, HoldFigures, Report, RunMeta, StrategyReport, Unavailable, Verdict,
};
pub use export::{json, junit, markdown, Exporter, Format, Output, Outputs, Target};
pub use layout::{View, OFF_TERMINAL_WIDTH};
pub use progress::Progress;

/// `::error` per failed check or missed threshold, `::warning` per
/// warn-only threshold missed: GitHub Actions shows them on the job page.
pub fn github_annotations(report: &Report) -> String {
    cells::gate::github_commands(report)
}
