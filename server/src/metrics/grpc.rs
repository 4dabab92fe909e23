//! The tower layer that counts and times every gRPC call of a server, by
//! service, method and status code, and counts refusals by `gk-reason`.

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use futures::future::BoxFuture;

use super::Metrics;

/// A tower layer that counts and times every gRPC call of a server.
#[derive(Debug, Clone)]
pub struct GrpcMetricsLayer(pub Arc<Metrics>);

impl<S> tower::Layer<S> for GrpcMetricsLayer {
    type Service = GrpcMetrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcMetrics {
            inner,
            metrics: self.0.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct GrpcMetrics<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

/// The status a response carries in its headers: a call that failed
/// before any message (tonic answers errors trailers-only), else OK, as
/// a unary call or stream that started.
fn code_of(headers: &http::HeaderMap) -> tonic::Code {
    headers
        .get("grpc-status")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<i32>().ok())
        .map_or(tonic::Code::Ok, tonic::Code::from_i32)
}

/// The `gk-reason` of a refused call, if it looks like one of ours
/// (upper-case words): anything else is `other`, so no series is minted
/// from text that is not a reason.
fn reason_of(headers: &http::HeaderMap) -> Option<String> {
    let reason = headers.get("gk-reason")?.to_str().ok()?;
    let ours = !reason.is_empty()
        && reason.len() <= 40
        && reason.bytes().all(|b| b.is_ascii_uppercase() || b == b'_');
    Some(if ours { reason } else { "other" }.to_owned())
}

/// `/package.Service/Method` as (service, method).
fn call_name(path: &str) -> (String, String) {
    let mut parts = path.trim_start_matches('/').splitn(2, '/');
    let service = parts.next().unwrap_or_default();
    let method = parts.next().unwrap_or_default();
    (service.to_owned(), method.to_owned())
}

impl<S, B, R> tower::Service<http::Request<B>> for GrpcMetrics<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>> + Send,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    R: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let (service, method) = call_name(request.uri().path());
        let started = Instant::now();
        let response = self.inner.call(request);
        let metrics = self.metrics.clone();
        Box::pin(async move {
            let response = response.await;
            let (code, reason) = match &response {
                Ok(response) => (code_of(response.headers()), reason_of(response.headers())),
                Err(_) => (tonic::Code::Unknown, None),
            };
            // A path nobody serves must not mint a series of its own.
            let (service, method) = if code == tonic::Code::Unimplemented {
                ("unknown".to_owned(), "unknown".to_owned())
            } else {
                (service, method)
            };
            metrics.call(&service, &method, &format!("{code:?}"), started.elapsed());
            if let Some(reason) = reason.filter(|_| code != tonic::Code::Ok) {
                metrics.refusal(&service, &method, &reason);
            }
            response
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_into_service_and_method() {
        assert_eq!(
            call_name("/gophkeeper.v1.Account/LoginStart"),
            ("gophkeeper.v1.Account".into(), "LoginStart".into())
        );
        assert_eq!(call_name("/"), (String::new(), String::new()));
        let mut headers = http::HeaderMap::new();
        assert_eq!(code_of(&headers), tonic::Code::Ok);
        headers.insert("grpc-status", "5".parse().unwrap());
        assert_eq!(code_of(&headers), tonic::Code::NotFound);
        assert_eq!(reason_of(&headers), None);
        headers.insert("gk-reason", "RATE_LIMITED".parse().unwrap());
        assert_eq!(reason_of(&headers).as_deref(), Some("RATE_LIMITED"));
        headers.insert("gk-reason", "made up; by anyone".parse().unwrap());
        assert_eq!(reason_of(&headers).as_deref(), Some("other"));
    }
}
