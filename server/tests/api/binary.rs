//! The real `gophkeeper-server` binary: start-up, logs, signals.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use gophkeeper_proto::v1;
use gophkeeper_proto::v1::account_client::AccountClient;
use gophkeeper_proto::v1::vault_client::VaultClient;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint};

use crate::helpers::*;

const BINARY: &str = env!("CARGO_BIN_EXE_gophkeeper-server");

/// `--version` names the exact build: version, commit, date, target.
#[test]
fn the_version_names_the_commit_date_and_target() {
    let output = Command::new(BINARY).arg("--version").output().unwrap();
    assert!(output.status.success());
    let line = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        line,
        format!("gophkeeper-server {}\n", gophkeeper_build_info::version!())
    );
    let head = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map_or("unknown".into(), |out| {
            String::from_utf8_lossy(&out.stdout).trim().to_owned()
        });
    assert!(line.contains(&format!("({head} ")), "{line} is not {head}");
    assert!(
        line.contains(std::env::consts::ARCH) && line.contains(std::env::consts::OS),
        "{line}"
    );
}

#[test]
fn cluster_roles_refuse_to_start_without_internal_tls() {
    // The shipped config, so that the engine check passes and the missing
    // certificates are what stops it.
    let config =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/cluster-gateway.toml");
    let output = Command::new(BINARY)
        .arg("gateway")
        .arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(tempfile::tempdir().unwrap().path())
        .env_remove("GOPHKEEPER__INTERNAL__CA")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("internal TLS needs [internal] ca, cert and key"),
        "{stderr}"
    );

    let output = Command::new(BINARY)
        .arg("--config")
        .arg("/nonexistent.toml")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("loading settings"));
}

#[cfg(unix)]
#[tokio::test]
async fn logs_carry_no_secret_and_sigterm_stops_it_cleanly() {
    let data_dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BINARY)
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir.path())
        .env("GOPHKEEPER__LOG__FORMAT", "json")
        .env("GOPHKEEPER__LOG__FILTER", "debug")
        .env("GOPHKEEPER__AUTH__HASH_MEMORY_KIB", "1024")
        .env_remove("RUST_LOG")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (lines_tx, lines_rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let mut log = Vec::new();
    let addr = loop {
        let line = lines_rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("server did not start; log so far: {log:#?}"));
        log.push(line.clone());
        let entry: serde_json::Value = serde_json::from_str(&line).expect("JSON log line");
        if entry["fields"]["message"] == "single-node server ready" {
            break entry["fields"]["local_addr"].as_str().unwrap().to_owned();
        }
    };
    let cert = std::fs::read(data_dir.path().join("tls/server.pem")).unwrap();
    let fingerprint = gophkeeper_server::tls::fingerprint_of_pem(&cert).unwrap();
    assert!(
        log.iter().any(|l| l.contains(&fingerprint)),
        "fingerprint logged"
    );
    // The first line names the exact build.
    let first: serde_json::Value = serde_json::from_str(&log[0]).unwrap();
    assert_eq!(
        first["fields"]["version"],
        gophkeeper_build_info::version!()
    );

    // A workload with planted secrets.
    let ca = std::fs::read(data_dir.path().join("tls/ca.pem")).unwrap();
    let port = addr.rsplit(':').next().unwrap();
    let channel = Endpoint::from_shared(format!("https://localhost:{port}"))
        .unwrap()
        .tls_config(
            ClientTlsConfig::new()
                .ca_certificate(Certificate::from_pem(ca))
                .domain_name("localhost"),
        )
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut account = AccountClient::new(channel.clone());
    let mut vault = VaultClient::new(channel);
    let key = auth_key("planted-user");
    let wrapped = b"PLANTED-WRAPPED-KEY-0123456789abcdef0123456789".to_vec();
    let upload = opaque_upload(&account, "planted-user", &key).await.unwrap();
    account
        .register(v1::RegisterRequest {
            username: "planted-user".into(),
            kdf: Some(kdf("planted-user")),
            registration_upload: upload.clone(),
            wrapped_vault_key: wrapped.clone(),
        })
        .await
        .unwrap();
    let login = login_on(&account, "planted-user", &key, "").await.unwrap();
    let tokens = login.tokens.unwrap();
    let refreshed = account
        .refresh(v1::RefreshRequest {
            refresh_token: tokens.refresh_token.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let ciphertext = b"PLANTED-CIPHERTEXT-do-not-log".to_vec();
    let record = uuid::Uuid::new_v4().to_string();
    let outcome = vault
        .submit(bearer(
            v1::SubmitRequest {
                command: Some(create_cmd(&record, v1::RecordKind::Login, &ciphertext)),
                wait_for_outcome: true,
            },
            &refreshed.access_token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(outcome.outcome.is_some());
    // A bad token too: rejections must not echo it.
    let bad = format!("{}tampered", refreshed.access_token);
    assert!(
        vault
            .changes(bearer(v1::ChangesRequest::default(), &bad))
            .await
            .is_err()
    );

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    reader.join().unwrap();
    log.extend(lines_rx.try_iter());
    assert!(exit.success(), "clean exit on SIGTERM: {exit:?}");
    assert!(log.iter().any(|l| l.contains("server stopped")));
    assert!(
        log.iter().any(|l| l.contains("command handled")),
        "debug logs were on"
    );

    let b64 = base64::engine::general_purpose::STANDARD;
    let forbidden = [
        tokens.access_token.clone(),
        tokens.refresh_token.clone(),
        refreshed.access_token.clone(),
        refreshed.refresh_token.clone(),
        hex::encode(&key),
        b64.encode(&key),
        hex::encode(&upload),
        b64.encode(&upload),
        "PLANTED-CIPHERTEXT".to_owned(),
        b64.encode(&ciphertext),
        "PLANTED-WRAPPED-KEY".to_owned(),
        b64.encode(&wrapped),
    ];
    let all = log.join("\n");
    for secret in &forbidden {
        assert!(!all.contains(secret.as_str()), "log leaks {secret}");
    }
    // The signature part of a token is the secret bit; check it alone too.
    let signature = refreshed.access_token.rsplit('.').next().unwrap();
    assert!(!all.contains(signature));
}
