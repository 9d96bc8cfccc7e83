//! Differential layout test: the same C# structs compiled against mono's own corlib
//! and measured with `sizeof`/pointer arithmetic under `mono` must have the sizes and
//! offsets our loader computes. Skipped (with a note) when mono is not installed.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use cil_compat::toolchain::{self, CsOptions, Target};

const STRUCTS: &[&str] = &[
    "Small",
    "Nested",
    "PciAddress",
    "PciBar",
    "Union",
    "Overlay",
    "Packed1",
    "Packed2",
    "Sized",
    "WithRef",
    "HasEnums",
    "UsesGenerics",
    "Outer.InnerStruct",
];
const OFFSETS: &[(&str, &str)] = &[
    ("Small", "B"),
    ("Small", "C"),
    ("Nested", "Inner"),
    ("Nested", "Z"),
    ("PciBar", "IsIo"),
    ("Union", "L"),
    ("Overlay", "High"),
    ("Packed1", "C"),
    ("Packed2", "B"),
    ("Packed2", "C"),
    ("HasEnums", "B"),
    ("UsesGenerics", "Q"),
];

#[test]
fn struct_layouts_agree_with_mono() {
    let (Ok(_), Ok(mono)) = (toolchain::find_tool("mcs"), toolchain::find_tool("mono")) else {
        assert!(
            std::env::var_os("XTASK_REQUIRE_TOOLS").is_none(),
            "mcs and mono are required here (XTASK_REQUIRE_TOOLS is set) but were not found"
        );
        eprintln!("mono not installed: differential layout test skipped");
        return;
    };
    let dir = toolchain::managed_dir().join("mono-diff");
    let lib = dir.join("LoaderLayouts.dll");
    let std_opts = CsOptions {
        nostdlib: false,
        ..CsOptions::default()
    };
    toolchain::compile_cs(
        &[common::tests_dir().join("cs/Layouts.cs")],
        &lib,
        &std_opts,
    )
    .unwrap();
    let mut main =
        String::from("using LoaderTests;\nunsafe class LayoutProbe { static void Main() {\n");
    for s in STRUCTS {
        main.push_str(&format!(
            "System.Console.WriteLine(\"size {s} \" + sizeof({s}));\n"
        ));
    }
    for (i, (s, f)) in OFFSETS.iter().enumerate() {
        main.push_str(&format!(
            "{{ {s} v{i}; byte* b = (byte*)&v{i}; System.Console.WriteLine(\"offset {s}.{f} \" + ((byte*)&v{i}.{f} - b)); }}\n"
        ));
    }
    main.push_str("} }\n");
    let src = dir.join("LayoutProbe.cs");
    std::fs::create_dir_all(&dir).unwrap();
    if std::fs::read_to_string(&src).ok().as_deref() != Some(main.as_str()) {
        std::fs::write(&src, &main).unwrap();
    }
    let exe = dir.join("LayoutProbe.exe");
    let exe_opts = CsOptions {
        target: Target::Exe,
        references: vec![lib.clone()],
        ..std_opts
    };
    toolchain::compile_cs(&[src], &exe, &exe_opts).unwrap();
    let out = Command::new(mono)
        .arg(&exe)
        .env("MONO_PATH", &dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "mono: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mono_says: BTreeMap<String, u32> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut p = l.rsplitn(2, ' ');
            let v = p.next()?.parse().ok()?;
            Some((p.next()?.to_string(), v))
        })
        .collect();
    let l = common::load_all();
    let ts = &l.ts;
    let mut checked = 0;
    for s in STRUCTS {
        let full = format!("LoaderTests.{}", s.replace('.', "/"));
        let ours = ts.value_layout(common::ty(ts, &full)).unwrap().size;
        assert_eq!(
            Some(&ours),
            mono_says.get(&format!("size {s}")),
            "sizeof({s})"
        );
        checked += 1;
    }
    for (s, f) in OFFSETS {
        let ours = common::offset(ts, &format!("LoaderTests.{s}"), f);
        assert_eq!(
            Some(&ours),
            mono_says.get(&format!("offset {s}.{f}")),
            "offset of {s}.{f}"
        );
        checked += 1;
    }
    eprintln!("{checked} sizes/offsets agree with mono");
}
