//! Generated valid IL, compiled and run, against an evaluator: seeded random
//! expression trees over int32 and int64 (arguments, locals and stores,
//! constants, arithmetic, bitwise ops, masked shifts, unsigned division by an
//! odd divisor, comparisons, conversions, `dup`/`pop`, and if/else diamonds
//! that leave values on the stack across branches), lowered to IL the way a
//! compiler would, JIT-compiled and called with random arguments. The value the
//! machine code returns must be the one ECMA-335 Partition III defines,
//! computed here in Rust. Register allocation, spills at merge points and
//! constant folding all meet random shapes this way. `GENERATED_IL_ITERS` runs
//! longer.

mod common;
use common::*;
use jit::decoder::op;
use jit::host::JitType as T;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn value(&mut self) -> i64 {
        const EDGES: [i64; 8] = [
            0,
            1,
            -1,
            2,
            i32::MAX as i64,
            i32::MIN as i64,
            i64::MAX,
            i64::MIN,
        ];
        match self.below(4) {
            0 => EDGES[self.below(8) as usize],
            1 => self.below(16) as i64 - 8,
            _ => self.next() as i64,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ty {
    I4,
    I8,
}

#[derive(Clone, Copy, Debug)]
enum Bin {
    Add,
    Sub,
    Mul,
    And,
    Or,
    Xor,
    Shl,
    Shr,
    ShrUn,
    DivUnOdd,
    RemUnOdd,
}

#[derive(Clone, Copy, Debug)]
enum Cmp {
    Eq,
    Lt,
    Gt,
    LtUn,
    GtUn,
}

#[derive(Clone, Copy, Debug)]
enum Conv {
    I1,
    U1,
    I2,
    U2,
    I4,
    U4,
    I8,
}

/// An expression; every node leaves one value of its type on the stack.
#[derive(Debug)]
enum E {
    Arg(u16, Ty),
    Loc(u16, Ty),
    Const(i64, Ty),
    Bin(Bin, Box<E>, Box<E>, Ty),
    Neg(Box<E>, Ty),
    Not(Box<E>, Ty),
    Cmp(Cmp, Box<E>, Box<E>),
    Conv(Conv, Box<E>),
    /// `cond ? a : b` with a branch (values cross the merge on the stack).
    If(Box<E>, Box<E>, Box<E>, Ty),
    /// Store `v` into local `l`, then `body`.
    Store(u16, Box<E>, Box<E>, Ty),
    /// `dup` then `pop` around `e`, or `e; other; pop`.
    DupPop(Box<E>, Ty),
    PushPop(Box<E>, Box<E>, Ty),
}

/// Six arguments (all of SysV's integer registers) and eight locals: more
/// live values than the JIT has registers to pin them in.
const ARGS: [T; 6] = [T::I4, T::I4, T::I8, T::I8, T::I4, T::I8];
const LOCALS: [T; 8] = [T::I4, T::I4, T::I4, T::I4, T::I8, T::I8, T::I8, T::I8];

fn arg_slot(r: &mut Rng, ty: Ty) -> u16 {
    let i4 = [0, 1, 4];
    let i8 = [2, 3, 5];
    let k = r.below(3) as usize;
    if ty == Ty::I4 {
        i4[k]
    } else {
        i8[k]
    }
}

fn loc_slot(r: &mut Rng, ty: Ty) -> u16 {
    (r.below(4) + if ty == Ty::I8 { 4 } else { 0 }) as u16
}

fn ty_of(e: &E) -> Ty {
    match e {
        E::Arg(_, t) | E::Loc(_, t) | E::Const(_, t) => *t,
        E::Bin(_, _, _, t) | E::Neg(_, t) | E::Not(_, t) => *t,
        E::Cmp(..) => Ty::I4,
        E::Conv(c, _) => match c {
            Conv::I8 => Ty::I8,
            _ => Ty::I4,
        },
        E::If(_, _, _, t) | E::Store(_, _, _, t) | E::DupPop(_, t) | E::PushPop(_, _, t) => *t,
    }
}

fn gen(r: &mut Rng, ty: Ty, depth: u32) -> E {
    let leaf = depth == 0 || r.below(5) == 0;
    if leaf {
        return match r.below(3) {
            0 => E::Arg(arg_slot(r, ty), ty),
            1 => E::Loc(loc_slot(r, ty), ty),
            _ => {
                let v = r.value();
                E::Const(if ty == Ty::I4 { v as i32 as i64 } else { v }, ty)
            }
        };
    }
    let d = depth - 1;
    let other = |r: &mut Rng| if r.below(2) == 0 { Ty::I4 } else { Ty::I8 };
    match r.below(12) {
        0..=3 => {
            const OPS: [Bin; 11] = [
                Bin::Add,
                Bin::Sub,
                Bin::Mul,
                Bin::And,
                Bin::Or,
                Bin::Xor,
                Bin::Shl,
                Bin::Shr,
                Bin::ShrUn,
                Bin::DivUnOdd,
                Bin::RemUnOdd,
            ];
            let o = OPS[r.below(11) as usize];
            let rhs_ty = if matches!(o, Bin::Shl | Bin::Shr | Bin::ShrUn) {
                Ty::I4
            } else {
                ty
            };
            E::Bin(o, Box::new(gen(r, ty, d)), Box::new(gen(r, rhs_ty, d)), ty)
        }
        4 => E::Neg(Box::new(gen(r, ty, d)), ty),
        5 => E::Not(Box::new(gen(r, ty, d)), ty),
        6 if ty == Ty::I4 => {
            const CS: [Cmp; 5] = [Cmp::Eq, Cmp::Lt, Cmp::Gt, Cmp::LtUn, Cmp::GtUn];
            let t = other(r);
            E::Cmp(
                CS[r.below(5) as usize],
                Box::new(gen(r, t, d)),
                Box::new(gen(r, t, d)),
            )
        }
        7 => {
            const CI4: [Conv; 6] = [Conv::I1, Conv::U1, Conv::I2, Conv::U2, Conv::I4, Conv::U4];
            let c = if ty == Ty::I8 {
                Conv::I8
            } else {
                CI4[r.below(6) as usize]
            };
            let t = other(r);
            E::Conv(c, Box::new(gen(r, t, d)))
        }
        8 => E::If(
            Box::new(gen(r, Ty::I4, d)),
            Box::new(gen(r, ty, d)),
            Box::new(gen(r, ty, d)),
            ty,
        ),
        9 => {
            let t = other(r);
            let l = loc_slot(r, t);
            E::Store(l, Box::new(gen(r, t, d)), Box::new(gen(r, ty, d)), ty)
        }
        10 => E::DupPop(Box::new(gen(r, ty, d)), ty),
        _ => {
            let t = other(r);
            E::PushPop(Box::new(gen(r, ty, d)), Box::new(gen(r, t, d)), ty)
        }
    }
}

/// IL with long-form branches patched at the end.
struct Emit {
    il: Vec<u8>,
}

impl Emit {
    fn op(&mut self, o: u16) {
        if o >= 0xFE00 {
            self.il.push(0xFE);
        }
        self.il.push(o as u8);
    }
    fn i4(&mut self, v: i32) {
        self.op(op::LDC_I4);
        self.il.extend_from_slice(&v.to_le_bytes());
    }
    /// A branch whose target is patched later; returns the operand position.
    fn branch(&mut self, o: u16) -> usize {
        self.op(o);
        self.il.extend_from_slice(&[0; 4]);
        self.il.len() - 4
    }
    fn patch(&mut self, at: usize) {
        let rel = self.il.len() as i32 - (at as i32 + 4);
        self.il[at..at + 4].copy_from_slice(&rel.to_le_bytes());
    }
    fn expr(&mut self, e: &E) {
        match e {
            E::Arg(i, _) => {
                self.op(op::LDARG_S);
                self.il.push(*i as u8);
            }
            E::Loc(i, _) => {
                self.op(op::LDLOC_S);
                self.il.push(*i as u8);
            }
            E::Const(v, Ty::I4) => self.i4(*v as i32),
            E::Const(v, Ty::I8) => {
                self.op(op::LDC_I8);
                self.il.extend_from_slice(&v.to_le_bytes());
            }
            E::Bin(o, a, b, ty) => {
                self.expr(a);
                self.expr(b);
                match o {
                    Bin::Shl | Bin::Shr | Bin::ShrUn => {
                        self.i4(if *ty == Ty::I4 { 31 } else { 63 });
                        self.op(op::AND);
                    }
                    Bin::DivUnOdd | Bin::RemUnOdd => {
                        if *ty == Ty::I4 {
                            self.i4(1);
                        } else {
                            self.op(op::LDC_I8);
                            self.il.extend_from_slice(&1i64.to_le_bytes());
                        }
                        self.op(op::OR);
                    }
                    _ => {}
                }
                self.op(match o {
                    Bin::Add => op::ADD,
                    Bin::Sub => op::SUB,
                    Bin::Mul => op::MUL,
                    Bin::And => op::AND,
                    Bin::Or => op::OR,
                    Bin::Xor => op::XOR,
                    Bin::Shl => op::SHL,
                    Bin::Shr => op::SHR,
                    Bin::ShrUn => op::SHR_UN,
                    Bin::DivUnOdd => op::DIV_UN,
                    Bin::RemUnOdd => op::REM_UN,
                });
            }
            E::Neg(a, _) => {
                self.expr(a);
                self.op(op::NEG);
            }
            E::Not(a, _) => {
                self.expr(a);
                self.op(op::NOT);
            }
            E::Cmp(c, a, b) => {
                self.expr(a);
                self.expr(b);
                self.op(match c {
                    Cmp::Eq => op::CEQ,
                    Cmp::Lt => op::CLT,
                    Cmp::Gt => op::CGT,
                    Cmp::LtUn => op::CLT_UN,
                    Cmp::GtUn => op::CGT_UN,
                });
            }
            E::Conv(c, a) => {
                self.expr(a);
                self.op(match c {
                    Conv::I1 => op::CONV_I1,
                    Conv::U1 => op::CONV_U1,
                    Conv::I2 => op::CONV_I2,
                    Conv::U2 => op::CONV_U2,
                    Conv::I4 => op::CONV_I4,
                    Conv::U4 => op::CONV_U4,
                    Conv::I8 => op::CONV_I8,
                });
            }
            E::If(c, a, b, _) => {
                self.expr(c);
                let to_else = self.branch(op::BRFALSE);
                self.expr(a);
                let to_end = self.branch(op::BR);
                self.patch(to_else);
                self.expr(b);
                self.patch(to_end);
            }
            E::Store(l, v, body, _) => {
                self.expr(v);
                self.op(op::STLOC_S);
                self.il.push(*l as u8);
                self.expr(body);
            }
            E::DupPop(a, _) => {
                self.expr(a);
                self.op(op::DUP);
                self.op(op::POP);
            }
            E::PushPop(a, b, _) => {
                self.expr(a);
                self.expr(b);
                self.op(op::POP);
            }
        }
    }
}

/// ECMA-335 Partition III semantics, evaluated in IL order (stores happen
/// where the IL does them).
struct Eval {
    args: [i64; 6],
    locals: [i64; 8],
}

fn norm(v: i64, ty: Ty) -> i64 {
    if ty == Ty::I4 {
        v as i32 as i64
    } else {
        v
    }
}

impl Eval {
    fn eval(&mut self, e: &E) -> i64 {
        match e {
            E::Arg(i, t) => norm(self.args[*i as usize], *t),
            E::Loc(i, t) => norm(self.locals[*i as usize], *t),
            E::Const(v, t) => norm(*v, *t),
            E::Bin(o, a, b, ty) => {
                let x = self.eval(a);
                let y = self.eval(b);
                let w = if *ty == Ty::I4 { 32 } else { 64 };
                let mask = if w == 32 { 0xFFFF_FFFFu64 } else { u64::MAX };
                let ux = x as u64 & mask;
                let v = match o {
                    Bin::Add => x.wrapping_add(y),
                    Bin::Sub => x.wrapping_sub(y),
                    Bin::Mul => x.wrapping_mul(y),
                    Bin::And => x & y,
                    Bin::Or => x | y,
                    Bin::Xor => x ^ y,
                    Bin::Shl => x.wrapping_shl((y & (w - 1)) as u32),
                    Bin::Shr => x.wrapping_shr((y & (w - 1)) as u32),
                    Bin::ShrUn => (ux >> (y & (w - 1))) as i64,
                    Bin::DivUnOdd => (ux / ((y | 1) as u64 & mask)) as i64,
                    Bin::RemUnOdd => (ux % ((y | 1) as u64 & mask)) as i64,
                };
                norm(v, *ty)
            }
            E::Neg(a, t) => norm(self.eval(a).wrapping_neg(), *t),
            E::Not(a, t) => norm(!self.eval(a), *t),
            E::Cmp(c, a, b) => {
                let t = ty_of(a);
                let x = self.eval(a);
                let y = self.eval(b);
                let mask = if t == Ty::I4 {
                    0xFFFF_FFFFu64
                } else {
                    u64::MAX
                };
                let (ux, uy) = (x as u64 & mask, y as u64 & mask);
                (match c {
                    Cmp::Eq => x == y,
                    Cmp::Lt => x < y,
                    Cmp::Gt => x > y,
                    Cmp::LtUn => ux < uy,
                    Cmp::GtUn => ux > uy,
                }) as i64
            }
            E::Conv(c, a) => {
                let t = ty_of(a);
                let x = self.eval(a);
                match c {
                    Conv::I1 => x as i8 as i64,
                    Conv::U1 => x as u8 as i64,
                    Conv::I2 => x as i16 as i64,
                    Conv::U2 => x as u16 as i64,
                    // conv.u4 of a value then held as int32 on the stack.
                    Conv::I4 | Conv::U4 => x as i32 as i64,
                    // conv.i8 sign-extends an int32.
                    Conv::I8 => norm(x, t),
                }
            }
            E::If(c, a, b, _) => {
                if self.eval(c) as i32 != 0 {
                    self.eval(a)
                } else {
                    self.eval(b)
                }
            }
            E::Store(l, v, body, _) => {
                let x = self.eval(v);
                self.locals[*l as usize] = x;
                self.eval(body)
            }
            E::DupPop(a, _) => self.eval(a),
            E::PushPop(a, b, _) => {
                let x = self.eval(a);
                self.eval(b);
                x
            }
        }
    }
}

#[test]
fn generated_programs_compute_what_ecma_335_defines() {
    let iters: usize = std::env::var("GENERATED_IL_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1500);
    let mut r = Rng(0x1D_2026_1206_0E11);
    for i in 0..iters {
        let ret = if r.below(2) == 0 { Ty::I4 } else { Ty::I8 };
        let depth = 2 + r.below(6) as u32;
        let e = gen(&mut r, ret, depth);
        let mut em = Emit { il: Vec::new() };
        em.expr(&e);
        em.op(op::RET);
        let jt = if ret == Ty::I4 { T::I4 } else { T::I8 };
        let f = jit1(&ARGS, &LOCALS, jt, em.il.clone());
        for _ in 0..3 {
            let args = [
                r.value() as i32 as i64,
                r.value() as i32 as i64,
                r.value(),
                r.value(),
                r.value() as i32 as i64,
                r.value(),
            ];
            let want = Eval {
                args,
                locals: [0; 8],
            }
            .eval(&e);
            let got = norm(call_i(f, &args), ret);
            assert_eq!(
                got, want,
                "program {i} with args {args:?} returned {got:#x}, ECMA-335 says {want:#x}\nexpression: {e:?}\nIL: {:02x?}",
                em.il
            );
        }
    }
}
