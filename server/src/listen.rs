//! Serving HTTP/1.1 on a listener, with what `axum::serve` lacks: a cap on
//! connections held at once (past it, new ones wait in the kernel's
//! backlog instead of taking file descriptors), a header-read timeout (a
//! client that sends its request slowly, or not at all, is dropped), and
//! a request timeout (503 after it), and a lingering close: a body the
//! application answered without reading (413 for one over the limit, a
//! 401 before the JSON) is read and dropped, up to [`DRAIN_LIMIT`], before
//! the answer goes out, so the client reads the answer instead of a
//! connection reset (closing a socket with unread data resets it); a
//! write deadline: an answer the client does not take within the request
//! timeout closes the connection (a reader that stops reading, pipelining
//! requests it never reads the answers of, loses its slot); and a bounded
//! shutdown: requests in flight get [`Connections::request_timeout`] and
//! a little more to finish, then what is left is closed. Each request
//! carries its peer address as `ConnectInfo`, for the per-client limits.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use http_body_util::BodyExt;
use hyper::body::{Frame, Incoming};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

use crate::error::ApiError;

/// What one client may hold of the server's connections.
#[derive(Debug, Clone, Copy)]
pub struct Connections {
    /// Connections served at once; more wait in the kernel's backlog.
    pub max: usize,
    /// Time to send a request's headers, from the connection's start or
    /// the previous request's end (a slowloris holds a connection this
    /// long at most).
    pub header_timeout: std::time::Duration,
    /// Time to answer a request, body read included.
    pub request_timeout: std::time::Duration,
}

impl Default for Connections {
    fn default() -> Self {
        Self {
            max: 1024,
            header_timeout: std::time::Duration::from_secs(5),
            request_timeout: std::time::Duration::from_secs(15),
        }
    }
}

/// The most of an unread body read and dropped before answering; past it
/// the connection is closed (and the client may see a reset).
pub const DRAIN_LIMIT: usize = 8 << 20;

/// A request body the application reads through, while the listener keeps
/// hold of it: what the application left unread is drained after it
/// answered.
struct Shared(Arc<Mutex<Option<Incoming>>>);

impl http_body::Body for Shared {
    type Data = axum::body::Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let mut slot = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match slot.as_mut() {
            Some(body) => Pin::new(body).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            .is_none_or(http_body::Body::is_end_stream)
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            .map_or_else(
                || http_body::SizeHint::with_exact(0),
                http_body::Body::size_hint,
            )
    }
}

/// A connection whose writes must make progress: a write (or flush) that
/// stays blocked for `limit` — the client's window closed because it
/// stopped reading — fails with `TimedOut`, and hyper closes the
/// connection.
struct WriteDeadline<S> {
    stream: S,
    limit: std::time::Duration,
    blocked: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<S> WriteDeadline<S> {
    fn new(stream: S, limit: std::time::Duration) -> Self {
        Self {
            stream,
            limit,
            blocked: None,
        }
    }

    /// What a write's poll gave, with the deadline applied: progress
    /// clears it, a block starts it (or finds it passed).
    fn deadline<T>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<std::io::Result<T>>,
    ) -> Poll<std::io::Result<T>> {
        if polled.is_ready() {
            self.blocked = None;
            return polled;
        }
        let limit = self.limit;
        let blocked = self
            .blocked
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match blocked.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the client took no answer within the request timeout",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for WriteDeadline<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl<S: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for WriteDeadline<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write(cx, buf);
        self.deadline(cx, polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        self.deadline(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let polled = Pin::new(&mut self.stream).poll_flush(cx);
        self.deadline(cx, polled)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let polled = Pin::new(&mut self.stream).poll_shutdown(cx);
        self.deadline(cx, polled)
    }
}

/// Time given to requests in flight at shutdown beyond the request
/// timeout, before the connections left are closed.
pub const SHUTDOWN_MARGIN: std::time::Duration = std::time::Duration::from_secs(5);

/// Reads and drops what is left of `body`, up to [`DRAIN_LIMIT`] bytes:
/// whether it all came (else the connection must close).
async fn drain(mut body: Incoming) -> bool {
    let mut read = 0;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { return false };
        if let Some(data) = frame.data_ref() {
            read += data.len();
            if read > DRAIN_LIMIT {
                return false;
            }
        }
    }
    true
}

/// Serves `app` on `listener` until `shutdown` completes, then waits for
/// the connections in flight to finish their requests, at most the request
/// timeout and [`SHUTDOWN_MARGIN`]; the rest are dropped with the runtime.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Connections,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max.max(1)));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        // A free slot first: past the cap, connections wait unaccepted.
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait, go on.
                    tracing::warn!(%error, "accepting a connection");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let request_timeout = limits.request_timeout;
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let app = app.clone();
            async move {
                let started = tokio::time::Instant::now();
                let (mut parts, body) = request.into_parts();
                parts.extensions.insert(ConnectInfo(peer));
                let slot = Arc::new(Mutex::new(Some(body)));
                let request = hyper::Request::from_parts(
                    parts,
                    axum::body::Body::new(Shared(Arc::clone(&slot))),
                );
                let mut response =
                    match tokio::time::timeout(request_timeout, app.oneshot(request)).await {
                        Ok(Ok(response)) => response,
                        Ok(Err(never)) => match never {},
                        Err(_) => ApiError::new(
                            StatusCode::SERVICE_UNAVAILABLE,
                            "request_timeout",
                            "the request took too long to answer",
                        )
                        .into_response(),
                    };
                let unread = slot
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .take()
                    .filter(|body| !http_body::Body::is_end_stream(body));
                if let Some(body) = unread {
                    // Within what is left of the request's time.
                    let left = request_timeout.saturating_sub(started.elapsed());
                    let drained = tokio::time::timeout(left, drain(body)).await;
                    if !matches!(drained, Ok(true)) {
                        response.headers_mut().insert(
                            axum::http::header::CONNECTION,
                            axum::http::HeaderValue::from_static("close"),
                        );
                    }
                }
                Ok::<_, Infallible>(response)
            }
        });
        let stream = WriteDeadline::new(stream, limits.request_timeout);
        let connection = http.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // Errors are the client's: a reset, a header timeout.
            let _ = connection.await;
            drop(slot);
        });
    }
    drop(listener);
    let grace = limits.request_timeout + SHUTDOWN_MARGIN;
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            grace_seconds = grace.as_secs(),
            "connections still open after the shutdown's grace: closed"
        );
    }
}
