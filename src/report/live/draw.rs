//! Drawing the live view from its [`Model`]: a title line, one panel per
//! strategy in a grid, and a footer that says what the figures are. Pure:
//! the same model draws the same screen, on a terminal or a test buffer.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Sparkline};
use ratatui::Frame;

use super::digits;
use super::model::{Model, Panel, Phase};
use crate::report::cells::headline::{grouped, short_micros};

/// Narrowest panel worth drawing side by side: a five-digit stock in the
/// big font and a client line still fit.
const MIN_PANEL_WIDTH: u16 = 36;
/// Rows a panel needs for the big counter (label, digits, sold line, client
/// lines) before the sparklines get any.
const BIG_ROWS: u16 = digits::HEIGHT + 5;

pub fn frame(f: &mut Frame, model: &Model) {
    let [title, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(f.area());
    let head = format!(
        "blackfriday live · {} buyers · {} units in stock",
        thousands(model.buyers),
        thousands(model.stock)
    );
    f.render_widget(Paragraph::new(head).style(bold()), title);
    for (panel, area) in model.panels.iter().zip(grid(body, model.panels.len())) {
        draw_panel(f, area, panel, model);
    }
    let keys: &[&str] = if model.over {
        &[
            "run over: q shows the summary",
            "stock, sold: one read of Redis",
        ]
    } else {
        &["Ctrl-C stops the run", "stock, sold: one read of Redis"]
    };
    let hint = pack(keys, footer.width)
        .into_iter()
        .next()
        .unwrap_or_default();
    f.render_widget(Paragraph::new(hint).style(dim()), footer);
}

/// `n` panels in as many columns as fit, filled row by row.
fn grid(area: Rect, n: usize) -> Vec<Rect> {
    if n == 0 {
        return Vec::new();
    }
    let cols = usize::from((area.width / MIN_PANEL_WIDTH).max(1)).min(n);
    let rows = n.div_ceil(cols);
    let row_areas = Layout::vertical(vec![Constraint::Ratio(1, rows as u32); rows]).split(area);
    row_areas
        .iter()
        .flat_map(|row| {
            Layout::horizontal(vec![Constraint::Ratio(1, cols as u32); cols])
                .split(*row)
                .to_vec()
        })
        .take(n)
        .collect()
}

fn draw_panel(f: &mut Frame, area: Rect, p: &Panel, model: &Model) {
    let initial = model.stock as i64;
    let block = panel_block(p, model.over);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let mut rows = Rows(inner);
    let stock = p.server.map_or(initial, |s| s.stock);
    let sold = p.server.map_or(0, |s| s.sold);
    let big = big_stock(f, &mut rows, stock);
    let mut server = vec![format!("sold {}", grouped(sold))];
    server.push(format!("oversold {}", grouped(p.oversold)));
    if !big {
        server.insert(0, format!("stock {}", grouped(stock)));
    }
    let over = Style::new().fg(if p.oversold > 0 {
        Color::Red
    } else {
        Color::Reset
    });
    for line in pack(&server, inner.width) {
        let style = if line.contains("oversold") {
            over
        } else {
            bold()
        };
        put(
            f,
            rows.take(1),
            vec![Span::styled(line, style.add_modifier(Modifier::BOLD))],
        );
    }
    for line in pack(&client_items(p), inner.width) {
        put(f, rows.take(1), vec![Span::styled(line, dim())]);
    }
    // The two sparklines share what is left, purchases on top.
    let mut top = Rows(rows.take(rows.0.height / 2));
    sparkline(
        f,
        &mut top,
        "purchases/s",
        &p.purchases.per_s,
        p.purchases.now(),
        Color::Green,
    );
    sparkline(
        f,
        &mut rows,
        "attempts/s",
        &p.attempts.per_s,
        p.attempts.now(),
        Color::Yellow,
    );
}

/// The stock in the big font when the panel has room for it: whether it did.
fn big_stock(f: &mut Frame, rows: &mut Rows, stock: i64) -> bool {
    let inner = rows.0;
    let big = inner.height >= BIG_ROWS && inner.width >= digits::width(stock);
    if big {
        put(
            f,
            rows.take(1),
            vec![Span::styled("stock left, read from Redis", dim())],
        );
        let style = stock_style(stock);
        for line in digits::big(stock) {
            put(f, rows.take(1), vec![Span::styled(line, style)]);
        }
    }
    big
}

/// The border, coloured by the panel's phase, titled with its name. Once
/// the run is over, one still waiting was never released and one still
/// running was cut short without an audit (Ctrl-C).
fn panel_block(p: &Panel, over: bool) -> Block<'static> {
    let (state, colour) = match p.phase {
        Phase::Waiting if over => ("not run".to_string(), Color::DarkGray),
        Phase::Waiting => ("waiting".to_string(), Color::DarkGray),
        Phase::Running if over => (format!("stopped at {:.1}s", p.t_s), Color::Yellow),
        Phase::Running => (format!("running {:.1}s", p.t_s), Color::Cyan),
        Phase::Done { held: true } => ("audited · as expected".to_string(), Color::Green),
        Phase::Done { held: false } => ("audited · NOT as expected".to_string(), Color::Red),
    };
    Block::bordered()
        .border_style(Style::new().fg(colour))
        .title(Line::from(vec![
            Span::styled(format!(" {} ", p.name), bold()),
            Span::styled(format!("{state} "), Style::new().fg(colour)),
        ]))
}

fn client_items(p: &Panel) -> Vec<String> {
    let c = &p.client;
    let mut items = vec![
        format!("client: {} bought", thousands(c.purchased)),
        format!("{} tries", thousands(c.attempts)),
        format!("{} retries", thousands(c.conflicts)),
    ];
    if let Some(p99) = c.p99 {
        items.push(format!("p99 ≈ {}", short_micros(p99.as_micros() as u64)));
    }
    items
}

/// A labelled sparkline, given at least a label row and one bar row.
fn sparkline(f: &mut Frame, rows: &mut Rows, label: &str, data: &[u64], now: u64, c: Color) {
    let left = rows.0.height;
    if left < 2 {
        return;
    }
    let text = format!("{label} {} (client)", thousands(now));
    put(
        f,
        rows.take(1),
        vec![Span::styled(text, Style::new().fg(c))],
    );
    // Taller bars read better from afar; past 8 rows they only stretch.
    let height = (left - 1).min(8);
    let area = rows.take(height);
    // The newest bars, as many as the panel is wide.
    let shown = &data[data.len().saturating_sub(usize::from(area.width))..];
    f.render_widget(
        Sparkline::default().data(shown).style(Style::new().fg(c)),
        area,
    );
}

/// Greedy: as many items per line as fit, " · " between them. An item is
/// never split; one wider than the panel is cut at its edge by the frame.
pub fn pack<S: AsRef<str>>(items: &[S], width: u16) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for item in items {
        let item = item.as_ref();
        match lines.last_mut() {
            Some(l) if l.chars().count() + 3 + item.chars().count() <= usize::from(width) => {
                l.push_str(" · ");
                l.push_str(item);
            }
            _ => lines.push(item.to_string()),
        }
    }
    lines
}

/// The rows of an area not drawn on yet, taken from the top.
struct Rows(Rect);

impl Rows {
    fn take(&mut self, n: u16) -> Rect {
        let n = n.min(self.0.height);
        let (top, rest) = (
            Rect {
                height: n,
                ..self.0
            },
            Rect {
                y: self.0.y + n,
                height: self.0.height - n,
                ..self.0
            },
        );
        self.0 = rest;
        top
    }
}

fn put(f: &mut Frame, area: Rect, spans: Vec<Span<'_>>) {
    if area.height > 0 {
        f.render_widget(Paragraph::new(Line::from(spans)), area);
    }
}

/// Red below zero: the moment the talk is about.
pub fn stock_style(stock: i64) -> Style {
    let fg = if stock < 0 { Color::Red } else { Color::Green };
    Style::new().fg(fg).add_modifier(Modifier::BOLD)
}

fn thousands(n: u64) -> String {
    grouped(i64::try_from(n).unwrap_or(i64::MAX))
}

fn bold() -> Style {
    Style::new().add_modifier(Modifier::BOLD)
}

fn dim() -> Style {
    Style::new().fg(Color::Gray)
}
