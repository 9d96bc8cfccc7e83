//! Generated `System.Math`/`MathF` and `double`/`float` predicate calls (issue 12,
//! item 3): each method applies one function to arguments drawn from special
//! values (±0, ±1, halves, NaN, ±inf, subnormals, extremes) and random ranges.
//! The IEEE-exact functions (Sqrt, Floor, Ceiling, Truncate, Round, Abs, Min,
//! Max, the predicates) have their expected value computed here, and both mono
//! and our JIT must produce it bit for bit. The transcendental ones have no
//! single right answer (mono 6.8 uses the x87 `fsin`/`fcos` for Math.Sin/Cos,
//! computes most MathF functions in double precision, and the C library or its
//! own code for the rest; our JIT uses the `libm` crate, a port of musl's): there
//! our JIT is compared with mono and every difference is printed with its
//! distance in ulps.

use std::fmt::Write as _;

/// Number of generated methods (double and float together) and the seed.
pub const METHODS: usize = 1200;
const SEED: u64 = 0x4D41_5448_2026_0012;

type F1 = fn(f64) -> f64;
type F2 = fn(f64, f64) -> f64;

/// How a function's result is checked.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Exactness {
    /// IEEE-exact: the value computed here (`f`), bit for bit.
    Exact,
    /// Transcendental: compared with mono.
    Mono,
}

fn nan64(_: f64) -> f64 {
    f64::NAN
}
fn nan64_2(_: f64, _: f64) -> f64 {
    f64::NAN
}

/// (C# name, exact function (IEEE-exact ones), exactness). Float versions round
/// the argument to single first; all of these are exact in either precision.
const UNARY: &[(&str, F1, Exactness)] = &[
    ("Sqrt", f64::sqrt, Exactness::Exact),
    ("Floor", f64::floor, Exactness::Exact),
    ("Ceiling", f64::ceil, Exactness::Exact),
    ("Truncate", f64::trunc, Exactness::Exact),
    ("Round", f64::round_ties_even, Exactness::Exact),
    ("Abs", f64::abs, Exactness::Exact),
    ("Exp", nan64, Exactness::Mono),
    ("Log", nan64, Exactness::Mono),
    ("Log10", nan64, Exactness::Mono),
    ("Sin", nan64, Exactness::Mono),
    ("Cos", nan64, Exactness::Mono),
    ("Tan", nan64, Exactness::Mono),
    ("Asin", nan64, Exactness::Mono),
    ("Acos", nan64, Exactness::Mono),
    ("Atan", nan64, Exactness::Mono),
    ("Sinh", nan64, Exactness::Mono),
    ("Cosh", nan64, Exactness::Mono),
    ("Tanh", nan64, Exactness::Mono),
    ("Cbrt", nan64, Exactness::Mono),
    ("Asinh", nan64, Exactness::Mono),
    ("Acosh", nan64, Exactness::Mono),
    ("Atanh", nan64, Exactness::Mono),
];

const BINARY: &[(&str, F2, Exactness)] = &[
    ("Pow", nan64_2, Exactness::Mono),
    ("Atan2", nan64_2, Exactness::Mono),
];

fn max(a: f64, b: f64) -> f64 {
    if a > b || a.is_nan() {
        a
    } else {
        b
    }
}
fn min(a: f64, b: f64) -> f64 {
    if a < b || a.is_nan() {
        a
    } else {
        b
    }
}

/// One generated method: its name, expected line and exactness.
pub struct Case {
    pub method: String,
    /// The expected line (`= v`) for exact functions, else None.
    pub want: Option<String>,
    /// Returns float (else double or bool).
    pub single: bool,
}

/// C#'s `double.NaN` (`0.0 / 0.0` folded by the compiler on x86): sign bit set.
const NAN: f64 = f64::from_bits(0xFFF8_0000_0000_0000);

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
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn arg(&mut self) -> f64 {
        const SPECIAL: [f64; 22] = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.5,
            -0.5,
            1.5,
            2.5,
            -2.5,
            3.5,
            0.49999999999999994,
            NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e308,
            -1e308,
            5e-324,
            2.2250738585072014e-308,
            std::f64::consts::FRAC_PI_2,
            std::f64::consts::PI,
            1e22,
            4503599627370497.0,
        ];
        match self.below(6) {
            0 | 1 => SPECIAL[self.below(SPECIAL.len() as u64) as usize],
            2 => (self.unit() * 2.0 - 1.0) * 10.0,
            3 => (self.unit() * 2.0 - 1.0) * 1000.0,
            4 => self.unit() * 2.0 - 1.0,
            _ => {
                let v = f64::from_bits(self.next());
                if v.is_nan() {
                    0.75
                } else {
                    v
                }
            }
        }
    }
}

/// A C# double literal that reads back to exactly `v`.
fn dlit(v: f64) -> String {
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

/// A C# float literal that reads back to exactly `v`.
fn flit(v: f32) -> String {
    if v.is_nan() {
        "F(float.NaN)".into()
    } else if v == f32::INFINITY {
        "F(float.PositiveInfinity)".into()
    } else if v == f32::NEG_INFINITY {
        "F(float.NegativeInfinity)".into()
    } else if v == 0.0 && v.is_sign_negative() {
        "F(-0.0f)".into()
    } else {
        format!("F({v:e}f)")
    }
}

/// The C# source of all methods (class `Corpus.Random.Maths`) and the cases.
pub fn generate() -> (String, Vec<Case>) {
    let mut rng = Rng(SEED);
    let mut src = String::from(
        "// Generated by cil-compat/tests/jit_corpus/random_math.rs; do not edit.\n\
         using System;\n\
         namespace Corpus.Random\n{\n    public static class Maths\n    {\n\
         \x20       static double D(double x) { return x; }\n\
         \x20       static float F(float x) { return x; }\n",
    );
    let mut cases = Vec::new();
    let preds = [
        "IsNaN",
        "IsInfinity",
        "IsPositiveInfinity",
        "IsNegativeInfinity",
        "IsFinite",
        "IsNegative",
        "IsNormal",
        "IsSubnormal",
    ];
    for i in 0..METHODS {
        let single = rng.below(3) == 0;
        let (x, y) = (rng.arg(), rng.arg());
        let (xf, yf) = (x as f32, y as f32);
        let kind = rng.below(20);
        // (C# return type, expression, expected value text, exactness)
        let (ret, expr, want, ex) = if kind < 13 {
            let (n, f, ex) = UNARY[rng.below(UNARY.len() as u64) as usize];
            if single {
                let r = f(f64::from(xf)) as f32;
                (
                    "float",
                    format!("MathF.{n}({})", flit(xf)),
                    format!("{r}"),
                    ex,
                )
            } else {
                let r = f(x);
                (
                    "double",
                    format!("Math.{n}({})", dlit(x)),
                    format!("{r}"),
                    ex,
                )
            }
        } else if kind < 16 {
            let (n, f, ex) = BINARY[rng.below(BINARY.len() as u64) as usize];
            if single {
                let r = f(f64::from(xf), f64::from(yf)) as f32;
                let e = format!("MathF.{n}({}, {})", flit(xf), flit(yf));
                ("float", e, format!("{r}"), ex)
            } else {
                let r = f(x, y);
                let e = format!("Math.{n}({}, {})", dlit(x), dlit(y));
                ("double", e, format!("{r}"), ex)
            }
        } else if kind < 18 {
            let is_max = rng.below(2) == 0;
            let n = if is_max { "Max" } else { "Min" };
            // Equal zeros of opposite signs: the second argument wins.
            let (x, y) = if rng.below(4) == 0 {
                (0.0, -0.0)
            } else {
                (x, y)
            };
            if single {
                let (x, y) = (x as f32 as f64, y as f32 as f64);
                let r = if is_max { max(x, y) } else { min(x, y) };
                let r = r as f32;
                let e = format!("Math.{n}({}, {})", flit(x as f32), flit(y as f32));
                // 1/r tells the zeros apart.
                let e = format!("{e} == 0 ? 1 / {e} : {e}");
                let r = if r == 0.0 { 1.0 / r } else { r };
                ("float", e, format!("{r}"), Exactness::Exact)
            } else {
                let r = if is_max { max(x, y) } else { min(x, y) };
                let e = format!("Math.{n}({}, {})", dlit(x), dlit(y));
                let e = format!("{e} == 0 ? 1 / {e} : {e}");
                let r = if r == 0.0 { 1.0 / r } else { r };
                ("double", e, format!("{r}"), Exactness::Exact)
            }
        } else {
            let p = preds[rng.below(preds.len() as u64) as usize];
            let v = if single {
                let b = match p {
                    "IsNaN" => xf.is_nan(),
                    "IsInfinity" => xf.is_infinite(),
                    "IsPositiveInfinity" => xf == f32::INFINITY,
                    "IsNegativeInfinity" => xf == f32::NEG_INFINITY,
                    "IsFinite" => xf.is_finite(),
                    "IsNegative" => xf.is_sign_negative(),
                    "IsNormal" => xf.is_normal(),
                    _ => xf.is_subnormal(),
                };
                (format!("float.{p}({})", flit(xf)), b)
            } else {
                let b = match p {
                    "IsNaN" => x.is_nan(),
                    "IsInfinity" => x.is_infinite(),
                    "IsPositiveInfinity" => x == f64::INFINITY,
                    "IsNegativeInfinity" => x == f64::NEG_INFINITY,
                    "IsFinite" => x.is_finite(),
                    "IsNegative" => x.is_sign_negative(),
                    "IsNormal" => x.is_normal(),
                    _ => x.is_subnormal(),
                };
                (format!("double.{p}({})", dlit(x)), b)
            };
            ("bool", v.0, format!("{}", v.1 as u8), Exactness::Exact)
        };
        let name = format!("M{i:04}");
        let _ = writeln!(
            src,
            "        public static {ret} {name}() {{ return {expr}; }}"
        );
        cases.push(Case {
            method: format!("Corpus.Random.Maths::{name}"),
            want: (ex == Exactness::Exact).then(|| format!("= {want}")),
            single: ret == "float",
        });
    }
    src.push_str("    }\n}\n");
    (src, cases)
}

/// Units in the last place between two printed values of the same type (`= v`
/// lines), or None if either is not a number line.
pub fn ulps(a: &str, b: &str, single: bool) -> Option<u64> {
    let pa = a.strip_prefix("= ")?;
    let pb = b.strip_prefix("= ")?;
    let parse = |s: &str| -> Option<f64> {
        match s {
            "NaN" => Some(f64::NAN),
            "inf" => Some(f64::INFINITY),
            "-inf" => Some(f64::NEG_INFINITY),
            _ if single => s.parse::<f32>().ok().map(f64::from),
            _ => s.parse().ok(),
        }
    };
    let (x, y) = (parse(pa)?, parse(pb)?);
    if x.is_nan() || y.is_nan() {
        return (x.is_nan() && y.is_nan()).then_some(0);
    }
    // Map the floats onto a monotonic integer line.
    let key = |v: f64| -> i64 {
        if single {
            let b = (v as f32).to_bits() as i32 as i64;
            if b < 0 {
                i32::MIN as i64 - b
            } else {
                b
            }
        } else {
            let b = v.to_bits() as i64;
            if b < 0 {
                i64::MIN - b
            } else {
                b
            }
        }
    };
    Some(key(x).abs_diff(key(y)))
}
