//! Compiles the `.proto` files with protox (pure Rust), so no `protoc` is needed.

use std::path::PathBuf;

use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "proto/gophkeeper/v1/common.proto",
        "proto/gophkeeper/v1/account.proto",
        "proto/gophkeeper/v1/vault.proto",
        "proto/gophkeeper/v1/internal.proto",
    ];
    for file in files {
        println!("cargo:rerun-if-changed={file}");
    }
    let fds = protox::compile(files, ["proto"])?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    // Server reflection serves this descriptor set.
    std::fs::write(
        out_dir.join("gophkeeper_descriptor.bin"),
        fds.encode_to_vec(),
    )?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        // No `connect()` helpers: callers build their own channels (TLS, pinning).
        .build_transport(false)
        // Smaller first encode buffer per stream; see src/codec.rs.
        .codec_path("crate::LeanCodec")
        .compile_fds(fds)?;
    Ok(())
}
