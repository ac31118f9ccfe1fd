//! `--live`: the view drawn into ratatui's test backend (a negative stock in
//! red, finished panels kept, `q` ending the wait), the flag refused off a
//! terminal, and a real run whose every reading fed to the view is one
//! consistent pair of stock and sold from the server.

mod common;

use std::collections::VecDeque;
use std::io;
use std::process::Command as Std;
use std::sync::mpsc::Receiver;
use std::time::Duration;

use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Color;
use ratatui::Terminal;

use blackfriday::report::live::{
    self, ClientCounts, Feed, Finished, Key, KeySource, Model, Sample, ServerRead, Update,
};
use blackfriday::report::Progress;
use blackfriday::session::Session;

/// Keys from a script: `None` is a wait that saw no key. A loop that asks
/// for more than the script holds fails the test instead of hanging it.
struct Scripted(VecDeque<Option<Key>>);

impl KeySource for Scripted {
    fn next(&mut self, _wait: Duration) -> io::Result<Option<Key>> {
        self.0
            .pop_front()
            .ok_or_else(|| io::Error::other("the view asked for a key after the script ended"))
    }
}

fn sample(index: usize, t_s: f64, stock: i64, sold: i64) -> Update {
    Update::Sample(Sample {
        index,
        t_s,
        server: ServerRead { stock, sold },
        client: ClientCounts {
            done: sold as u64,
            purchased: sold as u64,
            attempts: sold as u64 + 10,
            conflicts: 10,
            p99: Some(Duration::from_millis(12)),
        },
    })
}

/// broken sold 500 of 100 and was audited; watch is half-way.
fn broken_then_watch() -> Vec<Update> {
    vec![
        Update::Planned {
            strategies: vec!["broken".into(), "watch".into()],
            stock: 100,
            buyers: 500,
        },
        sample(0, 0.1, 40, 60),
        sample(0, 0.3, -400, 500),
        Update::Finished(Finished {
            index: 0,
            server: ServerRead {
                stock: -400,
                sold: 500,
            },
            oversold: 400,
            client: ClientCounts::default(),
            held: true,
        }),
        sample(1, 0.2, 50, 50),
    ]
}

fn screen_text(b: &Buffer) -> String {
    let area = b.area;
    (0..area.height)
        .map(|y| {
            (0..area.width)
                .map(|x| b[(x, y)].symbol())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Run the view over `updates` (then hung up) with `keys`, on a w×h screen.
fn show(updates: Vec<Update>, keys: Vec<Option<Key>>, w: u16, h: u16) -> (Model, Buffer) {
    let (feed, rx): (Feed, Receiver<Update>) = Feed::channel();
    for u in updates {
        feed.send(u);
    }
    drop(feed);
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    let model = live::show(&mut terminal, &rx, &mut Scripted(keys.into()), &|| {})
        .expect("q ends the view");
    (model, terminal.backend().buffer().clone())
}

#[test]
fn a_negative_stock_is_drawn_big_and_red_and_a_finished_panel_stays() {
    for (w, h) in [(80, 24), (120, 35)] {
        let (model, buf) = show(broken_then_watch(), vec![Some(Key::Quit)], w, h);
        let text = screen_text(&buf);
        assert!(model.over);
        // broken's panel is still there, audited, beside watch's.
        assert!(text.contains("broken"), "{w}x{h}:\n{text}");
        assert!(text.contains("audited"), "{w}x{h}:\n{text}");
        assert!(text.contains("watch"), "{w}x{h}:\n{text}");
        assert!(text.contains("oversold 400"), "{w}x{h}:\n{text}");
        assert!(text.contains("sold 50 "), "{w}x{h}:\n{text}");
        // The big digits (the five rows under each panel's "stock left"
        // label) are red on the left panel (broken, -400) and not on the
        // right one (watch, 50).
        let label_row = text
            .lines()
            .position(|l| l.contains("stock left"))
            .unwrap_or_else(|| panic!("{w}x{h}: no big stock counter:\n{text}"))
            as u16;
        let big: Vec<(u16, u16)> = (label_row + 1..label_row + 6)
            .flat_map(|y| (0..w).map(move |x| (x, y)))
            .filter(|&(x, y)| buf[(x, y)].symbol() == "█")
            .collect();
        let (left, right): (Vec<_>, Vec<_>) = big.iter().partition(|(x, _)| *x < w / 2);
        assert!(
            !left.is_empty(),
            "{w}x{h}: broken's stock not drawn big:\n{text}"
        );
        assert!(left.iter().all(|&&(x, y)| buf[(x, y)].fg == Color::Red));
        assert!(
            !right.is_empty(),
            "{w}x{h}: watch's stock not drawn big:\n{text}"
        );
        assert!(right.iter().all(|&&(x, y)| buf[(x, y)].fg != Color::Red));
        // broken's -400 across its middle row: the minus, the 4 and two 0s.
        let minus_row: String = (0..w / 2)
            .map(|x| buf[(x, label_row + 3)].symbol().to_string())
            .collect();
        assert!(minus_row.contains("███ ███ █ █ █ █"), "{w}x{h}:\n{text}");
        let longest = text.lines().map(|l| l.chars().count()).max().unwrap();
        assert!(longest <= usize::from(w));
    }
}

/// The session's side of a run, as the view's key source sees time pass:
/// the feed is dropped (the run is over) when the view asks for its key
/// number `hang_up_at`.
struct RunThenKeys {
    feed: Option<Feed>,
    hang_up_at: usize,
    asked: usize,
    keys: Scripted,
}

impl KeySource for RunThenKeys {
    fn next(&mut self, wait: Duration) -> io::Result<Option<Key>> {
        self.asked += 1;
        if self.asked == self.hang_up_at {
            self.feed = None;
        }
        self.keys.next(wait)
    }
}

#[test]
fn the_view_waits_for_q_once_the_run_is_over_and_ctrl_c_before_stops_the_run() {
    let (feed, rx) = Feed::channel();
    for u in broken_then_watch() {
        feed.send(u);
    }
    let interrupted = std::cell::Cell::new(0);
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    // While the run goes on, q is not the end and Ctrl-C is relayed; the
    // run ends at the third key, then the view stays through a keyless
    // wait and q ends it.
    let script = [
        Some(Key::Quit),
        Some(Key::Interrupt),
        None,
        None,
        Some(Key::Quit),
    ];
    let mut keys = RunThenKeys {
        feed: Some(feed),
        hang_up_at: 3,
        asked: 0,
        keys: Scripted(script.into()),
    };
    let model = live::show(&mut terminal, &rx, &mut keys, &|| {
        interrupted.set(interrupted.get() + 1)
    })
    .unwrap();
    assert_eq!(interrupted.get(), 1);
    assert!(keys.keys.0.is_empty(), "the view ended before q");
    assert!(model.over);
    let text = screen_text(terminal.backend().buffer());
    assert!(text.contains("q shows the summary"), "{text}");
    // broken's audited panel stays; watch was never audited: cut short,
    // and said so.
    assert!(text.contains("broken audited"), "{text}");
    assert!(text.contains("oversold 400"), "{text}");
    assert!(text.contains("watch stopped at 0.2s"), "{text}");
}

#[test]
fn live_off_a_terminal_or_beside_a_report_on_stdout_exits_2_naming_live() {
    for extra in [&[][..], &["--json", "-"][..], &["--quiet"][..]] {
        let out = Std::new(assert_cmd::cargo::cargo_bin("blackfriday"))
            .env_remove("REDIS_URL")
            .args(["run", "--live", "--buyers", "10", "--stock", "5"])
            .args(extra)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {err}");
        assert!(err.contains("--live"), "{extra:?}: {err}");
    }
}

/// Every reading the view gets is stock and sold from one atomic read: for
/// a safe strategy they add up to the initial stock at every snapshot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_snapshot_fed_to_the_view_is_a_consistent_pair_from_the_server() {
    let server = common::redis_server().await;
    let url = server.url();
    let config = common::config(&[
        "--redis",
        &url,
        "--quiet",
        "-s",
        "lua,watch",
        "--rate",
        "3000/s",
        "--buyers",
        "1500",
        "--stock",
        "600",
        "--seed",
        "11",
    ]);
    let mut session = Session::open(&config).await.expect("session opens");
    let (feed, rx) = Feed::channel();
    session.watch_live(feed);
    let report = session
        .run(&config, Progress::hidden(), &mut |_| Ok(()))
        .await
        .expect("run completes");
    let updates: Vec<Update> = rx.try_iter().collect();
    let initial = config.stock as i64;
    let mut per_strategy = [0usize; 2];
    for u in &updates {
        if let Update::Sample(s) = u {
            assert_eq!(
                s.server.stock + s.server.sold,
                initial,
                "strategy #{} at {:.3}s: stock {} + sold {}",
                s.index,
                s.t_s,
                s.server.stock,
                s.server.sold
            );
            per_strategy[s.index] += 1;
        }
    }
    // An open-model run of half a second is read many times, mid-sale.
    assert!(per_strategy.iter().all(|n| *n >= 5), "{per_strategy:?}");
    let mid_sale = updates
        .iter()
        .any(|u| matches!(u, Update::Sample(s) if s.server.sold > 0 && s.server.stock > 0));
    assert!(mid_sale, "no reading caught the sale in progress");
    // Each panel ends on the audit's figures, which the report holds too.
    let finished: Vec<_> = updates
        .iter()
        .filter_map(|u| match u {
            Update::Finished(f) => Some(f),
            _ => None,
        })
        .collect();
    assert_eq!(finished.len(), 2);
    for (f, r) in finished.iter().zip(&report.strategies) {
        assert_eq!(f.server.stock, r.server.stock);
        assert_eq!(f.server.sold, r.server.sold);
        assert_eq!(f.client.purchased, r.figures.purchased);
    }
}
