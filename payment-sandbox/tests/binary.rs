//! The `payment-sandbox` binary on a bad day: clients that send nothing, or stall in their
//! headers or body, are dropped on time while everyone else is served.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use payment_e2e::slow_clients::StalledClients;

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

#[tokio::test]
async fn stalled_clients_are_dropped_while_others_are_served() {
    let sandbox = RunningBinary::start();
    let port = sandbox.port;

    let stalled = StalledClients::connect(
        port,
        "/_admin",
        "POST /canpay/api/ipg/token HTTP/1.1\r\nHost: localhost\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"amount",
    );

    // Meanwhile the sandbox answers at once.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let asked = Instant::now();
    let admin = reqwest::get(format!("http://127.0.0.1:{port}/_admin"))
        .await
        .unwrap();
    assert_eq!(admin.status(), 200);
    assert!(asked.elapsed() < HEADER_TIMEOUT, "{:?}", asked.elapsed());

    stalled
        .assert_dropped(HEADER_TIMEOUT, REQUEST_TIMEOUT)
        .await;
}
