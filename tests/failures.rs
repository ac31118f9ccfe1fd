//! Every failure blamed on the right party, with nothing leaked and nothing
//! left behind: each class against a real redis-server the test starts.

mod common;

use std::process::{Command as Std, Output, Stdio};
use std::time::{Duration, Instant};

use fred::prelude::*;

use common::{bf_keys, client, redis_server};

fn bin() -> Std {
    let mut cmd = Std::new(assert_cmd::cargo::cargo_bin("blackfriday"));
    cmd.env_remove("REDIS_URL").env("NO_COLOR", "1");
    cmd
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("blackfriday runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `redis://user:password@127.0.0.1:port` for a test server.
fn url_as(port: u16, user: &str, password: &str) -> String {
    format!("redis://{user}:{password}@127.0.0.1:{port}")
}

async fn cmd(c: &Client, name: &'static str, args: Vec<&str>) -> Value {
    c.custom(fred::cmd!(name), args)
        .await
        .expect("test command")
}

#[test]
fn an_unparsable_url_never_prints_its_password() {
    let bad = "redis://u:s3cretpw@127.0.0.1:99999";
    let o = run(&["run", "--redis", bad, "--quiet"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(!stderr(&o).contains("s3cretpw"), "{}", stderr(&o));
    assert!(stderr(&o).contains("u:***@"), "{}", stderr(&o));

    let o = bin()
        .args(["run", "--quiet"])
        .env("REDIS_URL", bad)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(!stderr(&o).contains("s3cretpw"), "{}", stderr(&o));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("leak.toml");
    std::fs::write(&file, format!("name = \"leak\"\nredis = \"{bad}\"\n")).unwrap();
    let o = run(&["run", "--scenario", file.to_str().unwrap(), "--quiet"]);
    assert_eq!(o.status.code(), Some(2));
    let all = format!("{}{}", stderr(&o), String::from_utf8_lossy(&o.stdout));
    assert!(!all.contains("s3cretpw"), "{all}");
    let o = run(&["check", file.to_str().unwrap()]);
    let all = format!("{}{}", stderr(&o), String::from_utf8_lossy(&o.stdout));
    assert!(!all.contains("s3cretpw"), "{all}");
}

#[tokio::test]
async fn wrong_password_is_blamed_on_the_credentials() {
    let server = redis_server().await;
    let admin = client(&server.url()).await;
    cmd(&admin, "CONFIG", vec!["SET", "requirepass", "right"]).await;
    let o = run(&[
        "run",
        "--redis",
        &url_as(server.port(), "default", "nope"),
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("check user and password"),
        "{}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains("nope@"), "{}", stderr(&o));
}

#[tokio::test]
async fn a_missing_acl_permission_stops_the_run_before_anything_is_written() {
    let server = redis_server().await;
    let admin = client(&server.url()).await;
    // alice may do everything but EVALSHA; ACL DRYRUN is denied to her too,
    // so the preflight probes on a scratch key.
    cmd(
        &admin,
        "ACL",
        vec![
            "SETUSER", "alice", "on", ">pw", "~bf:*", "+@all", "-evalsha", "-acl",
        ],
    )
    .await;
    let url = url_as(server.port(), "alice", "pw");
    let o = run(&["run", "--redis", &url, "-s", "lua", "--quiet"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("'alice'") && err.contains("EVALSHA"), "{err}");
    assert!(err.contains("ACL SETUSER alice +evalsha ~bf:*"), "{err}");
    assert!(
        bf_keys(&admin).await.is_empty(),
        "the probe left keys behind"
    );

    // bob may run ACL DRYRUN but not touch the run's keys.
    cmd(
        &admin,
        "ACL",
        vec!["SETUSER", "bob", "on", ">pw", "~other:*", "+@all"],
    )
    .await;
    let o = run(&[
        "run",
        "--redis",
        &url_as(server.port(), "bob", "pw"),
        "-s",
        "watch",
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("keys matching bf:*"), "{}", stderr(&o));
    assert!(bf_keys(&admin).await.is_empty());
}

#[tokio::test]
async fn out_of_memory_is_blamed_on_the_server_state() {
    let server = redis_server().await;
    let admin = client(&server.url()).await;
    cmd(&admin, "CONFIG", vec!["SET", "maxmemory", "1"]).await;
    let o = run(&["run", "--redis", &server.url(), "-s", "lua", "--quiet"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("out of memory (maxmemory)"),
        "{}",
        stderr(&o)
    );
    cmd(&admin, "CONFIG", vec!["SET", "maxmemory", "0"]).await;
}

#[tokio::test]
async fn a_script_that_does_not_compile_is_named_with_its_line() {
    let server = redis_server().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("checkout.lua");
    std::fs::write(&file, "local stock = 1\nlocal x = = 2\nreturn 1\n").unwrap();
    let o = run(&[
        "run",
        "--redis",
        &server.url(),
        "-s",
        "script",
        "--script",
        file.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("checkout.lua") && err.contains("line 2"),
        "{err}"
    );
    assert!(!err.contains("check the server is reachable"), "{err}");
}

#[tokio::test]
async fn a_looping_script_is_killed_and_the_run_stopped() {
    let server = redis_server().await;
    let admin = client(&server.url()).await;
    cmd(&admin, "CONFIG", vec!["SET", "busy-reply-threshold", "100"]).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("loop.lua");
    std::fs::write(&file, "while true do end\n").unwrap();
    let started = Instant::now();
    let o = run(&[
        "run",
        "--redis",
        &server.url(),
        "-s",
        "script",
        "--script",
        file.to_str().unwrap(),
        "--buyers",
        "20",
        "--concurrency",
        "2",
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("loop.lua") && err.contains("SCRIPT KILL"),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    // The server answers again and the namespace is gone.
    let pong: String = admin.ping(None).await.unwrap();
    assert_eq!(pong, "PONG");
    assert!(
        bf_keys(&admin).await.is_empty(),
        "{:?}",
        bf_keys(&admin).await
    );
}

/// Start a run against `url` that stays busy for a while, and wait until it
/// has seeded its keys.
// The caller waits for the child it gets back (or kills it on a timeout here).
#[allow(clippy::zombie_processes)]
async fn busy_run(url: &str, admin: &Client, timeout: &str) -> std::process::Child {
    let mut child = bin()
        .args([
            "run", "--redis", url, "-s", "watch", "--buyers", "200000", "--stock", "100000",
        ])
        .args(["--timeout", timeout, "--quiet"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("blackfriday starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut orders = None;
    loop {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the run never started selling");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        let Some(key) = &orders else {
            let keys: Vec<String> = admin
                .custom(fred::cmd!("KEYS"), vec!["bf:*:meta"])
                .await
                .unwrap();
            orders = keys.first().map(|m| m.replace(":meta", ":orders"));
            continue;
        };
        let n: i64 = admin.llen(key.as_str()).await.unwrap_or(0);
        if n > 100 {
            return child;
        }
    }
}

#[tokio::test]
async fn a_server_killed_mid_run_is_noticed_within_seconds_whatever_the_timeout() {
    let server = redis_server().await;
    let admin = client(&server.url()).await;
    cmd(&admin, "CONFIG", vec!["SET", "requirepass", "hunter2pw"]).await;
    let url = url_as(server.port(), "default", "hunter2pw");
    let child = busy_run(&url, &admin, "30s").await;
    let killed = Instant::now();
    Std::new("kill")
        .args(["-9", &server.pid().to_string()])
        .status()
        .unwrap();
    let o = child.wait_with_output().unwrap();
    let took = killed.elapsed();
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(took < Duration::from_secs(8), "noticed after {took:?}");
    let err = stderr(&o);
    assert!(
        err.contains("stopped answering") && err.contains("default:***@127.0.0.1"),
        "{err}"
    );
    assert!(!err.contains("hunter2pw"), "{err}");
    assert!(err.contains("blackfriday clean"), "{err}");
    println!("kill to exit 3: {took:?}");
}

#[tokio::test]
async fn clean_removes_a_killed_runs_keys_and_nothing_else() {
    let server = redis_server().await;
    let admin = client(&server.url()).await;
    let mut child = busy_run(&server.url(), &admin, "5s").await;
    child.kill().unwrap(); // SIGKILL: no cleanup runs
    child.wait().unwrap();
    let left = bf_keys(&admin).await;
    assert!(
        left.len() > 100,
        "a killed run leaves its keys: {}",
        left.len()
    );
    let stock = left
        .iter()
        .find(|k| k.ends_with(":stock"))
        .expect("stock key");
    let ttl: i64 = admin.ttl(stock).await.unwrap();
    assert!(ttl > 23 * 3600 && ttl <= 24 * 3600, "safety-net TTL: {ttl}");
    let run_id = stock.split(':').nth(1).unwrap().to_string();

    let mut look_alikes = Vec::new();
    for i in 0..250 {
        look_alikes.push(format!("bf:notarun:x:{i}"));
        look_alikes.push(format!("bf:0000000g:{{watch}}:order:{i}"));
        // A well-formed namespace without a meta hash: not provably a run.
        look_alikes.push(format!("bf:deadbeef:{{watch}}:order:{i}"));
        look_alikes.push(format!("bf:{run_id}x:{{watch}}:order:{i}"));
    }
    for k in &look_alikes {
        let _: () = admin.set(k.as_str(), 1, None, None, false).await.unwrap();
    }

    let url = server.url();
    // The run started seconds ago: the default --older-than 1h keeps it.
    let o = run(&["clean", "--redis", &url]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(bf_keys(&admin).await.len(), left.len() + 1000);
    let o = run(&["clean", "--redis", &url, "--older-than", "0s", "--dry-run"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(bf_keys(&admin).await.len(), left.len() + 1000);

    let o = run(&["clean", "--redis", &url, "--older-than", "0s"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(&format!("removed {} keys", left.len())),
        "{out}"
    );
    let mut remaining = bf_keys(&admin).await;
    remaining.sort();
    look_alikes.sort();
    assert_eq!(remaining, look_alikes);
}
