//! Replays the cargo-fuzz corpus and every crash ever found (kept in `fuzz/regressions/`)
//! through the same checks the fuzz targets run, so the ordinary test run on stable Rust
//! covers them.

use std::path::{Path, PathBuf};

fn folder(parts: &[&str]) -> PathBuf {
    let mut path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    for part in parts {
        path.push(part);
    }
    path
}

#[test]
fn supervisor_corpus_and_regressions_keep_every_guarantee() {
    let corpus = folder(&["corpus", "supervisor"]);
    let regressions = folder(&["regressions", "supervisor"]);
    let replayed = ws_sim::fuzz::replay(&[&corpus, &regressions], ws_sim::fuzz::supervisor);
    assert!(
        replayed >= 50,
        "only {replayed} inputs replayed: is the corpus committed?"
    );
}

#[test]
fn config_corpus_and_regressions_never_accept_a_bad_value() {
    let corpus = folder(&["corpus", "config"]);
    let regressions = folder(&["regressions", "config"]);
    let replayed = ws_sim::fuzz::replay(&[&corpus, &regressions], ws_sim::fuzz::config);
    assert!(
        replayed >= 20,
        "only {replayed} inputs replayed: is the corpus committed?"
    );
}

#[test]
fn driver_corpus_and_regressions_keep_every_promise_of_the_driver() {
    let corpus = folder(&["corpus", "driver"]);
    let regressions = folder(&["regressions", "driver"]);
    let replayed = ws_sim::fuzz::replay(&[&corpus, &regressions], ws_sim::fuzz::driver);
    assert!(
        replayed >= 20,
        "only {replayed} inputs replayed: is the corpus committed?"
    );
}
