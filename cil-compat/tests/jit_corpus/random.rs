//! Random integer expressions: a seeded generator writes C# methods whose results a
//! Rust evaluator of the same C# semantics (ECMA-335 III.3 wrapping, .ovf, shr.un,
//! conv) predicts; deep trees spill the evaluation stack across calls and branches.
//! Also random `double` expressions (`generate_f64`).

use std::fmt::Write as _;

/// Number of generated methods and the seed (fixed: failures reproduce).
pub const METHODS: usize = 1000;
const SEED: u64 = 0x5EED_C0DE_2026_0001;
const MAX_NODES: u32 = 64;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    I32,
    I64,
}

impl Ty {
    fn cs(self) -> &'static str {
        match self {
            Ty::I32 => "int",
            Ty::I64 => "long",
        }
    }
    fn wrap(self, v: i64) -> i64 {
        match self {
            Ty::I32 => v as i32 as i64,
            Ty::I64 => v,
        }
    }
}

#[derive(Clone, Copy)]
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
    Div,
    Rem,
    DivUn,
    RemUn,
    AddOvf,
    SubOvf,
    MulOvf,
}

#[derive(Clone, Copy)]
enum Cmp {
    Lt,
    Le,
    Eq,
    Ne,
    LtUn,
    GeUn,
}

#[derive(Clone, Copy)]
enum Narrow {
    I8,
    U8,
    I16,
    U16,
    U32,
}

enum Expr {
    Const(Ty, i64),
    Local(usize),
    Neg(Ty, Box<Expr>),
    Not(Ty, Box<Expr>),
    Widen(Box<Expr>),
    Truncate(Box<Expr>),
    Narrow(Ty, Narrow, Box<Expr>),
    Bin(Ty, Bin, Box<Expr>, Box<Expr>),
    /// (comparison, operand type, a, b, then, else)
    Cond(Cmp, Ty, Box<Expr>, Box<Expr>, Box<Expr>, Box<Expr>),
    Call8(Vec<Expr>),
}

/// The only runtime error the generated code can raise (divisors are guarded).
pub struct Overflow;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const LOCALS: [Ty; 4] = [Ty::I32, Ty::I64, Ty::I32, Ty::I64];

struct Gen {
    rng: Rng,
    nodes: u32,
    conds: u32,
}

impl Gen {
    fn constant(&mut self, ty: Ty) -> i64 {
        let special: [i64; 10] = [
            0,
            1,
            -1,
            2,
            i32::MIN as i64,
            i32::MAX as i64,
            i64::MIN,
            i64::MAX,
            0xFFFF_FFFF,
            0x8000_0000,
        ];
        let v = match self.rng.below(3) {
            0 => special[self.rng.below(10) as usize],
            1 => self.rng.below(200) as i64 - 100,
            _ => self.rng.next() as i64,
        };
        ty.wrap(v)
    }

    fn leaf(&mut self, ty: Ty) -> Expr {
        let locals: Vec<usize> = (0..4).filter(|&i| LOCALS[i] == ty).collect();
        if self.rng.below(2) == 0 {
            Expr::Local(locals[self.rng.below(locals.len() as u64) as usize])
        } else {
            Expr::Const(ty, self.constant(ty))
        }
    }

    fn expr(&mut self, ty: Ty, depth: u32) -> Expr {
        self.nodes += 1;
        if depth == 0 || self.nodes > MAX_NODES || self.rng.below(8) == 0 {
            return self.leaf(ty);
        }
        let d = depth - 1;
        let other = if ty == Ty::I32 { Ty::I64 } else { Ty::I32 };
        match self.rng.below(20) {
            0 => Expr::Neg(ty, Box::new(self.expr(ty, d))),
            1 => Expr::Not(ty, Box::new(self.expr(ty, d))),
            2 => match ty {
                Ty::I64 => Expr::Widen(Box::new(self.expr(other, d))),
                Ty::I32 => Expr::Truncate(Box::new(self.expr(other, d))),
            },
            3 => {
                let n = [
                    Narrow::I8,
                    Narrow::U8,
                    Narrow::I16,
                    Narrow::U16,
                    Narrow::U32,
                ][self.rng.below(if ty == Ty::I64 { 5 } else { 4 }) as usize];
                Expr::Narrow(ty, n, Box::new(self.expr(ty, d)))
            }
            4 if self.conds < 3 => {
                self.conds += 1;
                let cmp = [Cmp::Lt, Cmp::Le, Cmp::Eq, Cmp::Ne, Cmp::LtUn, Cmp::GeUn]
                    [self.rng.below(6) as usize];
                let cty = if self.rng.below(2) == 0 { ty } else { other };
                Expr::Cond(
                    cmp,
                    cty,
                    Box::new(self.expr(cty, d.min(2))),
                    Box::new(self.expr(cty, d.min(2))),
                    Box::new(self.expr(ty, d)),
                    Box::new(self.expr(ty, d)),
                )
            }
            5 if ty == Ty::I64 && depth >= 3 => {
                Expr::Call8((0..8).map(|_| self.expr(Ty::I64, d.min(2))).collect())
            }
            _ => {
                const OPS: [Bin; 16] = [
                    Bin::Add,
                    Bin::Sub,
                    Bin::Mul,
                    Bin::And,
                    Bin::Or,
                    Bin::Xor,
                    Bin::Shl,
                    Bin::Shr,
                    Bin::ShrUn,
                    Bin::Div,
                    Bin::Rem,
                    Bin::DivUn,
                    Bin::RemUn,
                    Bin::AddOvf,
                    Bin::SubOvf,
                    Bin::MulOvf,
                ];
                let op = OPS[self.rng.below(16) as usize];
                let rty = match op {
                    Bin::Shl | Bin::Shr | Bin::ShrUn => Ty::I32,
                    _ => ty,
                };
                Expr::Bin(
                    ty,
                    op,
                    Box::new(self.expr(ty, d)),
                    Box::new(self.expr(rty, d)),
                )
            }
        }
    }
}

fn narrow(n: Narrow, v: i64) -> i64 {
    match n {
        Narrow::I8 => v as i8 as i64,
        Narrow::U8 => v as u8 as i64,
        Narrow::I16 => v as i16 as i64,
        Narrow::U16 => v as u16 as i64,
        Narrow::U32 => v as u32 as i64,
    }
}

/// The divisor guard `G`: 0 and -1 become 7 (no divide-by-zero, no MinValue/-1).
fn guard(v: i64) -> i64 {
    if v == 0 || v == -1 {
        7
    } else {
        v
    }
}

fn unsigned(ty: Ty, v: i64) -> u64 {
    match ty {
        Ty::I32 => v as u32 as u64,
        Ty::I64 => v as u64,
    }
}

fn eval(e: &Expr, locals: &[i64; 4]) -> Result<i64, Overflow> {
    Ok(match e {
        Expr::Const(_, v) => *v,
        Expr::Local(i) => locals[*i],
        Expr::Neg(ty, a) => ty.wrap(eval(a, locals)?.wrapping_neg()),
        Expr::Not(ty, a) => ty.wrap(!eval(a, locals)?),
        Expr::Widen(a) => eval(a, locals)?,
        Expr::Truncate(a) => eval(a, locals)? as i32 as i64,
        Expr::Narrow(ty, n, a) => ty.wrap(narrow(*n, eval(a, locals)?)),
        Expr::Cond(cmp, cty, a, b, t, f) => {
            let (x, y) = (eval(a, locals)?, eval(b, locals)?);
            let (ux, uy) = (unsigned(*cty, x), unsigned(*cty, y));
            let c = match cmp {
                Cmp::Lt => x < y,
                Cmp::Le => x <= y,
                Cmp::Eq => x == y,
                Cmp::Ne => x != y,
                Cmp::LtUn => ux < uy,
                Cmp::GeUn => ux >= uy,
            };
            if c {
                eval(t, locals)?
            } else {
                eval(f, locals)?
            }
        }
        Expr::Call8(args) => {
            let mut r = 0i64;
            for (k, a) in args.iter().enumerate() {
                let v = eval(a, locals)?;
                r = if k % 2 == 0 {
                    r.wrapping_add(v)
                } else {
                    r.wrapping_sub(v)
                };
            }
            r
        }
        Expr::Bin(ty, op, a, b) => {
            let x = eval(a, locals)?;
            let y = eval(b, locals)?;
            let bits = if *ty == Ty::I32 { 32 } else { 64 };
            let sh = (y as u32) & (bits - 1);
            match (op, ty) {
                (Bin::Add, _) => ty.wrap(x.wrapping_add(y)),
                (Bin::Sub, _) => ty.wrap(x.wrapping_sub(y)),
                (Bin::Mul, _) => ty.wrap(x.wrapping_mul(y)),
                (Bin::And, _) => x & y,
                (Bin::Or, _) => x | y,
                (Bin::Xor, _) => x ^ y,
                (Bin::Shl, _) => ty.wrap(x.wrapping_shl(sh)),
                (Bin::Shr, _) => x >> sh,
                (Bin::ShrUn, _) => ty.wrap((unsigned(*ty, x) >> sh) as i64),
                (Bin::Div, _) => ty.wrap(x.wrapping_div(guard(y))),
                (Bin::Rem, _) => ty.wrap(x.wrapping_rem(guard(y))),
                (Bin::DivUn, _) => ty.wrap((unsigned(*ty, x) / unsigned(*ty, guard(y))) as i64),
                (Bin::RemUn, _) => ty.wrap((unsigned(*ty, x) % unsigned(*ty, guard(y))) as i64),
                (Bin::AddOvf, Ty::I32) => (x as i32).checked_add(y as i32).ok_or(Overflow)? as i64,
                (Bin::SubOvf, Ty::I32) => (x as i32).checked_sub(y as i32).ok_or(Overflow)? as i64,
                (Bin::MulOvf, Ty::I32) => (x as i32).checked_mul(y as i32).ok_or(Overflow)? as i64,
                (Bin::AddOvf, Ty::I64) => x.checked_add(y).ok_or(Overflow)?,
                (Bin::SubOvf, Ty::I64) => x.checked_sub(y).ok_or(Overflow)?,
                (Bin::MulOvf, Ty::I64) => x.checked_mul(y).ok_or(Overflow)?,
            }
        }
    })
}

fn lit(ty: Ty, v: i64) -> String {
    match (ty, v) {
        (Ty::I32, v) if v == i32::MIN as i64 => "I(int.MinValue)".into(),
        (Ty::I64, i64::MIN) => "L(long.MinValue)".into(),
        (Ty::I32, v) => format!("I({v})"),
        (Ty::I64, v) => format!("L({v})"),
    }
}

fn cs(e: &Expr) -> String {
    const NAMES: [&str; 4] = ["a", "b", "c", "d"];
    match e {
        Expr::Const(ty, v) => lit(*ty, *v),
        Expr::Local(i) => NAMES[*i].into(),
        Expr::Neg(_, a) => format!("(-{})", cs(a)),
        Expr::Not(_, a) => format!("(~{})", cs(a)),
        Expr::Widen(a) => format!("((long){})", cs(a)),
        Expr::Truncate(a) => format!("((int){})", cs(a)),
        Expr::Narrow(ty, n, a) => {
            let t = match n {
                Narrow::I8 => "sbyte",
                Narrow::U8 => "byte",
                Narrow::I16 => "short",
                Narrow::U16 => "ushort",
                Narrow::U32 => "uint",
            };
            format!("(({})({})({}))", ty.cs(), t, cs(a))
        }
        Expr::Cond(cmp, cty, a, b, t, f) => {
            let un = if *cty == Ty::I32 { "uint" } else { "ulong" };
            let c = match cmp {
                Cmp::Lt => format!("{} < {}", cs(a), cs(b)),
                Cmp::Le => format!("{} <= {}", cs(a), cs(b)),
                Cmp::Eq => format!("{} == {}", cs(a), cs(b)),
                Cmp::Ne => format!("{} != {}", cs(a), cs(b)),
                Cmp::LtUn => format!("({un}){} < ({un}){}", cs(a), cs(b)),
                Cmp::GeUn => format!("({un}){} >= ({un}){}", cs(a), cs(b)),
            };
            format!("({c} ? {} : {})", cs(t), cs(f))
        }
        Expr::Call8(args) => {
            let a: Vec<String> = args.iter().map(cs).collect();
            format!("M8({})", a.join(", "))
        }
        Expr::Bin(ty, op, a, b) => {
            let (x, y) = (cs(a), cs(b));
            let (t, un) = (ty.cs(), if *ty == Ty::I32 { "uint" } else { "ulong" });
            match op {
                Bin::Add => format!("({x} + {y})"),
                Bin::Sub => format!("({x} - {y})"),
                Bin::Mul => format!("({x} * {y})"),
                Bin::And => format!("({x} & {y})"),
                Bin::Or => format!("({x} | {y})"),
                Bin::Xor => format!("({x} ^ {y})"),
                Bin::Shl => format!("({x} << {y})"),
                Bin::Shr => format!("({x} >> {y})"),
                Bin::ShrUn => format!("(({t})(({un}){x} >> {y}))"),
                Bin::Div => format!("({x} / G({y}))"),
                Bin::Rem => format!("({x} % G({y}))"),
                Bin::DivUn => format!("(({t})(({un}){x} / ({un})G({y})))"),
                Bin::RemUn => format!("(({t})(({un}){x} % ({un})G({y})))"),
                Bin::AddOvf => format!("checked(unchecked({x}) + unchecked({y}))"),
                Bin::SubOvf => format!("checked(unchecked({x}) - unchecked({y}))"),
                Bin::MulOvf => format!("checked(unchecked({x}) * unchecked({y}))"),
            }
        }
    }
}

/// The C# source of all methods and each method's expected line value.
pub fn generate() -> (String, Vec<(String, String)>) {
    let mut g = Gen {
        rng: Rng(SEED),
        nodes: 0,
        conds: 0,
    };
    let mut src = String::from(
        "// Generated by cil-compat/tests/jit_corpus.rs (random module); do not edit.\n\
         namespace Corpus.Random\n{\n    public static class Exprs\n    {\n\
         \x20       static int I(int x) { return x; }\n\
         \x20       static long L(long x) { return x; }\n\
         \x20       static int G(int x) { return x == 0 || x == -1 ? 7 : x; }\n\
         \x20       static long G(long x) { return x == 0 || x == -1 ? 7 : x; }\n\
         \x20       static long M8(long a, long b, long c, long d, long e, long f, long g, long h)\n\
         \x20       { return a - b + c - d + e - f + g - h; }\n",
    );
    let mut expect = Vec::new();
    for i in 0..METHODS {
        g.nodes = 0;
        g.conds = 0;
        let ty = if g.rng.below(2) == 0 {
            Ty::I32
        } else {
            Ty::I64
        };
        let locals = [
            g.constant(LOCALS[0]),
            g.constant(LOCALS[1]),
            g.constant(LOCALS[2]),
            g.constant(LOCALS[3]),
        ];
        let depth = 3 + g.rng.below(8) as u32;
        let e = g.expr(ty, depth);
        let name = format!("R{i:03}");
        let _ = write!(
            src,
            "        public static {} {name}()\n        {{\n            \
             int a = {}; long b = {}; int c = {}; long d = {};\n            \
             unchecked {{ return {}; }}\n        }}\n",
            ty.cs(),
            lit(Ty::I32, locals[0]),
            lit(Ty::I64, locals[1]),
            lit(Ty::I32, locals[2]),
            lit(Ty::I64, locals[3]),
            cs(&e)
        );
        let want = match eval(&e, &locals) {
            Ok(v) => format!("= {v}"),
            Err(Overflow) => "! overflow".to_string(),
        };
        expect.push((format!("Corpus.Random.Exprs::{name}"), want));
    }
    src.push_str("    }\n}\n");
    (src, expect)
}

/// float64 expressions: IEEE-754 double arithmetic is exactly specified, so a
/// Rust evaluator predicts every bit (printed with the shortest round-trip form).
pub const F64_METHODS: usize = 300;

enum FExpr {
    Const(f64),
    Local(usize),
    Neg(Box<FExpr>),
    Bin(u8, Box<FExpr>, Box<FExpr>),
    /// (comparison 0..6, a, b, then, else)
    Cond(u8, Box<FExpr>, Box<FExpr>, Box<FExpr>, Box<FExpr>),
    FromInt(i32),
    FromLong(i64),
    ViaFloat(Box<FExpr>),
}

impl Gen {
    fn fconst(&mut self) -> f64 {
        const SPECIAL: [f64; 14] = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.1,
            0.5,
            3.0,
            1e308,
            -1e-308,
            5e-324,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            16777217.0,
        ];
        match self.rng.below(3) {
            0 => SPECIAL[self.rng.below(14) as usize],
            1 => (self.rng.below(2000) as f64 - 1000.0) / 8.0,
            _ => {
                let v = f64::from_bits(self.rng.next());
                if v.is_nan() {
                    1.25
                } else {
                    v
                }
            }
        }
    }

    fn fexpr(&mut self, depth: u32) -> FExpr {
        self.nodes += 1;
        if depth == 0 || self.nodes > MAX_NODES || self.rng.below(7) == 0 {
            return match self.rng.below(3) {
                0 => FExpr::Local(self.rng.below(3) as usize),
                _ => FExpr::Const(self.fconst()),
            };
        }
        let d = depth - 1;
        match self.rng.below(12) {
            0 => FExpr::Neg(Box::new(self.fexpr(d))),
            1 => FExpr::FromInt(self.constant(Ty::I32) as i32),
            2 => FExpr::FromLong(self.constant(Ty::I64)),
            3 => FExpr::ViaFloat(Box::new(self.fexpr(d))),
            4 if self.conds < 3 => {
                self.conds += 1;
                FExpr::Cond(
                    self.rng.below(7) as u8,
                    Box::new(self.fexpr(d.min(2))),
                    Box::new(self.fexpr(d.min(2))),
                    Box::new(self.fexpr(d)),
                    Box::new(self.fexpr(d)),
                )
            }
            _ => FExpr::Bin(
                self.rng.below(5) as u8,
                Box::new(self.fexpr(d)),
                Box::new(self.fexpr(d)),
            ),
        }
    }
}

// `!(x < y)` is the point: it differs from `x >= y` exactly when NaN is involved.
#[allow(clippy::neg_cmp_op_on_partial_ord)]
fn feval(e: &FExpr, locals: &[f64; 3]) -> f64 {
    match e {
        FExpr::Const(v) => *v,
        FExpr::Local(i) => locals[*i],
        FExpr::Neg(a) => -feval(a, locals),
        FExpr::FromInt(v) => f64::from(*v),
        FExpr::FromLong(v) => *v as f64,
        FExpr::ViaFloat(a) => feval(a, locals) as f32 as f64,
        FExpr::Bin(op, a, b) => {
            let (x, y) = (feval(a, locals), feval(b, locals));
            match op {
                0 => x + y,
                1 => x - y,
                2 => x * y,
                3 => x / y,
                _ => x % y,
            }
        }
        FExpr::Cond(c, a, b, t, f) => {
            let (x, y) = (feval(a, locals), feval(b, locals));
            let take = match c {
                0 => x < y,
                1 => x <= y,
                2 => x == y,
                3 => x != y,
                4 => !(x < y),
                5 => !(x >= y),
                _ => x > y,
            };
            if take {
                feval(t, locals)
            } else {
                feval(f, locals)
            }
        }
    }
}

/// A C# double literal that reads back to exactly `v`.
fn flit(v: f64) -> String {
    if v.is_nan() {
        "D(double.NaN)".into()
    } else if v == f64::INFINITY {
        "D(double.PositiveInfinity)".into()
    } else if v == f64::NEG_INFINITY {
        "D(double.NegativeInfinity)".into()
    } else if v == 0.0 && v.is_sign_negative() {
        "D(-0.0)".into()
    } else {
        format!("D({v:e})")
    }
}

fn fcs(e: &FExpr) -> String {
    const NAMES: [&str; 3] = ["x", "y", "z"];
    match e {
        FExpr::Const(v) => flit(*v),
        FExpr::Local(i) => NAMES[*i].into(),
        FExpr::Neg(a) => format!("(-{})", fcs(a)),
        FExpr::FromInt(v) if *v == i32::MIN => "((double)I(int.MinValue))".into(),
        FExpr::FromInt(v) => format!("((double)I({v}))"),
        FExpr::FromLong(v) if *v == i64::MIN => "((double)L(long.MinValue))".into(),
        FExpr::FromLong(v) => format!("((double)L({v}))"),
        FExpr::ViaFloat(a) => format!("((double)(float)({}))", fcs(a)),
        FExpr::Bin(op, a, b) => {
            let o = ["+", "-", "*", "/", "%"][*op as usize];
            format!("({} {o} {})", fcs(a), fcs(b))
        }
        FExpr::Cond(c, a, b, t, f) => {
            let (x, y) = (fcs(a), fcs(b));
            let cond = match c {
                0 => format!("{x} < {y}"),
                1 => format!("{x} <= {y}"),
                2 => format!("{x} == {y}"),
                3 => format!("{x} != {y}"),
                4 => format!("!({x} < {y})"),
                5 => format!("!({x} >= {y})"),
                _ => format!("{x} > {y}"),
            };
            format!("({cond} ? {} : {})", fcs(t), fcs(f))
        }
    }
}

/// The C# source of the float64 methods and their expected lines.
pub fn generate_f64() -> (String, Vec<(String, String)>) {
    let mut g = Gen {
        rng: Rng(SEED ^ 0xF10A7),
        nodes: 0,
        conds: 0,
    };
    let mut src = String::from(
        "// Generated by cil-compat/tests/jit_corpus.rs (random module); do not edit.\n\
         namespace Corpus.Random\n{\n    public static class Doubles\n    {\n\
         \x20       static int I(int x) { return x; }\n\
         \x20       static long L(long x) { return x; }\n\
         \x20       static double D(double x) { return x; }\n",
    );
    let mut expect = Vec::new();
    for i in 0..F64_METHODS {
        g.nodes = 0;
        g.conds = 0;
        let locals = [g.fconst(), g.fconst(), g.fconst()];
        let depth = 2 + g.rng.below(7) as u32;
        let e = g.fexpr(depth);
        let name = format!("F{i:03}");
        let _ = write!(
            src,
            "        public static double {name}()\n        {{\n            \
             double x = {}; double y = {}; double z = {};\n            \
             return {};\n        }}\n",
            flit(locals[0]),
            flit(locals[1]),
            flit(locals[2]),
            fcs(&e)
        );
        expect.push((
            format!("Corpus.Random.Doubles::{name}"),
            format!("= {}", feval(&e, &locals)),
        ));
    }
    src.push_str("    }\n}\n");
    (src, expect)
}
