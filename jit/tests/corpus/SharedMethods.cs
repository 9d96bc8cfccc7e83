// SharedMethods.cs: generic methods (static, instance, virtual, of
// interfaces), static members of generic types and methods of generic structs
// instantiated over reference types, whose shared bodies get the exact
// instantiation as a hidden argument (cil-compat exec/shared.rs:
// SMUtil.Id<string> and SMUtil.Id<object> are one compiled Id<__Canon>,
// entered through an instantiating stub per exact method; SMCache<string>.Get
// and SMCache<object>.Get one SMCache<__Canon>.Get), beside value-type and
// mixed instantiations that stay specialised. Every result must be the exact
// instantiation's, whichever code ran: casts to T, `is T`, `new T[]`, statics
// and class constructors per instantiation, nested instantiations
// (F<List<T>>), recursion, and delegates to shared methods.
using System;
using System.Collections.Generic;

namespace Corpus
{
    public delegate R SMFn<A, R>(A a);

    public static class SMUtil
    {
        public static T Id<T>(T x) { return x; }
        public static T First<T>(List<T> l) { return l[0]; }
        public static T Deflt<T>() { return default(T); }
        public static T CastTo<T>(object o) { return (T)o; }
        public static bool IsT<T>(object o) { return o is T; }
        public static T AsT<T>(object o) where T : class { return o as T; }
        public static T[] Make<T>(int n, T fill) { T[] a = new T[n]; for (int i = 0; i < n; i++) a[i] = fill; return a; }
        public static T[] Two<T>(T a, T b) { return new T[] { a, b }; }
        public static List<T> Wrap<T>(T x) { var l = new List<T>(); l.Add(x); return l; }
        public static T FirstOfWrapped<T>(T x) { return First<T>(Wrap<T>(x)); }
        public static List<List<T>> Nest<T>(T x) { return Wrap<List<T>>(Wrap<T>(x)); }
        public static int Depth<T>(T x, int n) { return n == 0 ? 0 : 1 + Depth<T>(x, n - 1); }
        public static int Grow<T>(T x, int n) { return n == 0 ? 0 : 1 + Grow<List<T>>(Wrap<T>(x), n - 1); }
        public static bool Even<T>(T x, int n) { return n == 0 ? true : Odd<T>(x, n - 1); }
        public static bool Odd<T>(T x, int n) { return n == 0 ? false : Even<T>(x, n - 1); }
        public static K Key<K, V>(K k, V v) { return k; }
        public static V Val<K, V>(K k, V v) { return v; }
        public static T Max<T>(T a, T b) where T : IComparable<T> { return a.CompareTo(b) >= 0 ? a : b; }
        public static string Name<T>(T x) where T : class { return x == null ? "null" : x.ToString(); }
        public static int CountNonNull<T>(T[] a) where T : class { int n = 0; foreach (T x in a) if (x != null) n++; return n; }
        public static R Apply<A, R>(SMFn<A, R> f, A a) { return f(a); }
        public static SMFn<T, T> IdFn<T>() { return Id<T>; }
        public static int Churn<T>(T x, int n) { int len = 0; for (int i = 0; i < n; i++) { var l = Wrap<T>(x); l.Add(x); len += l.Count; T[] a = Two<T>(x, l[0]); len += a.Length; } return len; }
        public static int Sum<T>(List<T> l, SMFn<T, int> f) { int s = 0; for (int i = 0; i < l.Count; i++) s += f(l[i]); return s; }
        public static SMCell<T> Cell<T>(T x) { return new SMCell<T>(x); }
        public static int ReadStatic<T>() { return SMCache<T>.Hits(); }
        public static T[] ViaMaker<T>(ISMMaker m, T x) { return m.Many<T>(x, 2); }
        public static int Throws<T>(object o) { try { T t = (T)o; return t == null ? 3 : 1; } catch (InvalidCastException) { return 2; } }
    }

    public class SMKey : IComparable<SMKey> { public int K; public SMKey(int k) { K = k; } public int CompareTo(SMKey o) { return K - o.K; } }

    public class SMCell<T>
    {
        public T V;
        public object Last;
        public SMCell(T v) { V = v; }
        public SMCell<U> With<U>(U u) { return new SMCell<U>(u); }
        public void Put<U>(U x) { Last = x; }
        public T Keep<U>(U other) { Last = other; return V; }
        public bool IsU<U>(object o) { return o is U; }
        public U[] Pair<U>(U a) { return new U[] { a, a }; }
        public KeyValuePair<T, U> Zip<U>(U u) { return new KeyValuePair<T, U>(V, u); }
        public static SMCell<T> Make(T v) { return new SMCell<T>(v); }
        public static T Unwrap(SMCell<T> c) { return c.V; }
        public virtual U Visit<U>(U x) { return x; }
    }

    public class SMCell2<T> : SMCell<T>
    {
        public SMCell2(T v) : base(v) { }
        public override U Visit<U>(U x) { return SMUtil.Deflt<U>(); }
    }

    public interface ISMMaker { U[] Many<U>(U x, int n); }
    public class SMMaker : ISMMaker
    {
        public virtual U[] Many<U>(U x, int n) { U[] a = new U[n]; for (int i = 0; i < n; i++) a[i] = x; return a; }
    }
    public class SMMaker2 : SMMaker
    {
        public override U[] Many<U>(U x, int n) { U[] a = base.Many<U>(x, n + 1); a[0] = default(U); return a; }
    }

    public class SMCache<T>
    {
        static T last;
        static int hits;
        public static List<T> Seen;
        static SMCache() { Seen = new List<T>(); hits = 100; }
        public static void Put(T x) { last = x; Seen.Add(x); hits++; }
        public static T Get() { return last; }
        public static int Hits() { return hits; }
        public static T[] All() { return Seen.ToArray(); }
        public static U Convert<U>(T x) where U : class { return x as U; }
        public static int PutMany(T x, int n) { for (int i = 0; i < n; i++) Put(x); return Hits(); }
    }

    public class SMInit<T>
    {
        public static string Log;
        static SMInit() { Log = "init"; }
        public static string Touch() { Log = Log + "+"; return Log; }
    }

    public interface ISMGet<T> { T Get(); }

    public struct SMPair<T> : ISMGet<T>
    {
        public T A;
        public int N;
        public SMPair(T a, int n) { A = a; N = n; }
        public T GetA() { return A; }
        public bool IsT(object o) { return o is T; }
        public T[] Arr() { return new T[N]; }
        public static SMPair<T> Of(T a) { return new SMPair<T>(a, 1); }
        public U Get<U>(U u) { return u; }
        public T Get() { return A; }
        public override string ToString() { return A == null ? "P-" : "P" + N; }
    }

    public static class SharedMethods
    {
        static object O(object o) { return o; }

        [Expect("5")] public static int IdOverRefs() { return SMUtil.Id<string>("ab").Length + ((string)SMUtil.Id<object>("xyz")).Length; }
        [Expect("7")] public static int IdOverValues() { return SMUtil.Id<int>(3) + (int)SMUtil.Id<long>(4); }
        [Expect("3")] public static int FirstOfList() { var l = new List<string>(); l.Add("abc"); return SMUtil.First(l).Length; }
        [Expect("1")] public static bool DefaultOfRef() { return SMUtil.Deflt<string>() == null && SMUtil.Deflt<object>() == null && SMUtil.Deflt<int>() == 0; }
        [Expect("3")] public static int CastToT() { return SMUtil.CastTo<string>(O("abc")).Length; }
        [ExpectError("invalid-cast")] public static int CastToTFails() { return SMUtil.CastTo<string>(O(5)).Length; }
        [Expect("21")] public static int CastFailureCaught() { return SMUtil.Throws<string>(O(1)) * 10 + SMUtil.Throws<string>(O("s")); }
        [Expect("110")] public static int IsTPerInstantiation() { return (SMUtil.IsT<string>(O("a")) ? 100 : 0) + (SMUtil.IsT<object>(O(5)) ? 10 : 0) + (SMUtil.IsT<string>(O(5)) ? 1 : 0); }
        [Expect("1")] public static bool AsT() { return SMUtil.AsT<string>(O("q")) == "q" && SMUtil.AsT<SMCell<int>>(O("q")) == null; }
        [Expect("1")] public static bool ArrayOfTHasExactType() { object a = SMUtil.Make<string>(3, "v"); object b = SMUtil.Make<object>(2, "v"); return a is string[] && !(b is string[]) && ((object[])b).Length == 2; }
        [Expect("1")] public static bool ArrayInitialiser() { object a = SMUtil.Two<string>("a", "b"); return a is string[] && ((string[])a)[1] == "b"; }
        [Expect("3")] public static int ArrayOfValueT() { return SMUtil.Make<byte>(3, 1).Length; }
        [Expect("2")] public static int GenericCallsGeneric() { return SMUtil.FirstOfWrapped<string>("xy").Length; }
        [Expect("1")] public static bool NestedInstantiation() { object n = SMUtil.Nest<string>("q"); return n is List<List<string>> && !(n is List<List<object>>) && SMUtil.Nest<string>("q")[0][0] == "q"; }
        [Expect("10")] public static int Recursion() { return SMUtil.Depth<string>("a", 7) + SMUtil.Depth<int>(1, 3); }
        [Expect("5")] public static int RecursionOverGrowingTypes() { return SMUtil.Grow<string>("a", 5); }
        [Expect("1")] public static bool MutualRecursion() { return SMUtil.Even<string>("a", 10) && !SMUtil.Odd<object>(null, 8); }
        [Expect("13")] public static int MixedArguments() { return SMUtil.Key<string, int>("abc", 10).Length + SMUtil.Val<string, int>("abc", 10); }
        [Expect("7")] public static int MixedArgumentsOtherWay() { return SMUtil.Key<int, string>(3, "x") + SMUtil.Val<int, string>(0, "abcd").Length; }
        [Expect("5")] public static int BothReferences() { return SMUtil.Key<string, object>("ab", null).Length + ((string)SMUtil.Val<object, object>(null, "xyz")).Length; }
        [Expect("1")] public static bool ConstraintCall() { return SMUtil.Max<SMKey>(new SMKey(3), new SMKey(1)).K == 3 && SMUtil.Max<int>(2, 9) == 9; }
        [Expect("1")] public static bool ClassConstraint() { return SMUtil.Name<string>("n") == "n" && SMUtil.Name<object>(null) == "null"; }
        [Expect("2")] public static int ForeachOverT() { return SMUtil.CountNonNull<string>(new string[] { "a", null, "b" }); }
        [Expect("1")] public static bool DelegateToShared() { SMFn<string, string> f = SMUtil.Id<string>; SMFn<object, object> g = SMUtil.Id<object>; return f("d") == "d" && (string)g("e") == "e"; }
        [Expect("1")] public static bool DelegateMadeInShared() { return SMUtil.IdFn<string>()("z") == "z" && SMUtil.IdFn<int>()(4) == 4; }
        [Expect("6")] public static int DelegateCalledInShared() { return SMUtil.Apply<string, int>(s => s.Length, "abc") + SMUtil.Apply<object, int>(o => 3, null); }
        [Expect("6")] public static int DelegateOverListInShared() { var l = new List<string>(); l.Add("a"); l.Add("bb"); l.Add("ccc"); return SMUtil.Sum<string>(l, s => s.Length); }
        [Expect("80")] public static int AllocatesInLoops() { return SMUtil.Churn<string>("s", 10) + SMUtil.Churn<object>(null, 10); }
        [Expect("1")] public static bool NewObjOfTypeOverT() { object c = SMUtil.Cell<string>("a"); return c is SMCell<string> && !(c is SMCell<object>); }
        [Expect("1")] public static bool InstanceGenericMethod() { var c = new SMCell<string>("v"); c.Put<string>("p"); var ok = (string)c.Last == "p"; c.Put<object>(null); return ok && c.Last == null && c.Keep<string>("k") == "v" && (string)c.Last == "k"; }
        [Expect("1")] public static bool InstanceGenericMethodOnValueCell() { var c = new SMCell<int>(4); return c.Keep<string>("k") == 4 && (string)c.Last == "k"; }
        [Expect("11")] public static int InstanceGenericIsU() { var c = new SMCell<object>(null); return (c.IsU<string>(O("a")) ? 10 : 0) + (c.IsU<object>(O(1)) ? 1 : 0) + (c.IsU<string>(O(1)) ? 100 : 0); }
        [Expect("1")] public static bool InstanceGenericNewArray() { object a = new SMCell<int>(1).Pair<string>("x"); return a is string[]; }
        [Expect("1")] public static bool InstanceGenericNewObj() { object c = new SMCell<string>("a").With<object>("b"); return c is SMCell<object> && !(c is SMCell<string>); }
        [Expect("1")] public static bool ZipOverBoth() { var kv = new SMCell<string>("k").Zip<object>("v"); return kv.Key == "k" && (string)kv.Value == "v"; }
        [Expect("1")] public static bool GenericVirtualStaysRight() { SMCell<string> c = new SMCell2<string>("a"); SMCell<string> d = new SMCell<string>("a"); return c.Visit<string>("x") == null && d.Visit<string>("x") == "x" && c.Visit<int>(5) == 0; }
        [Expect("1")] public static bool GenericVirtualNeedsExactType() { SMMaker a = new SMMaker(); SMMaker b = new SMMaker2(); object x = a.Many<string>("s", 2); object y = b.Many<object>("o", 2); return x is string[] && !(y is string[]) && ((object[])y).Length == 3 && ((object[])y)[0] == null && (string)((object[])y)[2] == "o"; }
        [Expect("1")] public static bool GenericInterfaceMethod() { ISMMaker m = new SMMaker2(); string[] a = m.Many<string>("s", 1); ISMMaker n = new SMMaker(); return a.Length == 2 && a[1] == "s" && n.Many<SMKey>(null, 4).Length == 4 && n.Many<int>(7, 1)[0] == 7; }
        [Expect("1")] public static bool GenericInterfaceMethodFromShared() { object a = SMUtil.ViaMaker<string>(new SMMaker2(), "q"); object b = SMUtil.ViaMaker<object>(new SMMaker(), "q"); return a is string[] && ((string[])a)[2] == "q" && b is object[] && !(b is string[]); }
        [Expect("1")] public static bool StaticMethodOfGenericClass() { return SMCell<string>.Unwrap(SMCell<string>.Make("u")) == "u" && SMCell<object>.Make(null).V == null && SMCell<int>.Unwrap(SMCell<int>.Make(3)) == 3; }
        [Expect("102")] public static int StaticFieldsPerInstantiation() { SMCache<string>.Put("a"); SMCache<string>.Put("b"); SMCache<object>.Put(null); return SMCache<string>.Hits(); }
        [Expect("1")] public static bool StaticFieldExactValue() { SMCache<SMCell<string>>.Put(null); SMCache<SMCell<object>>.Put(new SMCell<object>("o")); return SMCache<SMCell<string>>.Get() == null && (string)SMCache<SMCell<object>>.Get().V == "o"; }
        [Expect("1")] public static bool StaticListExactType() { SMCache<List<string>>.Put(null); object a = SMCache<List<string>>.All(); return a is List<string>[] && !(a is List<object>[]); }
        [Expect("1")] public static bool StaticGenericMethodOfGenericClass() { return SMCache<object>.Convert<string>("c") == "c" && SMCache<object>.Convert<SMCell<int>>("c") == null; }
        [Expect("105")] public static int StaticLoopOfPuts() { return SMCache<SMInit<int>>.PutMany(null, 5); }
        [Expect("101")] public static int StaticReadFromGenericMethod() { SMCache<SMPair<string>[]>.Put(null); return SMUtil.ReadStatic<SMPair<string>[]>(); }
        [Expect("1")] public static bool ClassConstructorPerInstantiation() { return SMInit<string>.Touch() == "init+"; }
        [Expect("1")] public static bool ClassConstructorRunsOnce() { SMInit<object>.Touch(); return SMInit<object>.Touch() == "init++"; }
        [Expect("1")] public static bool StructOverRef() { var p = new SMPair<string>("a", 2); object arr = p.Arr(); return p.GetA() == "a" && arr is string[] && p.IsT(O("x")) && !p.IsT(O(1)); }
        [Expect("1")] public static bool StructStaticOverRef() { return SMPair<string>.Of("q").GetA() == "q" && SMPair<object>.Of(null).N == 1 && SMPair<int>.Of(3).GetA() == 3; }
        [Expect("1")] public static bool StructThroughInterface() { ISMGet<string> g = new SMPair<string>("i", 1); ISMGet<object> h = new SMPair<object>(null, 1); return g.Get() == "i" && h.Get() == null; }
        [Expect("1")] public static bool StructOverrideThroughBox() { object a = new SMPair<string>("a", 3); object b = new SMPair<object>(null, 1); return a.ToString() == "P3" && b.ToString() == "P-"; }
        [Expect("1")] public static bool StructGenericMethod() { var p = new SMPair<string>("a", 1); return p.Get<string>("g") == "g" && p.Get<int>(2) == 2; }
    }
}
