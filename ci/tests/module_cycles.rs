//! No new module cycles: every crate's module graph (see `module_graph`) is
//! read from source and its cycles compared with [`KNOWN`], the cycles
//! still to be removed. A cycle not listed fails the test with the edges that
//! make it (file, line, path); a listed cycle that no longer exists fails it
//! too, so the list only shrinks: delete its entry.

mod module_graph;

use std::path::{Path, PathBuf};

use module_graph::CrateGraph;

/// The crates checked: name and root file, relative to the workspace.
const CRATES: &[(&str, &str)] = &[
    ("ddk", "ddk/src/lib.rs"),
    ("kernel", "kernel/src/main.rs"),
    ("kernel-logic", "kernel/logic/src/lib.rs"),
    ("jit", "jit/src/lib.rs"),
    ("cil-compat", "cil-compat/src/lib.rs"),
    ("disks", "disks/src/lib.rs"),
    ("virtio-blk", "native-drivers/virtio-blk/src/lib.rs"),
    ("xtask", "ci/src/main.rs"),
];

/// The cycles that remain (crate, members as module paths, sorted). Each is
/// a strongly connected component of one parent module's children; the
/// comment says what ties it.
const KNOWN: &[(&str, &[&str])] = &[
    // None left: every crate is free of module cycles.
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

#[test]
fn no_module_cycles_beyond_the_known_ones() {
    let ws = workspace();
    let mut found = Vec::new();
    for (name, root) in CRATES {
        let g = CrateGraph::load(name, &ws, &ws.join(root)).unwrap_or_else(|e| panic!("{e}"));
        found.extend(g.cycles());
    }
    let mut problems = Vec::new();
    for c in &found {
        let members = c.member_paths();
        let known = KNOWN.iter().any(|(k, m)| {
            *k == c.krate && m.iter().copied().eq(members.iter().map(|s| s.as_str()))
        });
        if !known {
            problems.push(format!("new module cycle (not in KNOWN):\n{}", c.report()));
        }
    }
    for (k, m) in KNOWN {
        let exists = found.iter().any(|c| {
            c.krate == *k
                && m.iter()
                    .copied()
                    .eq(c.member_paths().iter().map(|s| s.as_str()))
        });
        if !exists {
            problems.push(format!(
                "{k}: the known cycle between {} is gone (or changed): remove it from KNOWN",
                m.join(", ")
            ));
        }
    }
    if std::env::var_os("MODULE_CYCLES_SHOW").is_some() {
        for c in &found {
            println!("{}", c.report());
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The checker itself, on a crate written for it: a cycle made of a
/// `use crate::…` edge and a `super::…` edge inside a directory module is
/// found, with the file, line and path of each edge; a child using its
/// parent is not a cycle.
#[test]
fn the_checker_finds_a_planted_cycle() {
    let dir = std::env::temp_dir().join(format!("module-cycles-{}", std::process::id()));
    let src = dir.join("src");
    std::fs::create_dir_all(src.join("a")).unwrap();
    std::fs::write(
        src.join("lib.rs"),
        "mod a;\nmod b;\npub use a::X;\nfn f() { crate::b::g(); }\n",
    )
    .unwrap();
    std::fs::write(
        src.join("a/mod.rs"),
        "pub struct X;\nmod p;\nmod q;\nfn h() { let _ = crate::X; }\n",
    )
    .unwrap();
    std::fs::write(src.join("a/p.rs"), "use super::q::Q;\npub struct P;\n").unwrap();
    std::fs::write(
        src.join("a/q.rs"),
        "pub struct Q;\nfn k() { let _ = super::p::P; }\n",
    )
    .unwrap();
    std::fs::write(src.join("b.rs"), "pub fn g() { let _ = crate::X; }\n").unwrap();
    let g = CrateGraph::load("t", &dir, &src.join("lib.rs")).unwrap();
    let cycles = g.cycles();
    std::fs::remove_dir_all(&dir).unwrap();
    let reports: Vec<String> = cycles.iter().map(|c| c.report()).collect();
    assert_eq!(cycles.len(), 1, "{reports:?}");
    assert_eq!(cycles[0].member_paths(), ["a::p", "a::q"]);
    let r = &reports[0];
    assert!(
        r.contains("a::p -> a::q   src/a/p.rs:1  use super::q::Q"),
        "{r}"
    );
    assert!(
        r.contains("a::q -> a::p   src/a/q.rs:2  super::p::P"),
        "{r}"
    );
    // `b` reaches `a` through the root's re-export: one way only, no cycle.
    assert!(g.edges().iter().any(|e| e.from == "b" && e.to == "a"));
}
