//! The coalescing connection (`redis::Pipe`) against a real redis-server:
//! every reply reaches its own caller, refusals that ran nothing come back
//! as "redo", a killed connection is reported and replaced, credentials
//! are used, and a run through it and through fred tell the same truth.

mod common;

use std::time::Duration;

use blackfriday::redis::{encode, slot_of, Pipe, Sent};
use bytes::BytesMut;
use fred::prelude::*;
use redis_protocol::resp2::types::BorrowedFrame::{BulkString, Integer};
use redis_protocol::resp2::types::BytesFrame;

const TIMEOUT: Duration = Duration::from_secs(5);

fn command(parts: &[&str]) -> BytesMut {
    let parts: Vec<_> = parts.iter().map(|p| BulkString(p.as_bytes())).collect();
    let mut out = BytesMut::new();
    encode(&mut out, &parts);
    out
}

fn text(sent: Sent) -> String {
    match sent {
        Sent::Reply(Ok(BytesFrame::BulkString(b) | BytesFrame::SimpleString(b))) => {
            String::from_utf8(b.to_vec()).unwrap()
        }
        other => panic!("expected a string reply, got {other:?}"),
    }
}

#[tokio::test]
async fn every_caller_gets_its_own_reply_when_thousands_share_one_write() {
    let server = common::redis_server().await;
    let client = common::client(&server.url()).await;
    let pipe = Pipe::open(client.clone(), 0, TIMEOUT).await.unwrap();
    let calls = (0..5_000).map(|i| {
        let pipe = &pipe;
        async move {
            let word = format!("buyer-{i}");
            (
                word.clone(),
                text(pipe.call(command(&["ECHO", &word])).await),
            )
        }
    });
    let replies = futures::future::join_all(calls).await;
    assert_eq!(replies.len(), 5_000);
    for (asked, heard) in replies {
        assert_eq!(asked, heard);
    }
    // Integers go out as bulk strings, as Redis wants its arguments.
    let mut out = BytesMut::new();
    encode(
        &mut out,
        &[BulkString(b"INCRBY"), BulkString(b"n"), Integer(42)],
    );
    assert!(matches!(
        pipe.call(out).await,
        Sent::Reply(Ok(BytesFrame::Integer(42)))
    ));
    pipe.close();
}

#[tokio::test]
async fn a_refusal_that_ran_nothing_is_a_redo_and_a_real_error_is_an_error() {
    let server = common::redis_server().await;
    let client = common::client(&server.url()).await;
    let pipe = Pipe::open(client.clone(), 0, TIMEOUT).await.unwrap();
    // A script the server does not know: nothing ran, fred may reload it.
    let unknown = command(&["EVALSHA", &"0".repeat(40), "0"]);
    assert!(matches!(pipe.call(unknown).await, Sent::Redo));
    let _: () = client
        .set("word", "not a number", None, None, false)
        .await
        .unwrap();
    match pipe.call(command(&["INCR", "word"])).await {
        Sent::Reply(Err(e)) => assert!(e.details().contains("not an integer"), "{e:?}"),
        other => panic!("expected the server's error, got {other:?}"),
    }
    // A batch: every reply, in order, error replies as frames.
    let mut out = BytesMut::new();
    for i in 0..100 {
        encode(&mut out, &[BulkString(b"ECHO"), Integer(i)]);
    }
    encode(&mut out, &[BulkString(b"INCR"), BulkString(b"word")]);
    let frames = pipe.batch(out, 101).await.expect("the batch is answered");
    assert_eq!(frames.len(), 101);
    assert_eq!(frames[7], BytesFrame::BulkString("7".into()));
    assert!(matches!(frames[100], BytesFrame::Error(_)));
    pipe.close();
}

#[tokio::test]
async fn a_killed_connection_loses_its_calls_then_comes_back() {
    let server = common::redis_server().await;
    let client = common::client(&server.url()).await;
    let pipe = Pipe::open(client.clone(), 0, TIMEOUT).await.unwrap();
    assert_eq!(
        text(pipe.call(command(&["ECHO", "before"])).await),
        "before"
    );
    let killed: i64 = client
        .custom(
            fred::types::CustomCommand::new_static("CLIENT", None, false),
            vec!["KILL", "TYPE", "normal", "SKIPME", "yes"],
        )
        .await
        .unwrap();
    assert_eq!(killed, 1, "the pipe's connection was the only other one");
    // The first call after the kill cannot have been answered: it was
    // never sent (redo) or its reply was lost with the connection.
    match pipe.call(command(&["ECHO", "during"])).await {
        Sent::Redo | Sent::Reply(Err(_)) => {}
        other => panic!("a call on a killed connection was answered: {other:?}"),
    }
    // It reconnects on its own, backing off from 50 ms.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        if let Sent::Reply(Ok(_)) = pipe.call(command(&["ECHO", "after"])).await {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the pipe never reconnected"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    pipe.close();
}

#[tokio::test]
async fn it_logs_in_as_the_client_does() {
    let server = common::redis_server().await;
    let admin = common::client(&server.url()).await;
    let _: () = admin
        .custom(
            fred::types::CustomCommand::new_static("ACL", None, false),
            vec!["SETUSER", "shop", "on", ">s3cret", "~*", "+@all"],
        )
        .await
        .unwrap();
    let url = format!("redis://shop:s3cret@127.0.0.1:{}/3", server.port());
    let client = common::client(&url).await;
    let pipe = Pipe::open(client, slot_of("x"), TIMEOUT).await.unwrap();
    assert_eq!(text(pipe.call(command(&["ACL", "WHOAMI"])).await), "shop");
    // The URL's database: a key set through the pipe is in database 3.
    let _ = pipe.call(command(&["SET", "where", "three"])).await;
    let _: () = admin.select(3).await.unwrap();
    let seen: Option<String> = admin.get("where").await.unwrap();
    assert_eq!(seen.as_deref(), Some("three"));
    pipe.close();
}

/// The same seeded crowd through the pipe and through fred, one write per
/// call: the same truth from the server.
#[tokio::test]
async fn coalesced_and_per_call_writes_audit_the_same() {
    for extra in [None, Some("--per-call-writes")] {
        let mut args = vec![
            "-s", "lua", "--buyers", "3000", "--stock", "1000", "--seed", "7",
        ];
        args.extend(extra);
        let report = common::run(&args).await;
        let lua = &report.strategies[0];
        assert_eq!(lua.server.sold, 1000, "{extra:?}");
        assert_eq!(lua.server.stock, 0, "{extra:?}");
        assert_eq!(lua.figures.purchased, 1000, "{extra:?}");
        assert_eq!(lua.figures.sold_out, 2000, "{extra:?}");
        assert!(report.held(), "{extra:?}");
    }
}
