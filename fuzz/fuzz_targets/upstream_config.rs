//! The upstream `config.json` the proxy rewrites for cargo: never panics; the rewrite
//! returns the upstream `dl`, points `dl` at the proxy, keeps every other member, and a
//! second rewrite changes nothing more.
#![no_main]

use libfuzzer_sys::fuzz_target;
use registry_plugin::proxy::rewrite_config;
use serde_json::{Map, Value};

const BASE: &str = "http://127.0.0.1:1234/";

fuzz_target!(|data: &[u8]| {
    let Ok((dl, rewritten)) = rewrite_config(data, BASE) else {
        return;
    };
    let before: Map<String, Value> = serde_json::from_slice(data).expect("it parsed");
    assert_eq!(before.get("dl").and_then(Value::as_str), Some(dl.as_str()));
    let mut after: Map<String, Value> = serde_json::from_slice(&rewritten).expect("valid JSON");
    assert_eq!(after.remove("dl"), Some(Value::String(format!("{BASE}dl"))));
    let mut rest = before.clone();
    rest.remove("dl");
    assert_eq!(after, rest);
    let (dl2, again) = rewrite_config(&rewritten, BASE).expect("rewrites again");
    assert_eq!(dl2, format!("{BASE}dl"));
    assert_eq!(again, rewritten);
});
