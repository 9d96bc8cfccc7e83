// SharedGenerics.cs: generic classes instantiated over reference types, whose
// methods run one shared body per generic definition (cil-compat
// exec/shared.rs: SGCell<string>.Get and SGCell<object>.Get are one compiled
// SGCell<__Canon>.Get), beside value-type and mixed instantiations that stay
// specialised, and shared-looking methods that need the exact type (casts to T,
// arrays of T, statics per instantiation, interface calls over T, newobj of a
// T-dependent type) and so get code per instantiation. Every result must be
// the exact instantiation's, whichever code ran.
using System;
using System.Collections.Generic;

namespace Corpus
{
    public class SGCell<T>
    {
        T v;
        int reads;
        public static int Made;
        public SGCell(T v) { this.v = v; Made++; }
        public T Get() { reads++; return v; }
        public void Set(T x) { v = x; }
        public int Reads { get { return reads; } }
        public bool IsNull() { return v == null; }
        public T Swap(T x) { T old = Get(); Set(x); return old; }
        public virtual string Describe() { return v == null ? "null" : v.ToString(); }
        public object AsObject() { return v; }
        public T Cast(object o) { return (T)o; }
        public bool Is(object o) { return o is T; }
        public T[] Many(int n) { T[] a = new T[n]; for (int i = 0; i < n; i++) a[i] = v; return a; }
        public int MadeSoFar() { return Made; }
        public SGCell<T> Clone() { return new SGCell<T>(v); }
        public static T Echo(T x) { return x; }
        public T EchoViaStatic() { return Echo(v); }
        public T ViaGenericMethod() { return SGUtil.Id<T>(v); }
        public bool SameAs(T other) { return EqualityComparer<T>.Default.Equals(v, other); }
        public int CatchOwn(bool fail) { try { if (fail) throw new SGErr<T>(); return 1; } catch (SGErr<T>) { return 2; } }
        public int CatchGiven(Exception e) { try { throw e; } catch (SGErr<T>) { return 1; } catch (Exception) { return 2; } }
        public bool EvenDepth(int n) { return n == 0 ? true : OddDepth(n - 1); }
        public bool OddDepth(int n) { return n == 0 ? false : EvenDepth(n - 1); }
    }

    public class SGErr<T> : Exception { }

    public class SGDerived<T> : SGCell<T>
    {
        public SGDerived(T v) : base(v) { }
        public override string Describe() { return "d:" + base.Describe(); }
    }

    public class SGPair<K, V>
    {
        public K Key;
        public V Val;
        public SGPair(K k, V v) { Key = k; Val = v; }
        public K GetKey() { return Key; }
        public V GetVal() { return Val; }
        public SGPair<V, K> Flip() { return new SGPair<V, K>(Val, Key); }
    }

    public interface ISGSource<T> { T Next(); }
    public class SGRepeat<T> : ISGSource<T>
    {
        T x;
        public SGRepeat(T x) { this.x = x; }
        public T Next() { return x; }
    }
    public class SGHolder<T>
    {
        ISGSource<T> src;
        public SGHolder(ISGSource<T> s) { src = s; }
        public T Pull() { return src.Next(); }
    }

    public class SGRing<T>
    {
        T[] items;
        int n;
        public SGRing(int cap) { items = new T[cap]; }
        public void Add(T x) { items[n % items.Length] = x; n++; }
        public T At(int i) { return items[i]; }
        public int Count { get { return n < items.Length ? n : items.Length; } }
        public T[] Items { get { return items; } }
    }

    public class SGNode<T>
    {
        public T Val;
        public SGNode<T> Next;
        public SGNode(T v, SGNode<T> next) { Val = v; Next = next; }
        public int Length() { return Next == null ? 1 : 1 + Next.Length(); }
        public T Last() { SGNode<T> n = this; while (n.Next != null) n = n.Next; return n.Val; }
    }

    public static class SGUtil { public static U Id<U>(U x) { return x; } }
    public class SGKey : IComparable<SGKey> { public int K; public SGKey(int k) { K = k; } public int CompareTo(SGKey o) { return K - o.K; } }
    public class SGSorted<T> where T : IComparable<T>
    {
        T v;
        public SGSorted(T v) { this.v = v; }
        public int Cmp(T o) { return v.CompareTo(o); }
    }
    public class SGPicker<T>
    {
        public T Choose(SGGvm g, T a, T b) { return g.Pick<T>(a, b); }
    }
    public class SGGvm { public virtual T Pick<T>(T a, T b) { return a; } }
    public class SGGvm2 : SGGvm { public override T Pick<T>(T a, T b) { return b; } }

    public class SGBag<T>
    {
        List<T> items = new List<T>();
        public void Add(T x) { items.Add(x); }
        public int Count { get { return items.Count; } }
        public T First() { return items[0]; }
    }

    public static class SharedGenerics
    {
        static object O(object o) { return o; }

        [Expect("5")] public static int RefCellsShareCode() { var a = new SGCell<string>("ab"); var b = new SGCell<object>("xyz"); return a.Get().Length + ((string)b.Get()).Length; }
        [Expect("7")] public static int ValueCellIsSpecialised() { var a = new SGCell<int>(3); var b = new SGCell<long>(4); return a.Get() + (int)b.Get(); }
        [Expect("2")] public static int ReadsCounted() { var a = new SGCell<string>("q"); a.Get(); a.Get(); return a.Reads; }
        [Expect("1")] public static bool SwapCallsOwnSharedMethods() { var a = new SGCell<string>("ab"); string old = a.Swap("cd"); return old == "ab" && a.Get() == "cd"; }
        [Expect("1")] public static bool IsNullOnRef() { return new SGCell<string>(null).IsNull(); }
        [Expect("0")] public static bool IsNullOnValue() { return new SGCell<int>(0).IsNull(); }
        [Expect("1")] public static bool VirtualOverride() { SGCell<string> c = new SGDerived<string>("hi"); return c.Describe() == "d:hi"; }
        [Expect("1")] public static bool VirtualOverrideOnValue() { SGCell<int> c = new SGDerived<int>(42); return c.Describe() == "d:42"; }
        [Expect("1")] public static bool DescribeNull() { return new SGCell<object>(null).Describe() == "null"; }
        [Expect("1")] public static bool BoxRefIsSameObject() { string s = "k"; return (object)new SGCell<string>(s).AsObject() == (object)s; }
        [Expect("1")] public static bool BoxValueIsBoxedT() { return new SGCell<int>(4).AsObject() is int; }
        [Expect("3")] public static int CastToT() { return new SGCell<string>("x").Cast(O("abc")).Length; }
        [ExpectError("invalid-cast")] public static int CastToTFails() { return new SGCell<string>("x").Cast(O(5)).Length; }
        [Expect("2")] public static int IsTPerInstantiation() { var s = new SGCell<string>("x"); var o = new SGCell<object>("y"); return (s.Is(O(5)) ? 10 : 0) + (s.Is(O("a")) ? 1 : 0) + (o.Is(O(5)) ? 1 : 0); }
        [Expect("1")] public static bool ArrayOfTHasExactType() { object a = new SGCell<string>("v").Many(3); return a is string[]; }
        [Expect("0")] public static bool ArrayOfObjectIsNotStringArray() { object a = new SGCell<object>("v").Many(2); return a is string[]; }
        [Expect("3")] public static int ArrayOfValueT() { return new SGCell<byte>(1).Many(3).Length; }
        [Expect("21")] public static int StaticsPerInstantiation() { SGCell<SGRepeat<int>>.Made = 0; SGCell<SGRing<int>>.Made = 0; new SGCell<SGRepeat<int>>(null); new SGCell<SGRepeat<int>>(null); new SGCell<SGRing<int>>(null); return SGCell<SGRepeat<int>>.Made * 10 + new SGCell<SGRing<int>>(null).MadeSoFar() - 1; }
        [Expect("1")] public static bool ExactTypeOfInstance() { object o = new SGCell<string>("a"); return o is SGCell<string> && !(o is SGCell<object>); }
        [Expect("1")] public static bool CloneKeepsExactType() { object o = new SGCell<string>("a").Clone(); return o is SGCell<string> && !(o is SGCell<object>); }
        [Expect("1")] public static bool MutualRecursion() { return new SGCell<string>("a").EvenDepth(10) && !new SGCell<object>(null).EvenDepth(7); }
        [Expect("13")] public static int MixedPairs() { var a = new SGPair<string, int>("abc", 10); var b = new SGPair<int, string>(0, "z"); return a.GetKey().Length + a.GetVal() + b.GetKey() + b.GetVal().Length - 1; }
        [Expect("5")] public static int RefRefPair() { var p = new SGPair<string, object>("ab", "cde"); return p.GetKey().Length + ((string)p.GetVal()).Length; }
        [Expect("1")] public static bool FlipHasExactType() { object f = new SGPair<string, int>("a", 1).Flip(); return f is SGPair<int, string>; }
        [Expect("3")] public static int InterfaceOverT() { var h = new SGHolder<string>(new SGRepeat<string>("hey")); return h.Pull().Length; }
        [Expect("8")] public static int InterfaceOverValueT() { var h = new SGHolder<int>(new SGRepeat<int>(8)); return h.Pull(); }
        [Expect("1")] public static bool GenericVirtualMethodOverRef() { SGGvm g = new SGGvm2(); return g.Pick("ab", "cd") == "cd"; }
        [Expect("2")] public static int GenericVirtualMethodOverValue() { SGGvm g = new SGGvm2(); return g.Pick(1, 2); }
        [Expect("4")] public static int LinkedListLength() { var n = new SGNode<string>("a", new SGNode<string>("b", new SGNode<string>("c", new SGNode<string>("d", null)))); return n.Length(); }
        [Expect("1")] public static bool LinkedListLast() { var n = new SGNode<string>("a", new SGNode<string>("b", new SGNode<string>("d", null))); return n.Last() == "d"; }
        [Expect("12")] public static int RingOfStrings() { var r = new SGRing<string>(3); r.Add("a"); r.Add("bb"); r.Add("ccc"); r.Add("dddddd"); return r.At(0).Length + r.At(1).Length + r.At(2).Length + r.Count - 2; }
        [Expect("1")] public static bool RingItemsExactType() { var r = new SGRing<string>(2); object a = r.Items; return a is string[] && !(new SGRing<object>(1).Items is string[]); }
        [Expect("42")] public static long RingOfLongs() { var r = new SGRing<long>(4); for (long i = 0; i < 6; i++) r.Add(i * 3); return r.At(0) + r.At(1) + r.At(2) + r.At(3); }
        [Expect("6")] public static int NestedLists() { var outer = new List<List<string>>(); var a = new List<string>(); a.Add("x"); a.Add("yz"); var b = new List<string>(); b.Add("abc"); outer.Add(a); outer.Add(b); int n = 0; for (int i = 0; i < outer.Count; i++) for (int j = 0; j < outer[i].Count; j++) n += outer[i][j].Length; return n; }
        [Expect("1")] public static bool NestedListExactType() { var outer = new List<List<string>>(); outer.Add(new List<string>()); object inner = outer[0]; return inner is List<string> && !(inner is List<object>); }
        [Expect("5")] public static int BagOverRefAndValue() { var s = new SGBag<string>(); s.Add("ab"); s.Add("c"); var v = new SGBag<int>(); v.Add(3); return s.Count + s.First().Length + v.Count; }
        [Expect("1")] public static bool StaticOfGenericTypeFromShared() { return new SGCell<string>("e").EchoViaStatic() == "e" && new SGCell<object>(null).EchoViaStatic() == null; }
        [Expect("1")] public static bool GenericMethodFromShared() { return new SGCell<string>("g").ViaGenericMethod() == "g"; }
        [Expect("1")] public static bool EqualityComparerFromShared() { var c = new SGCell<string>("x"); return c.SameAs("x") && !c.SameAs("y") && new SGCell<int>(3).SameAs(3); }
        [Expect("-2")] public static int ConstrainedInterfaceCallFromShared() { return new SGSorted<SGKey>(new SGKey(3)).Cmp(new SGKey(5)); }
        [Expect("1")] public static bool GenericVirtualCallFromShared() { var p = new SGPicker<string>(); return p.Choose(new SGGvm2(), "a", "b") == "b" && p.Choose(new SGGvm(), "a", "b") == "a"; }
        [Expect("21")] public static int CatchClauseOverT() { var c = new SGCell<string>("a"); return c.CatchOwn(true) * 10 + c.CatchOwn(false); }
        [Expect("21")] public static int CatchClauseIsExact() { var c = new SGCell<string>("a"); return c.CatchGiven(new SGErr<object>()) * 10 + c.CatchGiven(new SGErr<string>()); }
        [Expect("12")] public static int StaticsInSharedCode() { SGCell<SGKey>.Made = 5; SGCell<SGGvm>.Made = 1; var a = new SGCell<SGKey>(null); new SGCell<SGGvm>(null); return a.MadeSoFar() + new SGCell<SGGvm>(null).MadeSoFar() * 2; }
        [Expect("3")] public static int BagOfBags() { var b = new SGBag<SGBag<string>>(); var inner = new SGBag<string>(); inner.Add("xyz"); b.Add(inner); return b.First().First().Length; }
    }
}
