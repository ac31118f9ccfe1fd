//! The terminal side of the live view: the alternate screen in raw mode,
//! put back on every way out (the view closing, a panic, an exit on a third
//! Ctrl-C), and the loop that draws updates and reads keys until `q`.

use std::io::{self, Stdout};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError};
use std::sync::Once;
use std::time::Duration;

use crossterm::cursor::{Hide, Show};
use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use crossterm::execute;
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::backend::{Backend, CrosstermBackend};
use ratatui::Terminal;

use super::draw;
use super::model::{Model, Update};

/// Redraws per second, at most: smooth enough to watch a counter fall.
const TICK: Duration = Duration::from_millis(100);

/// The screen is ours: the terminal must be given back before anything
/// else is printed or the process ends.
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// What the view does with a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// `q` or Esc: leave the final screen for the summary.
    Quit,
    /// Ctrl-C: raw mode turns it into a key, so the view relays it as the
    /// signal it would have been.
    Interrupt,
}

/// Where keys come from: the terminal, or a script in tests.
pub trait KeySource {
    /// The next key, waiting at most `wait`; `None` when none came.
    fn next(&mut self, wait: Duration) -> io::Result<Option<Key>>;
}

pub struct TerminalKeys;

impl KeySource for TerminalKeys {
    fn next(&mut self, wait: Duration) -> io::Result<Option<Key>> {
        // A panic elsewhere gave the terminal back: drawing on would
        // scribble over the shell.
        if !ACTIVE.load(Ordering::SeqCst) {
            return Err(io::Error::other("the terminal was given back"));
        }
        if !event::poll(wait)? {
            return Ok(None);
        }
        let Event::Key(k) = event::read()? else {
            return Ok(None);
        };
        if k.kind != KeyEventKind::Press {
            return Ok(None);
        }
        Ok(match k.code {
            KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => {
                Some(Key::Interrupt)
            }
            KeyCode::Char('q') | KeyCode::Esc => Some(Key::Quit),
            _ => None,
        })
    }
}

/// Draw every update as it comes and read keys, until the session has
/// hung up (the run is over) and `q` is pressed. Ctrl-C during the run
/// calls `interrupt`; after it, it leaves as `q` does.
pub fn show<B: Backend>(
    terminal: &mut Terminal<B>,
    updates: &Receiver<Update>,
    keys: &mut dyn KeySource,
    interrupt: &dyn Fn(),
) -> io::Result<Model> {
    let mut model = Model::default();
    loop {
        loop {
            match updates.try_recv() {
                Ok(u) => model.apply(u),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    model.over = true;
                    break;
                }
            }
        }
        terminal
            .draw(|f| draw::frame(f, &model))
            .map_err(|e| io::Error::other(e.to_string()))?;
        match keys.next(TICK)? {
            Some(Key::Quit | Key::Interrupt) if model.over => return Ok(model),
            Some(Key::Interrupt) => interrupt(),
            _ => {}
        }
    }
}

/// Take the terminal: raw mode, the alternate screen, no cursor, and a
/// panic hook that gives it back first.
pub fn enter() -> io::Result<Terminal<CrosstermBackend<Stdout>>> {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
    enable_raw_mode()?;
    ACTIVE.store(true, Ordering::SeqCst);
    execute!(io::stdout(), EnterAlternateScreen, Hide)?;
    Terminal::new(CrosstermBackend::new(io::stdout()))
}

/// Give the terminal back, once: a no-op when the view is not showing.
pub fn restore() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        let _ = disable_raw_mode();
        let _ = execute!(io::stdout(), LeaveAlternateScreen, Show);
    }
}

/// The view on the real terminal, from entering to giving it back.
pub fn run(updates: &Receiver<Update>, interrupt: &dyn Fn()) -> io::Result<Model> {
    let mut terminal = enter()?;
    let shown = show(&mut terminal, updates, &mut TerminalKeys, interrupt);
    restore();
    shown
}
