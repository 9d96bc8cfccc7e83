//! The `cilrun` host CLI: `--dump` shows what the loader sees, errors are clean.

mod common;

use std::process::Command;

fn cilrun(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_cilrun"))
        .args(args)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn dump_shows_types_sizes_offsets_and_methods() {
    let dep = common::dependent();
    let lib = common::corlib();
    let libdir = lib.parent().unwrap().to_str().unwrap().to_string();
    let (code, out, err) = cilrun(&[dep.to_str().unwrap(), "--lib", &libdir, "--dump"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("assembly mscorlib"), "corlib loaded first");
    assert!(out.contains("assembly LoaderLayouts"));
    assert!(out.contains("assembly LoaderDependent"));
    let line = out
        .lines()
        .find(|l| l.starts_with("struct LoaderTests.PciAddress "))
        .unwrap();
    assert!(line.contains("size=3 align=1"), "{line}");
    let line = out
        .lines()
        .find(|l| l.starts_with("array LoaderTests.PciBar[]"))
        .unwrap();
    assert!(line.contains("component_size=24"), "{line}");
    assert!(
        out.contains("  field System.Int64 Id @32"),
        "Dog.Id after the header and base fields"
    );
    assert!(out.contains("  method System.Int32 Area() virtual slot=4 il="));
    assert!(out.contains("  vtable[2] = DependentTests.Derived::ToString"));
    assert!(out.contains("implements LoaderTests.IShape slots [Some(4), Some(5)]"));
}

#[test]
fn missing_reference_and_bad_file_are_clear_errors() {
    let dep = common::dependent();
    let tmp = std::env::temp_dir().join(format!("cilrun-test-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let lonely = tmp.join("LoaderDependent.dll");
    std::fs::copy(&dep, &lonely).unwrap();
    let (code, _, err) = cilrun(&[lonely.to_str().unwrap(), "--dump"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("--lib") && err.contains("LoaderLayouts.dll"),
        "{err}"
    );
    let junk = tmp.join("junk.dll");
    std::fs::write(&junk, b"MZ not really").unwrap();
    let (code, _, err) = cilrun(&[junk.to_str().unwrap(), "--dump"]);
    assert_eq!(code, 1);
    assert!(err.contains("malformed"), "{err}");
    let (code, _, err) = cilrun(&["--bogus"]);
    assert_eq!(code, 2);
    assert!(err.contains("usage"), "{err}");
    let _ = std::fs::remove_dir_all(&tmp);
}

/// A new user's program, compiled with plain `mcs` against mono's own
/// mscorlib, runs with no `--lib`: references to `mscorlib` bind to ours.
#[test]
fn plain_mcs_program_runs_without_lib() {
    let mcs = cil_compat::toolchain::find_tool("mcs").expect("mcs (mono-mcs)");
    let tmp = std::env::temp_dir().join(format!("cilrun-plain-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let src = tmp.join("t.cs");
    std::fs::write(
        &src,
        "public struct P { public byte A, B, C; }\n\
         public static class T {\n\
           public static int test_6_struct() { P p = new P(); p.A = 1; p.B = 2; p.C = 3; P q = p; return q.A + q.B + q.C; }\n\
           public static int test_5_array_length() { System.Array a = new P[5]; return a.Length; }\n\
           public static int test_0_div() { int z = 0; return 1 / z; }\n\
         }\n",
    )
    .unwrap();
    let dll = tmp.join("t.dll");
    let st = Command::new(mcs)
        .arg("-target:library")
        .arg(format!("-out:{}", dll.display()))
        .arg(&src)
        .status()
        .unwrap();
    assert!(st.success(), "mcs failed");
    let (code, out, err) = cilrun(&[dll.to_str().unwrap(), "--invoke-all", "test_*"]);
    assert!(out.contains("T::test_6_struct = 6"), "{out}{err}");
    assert!(out.contains("T::test_5_array_length = 5"), "{out}{err}");
    assert!(out.contains("T::test_0_div ! divide-by-zero"), "{out}{err}");
    assert_eq!(code, 1, "a line with `!` makes the exit status 1");
    let _ = std::fs::remove_dir_all(&tmp);
}

/// `--lib` must name a directory; a PE file without CLI metadata (a native
/// DLL) or a non-PE file is "not a .NET assembly", not a format error; a
/// generic class's type parameter is named as in C#.
#[test]
fn a_new_users_mistakes_get_plain_answers() {
    let dep = common::dependent();
    let (code, _, err) = cilrun(&[dep.to_str().unwrap(), "--lib", "/nonexistent", "--dump"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--lib /nonexistent: no such directory"),
        "{err}"
    );

    let tmp = std::env::temp_dir().join(format!("cilrun-native-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    // The same DLL with its CLI header directory (data directory 14) zeroed:
    // what a native PE looks like to the loader.
    let mut bytes = std::fs::read(&dep).unwrap();
    let pe = u32::from_le_bytes(bytes[0x3c..0x40].try_into().unwrap()) as usize;
    let opt = pe + 24;
    let dirs = if bytes[opt..opt + 2] == [0x0b, 0x02] {
        opt + 112
    } else {
        opt + 96
    };
    bytes[dirs + 14 * 8..dirs + 15 * 8].fill(0);
    let native = tmp.join("native.dll");
    std::fs::write(&native, &bytes).unwrap();
    let (code, _, err) = cilrun(&[native.to_str().unwrap(), "--dump"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("not a .NET assembly (a native PE file"),
        "{err}"
    );
    let text = tmp.join("notes.txt");
    std::fs::write(&text, "hello").unwrap();
    let (_, _, err) = cilrun(&[text.to_str().unwrap(), "--dump"]);
    assert!(err.contains("not a .NET assembly (not a PE file"), "{err}");

    let mcs = cil_compat::toolchain::find_tool("mcs").expect("mcs (mono-mcs)");
    let src = tmp.join("g.cs");
    std::fs::write(
        &src,
        "namespace Ns { public class Box<TItem> { public TItem V; public TItem Get() { return V; } } }\n",
    )
    .unwrap();
    let dll = tmp.join("g.dll");
    let st = Command::new(mcs)
        .arg("-target:library")
        .arg(format!("-out:{}", dll.display()))
        .arg(&src)
        .status()
        .unwrap();
    assert!(st.success(), "mcs failed");
    let (code, _, err) = cilrun(&[dll.to_str().unwrap(), "--disasm", "Ns.Box`1::Get"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("type parameter TItem of generic class Ns.Box<TItem>"),
        "{err}"
    );
    assert!(!err.contains("!0"), "{err}");
    let _ = std::fs::remove_dir_all(&tmp);
}

/// A method whose signature names a type our corlib lacks does not sink its
/// assembly: every other method runs, and that one reports what is missing
/// (mono's own mscorlib has `System.Runtime.Serialization.SerializationInfo`).
#[test]
fn a_member_naming_a_missing_type_fails_alone() {
    let mcs = cil_compat::toolchain::find_tool("mcs").expect("mcs (mono-mcs)");
    let tmp = std::env::temp_dir().join(format!("cilrun-missing-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let src = tmp.join("m.cs");
    std::fs::write(
        &src,
        "using System.Runtime.Serialization;\n\
         public delegate int D(int x);\n\
         public static class T {\n\
           static int Twice(int x) { return 2 * x; }\n\
           static int Uses(SerializationInfo i) { return 1; }\n\
           public static int test_8_delegate() { D d = Twice; return d(4); }\n\
           public static int test_1_missing() { return Uses(null); }\n\
         }\n",
    )
    .unwrap();
    let dll = tmp.join("m.dll");
    let st = Command::new(mcs)
        .arg("-target:library")
        .arg(format!("-out:{}", dll.display()))
        .arg(&src)
        .status()
        .unwrap();
    assert!(st.success(), "mcs failed");
    let (_, out, err) = cilrun(&[dll.to_str().unwrap(), "--invoke-all", "test_*"]);
    assert!(out.contains("T::test_8_delegate = 8"), "{out}{err}");
    let line = out
        .lines()
        .find(|l| l.starts_with("T::test_1_missing "))
        .unwrap_or_else(|| panic!("no line for test_1_missing: {out}{err}"));
    assert!(
        line.contains(" ! ") && line.contains("SerializationInfo"),
        "{line}"
    );
    let _ = std::fs::remove_dir_all(&tmp);
}
