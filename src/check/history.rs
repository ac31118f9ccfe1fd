//! A `--history` file read back into the checker's calls: each process's
//! invoke paired with its next completion. Lost races (`fail` with reply
//! `conflict`) applied nothing and are left out; an `info` never returns.

use std::collections::HashMap;

use serde_json::Value;

use super::{Buy, Call, Told};

/// The calls of `strategy` in a history's JSON lines, in file order.
pub fn calls(jsonl: &str, strategy: &str) -> Result<Vec<Call>, String> {
    let mut open: HashMap<u64, (u64, i64)> = HashMap::new();
    let mut out = Vec::new();
    for (n, line) in jsonl
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let e: Value = serde_json::from_str(line).map_err(|e| format!("line {}: {e}", n + 1))?;
        if e["strategy"] != strategy {
            continue;
        }
        let field = |k: &str| e[k].as_u64().ok_or(format!("line {}: no {k}", n + 1));
        let (process, index) = (field("process")?, field("index")?);
        let qty = e["value"]["qty"]
            .as_i64()
            .ok_or(format!("line {}: no qty", n + 1))?;
        let kind = e["type"].as_str().unwrap_or_default();
        if kind == "invoke" {
            if open.insert(process, (index, qty)).is_some() {
                return Err(format!("line {}: process {process} invoked twice", n + 1));
            }
            continue;
        }
        let (invoked, qty) = open
            .remove(&process)
            .ok_or(format!("line {}: {kind} without an invoke", n + 1))?;
        let result = match (kind, e["value"]["reply"].as_str()) {
            ("ok", _) => Told::Bought,
            ("fail", Some("conflict")) => continue,
            ("fail", _) => Told::SoldOut,
            ("info", _) => Told::Unknown,
            (other, _) => return Err(format!("line {}: unknown type '{other}'", n + 1)),
        };
        let returned = (result != Told::Unknown).then_some(index);
        out.push(Call {
            buy: Buy { qty, result },
            invoked,
            returned,
        });
    }
    // Invoked and never completed (a run cut short): unknown outcomes.
    out.extend(open.into_values().map(|(invoked, qty)| Call {
        buy: Buy {
            qty,
            result: Told::Unknown,
        },
        invoked,
        returned: None,
    }));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_each_process_and_drops_lost_races() {
        let lines = [
            r#"{"type":"invoke","process":1,"value":{"qty":1},"index":0,"strategy":"s"}"#,
            r#"{"type":"invoke","process":2,"value":{"qty":2},"index":1,"strategy":"s"}"#,
            r#"{"type":"invoke","process":9,"value":{"qty":1},"index":2,"strategy":"other"}"#,
            r#"{"type":"fail","process":2,"value":{"qty":2,"reply":"conflict"},"index":3,"strategy":"s"}"#,
            r#"{"type":"ok","process":1,"value":{"qty":1,"reply":"bought"},"index":4,"strategy":"s"}"#,
            r#"{"type":"invoke","process":3,"value":{"qty":1},"index":5,"strategy":"s"}"#,
            r#"{"type":"info","process":3,"value":{"qty":1,"reply":"IO"},"index":6,"strategy":"s"}"#,
        ];
        let calls = calls(&lines.join("\n"), "s").unwrap();
        assert_eq!(calls.len(), 2);
        assert_eq!((calls[0].invoked, calls[0].returned), (0, Some(4)));
        assert_eq!(calls[0].buy.result, Told::Bought);
        assert_eq!(
            (calls[1].buy.result, calls[1].returned),
            (Told::Unknown, None)
        );
    }
}
