// runtime_types.cs: test_N_name programs over what a program asks the runtime
// about its values: GetType and Type names, casts (integer element types of
// arrays, `is T?`, variant generic interfaces and delegates), struct and enum
// Equals, a delegate over a struct's method, the exact-type check of an array
// element's address, decimal and TimeSpan values, exception types programs
// throw themselves or the runtime raises, and the query operators and
// SortedList (both outside mscorlib under mono).
using System;
using System.Collections.Generic;
using System.Linq;

namespace Shapes { class Circle { } struct Dot { } class Holder { public class Item { } } }

enum Color : long { Red = 1, Blue = 4 }
struct Cell { public int X; public long Y; public Cell(int x, long y) { X = x; Y = y; } public long Sum() { return X + Y; } }
interface IMaker<out T> { T Make(); }
interface ISink<in T> { void Put(T t); }
sealed class StringMaker : IMaker<string> { public string Make() { return "made"; } }
sealed class ObjectSink : ISink<object> { public int Count; public void Put(object o) { Count++; } }

class RuntimeTypeTests
{
    static int Main(string[] args) { return test_1_gettype_boxed_int() == 1 ? 0 : 1; }

    static bool Same<T>(T a, T b) { return a.Equals(b); }
    static void Fill(out object slot) { slot = new object(); }

    public static int test_1_gettype_boxed_int() { object o = 41; return o.GetType() == typeof(int) ? 1 : 0; }
    public static int test_2_gettype_distinguishes() { object a = "s", b = new int[2]; return (a.GetType() != typeof(object) ? 1 : 0) + (b.GetType() == typeof(int[]) ? 1 : 0); }
    public static int test_6_type_name() { return typeof(Shapes.Circle).Name.Length; }
    public static int test_13_type_full_name() { return typeof(Shapes.Circle).FullName.Length; }
    public static int test_1_nested_type_name() { return typeof(Shapes.Holder.Item).FullName == "Shapes.Holder+Item" ? 1 : 0; }
    public static int test_1_array_type_names() { return typeof(long[,]).Name == "Int64[,]" && new string[0].GetType().FullName == "System.String[]" ? 1 : 0; }
    public static int test_1_generic_type_name() { return typeof(List<int>).ToString() == "System.Collections.Generic.List`1[System.Int32]" ? 1 : 0; }
    public static int test_1_struct_tostring_is_type_name() { object d = new Shapes.Dot(); return d.ToString() == "Shapes.Dot" ? 1 : 0; }
    public static int test_3_is_assignable_from()
    {
        int r = typeof(object).IsAssignableFrom(typeof(Shapes.Circle)) ? 1 : 0;
        r += typeof(ICloneable).IsAssignableFrom(typeof(string)) ? 1 : 0;
        r += typeof(Shapes.Circle).IsAssignableFrom(typeof(object)) ? 0 : 1;
        return r;
    }
    public static int test_1_string_is_cloneable() { ICloneable c = "abc"; return ReferenceEquals(c.Clone(), c) ? 1 : 0; }
    public static int test_9_typecode_values() { return (int)TypeCode.Int32; }
    public static int test_3_long_array_is_intptr_array()
    {
        object a = new long[1], b = new UIntPtr[1], c = new int[1];
        return (a is IntPtr[] ? 1 : 0) + (b is ulong[] ? 1 : 0) + (c is IntPtr[] ? 0 : 1);
    }
    public static int test_1_interface_array_is_object_array() { object o = new ICloneable[1]; return o is object[] ? 1 : 0; }
    public static int test_4_decimal_equality()
    {
        decimal a = 1.50m, b = 1.5m, c = -1.5m;
        int r = a == b ? 1 : 0;
        r += a != c ? 1 : 0;
        r += c < a ? 1 : 0;
        r += a.GetHashCode() == b.GetHashCode() ? 1 : 0;
        return r;
    }
    public static int test_2_decimal_2d_array() { decimal[,] m = { { 2, 3 } }; return m[0, 0] == 2m && m[0, 1] != 2m ? 2 : 0; }
    public static int test_90_timespan_minutes() { TimeSpan t = new TimeSpan(1, 30, 0); return (int)t.TotalMinutes; }
    public static int test_1_timespan_compare() { return TimeSpan.FromSeconds(2) > new TimeSpan(0, 0, 1) && TimeSpan.Zero.CompareTo(TimeSpan.FromTicks(-1)) == 1 ? 1 : 0; }
    public static int test_2_application_exception()
    {
        try { throw new ApplicationException("mine"); }
        catch (ApplicationException e) { return e.Message == "mine" ? 2 : 0; }
    }
    public static int test_7_type_init_exception_carries_inner()
    {
        Exception e = new TypeInitializationException("Shapes.Circle", new DivideByZeroException());
        return e.InnerException is DivideByZeroException ? 7 : 0;
    }
    public static int test_2_linq_where_count() { int[] v = { 1, 2, 3, 4, 5 }; return v.Where(x => x % 2 == 0).Count(); }
    public static int test_12_linq_select_to_array() { int[] v = { 1, 2, 3 }; int[] w = v.Select(x => x * 2).ToArray(); return w[0] + w[1] + w[2]; }
    public static int test_1_linq_any_first() { string[] s = { "pear", "fig" }; return s.Any(x => x.Length == 3) && s.First() == "pear" ? 1 : 0; }
    public static int test_3_sorted_list_order()
    {
        SortedList<int, string> l = new SortedList<int, string>();
        l.Add(20, "b"); l[30] = "c"; l.Add(10, "a");
        return l.IndexOfKey(30) + (l.ContainsKey(40) ? 10 : 1);
    }
    public static int test_20_sorted_list_timespan_keys()
    {
        SortedList<TimeSpan, int> l = new SortedList<TimeSpan, int>();
        l.Add(TimeSpan.FromMinutes(5), 10); l.Add(TimeSpan.FromSeconds(1), 20);
        int v; l.TryGetValue(TimeSpan.FromMilliseconds(1000), out v);
        l.Remove(TimeSpan.FromMinutes(5));
        return l.Count == 1 ? v : 0;
    }
    public static int test_2_is_nullable()
    {
        object a = 5, b = "5";
        return (a is int? ? 1 : 0) + (b is int? ? 0 : 1);
    }
    public static int test_3_enum_and_struct_equals()
    {
        int r = Same(Color.Blue, Color.Blue) && !Same(Color.Red, Color.Blue) ? 1 : 0;
        r += Same(new Cell(1, 2), new Cell(1, 2)) && !Same(new Cell(1, 2), new Cell(1, 3)) ? 1 : 0;
        object boxed = Color.Red;
        r += boxed.Equals(1L) ? 0 : 1;
        return r;
    }
    public static int test_1_struct_hash_matches_equals() { return new Cell(7, 8).GetHashCode() == new Cell(7, 8).GetHashCode() ? 1 : 0; }
    public static int test_4_variant_interfaces()
    {
        object m = new StringMaker(), s = new ObjectSink();
        int r = m is IMaker<object> ? 1 : 0;
        r += s is ISink<string> ? 1 : 0;
        r += m is IMaker<int> ? 0 : 1;
        ISink<string> sink = (ISink<string>)s;
        sink.Put("x");
        return r + ((ObjectSink)s).Count;
    }
    public static int test_2_variant_is_assignable_from()
    {
        return (typeof(IMaker<object>).IsAssignableFrom(typeof(IMaker<string>)) ? 1 : 0)
            + (typeof(Func<object>).IsAssignableFrom(typeof(Func<string>)) ? 1 : 0);
    }
    public static int test_2_element_address_needs_exact_array()
    {
        object[] objs = new string[2];
        int r = 0;
        try { Fill(out objs[0]); } catch (ArrayTypeMismatchException) { r++; }
        object[] exact = new object[1];
        Fill(out exact[0]);
        return exact[0] != null ? r + 1 : r;
    }
    public static int test_1_huge_md_array_out_of_memory()
    {
        try { int[,] m = new int[int.MaxValue, 1 << 20]; return m.Rank; }
        catch (OutOfMemoryException) { return 1; }
    }
    public static int test_15_delegate_over_struct_method()
    {
        Cell c = new Cell(5, 10);
        Func<long> f = c.Sum;
        c.X = 100;
        return (int)f();
    }
    // `a[0].ToString()` on a type parameter compiles to `readonly. ldelema
    // !!T; constrained. callvirt`: the address is only read through, so a
    // covariant array (a string[] seen as object[]) is fine (ECMA-335
    // §III.2.3). typeof(T) keeps the method's code specialised per T.
    static int ReadOnlyFirst<T>(T[] a)
    {
        Type t = typeof(T);
        return t != null && a[0].ToString() == "x" ? 1 : 0;
    }
    public static int test_1_readonly_ldelema_on_covariant_array()
    {
        object[] a = new string[] { "x" };
        return ReadOnlyFirst<object>(a);
    }
}
