//! `System.Math`/`System.MathF` internal calls, computed with the `libm` crate (a
//! port of musl's libm; the kernel is `no_std`). Floats cross as their bit
//! patterns in integer registers: the kernel's Rust code is built soft-float,
//! whose C ABI passes `f64` in general-purpose registers, not in the SSE ones JIT
//! code uses, so an `extern "C" fn(f64)` would read garbage there.
//!
//! Operation numbers are shared with `cil-compat/managed/corlib/Math.cs`.

/// `Math.Unary(op, bits)`: a double function of one argument.
extern "C" fn unary(op: i32, bits: u64) -> u64 {
    let x = f64::from_bits(bits);
    let r = match op {
        0 => libm::sqrt(x),
        1 => libm::floor(x),
        2 => libm::ceil(x),
        3 => libm::trunc(x),
        // Round half to even (mono's Math.Round(double); rint in the default mode).
        4 => libm::rint(x),
        5 => libm::fabs(x),
        6 => libm::exp(x),
        7 => libm::log(x),
        8 => libm::log10(x),
        9 => libm::sin(x),
        10 => libm::cos(x),
        11 => libm::tan(x),
        12 => libm::asin(x),
        13 => libm::acos(x),
        14 => libm::atan(x),
        15 => libm::sinh(x),
        16 => libm::cosh(x),
        17 => libm::tanh(x),
        18 => libm::cbrt(x),
        19 => libm::log2(x),
        20 => libm::asinh(x),
        21 => libm::acosh(x),
        22 => libm::atanh(x),
        _ => f64::NAN,
    };
    r.to_bits()
}

/// `Math.Binary(op, a, b)`: a double function of two arguments.
extern "C" fn binary(op: i32, a: u64, b: u64) -> u64 {
    let (x, y) = (f64::from_bits(a), f64::from_bits(b));
    let r = match op {
        0 => libm::pow(x, y),
        1 => libm::atan2(x, y),
        _ => f64::NAN,
    };
    r.to_bits()
}

/// `MathF.Unary(op, bits)`: the single-precision twins (same numbering). Like
/// mono 6.8, the transcendental ones are the double functions rounded to single
/// (mono's MathF results match `(float)Math.F(x)`, not glibc's `sinf` and
/// friends); the exact ones are the same either way.
extern "C" fn unary_f(op: i32, bits: u32) -> u32 {
    let x = f64::from(f32::from_bits(bits));
    (f64::from_bits(unary(op, x.to_bits())) as f32).to_bits()
}

/// `MathF.Binary(op, a, b)`.
extern "C" fn binary_f(op: i32, a: u32, b: u32) -> u32 {
    let x = f64::from(f32::from_bits(a));
    let y = f64::from(f32::from_bits(b));
    (f64::from_bits(binary(op, x.to_bits(), y.to_bits())) as f32).to_bits()
}

/// `(name, address)` of every internal call in this file.
pub(crate) fn natives() -> [(&'static str, u64); 4] {
    [
        ("System.Math::Unary", unary as *const () as u64),
        ("System.Math::Binary", binary as *const () as u64),
        ("System.MathF::Unary", unary_f as *const () as u64),
        ("System.MathF::Binary", binary_f as *const () as u64),
    ]
}
