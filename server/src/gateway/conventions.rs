//! Status codes as gRPC's conventions and our clients expect them, where
//! tonic's request decoder answers before GophKeeper code runs: a request
//! that is not valid protobuf is the caller's mistake (INVALID_ARGUMENT,
//! not tonic's INTERNAL, which means "the server broke"), and one over the
//! size limit is a resource limit (RESOURCE_EXHAUSTED, not OUT_OF_RANGE).
//! Both get a `gk-reason`, like every refusal of ours, and keep tonic's
//! description as the message.

use http::Response;
use tonic::{Code, Status};

use crate::status::with_reason;

/// What tonic says when prost cannot decode the request.
const DECODE_FAILED: &str = "failed to decode Protobuf message";
/// What tonic says when the request is over `max_decoding_message_size`.
const TOO_LARGE: &str = "decoded message length too large";

/// Rewrites the decoder's refusals; anything else passes unchanged. The
/// decoder's refusals are trailers-only responses, so the status is in
/// the headers.
pub fn conventional<B>(mut response: Response<B>) -> Response<B> {
    let Some(status) = Status::from_header_map(response.headers()) else {
        return response;
    };
    let replacement = match status.code() {
        Code::Internal if status.message().starts_with(DECODE_FAILED) => {
            with_reason(Code::InvalidArgument, status.message(), "MALFORMED_REQUEST")
        }
        Code::OutOfRange if status.message().contains(TOO_LARGE) => with_reason(
            Code::ResourceExhausted,
            status.message(),
            "REQUEST_TOO_LARGE",
        ),
        _ => return response,
    };
    let headers = response.headers_mut();
    headers.remove(Status::GRPC_MESSAGE);
    if replacement.add_header(headers).is_err() {
        tracing::warn!("cannot rewrite a decoder refusal; sent as tonic made it");
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::REASON_KEY;

    fn refusal(status: Status) -> Status {
        let response = conventional(status.into_http::<()>());
        Status::from_header_map(response.headers()).unwrap()
    }

    #[test]
    fn decoder_refusals_get_conventional_codes_and_reasons() {
        let decode = refusal(Status::internal(
            "failed to decode Protobuf message: invalid varint",
        ));
        assert_eq!(decode.code(), Code::InvalidArgument);
        assert_eq!(
            decode.message(),
            "failed to decode Protobuf message: invalid varint"
        );
        assert_eq!(
            decode.metadata().get(REASON_KEY).unwrap(),
            "MALFORMED_REQUEST"
        );

        let large = refusal(Status::out_of_range(
            "Error, decoded message length too large: found 9 bytes, the limit is: 4 bytes",
        ));
        assert_eq!(large.code(), Code::ResourceExhausted);
        assert_eq!(
            large.metadata().get(REASON_KEY).unwrap(),
            "REQUEST_TOO_LARGE"
        );
    }

    #[test]
    fn other_statuses_pass_unchanged() {
        for status in [
            Status::internal("the vault store failed"),
            Status::out_of_range("revision 9 is ahead"),
            with_reason(Code::InvalidArgument, "bad id", "BAD_ID"),
        ] {
            let passed = refusal(status.clone());
            assert_eq!(passed.code(), status.code());
            assert_eq!(passed.message(), status.message());
            assert_eq!(
                passed.metadata().get(REASON_KEY),
                status.metadata().get(REASON_KEY)
            );
        }
    }
}
