//! `kaiwa serve` hosts the bundled signaling server: the desktop binary answers HTTP and WebSocket.

use std::io::{Read, Write};
use std::process::{Command, Stdio};

use kaiwa_testkit::ServerProcess;

#[test]
fn kaiwa_serve_hosts_the_signaling_server() {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kaiwa"));
    command.args(["serve", "--listen", "127.0.0.1:0"]).stderr(Stdio::null());
    let server = ServerProcess::spawn(command).unwrap();
    let addr = server.addr;
    let mut tcp = std::net::TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    write!(tcp, "GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    tcp.read_to_string(&mut response).unwrap();
    drop(server);
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with("ok\n"), "{response}");
}
