// Dispatch.cs: callvirt on virtual, abstract, overridden, sealed and newslot methods;
// base calls; interface dispatch (one and several interfaces, explicit
// implementations, on classes and on boxed structs); newobj with constructor chains.
using System;

namespace Corpus
{
    public interface IShape { int Area(); int Sides(); }
    public interface INamed { int NameLength(); }
    public interface IScaled { int Scale(int k); }

    public abstract class Shape : IShape
    {
        protected int w, h;
        protected Shape(int w, int h) { this.w = w; this.h = h; }
        public abstract int Area();
        public virtual int Sides() { return 4; }
        public int NonVirtual() { return 1000; }
        public virtual long Weighted(long k) { return Area() * k; }
    }

    public class Rect : Shape, INamed
    {
        public Rect(int w, int h) : base(w, h) { }
        public override int Area() { return w * h; }
        public int NameLength() { return 4; }
    }

    public class Square : Rect
    {
        public Square(int s) : base(s, s) { }
        public override int Area() { return base.Area() + 1; }   // marks the override
        public new int NameLength() { return 6; }                // hides, not overrides
    }

    public sealed class Triangle : Shape, IScaled
    {
        public Triangle(int b, int h) : base(b, h) { }
        public override int Area() { return w * h / 2; }
        public override int Sides() { return 3; }
        public override long Weighted(long k) { return -base.Weighted(k); }
        int IScaled.Scale(int k) { return Area() * k * k; }      // explicit implementation
    }

    public struct Tile : IShape, IScaled
    {
        public int Size;
        public int Area() { return Size * Size; }
        public int Sides() { return 4; }
        public int Scale(int k) { Size *= k; return Size; }
    }

    public class Base { public virtual int Id() { return 1; } public int CallId() { return Id(); } }
    public class Mid : Base { public override int Id() { return 2; } }
    public class Leaf : Mid { public override int Id() { return 3 + base.Id() * 10; } }
    public class NewSlot : Mid { public new virtual int Id() { return 99; } }

    public class WithBool { public virtual bool Ready() { return true; } }
    public class WithBoolNo : WithBool { public override bool Ready() { return false; } }

    public static class Dispatch
    {
        static Shape Pick(int i) { if (i == 0) return new Rect(2, 3); if (i == 1) return new Square(4); return new Triangle(6, 5); }

        [Expect("6")] public static int VirtualOnBase() { return Pick(0).Area(); }
        [Expect("17")] public static int OverrideCallsBase() { return Pick(1).Area(); }
        [Expect("15")] public static int SealedOverride() { return Pick(2).Area(); }
        [Expect("3")] public static int VirtualNotOverriddenInMiddle() { return Pick(2).Sides(); }
        [Expect("4")] public static int InheritedVirtual() { return Pick(1).Sides(); }
        [Expect("1000")] public static int NonVirtualViaCallvirt() { return Pick(2).NonVirtual(); }
        [Expect("-45")] public static long BaseCallFromOverride() { return Pick(2).Weighted(3); }
        [Expect("38")]
        public static int LoopOverShapes()
        {
            int s = 0;
            for (int i = 0; i < 3; i++) s += Pick(i).Area();
            return s;
        }
        [Expect("38")]
        public static int InterfaceDispatch()
        {
            IShape[] shapes = new IShape[] { Pick(0), Pick(1), Pick(2) };
            int s = 0;
            for (int i = 0; i < shapes.Length; i++) s += shapes[i].Area();
            return s;
        }
        [Expect("11")] public static int InterfaceSides() { IShape a = Pick(2); IShape b = Pick(0); return a.Sides() + b.Sides() + Pick(1).Sides(); }
        [Expect("4")] public static int SecondInterface() { INamed n = new Square(2); return n.NameLength(); }
        [Expect("6")] public static int HiddenMethod() { Square s = new Square(2); return s.NameLength(); }
        [Expect("1200")] public static int ExplicitInterfaceImpl() { IScaled s = new Triangle(2, 3); return s.Scale(20); }
        [Expect("9")] public static int InterfaceOnBoxedStruct() { Tile t; t.Size = 3; IShape s = t; return s.Area(); }
        [Expect("3")]
        public static int BoxedStructIsACopy()
        {
            Tile t; t.Size = 3;
            IScaled s = t;
            s.Scale(10);
            return t.Size;
        }
        [Expect("30")]
        public static int BoxedStructMutatesTheBox()
        {
            Tile t; t.Size = 3;
            IScaled s = t;
            s.Scale(10);
            return ((Tile)s).Size;
        }
        [Expect("12")] public static int StructMethodDirect() { Tile t; t.Size = 4; return t.Scale(3); }
        [Expect("2")] public static int VirtualThroughBaseMethod() { Base b = new Mid(); return b.CallId(); }
        [Expect("23")] public static int LeafCallsBaseOverride() { Base b = new Leaf(); return b.Id(); }
        [Expect("2")] public static int NewSlotNotOverride() { Base b = new NewSlot(); return b.Id(); }
        [Expect("99")] public static int NewSlotDirect() { NewSlot b = new NewSlot(); return b.Id(); }
        // Later ProtonOS bug: a bool return was lost after callvirt.
        [Expect("1")] public static bool BoolAfterCallvirt() { WithBool w = new WithBool(); return w.Ready(); }
        [Expect("0")] public static bool BoolAfterCallvirtOverride() { WithBool w = new WithBoolNo(); return w.Ready(); }
        [Expect("1")]
        public static int BoolAfterCallvirtInBranch()
        {
            WithBool w = new WithBoolNo();
            if (w.Ready()) return 0;
            w = new WithBool();
            return w.Ready() ? 1 : 2;
        }
        [ExpectError("null-reference")] public static int CallvirtOnNull() { Shape s = null; return s.Area(); }
        [ExpectError("null-reference")] public static int InterfaceCallOnNull() { IShape s = null; return s.Area(); }
        [ExpectError("null-reference")] public static int NonVirtualCallvirtOnNull() { Shape s = null; return s.NonVirtual(); }
    }
}
