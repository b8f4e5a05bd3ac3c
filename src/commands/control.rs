//! `keel status` and `keel ctl`: a running keel's control plane, from a terminal.

use crate::cli::{ControlTarget, CtlAction, CtlArgs, StatusArgs};
use crate::control::client::{base_url, command, fetch_status, render};
use crate::control::Token;
use crate::settings::Settings;

fn target(target: &ControlTarget) -> anyhow::Result<(String, Settings)> {
    let settings = super::load_settings(target.config.as_deref())?;
    let store = target.store.as_ref().unwrap_or(&settings.run.store);
    Ok((base_url(target.url.as_deref(), store)?, settings))
}

/// Runs `keel status`.
pub fn status(args: &StatusArgs) -> anyhow::Result<()> {
    let (base, _) = target(&args.target)?;
    let status = fetch_status(&base)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&status)?);
    } else {
        print!("{}", render(&status));
    }
    Ok(())
}

/// Runs `keel ctl`.
pub fn ctl(args: &CtlArgs) -> anyhow::Result<()> {
    let (base, settings) = target(&args.target)?;
    let token = Token::from_env(&settings.control.token_env)?.ok_or_else(|| {
        anyhow::anyhow!(
            "no control token: set {} (control.token_env) to the token the running keel was started with",
            settings.control.token_env
        )
    })?;
    let path = match &args.action {
        CtlAction::Halt => "/halt".to_string(),
        CtlAction::Resume => "/resume".to_string(),
        CtlAction::Flatten => "/flatten".to_string(),
        CtlAction::ResetKillSwitch => "/kill-switch/reset".to_string(),
        CtlAction::Kill { actor } => format!("/actors/{actor}/kill"),
    };
    let answer = command(&base, &path, Some(&token))?;
    println!("{}", serde_json::to_string_pretty(&answer)?);
    Ok(())
}
