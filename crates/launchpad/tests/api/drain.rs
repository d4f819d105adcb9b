//! SIGTERM drains: the request in flight finishes, new connections are refused, and the
//! process exits 0 — within `SHUTDOWN_TIMEOUT` even when a client stalls.

use std::time::{Duration, Instant};

use launchpad::entity::projects;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::both_backends;
use crate::process::{Server, signal};

/// A `POST /api/projects` on a raw connection, stopped halfway through its body.
struct HalfSentRequest {
    reader: BufReader<TcpStream>,
    rest: Vec<u8>,
}

impl HalfSentRequest {
    /// Sends the headers with `Expect: 100-continue` and waits for `100 Continue`: the
    /// server has then authenticated the request and its handler is reading the body.
    async fn open(server: &Server, token: &str, title: &str) -> Self {
        let body = serde_json::json!({ "title": title })
            .to_string()
            .into_bytes();
        let stream = TcpStream::connect(("127.0.0.1", server.port))
            .await
            .expect("connect");
        let mut reader = BufReader::new(stream);
        let head = format!(
            "POST /api/projects HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
            body.len()
        );
        reader
            .get_mut()
            .write_all(head.as_bytes())
            .await
            .expect("send headers");
        let (first, rest) = body.split_at(body.len() / 2);
        let interim = read_head(&mut reader).await;
        assert!(interim.starts_with("HTTP/1.1 100"), "{interim}");
        reader.get_mut().write_all(first).await.expect("send half");
        Self {
            reader,
            rest: rest.to_vec(),
        }
    }

    /// Sends the rest of the body; returns the status line of the answer.
    async fn finish(mut self) -> String {
        let stream = self.reader.get_mut();
        stream.write_all(&self.rest).await.expect("send the rest");
        read_head(&mut self.reader).await
    }
}

/// Reads a response head; returns its status line.
async fn read_head(reader: &mut BufReader<TcpStream>) -> String {
    let mut status = String::new();
    reader.read_line(&mut status).await.expect("status line");
    loop {
        let mut line = String::new();
        let n = reader.read_line(&mut line).await.expect("header line");
        if n == 0 || line == "\r\n" {
            return status.trim_end().to_owned();
        }
    }
}

/// Polls until connecting to `port` is refused; returns how long that took.
async fn refused_within(port: u16, limit: Duration) -> Duration {
    let started = Instant::now();
    loop {
        match TcpStream::connect(("127.0.0.1", port)).await {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                return started.elapsed();
            }
            _ if started.elapsed() > limit => panic!("still accepting {limit:?} after SIGTERM"),
            _ => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

both_backends! {
    async fn sigterm_finishes_the_request_in_flight_refuses_new_ones_and_exits_0(testdb: TestDb) {
        let server = Server::start(&testdb.url, &["--auto-migrate", "true"]).await;
        let token = server.register("drain@example.com").await;
        let request = HalfSentRequest::open(&server, &token, "sent while draining").await;

        let signalled = Instant::now();
        signal(server.pid(), "TERM").await;
        let refused_after = refused_within(server.port, Duration::from_secs(5)).await;
        let status = request.finish().await;
        let answered_after = signalled.elapsed();
        let (exit, _) = server.exited_within(Duration::from_secs(10)).await;
        let exited_after = signalled.elapsed();

        eprintln!(
            "drain {}: new connections refused {refused_after:?} after SIGTERM, the request \
             in flight answered `{status}` after {answered_after:?}, exit {exit} after \
             {exited_after:?}",
            testdb.url.split(':').next().unwrap_or_default()
        );
        assert!(status.starts_with("HTTP/1.1 201"), "{status}");
        assert_eq!(exit.code(), Some(0));
        let db = testdb.connect().await;
        let stored = projects::Entity::find()
            .filter(projects::Column::Title.eq("sent while draining"))
            .count(&db)
            .await
            .expect("count");
        assert_eq!(stored, 1, "the drained request's write is stored");
    }

    async fn a_stalled_request_holds_shutdown_no_longer_than_shutdown_timeout(testdb: TestDb) {
        let server = Server::start(&testdb.url, &["--auto-migrate", "true", "--shutdown-timeout", "1"]).await;
        let token = server.register("stall@example.com").await;
        // Half a body, and never the rest.
        let _stalled = HalfSentRequest::open(&server, &token, "never finished").await;

        let signalled = Instant::now();
        signal(server.pid(), "TERM").await;
        let (exit, _) = server.exited_within(Duration::from_secs(10)).await;
        let exited_after = signalled.elapsed();
        eprintln!(
            "drain deadline {}: exit {exit} {exited_after:?} after SIGTERM with a stalled request \
             (SHUTDOWN_TIMEOUT=1)",
            testdb.url.split(':').next().unwrap_or_default()
        );
        assert_eq!(exit.code(), Some(0));
        assert!(exited_after >= Duration::from_secs(1), "it waited for the request first");
        assert!(exited_after < Duration::from_secs(4), "{exited_after:?}");
    }
}
