//! Fitting the terminal report to the reader's width: tables are arranged
//! (header words wrapped, cells wrapped between words, or the columns split
//! into several tables) and prose wraps between words under its label. A
//! number or a word is never cut: comfy-table is given every column's
//! longest word as its lower bound, so it only ever breaks at spaces.

use comfy_table::presets::{NOTHING, UTF8_FULL_CONDENSED};
use comfy_table::{Cell, ColumnConstraint, ContentArrangement, Table, Width};
use unicode_width::UnicodeWidthStr;

/// Off a terminal (CI logs, pipes) when `COLUMNS` does not say otherwise.
pub const OFF_TERMINAL_WIDTH: usize = 100;
/// Below this not even a two-column table of short words fits; narrower
/// requests are treated as this.
const NARROWEST: usize = 40;

/// How the terminal report is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct View {
    /// Columns available: no line of the report is longer.
    pub width: usize,
    pub color: bool,
    /// Print the detailed tables (`--details`), not only the verdict.
    pub details: bool,
}

impl View {
    /// `COLUMNS` when set, else the terminal's width, else
    /// [`OFF_TERMINAL_WIDTH`]. `on_stderr`: the report goes to stderr
    /// (`--json -` holds stdout), so that is the terminal to measure.
    pub fn detect(color: bool, details: bool, on_stderr: bool) -> View {
        let columns = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.trim().parse::<usize>().ok())
            .filter(|&c| c > 0);
        let width = columns
            .or_else(|| {
                // comfy-table already knows how to ask the terminal.
                let mut probe = Table::new();
                if on_stderr {
                    probe.use_stderr();
                }
                probe.width().map(usize::from)
            })
            .unwrap_or(OFF_TERMINAL_WIDTH);
        View::new(width, color, details)
    }

    pub fn new(width: usize, color: bool, details: bool) -> View {
        View {
            width: width.max(NARROWEST),
            color,
            details,
        }
    }
}

/// A table before it is fitted: the header, the cells (possibly styled),
/// and how many leading columns name a row and are repeated in every part
/// when the columns must be split.
pub struct Grid {
    pub header: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    pub labels: usize,
}

impl Grid {
    pub fn new(header: &[&str], labels: usize) -> Grid {
        Grid {
            header: header.iter().map(ToString::to_string).collect(),
            rows: Vec::new(),
            labels,
        }
    }

    /// The table(s) at the view's width, one after the other.
    pub fn render(&self, view: &View) -> String {
        let min: Vec<usize> = (0..self.header.len())
            .map(|c| self.longest_word(c))
            .collect();
        let parts = split(&min, self.labels, view.width);
        let tables: Vec<String> = parts
            .iter()
            .map(|cols| self.part(cols, &min, view).to_string())
            .collect();
        tables.join("\n")
    }

    fn longest_word(&self, col: usize) -> usize {
        let cells = self.rows.iter().filter_map(|r| r.get(col));
        std::iter::once(self.header[col].clone())
            .chain(cells.map(Cell::content))
            .flat_map(|text| {
                text.split_whitespace()
                    .map(UnicodeWidthStr::width)
                    .collect::<Vec<_>>()
            })
            .max()
            .unwrap_or(0)
    }

    fn part(&self, cols: &[usize], min: &[usize], view: &View) -> Table {
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(u16::try_from(view.width).unwrap_or(u16::MAX));
        if !view.color {
            t.force_no_tty();
        }
        t.set_header(cols.iter().map(|&c| self.header[c].clone()));
        for row in &self.rows {
            let cells = cols
                .iter()
                .map(|&c| row.get(c).cloned().unwrap_or_else(|| Cell::new("")));
            t.add_row(cells.collect::<Vec<Cell>>());
        }
        // Never narrower than the longest word: comfy-table then breaks
        // lines only at spaces. Its widths include the padding (1 + 1).
        t.set_constraints(cols.iter().map(|&c| {
            ColumnConstraint::LowerBoundary(Width::Fixed(
                u16::try_from(min[c] + 2).unwrap_or(u16::MAX),
            ))
        }));
        t
    }
}

/// Columns a table of these minimum widths takes: each column's padding
/// and left border, and the closing border.
fn span(min: &[usize], cols: &[usize]) -> usize {
    cols.iter().map(|&c| min[c] + 3).sum::<usize>() + 1
}

/// Split the columns after the labels into consecutive groups that each
/// fit beside the labels; one group when everything fits.
fn split(min: &[usize], labels: usize, width: usize) -> Vec<Vec<usize>> {
    let base: Vec<usize> = (0..labels.min(min.len())).collect();
    let mut parts = Vec::new();
    let mut current = base.clone();
    for col in base.len()..min.len() {
        current.push(col);
        if current.len() > base.len() + 1 && span(min, &current) > width {
            current.pop();
            parts.push(std::mem::replace(&mut current, base.clone()));
            current.push(col);
        }
    }
    parts.push(current);
    parts
}

/// `label text…` with the text wrapped between words to `width` and its
/// continuation lines indented under the text's first word.
pub fn labelled(label: &str, text: &str, width: usize) -> String {
    let whole = if label.is_empty() {
        text.to_string()
    } else {
        format!("{label} {text}")
    };
    if whole.width() <= width {
        return whole;
    }
    let mut t = Table::new();
    t.load_preset(NOTHING)
        .force_no_tty()
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(u16::try_from(width).unwrap_or(u16::MAX));
    let longest = text.split_whitespace().map(UnicodeWidthStr::width).max();
    // Widths include the padding: the label keeps its own (trailing
    // spaces too), then one space before the text.
    let fixed = |w: usize| Width::Fixed(u16::try_from(w).unwrap_or(u16::MAX));
    let mut constraints = Vec::new();
    if !label.is_empty() {
        t.add_row(vec![Cell::new(label), Cell::new(text)]);
        constraints.push(ColumnConstraint::Absolute(fixed(label.width() + 1)));
    } else {
        t.add_row(vec![Cell::new(text)]);
    }
    constraints.push(ColumnConstraint::LowerBoundary(fixed(longest.unwrap_or(1))));
    t.set_constraints(constraints);
    let columns = t.column_count();
    for (i, col) in t.column_iter_mut().enumerate() {
        col.set_padding(if i + 1 < columns { (0, 1) } else { (0, 0) });
    }
    let lines: Vec<String> = t.lines().map(|l| l.trim_end().to_string()).collect();
    lines.join("\n")
}

/// A paragraph wrapped between words to `width`; a leading `word:` is
/// its label, and the continuation lines are indented under the text.
pub fn prose(text: &str, width: usize) -> String {
    match text.split_once(' ') {
        Some((first, rest)) if first.ends_with(':') => labelled(first, rest, width),
        _ => labelled("", text, width),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_only_when_the_words_cannot_fit() {
        assert_eq!(split(&[8, 5, 5], 1, 80), vec![vec![0, 1, 2]]);
        // 8+3 + 30+3 + 30+3 + 1 = 78; a third 30 does not fit.
        assert_eq!(
            split(&[8, 30, 30, 30], 1, 80),
            vec![vec![0, 1, 2], vec![0, 3]]
        );
    }

    #[test]
    fn prose_wraps_between_words_under_its_label() {
        let text = "warning: the quick brown fox jumps over the lazy dog again and again";
        let wrapped = prose(text, 40);
        for line in wrapped.lines() {
            assert!(line.width() <= 40, "{line:?}");
        }
        assert!(wrapped.lines().nth(1).unwrap().starts_with("         "));
        let words: Vec<&str> = wrapped.split_whitespace().collect();
        assert_eq!(words, text.split_whitespace().collect::<Vec<_>>());
    }
}
