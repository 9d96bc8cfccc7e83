//! C# spellings of CLI types for error messages: `Ns.Box<T>`, `Ns.Box<int>`,
//! "generic class", instead of the metadata's `Ns.Box`1<System.Int32>` and
//! `!0` (ECMA-335 II.22.20 gives the generic parameters' names).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::metadata::{GenericParamRow, TableId};
use crate::types::{MethodId, TypeId, TypeKind, TypeSystem};

/// The C# keyword for a corlib type, if it has one.
fn keyword(full: &str) -> Option<&'static str> {
    Some(match full {
        "System.Boolean" => "bool",
        "System.Char" => "char",
        "System.SByte" => "sbyte",
        "System.Byte" => "byte",
        "System.Int16" => "short",
        "System.UInt16" => "ushort",
        "System.Int32" => "int",
        "System.UInt32" => "uint",
        "System.Int64" => "long",
        "System.UInt64" => "ulong",
        "System.Single" => "float",
        "System.Double" => "double",
        "System.String" => "string",
        "System.Object" => "object",
        "System.Void" => "void",
        "System.IntPtr" => "nint",
        "System.UIntPtr" => "nuint",
        _ => return None,
    })
}

/// The declared names of a generic definition's type parameters, in order
/// (`T`, `TKey`, ...); `T0`, `T1`... where the metadata cannot be read.
pub fn type_param_names(ts: &TypeSystem, def: TypeId) -> Vec<String> {
    let info = ts.info(def);
    let n = info.generic_params as usize;
    let mut names: Vec<String> = (0..n).map(|i| format!("T{i}")).collect();
    let Some(md) = info.asm.and_then(|a| ts.metadata(a).ok()) else {
        return names;
    };
    for r in 1..=md.row_count(TableId::GenericParam) {
        let Ok(g) = md.row::<GenericParamRow>(r) else {
            continue;
        };
        if g.owner == info.token.0 && (g.number as usize) < n {
            if let Ok(s) = md.string(g.name) {
                names[g.number as usize] = s.to_string();
            }
        }
    }
    names
}

/// `Ns.Box<T>` for a definition, `Ns.Box<int>` for an instantiation, `int`
/// for System.Int32, `byte[]`.
pub fn type_name(ts: &TypeSystem, t: TypeId) -> String {
    type_name_in(ts, t, None)
}

/// [`type_name`] inside method `ctx`: a type parameter (`!0`) is named as
/// `ctx`'s class declares it (`T`).
pub fn type_name_in(ts: &TypeSystem, t: TypeId, ctx: Option<MethodId>) -> String {
    let i = ts.info(t);
    match (i.kind, i.element) {
        (TypeKind::SzArray, Some(e)) => return format!("{}[]", type_name_in(ts, e, ctx)),
        (TypeKind::Ptr, Some(e)) => return format!("{}*", type_name_in(ts, e, ctx)),
        (TypeKind::ByRef, Some(e)) => return format!("ref {}", type_name_in(ts, e, ctx)),
        (TypeKind::GenericParam { method, index }, _) => {
            let named = ctx.filter(|_| !method).and_then(|m| {
                let owner = ts.method(m).owner;
                let def = ts.info(owner).generic_def.unwrap_or(owner);
                type_param_names(ts, def).get(index as usize).cloned()
            });
            return named
                .unwrap_or_else(|| format!("{}{index}", if method { "TMethod" } else { "T" }));
        }
        _ => {}
    }
    let (def, args): (TypeId, Vec<String>) = match i.generic_def {
        Some(d) => (
            d,
            i.type_args
                .iter()
                .map(|a| type_name_in(ts, *a, ctx))
                .collect(),
        ),
        None => (t, type_param_names(ts, t)),
    };
    let d = ts.info(def);
    let full = d.full_name();
    if let Some(k) = keyword(&full) {
        return k.to_string();
    }
    let mut name = match d.enclosing {
        Some(e) => format!("{}.{}", type_name_in(ts, e, ctx), d.name),
        None => full,
    };
    if let Some(tick) = name.rfind('`') {
        name.truncate(tick);
    }
    if !args.is_empty() {
        name.push('<');
        name.push_str(&args.join(", "));
        name.push('>');
    }
    name
}

/// "class", "struct", "interface" or "enum", with "generic " before it for
/// a generic type.
pub fn kind(ts: &TypeSystem, t: TypeId) -> String {
    let i = ts.info(t);
    let generic = i.generic_params > 0 || i.generic_def.is_some();
    let word = match i.kind {
        TypeKind::ValueType => "struct",
        TypeKind::Enum => "enum",
        TypeKind::Interface => "interface",
        _ => "class",
    };
    if generic {
        format!("generic {word}")
    } else {
        word.to_string()
    }
}

/// `Ns.Box<int>.Get`: a method in C# terms.
pub fn method_name(ts: &TypeSystem, m: MethodId) -> String {
    let d = ts.method(m);
    format!("{}.{}", type_name(ts, d.owner), d.name)
}

/// Rewrites the loader's and JIT's `open generic type !n` / `!!n` in an
/// error about compiling `m` as the C# construct it is: `type parameter T of
/// generic class Ns.Box<T>` (or of the generic method). Other text is kept.
pub fn in_cs_terms(ts: &TypeSystem, m: MethodId, msg: &str) -> String {
    const MARK: &str = "open generic type !";
    let Some(at) = msg.find(MARK) else {
        return msg.to_string();
    };
    let rest = &msg[at + MARK.len()..];
    let method_param = rest.starts_with('!');
    let digits: String = rest
        .trim_start_matches('!')
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    let consumed = MARK.len() + usize::from(method_param) + digits.len();
    let index: usize = digits.parse().unwrap_or(0);
    let d = ts.method(m);
    let what = if method_param {
        format!(
            "type parameter #{index} of generic method {}",
            method_name(ts, m)
        )
    } else {
        let owner = d.owner;
        let def = ts.info(owner).generic_def.unwrap_or(owner);
        let names = type_param_names(ts, def);
        let pname = names
            .get(index)
            .cloned()
            .unwrap_or_else(|| format!("#{index}"));
        format!(
            "type parameter {pname} of {} {} (in {}; generic code whose \
             type parameters are not substituted is not supported)",
            kind(ts, def),
            type_name(ts, def),
            method_name(ts, m)
        )
    };
    format!("{}{}{}", &msg[..at], what, &msg[at + consumed..])
}
