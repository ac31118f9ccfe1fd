//! The words every layer shares: how a buyer's attempt ended, how an error
//! is classed, which audit check is meant, what a strategy is expected to do.
//!
//! A leaf: it imports nothing of the crate, so the strategies, the driver,
//! the metrics, the audit and the gate can all use it without importing
//! each other.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// Final outcome of one buyer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Purchased,
    SoldOut,
    GaveUp,
    Error(ErrorClass),
    /// Reservations: held, then cancelled, abandoned, or confirmed too late.
    Released,
}

/// A Redis error met during an attempt: its class, counted, and its message,
/// kept as a sample for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub class: ErrorClass,
    pub message: String,
}

/// Coarse error kinds, counted per strategy in the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    Timeout,
    Io,
    Canceled,
    Server,
    Other,
}

impl ErrorClass {
    pub fn of(e: &fred::error::Error) -> ErrorClass {
        use fred::error::ErrorKind as K;
        match e.kind() {
            K::Timeout => ErrorClass::Timeout,
            K::IO => ErrorClass::Io,
            K::Canceled => ErrorClass::Canceled,
            K::Unknown | K::InvalidArgument | K::InvalidCommand | K::NotFound => ErrorClass::Server,
            _ => ErrorClass::Other,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ErrorClass::Timeout => "timeout",
            ErrorClass::Io => "io",
            ErrorClass::Canceled => "canceled",
            ErrorClass::Server => "server",
            ErrorClass::Other => "other",
        }
    }
}

/// The audit checks, each its own line in the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckId {
    NoOversell,
    Conservation,
    OrdersMatch,
    ClientAgrees,
    NoLostSales,
    NoUndersell,
    // Cart runs.
    WholeCarts,
    // Reservation runs.
    HoldsEndOnce,
    NoDoubleRestock,
    NoLateConfirm,
    // Thresholds a scenario can set; evaluated by the gate.
    MaxP99,
    MinPurchasesPerS,
    MaxGaveUp,
    MaxErrors,
    MaxFalseSoldOut,
    SoldOut,
    // Runs with faults or an fsync policy.
    NoAckLost,
    OnePerBuyer,
}

impl CheckId {
    /// A threshold a scenario set (latency, throughput, give-ups, errors),
    /// not a correctness check (`sold_out` is one: it reads the stock): missing it alone is exit 4, not exit 1.
    pub fn is_threshold(self) -> bool {
        matches!(
            self,
            CheckId::MaxP99
                | CheckId::MinPurchasesPerS
                | CheckId::MaxGaveUp
                | CheckId::MaxErrors
                | CheckId::MaxFalseSoldOut
        )
    }

    /// The stable identifier, as serialized.
    pub fn key(self) -> &'static str {
        match self {
            CheckId::NoOversell => "no_oversell",
            CheckId::Conservation => "conservation",
            CheckId::OrdersMatch => "orders_match",
            CheckId::ClientAgrees => "client_agrees",
            CheckId::NoLostSales => "no_lost_sales",
            CheckId::NoUndersell => "no_undersell",
            CheckId::WholeCarts => "whole_carts",
            CheckId::HoldsEndOnce => "holds_end_once",
            CheckId::NoDoubleRestock => "no_double_restock",
            CheckId::NoLateConfirm => "no_late_confirm",
            CheckId::MaxP99 => "max_p99",
            CheckId::MinPurchasesPerS => "min_purchases_per_s",
            CheckId::MaxGaveUp => "max_gave_up",
            CheckId::MaxErrors => "max_errors",
            CheckId::MaxFalseSoldOut => "max_false_sold_out",
            CheckId::SoldOut => "sold_out",
            CheckId::NoAckLost => "no_ack_lost",
            CheckId::OnePerBuyer => "one_per_buyer",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            CheckId::NoOversell => "no oversell",
            CheckId::Conservation => "conservation",
            CheckId::OrdersMatch => "orders match sold",
            CheckId::ClientAgrees => "client agrees",
            CheckId::NoLostSales => "no lost sales",
            CheckId::NoUndersell => "no undersell",
            CheckId::WholeCarts => "no partial cart",
            CheckId::HoldsEndOnce => "holds end once",
            CheckId::NoDoubleRestock => "no double restock",
            CheckId::NoLateConfirm => "no late confirm",
            CheckId::MaxP99 => "p99 within budget",
            CheckId::MinPurchasesPerS => "purchases/s at least",
            CheckId::MaxGaveUp => "gave up at most",
            CheckId::MaxErrors => "errors at most",
            CheckId::MaxFalseSoldOut => "false sold-outs at most",
            CheckId::SoldOut => "sold out",
            CheckId::NoAckLost => "no acknowledged order lost",
            CheckId::OnePerBuyer => "one purchase per buyer",
        }
    }

    pub fn rule(self) -> &'static str {
        match self {
            CheckId::NoOversell => "per product: sold <= initial and final stock >= 0",
            CheckId::Conservation => {
                "per product: initial = stock + reserved + sold, and nothing left reserved"
            }
            CheckId::OrdersMatch => {
                "per product: units in order hashes = sold; no duplicate or dangling orders, \
                 no order hash left off the orders list"
            }
            CheckId::ClientAgrees => "acknowledged <= server orders <= acknowledged + unknown outcomes",
            CheckId::NoLostSales => "nobody told 'sold out' while their quantity is still in stock",
            CheckId::NoUndersell => {
                "nobody gave up (retries exhausted) or failed (unknown outcome) while their quantity is still in stock"
            }
            CheckId::WholeCarts => "every order holds exactly its buyer's cart, every line in full",
            CheckId::HoldsEndOnce => {
                "every hold placed ended exactly once (confirmed, cancelled or expired); none left open"
            }
            CheckId::NoDoubleRestock => "no hold's units went back to stock twice",
            CheckId::NoLateConfirm => "no hold was confirmed after it was cancelled or expired",
            CheckId::MaxP99 => "p99 latency of all buyers <= max_p99_ms (no samples fails)",
            CheckId::MinPurchasesPerS => "purchases/s >= min_purchases_per_s",
            CheckId::MaxGaveUp => "buyers who gave up <= max_gave_up",
            CheckId::MaxErrors => "buyers with an unknown outcome <= max_errors",
            CheckId::MaxFalseSoldOut => "false sold-outs <= max_false_sold_out",
            CheckId::SoldOut => "final stock read back from Redis is 0",
            CheckId::NoAckLost => {
                "every purchase acknowledged to a buyer is still among the server's orders"
            }
            CheckId::OnePerBuyer => {
                "no buyer has more than one order: an order id listed twice, or two orders \
                 naming the same buyer, is a purchase applied twice"
            }
        }
    }
}

/// What a strategy must do under a run's load: `clean` means every audit
/// check holds; the others name the check a control group must fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    Clean,
    Oversell,
    /// `reserve-naive`: ending holds races the reaper, and some hold's units
    /// must go back to stock twice.
    #[serde(rename = "double-restock")]
    DoubleRestock,
    /// A control group whose crowd cannot provoke its flaw: no two buyers
    /// who could each be served alone ask for more than the stock (`--stock
    /// 0`, or every buyer wanting more than there is). Every check must hold,
    /// as for `clean`; the name says why a control group is held to it.
    Unprovoked,
    /// `lock-fenced` with holders paused past their lease: every stale write
    /// is refused, so it stays safe (every check but no-undersell must hold)
    /// while buyers give up with stock left, shown as the undersell.
    Starved,
}

impl Expect {
    pub fn name(self) -> &'static str {
        match self {
            Expect::Clean => "clean",
            Expect::Oversell => "oversell",
            Expect::DoubleRestock => "double-restock",
            Expect::Unprovoked => "unprovoked",
            Expect::Starved => "starved",
        }
    }

    /// How the verdict names it: the name, and for the gate's own clean
    /// expectations why they are clean.
    pub fn title(self) -> &'static str {
        match self {
            Expect::Unprovoked => "clean: no demand can oversell",
            Expect::Starved => "starved: safe, but buyers give up with stock left",
            other => other.name(),
        }
    }

    /// Whether a check's result is the one this expectation asks for.
    pub fn wants(self, id: CheckId) -> bool {
        self.tooth() != Some(id)
    }

    /// The check this expectation wants to fail: the control group's tooth.
    pub fn tooth(self) -> Option<CheckId> {
        match self {
            Expect::Clean | Expect::Unprovoked | Expect::Starved => None,
            Expect::Oversell => Some(CheckId::NoOversell),
            Expect::DoubleRestock => Some(CheckId::NoDoubleRestock),
        }
    }
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.title())
    }
}

impl FromStr for Expect {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "clean" => Ok(Expect::Clean),
            "oversell" => Ok(Expect::Oversell),
            "double-restock" => Ok(Expect::DoubleRestock),
            other => Err(format!(
                "unknown expectation '{other}' (known: clean, oversell, double-restock)"
            )),
        }
    }
}
