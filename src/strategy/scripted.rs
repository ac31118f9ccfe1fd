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

use super::{bought_or_sold_out, now_us, BuyScriptArgs, Setup, Step};
use crate::crowd::Buyer;
use crate::error::Result;
use crate::redis::{encode, Pipe, Sent};

/// A variant's key and argument beyond `buy.lua`'s own (idempotent: the
/// buyer's idempotency key and how long it lives).
pub(super) struct Extra {
    pub key: String,
    pub arg: i64,
}

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

    /// One attempt: one EVALSHA, its reply read as bought or sold out.
    pub(super) async fn buy(&self, buyer: Buyer, extra: Option<Extra>) -> Step {
        let piped = match &self.pipe {
            Some(pipe) => pipe.call(self.encode(buyer, extra.as_ref())).await,
            None => Sent::Redo,
        };
        let reply = match piped {
            Sent::Reply(reply) => reply.and_then(number),
            // Boxed: fred's call is large, and only the rare redo needs it,
            // while every buyer in flight holds this future.
            Sent::Redo => {
                let (mut keys, mut args) = self.args.of(buyer);
                if let Some(e) = extra {
                    keys.push(e.key.into());
                    args.push(Value::Integer(e.arg));
                }
                Box::pin(self.through_fred(keys, args)).await
            }
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

    /// `EVALSHA sha numkeys keys… args…`, the KEYS and ARGV of
    /// [`BuyScriptArgs::of`] written straight from the buyer into a buffer
    /// of the exact size: the call every buyer makes allocates its order
    /// key, one list of parts and the buffer, nothing more.
    fn encode(&self, buyer: Buyer, extra: Option<&Extra>) -> BytesMut {
        use BorrowedFrame::{BulkString as Bulk, Integer as Int};
        let keys = self.args.keys();
        let order = keys.order(buyer.id);
        let (id, qty) = (i64::from(buyer.id), i64::from(buyer.qty));
        let mut parts = Vec::with_capacity(13);
        parts.extend([
            Bulk(b"EVALSHA"),
            Bulk(self.script.sha1().as_bytes()),
            Int(4 + i64::from(extra.is_some())),
            Bulk(keys.stock().as_bytes()),
            Bulk(keys.sold().as_bytes()),
            Bulk(keys.orders().as_bytes()),
            Bulk(order.as_bytes()),
        ]);
        parts.extend(extra.map(|e| Bulk(e.key.as_bytes())));
        parts.extend([Int(qty), Int(id), Int(id), Int(now_us())]);
        parts.extend(extra.map(|e| Int(e.arg)));
        let mut out = BytesMut::with_capacity(BorrowedFrame::Array(&parts).encode_len(true));
        encode(&mut out, &parts);
        out
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
