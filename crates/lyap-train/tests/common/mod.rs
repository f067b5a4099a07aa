//! Helpers shared by the integration tests: tiny configurations and the shared data folder.

#![allow(dead_code)]

use lyap_rnn::Arch;
use lyap_train::{TaskName, TrainConfig};
use std::path::PathBuf;

/// A tiny, fast configuration of `task` (seconds for a few epochs).
pub fn tiny_config(task: TaskName, arch: Arch, epochs: usize) -> TrainConfig {
    let mut config = TrainConfig::for_task(task);
    config.arch = arch;
    config.hidden = 8;
    config.seq_len = 10;
    config.batch_size = 16;
    config.epochs = epochs;
    config.max_chars = Some(4000);
    config.le_batch = 2;
    config.le_steps = 20;
    config.le_warmup = 5;
    config.dropout = 0.1;
    config.seed = 7;
    config
}

/// `../shared` beside the checkout, if present. Absent: prints why the test is skipped and
/// returns None, unless `LYAP_REQUIRE_SHARED=1`, which turns the absence into a failure.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    if dir.join("data").is_dir() {
        return Some(dir);
    }
    if std::env::var("LYAP_REQUIRE_SHARED").as_deref() == Ok("1") {
        panic!("{} is missing and LYAP_REQUIRE_SHARED=1", dir.display());
    }
    eprintln!("skipped: {} not found (real-data test)", dir.display());
    None
}
