//! The codec every generated client and server uses: prost, with a smaller
//! first encode buffer than tonic's default.
//!
//! tonic gives each response stream an 8 KiB encode buffer up front and
//! keeps it for the stream's life. A `Watch` stream sends a few events of
//! about a hundred bytes, so at 10,000 live streams that was 80 MiB of
//! mostly empty buffers (heaptrack; BENCHMARKS.md, "Server memory"). A
//! buffer that starts small grows on demand for a large message, so only
//! the first allocation changes.

use std::marker::PhantomData;

use tonic::codec::{BufferSettings, Codec};
use tonic_prost::{ProstCodec, ProstDecoder, ProstEncoder};

/// First size of the buffer a message is encoded into.
const ENCODE_BUFFER_BYTES: usize = 512;
/// tonic's default: how much encoded output a stream gathers before it
/// hands it to the transport.
const YIELD_THRESHOLD_BYTES: usize = 32 * 1024;

/// [`ProstCodec`] with a small first encode buffer; decoding is unchanged.
#[derive(Debug, Clone, Copy)]
pub struct LeanCodec<T, U>(PhantomData<(T, U)>);

impl<T, U> Default for LeanCodec<T, U> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

impl<T, U> Codec for LeanCodec<T, U>
where
    T: prost::Message + Send + 'static,
    U: prost::Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = ProstDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstCodec::<T, U>::raw_encoder(BufferSettings::new(
            ENCODE_BUFFER_BYTES,
            YIELD_THRESHOLD_BYTES,
        ))
    }

    fn decoder(&mut self) -> Self::Decoder {
        ProstCodec::<T, U>::default().decoder()
    }
}

#[cfg(test)]
mod tests {
    use tonic::codec::Encoder as _;

    use super::*;
    use crate::v1;

    #[test]
    fn encoders_start_small_and_keep_the_default_yield_threshold() {
        // BufferSettings hides its fields; its Debug output shows them.
        let mut codec = LeanCodec::<v1::WatchEvent, v1::WatchRequest>::default();
        let ours = format!("{:?}", codec.encoder().buffer_settings());
        assert_eq!(
            ours,
            format!("{:?}", BufferSettings::new(512, 32 * 1024)),
            "first buffer 512 B, yield threshold tonic's 32 KiB"
        );
        assert_ne!(ours, format!("{:?}", BufferSettings::default()));
    }
}
