//! Type forwarders (ECMA-335 §II.22.14): a TypeRef into an assembly that forwards
//! the type binds to the definition in the assembly it names, and the call runs.
#![cfg(feature = "std")]

use std::process::Command;

use cil_compat::toolchain;

#[test]
fn a_forwarded_type_resolves_and_runs() {
    let dir = toolchain::workspace_root()
        .join("cil-compat")
        .join("tests")
        .join("forward");
    let target = toolchain::build_library("FwdTarget", &[dir.join("Target.cs")], &[]).unwrap();
    toolchain::build_il("FwdShim", &dir.join("Shim.il")).unwrap();
    let user = toolchain::build_il("FwdUser", &dir.join("User.il")).unwrap();
    let lib = target.parent().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_cilrun"))
        .arg(&user)
        .arg("--lib")
        .arg(lib)
        .args(["--invoke-all", "*"])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(out.contains("User::Get = 42"), "{out}{err}");
}
