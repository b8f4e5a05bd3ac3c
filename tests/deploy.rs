//! The deployment files in deploy/ and the Dockerfile: what systemd, Docker, docker compose
//! and Prometheus would make of them. `systemd-analyze` and `promtool` check what they can
//! here; no image can be built in CI, so the Dockerfile and compose.yaml are checked line by
//! line for what an operator relies on.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::process::run;
use common::tools::tool;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The output of `systemd-analyze verify` on `unit` (installed as `keel.service` in a
/// temporary directory): its exit status and every line it printed.
fn verify(program: &Path, unit: &str) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keel.service");
    std::fs::write(&path, unit).unwrap();
    let mut command = Command::new(program);
    // --man=no: no man pages in a container; the unit's Documentation= is a URL anyway.
    command.args(["verify", "--man=no"]).arg(&path);
    let output = run(command, "systemd-analyze verify");
    let text = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), text)
}

#[test]
fn the_systemd_unit_verifies_and_restarts_as_keel_needs() {
    let unit = read("deploy/keel.service");
    for line in [
        "Restart=on-failure",
        "RestartPreventExitStatus=2",
        "StateDirectory=keel",
        "DynamicUser=yes",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "ExecStart=/usr/local/bin/keel run --config /etc/keel/keel.toml",
        "#LoadCredentialEncrypted=KEEL_BINANCE_API_KEY:",
    ] {
        assert!(
            unit.lines()
                .any(|l| l.trim() == line || l.starts_with(line)),
            "deploy/keel.service lacks {line:?}"
        );
    }
    // Exit 70 (trading stopped safely) must be restarted: not in RestartPreventExitStatus.
    let prevented = unit
        .lines()
        .filter_map(|l| l.strip_prefix("RestartPreventExitStatus="))
        .collect::<Vec<_>>()
        .join(" ");
    assert!(!prevented.split_whitespace().any(|code| code == "70"));
    // The settings it starts with write where the unit lets keel write.
    let settings = keel::settings::Settings::load(&repo("deploy/keel.toml")).unwrap();
    assert!(settings.run.store.starts_with("/var/lib/keel"));
    assert!(settings.log.dir.unwrap().starts_with("/var/lib/keel"));

    let Some(program) = tool("systemd-analyze") else {
        return;
    };
    // verify checks that ExecStart's program exists: point it at the built keel, with a
    // config file that exists.
    let exec = format!(
        "ExecStart={} run --config {}",
        env!("CARGO_BIN_EXE_keel"),
        repo("deploy/keel.toml").display()
    );
    let local = unit.replace(
        "ExecStart=/usr/local/bin/keel run --config /etc/keel/keel.toml",
        &exec,
    );
    // Without a running systemd (a container, CI), verify may print warnings about the
    // system it runs on (missing units it would depend on, no bus); those lines do not
    // name keel.service. A problem with the unit itself (an unknown key, a value that does
    // not parse, a missing program) is printed on a line naming the file, often with exit
    // status 0: both are checked.
    let (ok, text) = verify(&program, &local);
    let problems: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("keel.service"))
        .collect();
    assert!(ok && problems.is_empty(), "systemd-analyze verify:\n{text}");

    // The check itself catches a broken unit.
    let broken = local.replace("Restart=on-failure", "Restart=on-failur");
    let (_, text) = verify(&program, &broken);
    assert!(
        text.lines()
            .any(|l| l.contains("keel.service") && l.contains("on-failur")),
        "a misspelt Restart= went unnoticed:\n{text}"
    );
}

/// A Dockerfile's instructions: comments dropped, continuation lines joined, as
/// (keyword in upper case, arguments).
fn instructions(text: &str) -> Vec<(String, String)> {
    let mut joined = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || (line.is_empty() && current.is_empty()) {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(part) => current += &format!("{part} "),
            None => {
                current += line;
                joined.push(std::mem::take(&mut current));
            }
        }
    }
    joined
        .into_iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (keyword, args) = l.split_once(char::is_whitespace).unwrap_or((&l, ""));
            (keyword.to_ascii_uppercase(), args.trim().to_string())
        })
        .collect()
}

#[test]
fn the_dockerfile_builds_in_one_stage_and_runs_unprivileged_in_another() {
    let all = instructions(&read("Dockerfile"));
    let froms: Vec<usize> = (0..all.len()).filter(|&i| all[i].0 == "FROM").collect();
    assert!(froms.len() >= 2, "not multi-stage: {all:?}");
    let (builder, runtime) = (&all[froms[0]..froms[1]], &all[*froms.last().unwrap()..]);
    let from = &builder[0].1;
    assert!(
        from.starts_with("rust:") && from.to_lowercase().contains(" as builder"),
        "the first stage builds with a rust image, named builder: FROM {from}"
    );
    assert!(
        builder
            .iter()
            .any(|(k, a)| k == "RUN" && a.contains("cargo build --release --locked")),
        "the builder runs cargo build --release --locked"
    );
    assert!(
        runtime[0].1.starts_with("debian:bookworm-slim"),
        "FROM {}",
        runtime[0].1
    );
    let has = |keyword: &str, pred: &dyn Fn(&str) -> bool| {
        runtime.iter().any(|(k, a)| k == keyword && pred(a))
    };
    assert!(has("COPY", &|a| a.starts_with("--from=builder")));

    let users: Vec<&str> = runtime
        .iter()
        .filter(|(k, _)| k == "USER")
        .map(|(_, a)| a.as_str())
        .collect();
    let user = users.last().expect("the runtime stage sets a USER");
    let name = user.split(':').next().unwrap();
    assert!(name != "root" && name != "0", "runs as root: USER {user}");
    assert!(
        has("RUN", &|a| a.contains("useradd") && a.contains(name)),
        "USER {name} is never created"
    );

    assert!(has("VOLUME", &|a| a.contains("/var/lib/keel")), "no VOLUME");
    assert!(has("EXPOSE", &|a| a
        .split_whitespace()
        .any(|p| p == "9464")));
    // The health check's program must exist in the image: curl is installed in this stage.
    assert!(
        has("HEALTHCHECK", &|a| a.contains("CMD curl")
            && a.contains("http://127.0.0.1:9464/healthz")),
        "HEALTHCHECK on /healthz"
    );
    assert!(has("RUN", &|a| a.contains("apt-get install")
        && a.contains("curl")));

    let ignored = read(".dockerignore");
    assert!(
        ignored.lines().any(|l| l.trim() == "target"),
        "the build context must leave out target/"
    );
}

#[test]
fn compose_runs_keel_the_sim_venue_and_prometheus() {
    let text = read("deploy/compose.yaml");
    assert!(!text.contains('\t'), "YAML forbids tabs for indentation");
    // The services: two-space keys under the top-level `services:`.
    let mut services = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if !line.starts_with(' ') && !line.starts_with('#') && !line.is_empty() {
            inside = line.trim_end() == "services:";
            continue;
        }
        if inside && !line.starts_with("   ") && !line.trim_start().starts_with('#') {
            if let Some(name) = line.trim().strip_suffix(':') {
                services.push(name.to_string());
            }
        }
    }
    assert_eq!(services, ["sim-exchange", "keel", "prometheus"]);
    for line in [
        r#"command: ["sim-exchange", "--config", "/etc/keel/sim-exchange.toml"]"#,
        r#"command: ["run", "--config", "/etc/keel/keel.toml"]"#,
    ] {
        assert!(text.contains(line), "compose.yaml lacks {line}");
    }
    // Every file or folder it mounts from the repository exists.
    let deploy = repo("deploy");
    for mount in text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- ./"))
        .map(|m| m.split(':').next().unwrap())
    {
        assert!(
            deploy.join(mount).exists(),
            "compose mounts missing ./{mount}"
        );
    }
    // The services find each other by name.
    assert!(read("deploy/compose/keel.toml").contains("\"http://sim-exchange:8765\""));
    assert!(read("deploy/prometheus/prometheus.yml").contains("\"keel:9464\""));
}

#[test]
fn the_shipped_deployment_configs_are_valid() {
    for path in ["deploy/keel.toml", "deploy/compose/keel.toml"] {
        keel::settings::Settings::load(&repo(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    }
    std::env::set_var("KEEL_SIM_API_KEY", "example-key");
    std::env::set_var("KEEL_SIM_API_SECRET", "example-secret");
    keel_sim_exchange::config::Settings::load(
        &repo("deploy/compose/sim-exchange.toml"),
        None,
        None,
    )
    .unwrap_or_else(|e| panic!("deploy/compose/sim-exchange.toml: {e}"));
}

#[test]
fn promtool_accepts_the_scrape_config_and_the_alert_rules() {
    let Some(promtool) = tool("promtool") else {
        return;
    };
    let dir = repo("deploy/prometheus");
    for args in [
        ["check", "config", "prometheus.yml"],
        ["check", "rules", "alerts.yml"],
        ["test", "rules", "alerts.test.yml"],
    ] {
        let mut command = Command::new(&promtool);
        command.args(args).current_dir(&dir);
        let output = run(command, "promtool");
        let text = String::from_utf8_lossy(&output.stdout).to_string()
            + &String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success() && text.contains("SUCCESS"),
            "promtool {}:\n{text}",
            args.join(" ")
        );
    }
}

#[test]
fn the_dashboard_shows_what_an_operator_watches() {
    let dashboard: serde_json::Value =
        serde_json::from_str(&read("deploy/grafana/keel.json")).expect("keel.json is JSON");
    let titles: Vec<String> = dashboard["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .map(|p| p["title"].as_str().unwrap_or_default().to_lowercase())
        .collect();
    for topic in [
        "equity",
        "drawdown",
        "positions",
        "restarts",
        "breaker",
        "handler",
        "journal",
        "candle",
    ] {
        assert!(
            titles.iter().any(|t| t.contains(topic)),
            "no panel on {topic}: {titles:?}"
        );
    }
}
