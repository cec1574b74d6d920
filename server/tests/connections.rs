//! Connections that stop reading: clients that pipeline requests and never
//! read the answers, at the connection limit, lose their slots within the
//! request timeout, and a shutdown under them ends within its grace.

use std::io::Write as _;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Server, sqlite};

/// `n` connections to `server`, each pipelining `GET /openapi.json` (about
/// 70 KB an answer) far past what the socket buffers hold, never reading.
fn readers_that_never_read(server: &Server, n: usize) -> Vec<TcpStream> {
    let address = server.base.trim_start_matches("http://").to_owned();
    let requests = "GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n".repeat(400);
    (0..n)
        .map(|_| {
            let mut stream = TcpStream::connect(&address).unwrap();
            // 400 answers are 28 MB: the buffers fill and the server's
            // writes block. (The requests themselves fit in the buffers.)
            stream.write_all(requests.as_bytes()).unwrap();
            stream
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn readers_that_never_read_lose_their_slots_within_the_request_timeout() {
    let (_dir, db) = sqlite();
    let server = Server::start_with(&db, &["--connection-limit", "50", "--request-timeout", "3"]);
    let _held = readers_that_never_read(&server, 50);
    // Every slot is taken by a reader whose answers pile up.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    let (status, body) = server.client().get("/healthz").await;
    let waited = started.elapsed();
    assert_eq!((status, body), (StatusCode::OK, json!("ok")));
    // The request timeout (3 s) and a margin, not as long as they hold on.
    assert!(waited < Duration::from_secs(8), "served after {waited:?}");
    assert!(
        waited > Duration::from_secs(1),
        "served at once ({waited:?}): the readers did not fill the slots"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_under_readers_that_never_read_exits_within_its_grace() {
    let (_dir, db) = sqlite();
    // The default request timeout (15 s): the grace is 20 s.
    let server = Server::start_with(&db, &["--connection-limit", "50"]);
    let _held = readers_that_never_read(&server, 50);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let took = server.stop_within(Duration::from_secs(30));
    assert!(took > Duration::from_secs(1), "exited at once ({took:?})");
}
