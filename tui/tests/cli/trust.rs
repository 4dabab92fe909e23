//! Trust on first use through the binary: without a CA file the server's
//! SHA-256 fingerprint is shown and y/N is read from standard input (so
//! `yes | gophkeeper ...` accepts); a later certificate change is refused
//! loudly.

use crate::helpers::{Device, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_contact_question_pins_and_a_changed_certificate_is_refused() {
    let mut server = TestServer::start().await;
    let device = Device::without_ca(&server);
    let fingerprint = server.fingerprint();

    // No answer (end of input) and "n" both mean no.
    let out = device.run(&["register", "tofu"]).await;
    assert_eq!(out.code, 1, "{out:#?}");
    assert!(out.stderr.contains("SHA-256 fingerprint"), "{out:#?}");
    assert!(
        out.stderr
            .to_lowercase()
            .contains(&fingerprint.to_lowercase())
            || out
                .stderr
                .replace(':', "")
                .to_lowercase()
                .contains(&fingerprint.replace(':', "").to_lowercase()),
        "the fingerprint {fingerprint} is shown: {out:#?}"
    );
    assert!(out.stderr.contains("not accepted"), "{out:#?}");
    device
        .cmd(&["register", "tofu"])
        .input("n\n")
        .run()
        .await
        .fails_with(1, "not accepted");

    // `yes |` accepts; later commands use the pinned certificate.
    device
        .cmd(&["register", "tofu"])
        .input("y\ny\ny\n")
        .run()
        .await
        .ok();
    device.ok(&["add", "text", "t", "--text", "x"]).await;

    // Another certificate on the same address: refused, loudly, without a
    // question.
    let _impostor = server.replace_with_impostor().await;
    device
        .cmd(&["sync"])
        .input("y\n")
        .run()
        .await
        .fails_with(1, "SERVER CERTIFICATE CHANGED");
    device
        .cmd(&["login", "tofu"])
        .input("y\n")
        .run()
        .await
        .fails_with(1, "SERVER CERTIFICATE CHANGED");
}
