//! Secrets as systemd credentials: `keel run` reads the control token from
//! `$CREDENTIALS_DIRECTORY/KEEL_CONTROL_TOKEN` before the environment, and refuses a
//! credential file others could read, without ever printing the secret.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::process::{keel, run, Process};

const TOKEN: &str = "credential-file-token";

/// A credentials directory holding the control token with `mode`.
fn credentials(dir: &Path, mode: u32) -> std::path::PathBuf {
    let credentials = dir.join("credentials");
    std::fs::create_dir(&credentials).unwrap();
    let file = credentials.join("KEEL_CONTROL_TOKEN");
    std::fs::write(&file, format!("{TOKEN}\n")).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
    credentials
}

#[test]
fn a_credential_file_others_can_read_is_refused_as_a_configuration_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::paced_paper_config(dir.path());
    let credentials = credentials(dir.path(), 0o644);
    let mut command = keel(&["run", "--config", config.to_str().unwrap()]);
    command
        .env("CREDENTIALS_DIRECTORY", &credentials)
        .env_remove("KEEL_CONTROL_TOKEN");
    let output = run(command, "keel run");
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Exit 2: systemd's RestartPreventExitStatus=2 does not restart it in a loop.
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&credentials.join("KEEL_CONTROL_TOKEN").display().to_string()),
        "the error names the file: {stderr}"
    );
    assert!(!stderr.contains(TOKEN), "the secret was printed: {stderr}");
}

#[test]
fn the_control_token_is_read_from_the_credentials_directory() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::paced_paper_config(dir.path());
    let credentials = credentials(dir.path(), 0o600);
    let mut command = keel(&["run", "--config", config.to_str().unwrap()]);
    command
        .env("CREDENTIALS_DIRECTORY", &credentials)
        .env_remove("KEEL_CONTROL_TOKEN");
    let mut process = Process::start_in(command, "keel run", dir.path());
    let url = format!(
        "http://{}/halt",
        process.control_addr(&dir.path().join("store"))
    );
    let client = reqwest::blocking::Client::new();
    // Without a token keel answers commands 403; with the file's (newline trimmed) 200.
    let halt = |token: &str| {
        client
            .post(&url)
            .bearer_auth(token)
            .send()
            .expect("POST /halt")
            .status()
            .as_u16()
    };
    assert_eq!(halt("wrong-token"), 401);
    assert_eq!(halt(TOKEN), 200);
    assert!(!process.stderr().contains(TOKEN), "the token was logged");
    process.kill9();
}
