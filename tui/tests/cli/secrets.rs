//! `run` and `inject`: secrets named as gk://ITEM/FIELD reach a command's
//! environment or a file, never its output, and a bad reference stops
//! everything before it starts.

use crate::helpers::{Device, PASSWORD, TestServer};

const SECRET: &str = "s3cret-Db-pw";
const CONCEALED: &str = "<concealed by gophkeeper>";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_and_inject_resolve_references_and_hide_them() {
    let server = TestServer::start().await;
    let device = Device::new(&server);
    device.ok(&["register", "dana"]).await;
    device
        .ok(&[
            "add",
            "login",
            "db",
            "--username",
            "admin",
            "--password",
            SECRET,
            "--totp",
            "JBSWY3DPEHPK3PXP",
            "--field",
            "api key=k-123",
        ])
        .await;
    for _ in 0..2 {
        device
            .ok(&["add", "login", "twin", "--username", "t", "--password", "x"])
            .await;
    }
    let dir = tempfile::tempdir().unwrap();

    // The command gets the values; its output shows none of them.
    let out = device
        .cmd(&[
            "run",
            "--",
            "sh",
            "-c",
            "echo \"u=$DB_USER p=$DB_PASS\"; echo \"$DB_PASS\" >&2; \
             echo \"pw=[$GOPHKEEPER_PASSWORD]\"; exit 7",
        ])
        .env("DB_USER", "gk://db/username")
        .env("DB_PASS", "gk://db/password")
        .run()
        .await;
    assert_eq!(out.code, 7, "{out:#?}");
    // Every value from the vault is masked, the user name too.
    assert!(
        out.stdout.contains(&format!("u={CONCEALED} p={CONCEALED}")),
        "{out:#?}"
    );
    assert!(out.stderr.contains(CONCEALED), "{out:#?}");
    assert!(
        !out.stdout.contains(SECRET) && !out.stderr.contains(SECRET),
        "{out:#?}"
    );
    // The master password is not handed on.
    assert!(out.stdout.contains("pw=[]"), "{out:#?}");
    assert!(!out.stdout.contains(PASSWORD));

    // The value itself, and an env file with an encoded field name.
    let env_file = dir.path().join("app.env");
    std::fs::write(
        &env_file,
        "# for the app\nexport API_KEY=\"gk://db/api%20key\"\nPLAIN=hello\n",
    )
    .unwrap();
    let out = device
        .cmd(&[
            "run",
            "--no-masking",
            "--env-file",
            env_file.to_str().unwrap(),
            "--",
            "sh",
            "-c",
            "test \"$DB_PASS\" = \"$EXPECTED\" && echo \"same $API_KEY $PLAIN $CODE\"",
        ])
        .env("DB_PASS", "gk://db/password")
        .env("EXPECTED", SECRET)
        .env("CODE", "gk://db/totp")
        .run()
        .await
        .ok();
    let words: Vec<&str> = out.stdout.split_whitespace().collect();
    assert_eq!(words[..3], ["same", "k-123", "hello"], "{out:#?}");
    assert!(
        words[3].len() == 6 && words[3].chars().all(|c| c.is_ascii_digit()),
        "{out:#?}"
    );

    // Nothing to resolve: no password needed.
    device
        .cmd(&["run", "--", "true"])
        .env_remove("GOPHKEEPER_PASSWORD")
        .run()
        .await
        .ok();

    // A bad reference fails before the command starts, and says which.
    let marker = dir.path().join("started");
    let touch = format!("touch {}", marker.display());
    for (reference, message) in [
        ("gk://nope/password", "no item \"nope\""),
        ("gk://db/cvv", "has no field \"cvv\""),
        (
            "gk://twin/password",
            "2 items are named \"twin\"; use an id instead: ",
        ),
        ("gk://db", "write gk://ITEM/FIELD"),
    ] {
        device
            .cmd(&["run", "--", "sh", "-c", &touch])
            .env("SECRET", reference)
            .run()
            .await
            .fails_with(1, message)
            .fails_with(1, reference);
        assert!(!marker.exists(), "{reference} started the command");
    }

    // inject: a 0600 file, other placeholders left alone.
    let template = dir.path().join("config.tpl");
    std::fs::write(
        &template,
        "user = {{ gk://db/username }}\npass = {{gk://db/password}}\nhost = {{ host }}\n",
    )
    .unwrap();
    let config = dir.path().join("config.toml");
    let (template_arg, config_arg) = (template.to_str().unwrap(), config.to_str().unwrap());
    device
        .ok(&["inject", "-i", template_arg, "-o", config_arg])
        .await;
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        format!("user = admin\npass = {SECRET}\nhost = {{{{ host }}}}\n")
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&config).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Not over an existing file without --force; with it, yes.
    std::fs::write(&config, "mine").unwrap();
    device
        .run(&["inject", "-i", template_arg, "-o", config_arg])
        .await
        .fails_with(1, "use --force");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), "mine");
    device
        .ok(&["inject", "-i", template_arg, "-o", config_arg, "--force"])
        .await;
    assert!(std::fs::read_to_string(&config).unwrap().contains(SECRET));
    // Standard output, from standard input.
    let out = device
        .cmd(&["inject", "-i", "-"])
        .input("token={{ gk://db/api%20key }}")
        .run()
        .await
        .ok();
    assert_eq!(out.stdout, "token=k-123");
    // A missing reference writes nothing.
    std::fs::write(
        &template,
        "a = {{ gk://db/password }}\nb = {{ gk://gone/x }}\n",
    )
    .unwrap();
    let fresh = dir.path().join("fresh.toml");
    device
        .run(&["inject", "-i", template_arg, "-o", fresh.to_str().unwrap()])
        .await
        .fails_with(1, "gk://gone/x");
    assert!(!fresh.exists());
}
