// objects.cs: test_N_name programs over structs, classes, virtual and interface
// calls, boxing and arrays of structs.
using System;

struct Pair { public int A, B; public Pair(int a, int b) { A = a; B = b; } public int Sum() { return A + B; } }
struct Rgb { public byte R, G, B; }
interface IValue { int Value(); }
class Box : IValue { int v; public Box(int v) { this.v = v; } public virtual int Value() { return v; } }
class DoubleBox : Box { public DoubleBox(int v) : base(v) { } public override int Value() { return base.Value() * 2; } }

class ObjectTests
{
    static int Main(string[] args) { return test_3_struct_sum() == 3 ? 0 : 1; }

    static Pair make(int a, int b) { return new Pair(a, b); }
    static int take(Pair p) { return p.A * 10 + p.B; }

    public static int test_3_struct_sum() { Pair p = new Pair(1, 2); return p.Sum(); }
    public static int test_12_struct_arg() { return take(make(1, 2)); }
    public static int test_2_struct_field_of_call() { return make(1, 2).B; }
    public static int test_6_rgb_array() { Rgb[] a = new Rgb[3]; a[1].R = 1; a[1].G = 2; a[1].B = 3; return a[1].R + a[1].G + a[1].B + a[0].B + a[2].R; }
    public static int test_5_class_field() { Box b = new Box(5); return b.Value(); }
    public static int test_14_virtual() { Box b = new DoubleBox(7); return b.Value(); }
    public static int test_9_interface() { IValue v = new Box(9); return v.Value(); }
    public static int test_1_is_operator() { object o = new DoubleBox(1); return o is Box ? 1 : 0; }
    public static int test_0_as_operator_null() { object o = new Box(1); return (o as DoubleBox) == null ? 0 : 1; }
    public static int test_77_box_unbox() { object o = 77; return (int)o; }
    public static int test_3_struct_copy() { Pair a = new Pair(3, 4); Pair b = a; b.A = 100; return a.A; }
    public static int test_30_array_of_objects()
    {
        Box[] boxes = new Box[] { new Box(5), new DoubleBox(5), new Box(15) };
        int s = 0;
        for (int i = 0; i < boxes.Length; i++) s += boxes[i].Value();
        return s;
    }
    public static int test_0_null_compare() { Box b = null; return b == null ? 0 : 1; }
    static int counter;
    public static int test_3_static_field() { counter = 0; counter++; counter += 2; return counter; }
}
