//! The managed toolchain library: builds land in target/managed and are skipped
//! when up to date; compiler errors are reported with mcs's message.

mod common;

use cil_compat::toolchain::{self, CsOptions};

#[test]
fn outputs_go_to_target_managed_and_rebuilds_are_skipped() {
    let corlib = common::corlib();
    assert!(corlib.starts_with(toolchain::managed_dir()));
    assert!(toolchain::managed_dir().ends_with("target/managed"));
    let src = std::env::temp_dir().join(format!("tc-{}-ok.cs", std::process::id()));
    std::fs::write(&src, "public class Tc { public int X; }").unwrap();
    let out = toolchain::managed_dir().join(format!("tc-test-{}/Tc.dll", std::process::id()));
    let opts = CsOptions {
        references: vec![corlib],
        ..CsOptions::default()
    };
    assert!(
        toolchain::compile_cs(std::slice::from_ref(&src), &out, &opts).unwrap(),
        "first build runs mcs"
    );
    assert!(
        !toolchain::compile_cs(std::slice::from_ref(&src), &out, &opts).unwrap(),
        "second build is skipped"
    );
    let mut ts = cil_compat::types::TypeSystem::new();
    ts.load(std::fs::read(common::corlib()).unwrap()).unwrap();
    ts.load(std::fs::read(&out).unwrap()).unwrap();
    assert!(ts.find_type("", "Tc").is_some());
    let _ = std::fs::remove_dir_all(out.parent().unwrap());
    let _ = std::fs::remove_file(src);
}

#[test]
fn compile_errors_carry_the_compiler_message() {
    let src = std::env::temp_dir().join(format!("tc-{}-bad.cs", std::process::id()));
    std::fs::write(&src, "public class Broken { int x = ; }").unwrap();
    let out = toolchain::managed_dir().join(format!("tc-bad-{}/Broken.dll", std::process::id()));
    let opts = CsOptions {
        references: vec![common::corlib()],
        ..CsOptions::default()
    };
    let e = toolchain::compile_cs(std::slice::from_ref(&src), &out, &opts)
        .unwrap_err()
        .to_string();
    assert!(e.contains("mcs") && e.contains("error CS"), "{e}");
    assert!(!out.exists());
    let _ = std::fs::remove_dir_all(out.parent().unwrap());
    let _ = std::fs::remove_file(src);
}

#[test]
fn missing_tools_name_the_debian_package() {
    let e = toolchain::find_tool("definitely-not-a-real-tool-xyz")
        .unwrap_err()
        .to_string();
    assert!(e.contains("not found on PATH"), "{e}");
    assert!(
        toolchain::find_tool("mcs").is_ok(),
        "mcs is installed on this machine"
    );
}
