//! Parsing fault steps, and what each kind says about itself.

use super::*;

#[test]
fn steps_parse_and_name_what_is_wrong() {
    let s: FaultStep = "pause:300ms@1500ms".parse().unwrap();
    assert_eq!(s.kind, FaultKind::Pause(Duration::from_millis(300)));
    assert_eq!(s.at, Duration::from_millis(1500));
    assert_eq!(s.to_string(), "pause:300ms@1s 500ms");
    let k: FaultStep = "kill@2s".parse().unwrap();
    assert!(k.kind.needs_process() && k.kind.restarts());
    assert!("kill:1s@2s"
        .parse::<FaultStep>()
        .unwrap_err()
        .contains("no duration"));
    assert!("pause@2s"
        .parse::<FaultStep>()
        .unwrap_err()
        .contains("needs a duration"));
    assert!("nuke@2s"
        .parse::<FaultStep>()
        .unwrap_err()
        .contains("known:"));
    assert!("kill".parse::<FaultStep>().unwrap_err().contains("KIND@AT"));
    let f: FaultStep = "failover@1s".parse().unwrap();
    assert_eq!(f.kind, FaultKind::Failover);
    assert!(f.kind.needs_replica() && f.kind.may_lose_acks());
    assert!(!f.kind.needs_process() && !f.kind.restarts() && !f.kind.needs_proxy());
    assert_eq!(f.to_string(), "failover@1s");
}

#[test]
fn network_faults_parse_with_their_delays_and_lengths() {
    let ms = Duration::from_millis;
    let l: FaultStep = "latency:5ms@1s".parse().unwrap();
    let want = FaultKind::Latency {
        min: ms(5),
        max: ms(5),
        window: None,
    };
    assert_eq!((l.kind, l.duration), (want, None));
    assert!(l.kind.needs_proxy() && !l.kind.needs_process());
    let r: FaultStep = "latency:5ms..20ms:2s@1s".parse().unwrap();
    assert_eq!(r.duration, Some(Duration::from_secs(2)));
    assert_eq!(r.kind.to_string(), "latency:5ms..20ms:2s");
    let t = FaultKind::parse("latency:1ms..3ms", Some("500ms")).unwrap();
    assert_eq!(t.duration(), Some(ms(500)));
    assert!(FaultKind::parse("latency:9ms..3ms", None)
        .unwrap_err()
        .contains("backwards"));
    assert!(FaultKind::parse("latency", None)
        .unwrap_err()
        .contains("delay"));
    let b: FaultStep = "blackhole:1s@2s".parse().unwrap();
    assert_eq!(b.kind, FaultKind::Blackhole(Duration::from_secs(1)));
    assert_eq!(FaultKind::parse("blackhole", Some("1s")).unwrap(), b.kind);
    assert!(FaultKind::parse("blackhole:1s", Some("1s")).is_err());
    assert_eq!(
        "drop@1s".parse::<FaultStep>().unwrap().kind,
        FaultKind::Drop
    );
    assert!(FaultKind::parse("drop:1s", None)
        .unwrap_err()
        .contains("no duration"));
    assert!(FaultKind::parse("pause:1s:2s", None).is_err());
}
