//! A request body the pipeline left unread is read to its end, within bounds, before the
//! answer goes out.
//!
//! hyper closes an HTTP/1.1 connection whose request body was not read to its end. Bytes the
//! client is still sending then reach a closed socket, the kernel answers them with a reset,
//! and a reset can discard the answer before the client has read it: an early refusal (401,
//! 400 for a bad name, 404, 405) of a request with a body reached the client as a broken
//! connection, even for a 13-byte body (found by the OpenAPI fuzz,
//! `tests/sdk-python/test_fuzz_openapi.py`). `body::read_body` reads up to its limit before a
//! 413 for the same reason.
//!
//! Not watched, so passed on untouched and answered at once as before: HTTP/2 (a stream is
//! reset on its own, the connection lives on), bodies already complete (every GET), bodies
//! declared larger than `DRAIN_MAX_BYTES` (a 413's business), and `Expect: 100-continue` (the
//! client sends nothing until told to, and draining would tell it to).

use axum::BoxError;
use axum::body::HttpBody;
use bytes::{Buf, Bytes};
use http::header::EXPECT;
use http::{Request, Version};
use http_body_util::{BodyExt, Either, StreamBody};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

/// At most this much of a leftover body is read (the largest body a request may carry).
const DRAIN_MAX_BYTES: u64 = crate::body::MAX_BODY_BYTES as u64;
/// A client that stalls gets its answer after this long anyway.
const DRAIN_MAX_TIME: Duration = Duration::from_secs(1);

/// A watched body: the pipeline reads it through here, and what it leaves stays here.
type Slot<B> = Arc<Mutex<Option<Pin<Box<B>>>>>;

/// What the pipeline did not read of a watched body.
pub(crate) struct Leftover<B>(Option<Slot<B>>);

/// The request with a body the pipeline can read, and the `Leftover` to drain once it has
/// answered (empty unless the body is watched).
pub(crate) fn watch<B>(
    request: Request<B>,
) -> (
    Request<impl HttpBody<Data = Bytes, Error = BoxError> + Send + 'static>,
    Leftover<B>,
)
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let watched = request.version() < Version::HTTP_2
        && !request.body().is_end_stream()
        && request.body().size_hint().lower() <= DRAIN_MAX_BYTES
        && !request.headers().contains_key(EXPECT);
    let (parts, body) = request.into_parts();
    if !watched {
        return (
            Request::from_parts(parts, Either::Left(body)),
            Leftover(None),
        );
    }
    let slot: Slot<B> = Arc::new(Mutex::new(Some(Box::pin(body))));
    let reader = Arc::clone(&slot);
    let frames = futures_util::stream::poll_fn(move |cx| {
        let Ok(mut body) = reader.lock() else {
            return Poll::Ready(None);
        };
        match body.as_mut() {
            Some(body) => body.as_mut().poll_frame(cx),
            None => Poll::Ready(None),
        }
    });
    let body = Either::Right(StreamBody::new(frames));
    (Request::from_parts(parts, body), Leftover(Some(slot)))
}

impl<B> Leftover<B>
where
    B: HttpBody<Data = Bytes>,
{
    /// Reads and discards what is left, up to `DRAIN_MAX_BYTES` or `DRAIN_MAX_TIME`.
    pub(crate) async fn drain(self) {
        let Some(slot) = self.0 else { return };
        let body = slot.lock().ok().and_then(|mut body| body.take());
        let Some(mut body) = body else { return };
        if body.is_end_stream() {
            return;
        }
        let _ = tokio::time::timeout(DRAIN_MAX_TIME, async move {
            let mut read = 0u64;
            while read <= DRAIN_MAX_BYTES {
                match body.frame().await {
                    Some(Ok(frame)) => {
                        read += frame.data_ref().map_or(0, |data| data.remaining() as u64);
                    }
                    Some(Err(_)) | None => break,
                }
            }
        })
        .await;
    }
}
