//! Compiled frames reserve every slot their code addresses. The JIT sizes a
//! frame down to the lowest slot it saw used (`MacroAssembler::frame_low`,
//! with the save slots and the slots the stack maps name); a slot it missed
//! would lie below the stack pointer, where a callee or an interrupt
//! overwrites it. Checked here independently of that bookkeeping, by
//! decoding the installed code of the whole JIT corpus and corlib.
#![cfg(feature = "std")]

use cil_compat::exec::cli;
use cil_compat::toolchain;
use cil_compat::types::TypeSystem;

#[test]
fn every_frame_covers_the_slots_its_code_addresses() {
    let root = toolchain::workspace_root();
    let corlib = toolchain::corlib().expect("corlib");
    let corpus_src: Vec<_> = toolchain::cs_files(&root.join("jit/tests/corpus")).expect("corpus");
    let corpus = toolchain::build_library("jit_corpus_all", &corpus_src, &[]).expect("corpus dll");
    let mut ts = TypeSystem::new();
    let dirs = vec![corlib.parent().unwrap().to_path_buf()];
    let c = cil_compat::host::load_with_deps(&mut ts, &corpus, &dirs).expect("load corpus");
    let lib = ts.corlib().expect("corlib loaded");
    let mut e = cli::engine(ts);
    let fig = cli::compile_all(&mut e, &[lib, c]);
    assert!(fig.methods > 1000, "{} methods", fig.methods);
    let (mut checked, mut below, mut pushed_only) = (0u64, 0u64, 0u64);
    for a in [lib, c] {
        for &t in e.ts.types_of(a) {
            for &m in &e.ts.info(t).methods {
                let Some(code) = e.compiled(m) else { continue };
                // SAFETY: installed code, `len` bytes at `addr`, readable and
                // not written again while the engine lives.
                let bytes = unsafe {
                    std::slice::from_raw_parts(code.addr as *const u8, code.len as usize)
                };
                let name = e.method_name(m);
                let low = jit::disasm::lowest_frame_offset(bytes)
                    .unwrap_or_else(|why| panic!("{name}: {why}"));
                assert!(
                    -(low as i64) <= code.frame_size as i64,
                    "{name} addresses [rbp{low}] below its {}-byte frame",
                    code.frame_size
                );
                checked += 1;
                below += (low < 0) as u64;
                // push rbp; mov rbp, rsp; then pushes: no `sub rsp`.
                let sub_rsp = bytes
                    .windows(3)
                    .take(16)
                    .any(|w| w == [0x48, 0x83, 0xEC] || w == [0x48, 0x81, 0xEC]);
                pushed_only += !sub_rsp as u64;
            }
        }
    }
    assert_eq!(checked, fig.methods as u64);
    // The check has something to check: most methods address their frame.
    assert!(
        below * 2 > checked,
        "{below} of {checked} address slots below rbp"
    );
    println!("{checked} frames checked: {below} address slots below rbp, {pushed_only} without `sub rsp`");
}
