//! Issue #11 item 9: the example binaries with their stdout a pipe whose reader has gone
//! away (`demo-serve DIR | head -0`) must not panic (exit 101, "failed printing to
//! stdout: Broken pipe"): `synth-index` still writes its index and exits 0, `demo-serve`
//! keeps serving (its address is also on stderr).

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::Command;

use tuf_test_support::pipe::{
    assert_quiet_exit, output_with_closed_stdout, spawn_with_closed_stdout,
};

#[test]
fn synth_index_writes_its_index_and_exits_0_when_stdout_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("index");
    let out = output_with_closed_stdout(
        Command::new(env!("CARGO_BIN_EXE_synth-index"))
            .args(["--crates", "20", "--seed", "1"])
            .arg(&out_dir),
    );
    assert_quiet_exit(&out, 0, "synth-index");
    assert!(out_dir.join("config.json").is_file());
}

#[test]
fn demo_serve_keeps_serving_when_nobody_reads_its_port() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hello.txt"), b"hello").unwrap();
    let mut server =
        spawn_with_closed_stdout(Command::new(env!("CARGO_BIN_EXE_demo-serve")).arg(dir.path()));
    let mut stderr = BufReader::new(server.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let served = line
        .strip_prefix("demo-serve: serving ")
        .and_then(|rest| rest.split_once(" at http://127.0.0.1:"))
        .and_then(|(_, port)| port.trim_end().strip_suffix('/'))
        .map(str::to_owned);
    let Some(port) = served else {
        // Not serving: give it a moment to end by itself, so the panic shows its status.
        for _ in 0..50 {
            if server.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let _ = server.kill();
        let status = server.wait().unwrap();
        let mut rest = String::new();
        let _ = stderr.read_to_string(&mut rest);
        panic!("demo-serve did not start serving ({status}): {line}{rest}");
    };

    let mut stream = TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
    stream
        .write_all(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
    assert!(response.ends_with("hello"), "{response}");
}
