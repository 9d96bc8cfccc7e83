//! Compile-throughput figures for the JIT alone (fake host, no type system):
//! `cargo test -p jit --release --test compile_speed -- --ignored --nocapture`.
mod common;
use common::*;
use jit::decoder::op;
use jit::host::JitType as T;
use jit::{compile, MethodInput};
use std::time::Instant;

#[test]
#[ignore = "benchmark: prints figures"]
fn compile_throughput() {
    let mut h = FakeHost::new();
    h.def(
        1,
        def("T::fib", &[T::I4], &[], T::I4, Il::new().ret().build()),
    );
    let fib = Il::new()
        .ldarg(0)
        .i4(2)
        .br(op::BGE, "rec")
        .ldarg(0)
        .ret()
        .label("rec")
        .ldarg(0)
        .i4(1)
        .op(op::SUB)
        .tok(op::CALL, 1)
        .ldarg(0)
        .i4(2)
        .op(op::SUB)
        .tok(op::CALL, 1)
        .op(op::ADD)
        .ret()
        .build();
    let mut big = Il::new()
        .i4(0)
        .stloc(0)
        .i4(0)
        .stloc(1)
        .br(op::BR, "c")
        .label("b");
    for k in 0..20 {
        big = big.ldloc(0).ldloc(1).i4(k).op(op::MUL).op(op::XOR).stloc(0);
    }
    let big = big
        .ldloc(1)
        .i4(1)
        .op(op::ADD)
        .stloc(1)
        .label("c")
        .ldloc(1)
        .ldarg(0)
        .br(op::BLT, "b")
        .ldloc(0)
        .ret()
        .build();
    for (name, il, locals) in [("fib", fib, vec![]), ("loop20", big, vec![T::I4, T::I4])] {
        let m = MethodInput {
            name: "T::m",
            handle: 1,
            il: &il,
            args: vec![T::I4],
            locals,
            ret: T::I4,
            init_locals: true,
            eh: vec![],
        };
        let n = 2000;
        let t0 = Instant::now();
        let mut bytes = 0;
        for _ in 0..n {
            bytes = compile(&mut h, &m).unwrap().code.len();
        }
        let us = t0.elapsed().as_secs_f64() * 1e6 / n as f64;
        println!(
            "{name}: {} IL bytes -> {bytes} code bytes: {us:.1} us/method, {:.1} MB/s of IL",
            il.len(),
            il.len() as f64 / us
        );
    }
}
