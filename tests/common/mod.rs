//! Shared test support: a real redis-server per test, started on a free port
//! by the test itself, and a client that reads the server's truth directly.
#![allow(dead_code)]

pub mod fixture;

use blackfriday::cli::{Cli, Command};
use blackfriday::redis::{default_binary, ManagedRedis};
use blackfriday::RunConfig;
use clap::Parser;
use fred::prelude::*;

/// Start a throwaway redis-server. A test that cannot get one fails loudly
/// with the install instructions; it never skips.
pub async fn redis_server() -> ManagedRedis {
    match ManagedRedis::start(&default_binary()).await {
        Ok(server) => server,
        Err(e) => panic!("this test needs a real redis-server and could not start one:\n{e}"),
    }
}

pub async fn client(url: &str) -> Client {
    let client = Builder::from_config(Config::from_url(url).expect("valid url"))
        .with_performance_config(|p| p.default_command_timeout = std::time::Duration::from_secs(5))
        .build()
        .expect("client builds");
    client.init().await.expect("test client connects");
    client
}

/// Resolve `blackfriday run ARGS` exactly as the binary would.
pub fn config(args: &[&str]) -> RunConfig {
    let cli =
        Cli::try_parse_from(["blackfriday", "run"].iter().chain(args)).expect("arguments parse");
    let Command::Run(a) = cli.command else {
        panic!("not a run")
    };
    RunConfig::from_args(a).expect("configuration resolves")
}

/// Resolve and run `blackfriday run ARGS` in process; a run that cannot
/// finish fails the test with its error (these runs need a real server).
pub async fn run(args: &[&str]) -> blackfriday::Report {
    match blackfriday::run(&config(args)).await {
        Ok(report) => report,
        Err(e) => panic!("the run failed (it needs a real redis-server):\n{e}"),
    }
}

/// Whether `s`'s check `id` passed; a check the strategy lacks fails the test.
pub fn passed(s: &blackfriday::findings::StrategyReport, id: blackfriday::audit::CheckId) -> bool {
    let c = s.checks.iter().find(|c| c.id == id);
    c.unwrap_or_else(|| panic!("{} has no {id:?} check", s.strategy))
        .passed
}

/// The state of one strategy's namespace, read straight from Redis.
#[derive(Debug)]
pub struct ServerState {
    pub stock: i64,
    pub sold: i64,
    pub orders: i64,
}

pub async fn state(c: &Client, run_id: &str, strategy: &str) -> ServerState {
    let key = |k: &str| format!("bf:{run_id}:{{{strategy}}}:{k}");
    let stock: Option<i64> = c.get(key("stock")).await.unwrap();
    let sold: Option<i64> = c.get(key("sold")).await.unwrap();
    let orders: i64 = c.llen(key("orders")).await.unwrap();
    ServerState {
        stock: stock.expect("stock key kept (--keep)"),
        sold: sold.expect("sold key kept (--keep)"),
        orders,
    }
}

/// Every key under `bf:` on the server.
pub async fn bf_keys(c: &Client) -> Vec<String> {
    let keys: Vec<String> = c.custom(fred::cmd!("KEYS"), vec!["bf:*"]).await.unwrap();
    keys
}
