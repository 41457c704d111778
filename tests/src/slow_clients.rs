//! Clients that stall a server: one that never sends a byte, one that stops halfway
//! through its headers, one that sends its headers and a part of the promised body. A
//! server on its header-read and request timeouts drops each of them in time.

use std::time::{Duration, Instant};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    task::JoinHandle,
};

/// What a stalled client saw: the bytes the server sent before it closed the connection,
/// and how long after the client stopped sending it closed it.
type Seen = (String, Duration);

/// The three stalled clients, connected to one server.
pub struct StalledClients {
    silent: JoinHandle<Seen>,
    slow_headers: JoinHandle<Seen>,
    slow_body: JoinHandle<Seen>,
}

impl StalledClients {
    /// Connects them to 127.0.0.1:`port`: the slow headers are a `GET get_path`, the
    /// slow body is `post_start` (a POST's headers with a `Content-Length` and less body
    /// than that).
    pub fn connect(port: u16, get_path: &str, post_start: &str) -> StalledClients {
        StalledClients {
            silent: tokio::spawn(stall(port, String::new())),
            slow_headers: tokio::spawn(stall(
                port,
                format!("GET {get_path} HTTP/1.1\r\nHost: localhost\r\nAccept: "),
            )),
            slow_body: tokio::spawn(stall(port, post_start.to_owned())),
        }
    }

    /// Asserts that the silent and the slow-header client were dropped within
    /// `header_timeout` (the slow one no sooner), unanswered, and that the slow body was
    /// answered 408 after `request_timeout`.
    pub async fn assert_dropped(self, header_timeout: Duration, request_timeout: Duration) {
        let margin = Duration::from_millis(100);
        let (answer, after) = self.silent.await.unwrap();
        assert!(
            answer.is_empty() && after < header_timeout * 3,
            "a client that sent nothing was dropped after {after:?}: {answer}"
        );
        let (answer, after) = self.slow_headers.await.unwrap();
        assert!(
            after >= header_timeout - margin && after < header_timeout * 3,
            "a client slow to send its headers was dropped after {after:?}"
        );
        assert!(!answer.contains("200 OK"), "{answer}");
        let (answer, after) = self.slow_body.await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 408"), "a slow body: {answer}");
        assert!(
            after >= request_timeout - margin && after < request_timeout * 3,
            "a slow body was answered after {after:?}"
        );
    }
}

/// Sends `start` on a new connection, then nothing more, and waits for the server to
/// close it.
async fn stall(port: u16, start: String) -> Seen {
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
        Err(_) => panic!("the server held a stalled connection open for 20 s"),
    }
}
