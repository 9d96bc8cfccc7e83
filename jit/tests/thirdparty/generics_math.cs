// generics_math.cs: test_N_name programs over generic classes and methods,
// float32/float64 arithmetic and System.Math, delegates and lambdas, strings and
// collections, written as a user of another runtime would write them.
using System;
using System.Collections.Generic;
using System.Text;

class Cell<T> { public T Value; public Cell(T v) { Value = v; } public T Get() { return Value; } }
struct Range2<T> { public T Lo, Hi; public Range2(T lo, T hi) { Lo = lo; Hi = hi; } }
class Shape { public virtual double Area() { return 0; } }
class Circle : Shape { double r; public Circle(double r) { this.r = r; } public override double Area() { return Math.PI * r * r; } }
class Rect : Shape { double w, h; public Rect(double w, double h) { this.w = w; this.h = h; } public override double Area() { return w * h; } }

class GenericMathTests
{
    static int Main(string[] args) { return test_5_generic_class() == 5 ? 0 : 1; }

    static T First<T>(T[] a) { return a[0]; }
    static void Swap<T>(ref T a, ref T b) { T t = a; a = b; b = t; }
    static T Largest<T>(List<T> l) where T : IComparable<T>
    {
        T best = l[0];
        for (int i = 1; i < l.Count; i++) if (l[i].CompareTo(best) > 0) best = l[i];
        return best;
    }

    public static int test_5_generic_class() { return new Cell<int>(5).Get(); }
    public static int test_3_generic_ref() { return new Cell<string>("abc").Get().Length; }
    public static int test_7_generic_struct() { Range2<long> r = new Range2<long>(3, 10); return (int)(r.Hi - r.Lo); }
    public static int test_9_generic_method() { return First(new int[] { 9, 1 }); }
    public static int test_21_swap() { int a = 1, b = 2; Swap(ref a, ref b); return a * 10 + b; }
    public static int test_42_largest() { List<int> l = new List<int>(); l.Add(7); l.Add(42); l.Add(-3); return Largest(l); }
    public static int test_4_largest_double() { List<double> l = new List<double>(); l.Add(2.5); l.Add(4.25); return (int)Largest(l); }
    public static int test_51_float_rounding() { float a = 2.5f, b = 20.4f; return (int)(a * b); }
    public static int test_1_float_sum() { float s = 0; for (int i = 0; i < 10; i++) s += 0.1f; return s == 1.0000001f ? 1 : 0; }
    public static int test_2_round_to_even() { return (int)Math.Round(2.5) + (int)Math.Round(-0.5); }
    public static int test_12_sqrt() { return (int)Math.Sqrt(144.0); }
    public static int test_1024_pow() { return (int)Math.Pow(2, 10); }
    public static int test_3_floor_ceiling() { return (int)Math.Floor(-1.5) + (int)Math.Ceiling(4.1) + (int)Math.Truncate(-0.9); }
    public static int test_1_nan() { double z = 0; double n = z / z; return double.IsNaN(n) && !(n == n) ? 1 : 0; }
    public static int test_1_infinity() { double z = 0; return double.IsPositiveInfinity(1 / z) ? 1 : 0; }
    public static int test_65_virtual_area() { Shape[] s = { new Circle(1), new Rect(2, 3), new Circle(2) }; double t = 0; for (int i = 0; i < s.Length; i++) t += s[i].Area(); return (int)(t * 3); }
    public static int test_100_trig() { return (int)Math.Round(100 * (Math.Sin(0.5) * Math.Sin(0.5) + Math.Cos(0.5) * Math.Cos(0.5))); }
    public static int test_15_lambda() { Func<int, int, int> add = (x, y) => x + y; return add(7, 8); }
    public static int test_12_closure() { int k = 2; Func<int, int> f = x => x * k; k = 3; return f(4); }
    public static int test_121_multicast() { int log = 0; Action a = () => log = log * 10 + 1; a += () => log = log * 10 + 2; a += () => log = log * 10 + 1; a(); return log; }
    public static int test_6_dictionary() { Dictionary<string, int> d = new Dictionary<string, int>(); d["a"] = 1; d["b"] = 2; d["a"] += 3; return d["a"] + d["b"]; }
    public static int test_11_string_builder() { StringBuilder sb = new StringBuilder(); for (int i = 0; i < 3; i++) sb.Append(i).Append(','); return sb.ToString().Length * 2 - 1; }
    public static int test_3_split() { return "x;y;z".Split(';').Length; }
    public static int test_255_parse_hex() { return int.Parse("FF", System.Globalization.NumberStyles.HexNumber); }
    public static int test_7_format() { return string.Format("{0:X4}|{1}", 255, "ab").Length; }
    public static int test_5_nullable() { int? a = 5; object o = a; int? b = (int?)o; return b.Value; }
}
