//! A purchase that is one script call: the script is loaded once on a
//! shared, pipelined connection, then every attempt is one EVALSHA of
//! `lua/buy.lua`'s contract (KEYS and ARGV from [`BuyScriptArgs`], plus
//! whatever a variant appends). `lua`, `script` and `idempotent` are this.
//!
//! The calls go out through a [`Pipe`], coalesced into one write per batch
//! (`--per-call-writes` sends each through fred instead); whatever the
//! pipe could not run (the script forgotten, the slot moved, the
//! connection down) goes through fred, which reloads or follows.

use bytes::BytesMut;
use fred::clients::Pool;
use fred::prelude::*;
use fred::types::scripts::Script;
use fred::types::Key;
use redis_protocol::resp2::types::{BorrowedFrame, BytesFrame};

use super::{bought_or_sold_out, BuyScriptArgs, Setup, Step};
use crate::crowd::Buyer;
use crate::error::Result;
use crate::redis::{encode, Pipe, Sent};

pub(super) struct ScriptedBuy {
    pool: Pool,
    script: Script,
    args: BuyScriptArgs,
    pipe: Option<Pipe>,
}

impl ScriptedBuy {
    /// Load `lua`; a failure is blamed as `loading <what>`.
    pub(super) async fn load(setup: &Setup<'_>, lua: &str, what: &str) -> Result<Self> {
        // One connection: Redis runs scripts one at a time anyway, and fred
        // pipelines every buyer's call onto it. Two measured slower here:
        // fred flushes after every script call, so more connections only
        // add writes and wake-ups per purchase, not server capacity.
        let pool = setup.connector.shared(1).await?;
        let script = Script::from_lua(lua.to_string());
        script
            .load(pool.next())
            .await
            .map_err(|e| setup.connector.fail(&format!("loading {what}"), e))?;
        let pipe = match setup.params.coalesce {
            true => Some(
                setup
                    .connector
                    .pipe(pool.next(), setup.keys.stock())
                    .await?,
            ),
            false => None,
        };
        Ok(ScriptedBuy {
            pool,
            script,
            args: BuyScriptArgs::new(setup.keys.clone()),
            pipe,
        })
    }

    /// The buyer's KEYS and ARGV, for a variant to extend.
    pub(super) fn args(&self, buyer: Buyer) -> (Vec<Key>, Vec<Value>) {
        self.args.of(buyer)
    }

    /// One attempt: one EVALSHA, its reply read as bought or sold out.
    pub(super) async fn call(&self, keys: Vec<Key>, args: Vec<Value>) -> Step {
        let piped = match (&self.pipe, self.encode(&keys, &args)) {
            (Some(pipe), Some(bytes)) => pipe.call(bytes).await,
            _ => Sent::Redo,
        };
        let reply = match piped {
            Sent::Reply(reply) => reply.and_then(number),
            // Boxed: fred's call is large, and only the rare redo needs it,
            // while every buyer in flight holds this future.
            Sent::Redo => Box::pin(self.through_fred(keys, args)).await,
        };
        Step {
            attempt: bought_or_sold_out(reply),
            round_trips: 1,
            race: None,
        }
    }

    /// After SCRIPT FLUSH, a restart or a failover the server forgets the
    /// script: NOSCRIPT makes fred load it again and retry once.
    async fn through_fred(&self, keys: Vec<Key>, args: Vec<Value>) -> Result<i64, Error> {
        self.script
            .evalsha_with_reload(self.pool.next(), keys, args)
            .await
    }

    /// `EVALSHA sha numkeys keys… args…`; None for an argument the pipe
    /// does not encode (fred then sends the call).
    fn encode(&self, keys: &[Key], args: &[Value]) -> Option<BytesMut> {
        let numkeys = i64::try_from(keys.len()).ok()?;
        let mut parts = Vec::with_capacity(3 + keys.len() + args.len());
        parts.push(BorrowedFrame::BulkString(b"EVALSHA"));
        parts.push(BorrowedFrame::BulkString(self.script.sha1().as_bytes()));
        parts.push(BorrowedFrame::Integer(numkeys));
        parts.extend(keys.iter().map(|k| BorrowedFrame::BulkString(k.as_bytes())));
        for a in args {
            parts.push(match a {
                Value::Integer(i) => BorrowedFrame::Integer(*i),
                Value::String(s) => BorrowedFrame::BulkString(s.as_bytes()),
                Value::Bytes(b) => BorrowedFrame::BulkString(b),
                _ => return None,
            });
        }
        let mut out = BytesMut::with_capacity(160);
        encode(&mut out, &parts);
        Some(out)
    }

    pub(super) async fn close(&self) {
        if let Some(pipe) = &self.pipe {
            pipe.close();
        }
        let _ = self.pool.quit().await;
    }
}

/// The script's reply as a number, as fred reads one.
fn number(frame: BytesFrame) -> Result<i64, Error> {
    let text = match frame {
        BytesFrame::Integer(n) => return Ok(n),
        BytesFrame::SimpleString(b) | BytesFrame::BulkString(b) => b,
        BytesFrame::Null => {
            return Err(Error::new(
                ErrorKind::NotFound,
                "Cannot convert nil to number.",
            ))
        }
        _ => {
            return Err(Error::new(
                ErrorKind::Parse,
                "Cannot convert an array to number.",
            ))
        }
    };
    std::str::from_utf8(&text)
        .ok()
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| Error::new(ErrorKind::Parse, "Could not convert to number."))
}
