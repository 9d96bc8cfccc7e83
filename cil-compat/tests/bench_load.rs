//! Prints the `bench load` figures (µs per assembly, heap bytes); the real entry
//! point is `cil_compat::bench::bench_load`, called by `cargo xtask bench load`.

mod common;

#[test]
fn bench_load_reports_every_assembly() {
    let paths = vec![common::corlib(), common::layouts(), common::dependent()];
    let r = cil_compat::bench::bench_load(&paths, 5).unwrap();
    let names: Vec<_> = r.assemblies.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["mscorlib", "LoaderLayouts", "LoaderDependent"]);
    for a in &r.assemblies {
        eprintln!(
            "load {:<16} {:>7} bytes {:>4} types {:>9.1} µs",
            a.name, a.file_bytes, a.types, a.micros
        );
    }
    eprintln!(
        "heap: {} bytes allocated, {} reserved; loader ~{} bytes",
        r.heap_bytes_allocated, r.heap_bytes_reserved, r.loader_bytes_estimate
    );
}
