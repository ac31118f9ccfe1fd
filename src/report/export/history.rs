//! `--history FILE.jsonl`: the driver's events, one JSON object a line, in
//! the shape Jepsen, Knossos and Elle read:
//!
//! ```text
//! {"type":"invoke","f":"buy","process":7,"value":{...},"time":81234,"index":0,...}
//! ```
//!
//! Streamed from the channel as the run goes, on a blocking thread of its
//! own, so memory stays bounded whatever the crowd and the driver's
//! workers never wait on the disk.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use serde::Serialize;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::task::JoinHandle;

use crate::metrics::{Event, HistorySink};

/// The writer at work; [`HistoryWriter::finish`] once the sinks are gone.
pub struct HistoryWriter {
    task: JoinHandle<io::Result<u64>>,
}

impl HistoryWriter {
    /// Create (or truncate) the file and start writing whatever comes.
    pub fn start(path: &Path) -> io::Result<(HistorySink, HistoryWriter)> {
        let file = BufWriter::new(File::create(path)?);
        let (sink, rx) = HistorySink::channel();
        let task = tokio::task::spawn_blocking(move || write_all(file, rx));
        Ok((sink, HistoryWriter { task }))
    }

    /// Wait for every event sent to be written (every sink must be dropped
    /// first); the number of lines.
    pub async fn finish(self) -> io::Result<u64> {
        self.task.await.map_err(io::Error::other)?
    }
}

fn write_all(mut out: BufWriter<File>, mut rx: UnboundedReceiver<Event>) -> io::Result<u64> {
    let mut index = 0u64;
    while let Some(event) = rx.blocking_recv() {
        serde_json::to_writer(&mut out, &line(&event, index))?;
        out.write_all(b"\n")?;
        index += 1;
    }
    out.flush()?;
    Ok(index)
}

/// One event as its line: Jepsen's keys in Jepsen's order, then the
/// strategy and the buyer (a process after an unknown outcome is not the
/// buyer's id).
#[derive(Serialize)]
pub struct Line<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    f: &'static str,
    process: u64,
    value: Payload<'a>,
    time: u64,
    index: u64,
    strategy: &'static str,
    buyer: u32,
}

#[derive(Serialize)]
struct Payload<'a> {
    qty: u32,
    order: Option<u32>,
    stock_read: Option<i64>,
    reply: Option<&'a str>,
}

pub fn line(e: &Event, index: u64) -> Line<'_> {
    Line {
        kind: e.op.name(),
        f: e.f,
        process: e.process,
        value: Payload {
            qty: e.qty,
            order: e.order,
            stock_read: e.stock_read,
            reply: e.reply.as_deref(),
        },
        time: e.time_ns,
        index,
        strategy: e.strategy,
        buyer: e.buyer,
    }
}
