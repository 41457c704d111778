//! The `payment-sandbox` binary on a bad day: clients that send nothing, or stall in their
//! headers or body, are dropped on time while everyone else is served.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

const HEADER_TIMEOUT: Duration = Duration::from_secs(1);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

/// The binary on a port of the system's choosing; killed when dropped.
struct RunningBinary {
    child: Child,
    port: u16,
}

impl RunningBinary {
    fn start() -> RunningBinary {
        let mut child = Command::new(env!("CARGO_BIN_EXE_payment-sandbox"))
            .args(["--port", "0"])
            .args([
                "--header-timeout-secs",
                &HEADER_TIMEOUT.as_secs().to_string(),
            ])
            .args([
                "--request-timeout-secs",
                &REQUEST_TIMEOUT.as_secs().to_string(),
            ])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start payment-sandbox");
        // Its first line names the port it bound.
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let port = first
            .trim()
            .rsplit(':')
            .next()
            .and_then(|port| port.parse().ok())
            .unwrap_or_else(|| panic!("no port in {first:?}"));
        RunningBinary { child, port }
    }
}

impl Drop for RunningBinary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends `start` on a new connection, then nothing more; returns what the server sent
/// before it closed the connection, and when it closed it.
async fn stall(port: u16, start: &str) -> (String, Duration) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    stream.write_all(start.as_bytes()).await.unwrap();
    let began = Instant::now();
    let mut received = Vec::new();
    // The server must close it; the bound only keeps a broken server from hanging the test.
    let read = tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut received));
    match read.await {
        Ok(_) => (
            String::from_utf8_lossy(&received).into_owned(),
            began.elapsed(),
        ),
        Err(_) => panic!("the sandbox held a stalled connection open for 20 s"),
    }
}

#[tokio::test]
async fn stalled_clients_are_dropped_while_others_are_served() {
    let sandbox = RunningBinary::start();
    let port = sandbox.port;

    let silent = tokio::spawn(stall(port, ""));
    let slow_headers = tokio::spawn(stall(
        port,
        "GET /_admin HTTP/1.1\r\nHost: localhost\r\nAccept: ",
    ));
    let slow_body = tokio::spawn(stall(
        port,
        "POST /canpay/api/ipg/token HTTP/1.1\r\nHost: localhost\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"amount",
    ));

    // Meanwhile the sandbox answers at once.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let asked = Instant::now();
    let admin = reqwest::get(format!("http://127.0.0.1:{port}/_admin"))
        .await
        .unwrap();
    assert_eq!(admin.status(), 200);
    assert!(asked.elapsed() < HEADER_TIMEOUT, "{:?}", asked.elapsed());

    let (answer, after) = silent.await.unwrap();
    assert!(
        answer.is_empty() && after < HEADER_TIMEOUT * 3,
        "a client that sent nothing was dropped after {after:?}: {answer}"
    );
    let (answer, after) = slow_headers.await.unwrap();
    assert!(
        after >= HEADER_TIMEOUT - Duration::from_millis(100) && after < HEADER_TIMEOUT * 3,
        "a client slow to send its headers was dropped after {after:?}"
    );
    assert!(!answer.contains("200 OK"), "{answer}");
    let (answer, after) = slow_body.await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "a slow body: {answer}");
    assert!(
        after >= REQUEST_TIMEOUT - Duration::from_millis(100) && after < REQUEST_TIMEOUT * 3,
        "a slow body was answered after {after:?}"
    );
}
