//! A request's body must arrive whole within [`BODY_DEADLINE`] of its head: a client that
//! stalls mid-body gets a 408 with Binance's body instead of holding its connection open for
//! ever. (actix itself gives the head the same 5 s, and has no limit for the body.)

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::rt::time::{sleep, Sleep};
use actix_web::web::Bytes;
use actix_web::HttpMessage;
use futures_util::Stream;

/// How long after its head a request's body may take to arrive.
pub const BODY_DEADLINE: Duration = Duration::from_secs(5);

/// Middleware (`wrap_fn`) that puts `req`'s body under [`BODY_DEADLINE`] before `service`
/// reads it.
pub fn with_body_deadline<S, B>(
    mut req: ServiceRequest,
    service: &S,
) -> impl Future<Output = Result<ServiceResponse<B>, actix_web::Error>> + 'static
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    S::Future: 'static,
    B: MessageBody,
{
    let body = Deadlined {
        body: req.take_payload(),
        deadline: Box::pin(sleep(BODY_DEADLINE)),
        expired: false,
    };
    req.set_payload(Payload::Stream {
        payload: Box::pin(body),
    });
    service.call(req)
}

/// Whether `e` is a body that missed [`BODY_DEADLINE`].
pub fn is_body_timeout(e: &actix_web::Error) -> bool {
    matches!(e.as_error::<PayloadError>(), Some(PayloadError::Io(io)) if io.kind() == io::ErrorKind::TimedOut)
}

/// A body that ends in a timeout error once its deadline has passed.
struct Deadlined {
    body: Payload,
    deadline: Pin<Box<Sleep>>,
    expired: bool,
}

impl Stream for Deadlined {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.expired {
            return Poll::Ready(None);
        }
        if let Poll::Ready(chunk) = Pin::new(&mut self.body).poll_next(cx) {
            return Poll::Ready(chunk);
        }
        if self.deadline.as_mut().poll(cx).is_ready() {
            self.expired = true;
            let late = io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the body did not arrive within {BODY_DEADLINE:?} of the head"),
            );
            return Poll::Ready(Some(Err(PayloadError::Io(late))));
        }
        Poll::Pending
    }
}
