//! `lyap demo --out DIR` refuses, before training anything, a DIR that is not its own output
//! (exit code 2, one line naming DIR) and leaves it untouched.

use std::process::Command;

#[test]
fn demo_refuses_an_unrelated_out_dir_and_leaves_it_alone() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("mine");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("thesis.tex"), "keep me").unwrap();
    let done = Command::new(env!("CARGO_BIN_EXE_lyap"))
        .args(["demo", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(done.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("not a lyap demo output"), "{stderr}");
    assert!(stderr.contains(&out.display().to_string()), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(out.join("thesis.tex")).unwrap(),
        "keep me"
    );
    let entries: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(entries.len(), 1, "nothing else created: {entries:?}");
}
