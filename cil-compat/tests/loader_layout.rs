//! Layout tests on mcs-built and ilasm-built assemblies: sizes and field offsets of
//! classes, structs, nested, explicit and packed layouts, arrays of structs (seed
//! bugs 1 and 3), inheritance, vtables, interface maps, statics, FieldRVA, `#US`.

mod common;

use cil_compat::heap::{self, ARRAY_DATA_OFFSET, OBJ_HEADER_SIZE};
use cil_compat::metadata::sig::Prim;
use cil_compat::types::{
    self as ty_, Resolved, TypeKind, CCTOR_DONE, CCTOR_PENDING, CCTOR_RUNNING,
};
use common::*;

const H: u32 = OBJ_HEADER_SIZE as u32;

#[test]
fn seed_bug_3_value_type_fields_start_at_zero_class_fields_after_header() {
    let l = load_all();
    let ts = &l.ts;
    assert_eq!(offset(ts, "LoaderTests.Small", "A"), 0);
    assert_eq!(offset(ts, "LoaderTests.Small", "B"), 4);
    assert_eq!(offset(ts, "LoaderTests.Small", "C"), 8);
    let small = ts.value_layout(ty(ts, "LoaderTests.Small")).unwrap();
    assert_eq!(
        (small.size, small.align, small.is_value_type),
        (12, 4, true)
    );
    assert_eq!(offset(ts, "LoaderTests.Klass", "X"), H);
    assert_eq!(offset(ts, "LoaderTests.Klass", "Y"), H + 4);
    assert_eq!(offset(ts, "LoaderTests.Klass", "Z"), H + 8);
    assert_eq!(offset(ts, "LoaderTests.Klass", "O"), H + 16);
    let k = ty(ts, "LoaderTests.Klass");
    assert_eq!(ts.mt(k).base_size, H + 24);
    assert_eq!(ts.info(k).gc_refs, vec![H + 16]);
    // A class-typed location is one reference wide whatever the instance size.
    assert_eq!(ts.value_layout(k).unwrap().size, 8);
}

#[test]
fn nested_structs_are_aligned_inside_their_container() {
    let l = load_all();
    let ts = &l.ts;
    assert_eq!(offset(ts, "LoaderTests.Nested", "Tag"), 0);
    assert_eq!(offset(ts, "LoaderTests.Nested", "Inner"), 4);
    assert_eq!(offset(ts, "LoaderTests.Nested", "Z"), 16);
    assert_eq!(
        ts.value_layout(ty(ts, "LoaderTests.Nested")).unwrap().size,
        20
    );
    // Nested type names and layout.
    assert_eq!(offset(ts, "LoaderTests.Outer/InnerStruct", "B"), 2);
    assert_eq!(offset(ts, "LoaderTests.Outer", "Field"), H);
    assert_eq!(offset(ts, "LoaderTests.Outer/InnerClass", "S"), H);
}

#[test]
fn pci_address_stays_three_bytes_also_as_array_element() {
    let mut l = load_all();
    let ts = &mut l.ts;
    let pa = ty(ts, "LoaderTests.PciAddress");
    let v = ts.value_layout(pa).unwrap();
    assert_eq!((v.size, v.align), (3, 1));
    assert_eq!(offset(ts, "LoaderTests.PciAddress", "Function"), 2);
    let arr = ts.array_of(pa).unwrap();
    assert_eq!(ts.mt(arr).component_size, 3);
    // In a class, the 3-byte struct is followed by the next field at offset 3+align.
    assert_eq!(offset(ts, "LoaderTests.PciDeviceInfo", "Address"), H);
    assert_eq!(offset(ts, "LoaderTests.PciDeviceInfo", "VendorId"), H + 4);
    let before = ts.heap().bytes_allocated();
    let obj = ts.alloc_array(pa, 5).unwrap();
    assert_eq!(ts.heap().array_length(obj).unwrap(), 5);
    assert_eq!(
        ts.heap().bytes_allocated() - before,
        (ARRAY_DATA_OFFSET + 15).next_multiple_of(8)
    );
}

#[test]
fn seed_bug_1_struct_array_component_size_is_element_size() {
    let mut l = load_all();
    let ts = &mut l.ts;
    let bar = ty(ts, "LoaderTests.PciBar");
    assert_eq!(ts.value_layout(bar).unwrap().size, 24);
    let arr = ts.array_of(bar).unwrap();
    let mt = ts.mt(arr);
    assert_eq!(mt.component_size, 24);
    assert_eq!(mt.base_size as usize, ARRAY_DATA_OFFSET);
    assert_ne!(mt.flags & ty_::MT_FLAG_ARRAY, 0);
    assert_eq!(ts.info(arr).element, Some(bar));
    // `new PciBar[6]` must hold six whole elements (the seed allocated 24 bytes).
    let before = ts.heap().bytes_allocated();
    let obj = ts.alloc_array(bar, 6).unwrap();
    assert_eq!(
        ts.heap().bytes_allocated() - before,
        ARRAY_DATA_OFFSET + 6 * 24
    );
    // The last element's last byte is inside the object.
    ts.heap_mut()
        .write_bytes(obj, ARRAY_DATA_OFFSET + 5 * 24 + 23, &[0xAB])
        .unwrap();
    // The field in the class refers to the same array type.
    let f = field(ts, "LoaderTests.PciDeviceInfo", "Bars");
    assert_eq!(ts.field(f).ty, arr);
    // Arrays of primitives and references.
    let i4 = ts.prim(Prim::I4).unwrap();
    let s = ts.prim(Prim::String).unwrap();
    let ai4 = ts.array_of(i4).unwrap();
    let astr = ts.array_of(s).unwrap();
    assert_eq!(ts.mt(ai4).component_size, 4);
    assert_eq!(ts.mt(astr).component_size, 8);
    assert_ne!(ts.mt(astr).flags & ty_::MT_FLAG_HAS_GC_REFS, 0);
    assert_eq!(ts.type_name(astr), "System.String[]");
}

#[test]
fn explicit_layouts_use_field_offsets_and_class_size() {
    let l = load_all();
    let ts = &l.ts;
    assert_eq!(offset(ts, "LoaderTests.Union", "I"), 0);
    assert_eq!(offset(ts, "LoaderTests.Union", "F"), 0);
    assert_eq!(offset(ts, "LoaderTests.Union", "L"), 8);
    assert_eq!(
        ts.value_layout(ty(ts, "LoaderTests.Union")).unwrap().size,
        16
    );
    assert_eq!(offset(ts, "LoaderTests.Overlay", "Second"), 1);
    assert_eq!(offset(ts, "LoaderTests.Overlay", "High"), 2);
    assert_eq!(
        ts.value_layout(ty(ts, "LoaderTests.Overlay")).unwrap().size,
        4
    );
}

#[test]
fn packed_and_sized_layouts() {
    let l = load_all();
    let ts = &l.ts;
    assert_eq!(offset(ts, "LoaderTests.Packed1", "B"), 1);
    assert_eq!(offset(ts, "LoaderTests.Packed1", "C"), 5);
    let p1 = ts.value_layout(ty(ts, "LoaderTests.Packed1")).unwrap();
    assert_eq!((p1.size, p1.align), (13, 1));
    assert_eq!(offset(ts, "LoaderTests.Packed2", "B"), 2);
    assert_eq!(offset(ts, "LoaderTests.Packed2", "C"), 6);
    let p2 = ts.value_layout(ty(ts, "LoaderTests.Packed2")).unwrap();
    assert_eq!((p2.size, p2.align), (14, 2));
    assert_eq!(
        ts.value_layout(ty(ts, "LoaderTests.Sized")).unwrap().size,
        32
    );
}

#[test]
fn references_inside_structs_are_reported_for_the_gc() {
    let l = load_all();
    let ts = &l.ts;
    let w = ts.value_layout(ty(ts, "LoaderTests.WithRef")).unwrap();
    assert_eq!((w.size, w.align), (24, 8));
    assert_eq!(w.gc_refs, vec![8]);
    assert_eq!(offset(ts, "LoaderTests.WithRef", "B"), 16);
    let small = ts.value_layout(ty(ts, "LoaderTests.Small")).unwrap();
    assert!(small.gc_refs.is_empty());
}

#[test]
fn enums_take_their_underlying_size_and_generic_instances_are_laid_out() {
    let l = load_all();
    let ts = &l.ts;
    let c = ty(ts, "LoaderTests.Color");
    assert_eq!(ts.info(c).kind, TypeKind::Enum);
    assert_eq!(ts.value_layout(c).unwrap().size, 1);
    assert_eq!(offset(ts, "LoaderTests.HasEnums", "B"), 8);
    assert_eq!(
        ts.value_layout(ty(ts, "LoaderTests.HasEnums"))
            .unwrap()
            .size,
        16
    );
    assert_eq!(offset(ts, "LoaderTests.UsesGenerics", "Q"), 8);
    assert_eq!(
        ts.value_layout(ty(ts, "LoaderTests.UsesGenerics"))
            .unwrap()
            .size,
        24
    );
    let q = ts.field(field(ts, "LoaderTests.UsesGenerics", "Q")).ty;
    assert_eq!(ts.type_name(q), "LoaderTests.Pair`1<System.Int64>");
    assert_eq!(
        ts.find_field(q, "Value").map(|f| ts.field(f).offset),
        Some(8)
    );
    // The open definition has no layout.
    assert!(ts.value_layout(ty(ts, "LoaderTests.Pair`1")).is_err());
}

#[test]
fn primitives_have_their_natural_sizes() {
    let l = load_all();
    let ts = &l.ts;
    for (p, size) in [
        (Prim::Boolean, 1),
        (Prim::Char, 2),
        (Prim::I1, 1),
        (Prim::U2, 2),
        (Prim::I4, 4),
        (Prim::U8, 8),
        (Prim::R4, 4),
        (Prim::R8, 8),
        (Prim::I, 8),
        (Prim::U, 8),
    ] {
        let t = ts.prim(p).unwrap();
        assert_eq!(ts.value_layout(t).unwrap().size, size, "{p:?}");
        assert_eq!(ts.info(t).kind, TypeKind::Primitive(p));
    }
    let s = ts.prim(Prim::String).unwrap();
    assert_eq!(ts.info(s).kind, TypeKind::String);
    assert_eq!(
        offset(ts, "System.String", "m_length") as usize,
        heap::STRING_LENGTH_OFFSET
    );
    assert_eq!(
        offset(ts, "System.String", "m_firstChar") as usize,
        heap::STRING_CHARS_OFFSET
    );
}

#[test]
fn derived_class_fields_follow_base_fields() {
    let l = load_all();
    let ts = &l.ts;
    assert_eq!(offset(ts, "LoaderTests.Animal", "Legs"), H);
    let good = offset(ts, "LoaderTests.Dog", "Good");
    let id = offset(ts, "LoaderTests.Dog", "Id");
    assert!(good >= H + 4, "derived field overlaps base field");
    assert_eq!(good, H + 8);
    assert_eq!(id, H + 16);
    assert_eq!(ts.mt(ty(ts, "LoaderTests.Dog")).base_size, H + 24);
    // Across assemblies: DependentTests.Derived : LoaderTests.Square.
    assert_eq!(offset(ts, "DependentTests.Derived", "Side"), H);
    assert_eq!(offset(ts, "DependentTests.Derived", "Extra"), H + 8);
}

fn slot_owner(ts: &mut cil_compat::types::TypeSystem, t: &str, slot: u32) -> String {
    let tid = ty(ts, t);
    let m = ts.vtable_method(tid, slot).unwrap();
    format!(
        "{}::{}",
        ts.type_name(ts.method(m).owner),
        ts.method(m).name
    )
}

#[test]
fn vtable_slots_follow_override_and_newslot() {
    let mut l = load_all();
    let ts = &mut l.ts;
    let obj = ty(ts, "System.Object");
    let names: Vec<_> = (0..4).map(|s| slot_owner(ts, "LoaderTests.A", s)).collect();
    assert_eq!(
        names,
        [
            "System.Object::Equals",
            "System.Object::GetHashCode",
            "System.Object::ToString",
            "System.Object::Finalize"
        ]
    );
    assert_eq!(ts.mt(obj).vtable_len, 4);
    let af = ts.method(method(ts, "LoaderTests.A", "F")).slot;
    let ag = ts.method(method(ts, "LoaderTests.A", "G")).slot;
    assert_eq!((af, ag), (Some(4), Some(5)));
    assert_eq!(
        ts.method(method(ts, "LoaderTests.A", "NonVirtual")).slot,
        None
    );
    // B: override F keeps slot 4; `new virtual G` opens slot 6, A.G stays in 5.
    assert_eq!(ts.method(method(ts, "LoaderTests.B", "F")).slot, Some(4));
    assert_eq!(ts.method(method(ts, "LoaderTests.B", "G")).slot, Some(6));
    assert_eq!(slot_owner(ts, "LoaderTests.B", 4), "LoaderTests.B::F");
    assert_eq!(slot_owner(ts, "LoaderTests.B", 5), "LoaderTests.A::G");
    assert_eq!(slot_owner(ts, "LoaderTests.B", 6), "LoaderTests.B::G");
    // C overrides B.G (slot 6) and F (slot 4).
    assert_eq!(slot_owner(ts, "LoaderTests.C", 4), "LoaderTests.C::F");
    assert_eq!(slot_owner(ts, "LoaderTests.C", 5), "LoaderTests.A::G");
    assert_eq!(slot_owner(ts, "LoaderTests.C", 6), "LoaderTests.C::G");
    assert_eq!(ts.mt(ty(ts, "LoaderTests.C")).vtable_len, 7);
    // The MethodTable exposes slot storage of the right length.
    let c = ty(ts, "LoaderTests.C");
    assert_eq!(ts.info(c).vtable_slots().len(), 7);
    assert_eq!(ts.mt(c).vtable, ts.info(c).vtable_slots().as_ptr() as usize);
    // Overrides across assemblies.
    assert_eq!(
        slot_owner(ts, "DependentTests.Derived", 2),
        "DependentTests.Derived::ToString"
    );
}

#[test]
fn interface_maps_cover_implicit_explicit_inherited_and_abstract() {
    let mut l = load_all();
    let ts = &mut l.ts;
    let area = method(ts, "LoaderTests.IShape", "Area");
    let sides = method(ts, "LoaderTests.IShape", "Sides");
    fn impl_of(
        ts: &mut cil_compat::types::TypeSystem,
        t: &str,
        im: cil_compat::types::MethodId,
    ) -> String {
        let tid = ty(ts, t);
        let s = ts.interface_slot(tid, im).unwrap();
        let m = ts.vtable_method(tid, s).unwrap();
        format!(
            "{}::{}",
            ts.type_name(ts.method(m).owner),
            ts.method(m).name
        )
    }
    let name = method(ts, "LoaderTests.INamed", "Name");
    let dispose = method(ts, "System.IDisposable", "Dispose");
    assert_eq!(
        impl_of(ts, "LoaderTests.Square", area),
        "LoaderTests.Square::Area"
    );
    assert_eq!(
        impl_of(ts, "LoaderTests.Square", sides),
        "LoaderTests.Square::Sides"
    );
    assert_eq!(
        impl_of(ts, "LoaderTests.Triangle", area),
        "LoaderTests.Triangle::LoaderTests.IShape.Area"
    );
    assert_eq!(
        impl_of(ts, "LoaderTests.Triangle", sides),
        "LoaderTests.Triangle::Sides"
    );
    assert_eq!(
        impl_of(ts, "LoaderTests.BigSquare", area),
        "LoaderTests.Square::Area"
    );
    assert_eq!(
        impl_of(ts, "DependentTests.Derived", sides),
        "LoaderTests.Square::Sides"
    );
    assert_eq!(
        impl_of(ts, "LoaderTests.Thing", name),
        "LoaderTests.Thing::Name"
    );
    assert_eq!(
        impl_of(ts, "LoaderTests.Thing", area),
        "LoaderTests.Thing::Area"
    );
    assert_eq!(
        impl_of(ts, "LoaderTests.Partial", area),
        "LoaderTests.Partial::Area"
    );
    assert_eq!(
        impl_of(ts, "LoaderTests.Disposable", dispose),
        "LoaderTests.Disposable::Dispose"
    );
    // Not implemented: a clear error.
    let e = ts
        .interface_slot(ty(ts, "LoaderTests.Klass"), area)
        .unwrap_err()
        .to_string();
    assert!(e.contains("IShape::Area") && e.contains("Klass"), "{e}");
}

#[test]
fn statics_have_storage_and_cctor_state() {
    let mut l = load_all();
    let ts = &mut l.ts;
    let precise = ty(ts, "LoaderTests.Precise");
    let lazy = ty(ts, "LoaderTests.Lazy");
    let none = ty(ts, "LoaderTests.NoStatics");
    assert_ne!(ts.mt(precise).flags & ty_::MT_FLAG_HAS_CCTOR, 0);
    assert_eq!(ts.mt(precise).flags & ty_::MT_FLAG_BEFOREFIELDINIT, 0);
    assert_ne!(ts.mt(lazy).flags & ty_::MT_FLAG_BEFOREFIELDINIT, 0);
    assert!(ts.info(precise).cctor.is_some());
    assert_eq!(
        ts.mt(precise)
            .cctor_state
            .load(std::sync::atomic::Ordering::Relaxed),
        CCTOR_PENDING
    );
    assert_eq!(
        ts.mt(none)
            .cctor_state
            .load(std::sync::atomic::Ordering::Relaxed),
        CCTOR_DONE
    );
    ts.set_cctor_state(precise, CCTOR_RUNNING);
    assert_eq!(
        ts.mt(precise)
            .cctor_state
            .load(std::sync::atomic::Ordering::Relaxed),
        CCTOR_RUNNING
    );
    let c = ts
        .static_field_address(field(ts, "LoaderTests.Precise", "Counter"))
        .unwrap();
    let b = ts
        .static_field_address(field(ts, "LoaderTests.Precise", "Big"))
        .unwrap();
    assert_eq!(b % 8, 0);
    assert!(b >= c + 4);
    assert_eq!(ts.mt(precise).statics, c);
    let obj = field(ts, "LoaderTests.Lazy", "Obj");
    assert_eq!(ts.info(lazy).static_gc_refs, vec![ts.field(obj).offset]);
    // Instance fields and constants have no static address.
    assert!(ts
        .static_field_address(field(ts, "LoaderTests.NoStatics", "X"))
        .is_err());
    assert!(ts
        .static_field_address(field(ts, "LoaderTests.Tables", "Answer"))
        .is_err());
}

#[test]
fn field_rva_holds_array_initializer_data() {
    let mut l = load_all();
    let ts = &mut l.ts;
    let cctor = method(ts, "LoaderTests.Tables", ".cctor");
    let toks = tokens_of(ts, cctor, 0xD0); // ldtoken
    assert_eq!(toks.len(), 2, "one ldtoken per initialised array");
    let mut datas = Vec::new();
    for t in toks {
        let Resolved::Field(f) = ts.resolve_token(l.layouts, t).unwrap() else {
            panic!("ldtoken of a field")
        };
        datas.push(ts.field_rva_data(f).expect("FieldRVA data").to_vec());
        // The static storage starts out as the initial data too.
        let addr = ts.static_field_address(f).unwrap();
        assert_ne!(addr, 0);
    }
    let primes: Vec<i32> = datas[0]
        .chunks(4)
        .map(|c| i32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(primes, [2, 3, 5, 7, 11, 13, 17, 19]);
    // mcs rounds the blob up to a multiple of 4; the array uses the first 10 bytes.
    assert_eq!(&datas[1][..10], [0xDE, 0xAD, 0xBE, 0xEF, 1, 2, 3, 4, 5, 6]);
    assert!(datas[1].len() >= 10);
    // InitializeArray is an InternalCall the runtime binds.
    let init = method(
        ts,
        "System.Runtime.CompilerServices.RuntimeHelpers",
        "InitializeArray",
    );
    assert!(ts.method(init).is_internal_call());
}

#[test]
fn user_string_literals_become_interned_heap_strings() {
    let mut l = load_all();
    let ts = &mut l.ts;
    let hello = method(ts, "LoaderTests.Literals", "Hello");
    let tok = tokens_of(ts, hello, 0x72)[0];
    let s = ts.string_literal(l.layouts, tok).unwrap();
    let text = String::from_utf16(&ts.heap().string_chars(s).unwrap()).unwrap();
    assert_eq!(text, "Hello, héllo ✓");
    assert_eq!(ts.string_literal(l.layouts, tok).unwrap(), s, "interned");
    assert_eq!(
        ts.heap().mt_of(s).unwrap(),
        ts.mt_address(ts.prim(Prim::String).unwrap())
    );
    let empty = tokens_of(ts, method(ts, "LoaderTests.Literals", "Empty"), 0x72)[0];
    let e = ts.string_literal(l.layouts, empty).unwrap();
    assert!(ts.heap().string_chars(e).unwrap().is_empty());
    let il = tokens_of(ts, method(ts, "Ops", "Greeting"), 0x72)[0];
    let g = ts.string_literal(l.il, il).unwrap();
    assert_eq!(
        String::from_utf16(&ts.heap().string_chars(g).unwrap()).unwrap(),
        "from IL"
    );
    assert!(ts
        .string_literal(l.layouts, cil_compat::metadata::Token(0x0600_0001))
        .is_err());
}

#[test]
fn cross_assembly_member_refs_resolve_including_generic_instances() {
    let mut l = load_all();
    let ts = &mut l.ts;
    let run = method(ts, "DependentTests.Uses", "Run");
    let mut seen = Vec::new();
    for op in [0x28u8, 0x6F, 0x73, 0x7B, 0x7D, 0x7E, 0x7C] {
        for t in tokens_of(ts, run, op) {
            let r = ts
                .resolve_token(l.dependent, t)
                .unwrap_or_else(|e| panic!("token {t}: {e}"));
            seen.push(match r {
                Resolved::Method(m) => format!(
                    "{}::{}",
                    ts.type_name(ts.method(m).owner),
                    ts.method(m).name
                ),
                Resolved::Field(f) => {
                    format!("{}::{}", ts.type_name(ts.field(f).owner), ts.field(f).name)
                }
                Resolved::Type(t) => ts.type_name(t),
            });
        }
    }
    for want in [
        "LoaderTests.Square::Area",
        "LoaderTests.Square::Sides",
        "LoaderTests.Pair`1<System.Int16>::Value",
        "LoaderTests.Precise::Counter",
        "DependentTests.Derived::.ctor",
    ] {
        assert!(seen.iter().any(|s| s == want), "{want} not in {seen:?}");
    }
    let h = "DependentTests.Holder";
    assert_eq!(offset(ts, h, "Addr"), 0);
    assert_eq!(offset(ts, h, "P"), 4);
    assert_eq!(offset(ts, h, "Last"), 8);
    assert_eq!(ts.value_layout(ty(ts, h)).unwrap().size, 10);
}

#[test]
fn ilasm_valuetype_array_forms_and_explicit_pack() {
    let mut l = load_all();
    let ts = &mut l.ts;
    let rt = method(ts, "Ops", "RoundTrip");
    let vec3 = ty(ts, "Vec3");
    for op in [
        0x8D, /* newarr */
        0xA3, /* ldelem */
        0xA4, /* stelem */
        0x8F, /* ldelema */
    ] {
        let toks = tokens_of(ts, rt, op);
        assert!(!toks.is_empty(), "opcode {op:#x} present");
        for t in toks {
            assert_eq!(ts.resolve_type(l.il, t).unwrap(), vec3);
        }
    }
    let arr = ts.array_of(vec3).unwrap();
    assert_eq!(ts.mt(arr).component_size, 12);
    let locals = ts.method_locals(rt).unwrap();
    assert_eq!(locals, vec![arr, vec3]);
    let rgb = ty(ts, "Rgb");
    assert_eq!(ts.value_layout(rgb).unwrap().size, 3);
    let rgb_arr = ts.array_of(rgb).unwrap();
    assert_eq!(ts.mt(rgb_arr).component_size, 3);
    assert_eq!(offset(ts, "Reg", "Tail"), 4);
    assert_eq!(offset(ts, "Reg", "Middle"), 2);
    let reg = ts.value_layout(ty(ts, "Reg")).unwrap();
    assert_eq!((reg.size, reg.align), (6, 1));
}

#[test]
fn method_signatures_bodies_and_locals() {
    let mut l = load_all();
    let ts = &mut l.ts;
    let s = ts.prim(Prim::String).unwrap();
    let concat = ts
        .info(s)
        .methods
        .iter()
        .copied()
        .find(|m| ts.method(*m).name == "Concat" && ts.method(*m).sig.params == vec![s, s])
        .unwrap();
    let d = ts.method(concat);
    assert!(d.is_static() && !d.sig.has_this);
    assert_eq!(d.sig.ret, s);
    let area = method(ts, "LoaderTests.Square", "Area");
    assert!(
        ts.method(area).sig.has_this,
        "seed bug 2: instance methods take `this`"
    );
    assert_eq!(ts.method(area).sig.ret, ts.prim(Prim::I4).unwrap());
    let body = ts.method_body(area).unwrap().unwrap();
    assert!(!body.code.is_empty());
    assert_eq!(*body.code.last().unwrap(), 0x2A, "ends with ret");
    let uses = method(ts, "LoaderTests.Literals", "UsesArrays");
    let locals = ts.method_locals(uses).unwrap();
    let names: Vec<_> = locals.iter().map(|t| ts.type_name(*t)).collect();
    assert!(
        names.contains(&"LoaderTests.PciBar[]".to_string()),
        "{names:?}"
    );
    assert!(
        names.contains(&"LoaderTests.PciAddress[]".to_string()),
        "{names:?}"
    );
    // Abstract and InternalCall methods have no body.
    let fas = method(ts, "System.String", "FastAllocateString");
    assert!(ts.method_body(fas).unwrap().is_none());
}

#[test]
fn heap_objects_carry_their_method_table() {
    let mut l = load_all();
    let ts = &mut l.ts;
    let k = ty(ts, "LoaderTests.Klass");
    let o = ts.alloc_object(k).unwrap();
    assert_eq!(o % 8, 0);
    assert_eq!(ts.heap().mt_of(o).unwrap(), ts.mt_address(k));
    assert_eq!(ts.type_of_mt(ts.heap().mt_of(o).unwrap()), Some(k));
    assert_eq!(
        ts.heap().read_bytes(o, 16, 24).unwrap(),
        vec![0u8; 24],
        "zeroed fields"
    );
    let mut count = 0;
    ts.heap().for_each_object(|_, _| count += 1);
    assert_eq!(count, ts.heap().object_count());
    let e = ts
        .alloc_object(ty(ts, "LoaderTests.IShape"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("interface"), "{e}");
    assert!(
        ts.alloc_object(ty(ts, "LoaderTests.Partial")).is_err(),
        "abstract"
    );
    // Boxed values: header, then the value's bytes.
    let boxed = ts.alloc_object(ty(ts, "LoaderTests.PciBar")).unwrap();
    assert_eq!(ts.mt(ty(ts, "LoaderTests.PciBar")).base_size, H + 24);
    ts.heap_mut()
        .write_bytes(boxed, OBJ_HEADER_SIZE + 23, &[1])
        .unwrap();
    // Bad addresses are errors, not crashes.
    assert!(ts.heap().read_bytes(16, 0, 8).is_err());
}

#[test]
fn load_order_and_missing_references_give_clear_errors() {
    let layouts = std::fs::read(layouts()).unwrap();
    let dependent = std::fs::read(dependent()).unwrap();
    let corlib = std::fs::read(corlib()).unwrap();
    let mut ts = cil_compat::types::TypeSystem::new();
    let e = ts.load(layouts.clone()).unwrap_err().to_string();
    assert!(e.contains("corlib"), "{e}");
    ts.load(corlib.clone()).unwrap();
    let e = ts.load(dependent.clone()).unwrap_err().to_string();
    assert!(e.contains("LoaderLayouts"), "{e}");
    // A failed load leaves nothing behind: loading in order now works.
    ts.load(layouts).unwrap();
    ts.load(dependent).unwrap();
    let e = ts.load(corlib).unwrap_err().to_string();
    assert!(e.contains("twice"), "{e}");
}

#[test]
fn exception_handling_clauses_are_decoded() {
    use cil_compat::metadata::body::EhKind;
    let mut l = load_all();
    let ts = &mut l.ts;
    let m = method(ts, "LoaderTests.Handlers", "TryCatchFinally");
    let (eh, len) = {
        let body = ts.method_body(m).unwrap().unwrap();
        (body.eh.clone(), body.code.len() as u32)
    };
    assert_eq!(eh.len(), 2, "{eh:?}");
    let catch = eh.iter().find_map(|c| match c.kind {
        EhKind::Catch(t) => Some(t),
        _ => None,
    });
    let t = ts
        .resolve_type(l.layouts, catch.expect("a catch clause"))
        .unwrap();
    assert_eq!(ts.type_name(t), "System.DivideByZeroException");
    assert!(eh.iter().any(|c| c.kind == EhKind::Finally));
    for c in &eh {
        assert!(c.try_offset + c.try_length <= len && c.handler_offset + c.handler_length <= len);
    }
}

#[test]
fn generic_instances_and_generic_methods_resolve_in_context() {
    let mut l = load_all();
    let ts = &mut l.ts;
    let i4 = ts.prim(Prim::I4).unwrap();
    let i8 = ts.prim(Prim::I8).unwrap();
    let user = method(ts, "LoaderTests.GenericUser", "Use");
    let calls: Vec<_> = tokens_of(ts, user, 0x28)
        .into_iter()
        .chain(tokens_of(ts, user, 0x6F))
        .collect();
    let mut get = None;
    let mut ids = Vec::new();
    for t in calls {
        let m = ts.resolve_method_in(user, t).unwrap();
        let d = ts.method(m);
        match d.name.as_str() {
            "Get" => get = Some(m),
            "Id" => ids.push(m),
            _ => {}
        }
    }
    let get = get.expect("call to GBox<int>.Get");
    assert_eq!(
        ts.type_name(ts.method(get).owner),
        "LoaderTests.GBox`1<System.Int32>"
    );
    assert_eq!(ts.method(get).sig.ret, i4);
    // Id<int> and Id<long>: MethodSpec instances with their own signatures.
    assert_eq!(ids.len(), 2);
    let sigs: Vec<_> = ids
        .iter()
        .map(|m| {
            (
                ts.method(*m).method_args.clone(),
                ts.method(*m).sig.ret,
                ts.method(*m).sig.params.clone(),
            )
        })
        .collect();
    assert!(sigs.contains(&(vec![i4], i4, vec![i4])), "{sigs:?}");
    assert!(sigs.contains(&(vec![i8], i8, vec![i8])), "{sigs:?}");
    // Inside GBox<int>.Get, `ldfld !0 GBox<!0>::Value` is the instance's field.
    let ldfld = tokens_of(ts, get, 0x7B)[0];
    let f = ts.resolve_field_in(get, ldfld).unwrap();
    assert_eq!(ts.field(f).ty, i4);
    assert_eq!(ts.field(f).offset, H);
    assert_eq!(
        ts.type_name(ts.field(f).owner),
        "LoaderTests.GBox`1<System.Int32>"
    );
    // Resolved outside a context, the same token stays open.
    let open = ts.resolve_field(l.layouts, ldfld).unwrap();
    assert_ne!(ts.field(open).ty, i4);
}

#[test]
fn casting_and_enum_underlying_types() {
    let mut l = load_all();
    let ts = &mut l.ts;
    let (dog, animal, obj) = (
        ty(ts, "LoaderTests.Dog"),
        ty(ts, "LoaderTests.Animal"),
        ty(ts, "System.Object"),
    );
    let (shape, both, thing, square) = (
        ty(ts, "LoaderTests.IShape"),
        ty(ts, "LoaderTests.IBoth"),
        ty(ts, "LoaderTests.Thing"),
        ty(ts, "LoaderTests.Square"),
    );
    assert!(ts.is_assignable(dog, animal) && ts.is_assignable(dog, obj));
    assert!(!ts.is_assignable(animal, dog));
    assert!(ts.is_assignable(thing, shape) && ts.is_assignable(thing, both));
    assert!(ts.is_assignable(both, shape), "interface inheritance");
    assert!(
        ts.is_assignable(ty(ts, "DependentTests.Derived"), shape),
        "inherited interface"
    );
    assert!(!ts.is_assignable(square, both));
    let (dogs, animals, objs) = (
        ts.array_of(dog).unwrap(),
        ts.array_of(animal).unwrap(),
        ts.array_of(obj).unwrap(),
    );
    assert!(
        ts.is_assignable(dogs, animals)
            && ts.is_assignable(dogs, objs)
            && !ts.is_assignable(animals, dogs)
    );
    let i4 = ts.prim(Prim::I4).unwrap();
    let u4 = ts.prim(Prim::U4).unwrap();
    let i8 = ts.prim(Prim::I8).unwrap();
    let (ai4, au4, ai8) = (
        ts.array_of(i4).unwrap(),
        ts.array_of(u4).unwrap(),
        ts.array_of(i8).unwrap(),
    );
    // Array-element compatibility (§I.8.7.1): one reduced type per width.
    assert!(ts.is_assignable(ai4, au4) && ts.is_assignable(au4, ai4));
    assert!(!ts.is_assignable(ai4, ai8));
    let color = ty(ts, "LoaderTests.Color");
    let u1 = ts.prim(Prim::U1).unwrap();
    let (acolor, au1) = (ts.array_of(color).unwrap(), ts.array_of(u1).unwrap());
    assert!(
        ts.is_assignable(acolor, au1),
        "an enum array is its underlying type's"
    );
    assert!(ts.is_assignable(ai4, ty(ts, "System.Array")));
    assert_eq!(
        ts.underlying_prim(ty(ts, "LoaderTests.Color")),
        Some(Prim::U1)
    );
    assert_eq!(
        ts.underlying_prim(ty(ts, "LoaderTests.Big")),
        Some(Prim::I8)
    );
    assert_eq!(ts.underlying_prim(i4), Some(Prim::I4));
    let void = ts.prim(Prim::Void).unwrap();
    assert_eq!(ts.info(void).kind, TypeKind::Primitive(Prim::Void));
    assert_eq!(ts.value_layout(void).unwrap().size, 0);
    assert_eq!(ts.underlying_prim(square), None);
}

/// ECMA-335 §I.8.9.1: `T[]` is IList<T> & co., and with reference covariance
/// IList<U> for every reference type U that T is assignable to.
#[test]
fn vectors_are_their_generic_collection_interfaces() {
    let mut l = load_all();
    let ts = &mut l.ts;
    let i4 = ts.prim(Prim::I4).unwrap();
    let i8 = ts.prim(Prim::I8).unwrap();
    let (dog, animal, obj) = (
        ty(ts, "LoaderTests.Dog"),
        ty(ts, "LoaderTests.Animal"),
        ty(ts, "System.Object"),
    );
    let ilist = ty(ts, "System.Collections.Generic.IList`1");
    let ienum = ty(ts, "System.Collections.Generic.IEnumerable`1");
    let rocoll = ty(ts, "System.Collections.Generic.IReadOnlyCollection`1");
    let iset = ty(ts, "System.Collections.Generic.ISet`1");
    let mut inst = |d, a| ts.generic_instance(d, vec![a]).unwrap();
    let (ilist_i4, ienum_i8, ro_i4, iset_i4) = (
        inst(ilist, i4),
        inst(ienum, i8),
        inst(rocoll, i4),
        inst(iset, i4),
    );
    let (ienum_animal, ilist_obj, ilist_dog) =
        (inst(ienum, animal), inst(ilist, obj), inst(ilist, dog));
    let (ai4, dogs, animals) = (
        ts.array_of(i4).unwrap(),
        ts.array_of(dog).unwrap(),
        ts.array_of(animal).unwrap(),
    );
    let md = ts.md_array_of(i4, 2).unwrap();
    assert!(ts.is_assignable(ai4, ilist_i4) && ts.is_assignable(ai4, ro_i4));
    assert!(
        !ts.is_assignable(ai4, ienum_i8),
        "int[] is not IEnumerable<long>"
    );
    assert!(
        !ts.is_assignable(ai4, ilist_obj),
        "no covariance of value elements"
    );
    assert!(
        !ts.is_assignable(ai4, iset_i4),
        "ISet<T> is not an array interface"
    );
    assert!(!ts.is_assignable(md, ilist_i4), "only vectors");
    assert!(ts.is_assignable(dogs, ienum_animal) && ts.is_assignable(dogs, ilist_obj));
    assert!(!ts.is_assignable(animals, ilist_dog));
    let ienum_nongeneric = ty(ts, "System.Collections.IEnumerable");
    assert!(ts.is_assignable(md, ienum_nongeneric) && ts.is_assignable(ai4, ienum_nongeneric));
    assert!(ts.generic_instance(ilist, vec![i4, i4]).is_err());
}

#[test]
fn multi_dimensional_arrays_of_structs() {
    let mut l = load_all();
    let ts = &mut l.ts;
    let vec3 = ty(ts, "Vec3");
    let m = ts.md_array_of(vec3, 2).unwrap();
    assert_eq!(ts.type_name(m), "Vec3[,]");
    assert_eq!(ts.mt(m).rank, 2);
    assert_eq!(ts.mt(m).component_size, 12);
    assert_eq!(ts.mt(m).base_size as usize, heap::mdarray_data_offset(2));
    assert_ne!(m, ts.array_of(vec3).unwrap());
    let before = ts.heap().bytes_allocated();
    let a = ts.alloc_md_array(vec3, &[3, 4]).unwrap();
    assert_eq!(
        ts.heap().bytes_allocated() - before,
        heap::mdarray_data_offset(2) + 12 * 12
    );
    assert_eq!(ts.heap().array_length(a).unwrap(), 12);
    let lens = ts
        .heap()
        .read_bytes(a, heap::MDARRAY_LENGTHS_OFFSET, 16)
        .unwrap();
    assert_eq!(lens[0], 3);
    assert_eq!(lens[8], 4);
    assert!(ts.md_array_of(vec3, 0).is_err());
}

/// Load levels (`TypeSystem::complete`): a constructed type is named and laid
/// out when it is created, and gets its vtable, interface maps and static
/// storage at the first query that reads them; a cast completes every type
/// its answer reads, so a variant check through a type nothing built still
/// answers right.
#[test]
fn constructed_types_are_completed_by_the_queries_that_read_them() {
    let mut l = load_all();
    let ts = &mut l.ts;
    let list = ty(ts, "System.Collections.Generic.List`1");
    let ienum = ty(ts, "System.Collections.Generic.IEnumerable`1");
    let (dog, animal) = (ty(ts, "LoaderTests.Dog"), ty(ts, "LoaderTests.Animal"));
    let list_dog = ts.generic_instance(list, vec![dog]).unwrap();
    let list_list_dog = ts.generic_instance(list, vec![list_dog]).unwrap();
    let ienum_animal = ts.generic_instance(ienum, vec![animal]).unwrap();
    let ienum_ienum_animal = ts.generic_instance(ienum, vec![ienum_animal]).unwrap();
    assert!(
        ts.is_complete(dog),
        "an assembly's own types are complete from its load"
    );
    for t in [list_dog, list_list_dog, ienum_animal] {
        assert!(
            !ts.is_complete(t),
            "{} built before any use",
            ts.type_name(t)
        );
        assert!(ts.info(t).interfaces.is_empty());
    }
    assert!(ts.value_layout(list_dog).is_ok(), "laid out from the start");
    // List<List<Dog>> is IEnumerable<List<Dog>>, and List<Dog> is an
    // IEnumerable<Animal> (covariance): the answer reads List<Dog>'s maps.
    assert!(ts.is_assignable(list_list_dog, ienum_ienum_animal));
    assert!(ts.is_complete(list_dog) && ts.is_complete(list_list_dog));
    let string = ty(ts, "System.String");
    let ienum_string = ts.generic_instance(ienum, vec![string]).unwrap();
    let ienum_ienum_string = ts.generic_instance(ienum, vec![ienum_string]).unwrap();
    assert!(!ts.is_assignable(list_list_dog, ienum_ienum_string));
    // A slot query completes the type it asks about.
    let list_animal = ts.generic_instance(list, vec![animal]).unwrap();
    assert!(!ts.is_complete(list_animal));
    let get_enum = ts
        .info(ienum_animal)
        .methods
        .iter()
        .copied()
        .find(|m| ts.method(*m).name == "GetEnumerator")
        .unwrap();
    let slot = ts.interface_slot(list_animal, get_enum).unwrap();
    let m = ts.vtable_method(list_animal, slot).unwrap();
    assert_eq!(ts.method(m).owner, list_animal);
    assert!(ts.is_complete(list_animal));
}
