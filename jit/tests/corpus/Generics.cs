// Generics.cs: generic classes, structs and methods, each instantiation compiled
// on its own (tokens of generic code resolve in the instance's type arguments):
// value-type and reference instantiations, static fields per instantiation, a
// static double set by a generic type's .cctor, default(T), Nullable<T>.
using System;

namespace Corpus
{
    public class GBox<T>
    {
        public T V;
        public static int Count;
        public static double Half = 0.5;
        public GBox(T v) { V = v; }
        public T Get() { return V; }
        public virtual T Virt() { return V; }
    }

    public struct GPair<A, B>
    {
        public A X;
        public B Y;
        public GPair(A a, B b) { X = a; Y = b; }
    }

    public class GStack<T>
    {
        T[] items = new T[2];
        int n;
        public void Push(T v)
        {
            if (n == items.Length)
            {
                T[] b = new T[n * 2];
                for (int i = 0; i < n; i++) b[i] = items[i];
                items = b;
            }
            items[n++] = v;
        }
        public T Pop() { return items[--n]; }
        public int Count { get { return n; } }
    }

    public class GEchoBase { public virtual T Echo<T>(T x) { return x; } }
    public class GEchoTwice : GEchoBase { public override T Echo<T>(T x) { return base.Echo(x); } }
    public abstract class GPicker { public abstract T Pick<T>(T a, T b); }
    public class GPickFirst : GPicker { public override T Pick<T>(T a, T b) { return a; } }
    public class GPickSecond : GPicker { public override T Pick<T>(T a, T b) { return b; } }
    public interface IGWrap { System.Collections.Generic.List<T> Wrap<T>(T x); }
    public class GWrapTwice : IGWrap { public System.Collections.Generic.List<T> Wrap<T>(T x) { var l = new System.Collections.Generic.List<T>(); l.Add(x); l.Add(x); return l; } }
    public struct GWrapOnce : IGWrap { public System.Collections.Generic.List<T> Wrap<T>(T x) { var l = new System.Collections.Generic.List<T>(); l.Add(x); return l; } }
    public interface IArea<T> { T Area(); }
    public class GSquare : IArea<int> { public int S; public int Area() { return S * S; } }

    // Load levels (cil-compat's `TypeSystem::complete`): a constructed type's
    // vtable, interface maps and statics are built at their first use.
    public interface IAnimalG { }
    public class CatG : IAnimalG { }
    public class GHolder<T> { public static int Made; }

    public static class Generics
    {
        static T Max<T>(T a, T b) where T : IComparable<T> { return a.CompareTo(b) > 0 ? a : b; }
        static int AreaOf<S>(S s) where S : IArea<int> { return s.Area(); }
        [Expect("7")] public static int GenericVirtualMethod() { GEchoBase b = new GEchoTwice(); return b.Echo(5) + b.Echo("ab").Length; }
        [Expect("29")] public static int AbstractGenericVirtualDispatches() { GPicker a = new GPickFirst(), b = new GPickSecond(); return a.Pick(2, 3) * 10 + b.Pick(8, 9) + b.Pick("x", "").Length; }
        [Expect("21")] public static int InterfaceGenericMethodDispatches() { IGWrap t = new GWrapTwice(); IGWrap o = new GWrapOnce(); return t.Wrap("a").Count * 10 + o.Wrap(7L).Count; }
        [Expect("11")] public static int ConstrainedCompareTo() { return Max(3, 9) + (int)Max(2.5, 1.5); }
        [Expect("20")] public static int GenericInterface() { IArea<int> s = new GSquare { S = 4 }; return s.Area() + AreaOf(new GSquare { S = 2 }); }
        static T Id<T>(T x) { return x; }
        static T Def<T>() { return default(T); }
        static int Len<T>(T[] a) { return a.Length; }

        [Expect("5")] public static int ValueInstance() { return new GBox<int>(5).Get(); }
        [Expect("3")] public static int ReferenceInstance() { return new GBox<string>("abc").Get().Length; }
        [Expect("9")] public static long LongInstanceVirtual() { GBox<long> b = new GBox<long>(9); return b.Virt(); }
        [Expect("3.5")] public static double Struct2() { GPair<int, double> p = new GPair<int, double>(1, 2.5); return p.X + p.Y; }
        [Expect("9")] public static int GenericMethod() { return Id<int>(7) + Id("xy").Length; }
        [Expect("45")] public static int StackOfLong() { GStack<long> s = new GStack<long>(); for (int i = 0; i < 10; i++) s.Push(i); long t = 0; while (s.Count > 0) t += s.Pop(); return (int)t; }
        [Expect("6")] public static int StackOfString() { GStack<string> s = new GStack<string>(); s.Push("a"); s.Push("bc"); s.Push("def"); return s.Pop().Length + s.Pop().Length + s.Pop().Length; }
        [Expect("34")] public static int StaticsPerInstance() { GBox<int>.Count = 3; GBox<string>.Count = 4; return GBox<int>.Count * 10 + GBox<string>.Count; }
        [Expect("1")] public static double StaticDoubleOfGeneric() { return GBox<int>.Half + GBox<string>.Half; }
        [Expect("0")] public static int DefaultInt() { return Def<int>(); }
        [Expect("1")] public static bool DefaultRef() { return Def<string>() == null; }
        [Expect("0")] public static double DefaultDouble() { return Def<double>(); }
        [Expect("3")] public static int GenericArrayArg() { return Len(new byte[3]); }
        [Expect("5")] public static int NullableValue() { int? x = 5; return x.HasValue ? x.Value : 0; }
        [Expect("0")] public static bool NullableEmpty() { int? x = null; return x.HasValue; }
        [Expect("7")] public static int NullableGetValueOrDefault() { int? x = 7; return x.GetValueOrDefault(); }
        static object O(object o) { return o; }
        [Expect("1")] public static bool BoxEmptyNullableIsNull() { int? x = null; object o = x; return o == null; }
        [Expect("5")] public static int BoxFullNullableIsT() { int? x = 5; object o = x; return o is int ? (int)o : -1; }
        [Expect("1")] public static bool BoxedNullableIsNotNullableType() { long? x = 5; object o = x; return o is long; }
        [Expect("7")] public static int UnboxToNullable() { object o = O(7); int? x = (int?)o; return x.Value; }
        [Expect("0")] public static bool UnboxNullToNullable() { object o = O(null); int? x = (int?)o; return x.HasValue; }
        [ExpectError("invalid-cast")] public static int UnboxWrongTypeToNullable() { object o = O(7L); int? x = (int?)o; return x.Value; }
        [Expect("2.5")] public static double NullableDoubleRoundTrip() { double? d = 2.5; object o = d; double? e = (double?)o; return e.Value; }
        [Expect("7")] public static int LiftedAdd() { int? a = 3, b = null; int? c = a + b; int? d = a + 4; return (c.HasValue ? 100 : 0) + d.Value; }
        [Expect("9")] public static int Coalesce() { int? a = null; return a ?? 9; }
        // Casts whose answer reads a constructed type nothing instantiated:
        // List<CatG> below exists only as a type argument or array element.
        [Expect("1")] public static bool VarianceThroughUninstantiatedArgument() { object o = new System.Collections.Generic.List<System.Collections.Generic.List<CatG>>(); return o is System.Collections.Generic.IEnumerable<System.Collections.Generic.IEnumerable<IAnimalG>>; }
        [Expect("0")] public static bool VarianceThroughUninstantiatedArgumentFails() { object o = new System.Collections.Generic.List<System.Collections.Generic.List<CatG>>(); return o is System.Collections.Generic.IEnumerable<System.Collections.Generic.IEnumerable<string>>; }
        [Expect("1")] public static bool CovariantArrayOfUninstantiatedElement() { object o = new System.Collections.Generic.List<CatG>[1]; return o is System.Collections.Generic.IEnumerable<IAnimalG>[]; }
        [Expect("0")] public static bool CovariantArrayOfUninstantiatedElementFails() { object o = new System.Collections.Generic.List<CatG>[1]; return o is System.Collections.Generic.IEnumerable<string>[]; }
        [Expect("2")] public static int StaticsOfAnInstanceFirstTouchedLate() { GHolder<CatG[]>.Made++; GHolder<CatG[]>.Made++; return GHolder<CatG[]>.Made + GHolder<CatG[][]>.Made; }
    }
}
