//! The expectations of the JIT corpus: `[Expect("v")]`/`[ExpectError("k")]`
//! attributes in C# sources, `// expect:` comments in IL sources and the
//! `test_N_name` convention of third-party programs (formats in
//! `jit/tests/corpus/README.md`).

use super::*;

/// The string literal at the start of `s` (after the opening quote); no escapes.
pub(super) fn literal(s: &str) -> Result<&str, String> {
    let end = s.find('"').ok_or("unterminated string")?;
    let v = &s[..end];
    if v.contains('\\') {
        return Err(format!("escapes are not allowed in expectations: {v:?}"));
    }
    Ok(v)
}

/// The method name in a C# declaration line: the identifier before the first `(`
/// after `static`.
pub(super) fn cs_method_name(text: &str) -> Option<&str> {
    let after = &text[text.find("static ")? + 7..];
    let head = &after[..after.find('(')?];
    head.split_whitespace().last()
}

/// The class name if `line` declares a `static class` (any modifier order).
pub(super) fn cs_static_class(line: &str) -> Option<String> {
    let toks: Vec<&str> = line.split_whitespace().collect();
    let k = toks.iter().position(|t| *t == "class")?;
    if !toks[..k].contains(&"static") {
        return None;
    }
    let name = toks.get(k + 1)?;
    Some(name.trim_end_matches(['{', ':']).to_string())
}

/// Reads `[Expect("v")]` / `[ExpectError("k")]` from a corpus C# file: each belongs
/// to the next `static … Name(` in the nearest preceding `static class`.
pub(super) fn parse_cs_expectations(src: &str, file: &str) -> Result<Outcomes, String> {
    let mut out = Outcomes::new();
    let mut namespace = String::new();
    let mut class: Option<String> = None;
    let mut pending: Option<(String, usize)> = None;
    for (n, line) in src.lines().enumerate() {
        let t = line.trim_start();
        if t.starts_with("//") {
            continue;
        }
        if let Some(ns) = t.strip_prefix("namespace ") {
            namespace = ns.trim().trim_end_matches('{').trim().to_string();
        }
        if let Some(c) = cs_static_class(t) {
            class = Some(c);
        }
        let mut rest = t;
        for (tag, sign) in [("[Expect(\"", "="), ("[ExpectError(\"", "!")] {
            if let Some(i) = t.find(tag) {
                if let Some((_, l)) = &pending {
                    return Err(format!(
                        "{file}:{}: two expectations in a row (first at line {l})",
                        n + 1
                    ));
                }
                let v =
                    literal(&t[i + tag.len()..]).map_err(|e| format!("{file}:{}: {e}", n + 1))?;
                pending = Some((format!("{sign} {v}"), n + 1));
                rest = &t[i + tag.len() + v.len()..];
            }
        }
        if let Some((want, at)) = pending.take() {
            match cs_method_name(rest) {
                Some(name) => {
                    let c = class.as_ref().ok_or_else(|| {
                        format!("{file}:{at}: expectation outside a static class")
                    })?;
                    let key = if namespace.is_empty() {
                        format!("{c}::{name}")
                    } else {
                        format!("{namespace}.{c}::{name}")
                    };
                    if out.insert(key.clone(), want).is_some() {
                        return Err(format!("{file}:{}: {key} has two expectations", n + 1));
                    }
                }
                None => pending = Some((want, at)),
            }
        }
    }
    match pending {
        Some((_, at)) => Err(format!("{file}:{at}: expectation without a method")),
        None => Ok(out),
    }
}

/// Reads `// expect: = v` / `// expect: ! k` lines of an IL file: each belongs to the
/// next `.method`, in the class of the nearest preceding `.class … Name extends`.
pub(super) fn parse_il_expectations(src: &str, file: &str) -> Result<Outcomes, String> {
    let mut out = Outcomes::new();
    let mut class: Option<String> = None;
    let mut pending: Option<(String, usize)> = None;
    for (n, line) in src.lines().enumerate() {
        let t = line.trim();
        if t.starts_with(".class ") {
            let toks: Vec<&str> = t.split_whitespace().collect();
            class = toks
                .iter()
                .position(|x| *x == "extends")
                .and_then(|k| k.checked_sub(1))
                .map(|k| toks[k].to_string());
        } else if let Some(e) = t.strip_prefix("// expect:") {
            let e = e.trim();
            if !(e.starts_with("= ") || e.starts_with("! ")) {
                return Err(format!(
                    "{file}:{}: expectation must be `= v` or `! kind`",
                    n + 1
                ));
            }
            pending = Some((e.to_string(), n + 1));
        } else if t.starts_with(".method ") {
            if let Some((want, at)) = pending.take() {
                let name = t[..t
                    .find('(')
                    .ok_or_else(|| format!("{file}:{}: no `(`", n + 1))?]
                    .split_whitespace()
                    .last()
                    .unwrap_or_default();
                let c = class
                    .as_ref()
                    .ok_or_else(|| format!("{file}:{at}: outside a class"))?;
                if out.insert(format!("{c}::{name}"), want).is_some() {
                    return Err(format!(
                        "{file}:{}: {c}::{name} has two expectations",
                        n + 1
                    ));
                }
            }
        }
    }
    match pending {
        Some((_, at)) => Err(format!("{file}:{at}: expectation without a method")),
        None => Ok(out),
    }
}

/// Third-party programs: every `test_N_name` method must return N.
pub(super) fn parse_test_n_expectations(src: &str, il: bool) -> Outcomes {
    let mut out = Outcomes::new();
    let mut class = String::new();
    for line in src.lines() {
        let t = line.trim();
        let toks: Vec<&str> = t.split_whitespace().collect();
        if il && t.starts_with(".class ") {
            if let Some(k) = toks.iter().position(|x| *x == "extends") {
                class = toks[k.saturating_sub(1)].to_string();
            }
        } else if !il {
            if let Some(k) = toks.iter().position(|x| *x == "class") {
                if let Some(c) = toks.get(k + 1) {
                    class = c.trim_end_matches(['{', ':']).to_string();
                }
            }
        }
        let Some(i) = t.find("test_") else { continue };
        let is_decl = if il {
            t.starts_with(".method ")
        } else {
            // `static <type> test_…(`: nothing but modifiers and a type in between.
            t.find("static ")
                .is_some_and(|s| s < i && !t[s..i].contains(['(', '{', '=']))
        };
        if !is_decl || !t[i..].contains('(') {
            continue;
        }
        let name = &t[i..i + t[i..].find('(').unwrap_or(0)];
        let mut parts = name.splitn(3, '_');
        let (Some(_), Some(n)) = (parts.next(), parts.next()) else {
            continue;
        };
        if n.parse::<i64>().is_ok() {
            out.insert(format!("{class}::{name}"), format!("= {n}"));
        }
    }
    out
}
