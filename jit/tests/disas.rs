//! Golden disassembly tests: each `tests/disas/*.txt` holds a method (signature and
//! IL bytes) and the expected IL/x86-64 listing. Re-bless with `JIT_BLESS=1`.
//! A deterministic host answers tokens with fixed fake addresses (never executed).
use jit::host::*;
use jit::{compile, disasm, MethodInput};
use std::path::Path;

struct GoldenHost;

impl JitHost for GoldenHost {
    fn object_layout(&self) -> ObjectLayout {
        ObjectLayout {
            method_table_offset: 8,
            array_length_offset: 16,
            array_data_offset: 24,
            box_data_offset: 16,
        }
    }
    fn helper(&self, h: Helper) -> u64 {
        0x3000_0000 + h as u64 * 0x10
    }
    fn method(&mut self, token: u32, _v: bool) -> Result<CallInfo, HostError> {
        if let Some((params, ret, _)) = accessor(token) {
            let sig = MethodSig {
                has_this: true,
                this_type: JitType::Obj,
                params: params.into(),
                ret,
                conv: CallConv::Managed,
            };
            return Ok(CallInfo {
                sig,
                target: CallTarget::Indirect(0x1800_0000 + (token as u64 & 0xFF) * 8),
                callee: token as u64,
                owner: None,
            });
        }
        // 0x0A00_00nn: static int32 method with nn int32 parameters.
        let n = (token & 0xFF) as usize;
        let sig = MethodSig {
            has_this: false,
            this_type: JitType::Obj,
            params: vec![JitType::I4; n].into(),
            ret: JitType::I4,
            conv: CallConv::Managed,
        };
        Ok(CallInfo {
            sig,
            target: CallTarget::Direct(0x1000_0000 + token as u64),
            callee: token as u64,
            owner: None,
        })
    }
    fn constrained(&mut self, _t: u32, _m: u32) -> Result<Constrained, HostError> {
        Err("none".into())
    }
    fn signature(&mut self, _t: u32) -> Result<MethodSig, HostError> {
        Err("none".into())
    }
    fn field(&mut self, token: u32) -> Result<FieldInfo, HostError> {
        // 0x0400_00nn: byte field at offset nn of a 3-byte struct (PciAddress-like).
        Ok(FieldInfo {
            ty: JitType::U1,
            offset: token & 0xFF,
            static_addr: None,
            class_init: None,
        })
    }
    fn type_info(&mut self, token: u32) -> Result<TypeInfo, HostError> {
        let s = StructLayout {
            size: 3,
            align: 1,
            handle: 0x2000_0000 + token as u64,
        };
        Ok(TypeInfo {
            ty: JitType::Struct(s),
            is_value_type: true,
            handle: s.handle,
            array_handle: s.handle + 8,
        })
    }
    fn string_literal(&mut self, t: u32) -> Result<u64, HostError> {
        Ok(0x4000_0000 + t as u64)
    }
    fn token_handle(&mut self, t: u32) -> Result<u64, HostError> {
        Ok(t as u64)
    }
    fn inline_body(&mut self, token: u32, _callee: u64) -> Result<Option<InlineBody>, HostError> {
        let Some((params, _, il)) = accessor(token) else {
            return Ok(None);
        };
        jit::codegen::inline::parse_body(il, 1 + params.len(), |tok| {
            // 0x0400_01nn: int32 field at offset nn of a class.
            Ok(Some(FieldInfo {
                ty: JitType::I4,
                offset: tok & 0xFF,
                static_addr: None,
                class_init: None,
            }))
        })
    }
}

/// 0x0600_00nn: instance methods of a class (called through a cell) with
/// trivial bodies, for the inlining cases: parameters, return type, IL.
fn accessor(token: u32) -> Option<(Vec<JitType>, JitType, &'static [u8])> {
    Some(match token {
        // int get_X() { return this.x; }  (x at offset 0x10)
        0x0600_0001 => (
            vec![],
            JitType::I4,
            &[0x02, 0x7B, 0x10, 0x01, 0x00, 0x04, 0x2A],
        ),
        // void set_X(int v) { this.x = v; }
        0x0600_0002 => (
            vec![JitType::I4],
            JitType::Void,
            &[0x02, 0x03, 0x7D, 0x10, 0x01, 0x00, 0x04, 0x2A],
        ),
        // int Plus(int v) { return v + 1; } with `this` unused: loads
        // `ldarg.1` only, so it is never inlined.
        0x0600_0003 => (vec![JitType::I4], JitType::I4, &[0x03, 0x17, 0x58, 0x2A]),
        _ => return None,
    })
}

fn parse_type(s: &str) -> JitType {
    match s {
        "I4" => JitType::I4,
        "I8" => JitType::I8,
        "I" => JitType::I,
        "U1" => JitType::U1,
        "U2" => JitType::U2,
        "I2" => JitType::I2,
        "Bool" => JitType::Bool,
        "R8" => JitType::R8,
        "Obj" => JitType::Obj,
        "ByRef" => JitType::ByRef,
        "Void" => JitType::Void,
        "S3" => JitType::Struct(StructLayout {
            size: 3,
            align: 1,
            handle: 0x2000_0000,
        }),
        other => panic!("unknown type {other}"),
    }
}

fn run_case(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let (head, expected) = text
        .split_once("; ---\n")
        .ok_or("missing `; ---` separator")?;
    let field = |k: &str| -> String {
        head.lines()
            .find_map(|l| l.strip_prefix(&format!("; {k}:")))
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    let types = |k: &str| -> Vec<JitType> { field(k).split_whitespace().map(parse_type).collect() };
    let il: Vec<u8> = field("il")
        .split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).map_err(|e| format!("il byte {b}: {e}")))
        .collect::<Result<_, _>>()?;
    let name = field("name");
    let m = MethodInput {
        name: &name,
        handle: 0x5000_0000,
        il: &il,
        args: types("args"),
        locals: types("locals"),
        ret: parse_type(&field("ret")),
        init_locals: true,
        eh: vec![],
    };
    let c = compile(&mut GoldenHost, &m).map_err(|e| e.to_string())?;
    every_call_has_a_stack_map(&c)?;
    let listing = disasm::listing(&il, &c);
    if std::env::var_os("JIT_BLESS").is_some() {
        std::fs::write(path, format!("{head}; ---\n{listing}")).map_err(|e| e.to_string())?;
        return Ok(());
    }
    if listing != expected {
        return Err(format!("listing differs; got:\n{listing}"));
    }
    Ok(())
}

/// Every call through a register or memory (helpers, methods; not the
/// relative calls of `leave` into a `finally`) has a stack map at its return
/// address: the collector treats a JIT return address without one as a bug.
fn every_call_has_a_stack_map(c: &jit::CompiledMethod) -> Result<(), String> {
    let lines = disasm::x86_lines(&c.code);
    for (k, (off, text)) in lines.iter().enumerate() {
        let indirect = text.starts_with("call ") && !text.starts_with("call 0x");
        let end = lines.get(k + 1).map(|l| l.0).unwrap_or(c.code.len() as u32);
        if indirect && c.stack_maps.at(end).is_none() {
            return Err(format!("no stack map after `{text}` at {off:#x}"));
        }
    }
    Ok(())
}

#[test]
fn golden_listings() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/disas");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut failures = Vec::new();
    for f in &files {
        if f.extension().and_then(|e| e.to_str()) != Some("txt") {
            continue;
        }
        if let Err(e) = run_case(f) {
            failures.push(format!("{}: {e}", f.display()));
        }
    }
    assert!(files.len() >= 6, "golden cases missing");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
