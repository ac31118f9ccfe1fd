//! The terminal report is a pure function of a finished `Report`: snapshot it
//! from fixed figures, so any change to what users read is reviewed.

mod common;

use blackfriday::report::table;
use common::fixture::report;

#[test]
fn tables_snapshot() {
    insta::assert_snapshot!(table::render(&report(), false));
}

#[test]
fn exit_status_follows_the_verdicts() {
    let r = report();
    assert!(r.strategies[0].verdict.held, "broken oversold as expected");
    assert!(r.strategies[1].verdict.held);
    assert!(
        !r.strategies[2].verdict.held,
        "units left while buyers failed is an undersell"
    );
    assert_eq!(r.status(), blackfriday::ExitStatus::ExpectationFailed);
}
