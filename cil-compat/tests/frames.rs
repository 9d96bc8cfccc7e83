//! Compiled frames reserve every slot their code addresses. The JIT sizes a
//! frame down to the lowest slot it saw used (`MacroAssembler::frame_low`,
//! with the save slots and the slots the stack maps name); a slot it missed
//! would lie below the stack pointer, where a callee or an interrupt
//! overwrites it. Checked here independently of that bookkeeping, by
//! decoding the installed code of the whole JIT corpus with corlib, and of
//! the managed DDK and virtio-blk driver as the hosting layer binds them.
#![cfg(feature = "std")]

mod common;

use cil_compat::exec::{cli, Engine};
use cil_compat::toolchain;
use cil_compat::types::{AsmId, TypeSystem};

/// Compiles every non-generic method of `asms` and checks each frame;
/// returns (methods, methods that address slots below rbp, methods whose
/// prologue has no `sub rsp`).
fn check_frames(e: &mut Engine, asms: &[AsmId]) -> (u64, u64, u64) {
    let fig = cli::compile_all(e, asms);
    assert_eq!(fig.failed, 0, "methods the JIT refused");
    let (mut checked, mut below, mut pushed_only) = (0u64, 0u64, 0u64);
    for &a in asms {
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
                // push rbp; mov rbp, rsp; then pushes, and no `sub rsp`.
                let sub_rsp = bytes
                    .windows(3)
                    .take(16)
                    .any(|w| w == [0x48, 0x83, 0xEC] || w == [0x48, 0x81, 0xEC]);
                pushed_only += !sub_rsp as u64;
            }
        }
    }
    assert!(
        checked >= fig.methods as u64,
        "{checked} of {} compiled methods found",
        fig.methods
    );
    // The check has something to check: most methods address their frame.
    assert!(
        below * 2 > checked,
        "{below} of {checked} address slots below rbp"
    );
    (checked, below, pushed_only)
}

#[test]
fn every_frame_covers_the_slots_its_code_addresses() {
    let root = toolchain::workspace_root();
    let corlib = toolchain::corlib().expect("corlib");
    let corpus_src: Vec<_> = toolchain::cs_files(&root.join("jit/tests/corpus")).expect("corpus");
    let corpus = toolchain::build_library("jit_corpus_all", &corpus_src, &[]).expect("corpus dll");
    {
        let mut ts = TypeSystem::new();
        let dirs = vec![corlib.parent().unwrap().to_path_buf()];
        let c = cil_compat::host::load_with_deps(&mut ts, &corpus, &dirs).expect("load corpus");
        let lib = ts.corlib().expect("corlib loaded");
        let mut e = cli::engine(ts);
        let (n, below, pushed) = check_frames(&mut e, &[lib, c]);
        println!("corpus and corlib: {n} frames checked, {below} address slots below rbp, {pushed} without `sub rsp`");
    }
    // One engine may be active per process: the corpus's is gone.
    let rt = common::hosted_runtime();
    let mut r = rt.borrow_mut();
    let asms: Vec<AsmId> = r.engine.ts.assemblies().collect();
    assert!(asms.len() >= 3, "corlib, the DDK and the driver");
    let (n, below, pushed) = check_frames(&mut r.engine, &asms);
    println!("hosted DDK and driver: {n} frames checked, {below} address slots below rbp, {pushed} without `sub rsp`");
}
