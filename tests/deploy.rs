//! The deployment files agree with the program's defaults.

use bert::app::config::Config;
use std::collections::HashMap;

fn fly() -> toml::Table {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fly.toml")).expect("fly.toml");
    text.parse::<toml::Table>().expect("fly.toml parses")
}

#[test]
fn fly_toml_matches_the_configuration() {
    let fly = fly();
    let env: HashMap<String, String> = fly["env"]
        .as_table()
        .expect("[env]")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().expect("string env values").to_string()))
        .collect();
    // The env block is a valid configuration for Bert.
    let config = Config::load(None, &|k| env.get(k).cloned()).expect("fly env is a valid config");

    // The database is on the volume.
    let mount = fly["mounts"]["destination"].as_str().expect("mount destination");
    assert_eq!(config.data_dir.to_str(), Some(mount));

    // The health check hits the port Bert listens on, at /healthz.
    let check = &fly["checks"]["healthz"];
    assert_eq!(check["path"].as_str(), Some("/healthz"));
    assert_eq!(check["port"].as_integer(), Some(i64::from(config.http_addr.port())));
    // And that port is the program's default as well.
    let defaults = Config::load(None, &|_| None).unwrap();
    assert_eq!(defaults.http_addr.port(), config.http_addr.port());

    // Shutdown: a signal Bert handles, and time for its 10-second drain.
    assert!(["SIGTERM", "SIGINT"].contains(&fly["kill_signal"].as_str().unwrap()));
    assert!(fly["kill_timeout"].as_integer().unwrap() >= 10);
}

#[test]
fn dockerfile_runs_as_a_non_root_user_with_the_volume_as_data_dir() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Dockerfile")).expect("Dockerfile");
    assert!(text.matches("FROM ").count() >= 2, "multi-stage");
    assert!(text.contains("--release --locked"));
    assert!(text.contains("setpriv --reuid=bert"), "drops to the bert user");
    let mount = fly()["mounts"]["destination"].as_str().unwrap().to_string();
    assert!(text.contains(&format!("BERT_DATA_DIR={mount}")));
}
