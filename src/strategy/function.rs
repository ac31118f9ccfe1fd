//! `function`: the same logic as `lua`, loaded as a Redis 7 library with
//! FUNCTION LOAD REPLACE and called with FCALL. Unlike a cached script it is
//! part of the server's state and survives a restart (with persistence).
//!
//! The library is named after the run, so two runs never replace each
//! other's code on a shared server, and it is deleted when the strategy ends.

use async_trait::async_trait;
use fred::clients::Pool;
use fred::prelude::*;

use super::{bought_or_sold_out, lua::BUY, BuyScriptArgs, Setup, Step, Strategy};
use super::{Commands, Facts};
use crate::crowd::Buyer;
use crate::error::{Error, Result};

pub(super) const FACTS: Facts = Facts {
    name: "function",
    help: "the lua logic as a Redis 7 library, called with FCALL",
    single: Some(|s| super::built(Function::new(s))),
    cart: None,
    hold: None,
    control: |_| None,
    tolerates: |_| &[],
    commands: Commands {
        single: &[
            "GET",
            "DECRBY",
            "FCALL",
            "FUNCTION|LOAD",
            "HSET",
            "RPUSH",
            "INCRBY",
        ],
        cart: &[],
        hold: &[],
    },
};

pub struct Function {
    pool: Pool,
    library: String,
    function: String,
    args: BuyScriptArgs,
}

impl Function {
    pub async fn new(setup: Setup<'_>) -> Result<Self> {
        supported(setup.server_version).map_err(Error::Unavailable)?;
        let library = format!("bf_{}", setup.run_id);
        let function = format!("bf_{}_buy", setup.run_id);
        // One connection, as for `lua`: fred flushes after every FCALL, so
        // more connections add writes and wake-ups, not server capacity.
        let pool = setup.connector.shared(1).await?;
        let _: String = pool
            .next()
            .function_load_cluster(true, library_code(&library, &function))
            .await
            .map_err(|e| setup.connector.fail("loading the purchase function", e))?;
        Ok(Function {
            pool,
            library,
            function,
            args: BuyScriptArgs::new(setup.keys),
        })
    }
}

/// Functions arrived in Redis 7.0.
fn supported(version: &str) -> Result<(), String> {
    let major = version
        .split('.')
        .next()
        .and_then(|m| m.parse::<u32>().ok());
    match major {
        Some(m) if m >= 7 => Ok(()),
        _ => Err(format!(
            "Redis functions need Redis 7.0 or newer; the server is {version}"
        )),
    }
}

/// The library: `lua/buy.lua` as the body of one registered function. Its
/// parameters are named KEYS and ARGV so the body reads the same as a script.
fn library_code(library: &str, function: &str) -> String {
    format!("#!lua name={library}\nredis.register_function('{function}', function(KEYS, ARGV)\n{BUY}\nend)\n")
}

#[async_trait]
impl Strategy for Function {
    async fn attempt(&self, buyer: Buyer) -> Step {
        let (keys, args) = self.args.of(buyer);
        let reply = self.pool.fcall(self.function.as_str(), keys, args).await;
        Step {
            attempt: bought_or_sold_out(reply),
            round_trips: 1,
            race: None,
        }
    }

    async fn close(&self) {
        // On every primary, as it was loaded: a cluster routes FCALL to
        // whichever primary owns the keys.
        let _: Result<(), _> = self
            .pool
            .next()
            .function_delete_cluster(self.library.as_str())
            .await;
        let _ = self.pool.quit().await;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn functions_need_redis_7() {
        assert!(super::supported("7.0.15").is_ok());
        assert!(super::supported("8.2.1").is_ok());
        let old = super::supported("6.2.14").unwrap_err();
        assert!(old.contains("6.2.14") && old.contains("7.0"), "{old}");
        assert!(super::supported("unknown").is_err());
    }

    #[test]
    fn the_library_wraps_the_script_body() {
        let code = super::library_code("bf_x", "bf_x_buy");
        assert!(code.starts_with("#!lua name=bf_x\n"));
        assert!(code.contains("register_function('bf_x_buy', function(KEYS, ARGV)"));
        assert!(code.contains("redis.call('DECRBY', KEYS[1], qty)"));
    }
}
