//! The reply sorting, checked on replies as the server words them.

use super::*;

fn reply(s: &str) -> FredError {
    FredError::new(ErrorKind::Unknown, s.to_string())
}

#[test]
fn sorted_by_the_reply() {
    let noperm = reply("NOPERM this user has no permissions to run the 'evalsha' command");
    assert_eq!(
        classify(&noperm),
        Blame::Permission {
            command: Some("evalsha".into())
        }
    );
    let keys =
        reply("NOPERM this user has no permissions to access one of the keys used as arguments");
    assert_eq!(classify(&keys), Blame::Permission { command: None });
    let compile = reply(
        "ERR Error compiling script (new function): user_script:3: unexpected symbol near '='",
    );
    assert_eq!(
        classify(&compile),
        Blame::Script {
            fault: ScriptFault::Compile,
            line: Some(3)
        }
    );
    let oom = reply(
        "OOM command not allowed when used memory > 'maxmemory'. script: ab, on @user_script:1.",
    );
    assert!(matches!(classify(&oom), Blame::ServerState(s) if s.contains("maxmemory")));
    let auth = FredError::new(ErrorKind::Auth, "WRONGPASS invalid username-password pair");
    assert_eq!(classify(&auth), Blame::Authentication);
    let io = FredError::new(ErrorKind::IO, "Connection refused");
    assert_eq!(classify(&io), Blame::Connectivity);
    let busy = reply(
        "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.",
    );
    assert!(matches!(
        classify(&busy),
        Blame::Script {
            fault: ScriptFault::Busy,
            ..
        }
    ));
}

#[test]
fn fatal_replies_stop_the_run_and_busy_is_left_to_the_watchdog() {
    let runtime = "Unknown: ERR user_script:3: boom script: 1f0e, on @user_script:3.";
    assert!(fatal(runtime));
    assert_eq!(script_line(from_failure(runtime).details()), Some(3));
    assert!(fatal(
        "Unknown: NOPERM this user has no permissions to run the 'evalsha' command"
    ));
    assert!(fatal("Auth: WRONGPASS invalid username-password pair"));
    assert!(fatal(
        "OOM command not allowed when used memory > 'maxmemory'."
    ));
    assert!(!fatal("Unknown: BUSY Redis is busy running a script."));
    assert!(!fatal("IO: Connection reset by peer"));
    assert!(!fatal("Timeout: Request timed out."));
    assert!(!fatal("Unknown: ERR unexpected reply 7"));
}

#[test]
fn tls_failures_are_sorted_by_their_cause() {
    let io = |s: &str| FredError::new(ErrorKind::IO, s.to_string());
    let e = io(
        r#"Custom { kind: InvalidData, error: InvalidCertificate(NotValidForNameContext { expected: IpAddress(V4(Ipv4Addr([127, 0, 0, 1]))), presented: ["DnsName(\"redis.test\")"] }) }"#,
    );
    assert_eq!(
        classify(&e),
        Blame::Tls(TlsCause::NameMismatch(vec!["redis.test".into()]))
    );
    for (reply, cause) in [
        (
            "error: InvalidCertificate(UnknownIssuer) }",
            TlsCause::UnknownIssuer,
        ),
        (
            "InvalidCertificate(ExpiredContext { time: 1 })",
            TlsCause::Expired,
        ),
        (
            "error: AlertReceived(CertificateRequired) }",
            TlsCause::ClientCertWanted,
        ),
        (
            "received corrupt message of type InvalidContentType",
            TlsCause::NotTls,
        ),
    ] {
        assert_eq!(classify(&io(reply)), Blame::Tls(cause), "{reply}");
    }
    let ctx = Context {
        url: "rediss://h:1",
        user: "default",
        script: None,
    };
    let text = explain(&ctx, "connecting", &io("InvalidCertificate(UnknownIssuer)")).to_string();
    assert!(
        text.contains("unknown issuer") && text.contains("--tls-ca"),
        "{text}"
    );
}

#[test]
fn a_denied_command_names_its_grant() {
    let ctx = Context {
        url: "redis://alice:***@h:1",
        user: "alice",
        script: None,
    };
    let e = explain(
        &ctx,
        "loading the purchase script",
        &reply("NOPERM this user has no permissions to run the 'evalsha' command"),
    );
    let text = e.to_string();
    assert!(text.contains("ACL SETUSER alice +evalsha ~bf:*"), "{text}");
    assert!(
        text.contains("'alice'") && text.contains("EVALSHA"),
        "{text}"
    );
}
