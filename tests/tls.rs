//! TLS and unix sockets against real redis-servers started here: a run over
//! each, certificate problems refused with exit 3 and their cause in words,
//! and mutual TLS. The audit's numbers are read back from the server.

mod common;
#[path = "tls/server.rs"]
mod server;

use std::time::Duration;

use assert_cmd::Command;
use blackfriday::redis::{TlsFile, TlsOptions};
use fred::prelude::*;
use predicates::prelude::*;
use serde_json::Value;

use server::{Pki, TlsRedis};

fn blackfriday() -> Command {
    let mut cmd = Command::cargo_bin("blackfriday").unwrap();
    cmd.env_remove("REDIS_URL")
        .env_remove("NO_COLOR")
        .env_remove("GITHUB_STEP_SUMMARY")
        .timeout(Duration::from_secs(120));
    cmd
}

/// `run -q -s lua,watch --buyers 300 --stock 100 --json -` plus `extra`.
fn run(extra: &[&str]) -> assert_cmd::assert::Assert {
    blackfriday()
        .args([
            "run",
            "-q",
            "-s",
            "lua,watch",
            "--buyers",
            "300",
            "--stock",
            "100",
        ])
        .args(["--seed", "5", "--keep", "--json", "-"])
        .args(extra)
        .assert()
}

fn report(a: &assert_cmd::assert::Assert) -> Value {
    serde_json::from_slice(&a.get_output().stdout).expect("a JSON report on stdout")
}

/// A client of the test's own, over TLS, trusting the test CA.
async fn tls_client(url: &str, pki: &Pki) -> Client {
    let mut config = Config::from_url(url).unwrap();
    let file = |f: &str| {
        Some(TlsFile {
            path: pki.path(f).into(),
            name: f.into(),
        })
    };
    let tls = TlsOptions {
        ca: file("ca.pem"),
        cert: file("client.pem"),
        key: file("client.key"),
        ..TlsOptions::default()
    };
    config.tls = Some(tls.config().unwrap());
    let client = Builder::from_config(config)
        .with_performance_config(|p| p.default_command_timeout = Duration::from_secs(5))
        .build()
        .unwrap();
    client.init().await.expect("the test's TLS client connects");
    client
}

/// Every strategy sold exactly the stock, as the server's own keys say.
async fn audited(c: &Client, doc: &Value) {
    let run_id = doc["run"]["run_id"].as_str().unwrap();
    for strategy in ["lua", "watch"] {
        let s = common::state(c, run_id, strategy).await;
        assert_eq!((s.stock, s.sold, s.orders), (0, 100, 100), "{strategy}");
    }
}

#[test]
fn a_run_over_tls_is_audited_and_says_tls() {
    let pki = Pki::mint(&["localhost", "127.0.0.1"]);
    let server = TlsRedis::start(&pki, "no");
    let a = run(&["--redis", &server.url(), "--tls-ca", &pki.path("ca.pem")]).code(0);
    let doc = report(&a);
    let redis = &doc["run"]["redis"];
    assert_eq!(redis["tls"], true, "{redis}");
    assert_eq!(redis["transport"], "tcp");
    assert_eq!(redis["user"], "default");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let c = tls_client(&server.url(), &pki).await;
        audited(&c, &doc).await;
    });
}

#[test]
fn a_certificate_from_an_unknown_ca_is_refused_with_exit_3() {
    let pki = Pki::mint(&["localhost", "127.0.0.1"]);
    let server = TlsRedis::start(&pki, "no");
    run(&[
        "--redis",
        &server.url(),
        "--tls-ca",
        &pki.path("other-ca.pem"),
    ])
    .code(3)
    .stderr(predicate::str::contains("unknown issuer"))
    .stderr(predicate::str::contains("--tls-ca"));
    // Without --tls-ca the system's roots are used, and they know no test CA.
    run(&["--redis", &server.url()])
        .code(3)
        .stderr(predicate::str::contains("unknown issuer"));
    // --tls-insecure goes through, and says so on every run.
    let a = run(&["--redis", &server.url(), "--tls-insecure"])
        .code(0)
        .stderr(predicate::str::contains("warning: --tls-insecure"));
    assert_eq!(report(&a)["run"]["redis"]["tls_insecure"], true);
}

#[test]
fn a_certificate_for_another_name_is_refused_unless_that_name_is_given() {
    let pki = Pki::mint(&["redis.test"]);
    let server = TlsRedis::start(&pki, "no");
    let ca = pki.path("ca.pem");
    run(&["--redis", &server.url(), "--tls-ca", &ca])
        .code(3)
        .stderr(predicate::str::contains("name mismatch"))
        .stderr(predicate::str::contains("--tls-server-name"));
    run(&[
        "--redis",
        &server.url(),
        "--tls-ca",
        &ca,
        "--tls-server-name",
        "redis.test",
    ])
    .code(0);
}

#[test]
fn mutual_tls_wants_a_client_certificate_and_accepts_one() {
    let pki = Pki::mint(&["127.0.0.1"]);
    let server = TlsRedis::start(&pki, "yes");
    let ca = pki.path("ca.pem");
    run(&["--redis", &server.url(), "--tls-ca", &ca])
        .code(3)
        .stderr(predicate::str::contains("client certificate"))
        .stderr(predicate::str::contains("--tls-cert"));
    let (cert, key) = (pki.path("client.pem"), pki.path("client.key"));
    run(&[
        "--redis",
        &server.url(),
        "--tls-ca",
        &ca,
        "--tls-cert",
        &cert,
    ])
    .code(2)
    .stderr(predicate::str::contains("--tls-key"));
    let a = run(&[
        "--redis",
        &server.url(),
        "--tls-ca",
        &ca,
        "--tls-cert",
        &cert,
        "--tls-key",
        &key,
    ])
    .code(0);
    let doc = report(&a);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let c = tls_client(&server.url(), &pki).await;
        audited(&c, &doc).await;
    });
}

#[test]
fn a_run_over_a_unix_socket_reads_its_database_from_the_query() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("redis.sock");
    let mut child = std::process::Command::new("redis-server")
        .args(["--port", "0", "--save", "", "--appendonly", "no"])
        .arg("--unixsocket")
        .arg(&socket)
        .arg("--dir")
        .arg(dir.path())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("this test needs redis-server on PATH");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !socket.exists() {
        assert!(std::time::Instant::now() < deadline, "no socket in 10s");
        std::thread::sleep(Duration::from_millis(10));
    }
    let url = format!("unix://{}?db=3", socket.display());
    let a = run(&["--redis", &url]).code(0);
    let doc = report(&a);
    assert_eq!(doc["run"]["redis"]["transport"], "unix");
    assert_eq!(doc["run"]["redis"]["tls"], false);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let unix = format!("redis+unix://{}", socket.display());
        let mut config = Config::from_url(&unix).unwrap();
        config.database = Some(3);
        let c = Builder::from_config(config).build().unwrap();
        c.init().await.unwrap();
        audited(&c, &doc).await;
        let db0: u64 = c
            .custom(fred::cmd!("DBSIZE"), Vec::<String>::new())
            .await
            .unwrap();
        assert!(db0 > 0, "db 3 holds the run's keys");
    });
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn the_managed_server_can_listen_on_a_socket() {
    let a = blackfriday()
        .args([
            "run", "-q", "--unix", "-s", "lua", "--buyers", "300", "--stock", "100",
        ])
        .args(["--json", "-"])
        .assert()
        .code(0);
    let doc = report(&a);
    let redis = &doc["run"]["redis"];
    assert_eq!(redis["transport"], "unix", "{redis}");
    assert!(
        redis["url"].as_str().unwrap().starts_with("unix:///"),
        "{redis}"
    );
    let lua = &doc["strategies"][0]["figures"];
    assert_eq!(lua["purchased"], 100, "{lua}");
}

#[test]
fn scenario_tls_keys_resolve_against_the_file_and_name_their_key() {
    let pki = Pki::mint(&["127.0.0.1"]);
    let server = TlsRedis::start(&pki, "yes");
    let scenario = pki.dir.path().join("tls.toml");
    let write = |redis: &str, ca: &str| {
        let text = format!(
            "name = \"tls\"\nredis = \"{redis}\"\nbuyers = 50\nstock = 10\n\
             [tls]\nca = \"{ca}\"\ncert = \"client.pem\"\nkey = \"client.key\"\n"
        );
        std::fs::write(&scenario, text).unwrap();
    };
    let scenario_arg = scenario.display().to_string();
    write(&server.url(), "ca.pem");
    blackfriday()
        .args(["run", "-q", "-s", "lua", "--scenario", &scenario_arg])
        .assert()
        .code(0);
    write(&server.url(), "missing.pem");
    blackfriday()
        .args(["run", "-q", "-s", "lua", "--scenario", &scenario_arg])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("tls.toml (tls.ca)"))
        .stderr(predicate::str::contains("missing.pem: cannot be read"));
    write(&server.url().replace("rediss", "redis"), "ca.pem");
    blackfriday()
        .args(["run", "-q", "-s", "lua", "--scenario", &scenario_arg])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("applies to TLS connections only"));
}
